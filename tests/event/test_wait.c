/* test_wait.c: waiting on one and many events, across threads. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../tap.h"
#include "wsevent.h"

/* ---- helpers ---- */

struct waiter_arg {
  const wsevent_t *events;
  size_t count;
  unsigned flags;
  uint32_t timeout;
  int result;
  size_t index;
  _Atomic int *started;
  _Atomic int *done;
};

static void *waiter_main(void *p) {
  struct waiter_arg *a = p;
  if (a->started)
    atomic_fetch_add(a->started, 1);
  a->result = wsevent_wait_multiple(a->events, a->count, a->flags, a->timeout,
                                    &a->index);
  if (a->done)
    atomic_fetch_add(a->done, 1);
  return NULL;
}

/* Sleep until n threads have reached their wait, then a little longer so
 * that they are asleep in it (the assertions hold either way; this only
 * makes the test exercise the sleeping path). */
static void wait_started(_Atomic int *started, int n) {
  while (atomic_load(started) < n)
    usleep(1000);
  usleep(20000);
}

static void *set_later(void *p) {
  usleep(30000);
  wsevent_set(*(wsevent_t *)p);
  return NULL;
}

/* ---- single waits ---- */

TEST(test_zero_timeout_polls_without_blocking) {
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  double t0 = tap_now();
  for (int i = 0; i < 1000; i++)
    ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_TIMEOUT);
  ASSERT_LT(tap_now() - t0, 1.0);
  wsevent_close(ev);
}

TEST(test_timeout_elapses_on_the_monotonic_clock) {
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  double t0 = tap_now();
  ASSERT_EQ(wsevent_wait(ev, 120), WSEVENT_TIMEOUT);
  double elapsed = tap_now() - t0;
  ASSERT_GE(elapsed * 1000, 120);
  ASSERT_LT(elapsed, 5.0);
  wsevent_close(ev);
}

static void on_signal(int sig) { (void)sig; }

/* Signals the target every 2 ms until told to stop, or for `seconds`. */
struct killer { pthread_t target; _Atomic int stop; double seconds; double ended; };
static void *signal_storm(void *p) {
  struct killer *k = p;
  double until = k->seconds > 0 ? tap_now() + k->seconds : 1e300;
  while (!atomic_load(&k->stop) && tap_now() < until) {
    pthread_kill(k->target, SIGUSR2);
    usleep(2000);
  }
  k->ended = tap_now();
  return NULL;
}

TEST(test_signals_neither_shorten_nor_lengthen_a_wait) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: the futex sees EINTR */
  sigaction(SIGUSR2, &sa, NULL);
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  /* The storm lasts 3 s; a wait that restarted its timeout at every
   * EINTR would only end 200 ms after the storm does. */
  struct killer k = {.target = pthread_self(), .seconds = 3.0};
  pthread_t t;
  pthread_create(&t, NULL, signal_storm, &k);
  double t0 = tap_now();
  ASSERT_EQ(wsevent_wait(ev, 200), WSEVENT_TIMEOUT);
  double returned = tap_now();
  pthread_join(t, NULL);
  ASSERT_GE((returned - t0) * 1000, 200); /* not shortened */
  ASSERT_LT(returned, k.ended);           /* not lengthened */
  wsevent_close(ev);
}

static void *kill_once(void *p) {
  usleep(30000);
  pthread_kill(*(pthread_t *)p, SIGUSR2);
  return NULL;
}

TEST(test_interruptible_wait_returns_on_a_signal) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGUSR2, &sa, NULL);
  wsevent_t ev;
  pthread_t self = pthread_self(), t;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  pthread_create(&t, NULL, kill_once, &self);
  ASSERT_EQ(wsevent_wait_multiple(&ev, 1, WSEVENT_INTERRUPTIBLE,
                                  WSEVENT_INFINITE, NULL),
            WSEVENT_INTERRUPTED);
  pthread_join(t, NULL);
  /* The interrupted wait left nothing registered behind. */
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  wsevent_close(ev);
}

TEST(test_infinite_wait_is_released_by_another_thread) {
  wsevent_t ev;
  pthread_t t;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  pthread_create(&t, NULL, set_later, &ev);
  ASSERT_EQ(wsevent_wait(ev, WSEVENT_INFINITE), WSEVENT_OK);
  pthread_join(t, NULL);
  ASSERT_EQ(wsevent_is_set(ev), 0); /* consumed by the wait */
  wsevent_close(ev);
}

/* ---- manual-reset and auto-reset release rules ---- */

#define CROWD 32

TEST(test_manual_reset_set_releases_all_waiters) {
  wsevent_t ev;
  pthread_t t[CROWD];
  struct waiter_arg a[CROWD];
  _Atomic int started = 0, done = 0;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  for (int i = 0; i < CROWD; i++) {
    a[i] = (struct waiter_arg){&ev, 1, 0, WSEVENT_INFINITE, -99, 0, &started, &done};
    pthread_create(&t[i], NULL, waiter_main, &a[i]);
  }
  wait_started(&started, CROWD);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  for (int i = 0; i < CROWD; i++) {
    pthread_join(t[i], NULL);
    ASSERT_EQ(a[i].result, WSEVENT_OK);
  }
  ASSERT_EQ(wsevent_is_set(ev), 1);
  wsevent_close(ev);
}

TEST(test_manual_reset_set_then_reset_still_releases_all_waiters) {
  wsevent_t ev;
  pthread_t t[CROWD];
  struct waiter_arg a[CROWD];
  _Atomic int started = 0;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  for (int i = 0; i < CROWD; i++) {
    a[i] = (struct waiter_arg){&ev, 1, 0, WSEVENT_INFINITE, -99, 0, &started, NULL};
    pthread_create(&t[i], NULL, waiter_main, &a[i]);
  }
  wait_started(&started, CROWD);
  /* PulseEvent done right: everyone blocked at the set is released. */
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_reset(ev), WSEVENT_OK);
  for (int i = 0; i < CROWD; i++) {
    pthread_join(t[i], NULL);
    ASSERT_EQ(a[i].result, WSEVENT_OK);
  }
  ASSERT_EQ(wsevent_is_set(ev), 0);
  wsevent_close(ev);
}

TEST(test_auto_reset_set_releases_exactly_one_waiter_each_time) {
  wsevent_t ev;
  pthread_t t[CROWD];
  struct waiter_arg a[CROWD];
  _Atomic int started = 0, done = 0;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  for (int i = 0; i < CROWD; i++) {
    a[i] = (struct waiter_arg){&ev, 1, 0, WSEVENT_INFINITE, -99, 0, &started, &done};
    pthread_create(&t[i], NULL, waiter_main, &a[i]);
  }
  wait_started(&started, CROWD);
  for (int k = 1; k <= CROWD; k++) {
    /* Back-to-back sets: each one releases one waiter (none coalesce). */
    ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
    if (k % 4 == 0) {
      while (atomic_load(&done) < k)
        usleep(500);
      usleep(5000);
      ASSERT_EQ(atomic_load(&done), k); /* not one more */
      ASSERT_EQ(wsevent_is_set(ev), 0);
    }
  }
  for (int i = 0; i < CROWD; i++) {
    pthread_join(t[i], NULL);
    ASSERT_EQ(a[i].result, WSEVENT_OK);
  }
  wsevent_close(ev);
}

TEST(test_auto_reset_stays_signaled_until_a_waiter_comes) {
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  usleep(10000);
  ASSERT_EQ(wsevent_is_set(ev), 1);
  ASSERT_EQ(wsevent_wait(ev, 1000), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev), 0);
  wsevent_close(ev);
}

/* ---- wait-any ---- */

TEST(test_wait_any_reports_the_lowest_signaled_index) {
  wsevent_t ev[5];
  size_t index = 99;
  for (int i = 0; i < 5; i++)
    ASSERT_EQ(wsevent_create(&ev[i], i == 3 ? WSEVENT_AUTO_RESET : 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(ev, 5, 0, 0, &index), WSEVENT_TIMEOUT);
  wsevent_set(ev[4]);
  wsevent_set(ev[3]);
  ASSERT_EQ(wsevent_wait_multiple(ev, 5, 0, 0, &index), WSEVENT_OK);
  ASSERT_EQ(index, 3);
  /* The auto-reset one was consumed; the manual one at 4 stays. */
  ASSERT_EQ(wsevent_wait_multiple(ev, 5, 0, 0, &index), WSEVENT_OK);
  ASSERT_EQ(index, 4);
  wsevent_set(ev[1]);
  ASSERT_EQ(wsevent_wait_multiple(ev, 5, 0, 1000, &index), WSEVENT_OK);
  ASSERT_EQ(index, 1);
  for (int i = 0; i < 5; i++)
    wsevent_close(ev[i]);
}

TEST(test_wait_any_is_released_by_a_set_from_another_thread) {
  wsevent_t ev[8];
  pthread_t t;
  size_t index = 99;
  for (int i = 0; i < 8; i++)
    ASSERT_EQ(wsevent_create(&ev[i], WSEVENT_AUTO_RESET), WSEVENT_OK);
  pthread_create(&t, NULL, set_later, &ev[6]);
  ASSERT_EQ(wsevent_wait_multiple(ev, 8, 0, 10000, &index), WSEVENT_OK);
  ASSERT_EQ(index, 6);
  pthread_join(t, NULL);
  ASSERT_EQ(wsevent_is_set(ev[6]), 0);
  for (int i = 0; i < 8; i++)
    wsevent_close(ev[i]);
}

TEST(test_wait_any_accepts_duplicate_handles) {
  wsevent_t ev, list[3];
  size_t index = 99;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  list[0] = list[1] = list[2] = ev;
  pthread_t t;
  pthread_create(&t, NULL, set_later, &ev);
  ASSERT_EQ(wsevent_wait_multiple(list, 3, 0, 10000, &index), WSEVENT_OK);
  ASSERT_EQ(index, 0);
  pthread_join(t, NULL);
  ASSERT_EQ(wsevent_is_set(ev), 0);
  wsevent_close(ev);
}

/* ---- wait-all ---- */

TEST(test_wait_all_returns_only_when_all_are_signaled) {
  wsevent_t ev[3];
  size_t index = 99;
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(wsevent_create(&ev[i], WSEVENT_AUTO_RESET), WSEVENT_OK);
  wsevent_set(ev[0]);
  wsevent_set(ev[2]);
  ASSERT_EQ(wsevent_wait_multiple(ev, 3, WSEVENT_WAIT_ALL, 50, &index),
            WSEVENT_TIMEOUT);
  /* The timed-out wait-all took nothing. */
  ASSERT_EQ(wsevent_is_set(ev[0]), 1);
  ASSERT_EQ(wsevent_is_set(ev[2]), 1);
  pthread_t t;
  pthread_create(&t, NULL, set_later, &ev[1]);
  ASSERT_EQ(wsevent_wait_multiple(ev, 3, WSEVENT_WAIT_ALL, 10000, &index),
            WSEVENT_OK);
  ASSERT_EQ(index, 0);
  pthread_join(t, NULL);
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(wsevent_is_set(ev[i]), 0); /* all consumed together */
    wsevent_close(ev[i]);
  }
}

TEST(test_wait_all_leaves_manual_reset_events_signaled) {
  wsevent_t ev[2];
  ASSERT_EQ(wsevent_create(&ev[0], WSEVENT_INITIAL_SET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev[1], WSEVENT_INITIAL_SET | WSEVENT_AUTO_RESET),
            WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(ev, 2, WSEVENT_WAIT_ALL, 0, NULL), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev[0]), 1);
  ASSERT_EQ(wsevent_is_set(ev[1]), 0);
  wsevent_close(ev[0]);
  wsevent_close(ev[1]);
}

/*
 * Two wait-all threads want {A, B} and {B, C}, a wait-any thread wants
 * {A, C}; all auto-reset.  A setter signals A, B and C one at a time in
 * random order.  Consumption must be all-or-none: each round exactly one
 * signal of each event is taken, and nobody ever holds a partial set.
 */
struct contend {
  wsevent_t a, b, c;
  _Atomic long taken_a, taken_b, taken_c;
  _Atomic int stop;
};

static void *contend_all(void *p, int which) {
  struct contend *k = p;
  wsevent_t list[2];
  list[0] = which ? k->b : k->a;
  list[1] = which ? k->c : k->b;
  while (!atomic_load(&k->stop)) {
    int r = wsevent_wait_multiple(list, 2, WSEVENT_WAIT_ALL, 20, NULL);
    if (r == WSEVENT_OK) {
      atomic_fetch_add(which ? &k->taken_b : &k->taken_a, 1);
      atomic_fetch_add(which ? &k->taken_c : &k->taken_b, 1);
    } else {
      ASSERT_EQ(r, WSEVENT_TIMEOUT);
    }
  }
  return NULL;
}
static void *contend_ab(void *p) { return contend_all(p, 0); }
static void *contend_bc(void *p) { return contend_all(p, 1); }
static void *contend_any(void *p) {
  struct contend *k = p;
  wsevent_t list[2] = {k->a, k->c};
  size_t index;
  while (!atomic_load(&k->stop)) {
    int r = wsevent_wait_multiple(list, 2, 0, 20, &index);
    if (r == WSEVENT_OK)
      atomic_fetch_add(index == 0 ? &k->taken_a : &k->taken_c, 1);
  }
  return NULL;
}

TEST(test_wait_all_takes_auto_reset_events_together_or_not_at_all) {
  struct contend k = {0};
  pthread_t t[3];
  ASSERT_EQ(wsevent_create(&k.a, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&k.b, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&k.c, WSEVENT_AUTO_RESET), WSEVENT_OK);
  pthread_create(&t[0], NULL, contend_ab, &k);
  pthread_create(&t[1], NULL, contend_bc, &k);
  pthread_create(&t[2], NULL, contend_any, &k);
  unsigned seed = 1;
  long sets[3] = {0, 0, 0};
  for (int round = 0; round < 20000; round++) {
    int order[3] = {0, 1, 2};
    for (int i = 2; i > 0; i--) {
      int j = rand_r(&seed) % (i + 1);
      int x = order[i]; order[i] = order[j]; order[j] = x;
    }
    /* Only this thread sets, so a set made while the event reads
     * unsignaled is never absorbed: every such set must be taken once. */
    for (int i = 0; i < 3; i++) {
      wsevent_t e = order[i] == 0 ? k.a : order[i] == 1 ? k.b : k.c;
      if (wsevent_is_set(e) == 0) {
        ASSERT_EQ(wsevent_set(e), WSEVENT_OK);
        sets[order[i]]++;
      }
    }
    if (round % 64 == 0)
      usleep(100);
  }
  usleep(50000);
  atomic_store(&k.stop, 1);
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  long left_a = wsevent_is_set(k.a), left_b = wsevent_is_set(k.b);
  long left_c = wsevent_is_set(k.c);
  ASSERT_GT(sets[1], 100);
  ASSERT_GT(atomic_load(&k.taken_b), 100); /* the wait-alls made progress */
  ASSERT_EQ(atomic_load(&k.taken_a) + left_a, sets[0]);
  ASSERT_EQ(atomic_load(&k.taken_b) + left_b, sets[1]);
  ASSERT_EQ(atomic_load(&k.taken_c) + left_c, sets[2]);
  wsevent_close(k.a);
  wsevent_close(k.b);
  wsevent_close(k.c);
}

TEST(test_wait_all_rejects_duplicates_and_empty_lists) {
  wsevent_t ev[20];
  for (int i = 0; i < 20; i++)
    ASSERT_EQ(wsevent_create(&ev[i], 0), WSEVENT_OK);
  wsevent_t dup[3] = {ev[0], ev[1], ev[0]};
  ASSERT_EQ(wsevent_wait_multiple(dup, 3, WSEVENT_WAIT_ALL, 0, NULL), WSEVENT_EINVAL);
  ev[19] = ev[7]; /* a duplicate in a list long enough to be sorted */
  ASSERT_EQ(wsevent_wait_multiple(ev, 20, WSEVENT_WAIT_ALL, 0, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_multiple(ev, 0, 0, 0, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_multiple(NULL, 1, 0, 0, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_multiple(ev, WSEVENT_MAX_WAIT + 1, 0, 0, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_wait_multiple(ev, 1, 0x80, 0, NULL), WSEVENT_EINVAL);
  for (int i = 0; i < 19; i++)
    wsevent_close(ev[i]);
}

TEST(test_invalid_handle_in_a_list_is_reported_with_its_index) {
  wsevent_t ev[4];
  size_t index = 99;
  for (int i = 0; i < 4; i++)
    ASSERT_EQ(wsevent_create(&ev[i], WSEVENT_INITIAL_SET), WSEVENT_OK);
  wsevent_close(ev[2]);
  /* Even though ev[0] is signaled, the bad handle wins, as on Windows. */
  ASSERT_EQ(wsevent_wait_multiple(ev, 4, 0, 0, &index), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(index, 2);
  ASSERT_EQ(wsevent_wait_multiple(ev, 4, WSEVENT_WAIT_ALL, 100, &index),
            WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(index, 2);
  for (int i = 0; i < 4; i++)
    if (i != 2)
      wsevent_close(ev[i]);
}

/* ---- no 64-event cap ---- */

#define MANY 4096

static void *set_index_later(void *p) {
  wsevent_t *evs = p;
  usleep(30000);
  wsevent_set(evs[MANY - 1]);
  return NULL;
}

TEST(test_wait_any_over_4096_events) {
  static wsevent_t ev[MANY];
  size_t index = 0;
  for (int i = 0; i < MANY; i++)
    ASSERT_EQ(wsevent_create(&ev[i], WSEVENT_AUTO_RESET), WSEVENT_OK);
  pthread_t t;
  pthread_create(&t, NULL, set_index_later, ev);
  ASSERT_EQ(wsevent_wait_multiple(ev, MANY, 0, 10000, &index), WSEVENT_OK);
  ASSERT_EQ(index, MANY - 1);
  pthread_join(t, NULL);
  wsevent_set(ev[100]);
  wsevent_set(ev[2000]);
  ASSERT_EQ(wsevent_wait_multiple(ev, MANY, 0, 0, &index), WSEVENT_OK);
  ASSERT_EQ(index, 100);
  for (int i = 0; i < MANY; i++)
    wsevent_close(ev[i]);
}

TEST(test_wait_all_over_4096_events) {
  static wsevent_t ev[MANY];
  for (int i = 0; i < MANY; i++)
    ASSERT_EQ(wsevent_create(&ev[i], (i % 2) ? WSEVENT_AUTO_RESET : 0), WSEVENT_OK);
  for (int i = 0; i < MANY - 1; i++)
    wsevent_set(ev[i]);
  ASSERT_EQ(wsevent_wait_multiple(ev, MANY, WSEVENT_WAIT_ALL, 0, NULL), WSEVENT_TIMEOUT);
  pthread_t t;
  pthread_create(&t, NULL, set_index_later, ev);
  ASSERT_EQ(wsevent_wait_multiple(ev, MANY, WSEVENT_WAIT_ALL, 10000, NULL), WSEVENT_OK);
  pthread_join(t, NULL);
  for (int i = 0; i < MANY; i++) {
    ASSERT_EQ(wsevent_is_set(ev[i]), (i % 2) ? 0 : 1);
    wsevent_close(ev[i]);
  }
}

/* ---- close during a wait ---- */

static void *close_later(void *p) {
  usleep(30000);
  wsevent_close(*(wsevent_t *)p);
  return NULL;
}

TEST(test_closing_an_event_wakes_its_waiters_with_closed) {
  wsevent_t ev[2];
  pthread_t t[CROWD], closer;
  struct waiter_arg a[CROWD];
  _Atomic int started = 0;
  ASSERT_EQ(wsevent_create(&ev[0], 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&ev[1], WSEVENT_AUTO_RESET), WSEVENT_OK);
  for (int i = 0; i < CROWD; i++) {
    a[i] = (struct waiter_arg){ev, 2, (i % 2) ? WSEVENT_WAIT_ALL : 0,
                               WSEVENT_INFINITE, -99, 99, &started, NULL};
    pthread_create(&t[i], NULL, waiter_main, &a[i]);
  }
  wait_started(&started, CROWD);
  pthread_create(&closer, NULL, close_later, &ev[1]);
  pthread_join(closer, NULL);
  for (int i = 0; i < CROWD; i++) {
    pthread_join(t[i], NULL);
    ASSERT_EQ(a[i].result, WSEVENT_ECLOSED);
    ASSERT_EQ(a[i].index, 1);
  }
  /* The slot is reused only now that every waiter has let go. */
  wsevent_t fresh;
  ASSERT_EQ(wsevent_create(&fresh, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(fresh), 0);
  wsevent_close(fresh);
  wsevent_close(ev[0]);
}
