/*
 * port.c: completion ports and asynchronous waits.
 *
 * An asynchronous wait is an ordinary waiter (wait.c) that lives in a slot
 * of its own instead of on a sleeping thread's stack.  It is linked into
 * its events' lists like any waiter, so it is satisfied, and its auto-reset
 * events consumed, exactly when a blocking wait would be: by the set that
 * releases it, under the dispatcher lock, oldest waiter first.  Instead of
 * waking a thread, wse_satisfy() queues it to its port, whose eventfd is
 * readable while the queue is not empty; the port's owner (an event loop)
 * takes the packets.
 *
 * Everything here runs under the dispatcher lock, except freeing: a
 * wait's entries are freed, and its slot released, after the lock is
 * dropped.  A port's slot keeps its memory (type-stable), so a wait may
 * point at its port until either is released under the lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

static uint32_t gen_of_id(uint64_t id) { return (uint32_t)(id >> 32); }

/* The open object a handle names in t, else NULL (no reference). */
static struct wse_slot *open_slot(struct wse_table *t, uint64_t id) {
  struct wse_slot *s = wse_slot_of(t, id);
  if (s == NULL)
    return NULL;
  uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
  if (wse_gen_of(st) != gen_of_id(id) || (st & WSE_CLOSED))
    return NULL;
  return s;
}

static void list_remove(struct wse_async **head, struct wse_async *a) {
  if (a->prev)
    a->prev->next = a->next;
  else
    *head = a->next;
  if (a->next)
    a->next->prev = a->prev;
  a->prev = a->next = NULL;
}

static void list_push(struct wse_async **head, struct wse_async *a) {
  a->prev = NULL;
  a->next = *head;
  if (*head)
    (*head)->prev = a;
  *head = a;
}

/* Close a's id and release it (outside the lock). */
static void release_async(struct wse_async *a) {
  free(a->w.entries);
  wse_slot_unref(&wse_asyncs, &a->slot);
}

int wsevent_port_create(wsevent_port_t *out) {
  struct wse_slot *slot;
  uint32_t index, gen;

  if (out == NULL)
    return WSEVENT_EINVAL;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return (errno == EMFILE || errno == ENFILE) ? WSEVENT_ENFILE
           : errno == ENOMEM                    ? WSEVENT_ENOMEM
                                                : WSEVENT_ESYS;
  int r = wse_slot_alloc(&wse_ports, &slot, &index, &gen);
  if (r != WSEVENT_OK) {
    close(fd);
    return r;
  }
  struct wse_port *p = (struct wse_port *)slot;
  p->fd = fd;
  p->pending = p->queue = p->tail = NULL;
  atomic_store_explicit(&slot->state, (uint64_t)gen << 32,
                        memory_order_release);
  *out = wse_make_handle(WSE_KIND_PORT, index, gen);
  return WSEVENT_OK;
}

int wsevent_port_fd(wsevent_port_t port, int *fd) {
  if (fd == NULL)
    return WSEVENT_EINVAL;
  struct wse_port *p = (struct wse_port *)open_slot(&wse_ports, port);
  if (p == NULL)
    return WSEVENT_EINVAL_HANDLE;
  *fd = p->fd; /* constant while the port is open */
  return WSEVENT_OK;
}

int wsevent_port_close(wsevent_port_t port) {
  struct wse_port *p = (struct wse_port *)open_slot(&wse_ports, port);
  if (p == NULL)
    return WSEVENT_EINVAL_HANDLE;
  struct wse_async *gone = NULL;
  wse_lock();
  if (open_slot(&wse_ports, port) != &p->slot) {
    wse_unlock();
    return WSEVENT_EINVAL_HANDLE; /* another close won */
  }
  atomic_fetch_or(&p->slot.state, WSE_CLOSED);
  while (p->pending != NULL) {
    struct wse_async *a = p->pending;
    list_remove(&p->pending, a);
    wse_unregister(&a->w);
    atomic_fetch_or(&a->slot.state, WSE_CLOSED);
    list_push(&gone, a);
  }
  while (p->queue != NULL) {
    struct wse_async *a = p->queue;
    list_remove(&p->queue, a);
    atomic_fetch_or(&a->slot.state, WSE_CLOSED);
    list_push(&gone, a);
  }
  p->tail = NULL;
  close(p->fd); /* under the lock: posts write it under the lock too */
  p->fd = -1;
  wse_unlock();
  while (gone != NULL) {
    struct wse_async *next = gone->next;
    release_async(gone);
    gone = next;
  }
  wse_slot_unref(&wse_ports, &p->slot);
  return WSEVENT_OK;
}

void wse_port_post(struct wse_async *a) {
  struct wse_port *p = a->port;
  list_remove(&p->pending, a);
  a->queued = true;
  a->prev = p->tail;
  a->next = NULL;
  if (p->tail)
    p->tail->next = a;
  else
    p->queue = a;
  p->tail = a;
  if (p->queue == a) {
    /* The queue was empty: make the descriptor readable.  write() is
     * async-signal-safe, as wsevent_set_from_signal's dispatch needs. */
    uint64_t one = 1;
    ssize_t n = write(p->fd, &one, sizeof one);
    (void)n;
  }
}

int wsevent_wait_async(wsevent_port_t port, const wsevent_t *events,
                       size_t count, unsigned flags, uint64_t key,
                       wsevent_async_t *out) {
  struct wse_slot *slot;
  uint32_t index, gen;
  size_t bad;

  if (out == NULL || events == NULL || count == 0 ||
      count > WSEVENT_MAX_WAIT || (flags & ~WSEVENT_WAIT_ALL))
    return WSEVENT_EINVAL;
  if (open_slot(&wse_ports, port) == NULL)
    return WSEVENT_EINVAL_HANDLE;
  if (flags & WSEVENT_WAIT_ALL) {
    int r = wse_check_duplicates(events, count);
    if (r != WSEVENT_OK)
      return r;
  }
  struct wse_entry *entries = malloc(count * sizeof *entries);
  if (entries == NULL)
    return WSEVENT_ENOMEM;
  int r = wse_slot_alloc(&wse_asyncs, &slot, &index, &gen);
  if (r != WSEVENT_OK) {
    free(entries);
    return r;
  }
  struct wse_async *a = (struct wse_async *)slot;
  a->key = key;
  a->queued = false;
  a->prev = a->next = NULL;
  r = wse_waiter_prepare(&a->w, entries, events, count, flags, &bad);
  a->w.async = a;
  a->w.monitored = true; /* named events: the monitor thread serves it */

  wse_lock();
  struct wse_port *p = (struct wse_port *)open_slot(&wse_ports, port);
  if (r == WSEVENT_OK && p == NULL)
    r = WSEVENT_EINVAL_HANDLE; /* the port closed meanwhile */
  if (r == WSEVENT_OK && !wse_waiter_link(&a->w, events, &bad))
    r = bad == SIZE_MAX ? WSEVENT_EINVAL : WSEVENT_EINVAL_HANDLE;
  if (r == WSEVENT_OK) {
    a->port = p;
    list_push(&p->pending, a);
    atomic_store_explicit(&slot->state, (uint64_t)gen << 32,
                          memory_order_release);
    /* Already satisfiable: queued at once, consumed now. */
    wse_try_satisfy(&a->w, true);
  }
  wse_unlock();
  if (r != WSEVENT_OK) {
    atomic_store(&slot->state, ((uint64_t)gen << 32) | WSE_CLOSED);
    release_async(a);
    return r;
  }
  *out = wse_make_handle(WSE_KIND_ASYNC, index, gen);
  return WSEVENT_OK;
}

static void packet_of(const struct wse_async *a, struct wsevent_packet *pk) {
  pk->key = a->key;
  pk->result = a->w.result;
  pk->index = a->w.index;
}

int wsevent_port_take(wsevent_port_t port, struct wsevent_packet *packets,
                      size_t max, size_t *taken) {
  if (taken == NULL || (packets == NULL && max > 0))
    return WSEVENT_EINVAL;
  *taken = 0;
  struct wse_port *p = (struct wse_port *)open_slot(&wse_ports, port);
  if (p == NULL)
    return WSEVENT_EINVAL_HANDLE;
  struct wse_async *done = NULL;
  size_t n = 0;
  int r = WSEVENT_OK;
  wse_lock();
  if (open_slot(&wse_ports, port) != &p->slot) {
    r = WSEVENT_EINVAL_HANDLE;
  } else {
    while (n < max && p->queue != NULL) {
      struct wse_async *a = p->queue;
      p->queue = a->next;
      if (p->queue)
        p->queue->prev = NULL;
      else
        p->tail = NULL;
      packet_of(a, &packets[n++]);
      atomic_fetch_or(&a->slot.state, WSE_CLOSED);
      list_push(&done, a);
    }
    if (p->queue == NULL) {
      uint64_t count;
      ssize_t got = read(p->fd, &count, sizeof count); /* no longer ready */
      (void)got;
    }
  }
  wse_unlock();
  while (done != NULL) {
    struct wse_async *next = done->next;
    release_async(done);
    done = next;
  }
  *taken = n;
  return r;
}

int wsevent_wait_async_cancel(wsevent_async_t wait, int *satisfied,
                              struct wsevent_packet *packet) {
  if (satisfied == NULL)
    return WSEVENT_EINVAL;
  *satisfied = 0;
  struct wse_async *a = (struct wse_async *)open_slot(&wse_asyncs, wait);
  if (a == NULL)
    return WSEVENT_EINVAL_HANDLE;
  int r = WSEVENT_OK;
  wse_lock();
  if (open_slot(&wse_asyncs, wait) != &a->slot) {
    r = WSEVENT_EINVAL_HANDLE; /* taken, cancelled or closed meanwhile */
  } else {
    struct wse_port *p = a->port;
    if (a->queued) {
      /* Satisfied: hand its outcome to the canceller, who may have to
       * give a consumed signal back. */
      if (a->prev)
        a->prev->next = a->next;
      else
        p->queue = a->next;
      if (a->next)
        a->next->prev = a->prev;
      else
        p->tail = a->prev;
      if (p->queue == NULL) {
        uint64_t count;
        ssize_t got = read(p->fd, &count, sizeof count);
        (void)got;
      }
      *satisfied = 1;
      if (packet != NULL)
        packet_of(a, packet);
    } else {
      list_remove(&p->pending, a);
      wse_unregister(&a->w);
    }
    atomic_fetch_or(&a->slot.state, WSE_CLOSED);
  }
  wse_unlock();
  if (r == WSEVENT_OK)
    release_async(a);
  return r;
}

void wse_port_after_fork(struct wse_slot *s) {
  /* The descriptor is shared with the parent: a write here would wake
   * the parent's loop.  The child's ports are closed; its loops make new
   * ones.  Their waits were forgotten with every waiter list. */
  struct wse_port *p = (struct wse_port *)s;
  uint64_t st = atomic_load(&s->state);
  if (wse_gen_of(st) == 0 || (st & WSE_CLOSED))
    return;
  atomic_fetch_or(&s->state, WSE_CLOSED);
  close(p->fd);
  p->fd = -1;
  p->pending = p->queue = p->tail = NULL;
}

void wse_async_after_fork(struct wse_slot *s) {
  if (wse_gen_of(atomic_load(&s->state)) != 0)
    atomic_fetch_or(&s->state, WSE_CLOSED);
}
