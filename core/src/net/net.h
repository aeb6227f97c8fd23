/*
 * net.h: what the files of the socket provider (core/src/net) share.
 *
 * The socket provider is a service provider like any other: it reaches
 * events only through the upcall table of wsevent_provider.h, never through
 * the event core's private headers.  It is the project's own proof that
 * the provider interface is enough.
 *
 * reactor.c owns one thread that waits in epoll.  A registration names a
 * callback of its own (the pattern of libuv's uv__io_t), so the reactor
 * knows nothing of the files that register: select.c (WSAEventSelect),
 * overlapped.c (overlapped socket I/O) and timer.c (waitable timers).
 */
#ifndef WSEVENT_NET_H
#define WSEVENT_NET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wsevent_provider.h"

#define WSE_HIDDEN __attribute__((visibility("hidden")))

/* The table every call of the provider goes through: this library's own,
 * taken as an outside provider takes its host's. */
static inline const struct wsevent_upcalls *up(void) {
  return wsevent_upcalls();
}

/*
 * A registration's callback, run by the reactor thread with the reactor
 * mutex held.  `events` are epoll's; `write_edge` is true when the report
 * comes from the output-only instance (send space came back).
 */
typedef void (*wse_io_cb)(void *ctx, uint32_t events, bool write_edge);

/* A registration: an index into the reactor's table plus a generation, so
 * a report that was in flight while its registration was dropped is
 * recognised as stale.  0 is never a valid registration. */
typedef uint64_t wse_io_t;

/* Guards the reactor, every selection and every timer. */
WSE_HIDDEN extern pthread_mutex_t wse_reactor_mutex;

/* Under the mutex: start the thread if needed. */
WSE_HIDDEN int wse_reactor_start(void);
/* Under the mutex: set an event just before the mutex is released, which
 * must then be done with wse_reactor_unlock(). */
WSE_HIDDEN void wse_reactor_set(wsevent_t event);
/* Under the mutex: make the sets queued so far now (an enumeration's reset
 * must come after the sets of what it copied). */
WSE_HIDDEN void wse_reactor_flush_sets(void);
WSE_HIDDEN void wse_reactor_unlock(void);
/* Under the mutex, after a socket's source was attached to event: if the
 * event has more sources than waiters poll, give it the reactor's stand-in
 * (once), so that its waiters serve the reactor instead of sleeping. */
WSE_HIDDEN void wse_reactor_stand_in(wsevent_t event);
/* Under the mutex: a new registration with its callback, and descriptors
 * added to it (main: input, errors, timers; writes: output edges). */
WSE_HIDDEN int wse_reactor_register(wse_io_cb cb, void *ctx, wse_io_t *io);
WSE_HIDDEN int wse_reactor_add(wse_io_t io, int fd, uint32_t events,
                               bool writes);
WSE_HIDDEN void wse_reactor_del(int fd, bool writes);
/* Under the mutex: forget a registration; reports in flight are dropped. */
WSE_HIDDEN void wse_reactor_unregister(wse_io_t io);
/*
 * A wait source the reactor serves while no waiter polls it: out of
 * `main` as soon as a waiter polls the descriptor itself, back in it once
 * no waiter has polled it for a short grace period (a loop that keeps
 * waiting makes no epoll_ctl per wait).  The owner calls
 * wse_served_changed() from its watchers_changed callback.
 */
struct wse_served {
  wse_io_t io;
  wsevent_source_t source;
  int fd;
  uint32_t events; /* epoll events while served */
  /* Written under the mutex; atomic so that wse_served_changed() can see
   * without it that a waiter's coming or going changes nothing. */
  _Atomic bool armed;        /* in epoll now */
  _Atomic bool stopped;      /* wse_served_stop ran: never armed or listed */
  _Atomic bool handing_back; /* unwatched, taken back at back_at */
  wsevent_time_t back_at;    /* under the mutex */
  /* A waiter came and went again since back_at was set: the reactor
   * looks again a grace period later instead of taking it back (a mark,
   * not a new back_at, so that a wait pays no clock read per source). */
  _Atomic bool left_again;
  /* Armed whatever its watchers: they poll nothing for it (a socket whose
   * state waiters cannot poll, as one selected before listen()). */
  _Atomic bool keep;
  struct wse_served *next_back;   /* the reactor's list of those */
  struct wse_served *next_detach; /* wse_reactor_detach's list */
};
/* Under the mutex: register (disarmed) with a callback. */
WSE_HIDDEN int wse_served_init(struct wse_served *sv, wse_io_cb cb, void *ctx,
                               int fd, uint32_t events);
/* Under the mutex: arm or disarm as the source's watchers say. */
WSE_HIDDEN int wse_served_update(struct wse_served *sv);
/* Takes the mutex: stand down now, or take back after the grace period;
 * for watchers_changed, which may come after the stop (a waiter letting
 * go of a source its provider forgot): then it does nothing. */
WSE_HIDDEN void wse_served_changed(struct wse_served *sv);
/* Under the reactor mutex: a thread is about to poll sv's source itself
 * (perhaps only once, a wait with no timeout left): the reactor stands
 * down for the grace period, so that a busy loop, which polls its sockets
 * at each wait without ever sleeping, does not also have them served. */
WSE_HIDDEN void wse_served_touch(struct wse_served *sv);
/* Under the mutex: keep sv armed whatever its watchers (see keep), or
 * let it go back to standing down for them. */
WSE_HIDDEN void wse_served_keep(struct wse_served *sv, bool keep);
/* Under the mutex: out of epoll (if the descriptor is still the one that
 * was registered: deleting by number could hit another file), and the
 * registration dropped. */
WSE_HIDDEN void wse_served_stop(struct wse_served *sv, bool still_open);
/* Under the mutex: detach a source once the mutex is released (a detach
 * may run the provider's detached(), which takes the mutex). */
WSE_HIDDEN void wse_reactor_detach(struct wse_served *sv);

/* Under the mutex: handle the write edges queued so far. */
WSE_HIDDEN void wse_reactor_take_write_edges(void);
/* A core code for a system errno (errno is left as it was). */
WSE_HIDDEN int wse_errno_code(int err);

/* Fork child: each file drops its state without touching the parent's.
 * The reactor calls them from its own child handler. */
WSE_HIDDEN void wse_select_forget(void);
WSE_HIDDEN void wse_overlapped_forget(void);

/* Under the mutex: fd is being closed: complete its overlapped operations
 * with WSEVENT_EABORTED (overlapped.c).  False if it had no record. */
WSE_HIDDEN bool wse_overlapped_closing(int fd);
/* Under the mutex: fd was just made by an accept of the library: a record
 * of that number is an old socket's, closed behind its back: dropped. */
WSE_HIDDEN void wse_overlapped_fresh(int fd);
WSE_HIDDEN void wse_timer_forget(void);

#endif
