/*
 * internal.h: what the files of core/src share.  Nothing here is public.
 *
 * The big picture:
 *
 * - handle.c keeps type-stable tables of slots.  A slot's memory is never
 *   returned to the allocator, so a stale handle can always be looked up
 *   safely; its generation tells whether it is still the object it named.
 *
 * - An event's whole state is one 64-bit atomic word (generation in the
 *   high half, flags in the low half).  set, reset and is_set on an event
 *   nobody waits on are one atomic operation on that word.  The generation
 *   in the same word makes a stale handle's compare-and-swap fail.
 *
 * - Everything that involves waiters runs under one dispatcher lock
 *   (lock.c), as Windows' dispatcher database lock: registering waiters,
 *   consuming auto-reset signals, waking, closing.  Because all consumers
 *   hold it, a wait-all takes its auto-reset events together or not at all.
 *   A waiter marks each event WATCHED before looking at it, which pushes
 *   set, reset and close of that event onto the locked path too.
 */
#ifndef WSEVENT_INTERNAL_H
#define WSEVENT_INTERNAL_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "wsevent.h"
#include "wsevent_provider.h"

#define WSE_HIDDEN __attribute__((visibility("hidden")))

/* ------------------------------------------------------------------ */
/* Handles and slot tables (handle.c)                                  */

/*
 * A handle is gen:32 | kind:4 | index+1:28.  Index 0 is stored as 1 so that
 * handle 0 is never valid; generations start at 1 and skip 0 on wrap.
 */
enum wse_kind {
  WSE_KIND_EVENT = 1,
  WSE_KIND_THREAD = 2,
  WSE_KIND_SOURCE = 3,
  WSE_KIND_PORT = 4,
  WSE_KIND_ASYNC = 5,
};

#define WSE_CHUNK_BITS 10
#define WSE_CHUNK_SLOTS (1u << WSE_CHUNK_BITS)
#define WSE_MAX_CHUNKS (1u << 14)
#define WSE_MAX_SLOTS (WSE_CHUNK_SLOTS * WSE_MAX_CHUNKS - 1)

/* Every slot starts with this header. */
struct wse_slot {
  /*
   * gen:32 | refs:32.  refs counts the owner (1 while the object is open)
   * plus every wait or call that holds the object.  When refs reaches 0 the
   * generation is bumped in the same atomic step and the slot goes back to
   * the free list; a reference is never taken from 0, so a forged handle
   * with a future generation cannot resurrect a free slot.
   */
  _Atomic uint64_t refgen;
  /*
   * gen:32 | flags:32, the object's state.  The generation here is the one
   * the object was created with; see the WSE_* flags below.
   */
  _Atomic uint64_t state;
  uint32_t next_free; /* free-list link, under the table mutex */
  uint32_t index;     /* this slot's place in its table */
};

struct wse_table {
  pthread_mutex_t mutex;      /* free list and growth */
  size_t slot_size;
  enum wse_kind kind;
  uint32_t free_head;         /* index+1, 0 = empty */
  uint32_t used;              /* slots handed out so far */
  uint32_t limit;             /* maximum number of slots (tests lower it) */
  _Atomic(unsigned char *) chunks[WSE_MAX_CHUNKS];
  /* Called with the slot's last reference, before the slot is reused. */
  void (*release)(struct wse_slot *);
};

WSE_HIDDEN extern struct wse_table wse_events;
WSE_HIDDEN extern struct wse_table wse_threads;
WSE_HIDDEN extern struct wse_table wse_sources;
WSE_HIDDEN extern struct wse_table wse_ports;
WSE_HIDDEN extern struct wse_table wse_asyncs;

static inline uint32_t wse_gen_of(uint64_t word) { return (uint32_t)(word >> 32); }
static inline uint64_t wse_make_handle(enum wse_kind kind, uint32_t index,
                                       uint32_t gen) {
  return ((uint64_t)gen << 32) | ((uint64_t)kind << 28) | (index + 1);
}

/* The slot a handle names, or NULL if it cannot name one of this table's
 * slots.  Does not check the generation. */
WSE_HIDDEN struct wse_slot *wse_slot_of(struct wse_table *t, uint64_t handle);
/* A new slot with refs 1 and a fresh generation (written to *gen). */
WSE_HIDDEN int wse_slot_alloc(struct wse_table *t, struct wse_slot **slot,
                              uint32_t *index, uint32_t *gen);
/* Take a reference if the handle is current; false if it is not. */
WSE_HIDDEN bool wse_slot_ref(struct wse_slot *s, uint32_t gen);
/* Drop a reference; the last one frees the slot and returns true. */
WSE_HIDDEN bool wse_slot_unref(struct wse_table *t, struct wse_slot *s);
/* Call fn on every slot ever handed out (fork child, under no lock). */
WSE_HIDDEN void wse_table_each(struct wse_table *t,
                               void (*fn)(struct wse_slot *));
WSE_HIDDEN void wse_table_after_fork(struct wse_table *t);

/* ------------------------------------------------------------------ */
/* State flags (low half of the state word)                             */

#define WSE_SIGNALED 0x01u /* the event is signaled */
#define WSE_WATCHED 0x02u  /* waiters registered: set/reset/close lock */
#define WSE_CLOSED 0x04u   /* closed: the handle is invalid */
#define WSE_MANUAL 0x08u   /* manual-reset (constant while open) */
#define WSE_HAS_FD 0x10u   /* a file descriptor mirrors the state */
#define WSE_DISPATCH 0x20u /* a signal-handler set awaits its dispatch */
#define WSE_HAS_SRC 0x40u  /* wait sources attached: waits poll, close locks */
#define WSE_NAMED 0x80u    /* shared by name: the state is in ev->named */
#define WSE_LOCKED_PATH (WSE_WATCHED | WSE_HAS_FD)

/* ------------------------------------------------------------------ */
/* Events and waiters                                                   */

struct wse_waiter;

/* One per (waiter, event) pair, linked into the event's waiter list. */
struct wse_entry {
  struct wse_entry *prev, *next;
  struct wse_waiter *waiter;
  struct wse_event *event;
  /* For a named event (under the lock): the shared word when last looked
   * at, and its set count when the wait began (a manual-reset event set
   * since then has released us, even if reset again). */
  uint32_t seen, seq0;
  bool named; /* the event is named */
  bool ref;   /* the wait holds a reference on the event's slot */
};

struct wse_source;

struct wse_event {
  struct wse_slot slot;
  /* Under the dispatcher lock: */
  struct wse_entry *head, *tail; /* waiters, oldest first */
  struct wse_source *sources;    /* attached wait sources (HAS_SRC) */
  _Atomic uint32_t n_sources;    /* how many (changed under the lock) */
  struct wse_source *stand_ins;  /* polled instead while crowded (same) */
  _Atomic uint32_t n_stand_ins;
  uint32_t watchers;             /* entries linked (WATCHED iff > 0) */
  int fd;                        /* the eventfd, valid while WSE_HAS_FD */
  bool fd_readable;              /* what the eventfd shows now (same) */
  /* The signal-safe set's queue (lock-free push, drained by lock holder) */
  struct wse_event *pending_next;
  _Atomic uint32_t queued;
  /* Set at creation, released with the slot's last reference; valid
   * while WSE_NAMED and one holds a reference, or under the lock for an
   * event a linked entry names. */
  struct wse_named *named;
} __attribute__((aligned(64)));

/*
 * A waiter's futex word.  The waiting thread sleeps only after moving it
 * from AWAKE to ASLEEP (on the futex) or POLLING (in poll(2), on its wait
 * sources and its thread's wake descriptor), so the thread that satisfies
 * it makes the wake-up system call only when somebody actually sleeps,
 * and the one that fits how it sleeps.
 */
enum { WSE_W_AWAKE = 0, WSE_W_ASLEEP = 1, WSE_W_DONE = 2, WSE_W_POLLING = 3 };

struct wse_thread;

struct wse_waiter {
  _Atomic uint32_t futex;
  bool satisfied;           /* under the lock */
  bool wait_all;
  int result;               /* under the lock, valid once satisfied */
  size_t index;
  size_t count;
  size_t linked;            /* entries[0..linked) are in event lists */
  struct wse_entry *entries;
  struct wse_thread *alertable; /* the thread whose APCs can satisfy us */
  int wake_fd;                  /* while POLLING: the thread's eventfd */
  struct wse_async *async;      /* an asynchronous wait's record, or NULL */
  size_t n_named;               /* entries naming named events */
  bool monitored;               /* named events: the monitor serves it */
};

/* Set up w over handles (no lock): resolves every handle to its slot;
 * WSEVENT_EINVAL_HANDLE with *index at the first that names none. */
WSE_HIDDEN int wse_waiter_prepare(struct wse_waiter *w,
                                  struct wse_entry *entries,
                                  const wsevent_t *handles, size_t count,
                                  unsigned flags, size_t *index);
/* Under the lock: link w into every event's list, or none (false, with
 * *index naming the first event no longer open, or SIZE_MAX for a
 * wait-all naming one named object twice). */
WSE_HIDDEN bool wse_waiter_link(struct wse_waiter *w, const wsevent_t *handles,
                                size_t *index);
WSE_HIDDEN void wse_unregister(struct wse_waiter *w);
/* Under the lock: satisfy w if its events allow it now. */
WSE_HIDDEN bool wse_try_satisfy(struct wse_waiter *w, bool wake);
/* WSEVENT_EINVAL if a handle appears twice (wait-all), or ENOMEM. */
WSE_HIDDEN int wse_check_duplicates(const wsevent_t *handles, size_t count);

/* ---- completion ports and asynchronous waits (port.c) ---- */

struct wse_port;

/* An asynchronous wait: a waiter that lives in a slot of its own, and,
 * once satisfied, a packet queued to its port. */
struct wse_async {
  struct wse_slot slot;
  struct wse_waiter w;
  struct wse_port *port;
  uint64_t key;
  bool queued;                   /* satisfied: in the port's queue */
  struct wse_async *prev, *next; /* in port->pending, or port->queue */
};

struct wse_port {
  struct wse_slot slot;
  int fd;                          /* eventfd: readable iff queue != NULL */
  struct wse_async *pending;       /* registered, not yet satisfied */
  struct wse_async *queue, *tail;  /* satisfied, not yet taken, in order */
};

/* Under the lock, from wse_satisfy: queue a's packet to its port. */
WSE_HIDDEN void wse_port_post(struct wse_async *a);
WSE_HIDDEN void wse_port_after_fork(struct wse_slot *s);
WSE_HIDDEN void wse_async_after_fork(struct wse_slot *s);

/* A wait source (source.c): a provider's descriptor, polled by waiters. */
struct wse_source {
  struct wse_slot slot;
  /* Constant while attached: */
  const struct wsevent_source_ops *ops;
  void *context;
  int fd;
  /* Under the dispatcher lock: */
  struct wse_event *event;  /* NULL once detached */
  struct wse_source *next;  /* in event->sources or ->stand_ins */
  bool stand_in;            /* polled only while the event is crowded */
  short events;
  uint64_t mark;            /* the last poll set that took it (dedup) */
  _Atomic uint32_t pollers; /* waiters polling it now */
};

struct wse_apc {
  struct wse_apc *next;
  wsevent_completion_fn fn;
  wsevent_completion_fn release; /* if discarded instead of run; may be NULL */
  void *context;
};

/* A thread's epoll set for its polling waits (epset.c); owner only. */
struct wse_epset {
  int ep;                 /* -1 until needed */
  uint32_t seq;           /* the last wait that synced it */
  uint32_t tag;           /* the last registration's */
  size_t cap;
  struct wse_epreg *regs; /* by descriptor */
};

struct wse_thread {
  struct wse_slot slot;
  /* Under the dispatcher lock: */
  struct wse_apc *apc_head, *apc_tail;
  struct wse_waiter *waiter; /* set during an alertable wait */
  _Atomic uint32_t apc_count;
  void *data;                /* wsevent_thread_set_data, owner thread only */
  int wake_fd;               /* eventfd for polling waits, -1 until needed;
                                closed under the lock */
  struct wse_epset epset;    /* owner thread only */
  /* An event never set, made on demand, whose wait sources every
   * alertable wait of the thread polls (wsevent_thread_alert_event). */
  _Atomic uint64_t alert;
};

/* The event a handle names if it is open, else NULL (no reference). */
static inline struct wse_event *wse_event_of(wsevent_t h) {
  return (struct wse_event *)wse_slot_of(&wse_events, h);
}

/* ------------------------------------------------------------------ */
/* The dispatcher lock (lock.c)                                          */

/* The thread's alert event if it has sources to poll (under the lock). */
WSE_HIDDEN struct wse_event *wse_thread_alert_sources(struct wse_thread *th);

WSE_HIDDEN void wse_lock(void);
WSE_HIDDEN void wse_unlock(void);
/* The signal-safe path: queue ev for dispatch and run it if the lock is
 * free, else leave it to the holder. */
WSE_HIDDEN void wse_dispatch_later(struct wse_event *ev);
/* Wake a sleeping waiter once the lock is released (keeps the system call
 * out of the critical section).  Lock holder only. */
WSE_HIDDEN void wse_wake_after_unlock(_Atomic uint32_t *futex);

WSE_HIDDEN int wse_futex_wait(_Atomic uint32_t *word, uint32_t expected,
                              const struct timespec *deadline);
WSE_HIDDEN void wse_futex_wake(_Atomic uint32_t *word, int count);

/* ------------------------------------------------------------------ */
/* Under the dispatcher lock (wait.c, event.c)                          */

/* Release what a just-signaled event can release, and mirror its fd. */
WSE_HIDDEN void wse_dispatch(struct wse_event *ev);
/* Satisfy w with result (and index); wakes it unless it is the caller. */
WSE_HIDDEN void wse_satisfy(struct wse_waiter *w, int result, size_t index,
                            bool wake);
/* Make the eventfd show the state word. */
WSE_HIDDEN void wse_sync_fd(struct wse_event *ev);
/* Clear SIGNALED (consumption by a wait) and mirror the fd. */
WSE_HIDDEN void wse_consume(struct wse_event *ev);
/* Add flags to the state only if h still names a live event (any thread). */
WSE_HIDDEN bool wse_event_add_flags(wsevent_t h, struct wse_event *ev,
                                    uint64_t extra);

/* The calling thread's record, created on first use (completion.c). */
WSE_HIDDEN int wse_thread_current(struct wse_thread **out);
/* Its wake descriptor for polling waits, created on first use; -1 if none
 * can be had (the wait then sleeps on its futex). */
WSE_HIDDEN int wse_thread_wake_fd(struct wse_thread *th);
/* Wake a POLLING waiter through its wake descriptor (under the lock). */
WSE_HIDDEN void wse_poke(int wake_fd);

/* ---- named events (named.c) ---- */

/* The shared word: SIGNALED, WAITERS (somebody sleeps on the word: a
 * change must wake it), and a count of sets in the bits above. */
#define WSE_NW_SIGNALED 0x1u
#define WSE_NW_WAITERS 0x2u
#define WSE_NW_SEQ 0x4u
#define WSE_NW_SEQ_MASK (~(uint32_t)3)

struct wse_named;
/* Open or create the shared object (no lock held). */
WSE_HIDDEN int wse_named_open(const char *name, unsigned flags, bool *existed,
                              bool *manual, struct wse_named **out);
/* Tie n to its event (the monitor and fork find it there). */
WSE_HIDDEN void wse_named_bind(struct wse_named *n, struct wse_event *ev);
/* The handle is closed: under the lock, take the descriptor that holds
 * the object; then, outside it, drop it, freeing the name if no other
 * handle in any process holds the object. */
WSE_HIDDEN int wse_named_detach(struct wse_named *n);
WSE_HIDDEN void wse_named_drop(struct wse_named *n, int fd);
/* The slot's last reference went: unmap (takes the lock). */
WSE_HIDDEN void wse_named_release(struct wse_named *n);
WSE_HIDDEN _Atomic uint32_t *wse_named_word(struct wse_named *n);
WSE_HIDDEN const char *wse_named_name(struct wse_named *n, size_t *length);
/* set: lock-free and async-signal-safe; reset and take under the object's
 * own lock; take reports whether it was signaled. */
WSE_HIDDEN void wse_named_set(struct wse_named *n);
WSE_HIDDEN void wse_named_reset(struct wse_named *n);
WSE_HIDDEN bool wse_named_take(struct wse_named *n);
/* Under the dispatcher lock: lock / unlock the named events of a wait-all
 * in a global order, so that it tests and takes them in one step. */
WSE_HIDDEN void wse_named_lock_all(struct wse_waiter *w);
WSE_HIDDEN void wse_named_unlock_all(struct wse_waiter *w);
WSE_HIDDEN bool wse_named_taken_locked(struct wse_named *n);
/* Under the lock: WSEVENT_EINVAL if a wait-all names one object twice
 * (two handles opened on one name). */
WSE_HIDDEN int wse_named_check_all(const struct wse_waiter *w);
/* Sleep a direct waiter (its futex word is ASLEEP) on its own word and the
 * words of its named events until either changes, the deadline or (if
 * interruptible) a signal: 0, ETIMEDOUT, EINTR, or EAGAIN (a word moved
 * since the entry's `seen`: look again). */
WSE_HIDDEN int wse_named_sleep(struct wse_waiter *w, wsevent_time_t deadline);
/* Under the lock: one more (+1) or one fewer (-1) reason for the monitor
 * thread to watch the event (a descriptor, a waiter that polls or is
 * asynchronous), which serves them when another process changes it. */
WSE_HIDDEN void wse_named_monitor(struct wse_event *ev, int delta);
WSE_HIDDEN void wse_named_prepare_fork(void);
WSE_HIDDEN void wse_named_parent_fork(void);
WSE_HIDDEN void wse_named_child_fork(void);

/* ---- wait sources (source.c) ---- */

/* Detach every source of a closing event (under the lock); the sources
 * are chained through `next` into *gone, to be released with
 * wse_sources_release() once the lock is dropped. */
WSE_HIDDEN void wse_sources_detach_all(struct wse_event *ev,
                                       struct wse_source **gone);
WSE_HIDDEN void wse_sources_release(struct wse_source *gone);
/* Drop one use of a source; the last one calls its detached(). */
WSE_HIDDEN void wse_source_unref(struct wse_source *src);
WSE_HIDDEN void wse_source_after_fork(struct wse_slot *s);
/* Outside the lock: call waiting() of each source of ev (its descriptor
 * was just handed out: a poller now waits that no provider hears of). */
WSE_HIDDEN void wse_sources_waiting(wsevent_t h, struct wse_event *ev);
/* Bumped (under the lock) whenever what a polling waiter must poll
 * changes; a waiter whose set is as old as this need not build it again. */
WSE_HIDDEN extern _Atomic uint64_t wse_sources_gen;

/* ---- polling waits (pollwait.c) ---- */

#define WSE_POLL_STACK 8
/* wse_sleep_polling: polling cannot go on; sleep on the futex instead. */
#define WSE_POLL_FAILED (-102)

struct wse_pollset {
  size_t n, cap;             /* sources */
  struct wse_thread *th;     /* the polling thread: its wake fd, epoll set */
  bool epoll;                /* polled through th's epoll set */
  struct pollfd *pfds;       /* [0]: the wake eventfd; [1 + i]: srcs[i] */
  struct wse_source **srcs;  /* each referenced */
  bool *changed;             /* pollers crossed zero: notify the provider */
  bool watch;                /* count in pollers (not for a single look) */
  uint64_t gen;              /* wse_sources_gen when built */
  struct pollfd pfd_stack[1 + WSE_POLL_STACK];
  struct wse_source *src_stack[WSE_POLL_STACK];
  bool changed_stack[WSE_POLL_STACK];
};

WSE_HIDDEN void wse_pollset_init(struct wse_pollset *ps,
                                 struct wse_thread *th, bool watch);
/* Under the lock: take the sources of w's events; false if there is none. */
WSE_HIDDEN bool wse_pollset_build(struct wse_pollset *ps,
                                  const struct wse_waiter *w);
/* Under the lock: stop counting in pollers.  Then, outside it: */
WSE_HIDDEN void wse_pollset_drop(struct wse_pollset *ps);
WSE_HIDDEN void wse_pollset_notify(struct wse_pollset *ps);
WSE_HIDDEN void wse_pollset_free(struct wse_pollset *ps);
/* Sleep polling sets[*cur] until satisfied, the deadline, a signal (if
 * interruptible) or WSE_POLL_FAILED. */
WSE_HIDDEN int wse_sleep_polling(struct wse_waiter *w,
                                 struct wse_pollset sets[2], int *cur,
                                 wsevent_time_t deadline, bool interruptible);

/* ---- a thread's epoll set (epset.c) ---- */

WSE_HIDDEN void wse_epset_init(struct wse_epset *es);
/* Close the instance and free the table (thread exit; fork child). */
WSE_HIDDEN void wse_epset_close(struct wse_epset *es);
/* Register what ps polls that the set lacks; false if ps must be polled
 * with ppoll instead (then nothing in the set is wrong, only missing). */
WSE_HIDDEN bool wse_epset_sync(struct wse_epset *es, struct wse_pollset *ps);
/* ppoll(2) of ps through the set: fills the revents of what is ready and
 * returns their number (0 may also mean a report that was not ps's), or
 * -1 with errno.  May turn ps->epoll off. */
WSE_HIDDEN int wse_epset_wait(struct wse_epset *es, struct wse_pollset *ps,
                              const struct timespec *timeout);

/* The table's entries (provider.c). */
WSE_HIDDEN int wse_source_attach(wsevent_t event,
                                 const struct wsevent_source_ops *ops,
                                 void *context, int fd, short events,
                                 wsevent_source_t *source);
WSE_HIDDEN int wse_source_attach_stand_in(wsevent_t event,
                                          const struct wsevent_source_ops *ops,
                                          void *context, int fd, short events,
                                          wsevent_source_t *source);
WSE_HIDDEN int wse_source_update(wsevent_source_t source, short events);
WSE_HIDDEN int wse_source_detach(wsevent_source_t source);
WSE_HIDDEN int wse_source_watchers(wsevent_source_t source);
/* Run the calling thread's queued routines; returns how many ran. */
WSE_HIDDEN size_t wse_run_completions(struct wse_thread *th);

/* One-time set-up (fork.c), run by the first handle table use: it calls
 * the inits below and installs the fork handlers, which call the
 * after_fork functions, each defined next to what it resets. */
WSE_HIDDEN void wse_init_once(void);
WSE_HIDDEN void wse_completion_init(void); /* completion.c */
WSE_HIDDEN void wse_event_after_fork(struct wse_slot *s);
WSE_HIDDEN void wse_event_release(struct wse_slot *s);
WSE_HIDDEN void wse_thread_after_fork(struct wse_slot *s);
WSE_HIDDEN void wse_lock_after_fork(void);

#endif /* WSEVENT_INTERNAL_H */
