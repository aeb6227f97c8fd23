/*
 * completion.c: thread ids and completion routines (QueueUserAPC) for
 * Python callables.
 *
 * A routine's context is a strong reference to the callable.  The core
 * runs exactly one of two functions for it: wse_py_run_routine in the
 * target thread's next alertable wait, or wse_py_release_routine if the
 * routine is discarded because that thread ended first.  Either drops the
 * reference.
 */
#include "glue.h"

#if PY_VERSION_HEX >= 0x030D0000
#define interpreter_gone() (!Py_IsInitialized() || Py_IsFinalizing())
#else
#define interpreter_gone() (!Py_IsInitialized() || _Py_IsFinalizing())
#endif

/*
 * The first exception raised by a routine during a wait is kept here and
 * raised by that wait; later ones are reported as unraisable.
 * Thread-local: routines run in the waiting thread.
 */
static _Thread_local PyObject *routine_type, *routine_value, *routine_tb;

/* Call callable(arg) (no argument if arg is NULL) with the GIL, keep its
 * exception for the wait, and drop `owned`. */
static void run_routine(PyObject *callable, PyObject *arg, PyObject *owned) {
  if (interpreter_gone())
    return; /* nothing can run, nor be released */
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *r = arg != NULL ? PyObject_CallOneArg(callable, arg)
                            : PyObject_CallNoArgs(callable);
  if (r == NULL) {
    if (routine_type == NULL)
      PyErr_Fetch(&routine_type, &routine_value, &routine_tb);
    else
      PyErr_WriteUnraisable(callable);
  }
  Py_XDECREF(r);
  Py_DECREF(owned);
  PyGILState_Release(g);
}

void wse_py_run_routine(void *context) {
  run_routine(context, NULL, context);
}

void wse_py_run_routine_with(PyObject *callable, PyObject *arg) {
  run_routine(callable, arg, arg);
}

void wse_py_release_routine(void *context) {
  if (interpreter_gone())
    return;
  PyGILState_STATE g = PyGILState_Ensure();
  Py_DECREF((PyObject *)context);
  PyGILState_Release(g);
}

int wse_py_reraise_routine_error(void) {
  if (routine_type == NULL)
    return 0;
  PyErr_Restore(routine_type, routine_value, routine_tb);
  routine_type = routine_value = routine_tb = NULL;
  return -1;
}

void wse_py_drop_routine_error(void) {
  Py_CLEAR(routine_type);
  Py_CLEAR(routine_value);
  Py_CLEAR(routine_tb);
}

static PyObject *mod_thread_id(PyObject *module, PyObject *unused) {
  wsevent_thread_t id;
  int r = wsevent_thread_self(&id);
  if (r != WSEVENT_OK)
    return wse_py_raise(wse_py_state(module), r, NULL);
  return PyLong_FromUnsignedLongLong(id);
}

static PyObject *mod_thread_end(PyObject *module, PyObject *unused) {
  wsevent_thread_end();
  Py_RETURN_NONE;
}

/* A wsevent thread id from an int, with the errors a user can act on. */
static int thread_of(module_state *st, PyObject *obj, wsevent_thread_t *id) {
  if (!PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "thread id must be an int, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  unsigned long long v = PyLong_AsUnsignedLongLong(obj);
  if (v == (unsigned long long)-1 && PyErr_Occurred())
    return -1; /* OverflowError: negative or wider than 64 bits */
  wsevent_thread_t me;
  /* The calling thread's own ident, or a number not shaped like our ids
   * at all (their kind bits differ): most likely threading.get_ident().
   * Another thread's ident can pass this check by chance; the queueing
   * then fails as an unknown id, whose message names thread_id() too. */
  if (v == (unsigned long long)PyThread_get_thread_ident() ||
      (wsevent_thread_self(&me) == WSEVENT_OK &&
       ((v >> 28) & 0xF) != ((me >> 28) & 0xF))) {
    PyErr_SetString(PyExc_ValueError,
                    "not a wsevent thread id: use wsevent.thread_id() (in "
                    "that thread, or wsevent.thread_id(thread) for another "
                    "threading.Thread), not threading.get_ident()");
    return -1;
  }
  *id = v;
  (void)st;
  return 0;
}

static PyObject *mod_queue_completion(PyObject *module, PyObject *const *args,
                                      Py_ssize_t nargs) {
  module_state *st = wse_py_state(module);
  wsevent_thread_t id;
  if (nargs != 2) {
    PyErr_Format(PyExc_TypeError,
                 "queue_completion() takes exactly 2 arguments (%zd given)", nargs);
    return NULL;
  }
  if (thread_of(st, args[0], &id) < 0)
    return NULL;
  PyObject *callable = args[1];
  if (!PyCallable_Check(callable)) {
    PyErr_Format(PyExc_TypeError, "queue_completion() needs a callable, not %.100s",
                 Py_TYPE(callable)->tp_name);
    return NULL;
  }
  Py_INCREF(callable);
  int r = wsevent_queue_completion_ex(id, wse_py_run_routine,
                                      wse_py_release_routine, callable);
  if (r != WSEVENT_OK) {
    Py_DECREF(callable);
    return wse_py_raise(st, r,
                        r == WSEVENT_EINVAL_HANDLE
                            ? "no such thread: it has ended (an id lives until "
                              "its thread is joined or exits), or the number "
                              "is not from wsevent.thread_id()"
                            : NULL);
  }
  Py_RETURN_NONE;
}

/* completion(callable): a context (an address) for C code driven through
 * ctypes: queue it once with _completion_routine and _completion_release
 * (xQueueCompletionEx), or call _completion_release on it yourself. */
static PyObject *mod_completion(PyObject *module, PyObject *callable) {
  if (!PyCallable_Check(callable)) {
    PyErr_Format(PyExc_TypeError, "completion() needs a callable, not %.100s",
                 Py_TYPE(callable)->tp_name);
    return NULL;
  }
  return PyLong_FromVoidPtr(Py_NewRef(callable));
}

PyMethodDef wse_py_completion_methods[] = {
    {"_thread_id", mod_thread_id, METH_NOARGS,
     "_thread_id()\n--\n\nThe calling thread's wsevent id (see thread_id)."},
    {"_thread_end", mod_thread_end, METH_NOARGS,
     "_thread_end()\n--\n\nEnd the calling thread's id now "
     "(wsevent_thread_end): routines queued to it are released."},
    {"queue_completion", (PyCFunction)(void (*)(void))mod_queue_completion,
     METH_FASTCALL,
     "queue_completion(thread_id, callable, /)\n--\n\nQueueUserAPC: run "
     "callable() in that thread during its next alertable wait. If the "
     "thread ends first, the callable is released, never run."},
    {"completion", mod_completion, METH_O,
     "completion(callable, /)\n--\n\nA context (an address) for C code "
     "driven through ctypes: queue it exactly once with "
     "_completion_routine and _completion_release (xQueueCompletionEx)."},
    {NULL, NULL, 0, NULL},
};
