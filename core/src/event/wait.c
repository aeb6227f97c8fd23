/*
 * wait.c: waiting on one or many events, and waking waiters.
 *
 * A wait first looks at the events without any lock (the fast path): a
 * signaled manual-reset event, or an auto-reset event nobody else watches,
 * satisfies it at once.  Otherwise the waiter takes a reference on every
 * event, and under the dispatcher lock links one entry per event into that
 * event's waiter list (which marks it WATCHED), then tries to satisfy
 * itself.  If it cannot, it sleeps on its own futex word.  Whoever later
 * signals one of its events (under the same lock) tries to satisfy it,
 * consumes what it takes, unlinks it and wakes it: the waiter returns
 * without taking the lock again.
 *
 * Only threads holding the lock consume auto-reset signals once an event is
 * WATCHED, so wait-all takes its events together or not at all.  Lock-free
 * sets that race with a wait-all only ever turn events on, never off, so
 * what the wait-all saw signaled is still signaled when it consumes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define STACK_ENTRIES 8
#define NEED_LOCK (-100) /* try_fast: the answer needs the lock */
#define NOTHING (-101)   /* try_fast: nothing is signaled */

static uint64_t state_of(const struct wse_event *ev) {
  return atomic_load_explicit(&ev->slot.state, memory_order_acquire);
}

/* ---- waiter lists (under the lock) ---- */

static void unregister(struct wse_waiter *w);

/*
 * Link e into its event's list if the handle still names a live event.
 * Waits hold no reference on their events: slot memory is never freed, and
 * once WATCHED is set (in the same compare-and-swap that checks the
 * generation), a close must take the lock, and unlinks us, before the slot
 * can be reused.
 */
static bool link_entry(struct wse_entry *e, uint32_t gen) {
  struct wse_event *ev = e->event;
  uint64_t s = state_of(ev);
  do {
    if (wse_gen_of(s) != gen || (s & WSE_CLOSED))
      return false;
    if (ev->watchers != 0) /* WATCHED already, and pinned by the lock */
      break;
  } while (!atomic_compare_exchange_weak(&ev->slot.state, &s, s | WSE_WATCHED));
  ev->watchers++;
  e->named = (s & WSE_NAMED) != 0;
  if (e->named) {
    e->seen = atomic_load(wse_named_word(ev->named));
    e->seq0 = e->seen & WSE_NW_SEQ_MASK;
    if (e->waiter->monitored)
      wse_named_monitor(ev, +1);
  }
  e->next = NULL;
  e->prev = ev->tail;
  if (ev->tail)
    ev->tail->next = e;
  else
    ev->head = e;
  ev->tail = e;
  return true;
}

static void unlink_entry(struct wse_entry *e) {
  struct wse_event *ev = e->event;
  if (e->prev)
    e->prev->next = e->next;
  else
    ev->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    ev->tail = e->prev;
  e->prev = e->next = NULL;
  if (e->named && e->waiter->monitored)
    wse_named_monitor(ev, -1);
  if (--ev->watchers == 0)
    atomic_fetch_and(&ev->slot.state, ~(uint64_t)WSE_WATCHED);
}

int wse_waiter_prepare(struct wse_waiter *w, struct wse_entry *entries,
                       const wsevent_t *handles, size_t count, unsigned flags,
                       size_t *index) {
  atomic_init(&w->futex, WSE_W_AWAKE);
  w->satisfied = false;
  w->wait_all = (flags & WSEVENT_WAIT_ALL) != 0;
  w->result = WSEVENT_TIMEOUT;
  w->index = 0;
  w->count = count;
  w->linked = 0;
  w->entries = entries;
  w->alertable = NULL;
  w->wake_fd = -1;
  w->async = NULL;
  w->n_named = 0;
  w->monitored = false;
  for (size_t i = 0; i < count; i++) {
    struct wse_entry *e = &entries[i];
    e->event = wse_event_of(handles[i]);
    e->waiter = w;
    e->named = false;
    e->ref = false;
    if (e->event == NULL) {
      *index = i;
      return WSEVENT_EINVAL_HANDLE;
    }
    /* Constant while the handle is current; link_entry checks that. */
    if (state_of(e->event) & WSE_NAMED) {
      e->named = true;
      w->n_named++;
    }
  }
  return WSEVENT_OK;
}

bool wse_waiter_link(struct wse_waiter *w, const wsevent_t *handles,
                     size_t *index) {
  w->n_named = 0;
  for (size_t i = 0; i < w->count; i++) {
    if (!link_entry(&w->entries[i], (uint32_t)(handles[i] >> 32))) {
      /* Closed since the caller looked: as if it had been then. */
      unregister(w);
      *index = i;
      return false;
    }
    w->linked = i + 1;
    w->n_named += w->entries[i].named;
  }
  /* A wait-all that names one object twice, through two handles opened
   * on its name, is refused as duplicate handles are. */
  if (w->wait_all && wse_named_check_all(w) != WSEVENT_OK) {
    unregister(w);
    *index = SIZE_MAX;
    return false;
  }
  return true;
}

static void unregister(struct wse_waiter *w) {
  for (size_t i = 0; i < w->linked; i++)
    unlink_entry(&w->entries[i]);
  w->linked = 0;
  if (w->alertable && w->alertable->waiter == w)
    w->alertable->waiter = NULL;
}

void wse_unregister(struct wse_waiter *w) { unregister(w); }

void wse_satisfy(struct wse_waiter *w, int result, size_t index, bool wake) {
  w->satisfied = true;
  w->result = result;
  w->index = index;
  unregister(w);
  if (w->async != NULL) {
    wse_port_post(w->async); /* an asynchronous wait: queue its packet */
    return;
  }
  int wake_fd = w->wake_fd;
  /* After this exchange the waiter may return and its stack vanish; the
   * futex wake-up below only uses the address, which is harmless even
   * then.  The eventfd is the thread's, closed only under the lock. */
  uint32_t old = atomic_exchange(&w->futex, WSE_W_DONE);
  if (wake && old == WSE_W_ASLEEP)
    wse_wake_after_unlock(&w->futex);
  else if (wake && old == WSE_W_POLLING)
    wse_poke(wake_fd);
}

/* Whether entry e's event is signaled now, or (manual-reset and named)
 * was set since the wait began.  Under the lock. */
static bool signaled(struct wse_entry *e, uint64_t s, bool wait_all) {
  if (!e->named)
    return (s & WSE_SIGNALED) != 0;
  uint32_t v = atomic_load(wse_named_word(e->event->named));
  e->seen = v;
  if (v & WSE_NW_SIGNALED)
    return true;
  /* A set and reset seen only in the count: for a wait-any on a
   * manual-reset event, it released us as it did every waiter. */
  return !wait_all && (s & WSE_MANUAL) && (v & WSE_NW_SEQ_MASK) != e->seq0;
}

/* Whether a wait-all can be satisfied now, and with what; consumes what
 * it takes.  The caller satisfies w after letting go of the named locks:
 * once satisfied, w may vanish (its thread returns). */
static bool try_all(struct wse_waiter *w, int *result, size_t *index) {
  for (size_t i = 0; i < w->count; i++) {
    struct wse_entry *e = &w->entries[i];
    uint64_t s = state_of(e->event);
    if (s & WSE_CLOSED) {
      *result = WSEVENT_ECLOSED;
      *index = i;
      return true;
    }
    if (!signaled(e, s, true))
      return false;
  }
  for (size_t i = 0; i < w->count; i++) {
    struct wse_entry *e = &w->entries[i];
    if (state_of(e->event) & WSE_MANUAL)
      continue;
    if (e->named) {
      wse_named_taken_locked(e->event->named);
      wse_sync_fd(e->event);
    } else {
      wse_consume(e->event);
    }
  }
  *result = WSEVENT_OK;
  *index = 0;
  return true;
}

/* Satisfy w if its events allow it now (under the lock). */
bool wse_try_satisfy(struct wse_waiter *w, bool wake) {
  if (w->wait_all) {
    /* Named events change in other processes too: hold their locks, so
     * that what we test is what we take. */
    bool named = w->n_named > 0;
    int result;
    size_t index;
    if (named)
      wse_named_lock_all(w);
    bool done = try_all(w, &result, &index);
    if (named)
      wse_named_unlock_all(w);
    if (done)
      wse_satisfy(w, result, index, wake);
    return done;
  }
  for (size_t i = 0; i < w->count; i++) {
    struct wse_entry *e = &w->entries[i];
    struct wse_event *ev = e->event;
    uint64_t s = state_of(ev);
    if (s & WSE_CLOSED) {
      wse_satisfy(w, WSEVENT_ECLOSED, i, wake);
      return true;
    }
    if (signaled(e, s, false)) {
      if (!(s & WSE_MANUAL)) {
        if (!e->named)
          wse_consume(ev);
        else if (!wse_named_take(ev->named))
          continue; /* another process took it first */
        else
          wse_sync_fd(ev);
      }
      wse_satisfy(w, WSEVENT_OK, i, wake);
      return true;
    }
  }
  return false;
}

void wse_dispatch(struct wse_event *ev) {
  struct wse_entry *e = ev->head;
  bool named = state_of(ev) & WSE_NAMED;
  /* A manual-reset event releases everyone; an auto-reset one stops as
   * soon as a waiter has consumed it.  A named one is offered to every
   * waiter (a manual-reset one may have been set and reset since). */
  while (e != NULL && (named || (state_of(ev) & WSE_SIGNALED))) {
    struct wse_waiter *w = e->waiter;
    /* Satisfying w unlinks all of w's entries and nobody else's, so the
     * next entry that is not w's survives it. */
    struct wse_entry *next = e->next;
    while (next != NULL && next->waiter == w)
      next = next->next;
    wse_try_satisfy(w, true);
    e = next;
  }
  wse_sync_fd(ev);
}

/* ---- the lock-free attempt ---- */

static bool load_event(wsevent_t h, struct wse_event **ev, uint64_t *s) {
  *ev = wse_event_of(h);
  if (*ev == NULL)
    return false;
  *s = state_of(*ev);
  return wse_gen_of(*s) == (uint32_t)(h >> 32) && !(*s & WSE_CLOSED);
}

/* *sources: whether any event has wait sources (a wait then polls). */
static int try_fast(const wsevent_t *handles, size_t count, bool all,
                    size_t *index, bool *sources) {
  size_t found = SIZE_MAX;
  bool all_signaled = true, all_manual = true;
  struct wse_event *ev, *found_ev = NULL;
  uint64_t s, found_s = 0, any = 0;

  /* As on Windows, every handle is checked before any is used. */
  for (size_t i = 0; i < count; i++) {
    if (!load_event(handles[i], &ev, &s)) {
      *index = i;
      return WSEVENT_EINVAL_HANDLE;
    }
    any |= s;
    if (!(s & WSE_SIGNALED))
      all_signaled = false;
    else if (found == SIZE_MAX)
      found = i, found_ev = ev, found_s = s;
    if (!(s & WSE_MANUAL))
      all_manual = false;
  }
  *sources = (any & WSE_HAS_SRC) != 0;
  if (any & WSE_NAMED)
    return NEED_LOCK;
  if (all) {
    if (!all_signaled)
      return NOTHING;
    if (!all_manual)
      return NEED_LOCK;
    *index = 0;
    return WSEVENT_OK;
  }
  if (found == SIZE_MAX)
    return NOTHING;
  if (!(found_s & WSE_MANUAL)) {
    /* Consuming without the lock is safe only while nobody watches. */
    if (found_s & (WSE_LOCKED_PATH | WSE_DISPATCH))
      return NEED_LOCK;
    if (!atomic_compare_exchange_strong(&found_ev->slot.state, &found_s,
                                        found_s & ~(uint64_t)WSE_SIGNALED))
      return NEED_LOCK;
  }
  *index = found;
  return WSEVENT_OK;
}

/* ---- argument checks ---- */

static int cmp_handle(const void *a, const void *b) {
  wsevent_t x = *(const wsevent_t *)a, y = *(const wsevent_t *)b;
  return (x > y) - (x < y);
}

int wse_check_duplicates(const wsevent_t *handles, size_t count) {
  if (count <= 16) {
    for (size_t i = 0; i < count; i++)
      for (size_t j = i + 1; j < count; j++)
        if (handles[i] == handles[j])
          return WSEVENT_EINVAL;
    return WSEVENT_OK;
  }
  wsevent_t *copy = malloc(count * sizeof *copy);
  if (copy == NULL)
    return WSEVENT_ENOMEM;
  memcpy(copy, handles, count * sizeof *copy);
  qsort(copy, count, sizeof *copy, cmp_handle);
  int r = WSEVENT_OK;
  for (size_t i = 1; i < count && r == WSEVENT_OK; i++)
    if (copy[i] == copy[i - 1])
      r = WSEVENT_EINVAL;
  free(copy);
  return r;
}

/* ---- deadlines ---- */

#define NS 1000000000LL

wsevent_time_t wsevent_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (wsevent_time_t)t.tv_sec * NS + t.tv_nsec;
}

int wsevent_deadline(double seconds, wsevent_time_t *deadline) {
  if (deadline == NULL || seconds != seconds)
    return WSEVENT_EINVAL;
  wsevent_time_t now = wsevent_now();
  if (seconds <= 0)
    *deadline = now;
  else if (seconds > WSEVENT_MAX_SECONDS)
    *deadline = WSEVENT_NEVER;
  else /* rounded up: a wait never ends before the time it was given */
    *deadline = now + (wsevent_time_t)(seconds * 1e9 + 0.999);
  return WSEVENT_OK;
}

static wsevent_time_t deadline_after_ms(uint32_t ms) {
  if (ms == WSEVENT_INFINITE)
    return WSEVENT_NEVER;
  return wsevent_now() + (wsevent_time_t)ms * 1000000LL;
}

/* ---- sleeping ---- */

/*
 * Sleep until satisfied, the deadline, or (if interruptible) a signal.
 * Returns WSEVENT_OK if satisfied, else WSEVENT_TIMEOUT/INTERRUPTED.
 *
 * The thread sleeps on its own futex word; a wait on named events sleeps
 * on their words too (they may change in other processes), and looks
 * again under the lock whenever one moves.
 */
static int sleep_direct(struct wse_waiter *w, wsevent_time_t deadline,
                        bool interruptible) {
  struct timespec ts;
  const struct timespec *dl = NULL;
  if (deadline != WSEVENT_NEVER) {
    ts.tv_sec = (time_t)(deadline / NS);
    ts.tv_nsec = (long)(deadline % NS);
    dl = &ts;
  }
  uint32_t expected = WSE_W_AWAKE;
  if (!atomic_compare_exchange_strong(&w->futex, &expected, WSE_W_ASLEEP))
    return WSEVENT_OK; /* satisfied before we fell asleep */
  for (;;) {
    int err = w->n_named > 0 ? wse_named_sleep(w, deadline)
                             : wse_futex_wait(&w->futex, WSE_W_ASLEEP, dl);
    if (atomic_load(&w->futex) == WSE_W_DONE)
      return WSEVENT_OK;
    if (err == ETIMEDOUT)
      return WSEVENT_TIMEOUT;
    if (err == EINTR && interruptible)
      return WSEVENT_INTERRUPTED;
    /* EAGAIN, a spurious wake-up or an ignored EINTR: sleep again, with
     * the same absolute deadline.  A named word that moved (or a slice
     * that ended) is looked at first; satisfied here, the futex word goes
     * to DONE with no wake-up. */
    if (w->n_named > 0) {
      wse_lock();
      if (!w->satisfied)
        wse_try_satisfy(w, false);
      wse_unlock();
      if (atomic_load(&w->futex) == WSE_W_DONE)
        return WSEVENT_OK;
      if (deadline <= wsevent_now())
        return WSEVENT_TIMEOUT;
    }
  }
}

/*
 * The locked path, shared by wsevent_wait_multiple and wsevent_sleep
 * (count 0).  th is the caller's thread record when the wait is alertable;
 * poller the caller's thread record when the events have sources to poll
 * (it has a wake eventfd), else NULL.
 */
static int wait_locked(const wsevent_t *handles, size_t count, unsigned flags,
                       wsevent_time_t deadline, size_t *index,
                       struct wse_thread *th, struct wse_thread *poller) {
  struct wse_entry stack_entries[STACK_ENTRIES];
  struct wse_entry *entries = stack_entries;
  struct wse_pollset sets[2];
  int cur = 0;
  struct wse_waiter w;
  int r;

  if (count > STACK_ENTRIES) {
    entries = malloc(count * sizeof *entries);
    if (entries == NULL)
      return WSEVENT_ENOMEM;
  }
  r = wse_waiter_prepare(&w, entries, handles, count, flags, index);
  if (r != WSEVENT_OK)
    goto out;
  w.alertable = th;
  /* A wait that may poll descriptors cannot sleep on the named events'
   * words too: the monitor thread serves it. */
  w.monitored = poller != NULL;

  wse_lock();
  if (!wse_waiter_link(&w, handles, index)) {
    wse_unlock();
    r = *index == SIZE_MAX ? WSEVENT_EINVAL : WSEVENT_EINVAL_HANDLE;
    if (*index == SIZE_MAX)
      *index = 0;
    goto out;
  }
  /* Pin the named events' pages for sleeping on their words outside the
   * lock (they are open: linked). */
  for (size_t i = 0; w.n_named > 0 && i < count; i++)
    if (entries[i].named)
      entries[i].ref = wse_slot_ref(&entries[i].event->slot,
                                    (uint32_t)(handles[i] >> 32));
  if (th != NULL) {
    th->waiter = &w;
    if (th->apc_head != NULL)
      wse_satisfy(&w, WSEVENT_IO_COMPLETION, 0, false);
  }
  bool past = deadline <= wsevent_now();
  bool polling = false;
  if (!w.satisfied && !wse_try_satisfy(&w, false) && poller != NULL) {
    /* A wait that only looks once does not make providers stand down. */
    wse_pollset_init(&sets[0], poller, !past);
    polling = wse_pollset_build(&sets[0], &w);
    if (polling)
      w.wake_fd = poller->wake_fd;
    else
      wse_pollset_free(&sets[0]);
  }
  if (!w.satisfied && !polling && past) {
    unregister(&w);
    w.satisfied = true;
  }
  /* Decide under the lock: once it is released, a setter may satisfy w
   * at any moment, and only the futex word tells us about it. */
  bool must_sleep = !w.satisfied;
  wse_unlock();

  if (polling)
    wse_pollset_notify(&sets[0]);
  if (must_sleep) {
    bool interruptible = flags & WSEVENT_INTERRUPTIBLE;
    r = polling ? wse_sleep_polling(&w, sets, &cur, deadline, interruptible)
                : sleep_direct(&w, deadline, interruptible);
    if (r == WSE_POLL_FAILED) {
      /* Leave the sources to their providers, and sleep on the futex. */
      wse_lock();
      wse_pollset_drop(&sets[cur]);
      wse_unlock();
      wse_pollset_notify(&sets[cur]);
      wse_pollset_free(&sets[cur]);
      polling = false;
      r = sleep_direct(&w, deadline, interruptible);
    }
    if (r != WSEVENT_OK || polling) {
      wse_lock();
      if (!w.satisfied) {
        unregister(&w);
        w.satisfied = true;
        w.result = r;
      }
      if (polling)
        wse_pollset_drop(&sets[cur]);
      wse_unlock();
    }
  }
  if (polling) {
    wse_pollset_notify(&sets[cur]);
    wse_pollset_free(&sets[cur]);
  }
  r = w.result;
  *index = w.index;
  for (size_t i = 0; w.n_named > 0 && i < count; i++)
    if (entries[i].ref)
      wse_slot_unref(&wse_events, &entries[i].event->slot);
out:
  if (entries != stack_entries)
    free(entries);
  return r;
}

/* For an alertable wait: the caller's thread record, and the routines
 * already queued, which Windows delivers before it looks at any object.
 * Returns WSEVENT_OK to go on waiting, else the wait's result. */
static int alertable_start(unsigned flags, struct wse_thread **th) {
  if (!(flags & WSEVENT_ALERTABLE))
    return WSEVENT_OK;
  int r = wse_thread_current(th);
  if (r != WSEVENT_OK)
    return r;
  if (atomic_load(&(*th)->apc_count) != 0 && wse_run_completions(*th) != 0)
    return WSEVENT_IO_COMPLETION;
  return WSEVENT_OK;
}

int wsevent_wait_multiple(const wsevent_t *handles, size_t count,
                          unsigned flags, uint32_t timeout, size_t *index) {
  /* A zero timeout polls without reading the clock. */
  return wsevent_wait_multiple_until(handles, count, flags,
                                     timeout == 0 ? 0 : deadline_after_ms(timeout),
                                     index);
}

int wsevent_wait_multiple_until(const wsevent_t *handles, size_t count,
                                unsigned flags, wsevent_time_t deadline,
                                size_t *index) {
  struct wse_thread *th = NULL;
  size_t dummy;
  int r;

  if (index == NULL)
    index = &dummy;
  *index = 0;
  if (handles == NULL || count == 0 || count > WSEVENT_MAX_WAIT ||
      (flags & ~(WSEVENT_WAIT_ALL | WSEVENT_ALERTABLE | WSEVENT_INTERRUPTIBLE)))
    return WSEVENT_EINVAL;
  if (flags & WSEVENT_WAIT_ALL) {
    r = wse_check_duplicates(handles, count);
    if (r != WSEVENT_OK)
      return r;
  }
  r = alertable_start(flags, &th);
  if (r != WSEVENT_OK)
    return r;

  bool sources;
  r = try_fast(handles, count, flags & WSEVENT_WAIT_ALL, index, &sources);
  if (r == WSEVENT_OK || r == WSEVENT_EINVAL_HANDLE)
    return r;
  /* A poll of events with sources looks at their descriptors once. */
  if (r == NOTHING && !sources && (deadline == 0 || deadline <= wsevent_now()))
    return WSEVENT_TIMEOUT;

  struct wse_thread *poller = NULL;
  if (!sources && th != NULL) {
    wse_lock();
    sources = wse_thread_alert_sources(th) != NULL;
    wse_unlock();
  }
  if (sources) {
    struct wse_thread *self = th;
    /* Without a wake descriptor, the wait sleeps on its futex and the
     * providers serve their sources. */
    if ((self != NULL || wse_thread_current(&self) == WSEVENT_OK) &&
        wse_thread_wake_fd(self) >= 0)
      poller = self;
  }
  r = wait_locked(handles, count, flags, deadline, index, th, poller);
  if (r == WSEVENT_IO_COMPLETION)
    wse_run_completions(th);
  return r;
}

int wsevent_wait(wsevent_t event, uint32_t timeout) {
  return wsevent_wait_multiple(&event, 1, 0, timeout, NULL);
}

int wsevent_sleep(uint32_t timeout, unsigned flags) {
  return wsevent_sleep_until(timeout == 0 ? 0 : deadline_after_ms(timeout),
                             flags);
}

int wsevent_sleep_until(wsevent_time_t deadline, unsigned flags) {
  struct wse_thread *th = NULL;
  size_t index;
  int r;

  if (flags & ~(WSEVENT_ALERTABLE | WSEVENT_INTERRUPTIBLE))
    return WSEVENT_EINVAL;
  r = alertable_start(flags, &th);
  if (r != WSEVENT_OK)
    return r;
  struct wse_thread *poller = NULL;
  if (th != NULL) {
    /* An alertable sleep polls what its routines wait for (once, if the
     * deadline has passed). */
    wse_lock();
    bool sources = wse_thread_alert_sources(th) != NULL;
    wse_unlock();
    if (sources && wse_thread_wake_fd(th) >= 0)
      poller = th;
  }
  if (poller == NULL && (deadline == 0 || deadline <= wsevent_now()))
    return WSEVENT_OK;
  r = wait_locked(NULL, 0, flags, deadline, &index, th, poller);
  if (r == WSEVENT_IO_COMPLETION)
    wse_run_completions(th);
  return r == WSEVENT_TIMEOUT ? WSEVENT_OK : r;
}

uint32_t wsevent_win32_result(int code, size_t index) {
  switch (code) {
  case WSEVENT_OK:
    return WSEVENT_WAIT_OBJECT_0 + (uint32_t)index;
  case WSEVENT_TIMEOUT:
    return WSEVENT_WAIT_TIMEOUT;
  case WSEVENT_IO_COMPLETION:
    return WSEVENT_WAIT_IO_COMPLETION;
  default:
    return WSEVENT_WAIT_FAILED;
  }
}
