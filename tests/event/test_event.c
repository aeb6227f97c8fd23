/* test_event.c: event lifecycle, handles, set/reset/is_set, descriptors. */
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdint.h>

#include "../tap.h"
#include "wsevent.h"
#include "wsevent_provider.h"

static int readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TEST(test_default_event_is_manual_reset_and_unsignaled) {
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_NE(ev, WSEVENT_INVALID);
  ASSERT_EQ(wsevent_is_set(ev), 0);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  /* Manual-reset: waits do not consume the signal. */
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev), 1);
  ASSERT_EQ(wsevent_reset(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev), 0);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_TIMEOUT);
  ASSERT_EQ(wsevent_close(ev), WSEVENT_OK);
}

TEST(test_initial_state_is_honoured) {
  wsevent_t m, a;
  ASSERT_EQ(wsevent_create(&m, WSEVENT_INITIAL_SET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&a, WSEVENT_INITIAL_SET | WSEVENT_AUTO_RESET),
            WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(m), 1);
  ASSERT_EQ(wsevent_is_set(a), 1);
  wsevent_close(m);
  wsevent_close(a);
}

TEST(test_auto_reset_wait_consumes_and_is_set_does_not) {
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK); /* a second set is a no-op */
  ASSERT_EQ(wsevent_is_set(ev), 1);
  ASSERT_EQ(wsevent_is_set(ev), 1);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev), 0);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_TIMEOUT);
  wsevent_close(ev);
}

TEST(test_bad_arguments_to_create_are_invalid_parameters) {
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(NULL, 0), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_create(&ev, 0x100), WSEVENT_EINVAL);
}

TEST(test_closed_handle_is_invalid_for_every_call) {
  wsevent_t ev;
  int fd;
  size_t index = 99;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_close(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_close(ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_set_from_signal(ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_reset(ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_is_set(ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_wait(ev, 100), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_wait_multiple(&ev, 1, 0, 0, &index), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(index, 0);
  ASSERT_EQ(wsevent_fd(ev, &fd), WSEVENT_EINVAL_HANDLE);
}

TEST(test_forged_handles_are_invalid) {
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  wsevent_t forged[] = {
      0,
      1,
      UINT64_MAX,
      ev + 1,                       /* next slot, never issued */
      ev + ((uint64_t)1 << 32),     /* a future generation */
      ev - ((uint64_t)1 << 32),     /* an older generation */
      ev ^ ((uint64_t)3 << 28),     /* another kind of object */
      (ev & ~(uint64_t)0x0FFFFFFF) | 0x0FFFFFFF, /* index past the table */
  };
  for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
    ASSERT_EQ(wsevent_set(forged[i]), WSEVENT_EINVAL_HANDLE);
    ASSERT_EQ(wsevent_is_set(forged[i]), WSEVENT_EINVAL_HANDLE);
    ASSERT_EQ(wsevent_reset(forged[i]), WSEVENT_EINVAL_HANDLE);
    ASSERT_EQ(wsevent_wait(forged[i], 0), WSEVENT_EINVAL_HANDLE);
    ASSERT_EQ(wsevent_close(forged[i]), WSEVENT_EINVAL_HANDLE);
  }
  /* None of that touched the real event. */
  ASSERT_EQ(wsevent_is_set(ev), 0);
  ASSERT_EQ(wsevent_close(ev), WSEVENT_OK);
}

TEST(test_stale_handle_does_not_reach_the_event_reusing_its_slot) {
  wsevent_t old_ev, new_ev;
  ASSERT_EQ(wsevent_create(&old_ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_close(old_ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&new_ev, 0), WSEVENT_OK);
  /* Same slot, new generation. */
  ASSERT_EQ(new_ev & 0xFFFFFFFFu, old_ev & 0xFFFFFFFFu);
  ASSERT_NE(new_ev, old_ev);
  ASSERT_EQ(wsevent_set(old_ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_is_set(new_ev), 0);
  ASSERT_EQ(wsevent_close(old_ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_is_set(new_ev), 0);
  ASSERT_EQ(wsevent_close(new_ev), WSEVENT_OK);
}

static wsevent_t shared_ev;
static _Atomic int race_stop;

static void *race_user(void *arg) {
  (void)arg;
  while (!atomic_load(&race_stop)) {
    wsevent_t h = atomic_load((_Atomic wsevent_t *)&shared_ev);
    int r = wsevent_set(h);
    ASSERT(r == WSEVENT_OK || r == WSEVENT_EINVAL_HANDLE);
    r = wsevent_reset(h);
    ASSERT(r == WSEVENT_OK || r == WSEVENT_EINVAL_HANDLE);
    r = wsevent_wait(h, 0);
    /* A wait racing the close may see it happen while registered. */
    ASSERT(r == WSEVENT_OK || r == WSEVENT_TIMEOUT ||
           r == WSEVENT_EINVAL_HANDLE || r == WSEVENT_ECLOSED);
  }
  return NULL;
}

TEST(test_handles_closed_by_another_thread_are_answered_invalid) {
  pthread_t t[3];
  ASSERT_EQ(wsevent_create(&shared_ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, race_user, NULL);
  for (int i = 0; i < 20000; i++) {
    wsevent_t h;
    ASSERT_EQ(wsevent_create(&h, (i & 1) ? WSEVENT_AUTO_RESET : 0), WSEVENT_OK);
    wsevent_t old = atomic_exchange((_Atomic wsevent_t *)&shared_ev, h);
    ASSERT_EQ(wsevent_close(old), WSEVENT_OK);
  }
  atomic_store(&race_stop, 1);
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  ASSERT_EQ(wsevent_close(shared_ev), WSEVENT_OK);
}

TEST(test_error_names_and_messages_come_from_one_list) {
  ASSERT_EQ(strcmp(wsevent_err_name(WSEVENT_EINVAL_HANDLE),
                   "WSEVENT_EINVAL_HANDLE"), 0);
  ASSERT_EQ(strcmp(wsevent_err_name(WSEVENT_TIMEOUT), "WSEVENT_TIMEOUT"), 0);
  ASSERT_EQ(strcmp(wsevent_err_name(12345), "WSEVENT_UNKNOWN"), 0);
  ASSERT_NE(strlen(wsevent_strerror(WSEVENT_ECLOSED)), 0);
  ASSERT_EQ(strcmp(wsevent_strerror(-777), "unknown wsevent code"), 0);
}

TEST(test_fd_is_readable_exactly_while_signaled) {
  wsevent_t ev;
  int fd = -1, fd2 = -1;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_fd(ev, &fd), WSEVENT_OK);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(wsevent_fd(ev, &fd2), WSEVENT_OK);
  ASSERT_EQ(fd2, fd); /* one descriptor per event */
  ASSERT_EQ(readable(fd), 0);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(readable(fd), 1);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(readable(fd), 1);
  ASSERT_EQ(wsevent_reset(ev), WSEVENT_OK);
  ASSERT_EQ(readable(fd), 0);
  ASSERT_EQ(wsevent_fd(WSEVENT_INVALID, &fd), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_fd(ev, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_close(ev), WSEVENT_OK);
  /* The descriptor belonged to the event and is gone with it. */
  ASSERT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST(test_fd_of_initially_set_event_is_readable) {
  wsevent_t ev;
  int fd;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_INITIAL_SET), WSEVENT_OK);
  ASSERT_EQ(wsevent_fd(ev, &fd), WSEVENT_OK);
  ASSERT_EQ(readable(fd), 1);
  wsevent_close(ev);
}

TEST(test_auto_reset_fd_clears_when_a_wait_takes_the_signal) {
  wsevent_t ev;
  int fd;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_fd(ev, &fd), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(readable(fd), 1);
  ASSERT_EQ(readable(fd), 1); /* polling consumes nothing */
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  ASSERT_EQ(readable(fd), 0);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_TIMEOUT);
  wsevent_close(ev);
}

static void *set_after_delay(void *arg) {
  usleep(20000);
  wsevent_set(*(wsevent_t *)arg);
  return NULL;
}

TEST(test_fd_wakes_poll_when_another_thread_sets) {
  wsevent_t ev;
  int fd;
  pthread_t t;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_fd(ev, &fd), WSEVENT_OK);
  pthread_create(&t, NULL, set_after_delay, &ev);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  ASSERT_EQ(poll(&p, 1, 10000), 1);
  pthread_join(t, NULL);
  wsevent_close(ev);
}

static wsevent_t signal_ev;
static _Atomic long handled;
static void on_sigusr1(int sig) {
  (void)sig;
  ASSERT_EQ(wsevent_set_from_signal(signal_ev), WSEVENT_OK);
  atomic_fetch_add(&handled, 1);
}

static void install_sigusr1(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigusr1; /* no SA_RESTART: waits see EINTR */
  sigaction(SIGUSR1, &sa, NULL);
}

static void *kill_after_delay(void *arg) {
  usleep(20000);
  pthread_kill(*(pthread_t *)arg, SIGUSR1);
  return NULL;
}

TEST(test_set_from_signal_handler_releases_the_interrupted_waiter) {
  pthread_t self = pthread_self(), t;
  ASSERT_EQ(wsevent_create(&signal_ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  install_sigusr1();
  pthread_create(&t, NULL, kill_after_delay, &self);
  /* The handler runs in this very thread, on the event it sleeps on. */
  ASSERT_EQ(wsevent_wait(signal_ev, 10000), WSEVENT_OK);
  pthread_join(t, NULL);
  ASSERT_EQ(atomic_load(&handled), 1);
  wsevent_close(signal_ev);
}

static _Atomic int storm_stop;
static wsevent_t busy_ev;

static void *lock_hammer(void *arg) {
  (void)arg;
  /* Every one of these takes the dispatcher lock (the event has an fd),
   * so signals often land while this thread holds it. */
  while (!atomic_load(&storm_stop)) {
    wsevent_set(busy_ev);
    wsevent_reset(busy_ev);
    wsevent_wait(busy_ev, 0);
  }
  return NULL;
}

static _Atomic long woken;
static void *signal_waiter(void *arg) {
  (void)arg;
  while (!atomic_load(&storm_stop))
    if (wsevent_wait(signal_ev, 10) == WSEVENT_OK)
      atomic_fetch_add(&woken, 1);
  return NULL;
}

TEST(test_set_from_signal_never_deadlocks_with_the_lock_holder) {
  pthread_t hammer, waiter;
  int fd;
  ASSERT_EQ(wsevent_create(&signal_ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&busy_ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_fd(busy_ev, &fd), WSEVENT_OK);
  install_sigusr1();
  pthread_create(&hammer, NULL, lock_hammer, NULL);
  pthread_create(&waiter, NULL, signal_waiter, NULL);
  for (int i = 0; i < 3000; i++) {
    pthread_kill(hammer, SIGUSR1);
    if (i % 100 == 0)
      usleep(1000);
  }
  while (atomic_load(&handled) < 3000 && atomic_load(&woken) == 0)
    usleep(1000);
  usleep(20000);
  atomic_store(&storm_stop, 1);
  pthread_join(hammer, NULL);
  pthread_join(waiter, NULL);
  /* Signals coalesce, so not every one gets through; but the waiter was
   * released, and nothing deadlocked. */
  ASSERT_GT(atomic_load(&handled), 0);
  ASSERT_GT(atomic_load(&woken), 0);
  wsevent_close(signal_ev);
  wsevent_close(busy_ev);
}

TEST(test_upcall_table_is_versioned_and_complete) {
  const struct wsevent_upcalls *u = wsevent_upcalls();
  wsevent_t ev;
  ASSERT_GE(u->iVersion, 1);
  ASSERT_EQ(u->xCreate(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(u->xSet(ev), WSEVENT_OK);
  ASSERT_EQ(u->xIsSet(ev), 1);
  ASSERT_EQ(u->xReset(ev), WSEVENT_OK);
  ASSERT_EQ(u->xSetFromSignal(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  ASSERT_EQ(u->xClose(ev), WSEVENT_OK);
  ASSERT_EQ(u->xSet(ev), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(strcmp(u->xErrName(WSEVENT_OK), "WSEVENT_OK"), 0);
}

TEST(test_forked_child_can_use_events_and_gets_a_new_fd) {
  wsevent_t ev;
  int fd, child_fd;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_INITIAL_SET), WSEVENT_OK);
  ASSERT_EQ(wsevent_fd(ev, &fd), WSEVENT_OK);
  pid_t pid = fork();
  if (pid == 0) {
    /* State and handles survive; the parent's descriptor does not. */
    if (wsevent_is_set(ev) != 1 || wsevent_reset(ev) != WSEVENT_OK ||
        wsevent_fd(ev, &child_fd) != WSEVENT_OK || readable(child_fd))
      _exit(1);
    wsevent_t fresh;
    if (wsevent_create(&fresh, 0) != WSEVENT_OK || wsevent_set(fresh) ||
        wsevent_wait(fresh, 0) != WSEVENT_OK)
      _exit(2);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  /* The child's reset did not reach the parent. */
  ASSERT_EQ(wsevent_is_set(ev), 1);
  ASSERT_EQ(readable(fd), 1);
  wsevent_close(ev);
}

TEST(test_get_flags_reports_the_reset_mode) {
  wsevent_t m, a;
  unsigned flags = 99;
  ASSERT_EQ(wsevent_create(&m, WSEVENT_INITIAL_SET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&a, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_get_flags(m, &flags), WSEVENT_OK);
  ASSERT_EQ(flags, 0);
  ASSERT_EQ(wsevent_get_flags(a, &flags), WSEVENT_OK);
  ASSERT_EQ(flags, WSEVENT_AUTO_RESET);
  ASSERT_EQ(wsevent_get_flags(a, NULL), WSEVENT_EINVAL);
  wsevent_close(a);
  ASSERT_EQ(wsevent_get_flags(a, &flags), WSEVENT_EINVAL_HANDLE);
  wsevent_close(m);
}
