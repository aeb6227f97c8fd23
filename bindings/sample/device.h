/*
 * device.h: a simulated asynchronous device, the sample wsevent provider.
 *
 * A client starts an operation with an event (and optionally a completion
 * routine); the device's own worker thread completes it after a delay, or
 * when device_complete() is called, sets the event through the upcall table
 * and queues the routine to the thread that started the operation.  This
 * is the seed's model: WSPSend with an overlapped event, WPUSetEvent, and a
 * completion routine run in the client's alertable wait.
 *
 * Every function may be called from any thread.
 */
#ifndef DEVICE_H
#define DEVICE_H

#include "wsevent_provider.h"

/* An event handle the device created and hands over to the caller. */
typedef wsevent_t wsevent_new_t;

/* WSPStartup: receive the host's upcall table and start the worker
 * thread.  Returns 0 or -1 (no table, table too old, no thread). */
int device_startup(const struct wsevent_upcalls *upcalls);

/* WSPCleanup: stop the worker thread and wait for it; operations still
 * pending never complete, and their completions are released.  The
 * module calls it before the host may unload it (WSEVENT_SHUTDOWN). */
void device_shutdown(void);

/*
 * Start an operation.  event may be 0 (None / nil in scripts) when fn is
 * given: the routine alone says it completed, as an overlapped hEvent is
 * unused with a completion routine.  delay_ms 0 means "only when
 * device_complete() is called".  `fn(context)`, if fn is not NULL, runs in the calling thread's
 * next alertable wait once the operation completes (or `release(context)`
 * if that thread ends first, or the device shuts down first).  Returns
 * the operation id (> 0), or a negative wsevent code (WSEVENT_EINVAL
 * before startup or after shutdown), in which case the completion was not
 * kept.
 */
long long device_start(wsevent_t event, unsigned delay_ms,
                       wsevent_completion_fn fn, wsevent_completion_fn release,
                       void *context);

/* Complete a pending operation now.  0, or -1 if it is not pending. */
int device_complete(long long id);

/* The code the device's set upcall got for a completed operation
 * (WSEVENT_OK, or WSEVENT_EINVAL_HANDLE if the client had closed the
 * event), or 1 while it is pending, or -100 for an unknown id. */
int device_result(long long id);

/* Operations completed so far, and how many found their event closed. */
long long device_completed(void);
long long device_invalid(void);

/* A new auto-reset (or manual-reset) event made by the device through the
 * upcall table, given to the caller, who owns it. */
wsevent_new_t device_open_event(int auto_reset);

#endif
