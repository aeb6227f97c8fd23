/*
 * pollwait.c: waits that poll their events' sources themselves.
 *
 * A waiter whose events have wait sources (source.c) polls instead of
 * sleeping on its futex: its thread's wake eventfd and every source's
 * descriptor, through the thread's epoll set (epset.c), which keeps them
 * registered from one wait to the next, or with ppoll(2) (one source, or
 * what epoll cannot take).  A setter that satisfies it writes the eventfd
 * (wse_satisfy, under the lock); a descriptor that becomes ready wakes it
 * directly, and it runs the source's ready() in its own thread, which
 * usually sets the event and so satisfies it: one hop from the kernel to
 * the waiter, as a plain epoll loop has.
 *
 * The poll set holds a reference on each source and counts the waiter in
 * the source's `pollers`; the provider, told by watchers_changed(),
 * stands down while anybody polls.  Whoever changes what must be polled
 * (attach, update, detach, close) bumps wse_sources_gen and pokes the
 * polling waiters, which then build their sets again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define NS 1000000000LL
/* Rounds in a row where sources were ready, their ready() ran and the
 * waiter is still not satisfied, after which it stops polling them (a
 * provider that leaves a descriptor ready with nothing to do would make
 * it spin) and sleeps on its futex, leaving them to their provider. */
#define MAX_IDLE_ROUNDS 1000
/* From this many sources on, a wait polls through its thread's epoll set
 * rather than ppoll(2): with one, the two cost the same (measured: a wait
 * on 2 to 50 sources with one ready, 0.85x to 0.65x ppoll's time with
 * epoll; on 1, 1.05x). */
#define EPOLL_MIN_SOURCES 2

_Atomic uint64_t wse_sources_gen = 1;
static uint64_t build_seq; /* under the lock: marks sources already taken */

void wse_pollset_init(struct wse_pollset *ps, struct wse_thread *th,
                      bool watch) {
  ps->n = 0;
  ps->th = th;
  ps->epoll = false;
  ps->cap = WSE_POLL_STACK;
  ps->pfds = ps->pfd_stack;
  ps->srcs = ps->src_stack;
  ps->changed = ps->changed_stack;
  ps->watch = watch;
  ps->gen = 0;
  ps->pfds[0].fd = th->wake_fd;
  ps->pfds[0].events = POLLIN;
  ps->pfds[0].revents = 0;
}

static bool grow(struct wse_pollset *ps) {
  size_t cap = ps->cap * 2;
  struct pollfd *pfds = malloc((cap + 1) * sizeof *pfds);
  struct wse_source **srcs = malloc(cap * sizeof *srcs);
  bool *changed = malloc(cap * sizeof *changed);
  if (pfds == NULL || srcs == NULL || changed == NULL) {
    free(pfds);
    free(srcs);
    free(changed);
    return false;
  }
  memcpy(pfds, ps->pfds, (ps->n + 1) * sizeof *pfds);
  memcpy(srcs, ps->srcs, ps->n * sizeof *srcs);
  memcpy(changed, ps->changed, ps->n * sizeof *changed);
  if (ps->pfds != ps->pfd_stack) {
    free(ps->pfds);
    free(ps->srcs);
    free(ps->changed);
  }
  ps->pfds = pfds;
  ps->srcs = srcs;
  ps->changed = changed;
  ps->cap = cap;
  return true;
}

/* Add the sources of ev; false if the set cannot grow. */
static bool add_sources(struct wse_pollset *ps, struct wse_event *ev,
                        uint64_t seq) {
  /* Too many to poll at each wake-up: leave them to their providers, and
   * poll the stand-ins of those that have one. */
  bool crowded = atomic_load_explicit(&ev->n_sources, memory_order_relaxed) >
                 WSEVENT_POLLED_SOURCES_MAX;
  for (struct wse_source *src = crowded ? ev->stand_ins : ev->sources;
       src != NULL; src = src->next) {
    if (src->mark == seq)
      continue; /* an event listed twice */
    if (ps->n == ps->cap && !grow(ps))
      return false; /* the rest stay with their provider */
    src->mark = seq;
    /* Attached, so its attachment holds a reference: ours cannot be the
     * first. */
    atomic_fetch_add(&src->slot.refgen, 1);
    ps->changed[ps->n] = ps->watch && atomic_fetch_add(&src->pollers, 1) == 0;
    ps->srcs[ps->n] = src;
    /* poll(2) skips negative descriptors: nothing to poll for now. */
    ps->pfds[1 + ps->n].fd = src->events ? src->fd : -1;
    ps->pfds[1 + ps->n].events = src->events;
    ps->pfds[1 + ps->n].revents = 0;
    ps->n++;
  }
  return true;
}

bool wse_pollset_build(struct wse_pollset *ps, const struct wse_waiter *w) {
  uint64_t seq = ++build_seq;
  ps->gen = atomic_load(&wse_sources_gen);
  for (size_t i = 0; i < w->count; i++)
    if (!add_sources(ps, w->entries[i].event, seq))
      return ps->n > 0;
  /* An alertable wait also polls what its thread's routines wait for. */
  struct wse_event *alert = wse_thread_alert_sources(w->alertable);
  if (alert != NULL)
    add_sources(ps, alert, seq);
  return ps->n > 0;
}

void wse_pollset_drop(struct wse_pollset *ps) {
  for (size_t i = 0; i < ps->n; i++)
    ps->changed[i] =
        ps->watch && atomic_fetch_sub(&ps->srcs[i]->pollers, 1) == 1;
}

void wse_pollset_notify(struct wse_pollset *ps) {
  for (size_t i = 0; i < ps->n; i++) {
    struct wse_source *src = ps->srcs[i];
    if (ps->changed[i] && src->ops->watchers_changed != NULL)
      src->ops->watchers_changed(src->context);
    ps->changed[i] = false;
  }
}

void wse_pollset_free(struct wse_pollset *ps) {
  for (size_t i = 0; i < ps->n; i++)
    wse_source_unref(ps->srcs[i]);
  if (ps->pfds != ps->pfd_stack) {
    free(ps->pfds);
    free(ps->srcs);
    free(ps->changed);
  }
  ps->n = 0;
}

/* Poll ps through the thread's epoll set if it is worth it (more than one
 * source: for one, a ppoll(2) costs no more) and possible.  Also for a
 * wait that looks only once: the registrations stay for the next. */
static void choose(struct wse_pollset *ps) {
  ps->epoll = ps->n >= EPOLL_MIN_SOURCES && wse_epset_sync(&ps->th->epset, ps);
}

/* Build the other set, drop the current one, and switch to the other. */
static void rebuild(struct wse_waiter *w, struct wse_pollset sets[2],
                    int *cur) {
  struct wse_pollset *old = &sets[*cur], *fresh = &sets[!*cur];
  wse_pollset_init(fresh, old->th, old->watch);
  wse_lock();
  if (!w->satisfied)
    wse_pollset_build(fresh, w);
  wse_pollset_drop(old);
  wse_unlock();
  wse_pollset_notify(fresh);
  wse_pollset_notify(old);
  wse_pollset_free(old);
  *cur = !*cur;
  choose(fresh);
}

static void drain(int fd) {
  uint64_t count;
  ssize_t n = read(fd, &count, sizeof count);
  (void)n; /* EAGAIN: a spurious readiness, nothing to take */
}

/* Tell the providers a wait begins; build the set again if they changed
 * what must be polled. */
static void begin(struct wse_waiter *w, struct wse_pollset sets[2], int *cur) {
  struct wse_pollset *ps = &sets[*cur];
  for (size_t i = 0; i < ps->n; i++) {
    const struct wsevent_source_ops *ops = ps->srcs[i]->ops;
    if (ops->waiting != NULL)
      ops->waiting(ps->srcs[i]->context);
  }
  if (ps->gen != atomic_load(&wse_sources_gen))
    rebuild(w, sets, cur);
  else
    choose(ps);
}

int wse_sleep_polling(struct wse_waiter *w, struct wse_pollset sets[2],
                      int *cur, wsevent_time_t deadline, bool interruptible) {
  unsigned idle = 0;
  begin(w, sets, cur);
  for (;;) {
    struct wse_pollset *ps = &sets[*cur];
    uint32_t expected = WSE_W_AWAKE;
    if (!atomic_compare_exchange_strong(&w->futex, &expected, WSE_W_POLLING))
      return WSEVENT_OK; /* satisfied before we fell asleep */
    /* A change made between our build and the store above poked nobody
     * (we were not POLLING yet), but it bumped the generation first: the
     * two seq_cst steps on each side mean one of us sees the other. */
    if (ps->gen != atomic_load(&wse_sources_gen)) {
      expected = WSE_W_POLLING;
      if (!atomic_compare_exchange_strong(&w->futex, &expected, WSE_W_AWAKE))
        return WSEVENT_OK;
      rebuild(w, sets, cur);
      continue;
    }
    struct timespec rel, *tp = NULL;
    bool last = false; /* the deadline has passed: this is the last look */
    if (deadline != WSEVENT_NEVER) {
      wsevent_time_t left = deadline - wsevent_now();
      if (left <= 0) {
        left = 0;
        last = true;
      }
      rel.tv_sec = (time_t)(left / NS);
      rel.tv_nsec = (long)(left % NS);
      tp = &rel;
    }
    int n = ps->epoll ? wse_epset_wait(&ps->th->epset, ps, tp)
                      : ppoll(ps->pfds, ps->n + 1, tp, NULL);
    int err = errno;
    expected = WSE_W_POLLING;
    if (!atomic_compare_exchange_strong(&w->futex, &expected, WSE_W_AWAKE))
      return WSEVENT_OK; /* satisfied; a poke may wait in the eventfd, for
                            the next polling wait to drain */
    if (n < 0) {
      if (err != EINTR)
        return WSE_POLL_FAILED;
      if (interruptible)
        return WSEVENT_INTERRUPTED;
      continue;
    }
    if (n == 0) {
      if (last || wsevent_now() >= deadline)
        return WSEVENT_TIMEOUT;
      continue;
    }
    /* (The epoll path fills in only what is ready: clear as we go.) */
    if (ps->pfds[0].revents) {
      ps->pfds[0].revents = 0;
      drain(ps->pfds[0].fd);
    }
    bool ran = false;
    for (size_t i = 0; i < ps->n; i++) {
      short revents = ps->pfds[1 + i].revents;
      if (revents != 0) {
        ps->pfds[1 + i].revents = 0;
        ps->srcs[i]->ops->ready(ps->srcs[i]->context, revents);
        ran = true;
      }
    }
    if (atomic_load(&w->futex) == WSE_W_DONE)
      return WSEVENT_OK;
    if (last)
      return WSEVENT_TIMEOUT;
    idle = ran ? idle + 1 : 0;
    if (idle > MAX_IDLE_ROUNDS)
      return WSE_POLL_FAILED;
    if (ps->gen != atomic_load(&wse_sources_gen))
      rebuild(w, sets, cur);
  }
}
