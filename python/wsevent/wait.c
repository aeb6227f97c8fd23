/*
 * wait.c: timeouts and waits.
 *
 * A wait follows CPython's acquire_timed: try once with the GIL held; else
 * wait with the GIL released, in interruptible mode, and on every
 * interruption run PyErr_CheckSignals() (Ctrl-C, Python signal handlers)
 * and wait again up to the same deadline (the core keeps it, to the
 * nanosecond).  A timeout is not an error: it returns False or None.
 */
#include <math.h>

#include "glue.h"

int wse_py_deadline(PyObject *timeout, wsevent_time_t *deadline) {
  if (timeout == NULL || timeout == Py_None) {
    *deadline = WSEVENT_NEVER;
    return 0;
  }
  if (!PyFloat_Check(timeout) && !PyLong_Check(timeout)) {
    PyErr_Format(PyExc_TypeError, "timeout must be a number or None, not %.100s",
                 Py_TYPE(timeout)->tp_name);
    return -1;
  }
  double t = PyFloat_AsDouble(timeout);
  if (t == -1.0 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();
      PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
    }
    return -1;
  }
  if (isnan(t)) {
    PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
    return -1;
  }
  if (t > WSE_PY_TIMEOUT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
    return -1;
  }
  /* A negative timeout polls, as threading.Event.wait(-1) does. */
  wsevent_deadline(t, deadline);
  return 0;
}

int wse_py_wait(const wsevent_t *h, size_t n, unsigned flags,
                wsevent_time_t deadline, size_t *index) {
  /* First with the GIL held: the common already-signaled case. */
  int r = wsevent_wait_multiple_until(h, n, flags, 0, index);
  while (r == WSEVENT_TIMEOUT && wsevent_now() < deadline) {
    Py_BEGIN_ALLOW_THREADS
    r = wsevent_wait_multiple_until(h, n, flags | WSEVENT_INTERRUPTIBLE,
                                    deadline, index);
    Py_END_ALLOW_THREADS
    if (r != WSEVENT_INTERRUPTED)
      break;
    if (PyErr_CheckSignals() < 0) {
      wse_py_drop_routine_error(); /* the signal's exception wins */
      return WSE_PY_ERROR;
    }
    r = WSEVENT_TIMEOUT; /* wait again, up to the same deadline */
  }
  if (wse_py_reraise_routine_error() < 0)
    return WSE_PY_ERROR;
  return r;
}

/* ---- lists of events ---- */

int wse_py_events_collect(module_state *st, PyObject *events,
                          const char *fname, size_t max, wse_py_events *l) {
  l->handles = l->stack;
  l->tuple = NULL;
  PyTypeObject *t = Py_TYPE(events);
  if (!PySequence_Check(events) && t->tp_iter == NULL) {
    PyErr_Format(PyExc_TypeError,
                 "%s() expects an iterable of Event objects, not %.100s",
                 fname, t->tp_name);
    return -1;
  }
  /* A tuple of our own: strong references for the whole wait.  Errors
   * raised by the iterable itself propagate unchanged. */
  l->tuple = PySequence_Tuple(events);
  if (l->tuple == NULL)
    return -1;
  Py_ssize_t n = PyTuple_GET_SIZE(l->tuple);
  if (n == 0) {
    PyErr_Format(PyExc_ValueError, "%s() needs at least one event", fname);
    goto fail;
  }
  if ((size_t)n > max) {
    PyErr_Format(PyExc_ValueError, "%s() takes at most %zu events, got %zd",
                 fname, max, n);
    goto fail;
  }
  if ((size_t)n > sizeof l->stack / sizeof l->stack[0]) {
    l->handles = PyMem_New(wsevent_t, n);
    if (l->handles == NULL) {
      PyErr_NoMemory();
      goto fail;
    }
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *item = PyTuple_GET_ITEM(l->tuple, i);
    if (!PyObject_TypeCheck(item, st->event_type)) {
      PyErr_Format(PyExc_TypeError,
                   "%s() expects Event objects, got %.100s at index %zd",
                   fname, Py_TYPE(item)->tp_name, i);
      goto fail;
    }
    EventObject *ev = (EventObject *)item;
    if (ev->state != EVENT_OPEN) {
      if (ev->state == EVENT_NEW)
        wse_py_check_open(ev);
      else
        PyErr_Format(PyExc_ValueError, "%s(): the event at index %zd is closed",
                     fname, i);
      goto fail;
    }
    l->handles[i] = ev->handle;
  }
  l->count = (size_t)n;
  return 0;
fail:
  wse_py_events_release(l);
  return -1;
}

void wse_py_events_release(wse_py_events *l) {
  if (l->handles != l->stack)
    PyMem_Free(l->handles);
  l->handles = l->stack;
  Py_CLEAR(l->tuple);
}

/* Collect, wait, release: the core's code, or -1 with an exception. */
static int wait_list(PyObject *module, PyObject *events, PyObject *timeout,
                     unsigned flags, const char *fname, size_t max,
                     size_t *index) {
  module_state *st = wse_py_state(module);
  wse_py_events l;
  wsevent_time_t deadline;
  if (wse_py_events_collect(st, events, fname, max, &l) < 0)
    return -1;
  if (wse_py_deadline(timeout, &deadline) < 0) {
    wse_py_events_release(&l);
    return -1;
  }
  int r = wse_py_wait(l.handles, l.count, flags, deadline, index);
  wse_py_events_release(&l);
  if (r == WSE_PY_ERROR)
    return -1;
  if (r == WSEVENT_EINVAL && (flags & WSEVENT_WAIT_ALL)) {
    PyErr_Format(PyExc_ValueError, "%s(): the same event appears twice", fname);
    return -1;
  }
  if (r < 0) {
    wse_py_raise_at(st, r, *index);
    return -1;
  }
  return r;
}

static const char *const events_timeout[] = {"events", "timeout", NULL};

static PyObject *mod_wait_any(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs, PyObject *kwnames) {
  PyObject *a[2] = {NULL, Py_None};
  size_t index = 0;
  if (wse_py_args("wait_any", args, nargs, kwnames, events_timeout, 2, 1, a) < 0)
    return NULL;
  int r = wait_list(module, a[0], a[1], 0, "wait_any", WSEVENT_MAX_WAIT,
                    &index);
  if (r < 0)
    return NULL;
  if (r == WSEVENT_TIMEOUT)
    Py_RETURN_NONE;
  return PyLong_FromSize_t(index);
}

static PyObject *mod_wait_all(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs, PyObject *kwnames) {
  PyObject *a[2] = {NULL, Py_None};
  size_t index = 0;
  if (wse_py_args("wait_all", args, nargs, kwnames, events_timeout, 2, 1, a) < 0)
    return NULL;
  int r = wait_list(module, a[0], a[1], WSEVENT_WAIT_ALL, "wait_all",
                    WSEVENT_MAX_WAIT, &index);
  if (r < 0)
    return NULL;
  return PyBool_FromLong(r == WSEVENT_OK);
}

static PyObject *mod_wait_for_multiple(PyObject *module, PyObject *const *args,
                                       Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"events", "wait_all", "timeout",
                                      "alertable", NULL};
  PyObject *a[4] = {NULL, NULL, Py_None, NULL};
  int all = 0, alertable = 0;
  size_t index = 0;
  if (wse_py_args("wait_for_multiple", args, nargs, kwnames, names, 4, 1, a) < 0 ||
      wse_py_bool(a[1], &all) < 0 || wse_py_bool(a[3], &alertable) < 0)
    return NULL;
  PyObject *events = a[0], *timeout = a[2];
  unsigned flags = (all ? WSEVENT_WAIT_ALL : 0) |
                   (alertable ? WSEVENT_ALERTABLE : 0);
  /* Winsock's limit: a larger index would read as WAIT_IO_COMPLETION. */
  int r = wait_list(module, events, timeout, flags, "wait_for_multiple",
                    WSEVENT_MAXIMUM_WAIT_OBJECTS, &index);
  if (r < 0)
    return NULL;
  return PyLong_FromUnsignedLong(wsevent_win32_result(r, index));
}

static PyObject *mod_sleep(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"timeout", "alertable", NULL};
  PyObject *a[2] = {NULL, NULL};
  int alertable = 0;
  wsevent_time_t deadline;
  if (wse_py_args("sleep", args, nargs, kwnames, names, 2, 1, a) < 0 ||
      wse_py_bool(a[1], &alertable) < 0)
    return NULL;
  PyObject *timeout = a[0];
  if (timeout == Py_None && !alertable) {
    PyErr_SetString(PyExc_ValueError,
                    "sleep(None) would never return unless alertable=True");
    return NULL;
  }
  if (wse_py_deadline(timeout, &deadline) < 0)
    return NULL;
  unsigned flags = alertable ? WSEVENT_ALERTABLE : 0;
  int r = wsevent_sleep_until(0, flags); /* routines already queued run now */
  while (r == WSEVENT_OK && wsevent_now() < deadline) {
    Py_BEGIN_ALLOW_THREADS
    r = wsevent_sleep_until(deadline, flags | WSEVENT_INTERRUPTIBLE);
    Py_END_ALLOW_THREADS
    if (r != WSEVENT_INTERRUPTED)
      break;
    if (PyErr_CheckSignals() < 0) {
      wse_py_drop_routine_error();
      return NULL;
    }
    r = WSEVENT_OK;
  }
  if (wse_py_reraise_routine_error() < 0)
    return NULL;
  if (r < 0)
    return wse_py_raise(wse_py_state(module), r, NULL);
  return PyBool_FromLong(r == WSEVENT_IO_COMPLETION);
}

/* _timeout(timeout): the checks every wait makes, for the asyncio helpers:
 * None, or the timeout in seconds (0.0 for a negative one). */
static PyObject *mod_timeout(PyObject *module, PyObject *timeout) {
  wsevent_time_t deadline;
  if (wse_py_deadline(timeout, &deadline) < 0)
    return NULL;
  if (timeout == Py_None)
    Py_RETURN_NONE;
  double t = PyFloat_AsDouble(timeout);
  return PyFloat_FromDouble(t < 0 ? 0.0 : t);
}

PyMethodDef wse_py_wait_methods[] = {
    {"wait_any", (PyCFunction)(void (*)(void))mod_wait_any,
     METH_FASTCALL | METH_KEYWORDS,
     "wait_any(events, timeout=None)\n--\n\nWait until any event is signaled. "
     "Returns the lowest index among the signaled ones (consuming that "
     "event if auto-reset), or None on timeout."},
    {"wait_all", (PyCFunction)(void (*)(void))mod_wait_all,
     METH_FASTCALL | METH_KEYWORDS,
     "wait_all(events, timeout=None)\n--\n\nWait until all events are "
     "signaled at once; auto-reset ones are consumed together. Returns True, "
     "or False on timeout (nothing consumed)."},
    {"wait_for_multiple", (PyCFunction)(void (*)(void))mod_wait_for_multiple,
     METH_FASTCALL | METH_KEYWORDS,
     "wait_for_multiple(events, wait_all=False, timeout=None, "
     "alertable=False)\n--\n\nWSAWaitForMultipleEvents: returns "
     "WAIT_EVENT_0 + index, WAIT_TIMEOUT or WAIT_IO_COMPLETION. At most 64 "
     "events, as in Winsock."},
    {"sleep", (PyCFunction)(void (*)(void))mod_sleep,
     METH_FASTCALL | METH_KEYWORDS,
     "sleep(timeout, alertable=False)\n--\n\nSleepEx: wait for the timeout "
     "(a negative one returns at once); if alertable, return True as soon "
     "as completion routines ran."},
    {"_timeout", mod_timeout, METH_O,
     "_timeout(timeout, /)\n--\n\nCheck a timeout as every wait does: None, "
     "or seconds (0.0 for a negative timeout)."},
    {NULL, NULL, 0, NULL},
};
