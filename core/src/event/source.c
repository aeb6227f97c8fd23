/*
 * source.c: wait sources, a provider's descriptors polled by waiters.
 *
 * A source is a slot of its own table, so the provider holds a
 * generation-checked id, never a pointer.  While attached it is linked
 * into its event's list, under the dispatcher lock.  Its slot's reference
 * count holds the attachment (1 until detached) plus every waiter that
 * polls it; when the last reference goes, the source's detached() runs,
 * outside the lock, and the slot is free again.
 *
 * The waiting side lives in wait.c: a waiter that finds sources on its
 * events takes a reference on each, counts itself in `pollers`, and
 * sleeps in poll(2) on their descriptors and its thread's wake eventfd.
 * Whoever changes what a polling waiter must poll (attach, update,
 * detach, close) pokes that eventfd, and the waiter builds its set again.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

static uint32_t gen_of_id(wsevent_source_t id) { return (uint32_t)(id >> 32); }

/* The source id names if it is attached, else NULL (no reference). */
static struct wse_source *source_of(wsevent_source_t id) {
  struct wse_source *src = (struct wse_source *)wse_slot_of(&wse_sources, id);
  if (src == NULL)
    return NULL;
  uint64_t s = atomic_load_explicit(&src->slot.state, memory_order_acquire);
  if (wse_gen_of(s) != gen_of_id(id) || (s & WSE_CLOSED))
    return NULL;
  return src;
}

void wse_poke(int wake_fd) {
  uint64_t one = 1;
  /* An eventfd write of 1 fails only at a count near 2^64, which the
   * waiter's drains never let it reach. */
  ssize_t n = write(wake_fd, &one, sizeof one);
  (void)n;
}

/* Under the lock: make the waiters polling ev build their sets again. */
static void poke_pollers(struct wse_event *ev) {
  atomic_fetch_add(&wse_sources_gen, 1);
  for (struct wse_entry *e = ev->head; e != NULL; e = e->next)
    if (atomic_load(&e->waiter->futex) == WSE_W_POLLING)
      wse_poke(e->waiter->wake_fd);
}

static int attach(wsevent_t event, const struct wsevent_source_ops *ops,
                  void *context, int fd, short events, bool stand_in,
                  wsevent_source_t *out) {
  struct wse_slot *slot;
  uint32_t index, gen;

  if (out == NULL || ops == NULL || ops->ready == NULL ||
      ops->detached == NULL || fd < 0)
    return WSEVENT_EINVAL;
  struct wse_event *ev = wse_event_of(event);
  if (ev == NULL)
    return WSEVENT_EINVAL_HANDLE;
  int r = wse_slot_alloc(&wse_sources, &slot, &index, &gen);
  if (r != WSEVENT_OK)
    return r;
  struct wse_source *src = (struct wse_source *)slot;
  src->ops = ops;
  src->context = context;
  src->fd = fd;
  src->events = events;
  src->next = NULL;
  src->stand_in = stand_in;
  src->mark = 0;
  atomic_store(&src->pollers, 0);

  wse_lock();
  /* Checks that the event lives and marks it in one step: a close either
   * came first (we fail) or will see HAS_SRC and take the lock. */
  if (!wse_event_add_flags(event, ev, WSE_HAS_SRC)) {
    wse_unlock();
    atomic_store(&slot->state, ((uint64_t)gen << 32) | WSE_CLOSED);
    wse_slot_unref(&wse_sources, slot);
    return WSEVENT_EINVAL_HANDLE;
  }
  /* The id before the source can be seen: a waiter that polls it from
   * now on may call the provider (watchers_changed, ready), which reads
   * the id from where *out points; the lock orders this store before. */
  *out = wse_make_handle(WSE_KIND_SOURCE, index, gen);
  src->event = ev;
  struct wse_source **list = stand_in ? &ev->stand_ins : &ev->sources;
  src->next = *list;
  *list = src;
  atomic_fetch_add_explicit(stand_in ? &ev->n_stand_ins : &ev->n_sources, 1,
                            memory_order_relaxed);
  atomic_store_explicit(&slot->state, (uint64_t)gen << 32,
                        memory_order_release);
  poke_pollers(ev);
  wse_unlock();
  return WSEVENT_OK;
}

int wse_source_attach(wsevent_t event, const struct wsevent_source_ops *ops,
                      void *context, int fd, short events,
                      wsevent_source_t *out) {
  return attach(event, ops, context, fd, events, false, out);
}

int wse_source_attach_stand_in(wsevent_t event,
                               const struct wsevent_source_ops *ops,
                               void *context, int fd, short events,
                               wsevent_source_t *out) {
  return attach(event, ops, context, fd, events, true, out);
}

int wse_source_update(wsevent_source_t id, short events) {
  struct wse_source *src = source_of(id);
  int r = WSEVENT_EINVAL_HANDLE;
  if (src == NULL)
    return r;
  wse_lock();
  if (source_of(id) == src && src->event != NULL) {
    if (src->events != events) {
      src->events = events;
      poke_pollers(src->event);
    }
    r = WSEVENT_OK;
  }
  wse_unlock();
  return r;
}

/* Under the lock: take src out of its event's list and close its id. */
static void unlink_source(struct wse_source *src) {
  struct wse_event *ev = src->event;
  struct wse_source **p = src->stand_in ? &ev->stand_ins : &ev->sources;
  while (*p != src)
    p = &(*p)->next;
  *p = src->next;
  src->next = NULL;
  src->event = NULL;
  atomic_fetch_sub_explicit(src->stand_in ? &ev->n_stand_ins : &ev->n_sources,
                            1, memory_order_relaxed);
  atomic_fetch_or(&src->slot.state, WSE_CLOSED);
  if (ev->sources == NULL && ev->stand_ins == NULL)
    atomic_fetch_and(&ev->slot.state, ~(uint64_t)WSE_HAS_SRC);
  poke_pollers(ev);
}

int wse_source_detach(wsevent_source_t id) {
  struct wse_source *src = source_of(id);
  if (src == NULL)
    return WSEVENT_EINVAL_HANDLE;
  wse_lock();
  /* Exactly one detacher (or the event's close) unlinks it. */
  bool mine = source_of(id) == src && src->event != NULL;
  if (mine)
    unlink_source(src);
  wse_unlock();
  if (!mine)
    return WSEVENT_EINVAL_HANDLE;
  wse_source_unref(src); /* the attachment's reference */
  return WSEVENT_OK;
}

int wse_source_watchers(wsevent_source_t id) {
  struct wse_source *src = source_of(id);
  return src == NULL ? 0 : (int)atomic_load(&src->pollers);
}

void wse_source_unref(struct wse_source *src) {
  /* Read before the unref: the last one hands the slot back. */
  const struct wsevent_source_ops *ops = src->ops;
  void *context = src->context;
  if (wse_slot_unref(&wse_sources, &src->slot))
    ops->detached(context);
}

void wse_sources_waiting(wsevent_t h, struct wse_event *ev) {
  for (;;) {
    size_t cap = atomic_load_explicit(&ev->n_sources, memory_order_relaxed) +
                 atomic_load_explicit(&ev->n_stand_ins, memory_order_relaxed);
    if (cap == 0)
      return;
    struct wse_source **srcs = malloc(cap * sizeof *srcs);
    if (srcs == NULL)
      return; /* the providers learn of the descriptor at the next look */
    size_t n = 0;
    bool fits = true;
    wse_lock();
    uint64_t state = atomic_load(&ev->slot.state);
    if (wse_gen_of(state) == (uint32_t)(h >> 32) && !(state & WSE_CLOSED)) {
      struct wse_source *lists[2] = {ev->sources, ev->stand_ins};
      for (int l = 0; l < 2 && fits; l++)
        for (struct wse_source *src = lists[l]; src != NULL; src = src->next) {
          if (src->ops->waiting == NULL)
            continue;
          if (n == cap) {
            fits = false; /* attached since we counted: count again */
            break;
          }
          atomic_fetch_add(&src->slot.refgen, 1); /* (attached: one held) */
          srcs[n++] = src;
        }
    }
    wse_unlock();
    if (fits)
      for (size_t i = 0; i < n; i++)
        srcs[i]->ops->waiting(srcs[i]->context);
    for (size_t i = 0; i < n; i++)
      wse_source_unref(srcs[i]);
    free(srcs);
    if (fits)
      return;
  }
}

void wse_sources_detach_all(struct wse_event *ev, struct wse_source **gone) {
  *gone = NULL;
  while (ev->sources != NULL || ev->stand_ins != NULL) {
    struct wse_source *src = ev->sources != NULL ? ev->sources : ev->stand_ins;
    unlink_source(src);
    src->next = *gone; /* no longer in any event's list */
    *gone = src;
  }
}

void wse_sources_release(struct wse_source *gone) {
  while (gone != NULL) {
    struct wse_source *next = gone->next;
    wse_source_unref(gone);
    gone = next;
  }
}

void wse_source_after_fork(struct wse_slot *s) {
  /* The provider's threads and the waiters are gone: forget the source
   * without calling anything.  Its slot is never reused in the child. */
  struct wse_source *src = (struct wse_source *)s;
  if (wse_gen_of(atomic_load(&s->state)) == 0)
    return; /* never used */
  atomic_fetch_or(&s->state, WSE_CLOSED);
  src->event = NULL;
  src->next = NULL;
  atomic_store(&src->pollers, 0);
}
