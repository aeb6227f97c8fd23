/*
 * test_epset.c: polling waits through the thread's epoll set.
 *
 * A wait that polls several sources registers their descriptors in an
 * epoll instance of its thread, kept from one wait to the next (epset.c).
 * These tests read that instance from /proc/self/fdinfo, and check what
 * poll(2) did and epoll must do as well: report only this wait's sources,
 * cope with two sources on one descriptor, with descriptors epoll
 * refuses, with a number reused while its old file lives on, with fork
 * and with threads that end.
 *
 * The test provider owns a pipe per source; its ready() reads one byte
 * and sets the event.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../tap.h"
#include "wsevent.h"
#include "wsevent_provider.h"

static const struct wsevent_upcalls *up;

struct prov {
  int rd, wr;
  wsevent_t event;
  wsevent_source_t source;
  _Atomic int ready_calls, bytes;
  bool not_a_pipe; /* readable is enough: set the event */
};

static void prov_ready(void *ctx, short revents) {
  struct prov *p = ctx;
  char c;
  atomic_fetch_add(&p->ready_calls, 1);
  if ((revents & POLLIN) && read(p->rd, &c, 1) == 1) {
    atomic_fetch_add(&p->bytes, 1);
    up->xSet(p->event);
  } else if ((revents & POLLIN) && p->not_a_pipe) {
    up->xSet(p->event);
  }
}

static void prov_detached(void *ctx) { (void)ctx; }

static const struct wsevent_source_ops ops = {.ready = prov_ready,
                                              .detached = prov_detached};

/* A source on the read end of a new pipe (or on rd if >= 0). */
static void prov_init(struct prov *p, int rd) {
  int fds[2] = {rd, -1};
  memset(p, 0, sizeof *p);
  up = wsevent_upcalls();
  if (rd < 0)
    ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  p->rd = fds[0];
  p->wr = fds[1];
  ASSERT_EQ(wsevent_create(&p->event, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(up->xSourceAttach(p->event, &ops, p, p->rd, POLLIN, &p->source),
            WSEVENT_OK);
}

static void send_byte(const struct prov *p) { ASSERT_EQ(write(p->wr, "x", 1), 1); }

/* Wait on the events of n providers; the index, or -1 on a timeout. */
static int wait_on(struct prov **ps, size_t n, uint32_t ms) {
  wsevent_t evs[16];
  size_t index;
  for (size_t i = 0; i < n; i++)
    evs[i] = ps[i]->event;
  int r = wsevent_wait_multiple(evs, n, 0, ms, &index);
  if (r == WSEVENT_TIMEOUT)
    return -1;
  ASSERT_EQ(r, WSEVENT_OK);
  return (int)index;
}

/* ---- reading the epoll instances of this process ---- */

static bool is_epoll(int fd) {
  char path[64], target[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0)
    return false;
  target[n] = 0;
  return strcmp(target, "anon_inode:[eventpoll]") == 0;
}

static int count_epolls(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.' && is_epoll(atoi(e->d_name)))
      n++;
  closedir(d);
  return n;
}

/* How many registrations of descriptor fd the epoll instance ep holds. */
static int registered_in(int ep, int fd) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", ep);
  FILE *f = fopen(path, "r");
  int n = 0, tfd;
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd)
      n++;
  if (f != NULL)
    fclose(f);
  return n;
}

/* The one epoll instance of the process that holds fd, or -1. */
static int epoll_holding(int fd) {
  int found = -1, count = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int ep = atoi(e->d_name);
    if (e->d_name[0] != '.' && is_epoll(ep) && registered_in(ep, fd) > 0) {
      found = ep;
      count++;
    }
  }
  closedir(d);
  ASSERT_LE(count, 1);
  return found;
}

/* Give number to a new pipe (dup2 closes what was there); its write end. */
static int new_pipe_at(int number) {
  int fresh[2];
  ASSERT_EQ(pipe2(fresh, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(dup2(fresh[0], number), number);
  close(fresh[0]);
  return fresh[1];
}

static void close_prov(struct prov *p) {
  wsevent_close(p->event);
  close(p->rd);
  if (p->wr >= 0)
    close(p->wr);
}

/* ---- the tests ---- */

TEST(test_a_wait_over_several_sources_keeps_them_in_one_epoll_set) {
  struct prov a, b, c;
  prov_init(&a, -1);
  prov_init(&b, -1);
  prov_init(&c, -1);
  struct prov *set[] = {&a, &b, &c};
  int before = count_epolls();
  send_byte(&b);
  ASSERT_EQ(wait_on(set, 3, 5000), 1);
  /* One instance made for this thread, holding the three descriptors. */
  ASSERT_EQ(count_epolls(), before + 1);
  int ep = epoll_holding(a.rd);
  ASSERT_GE(ep, 0);
  ASSERT_EQ(registered_in(ep, b.rd), 1);
  ASSERT_EQ(registered_in(ep, c.rd), 1);
  /* The next waits use it again, with nothing new registered. */
  for (int i = 0; i < 50; i++) {
    send_byte(set[i % 3]);
    ASSERT_EQ(wait_on(set, 3, 5000), i % 3);
  }
  ASSERT_EQ(count_epolls(), before + 1);
  ASSERT_EQ(epoll_holding(c.rd), ep);
  ASSERT_EQ(atomic_load(&a.bytes) + atomic_load(&b.bytes) + atomic_load(&c.bytes), 51);
  close_prov(&a);
  close_prov(&b);
  close_prov(&c);
}

TEST(test_a_source_of_an_earlier_wait_that_becomes_ready_is_not_reported) {
  struct prov a, b, c, d;
  prov_init(&a, -1);
  prov_init(&b, -1);
  prov_init(&c, -1);
  prov_init(&d, -1);
  struct prov *first[] = {&a, &b}, *second[] = {&c, &d};
  send_byte(&a);
  ASSERT_EQ(wait_on(first, 2, 5000), 0);
  int ep = epoll_holding(a.rd);
  ASSERT_GE(ep, 0);
  /* a's descriptor is still registered, and now ready: a wait on other
   * events must neither report it, nor run its ready(), nor spin. */
  send_byte(&a);
  ASSERT_EQ(wait_on(second, 2, 100), -1);
  ASSERT_EQ(atomic_load(&a.ready_calls), 1);
  ASSERT_EQ(atomic_load(&c.ready_calls) + atomic_load(&d.ready_calls), 0);
  /* It was dropped from the set the first time it showed up. */
  ASSERT_EQ(registered_in(ep, a.rd), 0);
  ASSERT_EQ(registered_in(ep, c.rd), 1);
  /* And comes back with the first wait that wants it. */
  ASSERT_EQ(wait_on(first, 2, 5000), 0);
  ASSERT_EQ(atomic_load(&a.bytes), 2);
  ASSERT_EQ(registered_in(ep, a.rd), 1);
  close_prov(&a);
  close_prov(&b);
  close_prov(&c);
  close_prov(&d);
}

TEST(test_two_sources_on_one_descriptor_are_both_polled) {
  struct prov a, b, c;
  prov_init(&a, -1);
  prov_init(&b, a.rd); /* a second source on a's pipe... */
  b.wr = -1;
  b.not_a_pipe = true; /* ...whose ready() reads nothing */
  b.rd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  prov_init(&c, -1);
  /* epoll keeps one registration per descriptor, and b's would hide a's:
   * both must be polled, and a's ready() take every byte. */
  struct prov *set[] = {&c, &a, &b};
  for (int i = 0; i < 20; i++) {
    send_byte(&a);
    ASSERT_EQ(wait_on(set, 3, 5000), 1);
    wsevent_reset(b.event);
  }
  ASSERT_EQ(atomic_load(&a.bytes), 20);
  ASSERT_GE(atomic_load(&b.ready_calls), 20);
  close_prov(&a);
  close_prov(&b);
  close_prov(&c);
}

TEST(test_a_descriptor_epoll_refuses_is_polled_all_the_same) {
  struct prov a, null;
  prov_init(&a, -1);
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* no epoll for it */
  ASSERT_GE(fd, 0);
  prov_init(&null, fd);
  null.wr = -1;
  null.not_a_pipe = true;
  struct prov *set[] = {&a, &null};
  /* poll(2) says /dev/null is readable: its ready() sets its event. */
  ASSERT_EQ(wait_on(set, 2, 5000), 1);
  ASSERT_GE(atomic_load(&null.ready_calls), 1);
  /* The pipe beside it is polled too (the lowest index wins). */
  send_byte(&a);
  ASSERT_EQ(wait_on(set, 2, 5000), 0);
  ASSERT_EQ(atomic_load(&a.bytes), 1);
  close_prov(&a);
  close_prov(&null);
}

TEST(test_a_number_reused_while_its_old_file_lives_on_reports_nothing_stale) {
  struct prov a, b;
  prov_init(&a, -1);
  prov_init(&b, -1);
  struct prov *set[] = {&a, &b};
  send_byte(&b);
  ASSERT_EQ(wait_on(set, 2, 5000), 1);
  int number = a.rd;
  ASSERT_GE(epoll_holding(number), 0);
  /* Behind the library's back: the old pipe lives on under another
   * number, its number goes to a new pipe, on which a new source is. */
  int old_rd = dup(a.rd), old_wr = a.wr;
  wsevent_close(a.event);
  int fresh_wr = new_pipe_at(number);
  struct prov n;
  prov_init(&n, number);
  n.wr = fresh_wr;
  set[0] = &n;
  /* The old file becomes ready: its old registration reports, under a tag
   * the set no longer has.  Nothing may be reported for the new source. */
  ASSERT_EQ(write(old_wr, "o", 1), 1);
  ASSERT_EQ(wait_on(set, 2, 100), -1);
  ASSERT_EQ(atomic_load(&n.ready_calls), 0);
  /* The new pipe is polled. */
  send_byte(&n);
  ASSERT_EQ(wait_on(set, 2, 5000), 0);
  ASSERT_EQ(atomic_load(&n.bytes), 1);
  char c;
  ASSERT_EQ(read(old_rd, &c, 1), 1); /* the old byte, still there */
  close(old_rd);
  close(old_wr);
  close_prov(&n);
  close_prov(&b);
}

/* A provider often attaches a source that wants nothing yet (a socket
 * selected before it connects) and asks for events later.  On a number
 * whose earlier file was registered in the set, the new file must be
 * registered once it is wanted, and the old file, alive under a dup,
 * never reported for it. */
static void reuse_with_nothing_wanted_first(bool keep_old) {
  struct prov a, b;
  prov_init(&a, -1);
  prov_init(&b, -1);
  struct prov *set[] = {&a, &b};
  ASSERT_EQ(wait_on(set, 2, 20), -1); /* a's number registered */
  int number = a.rd, old_rd = keep_old ? dup(a.rd) : -1;
  wsevent_close(a.event);
  int fresh_wr = new_pipe_at(number); /* the old file closes there */
  struct prov n;
  memset(&n, 0, sizeof n);
  n.rd = number;
  n.wr = fresh_wr;
  ASSERT_EQ(wsevent_create(&n.event, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(up->xSourceAttach(n.event, &ops, &n, number, 0, &n.source), WSEVENT_OK);
  set[0] = &n;
  ASSERT_EQ(wait_on(set, 2, 20), -1); /* seen wanting nothing */
  ASSERT_EQ(up->xSourceUpdate(n.source, POLLIN), WSEVENT_OK);
  if (keep_old) {
    ASSERT_EQ(write(a.wr, "o", 1), 1); /* the old file, ready */
    ASSERT_EQ(wait_on(set, 2, 100), -1);
    ASSERT_EQ(atomic_load(&n.ready_calls), 0);
  }
  send_byte(&n);
  ASSERT_EQ(wait_on(set, 2, 5000), 0);
  ASSERT_EQ(atomic_load(&n.bytes), 1);
  if (keep_old)
    close(old_rd);
  close(a.wr);
  close_prov(&n);
  close_prov(&b);
}

TEST(test_a_reused_number_wanting_nothing_at_first_is_polled_once_it_does) {
  reuse_with_nothing_wanted_first(false);
}

TEST(test_a_reused_number_wanting_nothing_at_first_never_hears_the_old_file) {
  reuse_with_nothing_wanted_first(true);
}

TEST(test_a_fork_child_polls_through_its_own_set_and_leaves_the_parents) {
  struct prov a, b;
  prov_init(&a, -1);
  prov_init(&b, -1);
  struct prov *set[] = {&a, &b};
  send_byte(&a);
  ASSERT_EQ(wait_on(set, 2, 5000), 0);
  int ep = epoll_holding(a.rd);
  ASSERT_GE(ep, 0);
  pid_t pid = fork();
  if (pid == 0) {
    /* The parent's sources are forgotten here; new ones are polled. */
    struct prov x, y;
    prov_init(&x, -1);
    prov_init(&y, -1);
    struct prov *mine[] = {&x, &y};
    send_byte(&y);
    int ok = wait_on(mine, 2, 5000) == 1 && atomic_load(&y.bytes) == 1;
    _exit(ok ? 0 : 1);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* The child did not touch the parent's registrations. */
  ASSERT_EQ(registered_in(ep, a.rd), 1);
  ASSERT_EQ(registered_in(ep, b.rd), 1);
  send_byte(&b);
  ASSERT_EQ(wait_on(set, 2, 5000), 1);
  close_prov(&a);
  close_prov(&b);
}

static void *poll_twice(void *arg) {
  struct prov **set = arg;
  send_byte(set[1]);
  ASSERT_EQ(wait_on(set, 2, 5000), 1);
  ASSERT_EQ(wait_on(set, 2, 10), -1);
  return NULL;
}

TEST(test_a_thread_that_ends_closes_its_epoll_set) {
  struct prov a, b;
  prov_init(&a, -1);
  prov_init(&b, -1);
  struct prov *set[] = {&a, &b};
  int before = count_epolls();
  for (int i = 0; i < 20; i++) {
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, poll_twice, set), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
  }
  /* A thread's record goes a moment after its join: wait for it. */
  for (int i = 0; i < 1000 && count_epolls() > before; i++)
    usleep(1000);
  ASSERT_EQ(count_epolls(), before);
  ASSERT_EQ(atomic_load(&b.bytes), 20);
  close_prov(&a);
  close_prov(&b);
}

/* Writes a byte to b once a waiter polls b's source. */
static void *write_when_polled(void *arg) {
  struct prov *b = arg;
  while (up->xSourceWatchers(b->source) == 0)
    sched_yield();
  send_byte(b);
  return NULL;
}

static void *set_when_polled(void *arg) {
  struct prov *b = arg;
  while (up->xSourceWatchers(b->source) == 0)
    sched_yield();
  wsevent_set(b->event);
  return NULL;
}

TEST(test_a_sleeping_epoll_wait_times_out_or_wakes_for_a_byte_or_a_set) {
  struct prov a, b;
  prov_init(&a, -1);
  prov_init(&b, -1);
  struct prov *set[] = {&a, &b};
  double t0 = tap_now();
  ASSERT_EQ(wait_on(set, 2, 50), -1);
  ASSERT_GE(tap_now() - t0, 0.049);
  int ep = epoll_holding(a.rd);
  ASSERT_GE(ep, 0);
  pthread_t t;
  /* Readiness of a source from another thread. */
  ASSERT_EQ(pthread_create(&t, NULL, write_when_polled, &b), 0);
  ASSERT_EQ(wait_on(set, 2, 5000), 1);
  ASSERT_EQ(pthread_join(t, NULL), 0);
  ASSERT_EQ(atomic_load(&b.bytes), 1);
  /* A set from another thread: the wake eventfd, in the same set. */
  ASSERT_EQ(pthread_create(&t, NULL, set_when_polled, &b), 0);
  ASSERT_EQ(wait_on(set, 2, 5000), 1);
  ASSERT_EQ(pthread_join(t, NULL), 0);
  ASSERT_EQ(atomic_load(&b.bytes), 1);
  ASSERT_EQ(epoll_holding(b.rd), ep);
  close_prov(&a);
  close_prov(&b);
}
