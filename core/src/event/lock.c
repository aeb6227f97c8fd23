/*
 * lock.c: the dispatcher lock, futex helpers, and the queue through which
 * a signal handler's set reaches the lock holder.
 *
 * The lock is a three-state futex mutex (Drepper, "Futexes are tricky"):
 *   0  unlocked
 *   1  locked, nobody sleeps on it
 *   2  locked, somebody may sleep on it: unlock must wake one
 *
 * wsevent_set_from_signal() must never wait for the lock, since the thread
 * it interrupted may hold it.  It pushes the event on a lock-free stack and
 * tries the lock once; whoever holds the lock drains the stack before it
 * lets go, and looks again after letting go, so no push is ever stranded.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static _Atomic uint32_t lock_word;
static _Atomic(struct wse_event *) pending_head;

/*
 * Wake-ups decided under the lock are made after it is released, so that
 * the woken thread does not at once find the lock taken and sleep again.
 * Only the holder touches this list.
 */
#define MAX_DEFERRED 32
static _Atomic uint32_t *deferred[MAX_DEFERRED];
static int n_deferred;

/* A short spin before sleeping on the lock: hold times are a few hundred
 * nanoseconds, much less than a futex sleep and wake-up. */
#define SPIN_LIMIT 200

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

int wse_futex_wait(_Atomic uint32_t *word, uint32_t expected,
                   const struct timespec *deadline) {
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a
   * wait restarted after EINTR keeps its original end. */
  long r = syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                   expected, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
  return r == 0 ? 0 : errno;
}

void wse_futex_wake(_Atomic uint32_t *word, int count) {
  syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, NULL, NULL,
          0);
}

static bool try_lock(void) {
  uint32_t expected = 0;
  return atomic_compare_exchange_strong(&lock_word, &expected, 1);
}

static void drain(void) {
  struct wse_event *ev = atomic_exchange(&pending_head, NULL);
  while (ev != NULL) {
    struct wse_event *next = ev->pending_next;
    /* Clear "queued" first: a set arriving from now on queues it again. */
    atomic_store(&ev->queued, 0);
    uint64_t old = atomic_fetch_and(&ev->slot.state, ~(uint64_t)WSE_DISPATCH);
    if ((old & WSE_DISPATCH) && !(old & WSE_CLOSED))
      wse_dispatch(ev);
    ev = next;
  }
}

void wse_wake_after_unlock(_Atomic uint32_t *futex) {
  if (n_deferred == MAX_DEFERRED)
    wse_futex_wake(futex, 1); /* a crowd: wake this one now */
  else
    deferred[n_deferred++] = futex;
}

void wse_lock(void) {
  if (!try_lock()) {
    for (int i = 0; i < SPIN_LIMIT; i++) {
      cpu_relax();
      if (atomic_load_explicit(&lock_word, memory_order_relaxed) == 0 &&
          try_lock())
        goto locked;
    }
    while (atomic_exchange(&lock_word, 2) != 0)
      wse_futex_wait(&lock_word, 2, NULL);
  }
locked:
  drain();
}

void wse_unlock(void) {
  for (;;) {
    drain();
    _Atomic uint32_t *wake[MAX_DEFERRED];
    int n = n_deferred;
    for (int i = 0; i < n; i++)
      wake[i] = deferred[i];
    n_deferred = 0;
    if (atomic_exchange(&lock_word, 0) == 2)
      wse_futex_wake(&lock_word, 1);
    /* The waiters may have returned already: waking an address nobody
     * sleeps on is harmless. */
    for (int i = 0; i < n; i++)
      wse_futex_wake(wake[i], 1);
    /* A push that landed after our drain, while we still held the lock,
     * found the lock taken and left its work to us: look once more. */
    if (atomic_load(&pending_head) == NULL || !try_lock())
      return;
  }
}

void wse_dispatch_later(struct wse_event *ev) {
  if (atomic_exchange(&ev->queued, 1) == 0) {
    struct wse_event *head = atomic_load(&pending_head);
    do
      ev->pending_next = head;
    while (!atomic_compare_exchange_weak(&pending_head, &head, ev));
  }
  if (try_lock()) {
    drain();
    wse_unlock();
  }
}

void wse_lock_after_fork(void) {
  n_deferred = 0;
  atomic_store(&lock_word, 0);
  atomic_store(&pending_head, NULL);
}
