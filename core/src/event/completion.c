/*
 * completion.c: thread ids and completion routines (Windows' user APCs).
 *
 * A thread gets a record, and a handle to it, the first time it asks for
 * its id or waits alertably.  Any thread may queue a routine to it; the
 * routine runs in that thread, inside its next alertable wait.  If the
 * thread is in an alertable wait when the routine is queued, the wait is
 * satisfied with WSEVENT_IO_COMPLETION and the routine runs before the wait
 * returns.  When the thread exits (or calls wsevent_thread_end) its record
 * is closed, its id becomes invalid and routines still queued are
 * discarded, as Windows discards the user APCs of a thread that ends; the
 * release function each was queued with, if any, is called instead.
 */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

static pthread_key_t exit_key;
static _Thread_local struct wse_thread *self;

/* Free discarded routines, calling their release functions. */
static void discard(struct wse_apc *apc, bool release) {
  while (apc != NULL) {
    struct wse_apc *next = apc->next;
    if (release && apc->release != NULL)
      apc->release(apc->context);
    free(apc);
    apc = next;
  }
}

static void on_thread_exit(void *arg) {
  struct wse_thread *th = arg;
  struct wse_apc *apc;

  wse_lock();
  atomic_fetch_or(&th->slot.state, WSE_CLOSED);
  if (th->wake_fd >= 0) {
    /* Under the lock: pokes are written under it too. */
    close(th->wake_fd);
    th->wake_fd = -1;
  }
  apc = th->apc_head;
  th->apc_head = th->apc_tail = NULL;
  atomic_store(&th->apc_count, 0);
  th->waiter = NULL;
  wse_unlock();
  self = NULL;
  wse_epset_close(&th->epset);
  /* Outside the lock: a release function may call back into wsevent. */
  discard(apc, true);
  /* Its sources detach (their providers hear it from detached()). */
  wsevent_t alert = atomic_exchange(&th->alert, 0);
  if (alert != 0)
    wsevent_close(alert);
  wse_slot_unref(&wse_threads, &th->slot);
}

int wsevent_thread_end(void) {
  struct wse_thread *th = self;
  if (th == NULL)
    return WSEVENT_OK;
  pthread_setspecific(exit_key, NULL); /* the exit must not end it again */
  on_thread_exit(th);
  return WSEVENT_OK;
}

void wse_completion_init(void) {
  pthread_key_create(&exit_key, on_thread_exit);
}

int wse_thread_current(struct wse_thread **out) {
  struct wse_slot *s;
  uint32_t index, gen;

  if (self != NULL) {
    *out = self;
    return WSEVENT_OK;
  }
  int r = wse_slot_alloc(&wse_threads, &s, &index, &gen);
  if (r != WSEVENT_OK)
    return r;
  struct wse_thread *th = (struct wse_thread *)s;
  th->apc_head = th->apc_tail = NULL;
  th->waiter = NULL;
  atomic_store(&th->apc_count, 0);
  th->data = NULL;
  th->wake_fd = -1;
  wse_epset_init(&th->epset);
  atomic_store(&th->alert, 0);
  if (pthread_setspecific(exit_key, th) != 0) {
    atomic_store(&s->state, ((uint64_t)gen << 32) | WSE_CLOSED);
    wse_slot_unref(&wse_threads, s);
    return WSEVENT_ENOMEM;
  }
  atomic_store(&s->state, (uint64_t)gen << 32);
  self = th;
  *out = th;
  return WSEVENT_OK;
}

int wse_thread_wake_fd(struct wse_thread *th) {
  if (th->wake_fd < 0)
    th->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return th->wake_fd;
}

int wsevent_thread_self(wsevent_thread_t *out) {
  struct wse_thread *th;
  if (out == NULL)
    return WSEVENT_EINVAL;
  int r = wse_thread_current(&th);
  if (r == WSEVENT_OK)
    *out = wse_make_handle(WSE_KIND_THREAD, th->slot.index,
                           wse_gen_of(atomic_load(&th->slot.state)));
  return r;
}

int wsevent_queue_completion(wsevent_thread_t id, wsevent_completion_fn fn,
                             void *context) {
  return wsevent_queue_completion_ex(id, fn, NULL, context);
}

int wsevent_queue_completion_ex(wsevent_thread_t id, wsevent_completion_fn fn,
                                wsevent_completion_fn release, void *context) {
  if (fn == NULL)
    return WSEVENT_EINVAL;
  struct wse_thread *th = (struct wse_thread *)wse_slot_of(&wse_threads, id);
  uint32_t gen = (uint32_t)(id >> 32);
  if (th == NULL || !wse_slot_ref(&th->slot, gen))
    return WSEVENT_EINVAL_HANDLE;
  struct wse_apc *apc = malloc(sizeof *apc);
  if (apc == NULL) {
    wse_slot_unref(&wse_threads, &th->slot);
    return WSEVENT_ENOMEM;
  }
  apc->next = NULL;
  apc->fn = fn;
  apc->release = release;
  apc->context = context;

  int r = WSEVENT_OK;
  wse_lock();
  uint64_t s = atomic_load(&th->slot.state);
  if (wse_gen_of(s) != gen || (s & WSE_CLOSED)) {
    r = WSEVENT_EINVAL_HANDLE;
  } else {
    if (th->apc_tail)
      th->apc_tail->next = apc;
    else
      th->apc_head = apc;
    th->apc_tail = apc;
    atomic_fetch_add(&th->apc_count, 1);
    if (th->waiter != NULL)
      wse_satisfy(th->waiter, WSEVENT_IO_COMPLETION, 0, true);
    apc = NULL;
  }
  wse_unlock();
  free(apc);
  wse_slot_unref(&wse_threads, &th->slot);
  return r;
}

size_t wse_run_completions(struct wse_thread *th) {
  size_t ran = 0;
  for (;;) {
    wse_lock();
    struct wse_apc *apc = th->apc_head;
    if (apc != NULL) {
      th->apc_head = apc->next;
      if (th->apc_head == NULL)
        th->apc_tail = NULL;
      atomic_fetch_sub(&th->apc_count, 1);
    }
    wse_unlock();
    if (apc == NULL)
      return ran;
    /* Outside the lock: the routine may wait, set, or queue more. */
    apc->fn(apc->context);
    free(apc);
    ran++;
  }
}

int wsevent_thread_alert_event(wsevent_thread_t id, wsevent_t *event) {
  if (event == NULL)
    return WSEVENT_EINVAL;
  struct wse_thread *th = (struct wse_thread *)wse_slot_of(&wse_threads, id);
  uint32_t gen = (uint32_t)(id >> 32);
  if (th == NULL || !wse_slot_ref(&th->slot, gen))
    return WSEVENT_EINVAL_HANDLE;
  int r = WSEVENT_OK;
  wsevent_t h = atomic_load(&th->alert);
  if (h == 0) {
    r = wsevent_create(&h, 0);
    if (r == WSEVENT_OK) {
      wsevent_t expected = 0;
      if (!atomic_compare_exchange_strong(&th->alert, &expected, h)) {
        wsevent_close(h); /* another thread made it first */
        h = expected;
      } else if (atomic_load(&th->slot.state) & WSE_CLOSED) {
        /* The thread ended meanwhile: its exit may have missed ours. */
        if (atomic_exchange(&th->alert, 0) == h)
          wsevent_close(h);
        r = WSEVENT_EINVAL_HANDLE;
      }
    }
  }
  wse_slot_unref(&wse_threads, &th->slot);
  if (r == WSEVENT_OK)
    *event = h;
  return r;
}

struct wse_event *wse_thread_alert_sources(struct wse_thread *th) {
  wsevent_t h = th != NULL ? atomic_load(&th->alert) : 0;
  struct wse_event *ev = h != 0 ? wse_event_of(h) : NULL;
  return ev != NULL && atomic_load_explicit(&ev->n_sources, memory_order_relaxed) > 0
             ? ev
             : NULL;
}

int wsevent_thread_set_data(void *data, void **previous) {
  struct wse_thread *th;
  int r = wse_thread_current(&th);
  if (r != WSEVENT_OK)
    return r;
  if (previous != NULL)
    *previous = th->data;
  th->data = data;
  return WSEVENT_OK;
}

void *wsevent_thread_data(void) { return self ? self->data : NULL; }

void wse_thread_after_fork(struct wse_slot *s) {
  struct wse_thread *th = (struct wse_thread *)s;
  th->waiter = NULL;
  if (wse_gen_of(atomic_load(&s->state)) == 0)
    return;
  if (th->wake_fd >= 0) {
    /* Shared with the parent's thread: a drain here could swallow its
     * wake-up.  The child makes its own when it needs one. */
    close(th->wake_fd);
    th->wake_fd = -1;
  }
  /* Its epoll set is the parent's instance too (it holds the parent's
   * wake descriptor): close the child's copy, untouched. */
  wse_epset_close(&th->epset);
  if (th == self)
    return;
  /* Every other thread is gone in the child: its id dies with it.  Its
   * routines are freed without their release functions, which could need
   * a runtime (a GIL) that is not usable inside a fork handler. */
  atomic_fetch_or(&s->state, WSE_CLOSED);
  struct wse_apc *apc = th->apc_head;
  th->apc_head = th->apc_tail = NULL;
  atomic_store(&th->apc_count, 0);
  discard(apc, false);
}
