/*
 * wsevent_provider.h: the upcall table that service providers use.
 *
 * A provider (a library with its own threads that completes operations and
 * signals events) never links libwsevent: it receives this table from the
 * host that loaded it, as WSPStartup receives the WPU* upcalls.  The table
 * reaches it from:
 *   - C:      wsevent_upcalls(), when the program links libwsevent;
 *   - Python: the capsule wsevent._wsevent._C_API (WSEVENT_CAPSULE_NAME);
 *   - Lua:    the light userdata wsevent._upcalls.
 * So the provider and the script share one core and one handle space.
 *
 * The table is versioned like sqlite3_io_methods: iVersion first, slots
 * only ever appended, each marked with the version that added it.  A
 * provider checks iVersion >= the version of every slot it calls.
 *
 * Every slot may be called from any thread.  xSetFromSignal and xIsSet are
 * also safe in a POSIX signal handler; see wsevent.h for each call.
 */
#ifndef WSEVENT_PROVIDER_H
#define WSEVENT_PROVIDER_H

#include "wsevent.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WSEVENT_UPCALLS_VERSION 4
#define WSEVENT_CAPSULE_NAME "wsevent._wsevent._C_API"
#define WSEVENT_LUA_UPCALLS_FIELD "_upcalls"

/*
 * Wait sources (version 2).
 *
 * A provider whose work is driven by a file descriptor (a socket, a
 * timerfd) attaches a source to the event it signals: the descriptor, the
 * poll(2) events that would give it work, and callbacks.  A thread that
 * waits on the event then polls the descriptor itself, besides sleeping
 * on the event, and calls ready() in its own thread when the descriptor
 * is ready: the provider does its work there (reads, records, sets the
 * event through the table) and the waiter wakes with no thread hop between
 * the kernel and itself.  A zero-timeout wait polls the descriptor once.
 *
 * While no thread polls a source, the provider serves the descriptor its
 * own way (a thread of its own, in epoll).  watchers_changed() tells it
 * when the number of polling threads (xSourceWatchers) may have crossed
 * zero, so that it can stand down and take over again.
 *
 * A thread polls through an epoll instance of its own, which keeps the
 * descriptor registered from one wait to the next (level-triggered, so
 * ready() sees what poll(2) would show).  epoll forgets a file that is
 * closed: a descriptor closed before its source is detached is not
 * reported with POLLNVAL there, as poll(2) would; notice it some other way
 * (a check when the provider is next called).  Events that change at every
 * operation cost the polling threads an epoll_ctl each: keep them stable.
 *
 * A source lives until it is detached (xSourceDetach) or its event is
 * closed, and no thread uses it any more; detached() then runs once, and
 * only then may the provider close the descriptor and free the context.
 * Sources do not survive fork(): the child's core forgets them without
 * calling anything.
 */
typedef uint64_t wsevent_source_t;

struct wsevent_source_ops {
  /*
   * The descriptor is ready; revents as poll(2) gives them.  Do the work
   * and set the event if something happened.  Runs in a waiting thread,
   * outside every lock of the core, perhaps in several threads at once;
   * may call any upcall, xSourceUpdate and xSourceDetach of this source
   * included.  It must make progress or change the source's events so
   * that the descriptor is no longer ready for them: a waiter that keeps
   * finding it ready with nothing done stops polling it for the rest of
   * its wait and leaves it to the provider.
   */
  void (*ready)(void *context, short revents);
  /* The number of polling threads may have crossed zero: look at
   * xSourceWatchers().  Outside every lock of the core; may be NULL. */
  void (*watchers_changed)(void *context);
  /* The source is gone and unused: the last callback.  Called once, in
   * the thread that dropped the last use, outside every lock. */
  void (*detached)(void *context);
  /* A wait on the event begins (also a zero-timeout one), in the waiting
   * thread, before it looks at the descriptor: the moment to re-check
   * what may have changed without the provider seeing it, and to update
   * the events with xSourceUpdate.  Also called once when the event's
   * descriptor is first handed out (wsevent_fd), in the thread that asked
   * for it: whoever polls that descriptor waits from then on without
   * anybody polling the source (xSourceWatchers may be 0), so anything
   * the provider holds back for "the next wait" is due now.  May be
   * NULL. */
  void (*waiting)(void *context);
};

struct wsevent_upcalls {
  int iVersion;
  /* Version 1 */
  int (*xCreate)(wsevent_t *event, unsigned flags);
  int (*xClose)(wsevent_t event);
  int (*xSet)(wsevent_t event);
  int (*xSetFromSignal)(wsevent_t event);
  int (*xReset)(wsevent_t event);
  int (*xIsSet)(wsevent_t event);
  int (*xWaitMultiple)(const wsevent_t *events, size_t count, unsigned flags,
                       uint32_t timeout_ms, size_t *index);
  int (*xFd)(wsevent_t event, int *fd);
  int (*xThreadSelf)(wsevent_thread_t *thread);
  int (*xQueueCompletion)(wsevent_thread_t thread, wsevent_completion_fn fn,
                          void *context);
  void *(*xThreadData)(void);
  const char *(*xStrerror)(int code);
  const char *(*xErrName)(int code);
  int (*xGetFlags)(wsevent_t event, unsigned *flags);
  /* Version 2 */
  int (*xWaitMultipleUntil)(const wsevent_t *events, size_t count,
                            unsigned flags, wsevent_time_t deadline,
                            size_t *index);
  /* Attach a source to an event: WSEVENT_OK with *source, or
   * WSEVENT_EINVAL_HANDLE, WSEVENT_EINVAL (NULL ops, ready or detached,
   * negative fd), WSEVENT_ENOMEM, WSEVENT_ELIMIT. */
  int (*xSourceAttach)(wsevent_t event, const struct wsevent_source_ops *ops,
                       void *context, int fd, short events,
                       wsevent_source_t *source);
  /* Change the poll(2) events of interest (0: none for now); threads
   * polling the source poll again with them.  WSEVENT_EINVAL_HANDLE once
   * detached. */
  int (*xSourceUpdate)(wsevent_source_t source, short events);
  /* Detach a source; detached() runs once no thread uses it (perhaps
   * before this returns, perhaps later in a waiting thread).  A second
   * detach gives WSEVENT_EINVAL_HANDLE. */
  int (*xSourceDetach)(wsevent_source_t source);
  /* How many threads poll the source now (0 once detached). */
  int (*xSourceWatchers)(wsevent_source_t source);
  int (*xQueueCompletionEx)(wsevent_thread_t thread, wsevent_completion_fn fn,
                            wsevent_completion_fn release, void *context);
  wsevent_time_t (*xNow)(void);
  /* Version 3 */
  /* wsevent_thread_alert_event: the event whose sources the thread's
   * alertable waits poll. */
  int (*xThreadAlertEvent)(wsevent_thread_t thread, wsevent_t *event);
  /* Version 4 */
  /* Attach a stand-in: a source that waiters poll instead of the event's
   * sources while those are too many to poll (WSEVENT_SOURCES_NOT_POLLED),
   * and never otherwise.  Its descriptor stands for the provider's many
   * (an epoll instance that holds them): its ready() serves them in the
   * waiting thread, which saves the hop through a provider's thread.  It
   * is not counted among the sources; detach it, or the event's close
   * does.  Results as xSourceAttach. */
  int (*xSourceAttachStandIn)(wsevent_t event,
                              const struct wsevent_source_ops *ops,
                              void *context, int fd, short events,
                              wsevent_source_t *source);
};

/* This process's table (for programs that link libwsevent). */
WSEVENT_EXTERN const struct wsevent_upcalls *wsevent_upcalls(void);

#ifdef __cplusplus
}
#endif

#endif /* WSEVENT_PROVIDER_H */
