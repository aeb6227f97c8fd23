/* test_completion.c: thread ids and completion routines (user APCs). */
#include <pthread.h>
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
