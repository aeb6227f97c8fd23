/*
 * handle.c: type-stable slot tables and 64-bit generation-checked handles.
 *
 * A table is a fixed array of chunk pointers; a chunk holds 1,024 slots and
 * is allocated the first time it is needed, then kept for the life of the
 * process.  Looking a handle up therefore never needs a lock and never reads
 * freed memory, whatever another thread is closing at the same moment.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint32_t index_of(uint64_t handle) {
  return (uint32_t)(handle & 0x0FFFFFFFu) - 1;
}

static struct wse_slot *slot_at(struct wse_table *t, uint32_t index) {
  unsigned char *chunk = atomic_load_explicit(
      &t->chunks[index >> WSE_CHUNK_BITS], memory_order_acquire);
  if (chunk == NULL)
    return NULL;
  return (struct wse_slot *)(chunk + (size_t)(index & (WSE_CHUNK_SLOTS - 1)) *
                                         t->slot_size);
}

struct wse_slot *wse_slot_of(struct wse_table *t, uint64_t handle) {
  if (((handle >> 28) & 0xF) != (uint64_t)t->kind)
    return NULL;
  uint32_t index = index_of(handle);
  if ((handle & 0x0FFFFFFFu) == 0 || index >= WSE_MAX_SLOTS)
    return NULL;
  return slot_at(t, index);
}

static uint32_t next_gen(uint32_t gen) {
  return gen + 1 == 0 ? 1 : gen + 1;
}

int wse_slot_alloc(struct wse_table *t, struct wse_slot **out,
                   uint32_t *index_out, uint32_t *gen_out) {
  struct wse_slot *s;
  uint32_t index;

  wse_init_once();
  pthread_mutex_lock(&t->mutex);
  if (t->free_head != 0) {
    index = t->free_head - 1;
    s = slot_at(t, index);
    t->free_head = s->next_free;
  } else {
    if (t->used >= t->limit) {
      pthread_mutex_unlock(&t->mutex);
      return WSEVENT_ELIMIT;
    }
    index = t->used;
    size_t c = index >> WSE_CHUNK_BITS;
    if (atomic_load_explicit(&t->chunks[c], memory_order_relaxed) == NULL) {
      unsigned char *chunk = calloc(WSE_CHUNK_SLOTS, t->slot_size);
      if (chunk == NULL) {
        pthread_mutex_unlock(&t->mutex);
        return WSEVENT_ENOMEM;
      }
      /* A never-used slot has generation 0 with refs 0: no handle matches
       * it (generations start at 1) and no reference can be taken. */
      atomic_store_explicit(&t->chunks[c], chunk, memory_order_release);
    }
    t->used++;
    s = slot_at(t, index);
    s->index = index;
  }
  pthread_mutex_unlock(&t->mutex);

  /* The slot is ours alone: refs is 0, so nobody can take a reference. */
  uint32_t gen = wse_gen_of(atomic_load(&s->refgen));
  if (gen == 0)
    gen = 1;
  atomic_store(&s->refgen, ((uint64_t)gen << 32) | 1);
  *out = s;
  *index_out = index;
  *gen_out = gen;
  return WSEVENT_OK;
}

bool wse_slot_ref(struct wse_slot *s, uint32_t gen) {
  uint64_t old = atomic_load_explicit(&s->refgen, memory_order_acquire);
  for (;;) {
    if (wse_gen_of(old) != gen || (uint32_t)old == 0 ||
        (uint32_t)old == UINT32_MAX)
      return false;
    if (atomic_compare_exchange_weak(&s->refgen, &old, old + 1))
      return true;
  }
}

bool wse_slot_unref(struct wse_table *t, struct wse_slot *s) {
  uint64_t old = atomic_load(&s->refgen), new;
  do {
    if ((uint32_t)old == 1)
      new = (uint64_t)next_gen(wse_gen_of(old)) << 32;
    else
      new = old - 1;
  } while (!atomic_compare_exchange_weak(&s->refgen, &old, new));
  if ((uint32_t)new != 0)
    return false;

  if (t->release != NULL)
    t->release(s);
  /* Last reference: back to the free list.  The state word keeps the old
   * generation and WSE_CLOSED until the slot is handed out again, so a
   * stale handle still fails every check. */
  pthread_mutex_lock(&t->mutex);
  s->next_free = t->free_head;
  t->free_head = s->index + 1;
  pthread_mutex_unlock(&t->mutex);
  return true;
}

void wse_table_each(struct wse_table *t, void (*fn)(struct wse_slot *)) {
  for (uint32_t i = 0; i < t->used; i++)
    fn(slot_at(t, i));
}

void wse_table_after_fork(struct wse_table *t) {
  pthread_mutex_init(&t->mutex, NULL);
}

struct wse_table wse_events = {
    .mutex = PTHREAD_MUTEX_INITIALIZER,
    .slot_size = sizeof(struct wse_event),
    .kind = WSE_KIND_EVENT,
    .limit = WSE_MAX_SLOTS,
    .release = wse_event_release,
};

struct wse_table wse_threads = {
    .mutex = PTHREAD_MUTEX_INITIALIZER,
    .slot_size = sizeof(struct wse_thread),
    .kind = WSE_KIND_THREAD,
    .limit = WSE_MAX_SLOTS,
};

struct wse_table wse_sources = {
    .mutex = PTHREAD_MUTEX_INITIALIZER,
    .slot_size = sizeof(struct wse_source),
    .kind = WSE_KIND_SOURCE,
    .limit = WSE_MAX_SLOTS,
};

struct wse_table wse_ports = {
    .mutex = PTHREAD_MUTEX_INITIALIZER,
    .slot_size = sizeof(struct wse_port),
    .kind = WSE_KIND_PORT,
    .limit = WSE_MAX_SLOTS,
};

struct wse_table wse_asyncs = {
    .mutex = PTHREAD_MUTEX_INITIALIZER,
    .slot_size = sizeof(struct wse_async),
    .kind = WSE_KIND_ASYNC,
    .limit = WSE_MAX_SLOTS,
};
