/*
 * test_resources.c: running out of descriptors and memory gives clear
 * errors and leaves the library usable.  Each test runs in its own
 * process (tap.h), so lowering its limits touches nothing else.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include "internal.h"
#include "../tap.h"
#include "wsevent.h"

static void limit_fds(rlim_t n) {
  struct rlimit r;
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = n;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &r), 0);
}

TEST(test_running_out_of_descriptors_for_event_fds) {
  enum { N = 64 };
  wsevent_t ev[N];
  int fd, got = 0, r = WSEVENT_OK;
  limit_fds(24);
  for (int i = 0; i < N; i++)
    ASSERT_EQ(wsevent_create(&ev[i], 0), WSEVENT_OK);
  for (; got < N; got++) {
    r = wsevent_fd(ev[got], &fd);
    if (r != WSEVENT_OK)
      break;
  }
  ASSERT_EQ(r, WSEVENT_ENFILE);
  ASSERT_LT(got, N);
  /* The event whose descriptor failed still works, without one. */
  ASSERT_EQ(wsevent_set(ev[got]), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev[got], 0), WSEVENT_OK);
  /* Closing events gives their descriptors back. */
  wsevent_close(ev[0]);
  wsevent_close(ev[1]);
  ASSERT_EQ(wsevent_fd(ev[got], &fd), WSEVENT_OK);
  for (int i = 2; i < N; i++)
    wsevent_close(ev[i]);
}

TEST(test_running_out_of_descriptors_for_the_reactor) {
  wsevent_t ev;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  /* Take every remaining descriptor, so the reactor cannot start. */
  limit_fds(64);
  int hog[64], n = 0;
  while (n < 64 && (hog[n] = dup(0)) >= 0)
    n++;
  ASSERT_EQ(wsevent_event_select(sv[0], ev, WSEVENT_FD_READ), WSEVENT_ENFILE);
  wsevent_timer_t t;
  ASSERT_EQ(wsevent_timer_start(ev, 10, 0, &t), WSEVENT_ENFILE);
  /* Events themselves need no descriptor. */
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  wsevent_reset(ev);
  while (n > 0)
    close(hog[--n]);
  ASSERT_EQ(wsevent_event_select(sv[0], ev, WSEVENT_FD_READ), WSEVENT_OK);
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  ASSERT_EQ(wsevent_wait(ev, 5000), WSEVENT_OK);
  close(sv[0]);
  close(sv[1]);
}

TEST(test_handle_table_limit_gives_elimit_and_recovers) {
  wse_events.limit = 3000; /* stands for the 16,777,215 of a real run */
  static wsevent_t ev[3000];
  wsevent_t extra;
  for (int i = 0; i < 3000; i++)
    ASSERT_EQ(wsevent_create(&ev[i], 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&extra, 0), WSEVENT_ELIMIT);
  ASSERT_EQ(wsevent_create(&extra, 0), WSEVENT_ELIMIT);
  ASSERT_EQ(wsevent_close(ev[1234]), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&extra, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(extra), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(ev, 1000, 0, 0, NULL), WSEVENT_TIMEOUT);
  ASSERT_EQ(wsevent_set(ev[999]), WSEVENT_OK);
  size_t index;
  ASSERT_EQ(wsevent_wait_multiple(ev, 1000, 0, 0, &index), WSEVENT_OK);
  ASSERT_EQ(index, 999);
}

static void limit_memory_to_current_plus(size_t bytes) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  ASSERT_EQ(fscanf(f, "%lu", &pages), 1);
  fclose(f);
  struct rlimit r = {pages * (rlim_t)sysconf(_SC_PAGESIZE) + bytes, RLIM_INFINITY};
  r.rlim_max = r.rlim_cur;
  ASSERT_EQ(setrlimit(RLIMIT_AS, &r), 0);
}

TEST(test_running_out_of_memory_gives_enomem_and_recovers) {
#if defined(__SANITIZE_THREAD__)
  /* TSan's own metadata allocator aborts under RLIMIT_AS; this test runs
   * in the plain build and under ASan (allocator_may_return_null=1). */
  SKIP("ThreadSanitizer's allocator cannot run under RLIMIT_AS");
#endif
  enum { LIST = 1 << 20 };
  wsevent_t *list = malloc(LIST * sizeof *list);
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  for (size_t i = 0; i < LIST; i++)
    list[i] = ev;
  /* A million-entry wait needs 32 MiB of wait entries; allow 8. */
  limit_memory_to_current_plus(8u << 20);
  /* (A timeout long enough to outlast the scan of a million handles.) */
  ASSERT_EQ(wsevent_wait_multiple(list, LIST, 0, 10000, NULL), WSEVENT_ENOMEM);
  /* New chunks of the handle table cannot be had either. */
  int r = WSEVENT_OK, made = 0;
  static wsevent_t more[400000];
  while (made < 400000 && (r = wsevent_create(&more[made], 0)) == WSEVENT_OK)
    made++;
  ASSERT_EQ(r, WSEVENT_ENOMEM);
  /* Everything that exists goes on working. */
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(list, 1000, 0, 0, NULL), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(more[made - 1]), WSEVENT_OK);
  ASSERT_EQ(wsevent_close(more[0]), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&more[0], 0), WSEVENT_OK); /* a freed slot */
  free(list);
}
