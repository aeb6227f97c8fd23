/*
 * test_port.c: completion ports and asynchronous waits.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../tap.h"
#include "wsevent.h"

static int readable(wsevent_port_t port) {
  int fd;
  ASSERT_EQ(wsevent_port_fd(port, &fd), WSEVENT_OK);
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

static size_t take(wsevent_port_t port, struct wsevent_packet *pk, size_t max) {
  size_t n = 99;
  ASSERT_EQ(wsevent_port_take(port, pk, max, &n), WSEVENT_OK);
  return n;
}

TEST(test_port_arguments_are_checked) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev;
  struct wsevent_packet pk;
  size_t n;
  int sat;
  ASSERT_EQ(wsevent_port_create(NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 0, 0, 1, &w), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_async(port, NULL, 1, 0, 1, &w), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, WSEVENT_ALERTABLE, 1, &w), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 1, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_async(ev, &ev, 1, 0, 1, &w), WSEVENT_EINVAL_HANDLE);
  wsevent_t forged = ev + 1;
  ASSERT_EQ(wsevent_wait_async(port, &forged, 1, 0, 1, &w), WSEVENT_EINVAL_HANDLE);
  wsevent_t dup[2] = {ev, ev};
  ASSERT_EQ(wsevent_wait_async(port, dup, 2, WSEVENT_WAIT_ALL, 1, &w), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_port_take(port, NULL, 1, &n), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_port_take(port, &pk, 1, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_async_cancel(12345, &sat, NULL), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_wait_async_cancel(12345, NULL, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_port_close(port), WSEVENT_OK);
  ASSERT_EQ(wsevent_port_close(port), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 1, &w), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_port_take(port, &pk, 1, &n), WSEVENT_EINVAL_HANDLE);
  wsevent_close(ev);
}

TEST(test_a_signaled_event_queues_the_packet_at_once) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev[3];
  struct wsevent_packet pk[4];
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(wsevent_create(&ev[i], WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(readable(port), 0);
  ASSERT_EQ(wsevent_set(ev[2]), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev[1]), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, ev, 3, 0, 42, &w), WSEVENT_OK);
  ASSERT_EQ(readable(port), 1);
  ASSERT_EQ(take(port, pk, 4), 1);
  ASSERT_EQ(pk[0].key, 42);
  ASSERT_EQ(pk[0].result, WSEVENT_OK);
  ASSERT_EQ(pk[0].index, 1); /* the lowest signaled, consumed */
  ASSERT_EQ(wsevent_is_set(ev[1]), 0);
  ASSERT_EQ(wsevent_is_set(ev[2]), 1);
  ASSERT_EQ(readable(port), 0);
  ASSERT_EQ(take(port, pk, 4), 0);
  /* Its packet taken, the wait is finished. */
  int sat;
  ASSERT_EQ(wsevent_wait_async_cancel(w, &sat, NULL), WSEVENT_EINVAL_HANDLE);
  wsevent_port_close(port);
}

struct blocker {
  wsevent_t event;
  int result;
};

static void *block(void *p) {
  struct blocker *b = p;
  b->result = wsevent_wait(b->event, 10000);
  return NULL;
}

TEST(test_async_and_blocking_waiters_are_served_oldest_first) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev;
  struct wsevent_packet pk;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 7, &w), WSEVENT_OK);
  struct blocker b = {ev, -99};
  pthread_t t;
  pthread_create(&t, NULL, block, &b);
  /* Whether or not the blocking waiter has linked yet, ours is older:
   * the first set releases exactly one waiter, ours. */
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  for (int i = 0; i < 1000000 && !readable(port); i++)
    sched_yield();
  ASSERT_EQ(take(port, &pk, 1), 1);
  ASSERT_EQ(pk.key, 7);
  ASSERT_EQ(b.result, -99); /* still waiting */
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  pthread_join(t, NULL);
  ASSERT_EQ(b.result, WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev), 0);
  wsevent_close(ev);
  wsevent_port_close(port);
}

TEST(test_a_manual_reset_pulse_satisfies_an_async_wait) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev;
  struct wsevent_packet pk;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 1, &w), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_reset(ev), WSEVENT_OK);
  ASSERT_EQ(take(port, &pk, 1), 1);
  ASSERT_EQ(pk.result, WSEVENT_OK);
  wsevent_close(ev);
  wsevent_port_close(port);
}

TEST(test_cancelling_a_pending_wait_consumes_nothing) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev;
  int sat = -1;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 1, &w), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async_cancel(w, &sat, NULL), WSEVENT_OK);
  ASSERT_EQ(sat, 0);
  ASSERT_EQ(wsevent_wait_async_cancel(w, &sat, NULL), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev), 1); /* nobody took it */
  ASSERT_EQ(readable(port), 0);
  wsevent_close(ev);
  wsevent_port_close(port);
}

TEST(test_cancelling_a_satisfied_wait_hands_over_its_packet) {
  wsevent_port_t port;
  wsevent_async_t w[2];
  wsevent_t ev[2];
  struct wsevent_packet pk;
  int sat = -1;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  for (int i = 0; i < 2; i++)
    ASSERT_EQ(wsevent_create(&ev[i], WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev[0], 1, 0, 10, &w[0]), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev[1], 1, 0, 11, &w[1]), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev[0]), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev[1]), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async_cancel(w[0], &sat, &pk), WSEVENT_OK);
  ASSERT_EQ(sat, 1);
  ASSERT_EQ(pk.key, 10);
  ASSERT_EQ(wsevent_is_set(ev[0]), 0); /* consumed: the canceller's now */
  /* The other packet is still there, alone. */
  struct wsevent_packet rest[2];
  ASSERT_EQ(take(port, rest, 2), 1);
  ASSERT_EQ(rest[0].key, 11);
  ASSERT_EQ(readable(port), 0);
  for (int i = 0; i < 2; i++)
    wsevent_close(ev[i]);
  wsevent_port_close(port);
}

TEST(test_closing_an_awaited_event_queues_eclosed_with_its_index) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev[2];
  struct wsevent_packet pk;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  for (int i = 0; i < 2; i++)
    ASSERT_EQ(wsevent_create(&ev[i], 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, ev, 2, 0, 3, &w), WSEVENT_OK);
  ASSERT_EQ(wsevent_close(ev[1]), WSEVENT_OK);
  ASSERT_EQ(take(port, &pk, 1), 1);
  ASSERT_EQ(pk.result, WSEVENT_ECLOSED);
  ASSERT_EQ(pk.index, 1);
  wsevent_close(ev[0]);
  wsevent_port_close(port);
}

TEST(test_async_wait_all_takes_its_events_together) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev[3];
  struct wsevent_packet pk;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(wsevent_create(&ev[i], i == 1 ? 0 : WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, ev, 3, WSEVENT_WAIT_ALL, 5, &w), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev[0]), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev[2]), WSEVENT_OK);
  ASSERT_EQ(readable(port), 0);
  ASSERT_EQ(wsevent_is_set(ev[0]), 1); /* nothing taken yet */
  ASSERT_EQ(wsevent_set(ev[1]), WSEVENT_OK);
  ASSERT_EQ(take(port, &pk, 1), 1);
  ASSERT_EQ(pk.result, WSEVENT_OK);
  ASSERT_EQ(pk.index, 0);
  ASSERT_EQ(wsevent_is_set(ev[0]), 0);
  ASSERT_EQ(wsevent_is_set(ev[1]), 1); /* manual-reset stays */
  ASSERT_EQ(wsevent_is_set(ev[2]), 0);
  for (int i = 0; i < 3; i++)
    wsevent_close(ev[i]);
  wsevent_port_close(port);
}

TEST(test_closing_a_port_cancels_its_waits_and_consumes_nothing) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev;
  int sat;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 1, &w), WSEVENT_OK);
  ASSERT_EQ(wsevent_port_close(port), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async_cancel(w, &sat, NULL), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK); /* nobody else took it */
  wsevent_close(ev);
}

TEST(test_thousands_of_waits_share_one_descriptor) {
  enum { N = 2000 };
  static wsevent_t ev[N];
  static wsevent_async_t w[N];
  static struct wsevent_packet pk[N];
  wsevent_port_t port;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(wsevent_create(&ev[i], WSEVENT_AUTO_RESET), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait_async(port, &ev[i], 1, 0, (uint64_t)i, &w[i]), WSEVENT_OK);
  }
  for (int i = N - 1; i >= 0; i--)
    ASSERT_EQ(wsevent_set(ev[i]), WSEVENT_OK);
  ASSERT_EQ(take(port, pk, N), N);
  for (int i = 0; i < N; i++)
    ASSERT_EQ(pk[i].key, (uint64_t)(N - 1 - i)); /* in the order satisfied */
  for (int i = 0; i < N; i++)
    wsevent_close(ev[i]);
  wsevent_port_close(port);
}

/* Exactness: setters and blocking waiters race with a loop that keeps an
 * async wait registered; every set is taken exactly once. */
struct race {
  wsevent_t ev;
  _Atomic int taken, stop;
};

static void *race_setter(void *p) {
  struct race *r = p;
  for (int i = 0; i < 20000; i++) {
    while (wsevent_is_set(r->ev) == 1) /* one signal in flight at a time */
      sched_yield();
    wsevent_set(r->ev);
  }
  return NULL;
}

static void *race_blocker(void *p) {
  struct race *r = p;
  while (!atomic_load(&r->stop))
    if (wsevent_wait(r->ev, 5) == WSEVENT_OK)
      atomic_fetch_add(&r->taken, 1);
  return NULL;
}

TEST(test_async_waits_race_blocking_waits_and_lose_nothing) {
  struct race r = {0};
  wsevent_port_t port;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&r.ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  pthread_t s, b;
  pthread_create(&b, NULL, race_blocker, &r);
  pthread_create(&s, NULL, race_setter, &r);
  int fd;
  ASSERT_EQ(wsevent_port_fd(port, &fd), WSEVENT_OK);
  int async_taken = 0, cancelled_taken = 0;
  double until = tap_now() + 60;
  while (atomic_load(&r.taken) + async_taken + cancelled_taken < 20000 &&
         tap_now() < until) {
    wsevent_async_t w;
    ASSERT_EQ(wsevent_wait_async(port, &r.ev, 1, 0, 1, &w), WSEVENT_OK);
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 1);
    struct wsevent_packet pk;
    int sat;
    if (take(port, &pk, 1) == 1) {
      async_taken++;
    } else {
      ASSERT_EQ(wsevent_wait_async_cancel(w, &sat, &pk), WSEVENT_OK);
      cancelled_taken += sat; /* a cancelled wait that had taken one */
    }
  }
  atomic_store(&r.stop, 1);
  pthread_join(s, NULL);
  pthread_join(b, NULL);
  ASSERT_EQ(atomic_load(&r.taken) + async_taken + cancelled_taken, 20000);
  ASSERT_GT(async_taken, 0);
  ASSERT_EQ(wsevent_is_set(r.ev), 0);
  wsevent_close(r.ev);
  wsevent_port_close(port);
}

TEST(test_ports_are_closed_in_a_fork_child) {
  wsevent_port_t port;
  wsevent_async_t w;
  wsevent_t ev;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 1, &w), WSEVENT_OK);
  pid_t pid = fork();
  if (pid == 0) {
    wsevent_port_t mine;
    int ok = wsevent_port_close(port) == WSEVENT_EINVAL_HANDLE &&
             wsevent_set(ev) == WSEVENT_OK && /* wakes nobody here */
             wsevent_port_create(&mine) == WSEVENT_OK &&
             wsevent_wait_async(mine, &ev, 1, 0, 1, &w) == WSEVENT_OK;
    _exit(ok ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(readable(port), 0); /* the child's set reached nobody here */
  wsevent_close(ev);
  wsevent_port_close(port);
}
