/*
 * wsevent_python.h: the C API of the wsevent Python module, for other
 * extensions (a provider wrapped by SWIG with bindings/wsevent.i, or
 * written by hand), in the style of CPython's datetime.h:
 *
 *     #include "wsevent_python.h"     (with wsevent.get_include() on -I)
 *     static WsEvent_CAPI *wsevent_capi;
 *     ...in the module's init:
 *     wsevent_capi = WsEvent_IMPORT();
 *     if (wsevent_capi == NULL) return NULL;
 *
 * The table is versioned: fields are only ever appended; check `version`
 * before using one added after version 1.  Every function needs the GIL.
 * The plain upcall table, for providers that need nothing else, is the
 * capsule WSEVENT_CAPSULE_NAME (wsevent._wsevent._C_API).
 */
#ifndef WSEVENT_PYTHON_H
#define WSEVENT_PYTHON_H

#include <Python.h>

#include "wsevent_provider.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WSEVENT_PY_CAPI_NAME "wsevent._wsevent._CAPI"
#define WSEVENT_PY_CAPI_VERSION 1

typedef struct {
  int version;
  /* Version 1 */
  /* The core's upcall table, shared by every language in the process. */
  const struct wsevent_upcalls *upcalls;
  /* wsevent.Event. */
  PyTypeObject *EventType;
  /* The handle of an open wsevent.Event, or, if allow_int, of an int
   * handle (not a bool, not 0); 0 on success, -1 with TypeError,
   * ValueError or OverflowError. */
  int (*handle_of)(PyObject *obj, int allow_int, wsevent_t *handle);
  /* A new Event for a handle.  owned: the Event closes the handle when it
   * is closed or collected (give it an event nobody else owns, such as
   * one a provider made for the caller).  Not owned: it never closes the
   * event, and says closed once its owner closed it.  NULL with an
   * exception if the handle is not an open event. */
  PyObject *(*from_handle)(wsevent_t handle, int owned);
  /* A completion routine for a Python callable: queue it with
   * xQueueCompletionEx(thread, *fn, *release, *context).  The context
   * holds a reference to the callable, dropped by whichever of fn and
   * release runs; a provider that does not queue it must call
   * (*release)(*context) itself.  None gives NULLs.  0 or -1 (TypeError). */
  int (*completion_of)(PyObject *callable, wsevent_completion_fn *fn,
                       wsevent_completion_fn *release, void **context);
} WsEvent_CAPI;

#define WsEvent_IMPORT() \
  ((WsEvent_CAPI *)PyCapsule_Import(WSEVENT_PY_CAPI_NAME, 0))

#ifdef __cplusplus
}
#endif

#endif
