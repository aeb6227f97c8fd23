/* test_completion.c: thread ids and completion routines (user APCs). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../tap.h"
#include "wsevent.h"

struct record {
  pthread_t ran_on;
  _Atomic int runs;
  int order[8];
  _Atomic int n;
};

static void routine(void *p) {
  struct record *r = p;
  r->ran_on = pthread_self();
  atomic_fetch_add(&r->runs, 1);
}

struct queuer { wsevent_thread_t target; struct record *rec; int delay_us; int result; };

static void *queue_later(void *p) {
  struct queuer *q = p;
  usleep(q->delay_us);
  q->result = wsevent_queue_completion(q->target, routine, q->rec);
  return NULL;
}

TEST(test_thread_ids_are_stable_and_distinct) {
  wsevent_thread_t a, b;
  ASSERT_EQ(wsevent_thread_self(&a), WSEVENT_OK);
  ASSERT_EQ(wsevent_thread_self(&b), WSEVENT_OK);
  ASSERT_EQ(a, b);
  ASSERT_NE(a, 0);
  ASSERT_EQ(wsevent_thread_self(NULL), WSEVENT_EINVAL);
}

TEST(test_routine_runs_in_the_alertable_waiting_thread) {
  wsevent_t ev;
  struct record rec = {0};
  pthread_t t;
  struct queuer q = {0, &rec, 30000, -99};
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_thread_self(&q.target), WSEVENT_OK);
  pthread_create(&t, NULL, queue_later, &q);
  ASSERT_EQ(wsevent_wait_multiple(&ev, 1, WSEVENT_ALERTABLE, 10000, NULL),
            WSEVENT_IO_COMPLETION);
  pthread_join(t, NULL);
  ASSERT_EQ(q.result, WSEVENT_OK);
  ASSERT_EQ(atomic_load(&rec.runs), 1);
  ASSERT(pthread_equal(rec.ran_on, pthread_self()));
  wsevent_close(ev);
}

TEST(test_non_alertable_wait_leaves_routines_queued) {
  wsevent_t ev;
  wsevent_thread_t self;
  struct record rec = {0};
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_thread_self(&self), WSEVENT_OK);
  ASSERT_EQ(wsevent_queue_completion(self, routine, &rec), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev, 30), WSEVENT_TIMEOUT);
  ASSERT_EQ(atomic_load(&rec.runs), 0);
  wsevent_set(ev);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&rec.runs), 0);
  /* The next alertable wait runs it, before looking at the event. */
  ASSERT_EQ(wsevent_wait_multiple(&ev, 1, WSEVENT_ALERTABLE, 0, NULL),
            WSEVENT_IO_COMPLETION);
  ASSERT_EQ(atomic_load(&rec.runs), 1);
  ASSERT_EQ(wsevent_wait_multiple(&ev, 1, WSEVENT_ALERTABLE, 0, NULL), WSEVENT_OK);
  wsevent_close(ev);
}

static struct record seq;
static void ordered(void *p) { seq.order[atomic_fetch_add(&seq.n, 1)] = (int)(intptr_t)p; }

TEST(test_all_queued_routines_run_in_order_in_one_wait) {
  wsevent_thread_t self;
  ASSERT_EQ(wsevent_thread_self(&self), WSEVENT_OK);
  for (intptr_t i = 0; i < 5; i++)
    ASSERT_EQ(wsevent_queue_completion(self, ordered, (void *)i), WSEVENT_OK);
  ASSERT_EQ(wsevent_sleep(0, WSEVENT_ALERTABLE), WSEVENT_IO_COMPLETION);
  ASSERT_EQ(atomic_load(&seq.n), 5);
  for (int i = 0; i < 5; i++)
    ASSERT_EQ(seq.order[i], i);
  ASSERT_EQ(wsevent_sleep(0, WSEVENT_ALERTABLE), WSEVENT_OK);
}

TEST(test_alertable_sleep_returns_early_for_a_routine) {
  struct record rec = {0};
  pthread_t t;
  struct queuer q = {0, &rec, 20000, -99};
  ASSERT_EQ(wsevent_thread_self(&q.target), WSEVENT_OK);
  pthread_create(&t, NULL, queue_later, &q);
  double t0 = tap_now();
  ASSERT_EQ(wsevent_sleep(20000, WSEVENT_ALERTABLE), WSEVENT_IO_COMPLETION);
  ASSERT_LT(tap_now() - t0, 10.0);
  pthread_join(t, NULL);
  ASSERT_EQ(atomic_load(&rec.runs), 1);
  t0 = tap_now();
  ASSERT_EQ(wsevent_sleep(30, 0), WSEVENT_OK);
  ASSERT_GE((tap_now() - t0) * 1000, 30);
}

static void *report_id(void *p) {
  wsevent_thread_self(p);
  return NULL;
}

TEST(test_id_of_an_exited_thread_is_invalid) {
  wsevent_thread_t id = 0;
  pthread_t t;
  struct record rec = {0};
  pthread_create(&t, NULL, report_id, &id);
  pthread_join(t, NULL);
  ASSERT_NE(id, 0);
  ASSERT_EQ(wsevent_queue_completion(id, routine, &rec), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_queue_completion(12345, routine, &rec), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_queue_completion(id, NULL, &rec), WSEVENT_EINVAL);
  { /* an event handle is not a thread id */
    wsevent_t ev;
    ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
    ASSERT_EQ(wsevent_queue_completion(ev, routine, &rec), WSEVENT_EINVAL_HANDLE);
    wsevent_close(ev);
  }
}

/* Many threads queue to one alertable waiter: every routine runs once. */
static wsevent_thread_t hub;
static _Atomic long hub_runs;
static void count_run(void *p) { (void)p; atomic_fetch_add(&hub_runs, 1); }
static void *flood(void *p) {
  (void)p;
  for (int i = 0; i < 2000; i++)
    ASSERT_EQ(wsevent_queue_completion(hub, count_run, NULL), WSEVENT_OK);
  return NULL;
}

TEST(test_routines_from_many_threads_each_run_exactly_once) {
  pthread_t t[8];
  wsevent_t never;
  ASSERT_EQ(wsevent_create(&never, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_thread_self(&hub), WSEVENT_OK);
  for (int i = 0; i < 8; i++)
    pthread_create(&t[i], NULL, flood, NULL);
  while (atomic_load(&hub_runs) < 16000) {
    int r = wsevent_wait_multiple(&never, 1, WSEVENT_ALERTABLE, 1000, NULL);
    ASSERT(r == WSEVENT_IO_COMPLETION || r == WSEVENT_TIMEOUT);
  }
  for (int i = 0; i < 8; i++)
    pthread_join(t[i], NULL);
  ASSERT_EQ(wsevent_sleep(0, WSEVENT_ALERTABLE), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&hub_runs), 16000);
  wsevent_close(never);
}

static void *data_of_new_thread(void *p) {
  (void)p;
  return wsevent_thread_data();
}

TEST(test_thread_data_is_per_thread) {
  void *prev = (void *)1;
  int x, y;
  ASSERT_EQ(wsevent_thread_set_data(&x, &prev), WSEVENT_OK);
  ASSERT(prev == NULL);
  ASSERT(wsevent_thread_data() == &x);
  ASSERT_EQ(wsevent_thread_set_data(&y, &prev), WSEVENT_OK);
  ASSERT(prev == &x);
  pthread_t t;
  void *other = (void *)1;
  pthread_create(&t, NULL, data_of_new_thread, NULL);
  pthread_join(t, &other);
  ASSERT(other == NULL);
}

/* ---- release functions and wsevent_thread_end ---- */

struct counts {
  _Atomic int ran, released;
};

static void tally_run(void *p) { atomic_fetch_add(&((struct counts *)p)->ran, 1); }
static void tally_release(void *p) {
  atomic_fetch_add(&((struct counts *)p)->released, 1);
}

struct ender {
  wsevent_thread_t id;
  wsevent_t have_id; /* set once id is written */
  wsevent_t queued;  /* set once the main thread has queued */
  int end_early;     /* call wsevent_thread_end instead of just exiting */
};

static void *end_after_queue(void *p) {
  struct ender *e = p;
  wsevent_thread_self(&e->id);
  wsevent_set(e->have_id);
  wsevent_wait(e->queued, WSEVENT_INFINITE); /* not alertable: nothing runs */
  if (e->end_early)
    wsevent_thread_end();
  return NULL;
}

static void release_on_end(int end_early) {
  struct counts c = {0};
  struct ender e = {0, 0, 0, end_early};
  pthread_t t;
  ASSERT_EQ(wsevent_create(&e.have_id, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&e.queued, 0), WSEVENT_OK);
  pthread_create(&t, NULL, end_after_queue, &e);
  ASSERT_EQ(wsevent_wait(e.have_id, WSEVENT_INFINITE), WSEVENT_OK);
  ASSERT_EQ(wsevent_queue_completion_ex(e.id, tally_run, tally_release, &c),
            WSEVENT_OK);
  ASSERT_EQ(wsevent_queue_completion_ex(e.id, tally_run, tally_release, &c),
            WSEVENT_OK);
  ASSERT_EQ(wsevent_queue_completion(e.id, tally_run, &c), WSEVENT_OK);
  wsevent_set(e.queued);
  pthread_join(t, NULL);
  /* Discarded: the two with a release function were released, none ran. */
  ASSERT_EQ(atomic_load(&c.ran), 0);
  ASSERT_EQ(atomic_load(&c.released), 2);
  ASSERT_EQ(wsevent_queue_completion_ex(e.id, tally_run, tally_release, &c),
            WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(atomic_load(&c.released), 2); /* a refused one is not taken */
  wsevent_close(e.queued);
  wsevent_close(e.have_id);
}

TEST(test_routines_discarded_at_thread_exit_are_released) { release_on_end(0); }

TEST(test_thread_end_discards_and_releases_at_once) { release_on_end(1); }

TEST(test_thread_end_gives_the_thread_a_new_id_on_next_use) {
  struct counts c = {0};
  wsevent_thread_t a, b;
  ASSERT_EQ(wsevent_thread_self(&a), WSEVENT_OK);
  ASSERT_EQ(wsevent_queue_completion_ex(a, tally_run, tally_release, &c),
            WSEVENT_OK);
  ASSERT_EQ(wsevent_thread_end(), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&c.released), 1);
  ASSERT_EQ(wsevent_thread_end(), WSEVENT_OK); /* harmless */
  ASSERT_EQ(wsevent_queue_completion(a, tally_run, &c), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_thread_self(&b), WSEVENT_OK);
  ASSERT_NE(a, b);
  ASSERT_EQ(wsevent_queue_completion_ex(b, tally_run, tally_release, &c),
            WSEVENT_OK);
  ASSERT_EQ(wsevent_sleep(0, WSEVENT_ALERTABLE), WSEVENT_IO_COMPLETION);
  ASSERT_EQ(atomic_load(&c.ran), 1);
  ASSERT_EQ(atomic_load(&c.released), 1);
}
