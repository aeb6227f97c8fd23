/*
 * test_source.c: wait sources, a provider's descriptors polled by the
 * threads that wait on its events.
 *
 * The test provider here owns a pipe per source: its ready() reads one
 * byte and sets the event, as a socket provider reads and records.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../tap.h"
#include "wsevent.h"
#include "wsevent_provider.h"

static const struct wsevent_upcalls *up;

struct prov {
  int pipe[2];
  wsevent_t event;
  wsevent_source_t source;
  _Atomic int ready_calls, detached_calls, changes, bytes;
  _Atomic(pthread_t) ready_thread;
  _Atomic int detach_in_ready; /* detach from inside ready() */
  _Atomic int do_nothing;      /* ready() leaves the byte in the pipe */
  _Atomic int inside_ready;
  _Atomic int detached_while_inside;
};

static void prov_ready(void *ctx, short revents) {
  struct prov *p = ctx;
  (void)revents;
  atomic_fetch_add(&p->inside_ready, 1);
  atomic_fetch_add(&p->ready_calls, 1);
  atomic_store(&p->ready_thread, pthread_self());
  if (!atomic_load(&p->do_nothing)) {
    char c;
    if (read(p->pipe[0], &c, 1) == 1) {
      atomic_fetch_add(&p->bytes, 1);
      up->xSet(p->event);
    }
  }
  if (atomic_load(&p->detach_in_ready))
    up->xSourceDetach(p->source);
  atomic_fetch_sub(&p->inside_ready, 1);
}

static void prov_changed(void *ctx) {
  struct prov *p = ctx;
  atomic_fetch_add(&p->changes, 1);
  /* As a provider does (select.c): look at the source's watchers, by the
   * id that xSourceAttach wrote, which must be there by now. */
  ASSERT_NE(p->source, 0);
  up->xSourceWatchers(p->source);
}

static void prov_detached(void *ctx) {
  struct prov *p = ctx;
  if (atomic_load(&p->inside_ready))
    atomic_fetch_add(&p->detached_while_inside, 1);
  atomic_fetch_add(&p->detached_calls, 1);
}

static const struct wsevent_source_ops ops = {
    .ready = prov_ready,
    .watchers_changed = prov_changed,
    .detached = prov_detached,
};

static void prov_init(struct prov *p, unsigned flags) {
  memset(p, 0, sizeof *p);
  up = wsevent_upcalls();
  ASSERT_EQ(pipe2(p->pipe, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(wsevent_create(&p->event, flags), WSEVENT_OK);
  ASSERT_EQ(up->xSourceAttach(p->event, &ops, p, p->pipe[0], POLLIN,
                              &p->source),
            WSEVENT_OK);
}

static void send_byte(struct prov *p) { ASSERT_EQ(write(p->pipe[1], "x", 1), 1); }

static void wait_for_watchers(struct prov *p, int n) {
  while (up->xSourceWatchers(p->source) != n)
    sched_yield();
}

struct waiter {
  wsevent_t event;
  uint32_t timeout;
  int result;
  pthread_t self;
};

static void *waiter_main(void *arg) {
  struct waiter *w = arg;
  w->self = pthread_self();
  w->result = wsevent_wait(w->event, w->timeout);
  return NULL;
}

TEST(test_source_arguments_are_checked) {
  struct prov p;
  wsevent_source_t s;
  prov_init(&p, 0);
  ASSERT_EQ(up->iVersion >= 2, 1);
  ASSERT_EQ(up->xSourceAttach(p.event, NULL, &p, 0, POLLIN, &s), WSEVENT_EINVAL);
  ASSERT_EQ(up->xSourceAttach(p.event, &ops, &p, -1, POLLIN, &s), WSEVENT_EINVAL);
  ASSERT_EQ(up->xSourceAttach(p.event, &ops, &p, 0, POLLIN, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(up->xSourceAttach(12345, &ops, &p, 0, POLLIN, &s), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(up->xSourceUpdate(0, POLLIN), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(up->xSourceDetach(p.event), WSEVENT_EINVAL_HANDLE); /* not a source */
  ASSERT_EQ(up->xSourceWatchers(0), 0);
  wsevent_close(p.event);
}

TEST(test_detach_runs_detached_once_and_refuses_a_second_detach) {
  struct prov p;
  prov_init(&p, 0);
  ASSERT_EQ(up->xSourceDetach(p.source), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
  ASSERT_EQ(up->xSourceDetach(p.source), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(up->xSourceUpdate(p.source, POLLIN), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
  /* Without sources the event is as any other. */
  ASSERT_EQ(wsevent_wait(p.event, 0), WSEVENT_TIMEOUT);
  wsevent_close(p.event);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
}

TEST(test_closing_the_event_detaches_its_sources) {
  struct prov p;
  prov_init(&p, 0);
  ASSERT_EQ(wsevent_close(p.event), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
  ASSERT_EQ(up->xSourceDetach(p.source), WSEVENT_EINVAL_HANDLE);
  /* Attaching to a closed event fails. */
  wsevent_source_t s;
  ASSERT_EQ(up->xSourceAttach(p.event, &ops, &p, p.pipe[0], POLLIN, &s),
            WSEVENT_EINVAL_HANDLE);
}

TEST(test_waiter_polls_the_source_and_runs_ready_in_its_own_thread) {
  struct prov p;
  prov_init(&p, WSEVENT_AUTO_RESET);
  struct waiter w = {p.event, 10000, -99, 0};
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, &w);
  wait_for_watchers(&p, 1); /* it polls the pipe now */
  while (atomic_load(&p.changes) < 1) /* and has told the provider */
    sched_yield();
  send_byte(&p);
  pthread_join(t, NULL);
  ASSERT_EQ(w.result, WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p.bytes), 1);
  ASSERT(pthread_equal(atomic_load(&p.ready_thread), w.self));
  /* Its poll ended: nobody watches, and the provider was told. */
  ASSERT_EQ(up->xSourceWatchers(p.source), 0);
  ASSERT_EQ(atomic_load(&p.changes), 2);
  ASSERT_EQ(wsevent_is_set(p.event), 0); /* auto-reset, consumed */
  wsevent_close(p.event);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
}

TEST(test_zero_timeout_wait_looks_at_the_source_once) {
  struct prov p;
  prov_init(&p, WSEVENT_AUTO_RESET);
  ASSERT_EQ(wsevent_wait(p.event, 0), WSEVENT_TIMEOUT);
  ASSERT_EQ(atomic_load(&p.ready_calls), 0);
  send_byte(&p);
  ASSERT_EQ(wsevent_wait(p.event, 0), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p.bytes), 1);
  /* A single look does not make the provider stand down. */
  ASSERT_EQ(atomic_load(&p.changes), 0);
  wsevent_close(p.event);
}

TEST(test_closing_the_event_wakes_a_polling_waiter) {
  struct prov p;
  prov_init(&p, 0);
  struct waiter w = {p.event, 10000, -99, 0};
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, &w);
  wait_for_watchers(&p, 1);
  ASSERT_EQ(wsevent_close(p.event), WSEVENT_OK);
  pthread_join(t, NULL);
  ASSERT_EQ(w.result, WSEVENT_ECLOSED);
  /* detached() ran once the waiter let go of it. */
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
}

TEST(test_a_set_from_another_thread_wakes_a_polling_waiter) {
  struct prov p;
  prov_init(&p, 0);
  struct waiter w = {p.event, 10000, -99, 0};
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, &w);
  wait_for_watchers(&p, 1);
  ASSERT_EQ(wsevent_set(p.event), WSEVENT_OK);
  pthread_join(t, NULL);
  ASSERT_EQ(w.result, WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p.ready_calls), 0);
  wsevent_close(p.event);
}

TEST(test_update_makes_polling_waiters_poll_the_new_events) {
  struct prov p;
  prov_init(&p, 0);
  ASSERT_EQ(up->xSourceUpdate(p.source, 0), WSEVENT_OK); /* nothing to poll */
  send_byte(&p);
  struct waiter w = {p.event, 10000, -99, 0};
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, &w);
  wait_for_watchers(&p, 1);
  /* The byte waits in the pipe, but nobody polls for it yet. */
  ASSERT_EQ(wsevent_wait(p.event, 0), WSEVENT_TIMEOUT);
  ASSERT_EQ(atomic_load(&p.ready_calls), 0);
  ASSERT_EQ(up->xSourceUpdate(p.source, POLLIN), WSEVENT_OK);
  pthread_join(t, NULL);
  ASSERT_EQ(w.result, WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p.bytes), 1);
  wsevent_close(p.event);
}

TEST(test_attach_while_waiting_is_polled_at_once) {
  struct prov p;
  prov_init(&p, 0);
  struct waiter w = {p.event, 10000, -99, 0};
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, &w);
  wait_for_watchers(&p, 1);
  /* A second source on the same event, whose pipe already has data. */
  struct prov q;
  memset(&q, 0, sizeof q);
  ASSERT_EQ(pipe2(q.pipe, O_NONBLOCK | O_CLOEXEC), 0);
  q.event = p.event;
  send_byte(&q);
  ASSERT_EQ(up->xSourceAttach(p.event, &ops, &q, q.pipe[0], POLLIN, &q.source),
            WSEVENT_OK);
  pthread_join(t, NULL);
  ASSERT_EQ(w.result, WSEVENT_OK);
  ASSERT_EQ(atomic_load(&q.bytes), 1);
  ASSERT_EQ(atomic_load(&p.bytes), 0);
  wsevent_close(p.event);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
  ASSERT_EQ(atomic_load(&q.detached_calls), 1);
}

TEST(test_detach_inside_ready_defers_detached_until_ready_returns) {
  struct prov p;
  prov_init(&p, 0);
  atomic_store(&p.detach_in_ready, 1);
  send_byte(&p);
  ASSERT_EQ(wsevent_wait(p.event, 1000), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
  ASSERT_EQ(atomic_load(&p.detached_while_inside), 0);
  ASSERT_EQ(up->xSourceDetach(p.source), WSEVENT_EINVAL_HANDLE);
  wsevent_close(p.event);
}

TEST(test_a_source_ready_with_nothing_done_does_not_make_the_waiter_spin) {
  struct prov p;
  prov_init(&p, 0);
  atomic_store(&p.do_nothing, 1);
  send_byte(&p); /* stays ready forever */
  double t0 = tap_now();
  ASSERT_EQ(wsevent_wait(p.event, 300), WSEVENT_TIMEOUT);
  ASSERT_GE(tap_now() - t0, 0.29);
  /* It gave up polling after a bounded number of rounds and slept. */
  int calls = atomic_load(&p.ready_calls);
  ASSERT_GE(calls, 1);
  ASSERT_LE(calls, 1001);
  ASSERT_EQ(up->xSourceWatchers(p.source), 0);
  wsevent_close(p.event);
}

TEST(test_wait_any_over_many_sources_reports_the_ready_one) {
  enum { N = 20 };
  struct prov p[N];
  wsevent_t evs[N];
  for (int i = 0; i < N; i++) {
    prov_init(&p[i], WSEVENT_AUTO_RESET);
    evs[i] = p[i].event;
  }
  send_byte(&p[13]);
  size_t index = 99;
  ASSERT_EQ(wsevent_wait_multiple(evs, N, 0, 1000, &index), WSEVENT_OK);
  ASSERT_EQ(index, 13);
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(atomic_load(&p[i].bytes), i == 13);
    ASSERT_EQ(up->xSourceWatchers(p[i].source), 0);
    wsevent_close(evs[i]);
  }
}

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

/* A stand-in is polled instead of the event's sources while they are too
 * many, and never otherwise; its ready() runs in the waiting thread. */
TEST(test_a_crowded_event_is_waited_on_through_its_stand_in) {
  enum { N = WSEVENT_POLLED_SOURCES_MAX + 1 };
  struct prov p[N], si;
  up = wsevent_upcalls();
  ASSERT_GE(up->iVersion, 4);
  prov_init(&p[0], 0);
  /* The stand-in: a pipe of its own, on the same event. */
  memset(&si, 0, sizeof si);
  ASSERT_EQ(pipe2(si.pipe, O_NONBLOCK | O_CLOEXEC), 0);
  si.event = p[0].event;
  ASSERT_EQ(up->xSourceAttachStandIn(si.event, NULL, &si, si.pipe[0], POLLIN,
                                     &si.source),
            WSEVENT_EINVAL);
  ASSERT_EQ(up->xSourceAttachStandIn(si.event, &ops, &si, si.pipe[0], POLLIN,
                                     &si.source),
            WSEVENT_OK);
  unsigned flags;
  ASSERT_EQ(wsevent_get_flags(si.event, &flags), WSEVENT_OK);
  ASSERT_EQ(flags & WSEVENT_SOURCES_NOT_POLLED, 0); /* not counted */

  /* Not crowded: the sources are polled, the stand-in is not. */
  atomic_store(&si.do_nothing, 1);
  send_byte(&si);
  ASSERT_EQ(wsevent_wait(si.event, 30), WSEVENT_TIMEOUT);
  ASSERT_EQ(atomic_load(&si.ready_calls), 0);
  send_byte(&p[0]);
  ASSERT_EQ(wsevent_wait(si.event, 5000), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p[0].bytes), 1);
  char c;
  ASSERT_EQ(read(si.pipe[0], &c, 1), 1);
  atomic_store(&si.do_nothing, 0);

  /* Crowded: the stand-in is polled, in the waiting thread. */
  for (int i = 1; i < N; i++) {
    memset(&p[i], 0, sizeof p[i]);
    ASSERT_EQ(pipe2(p[i].pipe, O_NONBLOCK | O_CLOEXEC), 0);
    p[i].event = si.event;
    ASSERT_EQ(up->xSourceAttach(si.event, &ops, &p[i], p[i].pipe[0], POLLIN,
                                &p[i].source),
              WSEVENT_OK);
  }
  ASSERT_EQ(wsevent_get_flags(si.event, &flags), WSEVENT_OK);
  ASSERT_EQ(flags & WSEVENT_SOURCES_NOT_POLLED, WSEVENT_SOURCES_NOT_POLLED);
  ASSERT_EQ(wsevent_reset(si.event), WSEVENT_OK);
  struct waiter w = {si.event, 5000, -1, 0};
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, NULL, waiter_main, &w), 0);
  wait_for_watchers(&si, 1);
  ASSERT_EQ(up->xSourceWatchers(p[N - 1].source), 0);
  send_byte(&si);
  ASSERT_EQ(pthread_join(t, NULL), 0);
  ASSERT_EQ(w.result, WSEVENT_OK);
  ASSERT_EQ(atomic_load(&si.bytes), 1);
  ASSERT(pthread_equal(atomic_load(&si.ready_thread), w.self));
  ASSERT_EQ(atomic_load(&p[N - 1].ready_calls), 0);

  /* Below the crowd again: back to the sources. */
  ASSERT_EQ(up->xSourceDetach(p[N - 1].source), WSEVENT_OK);
  ASSERT_EQ(wsevent_reset(si.event), WSEVENT_OK);
  send_byte(&p[1]);
  ASSERT_EQ(wsevent_wait(si.event, 5000), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&p[1].bytes), 1);

  /* The event's close detaches the stand-in too. */
  ASSERT_EQ(wsevent_close(si.event), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&si.detached_calls), 1);
  ASSERT_EQ(up->xSourceDetach(si.source), WSEVENT_EINVAL_HANDLE);
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(atomic_load(&p[i].detached_calls), 1);
    close(p[i].pipe[0]);
    close(p[i].pipe[1]);
  }
  close(si.pipe[0]);
  close(si.pipe[1]);
}

TEST(test_closing_an_event_frees_its_timers_at_once) {
  enum { N = 300 };
  wsevent_t ev[N];
  wsevent_timer_t t[N];
  int before = count_fds();
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(wsevent_create(&ev[i], 0), WSEVENT_OK);
    ASSERT_EQ(wsevent_timer_start(ev[i], 3600000, 0, &t[i]), WSEVENT_OK);
  }
  ASSERT_GE(count_fds(), before + N);
  for (int i = 0; i < N; i++)
    ASSERT_EQ(wsevent_close(ev[i]), WSEVENT_OK);
  /* (The reactor's own descriptors stay: 4 at most.) */
  ASSERT_LE(count_fds(), before + 4);
  ASSERT_EQ(wsevent_timer_cancel(t[0]), WSEVENT_EINVAL_HANDLE);
}

TEST(test_a_waiter_fires_a_timer_itself) {
  wsevent_t ev;
  wsevent_timer_t t;
  ASSERT_EQ(wsevent_create(&ev, WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_timer_start(ev, 20, 10, &t), WSEVENT_OK);
  for (int i = 0; i < 5; i++)
    ASSERT_EQ(wsevent_wait(ev, 5000), WSEVENT_OK);
  ASSERT_EQ(wsevent_timer_cancel(t), WSEVENT_OK);
  ASSERT_EQ(wsevent_timer_cancel(t), WSEVENT_EINVAL_HANDLE);
  wsevent_close(ev);
}

/* Several threads wait on one auto-reset event fed by a pipe source;
 * every byte written is read by some ready() exactly once. */
struct feeder {
  struct prov *p;
  _Atomic int *stop;
  _Atomic int got;
};

static void *consumer(void *arg) {
  struct feeder *f = arg;
  while (!atomic_load(f->stop))
    if (wsevent_wait(f->p->event, 20) == WSEVENT_OK)
      atomic_fetch_add(&f->got, 1);
  return NULL;
}

TEST(test_many_polling_waiters_lose_no_byte) {
  enum { THREADS = 4, BYTES = 5000 };
  struct prov p;
  prov_init(&p, WSEVENT_AUTO_RESET);
  _Atomic int stop = 0;
  struct feeder f[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    f[i] = (struct feeder){&p, &stop, 0};
    pthread_create(&t[i], NULL, consumer, &f[i]);
  }
  for (int i = 0; i < BYTES; i++) {
    send_byte(&p);
    if (i % 64 == 0)
      sched_yield();
  }
  /* The main thread polls too, until every byte was taken. */
  double until = tap_now() + 30;
  while (atomic_load(&p.bytes) < BYTES && tap_now() < until)
    wsevent_wait(p.event, 20);
  atomic_store(&stop, 1);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  ASSERT_EQ(atomic_load(&p.bytes), BYTES);
  char c;
  ASSERT_EQ(read(p.pipe[0], &c, 1), -1); /* nothing left behind */
  wsevent_close(p.event);
  ASSERT_EQ(atomic_load(&p.detached_calls), 1);
}

TEST(test_sources_are_forgotten_in_a_fork_child) {
  struct prov p;
  prov_init(&p, 0);
  pid_t pid = fork();
  if (pid == 0) {
    /* No callback runs in the child; the event works without sources. */
    int ok = wsevent_wait(p.event, 0) == WSEVENT_TIMEOUT &&
             up->xSourceDetach(p.source) == WSEVENT_EINVAL_HANDLE &&
             wsevent_set(p.event) == WSEVENT_OK &&
             wsevent_wait(p.event, 0) == WSEVENT_OK &&
             atomic_load(&p.detached_calls) == 0;
    _exit(ok ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(up->xSourceDetach(p.source), WSEVENT_OK);
  wsevent_close(p.event);
}

/* ---- the thread's alert event: sources its alertable waits poll ---- */

struct alert_prov {
  int pipe[2];
  wsevent_thread_t thread;
  _Atomic int ready_calls, detached_calls;
  _Atomic(pthread_t) ready_thread;
};

static void routine_ran(void *ctx) { atomic_fetch_add((_Atomic int *)ctx, 1); }

static _Atomic int alert_routines;

/* ready(): take the byte and queue a routine to the thread, as an
 * overlapped operation's provider completes it. */
static void alert_ready(void *ctx, short revents) {
  struct alert_prov *p = ctx;
  char c;
  (void)revents;
  atomic_fetch_add(&p->ready_calls, 1);
  atomic_store(&p->ready_thread, pthread_self());
  if (read(p->pipe[0], &c, 1) == 1)
    up->xQueueCompletion(p->thread, routine_ran, &alert_routines);
}

static void alert_detached(void *ctx) {
  atomic_fetch_add(&((struct alert_prov *)ctx)->detached_calls, 1);
}

static const struct wsevent_source_ops alert_ops = {
    .ready = alert_ready,
    .detached = alert_detached,
};

static struct alert_prov alert_p;

static void *alert_thread(void *arg) {
  (void)arg;
  wsevent_t alert, again;
  wsevent_source_t src;
  ASSERT_EQ(wsevent_thread_self(&alert_p.thread), WSEVENT_OK);
  ASSERT_EQ(up->xThreadAlertEvent(alert_p.thread, &alert), WSEVENT_OK);
  ASSERT_EQ(wsevent_thread_alert_event(alert_p.thread, &again), WSEVENT_OK);
  ASSERT_EQ(alert, again); /* one per thread */
  ASSERT_EQ(up->xSourceAttach(alert, &alert_ops, &alert_p, alert_p.pipe[0], POLLIN,
                              &src),
            WSEVENT_OK);
  /* A zero-timeout alertable sleep polls once: nothing yet. */
  ASSERT_EQ(wsevent_sleep(0, WSEVENT_ALERTABLE), WSEVENT_OK);
  ASSERT_EQ(write(alert_p.pipe[1], "x", 1), 1);
  /* The alertable sleep polls the pipe itself, runs ready() here, and the
   * routine that queued runs before the sleep returns. */
  ASSERT_EQ(wsevent_sleep(5000, WSEVENT_ALERTABLE), WSEVENT_IO_COMPLETION);
  ASSERT_EQ(atomic_load(&alert_routines), 1);
  ASSERT(pthread_equal(atomic_load(&alert_p.ready_thread), pthread_self()));
  /* A non-alertable sleep does not look at it. */
  ASSERT_EQ(write(alert_p.pipe[1], "y", 1), 1);
  ASSERT_EQ(wsevent_sleep(20, 0), WSEVENT_OK);
  ASSERT_EQ(atomic_load(&alert_p.ready_calls), 1);
  /* An alertable wait on an event polls it too. */
  wsevent_t ev;
  ASSERT_EQ(wsevent_create(&ev, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(&ev, 1, WSEVENT_ALERTABLE, 5000, NULL),
            WSEVENT_IO_COMPLETION);
  ASSERT_EQ(atomic_load(&alert_routines), 2);
  wsevent_close(ev);
  return NULL; /* the thread ends: its alert event closes, the source detaches */
}

TEST(test_alertable_waits_poll_the_sources_of_the_threads_alert_event) {
  up = wsevent_upcalls();
  ASSERT_GE(up->iVersion, 3);
  ASSERT_EQ(pipe2(alert_p.pipe, O_NONBLOCK | O_CLOEXEC), 0);
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, NULL, alert_thread, NULL), 0);
  ASSERT_EQ(pthread_join(t, NULL), 0);
  ASSERT_EQ(atomic_load(&alert_p.detached_calls), 1);
  wsevent_t e;
  ASSERT_EQ(wsevent_thread_alert_event(alert_p.thread, &e), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_thread_alert_event(12345, &e), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_thread_alert_event(alert_p.thread, NULL), WSEVENT_EINVAL);
}
