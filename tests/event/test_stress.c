/*
 * test_stress.c: many threads, millions of mixed operations, with counts
 * that catch a lost or a duplicated wake-up.
 *
 * Token rings: RINGS rings of RING_LEN threads pass one token each around
 * auto-reset events.  A thread holding the token checks that nobody else
 * holds it (a duplicated wake-up makes two holders), counts a hop and sets
 * the next event; a lost wake-up stalls the ring, which the watchdog
 * reports.  Each hop is reached through a different kind of wait (single,
 * wait-any with noise events, wait-all with an always-set manual event,
 * alertable with completion routines in flight), and between hops every
 * thread does set/reset/is_set noise and create/close churn.
 *
 * Dining philosophers: PHILOSOPHERS threads take two auto-reset "fork"
 * events with one wait-all and check that no fork is ever held twice.
 *
 * WSEVENT_STRESS_OPS sets the total number of operations (default 2M).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "../tap.h"
#include "wsevent.h"

#define RINGS 2
#define RING_LEN 4
#define NOISE 8

static long target_ops;
static _Atomic long ops;
static _Atomic long hops;
static wsevent_t stop_ev;
static wsevent_t noise[NOISE];
static wsevent_t always_set;

struct ring {
  wsevent_t ev[RING_LEN];
  _Atomic int holders;
};
static struct ring rings[RINGS];

struct member { struct ring *ring; int pos; unsigned seed; };

static _Atomic long apc_runs, apc_queued;
static void apc(void *p) { (void)p; atomic_fetch_add(&apc_runs, 1); }

static void noise_ops(struct member *m, wsevent_thread_t peer) {
  for (int i = 0; i < 24; i++) {
    wsevent_t e = noise[rand_r(&m->seed) % NOISE];
    switch (rand_r(&m->seed) % 4) {
    case 0: ASSERT_EQ(wsevent_set(e), WSEVENT_OK); break;
    case 1: ASSERT_EQ(wsevent_reset(e), WSEVENT_OK); break;
    case 2: ASSERT_GE(wsevent_is_set(e), 0); break;
    default: {
      wsevent_t tmp;
      ASSERT_EQ(wsevent_create(&tmp, WSEVENT_AUTO_RESET), WSEVENT_OK);
      ASSERT_EQ(wsevent_set(tmp), WSEVENT_OK);
      ASSERT_EQ(wsevent_wait(tmp, 0), WSEVENT_OK);
      ASSERT_EQ(wsevent_close(tmp), WSEVENT_OK);
      ASSERT_EQ(wsevent_set(tmp), WSEVENT_EINVAL_HANDLE);
    }
    }
  }
  if (peer && rand_r(&m->seed) % 8 == 0 &&
      wsevent_queue_completion(peer, apc, NULL) == WSEVENT_OK)
    atomic_fetch_add(&apc_queued, 1);
  atomic_fetch_add(&ops, 25);
}

static _Atomic wsevent_thread_t ids[RINGS * RING_LEN];

static void *ring_member(void *p) {
  struct member *m = p;
  struct ring *r = m->ring;
  wsevent_t mine = r->ev[m->pos], next = r->ev[(m->pos + 1) % RING_LEN];
  int self_index = (int)(r - rings) * RING_LEN + m->pos;
  wsevent_thread_t my_id;
  ASSERT_EQ(wsevent_thread_self(&my_id), WSEVENT_OK);
  atomic_store(&ids[self_index], my_id);

  while (atomic_load(&ops) < target_ops) {
    int got = 0;
    size_t index;
    int kind = rand_r(&m->seed) % 4, res;
    wsevent_t any[3] = {noise[m->pos % NOISE], stop_ev, mine};
    wsevent_t all[2] = {mine, always_set};
    switch (kind) {
    case 0:
      res = wsevent_wait(mine, 50);
      got = res == WSEVENT_OK;
      break;
    case 1:
      res = wsevent_wait_multiple(any, 3, 0, 50, &index);
      got = res == WSEVENT_OK && index == 2;
      break;
    case 2:
      res = wsevent_wait_multiple(all, 2, WSEVENT_WAIT_ALL, 50, NULL);
      got = res == WSEVENT_OK;
      break;
    default:
      res = wsevent_wait_multiple(&mine, 1, WSEVENT_ALERTABLE, 50, NULL);
      got = res == WSEVENT_OK;
      ASSERT(res == WSEVENT_OK || res == WSEVENT_TIMEOUT ||
             res == WSEVENT_IO_COMPLETION);
    }
    atomic_fetch_add(&ops, 1);
    if (got) {
      ASSERT_EQ(atomic_fetch_add(&r->holders, 1), 0); /* no duplicate */
      atomic_fetch_add(&hops, 1);
      noise_ops(m, atomic_load(&ids[(self_index + 1) % (RINGS * RING_LEN)]));
      ASSERT_EQ(atomic_fetch_sub(&r->holders, 1), 1);
      ASSERT_EQ(wsevent_set(next), WSEVENT_OK);
    } else {
      noise_ops(m, 0);
    }
  }
  /* No parting set: it would inject a second token while a ring-mate
   * still holds the first.  Every wait has a timeout, so the others see
   * the end on their own. */
  return NULL;
}

TEST(test_token_rings_lose_and_duplicate_no_wake_up) {
  pthread_t t[RINGS * RING_LEN];
  struct member m[RINGS * RING_LEN];
  ASSERT_EQ(wsevent_create(&stop_ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&always_set, WSEVENT_INITIAL_SET), WSEVENT_OK);
  for (int i = 0; i < NOISE; i++)
    ASSERT_EQ(wsevent_create(&noise[i], i % 2 ? WSEVENT_AUTO_RESET : 0), WSEVENT_OK);
  for (int r = 0; r < RINGS; r++)
    for (int i = 0; i < RING_LEN; i++)
      ASSERT_EQ(wsevent_create(&rings[r].ev[i],
                               WSEVENT_AUTO_RESET | (i == 0 ? WSEVENT_INITIAL_SET : 0)),
                WSEVENT_OK);
  for (int i = 0; i < RINGS * RING_LEN; i++) {
    m[i] = (struct member){&rings[i / RING_LEN], i % RING_LEN, (unsigned)i + 1};
    pthread_create(&t[i], NULL, ring_member, &m[i]);
  }
  /* Watchdog: the rings must keep moving. */
  long last = -1;
  double last_change = tap_now();
  while (atomic_load(&ops) < target_ops) {
    usleep(20000);
    long h = atomic_load(&hops);
    if (h != last) {
      last = h;
      last_change = tap_now();
    }
    ASSERT_LT(tap_now() - last_change, 20.0); /* a lost wake-up stalls a ring */
  }
  for (int i = 0; i < RINGS * RING_LEN; i++)
    pthread_join(t[i], NULL);
  printf("# %ld operations, %ld hops, %ld/%ld completion routines run\n",
         atomic_load(&ops), atomic_load(&hops), atomic_load(&apc_runs),
         atomic_load(&apc_queued));
  ASSERT_GT(atomic_load(&hops), 100);
  ASSERT_LE(atomic_load(&apc_runs), atomic_load(&apc_queued));
}

#define PHILOSOPHERS 8
static wsevent_t forks[PHILOSOPHERS];
static _Atomic int fork_owner[PHILOSOPHERS];
static _Atomic long meals;
static long meals_each;

static void *philosopher(void *p) {
  int i = (int)(intptr_t)p;
  int l = i, r = (i + 1) % PHILOSOPHERS;
  wsevent_t both[2] = {forks[l], forks[r]};
  for (long k = 0; k < meals_each;) {
    int res = wsevent_wait_multiple(both, 2, WSEVENT_WAIT_ALL, 5000, NULL);
    ASSERT_EQ(res, WSEVENT_OK); /* 5 s without a meal: deadlock */
    int none = 0;
    ASSERT(atomic_compare_exchange_strong(&fork_owner[l], &none, i + 1));
    none = 0;
    ASSERT(atomic_compare_exchange_strong(&fork_owner[r], &none, i + 1));
    atomic_fetch_add(&meals, 1);
    k++;
    atomic_store(&fork_owner[l], 0);
    atomic_store(&fork_owner[r], 0);
    ASSERT_EQ(wsevent_set(forks[l]), WSEVENT_OK);
    ASSERT_EQ(wsevent_set(forks[r]), WSEVENT_OK);
  }
  return NULL;
}

TEST(test_dining_philosophers_with_wait_all_never_deadlock) {
  pthread_t t[PHILOSOPHERS];
  meals_each = target_ops / 40 / PHILOSOPHERS;
  if (meals_each < 200)
    meals_each = 200;
  for (int i = 0; i < PHILOSOPHERS; i++)
    ASSERT_EQ(wsevent_create(&forks[i], WSEVENT_AUTO_RESET | WSEVENT_INITIAL_SET),
              WSEVENT_OK);
  for (intptr_t i = 0; i < PHILOSOPHERS; i++)
    pthread_create(&t[i], NULL, philosopher, (void *)i);
  for (int i = 0; i < PHILOSOPHERS; i++)
    pthread_join(t[i], NULL);
  ASSERT_EQ(atomic_load(&meals), meals_each * PHILOSOPHERS);
  /* Every fork is back on the table, once. */
  for (int i = 0; i < PHILOSOPHERS; i++)
    ASSERT_EQ(wsevent_is_set(forks[i]), 1);
}

__attribute__((constructor)) static void read_size(void) {
  const char *s = getenv("WSEVENT_STRESS_OPS");
  target_ops = s ? atol(s) : 2000000;
  if (target_ops < 1000)
    target_ops = 1000;
}
