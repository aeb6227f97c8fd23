/* provider.c: the upcall table handed to service providers. */
#include "internal.h"

static const struct wsevent_upcalls table = {
    .iVersion = WSEVENT_UPCALLS_VERSION,
    .xCreate = wsevent_create,
    .xClose = wsevent_close,
    .xSet = wsevent_set,
    .xSetFromSignal = wsevent_set_from_signal,
    .xReset = wsevent_reset,
    .xIsSet = wsevent_is_set,
    .xWaitMultiple = wsevent_wait_multiple,
    .xFd = wsevent_fd,
    .xThreadSelf = wsevent_thread_self,
    .xQueueCompletion = wsevent_queue_completion,
    .xThreadData = wsevent_thread_data,
    .xStrerror = wsevent_strerror,
    .xErrName = wsevent_err_name,
    .xGetFlags = wsevent_get_flags,
    .xWaitMultipleUntil = wsevent_wait_multiple_until,
    .xSourceAttach = wse_source_attach,
    .xSourceUpdate = wse_source_update,
    .xSourceDetach = wse_source_detach,
    .xSourceWatchers = wse_source_watchers,
    .xQueueCompletionEx = wsevent_queue_completion_ex,
    .xNow = wsevent_now,
    .xThreadAlertEvent = wsevent_thread_alert_event,
    .xSourceAttachStandIn = wse_source_attach_stand_in,
};

const struct wsevent_upcalls *wsevent_upcalls(void) { return &table; }
