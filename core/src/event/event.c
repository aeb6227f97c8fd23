/*
 * event.c: create, close, set, reset, is_set and the file descriptor.
 *
 * The fast paths are compare-and-swap loops on the state word.  The word
 * holds the generation, so a handle whose event was closed (and perhaps
 * reused) fails the compare and is answered WSEVENT_EINVAL_HANDLE.  When the
 * event is WATCHED (waiters registered) or HAS_FD, the change must also wake
 * waiters or update the descriptor, and goes through the dispatcher lock.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define FLAG_MASK ((uint64_t)0xFFFFFFFFu)

static uint32_t gen_of_handle(wsevent_t h) { return (uint32_t)(h >> 32); }

/* The state word of the event h names, if h is current; else false. */
static bool load_state(wsevent_t h, struct wse_event **ev, uint64_t *state) {
  *ev = wse_event_of(h);
  if (*ev == NULL)
    return false;
  *state = atomic_load_explicit(&(*ev)->slot.state, memory_order_acquire);
  return wse_gen_of(*state) == gen_of_handle(h) && !(*state & WSE_CLOSED);
}

int wsevent_create(wsevent_t *out, unsigned flags) {
  struct wse_slot *s;
  uint32_t index, gen;
  int r;

  if (out == NULL || (flags & ~(WSEVENT_AUTO_RESET | WSEVENT_INITIAL_SET)))
    return WSEVENT_EINVAL;
  r = wse_slot_alloc(&wse_events, &s, &index, &gen);
  if (r != WSEVENT_OK)
    return r;

  /* Nothing else to initialise, and nothing may be written here without
   * the lock: the waiter list is empty (a close unlinks every waiter before
   * the slot is freed; new chunks are zeroed), and the fd fields mean
   * something only while WSE_HAS_FD is set, by wsevent_fd under the lock.
   * A locked operation that validated the slot's previous event may still
   * be reading them. */
  uint64_t state = (uint64_t)gen << 32;
  if (!(flags & WSEVENT_AUTO_RESET))
    state |= WSE_MANUAL;
  if (flags & WSEVENT_INITIAL_SET)
    state |= WSE_SIGNALED;
  /* Publishing the state word with the new generation makes the event
   * usable; until then every handle to this slot fails. */
  atomic_store_explicit(&s->state, state, memory_order_release);
  *out = wse_make_handle(WSE_KIND_EVENT, index, gen);
  return WSEVENT_OK;
}

int wsevent_create_named(wsevent_t *out, const char *name, unsigned flags,
                         int *existed) {
  struct wse_slot *s;
  struct wse_named *n;
  uint32_t index, gen;
  bool was, manual;

  if (out == NULL || name == NULL ||
      (flags & ~(WSEVENT_AUTO_RESET | WSEVENT_INITIAL_SET |
                 WSEVENT_OPEN_EXISTING)))
    return WSEVENT_EINVAL;
  int r = wse_slot_alloc(&wse_events, &s, &index, &gen);
  if (r != WSEVENT_OK)
    return r;
  r = wse_named_open(name, flags, &was, &manual, &n);
  if (r != WSEVENT_OK) {
    /* Never published: its state keeps the previous generation. */
    int e = errno;
    wse_slot_unref(&wse_events, s);
    errno = e;
    return r;
  }
  struct wse_event *ev = (struct wse_event *)s;
  ev->named = n;
  wse_named_bind(n, ev);
  atomic_store_explicit(&s->state,
                        ((uint64_t)gen << 32) | WSE_NAMED |
                            (manual ? WSE_MANUAL : 0),
                        memory_order_release);
  *out = wse_make_handle(WSE_KIND_EVENT, index, gen);
  if (existed != NULL)
    *existed = was;
  return WSEVENT_OK;
}

int wsevent_get_name(wsevent_t h, char *buf, size_t size, size_t *length) {
  struct wse_event *ev;
  uint64_t s;
  size_t len = 0;
  const char *name = "";

  if (buf == NULL || size == 0)
    return WSEVENT_EINVAL;
  if (!load_state(h, &ev, &s))
    return WSEVENT_EINVAL_HANDLE;
  bool ref = (s & WSE_NAMED) && wse_slot_ref(&ev->slot, gen_of_handle(h));
  if ((s & WSE_NAMED) && !ref)
    return WSEVENT_EINVAL_HANDLE;
  if (ref)
    name = wse_named_name(ev->named, &len);
  int r = WSEVENT_OK;
  if (len + 1 > size) {
    r = WSEVENT_EINVAL;
  } else {
    memcpy(buf, name, len + 1);
    if (length != NULL)
      *length = len;
  }
  if (ref)
    wse_slot_unref(&wse_events, &ev->slot);
  return r;
}

/* Pin a named event's page: false if h no longer names an open event. */
static bool named_ref(wsevent_t h, struct wse_event *ev) {
  if (!wse_slot_ref(&ev->slot, gen_of_handle(h)))
    return false;
  if (atomic_load(&ev->slot.state) & WSE_CLOSED) {
    wse_slot_unref(&wse_events, &ev->slot);
    return false;
  }
  return true;
}

/* set, reset and set_from_signal on a named event. */
static int named_change(wsevent_t h, struct wse_event *ev, int how) {
  if (!named_ref(h, ev))
    return WSEVENT_EINVAL_HANDLE;
  if (how == 0)
    wse_named_reset(ev->named);
  else
    wse_named_set(ev->named);
  /* Local waiters and the descriptor now, not when the monitor looks:
   * what a set released or a reset cleared shows as the call returns
   * (not from a signal handler: the monitor does it then). */
  if (how != 2 && (atomic_load(&ev->slot.state) & WSE_LOCKED_PATH)) {
    wse_lock();
    if (!(atomic_load(&ev->slot.state) & WSE_CLOSED))
      wse_dispatch(ev);
    wse_unlock();
  }
  wse_slot_unref(&wse_events, &ev->slot);
  return WSEVENT_OK;
}

void wse_event_release(struct wse_slot *s) {
  struct wse_event *ev = (struct wse_event *)s;
  if (ev->named != NULL) {
    struct wse_named *n = ev->named;
    ev->named = NULL;
    wse_named_release(n);
  }
}

int wsevent_close(wsevent_t h) {
  struct wse_event *ev;
  uint64_t old;

  if (!load_state(h, &ev, &old))
    return WSEVENT_EINVAL_HANDLE;
  /* Exactly one closer wins this compare-and-swap. */
  do {
    if (wse_gen_of(old) != gen_of_handle(h) || (old & WSE_CLOSED))
      return WSEVENT_EINVAL_HANDLE;
  } while (!atomic_compare_exchange_weak(&ev->slot.state, &old,
                                         old | WSE_CLOSED));

  struct wse_source *gone = NULL;
  int name_fd = -1;
  if (old & (WSE_LOCKED_PATH | WSE_DISPATCH | WSE_HAS_SRC | WSE_NAMED)) {
    /* A waiter registering concurrently either set WATCHED before our
     * compare-and-swap (so we see it and come here), or will find CLOSED
     * when it looks at the event under the lock; a source being attached
     * likewise. */
    wse_lock();
    while (ev->head != NULL) {
      struct wse_entry *e = ev->head;
      size_t index = (size_t)(e - e->waiter->entries);
      wse_satisfy(e->waiter, WSEVENT_ECLOSED, index, true);
    }
    if (old & WSE_HAS_FD) {
      /* Closed under the lock: nobody can write to a reused number.  No
       * descriptor can be added once CLOSED is set, so `old` is exact. */
      close(ev->fd);
      ev->fd = -1;
      wse_named_monitor(ev, -1);
    }
    wse_sources_detach_all(ev, &gone);
    if (old & WSE_NAMED)
      name_fd = wse_named_detach(ev->named);
    wse_unlock();
  }
  /* The handle lets go of the name now (the last one frees it, as
   * CloseHandle does), even if a waiter still holds the page. */
  if (name_fd >= 0)
    wse_named_drop(ev->named, name_fd);
  /* The sources' detached() run outside the lock, once unused. */
  wse_sources_release(gone);
  wse_slot_unref(&wse_events, &ev->slot);
  return WSEVENT_OK;
}

bool wse_event_add_flags(wsevent_t h, struct wse_event *ev, uint64_t extra) {
  uint64_t s = atomic_load(&ev->slot.state);
  do {
    if (wse_gen_of(s) != gen_of_handle(h) || (s & WSE_CLOSED))
      return false;
  } while (!atomic_compare_exchange_weak(&ev->slot.state, &s, s | extra));
  return true;
}

/* Set SIGNALED under the lock and release whoever it releases. */
static int set_locked(wsevent_t h, struct wse_event *ev) {
  int r = WSEVENT_EINVAL_HANDLE;
  wse_lock();
  if (wse_event_add_flags(h, ev, WSE_SIGNALED)) {
    wse_dispatch(ev);
    r = WSEVENT_OK;
  }
  wse_unlock();
  return r;
}

int wsevent_set(wsevent_t h) {
  struct wse_event *ev;
  uint64_t s;

  if (!load_state(h, &ev, &s))
    return WSEVENT_EINVAL_HANDLE;
  if (s & WSE_NAMED)
    return named_change(h, ev, 1);
  for (;;) {
    if (wse_gen_of(s) != gen_of_handle(h) || (s & WSE_CLOSED))
      return WSEVENT_EINVAL_HANDLE;
    if (s & WSE_LOCKED_PATH)
      return set_locked(h, ev);
    if (s & WSE_SIGNALED)
      return WSEVENT_OK;
    if (atomic_compare_exchange_weak(&ev->slot.state, &s, s | WSE_SIGNALED))
      return WSEVENT_OK;
  }
}

int wsevent_set_from_signal(wsevent_t h) {
  struct wse_event *ev;
  uint64_t s;

  if (!load_state(h, &ev, &s))
    return WSEVENT_EINVAL_HANDLE;
  if (s & WSE_NAMED)
    return named_change(h, ev, 2);
  for (;;) {
    if (wse_gen_of(s) != gen_of_handle(h) || (s & WSE_CLOSED))
      return WSEVENT_EINVAL_HANDLE;
    uint64_t add = WSE_SIGNALED;
    if (s & WSE_LOCKED_PATH)
      add |= WSE_DISPATCH; /* reset must dispatch before it clears */
    if ((s & add) == add)
      break;
    if (atomic_compare_exchange_weak(&ev->slot.state, &s, s | add))
      break;
  }
  if (s & WSE_LOCKED_PATH)
    wse_dispatch_later(ev);
  return WSEVENT_OK;
}

int wsevent_reset(wsevent_t h) {
  struct wse_event *ev;
  uint64_t s;

  if (!load_state(h, &ev, &s))
    return WSEVENT_EINVAL_HANDLE;
  if (s & WSE_NAMED)
    return named_change(h, ev, 0);
  for (;;) {
    if (wse_gen_of(s) != gen_of_handle(h) || (s & WSE_CLOSED))
      return WSEVENT_EINVAL_HANDLE;
    if (s & (WSE_LOCKED_PATH | WSE_DISPATCH))
      break;
    if (!(s & WSE_SIGNALED))
      return WSEVENT_OK;
    if (atomic_compare_exchange_weak(&ev->slot.state, &s,
                                     s & ~(uint64_t)WSE_SIGNALED))
      return WSEVENT_OK;
  }

  /* Locked path.  Taking the lock drains signal-handler sets, so a set
   * that returned before this reset has released its waiters by now. */
  int r = WSEVENT_OK;
  wse_lock();
  s = atomic_load(&ev->slot.state);
  if (wse_gen_of(s) != gen_of_handle(h) || (s & WSE_CLOSED)) {
    r = WSEVENT_EINVAL_HANDLE;
  } else {
    atomic_fetch_and(&ev->slot.state, ~(uint64_t)WSE_SIGNALED);
    wse_sync_fd(ev);
  }
  wse_unlock();
  return r;
}

int wsevent_is_set(wsevent_t h) {
  struct wse_event *ev;
  uint64_t s;

  if (!load_state(h, &ev, &s))
    return WSEVENT_EINVAL_HANDLE;
  if (s & WSE_NAMED) {
    if (!named_ref(h, ev))
      return WSEVENT_EINVAL_HANDLE;
    uint32_t v = atomic_load(wse_named_word(ev->named));
    wse_slot_unref(&wse_events, &ev->slot);
    return (v & WSE_NW_SIGNALED) ? 1 : 0;
  }
  return (s & WSE_SIGNALED) ? 1 : 0;
}

int wsevent_get_flags(wsevent_t h, unsigned *flags) {
  struct wse_event *ev;
  uint64_t s;

  if (flags == NULL)
    return WSEVENT_EINVAL;
  if (!load_state(h, &ev, &s))
    return WSEVENT_EINVAL_HANDLE;
  *flags = ((s & WSE_MANUAL) ? 0 : WSEVENT_AUTO_RESET) |
           ((s & WSE_HAS_FD) ? WSEVENT_HAS_DESCRIPTOR : 0) |
           ((s & WSE_NAMED) ? WSEVENT_NAMED : 0) |
           (atomic_load_explicit(&ev->n_sources, memory_order_relaxed) >
                    WSEVENT_POLLED_SOURCES_MAX
                ? WSEVENT_SOURCES_NOT_POLLED
                : 0);
  return WSEVENT_OK;
}

void wse_sync_fd(struct wse_event *ev) {
  uint64_t state = atomic_load(&ev->slot.state);
  if (!(state & WSE_HAS_FD))
    return; /* ev->fd means nothing without it */
  bool signaled = state & WSE_SIGNALED;
  if (state & WSE_NAMED)
    signaled = atomic_load(wse_named_word(ev->named)) & WSE_NW_SIGNALED;
  if (signaled == ev->fd_readable)
    return;
  uint64_t value = 1;
  ssize_t n = signaled ? write(ev->fd, &value, sizeof value)
                       : read(ev->fd, &value, sizeof value);
  /* An eventfd write of 1 or a read of a non-zero counter cannot fail;
   * if it somehow did, keep what the descriptor really shows. */
  if (n == (ssize_t)sizeof value)
    ev->fd_readable = signaled;
}

void wse_consume(struct wse_event *ev) {
  atomic_fetch_and(&ev->slot.state, ~(uint64_t)WSE_SIGNALED);
  wse_sync_fd(ev);
}

int wsevent_fd(wsevent_t h, int *fd) {
  struct wse_event *ev;
  uint64_t s;
  int r = WSEVENT_OK;

  if (fd == NULL)
    return WSEVENT_EINVAL;
  if (!load_state(h, &ev, &s))
    return WSEVENT_EINVAL_HANDLE;
  wse_lock();
  s = atomic_load(&ev->slot.state);
  if (wse_gen_of(s) != gen_of_handle(h) || (s & WSE_CLOSED)) {
    r = WSEVENT_EINVAL_HANDLE;
  } else if (!(s & WSE_HAS_FD)) {
    int e = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (e < 0) {
      r = (errno == EMFILE || errno == ENFILE) ? WSEVENT_ENFILE
          : errno == ENOMEM                    ? WSEVENT_ENOMEM
                                               : WSEVENT_ESYS;
    } else if (!wse_event_add_flags(h, ev, WSE_HAS_FD)) {
      /* Closed meanwhile (a close with no waiters takes no lock). */
      close(e);
      r = WSEVENT_EINVAL_HANDLE;
    } else {
      /* From now on set and reset take the lock and keep the fd true. */
      ev->fd = e;
      ev->fd_readable = false;
      wse_sync_fd(ev);
      /* Another process's set must reach the descriptor too. */
      if (s & WSE_NAMED)
        wse_named_monitor(ev, +1);
    }
  }
  bool fresh = r == WSEVENT_OK && !(s & WSE_HAS_FD);
  if (r == WSEVENT_OK)
    *fd = ev->fd;
  wse_unlock();
  /* Whoever polls the descriptor waits on the event from now on, and no
   * provider would hear of it: say so, as a wait that begins would. */
  if (fresh && (s & WSE_HAS_SRC))
    wse_sources_waiting(h, ev);
  return r;
}

/* Fork child: the waiters' threads are gone, and the descriptor is shared
 * with the parent (writing it would wake the parent's pollers). */
void wse_event_after_fork(struct wse_slot *s) {
  struct wse_event *ev = (struct wse_event *)s;
  ev->head = ev->tail = NULL;
  ev->sources = ev->stand_ins = NULL; /* they forget themselves (source.c) */
  atomic_store(&ev->n_sources, 0);
  atomic_store(&ev->n_stand_ins, 0);
  ev->watchers = 0;
  ev->pending_next = NULL;
  atomic_store(&ev->queued, 0);
  /* Only HAS_FD vouches for the fd field. */
  if (atomic_load(&s->state) & WSE_HAS_FD) {
    close(ev->fd);
    ev->fd = -1;
    ev->fd_readable = false;
  }
  atomic_fetch_and(&s->state, ~(uint64_t)(WSE_WATCHED | WSE_HAS_FD |
                                          WSE_DISPATCH | WSE_HAS_SRC));
}
