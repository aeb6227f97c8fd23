/*
 * wsevent.h: Windows Sockets event objects for Linux, the client API.
 *
 * An event is a boolean "signaled" state that threads can wait on.  It is
 * named by an opaque 64-bit handle (wsevent_t) that carries a generation, so
 * a handle that was closed, never issued or forged is answered with
 * WSEVENT_EINVAL_HANDLE by every call and never touches freed memory.
 *
 * Every function may be called from any thread.  Every function returns a
 * code from the enum below: zero or a positive wait outcome on success, a
 * negative error otherwise.  Nothing here aborts, prints or raises signals.
 *
 * The semantics follow Win32 (CreateEvent, SetEvent, ResetEvent,
 * WaitForMultipleObjectsEx, QueueUserAPC) and Winsock (WSACreateEvent makes
 * a manual-reset, unsignaled event).  README.md lists every difference.
 */
#ifndef WSEVENT_H
#define WSEVENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WSEVENT_EXTERN
#define WSEVENT_EXTERN extern
#endif

/* The version of wsevent, in one place: setup.py, the rockspec check and
 * the pkg-config files read it from here.  WSEVENT_VERSION is
 * major * 10000 + minor * 100 + patch. */
#define WSEVENT_VERSION_STRING "1.0.0"
#define WSEVENT_VERSION 10000

/* An event handle.  0 is never a valid handle. */
typedef uint64_t wsevent_t;
#define WSEVENT_INVALID ((wsevent_t)0)

/* A thread id, as issued by wsevent_thread_self().  0 is never valid. */
typedef uint64_t wsevent_thread_t;

/*
 * Return codes.  One list, three uses: the enum, wsevent_err_name() and
 * wsevent_strerror().  Non-negative values are outcomes, negative ones are
 * errors.  A call that answers WSEVENT_ESYS leaves the system's errno as
 * the failing system call set it.
 */
#define WSEVENT_ERRNO_MAP(XX)                                                 \
  XX(OK, 0, "success")                                                        \
  XX(TIMEOUT, 1, "the timeout elapsed before the wait was satisfied")         \
  XX(IO_COMPLETION, 2, "the wait ran completion routines")                    \
  XX(INTERRUPTED, 3, "the wait was interrupted by a signal")                  \
  XX(EINVAL_HANDLE, -1, "invalid handle (closed, stale or never issued)")     \
  XX(EINVAL, -2, "invalid parameter")                                         \
  XX(ENOMEM, -3, "not enough memory")                                         \
  XX(ECLOSED, -4, "an event was closed while the wait was blocked on it")     \
  XX(ENFILE, -5, "no file descriptor available")                              \
  XX(ELIMIT, -6, "too many objects")                                          \
  XX(ENOTSOCK, -7, "not a socket")                                            \
  XX(ENOTSUP, -8, "not supported on Linux")                                   \
  XX(ESYS, -9, "unexpected system error")                                     \
  XX(IO_PENDING, 4, "the operation is pending")                               \
  XX(IO_INCOMPLETE, -10, "the operation has not completed yet")               \
  XX(EABORTED, -11, "the operation was cancelled or its socket closed")       \
  XX(ESOCKET, -12, "the socket operation failed (the system error says why)") \
  XX(ENOTFOUND, -13, "no named event has that name")                         \
  XX(ENAME, -14, "invalid event name (1 to 200 bytes, no '/')")

enum wsevent_code {
#define WSEVENT_XX_(name, value, text) WSEVENT_##name = value,
  WSEVENT_ERRNO_MAP(WSEVENT_XX_)
#undef WSEVENT_XX_
  WSEVENT_CODE_MAX_ = 3
};

/* Flags for wsevent_create().  The default (0) is what WSACreateEvent
 * makes: manual-reset, initially unsignaled. */
#define WSEVENT_AUTO_RESET 0x1u
#define WSEVENT_INITIAL_SET 0x2u
/* Reported by wsevent_get_flags(), never taken by wsevent_create(): a
 * descriptor was handed out for the event (wsevent_fd), so a poller may
 * watch the event without ever calling a wait. */
#define WSEVENT_HAS_DESCRIPTOR 0x4u
/* Reported too: so many wait sources are attached to the event (more than
 * WSEVENT_POLLED_SOURCES_MAX) that waiting threads do not poll them
 * themselves, which would cost each wake-up time in proportion to the idle
 * ones: they poll the providers' stand-ins instead (one descriptor each,
 * which the waiting thread serves), or the providers serve them (one more
 * thread hop, at a constant cost). */
#define WSEVENT_SOURCES_NOT_POLLED 0x8u
#define WSEVENT_POLLED_SOURCES_MAX 16
/* Reported too: the event is shared between processes by name
 * (wsevent_create_named). */
#define WSEVENT_NAMED 0x10u
/* For wsevent_create_named(): open an existing event only, as OpenEvent. */
#define WSEVENT_OPEN_EXISTING 0x100u

/* Flags for wsevent_wait_multiple() and wsevent_sleep(). */
#define WSEVENT_WAIT_ALL 0x1u      /* all must be signaled at once */
#define WSEVENT_ALERTABLE 0x2u     /* run queued completion routines */
#define WSEVENT_INTERRUPTIBLE 0x4u /* return WSEVENT_INTERRUPTED on EINTR */

/* The timeout that never elapses, as Win32's INFINITE. */
#define WSEVENT_INFINITE UINT32_MAX

/*
 * Win32's results of WaitForMultipleObjectsEx / WSAWaitForMultipleEvents,
 * for the calls that keep Winsock's shape (wsevent_win32_result()).  Their
 * API is limited to WSEVENT_MAXIMUM_WAIT_OBJECTS events, since a larger
 * index would read as one of the other results.
 */
#define WSEVENT_WAIT_OBJECT_0 0x0u
#define WSEVENT_WAIT_IO_COMPLETION 0xC0u
#define WSEVENT_WAIT_TIMEOUT 0x102u
#define WSEVENT_WAIT_FAILED 0xFFFFFFFFu
#define WSEVENT_MAXIMUM_WAIT_OBJECTS 64

/* The largest list wsevent_wait_multiple() accepts (there is no 64 cap). */
#define WSEVENT_MAX_WAIT ((size_t)1 << 24)

/* A completion routine, run by wsevent in the thread it was queued to. */
typedef void (*wsevent_completion_fn)(void *context);

/*
 * wsevent_create: make a new event and store its handle in *event.
 * flags: WSEVENT_AUTO_RESET and/or WSEVENT_INITIAL_SET.
 * Returns WSEVENT_OK, WSEVENT_EINVAL (unknown flag, NULL pointer),
 * WSEVENT_ENOMEM, or WSEVENT_ELIMIT (16,777,215 events already open).
 */
WSEVENT_EXTERN int wsevent_create(wsevent_t *event, unsigned flags);

/*
 * wsevent_close: close an event.  Threads blocked on it wake with
 * WSEVENT_ECLOSED; its file descriptor, if one was requested, is closed.
 * The handle becomes invalid at once; the memory is reused only once the
 * last wait holding it has returned.  A second close gives
 * WSEVENT_EINVAL_HANDLE and does no harm.
 */
WSEVENT_EXTERN int wsevent_close(wsevent_t event);

/*
 * wsevent_set: signal an event.  On a manual-reset event every thread
 * blocked on it at that moment is released, even if a reset follows at
 * once.  On an auto-reset event exactly one waiter is released, or the
 * event stays signaled until one comes.
 *
 * When nobody waits on the event and it has no file descriptor, this is
 * one atomic operation: no lock and no system call.  Otherwise it takes the
 * library's dispatcher lock for a short time, so it must not be called from
 * a signal handler: use wsevent_set_from_signal() there.
 */
WSEVENT_EXTERN int wsevent_set(wsevent_t event);

/*
 * wsevent_set_from_signal: wsevent_set() for POSIX signal handlers (the
 * analogue of WPUSetEvent's "interrupt context" promise).  It never blocks,
 * never allocates and makes no call that is not async-signal-safe: when the
 * dispatcher lock is busy, the wake-up is left to its holder, who runs it
 * before releasing the lock.  The one difference from wsevent_set(): two
 * such calls on an auto-reset event that land while the lock is busy may
 * release one waiter instead of two, as two POSIX signals may coalesce.
 * On a named event it is one compare-and-swap and at most one futex
 * wake-up; there, the handle must not be closed by another thread while
 * the handler runs (the close could leave the handler the last user of
 * the event's shared page, to unmap).
 */
WSEVENT_EXTERN int wsevent_set_from_signal(wsevent_t event);

/*
 * wsevent_reset: make an event unsignaled.  No lock and no system call when
 * nobody waits on it and it has no file descriptor.
 */
WSEVENT_EXTERN int wsevent_reset(wsevent_t event);

/*
 * wsevent_is_set: 1 if the event is signaled, 0 if not, or a negative
 * error.  Never consumes the signal of an auto-reset event (a zero-timeout
 * wsevent_wait() does).  Never takes a lock; safe in a signal handler.
 */
WSEVENT_EXTERN int wsevent_is_set(wsevent_t event);

/*
 * wsevent_wait: wait until an event is signaled, as WaitForSingleObject.
 * timeout_ms: 0 polls, WSEVENT_INFINITE never times out; measured on the
 * monotonic clock and neither shortened nor lengthened by signals.
 * Returns WSEVENT_OK (signaled; an auto-reset event is consumed),
 * WSEVENT_TIMEOUT, WSEVENT_ECLOSED, or an error.
 */
WSEVENT_EXTERN int wsevent_wait(wsevent_t event, uint32_t timeout_ms);

/*
 * wsevent_wait_multiple: wait on `count` events, as
 * WaitForMultipleObjectsEx.
 *
 * Without WSEVENT_WAIT_ALL the wait is satisfied by any event and *index
 * receives the lowest index among the signaled ones (an auto-reset event at
 * that index is consumed).  A handle may appear more than once.
 *
 * With WSEVENT_WAIT_ALL it is satisfied only when all events are signaled
 * at one instant; the auto-reset ones are then consumed together, never
 * some without the others.  *index receives 0.  Duplicate handles give
 * WSEVENT_EINVAL, as on Windows.
 *
 * With WSEVENT_ALERTABLE, completion routines queued to the calling thread
 * (wsevent_queue_completion) are run inside the wait, in this thread, and
 * the wait returns WSEVENT_IO_COMPLETION.  Routines already queued run
 * before any event is looked at, as on Windows.
 *
 * With WSEVENT_INTERRUPTIBLE, a signal delivered to this thread while it
 * sleeps ends the wait with WSEVENT_INTERRUPTED (language runtimes use this
 * to run their signal handlers, then wait again).  Without it, signals are
 * invisible: the wait goes on until its original deadline.
 *
 * count must be 1 to WSEVENT_MAX_WAIT; `index` may be NULL.
 * Returns WSEVENT_OK, WSEVENT_TIMEOUT, WSEVENT_IO_COMPLETION,
 * WSEVENT_INTERRUPTED, WSEVENT_ECLOSED (an event was closed during the
 * wait; *index names it), WSEVENT_EINVAL_HANDLE (*index names the first
 * bad handle), WSEVENT_EINVAL, or WSEVENT_ENOMEM.
 */
WSEVENT_EXTERN int wsevent_wait_multiple(const wsevent_t *events, size_t count,
                                         unsigned flags, uint32_t timeout_ms,
                                         size_t *index);

/*
 * Deadlines.  A wsevent_time_t is a point on CLOCK_MONOTONIC in
 * nanoseconds; WSEVENT_NEVER never comes.  The *_until waits take one, so
 * that a caller that waits again after WSEVENT_INTERRUPTED (a language
 * runtime running its signal handlers) keeps the original end, to the
 * nanosecond, with no loop of its own.
 */
typedef int64_t wsevent_time_t;
#define WSEVENT_NEVER INT64_MAX

/* wsevent_now: the monotonic clock, now.  Safe in a signal handler. */
WSEVENT_EXTERN wsevent_time_t wsevent_now(void);

/*
 * wsevent_deadline: now + seconds into *deadline.  seconds <= 0 gives now
 * (the wait polls, as threading.Event.wait(-1) does); +infinity, or more
 * than WSEVENT_MAX_SECONDS (about 292 years), gives WSEVENT_NEVER.
 * Returns WSEVENT_OK, or WSEVENT_EINVAL for NaN or a NULL pointer.
 */
#define WSEVENT_MAX_SECONDS 9.2e9
WSEVENT_EXTERN int wsevent_deadline(double seconds, wsevent_time_t *deadline);

/*
 * wsevent_wait_multiple_until: wsevent_wait_multiple() with an absolute
 * deadline instead of a timeout; a deadline already past polls.  Same
 * flags, results and errors.
 */
WSEVENT_EXTERN int wsevent_wait_multiple_until(const wsevent_t *events,
                                               size_t count, unsigned flags,
                                               wsevent_time_t deadline,
                                               size_t *index);

/*
 * wsevent_win32_result: what WaitForMultipleObjectsEx returns for a wait's
 * code and index: WSEVENT_WAIT_OBJECT_0 + index, WSEVENT_WAIT_TIMEOUT,
 * WSEVENT_WAIT_IO_COMPLETION, or WSEVENT_WAIT_FAILED for an error.
 */
WSEVENT_EXTERN uint32_t wsevent_win32_result(int code, size_t index);

/*
 * wsevent_sleep: wait for nothing but the timeout, as SleepEx.  With
 * WSEVENT_ALERTABLE, returns WSEVENT_IO_COMPLETION as soon as completion
 * routines were run.  Returns WSEVENT_OK when the time has elapsed.
 */
WSEVENT_EXTERN int wsevent_sleep(uint32_t timeout_ms, unsigned flags);

/* wsevent_sleep_until: wsevent_sleep() up to an absolute deadline.  With
 * WSEVENT_INTERRUPTIBLE, a signal ends it with WSEVENT_INTERRUPTED. */
WSEVENT_EXTERN int wsevent_sleep_until(wsevent_time_t deadline, unsigned flags);

/*
 * wsevent_get_flags: the flags of a live event in *flags: WSEVENT_AUTO_RESET
 * (or 0 for manual-reset), WSEVENT_HAS_DESCRIPTOR,
 * WSEVENT_SOURCES_NOT_POLLED and WSEVENT_NAMED; WSEVENT_INITIAL_SET is never reported.
 */
WSEVENT_EXTERN int wsevent_get_flags(wsevent_t event, unsigned *flags);

/*
 * Named events, shared between processes, as CreateEvent/OpenEvent with a
 * name.
 *
 * wsevent_create_named: create the event called `name`, or open it if it
 * exists (*existed, if not NULL, then receives 1, as Win32's
 * ERROR_ALREADY_EXISTS; the existing event keeps its own reset mode and
 * state, and flags other than WSEVENT_OPEN_EXISTING are ignored).
 * flags: WSEVENT_AUTO_RESET, WSEVENT_INITIAL_SET, WSEVENT_OPEN_EXISTING
 * (never create: WSEVENT_ENOTFOUND if nobody holds an event of that name).
 *
 * Names are a flat namespace per user, as Win32's Local\: 1 to 200 bytes,
 * any byte but '/' (WSEVENT_ENAME otherwise).  Only processes of the same
 * user see them.  The event lives while any process holds a handle to it:
 * when the last handle is closed, or the last process holding one dies,
 * the name is free again.  Every call and wait works on a named event as
 * on a local one, across processes: wait-any, atomic wait-all over any mix
 * of local and named events, auto-reset releasing exactly one waiter in
 * any process.  A handle is valid in the process that opened it and in
 * its fork() children; other processes open the name.  README.md lists
 * the differences from Windows.
 *
 * Returns WSEVENT_OK, WSEVENT_ENAME, WSEVENT_ENOTFOUND, WSEVENT_EINVAL,
 * WSEVENT_ENOMEM, WSEVENT_ENFILE, WSEVENT_ELIMIT, or WSEVENT_ESYS (errno
 * says why: EACCES if the namespace directory is not the user's own).
 */
#define WSEVENT_NAME_MAX 200
WSEVENT_EXTERN int wsevent_create_named(wsevent_t *event, const char *name,
                                        unsigned flags, int *existed);

/*
 * wsevent_get_name: copy the name of a named event, NUL-terminated, into
 * buf (size bytes; WSEVENT_NAME_MAX + 1 always suffice); an unnamed event
 * gives "".  *length (if not NULL) receives the name's length.  Returns
 * WSEVENT_OK, WSEVENT_EINVAL (NULL buf, or too small), or
 * WSEVENT_EINVAL_HANDLE.
 */
WSEVENT_EXTERN int wsevent_get_name(wsevent_t event, char *buf, size_t size,
                                    size_t *length);

/*
 * wsevent_fd: a file descriptor that is readable while the event is
 * signaled, for select/poll/epoll users.  Created on the first request,
 * owned by the event (never close it yourself), closed by wsevent_close().
 * Reading it is not needed and consumes nothing.  For an auto-reset event
 * "readable" means "was signaled when last looked at": another waiter may
 * take the signal first, so on readiness call wsevent_wait(event, 0) to
 * claim it, and go back to polling if that times out.
 * Returns WSEVENT_OK, WSEVENT_ENFILE, or an error.
 */
WSEVENT_EXTERN int wsevent_fd(wsevent_t event, int *fd);

/*
 * wsevent_thread_self: the id of the calling thread, for
 * wsevent_queue_completion().  The id becomes invalid when the thread
 * exits (or calls wsevent_thread_end); routines still queued to it then
 * are discarded, not run.
 */
WSEVENT_EXTERN int wsevent_thread_self(wsevent_thread_t *thread);

/*
 * wsevent_queue_completion: queue fn(context) to a thread, as QueueUserAPC.
 * It runs in that thread during its next alertable wait (or at once, if the
 * thread is in one now).  Callable from any thread, not from a signal
 * handler (it allocates).  Returns WSEVENT_OK, WSEVENT_EINVAL_HANDLE (the
 * thread has exited), WSEVENT_EINVAL (fn is NULL), or WSEVENT_ENOMEM.
 */
WSEVENT_EXTERN int wsevent_queue_completion(wsevent_thread_t thread,
                                            wsevent_completion_fn fn,
                                            void *context);

/*
 * wsevent_queue_completion_ex: wsevent_queue_completion() with a release
 * function: if the routine is discarded instead of run (its thread ended
 * first), release(context) is called instead, once, in the thread that
 * ended, outside every lock.  Exactly one of fn and release runs for a
 * routine that was queued (none after fork() in the child, for routines
 * queued to threads that did not survive it).  release may be NULL.  On
 * an error nothing is queued and nothing is called.
 */
WSEVENT_EXTERN int wsevent_queue_completion_ex(wsevent_thread_t thread,
                                               wsevent_completion_fn fn,
                                               wsevent_completion_fn release,
                                               void *context);

/*
 * wsevent_thread_end: end the calling thread's id now, as its exit would:
 * the id becomes invalid, routines still queued to it are discarded (their
 * release functions called), and later queueing to it fails.  For
 * language runtimes whose threads end (a join returns) before the OS
 * thread does.  The thread may use wsevent again afterwards, with a new
 * id.  Always WSEVENT_OK.
 */
WSEVENT_EXTERN int wsevent_thread_end(void);

/*
 * wsevent_thread_set_data / wsevent_thread_data: one pointer per thread for
 * language glue (the Lua module keeps the lua_State that is waiting there,
 * so that completion routines can call back into it).
 */
WSEVENT_EXTERN int wsevent_thread_set_data(void *data, void **previous);
WSEVENT_EXTERN void *wsevent_thread_data(void);

/* ---- Completion ports and asynchronous waits ---------------------------- */

/*
 * An asynchronous wait is a wait on one or many events (any or all, as
 * wsevent_wait_multiple) that does not block.  It is satisfied, and its
 * auto-reset events consumed, at the very moment a blocking wait would
 * be: a manual-reset event set and reset at once still satisfies it, and
 * each set of an auto-reset event satisfies exactly one wait, blocking or
 * not, oldest first.  When it is satisfied (or one of its events is
 * closed), a packet (key, result, index) is queued to its completion port,
 * whose descriptor is readable while packets wait: an event loop (asyncio,
 * cqueues, luv) polls that one descriptor for every wait it has, and takes
 * the packets.  There is no timeout: the loop cancels the wait.
 *
 * Ports and waits are named by generation-checked handles, like events.
 * Every call may be made from any thread, none from a signal handler.
 */
typedef uint64_t wsevent_port_t;
typedef uint64_t wsevent_async_t;

/* What a satisfied asynchronous wait reports. */
struct wsevent_packet {
  uint64_t key; /* the caller's, from wsevent_wait_async */
  int result;   /* WSEVENT_OK, or WSEVENT_ECLOSED (an event was closed) */
  size_t index; /* wait-any: the event taken (lowest signaled); or the
                   closed one; wait-all: 0 */
};

/* wsevent_port_create: a new port.  WSEVENT_OK, WSEVENT_ENFILE (no
 * descriptor), WSEVENT_ENOMEM, WSEVENT_ELIMIT, WSEVENT_EINVAL (NULL). */
WSEVENT_EXTERN int wsevent_port_create(wsevent_port_t *port);

/* wsevent_port_fd: the port's descriptor, readable while packets are
 * queued; owned by the port (closed by wsevent_port_close). */
WSEVENT_EXTERN int wsevent_port_fd(wsevent_port_t port, int *fd);

/*
 * wsevent_port_close: close a port.  Its pending waits are cancelled
 * (nothing was consumed for them); packets still queued are dropped, and
 * an auto-reset signal they consumed with them: take them first.  A
 * second close gives WSEVENT_EINVAL_HANDLE.
 */
WSEVENT_EXTERN int wsevent_port_close(wsevent_port_t port);

/*
 * wsevent_wait_async: start an asynchronous wait on `count` events for the
 * port; flags: 0 (any) or WSEVENT_WAIT_ALL.  If it can be satisfied now it
 * is, and its packet is queued at once.  *wait names it until its packet
 * is taken or it is cancelled.  Returns WSEVENT_OK, WSEVENT_EINVAL_HANDLE
 * (the port, or an event: closed or stale), WSEVENT_EINVAL (count 0 or
 * above WSEVENT_MAX_WAIT, unknown flags, duplicates in a wait-all),
 * WSEVENT_ENOMEM or WSEVENT_ELIMIT.
 */
WSEVENT_EXTERN int wsevent_wait_async(wsevent_port_t port,
                                      const wsevent_t *events, size_t count,
                                      unsigned flags, uint64_t key,
                                      wsevent_async_t *wait);

/*
 * wsevent_port_take: move up to `max` queued packets, oldest first, into
 * packets[]; *taken says how many (0 if none: it never blocks).  The waits
 * they came from are finished: their handles become invalid.
 */
WSEVENT_EXTERN int wsevent_port_take(wsevent_port_t port,
                                     struct wsevent_packet *packets,
                                     size_t max, size_t *taken);

/*
 * wsevent_wait_async_cancel: cancel a wait.  If it was still pending,
 * nothing was consumed: *satisfied is 0.  If it had been satisfied and its
 * packet not yet taken, the packet is removed from the port and given to
 * the caller (*packet, if not NULL) with *satisfied 1: the caller now owns
 * its outcome, and gives a consumed auto-reset signal back (sets the
 * event again) if it no longer wants it.  WSEVENT_EINVAL_HANDLE if the
 * wait is unknown, cancelled, or its packet was already taken.
 */
WSEVENT_EXTERN int wsevent_wait_async_cancel(wsevent_async_t wait,
                                             int *satisfied,
                                             struct wsevent_packet *packet);

/* ---- Network events (WSAEventSelect) and waitable timers -------------- */

/* Network event bits, with Winsock's values.  The last four exist on
 * Windows only and are refused with WSEVENT_ENOTSUP. */
#define WSEVENT_FD_READ_BIT 0
#define WSEVENT_FD_WRITE_BIT 1
#define WSEVENT_FD_OOB_BIT 2
#define WSEVENT_FD_ACCEPT_BIT 3
#define WSEVENT_FD_CONNECT_BIT 4
#define WSEVENT_FD_CLOSE_BIT 5
#define WSEVENT_FD_QOS_BIT 6
#define WSEVENT_FD_GROUP_QOS_BIT 7
#define WSEVENT_FD_ROUTING_INTERFACE_CHANGE_BIT 8
#define WSEVENT_FD_ADDRESS_LIST_CHANGE_BIT 9
#define WSEVENT_FD_MAX_EVENTS 10
#define WSEVENT_FD_READ (1L << WSEVENT_FD_READ_BIT)
#define WSEVENT_FD_WRITE (1L << WSEVENT_FD_WRITE_BIT)
#define WSEVENT_FD_OOB (1L << WSEVENT_FD_OOB_BIT)
#define WSEVENT_FD_ACCEPT (1L << WSEVENT_FD_ACCEPT_BIT)
#define WSEVENT_FD_CONNECT (1L << WSEVENT_FD_CONNECT_BIT)
#define WSEVENT_FD_CLOSE (1L << WSEVENT_FD_CLOSE_BIT)
#define WSEVENT_FD_QOS (1L << WSEVENT_FD_QOS_BIT)
#define WSEVENT_FD_GROUP_QOS (1L << WSEVENT_FD_GROUP_QOS_BIT)
#define WSEVENT_FD_ROUTING_INTERFACE_CHANGE (1L << WSEVENT_FD_ROUTING_INTERFACE_CHANGE_BIT)
#define WSEVENT_FD_ADDRESS_LIST_CHANGE (1L << WSEVENT_FD_ADDRESS_LIST_CHANGE_BIT)
#define WSEVENT_FD_ALL_EVENTS ((1L << WSEVENT_FD_MAX_EVENTS) - 1)

/* What WSAEnumNetworkEvents returns: the bits that occurred and, for each
 * bit, an errno value (0 for success): FD_CONNECT carries the connect's
 * error (ECONNREFUSED...), FD_CLOSE 0 for a graceful close and ECONNRESET
 * (or another errno) for an abortive one. */
struct wsevent_network_events {
  long network_events;
  int error_code[WSEVENT_FD_MAX_EVENTS];
};

/*
 * wsevent_event_select: associate socket `fd` with `event` and a mask of
 * WSEVENT_FD_* bits, as WSAEventSelect.  Replaces any previous association
 * of the socket and clears its record; mask 0 cancels.  Makes the socket
 * non-blocking.  Conditions that already hold are recorded at once.  A
 * thread waiting on the event watches the socket itself; while none does,
 * the library's reactor thread does.  See README.md for the re-enabling
 * rules and where Linux forces a difference.
 * Returns WSEVENT_OK, WSEVENT_ENOTSOCK, WSEVENT_ENOTSUP (a Windows-only
 * bit), WSEVENT_EINVAL (other unknown bits, negative fd),
 * WSEVENT_EINVAL_HANDLE, WSEVENT_ENFILE or WSEVENT_ENOMEM.
 */
WSEVENT_EXTERN int wsevent_event_select(int fd, wsevent_t event, long mask);

/*
 * wsevent_event_select_ex: wsevent_event_select() with flags:
 * WSEVENT_SELECT_CALLS_SEEN says that every recv, send and accept on the
 * socket goes through the calls below (the Winsock header makes it so),
 * so its network events are re-enabled exactly as Winsock re-enables
 * them, by those calls only.  Without it, a bit is also re-enabled when
 * the program waits or enumerates after a call the library did not see.
 * A socket accepted with wsevent_accept() inherits the flag.
 */
#define WSEVENT_SELECT_CALLS_SEEN 0x1u
WSEVENT_EXTERN int wsevent_event_select_ex(int fd, wsevent_t event, long mask,
                                           unsigned flags);

/*
 * wsevent_enum_network_events: copy the socket's record of network events
 * into *out, clear it and, if event_to_reset is not 0, reset that event:
 * one atomic step, as WSAEnumNetworkEvents.  Like it, it re-enables
 * nothing by itself (but see the socket calls below).  Returns WSEVENT_OK
 * (an unselected socket has an empty record), WSEVENT_ENOTSOCK (not a
 * socket, checked first), WSEVENT_EINVAL (out is NULL),
 * WSEVENT_EINVAL_HANDLE (event_to_reset).
 */
WSEVENT_EXTERN int wsevent_enum_network_events(int fd, wsevent_t event_to_reset,
                                               struct wsevent_network_events *out);

/*
 * wsevent_enum_network_events_ex: wsevent_enum_network_events() with
 * flags: WSEVENT_ENUM_SAME_SOCKET says the caller knows fd has stayed open
 * since it was selected (a language binding whose socket object, the one
 * that was selected, still holds fd).  The enumeration then skips the
 * fstat(2) that otherwise makes sure fd is still the socket that was
 * selected (one closed behind the library's back whose number went to
 * another file must not report the old socket's record); it is most of an
 * enumeration's cost.  Other flags: WSEVENT_EINVAL.
 */
#define WSEVENT_ENUM_SAME_SOCKET 0x1u
WSEVENT_EXTERN int wsevent_enum_network_events_ex(
    int fd, wsevent_t event_to_reset, struct wsevent_network_events *out,
    unsigned flags);

/*
 * The socket calls that re-enable network events, as Winsock's calls do.
 * Each makes the system call of the same name and returns what it returns
 * (-1 with errno on failure; sends never raise SIGPIPE); then, on a socket
 * selected with wsevent_event_select, it re-enables what Windows' call
 * re-enables and records again at once what still holds:
 *   recv, recvfrom, recvmsg      FD_READ (FD_OOB with MSG_OOB): recorded
 *                                again if data remains; FD_CLOSE recorded
 *                                once the data before the FIN was read.
 *   send, sendto, sendmsg        FD_WRITE, when the call would block: it
 *                                is recorded once there is room again.
 *   accept                       FD_ACCEPT, recorded again if more
 *                                connections wait; the new socket gets the
 *                                listener's selection (event and mask), as
 *                                Winsock copies it, and is non-blocking.
 * Calls made with the C library's functions instead are not seen: the bits
 * they would re-enable are re-enabled when the program next waits on the
 * event or enumerates (README.md, "Event-select").
 */
WSEVENT_EXTERN ssize_t wsevent_recv(int fd, void *buf, size_t len, int flags);
WSEVENT_EXTERN ssize_t wsevent_recvfrom(int fd, void *buf, size_t len, int flags,
                                        struct sockaddr *from, socklen_t *fromlen);
WSEVENT_EXTERN ssize_t wsevent_recvmsg(int fd, struct msghdr *msg, int flags);
WSEVENT_EXTERN ssize_t wsevent_send(int fd, const void *buf, size_t len, int flags);
WSEVENT_EXTERN ssize_t wsevent_sendto(int fd, const void *buf, size_t len,
                                      int flags, const struct sockaddr *to,
                                      socklen_t tolen);
WSEVENT_EXTERN ssize_t wsevent_sendmsg(int fd, const struct msghdr *msg, int flags);
WSEVENT_EXTERN int wsevent_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);

/* wsevent_socket_closing: fd is about to be closed: cancel its selection
 * and complete its overlapped operations with WSEVENT_EABORTED now
 * (closesocket does).  WSEVENT_OK, or WSEVENT_ENOTSOCK if it was neither
 * selected nor had operations.  A selected socket closed without it is
 * noticed later, harmlessly; its pending operations are not. */
WSEVENT_EXTERN int wsevent_socket_closing(int fd);

/* wsevent_socket_selection: the event and mask fd is selected with (0 and
 * 0 when it is not).  WSEVENT_OK, WSEVENT_ENOTSOCK (checked first) or
 * WSEVENT_EINVAL (a NULL pointer). */
WSEVENT_EXTERN int wsevent_socket_selection(int fd, wsevent_t *event,
                                            long *mask);

/*
 * wsevent_thread_alert_event: an event of thread `thread` that is never
 * set, made on first request and closed when the thread ends: every
 * alertable wait of that thread polls the wait sources attached to it
 * (wsevent_provider.h).  A provider whose operations complete through
 * routines queued to the thread attaches its sources there, so that the
 * thread, waiting alertably, completes them itself.  Do not set it.
 * WSEVENT_OK, WSEVENT_EINVAL_HANDLE (no such thread), WSEVENT_EINVAL,
 * WSEVENT_ENOMEM.
 */
WSEVENT_EXTERN int wsevent_thread_alert_event(wsevent_thread_t thread,
                                              wsevent_t *event);

/* ---- Overlapped socket I/O (WSARecv, WSASend, ... with an overlapped) --
 *
 * An operation starts on a socket and returns at once: WSEVENT_OK if it
 * completed now, WSEVENT_IO_PENDING if it will complete later, or a failure
 * (then nothing was started and nothing is signalled).  At completion,
 * immediate or later, the library fills the overlapped record and then
 * either queues `routine` to the thread that started the operation (it runs
 * inside that thread's next alertable wait, as Winsock's completion
 * routines do) or, without a routine, sets ov->event (if not 0).  A routine
 * gets the outcome, the bytes transferred, the record and the flags.
 * Without a routine, the start resets ov->event first, as Windows' I/O
 * manager does: a loop may reuse its event without resetting it.
 *
 * The caller owns the buffers and the record: both must stay valid until
 * the operation completed (the record's status is no longer
 * WSEVENT_IO_PENDING, or the routine ran).  The array of buffers is copied
 * at the start, as Winsock captures its WSABUF array.
 *
 * Operations of one kind on one socket complete in the order they were
 * started: receives each take the data that was next, sends put their
 * bytes on the wire one after the other, whole (a stream send completes
 * once every byte is sent).  A receive completes with what is there (1
 * byte or more), or 0 bytes at the end of the stream; a receive into no
 * bytes completes when data (or the end) is there, taking nothing.
 *
 * Linux cannot tell the library that a descriptor was closed: close a
 * socket with pending operations through wsevent_socket_closing() (the
 * Winsock header's closesocket does), which completes each with
 * WSEVENT_EABORTED.  A socket closed behind the library's back leaves its
 * operations pending for good.
 */
/*
 * ov->options: WSEVENT_OV_SAME_SOCKET says the caller knows fd has named
 * the same socket since its previous operation on it (it was not closed,
 * and its number taken by another file, behind the library's back: its
 * code closes fd only through wsevent_socket_closing, as a Winsock
 * program closes a SOCKET only with closesocket).  An operation that must
 * wait then skips the fstat(2) that otherwise makes sure fd is still the
 * socket of the library's record, a system call per operation in a loop
 * that receives again from its routine.  Vouched wrongly, operations may
 * wait on the old socket's record for good.  Other bits: WSEVENT_EINVAL.
 */
#define WSEVENT_OV_SAME_SOCKET 0x1u

typedef struct wsevent_overlapped {
  /* Set by the caller before the start: */
  wsevent_t event;   /* set at completion when there is no routine; 0: none */
  void *context;     /* the caller's, never read by the library */
  /* Called instead of the routine when the routine can never run because
   * its thread ended first; NULL: nothing to do.  It may run in any
   * thread, with the library's lock held: record the fact and return
   * (no library call, no lock that a thread calling the library holds). */
  void (*release)(struct wsevent_overlapped *ov);
  unsigned options;  /* WSEVENT_OV_SAME_SOCKET, or 0 */
  /* Written by the library; read them once the operation has completed
   * (wsevent_overlapped_result() waits for that): */
  int status;        /* WSEVENT_IO_PENDING, then WSEVENT_OK or a failure */
  int error;         /* the errno of a WSEVENT_ESOCKET failure, else 0 */
  size_t bytes;      /* bytes transferred */
  int flags;         /* a receive's MSG_* result flags (MSG_TRUNC...) */
  int socket;        /* an accept's new descriptor, else -1 */
  void *internal;    /* the library's */
} wsevent_overlapped_t;

/* A buffer of an operation, as WSABUF. */
typedef struct wsevent_buf {
  size_t len;
  void *buf;
} wsevent_buf_t;

/* A completion routine: status (WSEVENT_OK or a failure), bytes, the
 * operation's record, the receive flags. */
typedef void (*wsevent_overlapped_fn)(int status, size_t bytes,
                                      wsevent_overlapped_t *ov, int flags);

/*
 * Start a receive (recvmsg flags: MSG_PEEK, MSG_OOB, MSG_WAITALL are not
 * allowed, as Winsock's overlapped receive refuses them), a receive-from
 * (the sender's address into *from / *fromlen, which must stay valid too),
 * a send or a send-to (flags: MSG_OOB, MSG_DONTROUTE; sends never raise
 * SIGPIPE).  nbufs may be 0 (then bufs may be NULL) and at most
 * WSEVENT_MAX_BUFS.  Returns WSEVENT_OK, WSEVENT_IO_PENDING, or:
 * WSEVENT_ENOTSOCK (checked first), WSEVENT_EINVAL (NULL record, bad
 * buffers, flags, a record already in use), WSEVENT_ESOCKET (the system
 * refused at once: ov->error says why; also recorded in the record),
 * WSEVENT_ENOMEM, WSEVENT_ENFILE.
 */
#define WSEVENT_MAX_BUFS 1024
WSEVENT_EXTERN int wsevent_recv_overlapped(int fd, const wsevent_buf_t *bufs,
                                           size_t nbufs, int flags,
                                           wsevent_overlapped_t *ov,
                                           wsevent_overlapped_fn routine);
WSEVENT_EXTERN int wsevent_recvfrom_overlapped(int fd, const wsevent_buf_t *bufs,
                                               size_t nbufs, int flags,
                                               struct sockaddr *from,
                                               socklen_t *fromlen,
                                               wsevent_overlapped_t *ov,
                                               wsevent_overlapped_fn routine);
WSEVENT_EXTERN int wsevent_send_overlapped(int fd, const wsevent_buf_t *bufs,
                                           size_t nbufs, int flags,
                                           wsevent_overlapped_t *ov,
                                           wsevent_overlapped_fn routine);
WSEVENT_EXTERN int wsevent_sendto_overlapped(int fd, const wsevent_buf_t *bufs,
                                             size_t nbufs, int flags,
                                             const struct sockaddr *to,
                                             socklen_t tolen,
                                             wsevent_overlapped_t *ov,
                                             wsevent_overlapped_fn routine);
/*
 * Accept a connection on a listening socket: ov->socket is the new
 * descriptor (close-on-exec, blocking), and its peer's address goes to
 * *addr / *addrlen if addr is not NULL.  Connect a socket to an address
 * (ConnectEx).  Both make the socket non-blocking (Linux cannot accept or
 * connect without blocking otherwise).  Same returns as above.
 */
WSEVENT_EXTERN int wsevent_accept_overlapped(int fd, struct sockaddr *addr,
                                             socklen_t *addrlen,
                                             wsevent_overlapped_t *ov,
                                             wsevent_overlapped_fn routine);
WSEVENT_EXTERN int wsevent_connect_overlapped(int fd, const struct sockaddr *addr,
                                              socklen_t addrlen,
                                              wsevent_overlapped_t *ov,
                                              wsevent_overlapped_fn routine);

/*
 * wsevent_overlapped_result: the outcome of an operation, with Winsock's
 * rules (WSAGetOverlappedResult).  Not complete: WSEVENT_IO_INCOMPLETE
 * unless `wait`, then it blocks until it is.  Complete: the operation's
 * status (WSEVENT_OK or its failure), with *bytes and *flags (either may
 * be NULL).  WSEVENT_EINVAL for a NULL record or one never started.
 */
WSEVENT_EXTERN int wsevent_overlapped_result(wsevent_overlapped_t *ov, int wait,
                                             size_t *bytes, int *flags);

/*
 * wsevent_cancel_overlapped: complete fd's pending operations (only the
 * one of `ov`, if not NULL) with WSEVENT_EABORTED, as CancelIoEx.  Bytes
 * already moved stay counted: a send cancelled half-way reports what it
 * sent.  Returns WSEVENT_OK, or WSEVENT_EINVAL_HANDLE if nothing matched
 * was pending (Windows' ERROR_NOT_FOUND).
 */
WSEVENT_EXTERN int wsevent_cancel_overlapped(int fd, wsevent_overlapped_t *ov);

/* A waitable timer id.  0 is never valid. */
typedef uint64_t wsevent_timer_t;

/*
 * wsevent_timer_start: set `event` after due_ms milliseconds and then
 * every period_ms milliseconds (0: once), as SetWaitableTimer on a timer
 * that signals an event.  The timer stops by itself if the event is
 * closed.  Returns WSEVENT_OK with *timer, or WSEVENT_EINVAL_HANDLE,
 * WSEVENT_ENFILE, WSEVENT_ENOMEM.
 */
WSEVENT_EXTERN int wsevent_timer_start(wsevent_t event, uint32_t due_ms,
                                       uint32_t period_ms, wsevent_timer_t *timer);

/* wsevent_timer_cancel: stop a timer (CancelWaitableTimer); the event is
 * left as it is.  WSEVENT_EINVAL_HANDLE for an unknown or finished timer. */
WSEVENT_EXTERN int wsevent_timer_cancel(wsevent_timer_t timer);

/* wsevent_err_name: "WSEVENT_EINVAL" etc.; wsevent_strerror: a sentence.
 * Both return a static string, also for unknown codes. */
WSEVENT_EXTERN const char *wsevent_err_name(int code);
WSEVENT_EXTERN const char *wsevent_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* WSEVENT_H */
