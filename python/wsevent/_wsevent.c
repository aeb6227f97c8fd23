/*
 * _wsevent.c: the CPython glue over libwsevent.
 *
 * Event is a heap type (PyType_Spec) whose object owns one wsevent handle.
 * Blocking waits follow CPython's acquire_timed: try once with the GIL held;
 * else wait with the GIL released, in interruptible mode, and on every
 * interruption run PyErr_CheckSignals() (so Ctrl-C and Python signal
 * handlers work), recompute the remaining time from a deadline, and wait
 * again.  A timeout is not an error: it returns False or None.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <structmember.h>
#include <time.h>

#include "wsevent.h"
#include "wsevent_provider.h"

/* threading.TIMEOUT_MAX on 64-bit Linux. */
#define TIMEOUT_MAX 9223372036.0
/* Winsock's WSA_MAXIMUM_WAIT_EVENTS, kept by the Winsock-style call. */
#define MAXIMUM_WAIT_EVENTS 64
#define WAIT_EVENT_0 0
#define WAIT_IO_COMPLETION 0xC0
#define WAIT_TIMEOUT 0x102
#define STACK_HANDLES 16

typedef struct {
  PyTypeObject *event_type;
  PyObject *error;
} module_state;

typedef struct {
  PyObject_HEAD
  wsevent_t handle;
  int closed;
  int manual_reset;
  PyObject *close_callbacks; /* list or NULL: run before the handle goes */
  PyObject *weakrefs;
} EventObject;

static module_state *state_of_module(PyObject *m) {
  return (module_state *)PyModule_GetState(m);
}

static struct PyModuleDef wsevent_module;

static module_state *state_of_type(PyTypeObject *t) {
  PyObject *m = PyType_GetModuleByDef(t, &wsevent_module);
  return m ? state_of_module(m) : NULL;
}

/* ---- errors ---- */

/* Raise the Python exception for a core error code; returns NULL. */
static PyObject *raise_code(module_state *st, int code) {
  if (code == WSEVENT_ENOMEM)
    return PyErr_NoMemory();
  PyObject *exc = PyObject_CallFunction(st->error, "is", code,
                                        wsevent_strerror(code));
  if (exc == NULL)
    return NULL;
  PyObject *name = PyUnicode_FromString(wsevent_err_name(code));
  PyObject *value = PyLong_FromLong(code);
  if (name && value) {
    PyObject_SetAttrString(exc, "code", value);
    PyObject_SetAttrString(exc, "name", name);
  }
  Py_XDECREF(name);
  Py_XDECREF(value);
  PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_DECREF(exc);
  return NULL;
}

static int check_open(EventObject *self) {
  if (self->closed) {
    PyErr_SetString(PyExc_ValueError, "operation on a closed event");
    return -1;
  }
  return 0;
}

/* ---- timeouts ---- */

/* Parse a timeout in seconds: None is infinite.  Sets *infinite. */
static int parse_timeout(PyObject *obj, double *seconds, int *infinite) {
  *infinite = 0;
  *seconds = 0;
  if (obj == NULL || obj == Py_None) {
    *infinite = 1;
    return 0;
  }
  if (!PyFloat_Check(obj) && !PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "timeout must be a number or None, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  double t = PyFloat_AsDouble(obj);
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
  if (t < 0) {
    PyErr_SetString(PyExc_ValueError, "timeout must be non-negative");
    return -1;
  }
  if (t > TIMEOUT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
    return -1;
  }
  *seconds = t;
  return 0;
}

static double monotonic(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The next wait's timeout: what is left until the deadline, rounded up,
 * in chunks short of WSEVENT_INFINITE (longer waits loop). */
static uint32_t chunk_ms(int infinite, double deadline) {
  if (infinite)
    return WSEVENT_INFINITE;
  double want = ceil((deadline - monotonic()) * 1000.0);
  return want <= 0 ? 0 : want > 0x7FFFFFFF ? 0x7FFFFFFF : (uint32_t)want;
}

/* ---- completion routines queued from Python ---- */

/*
 * The first exception raised by a Python completion routine during a wait
 * is kept here and raised by that wait; later ones are reported as
 * unraisable.  Thread-local: routines run in the waiting thread.
 */
static _Thread_local PyObject *routine_exc_type, *routine_exc_value,
    *routine_exc_tb;

static void run_python_routine(void *context) {
  PyObject *callable = context;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *r = PyObject_CallNoArgs(callable);
  if (r == NULL) {
    if (routine_exc_type == NULL)
      PyErr_Fetch(&routine_exc_type, &routine_exc_value, &routine_exc_tb);
    else
      PyErr_WriteUnraisable(callable);
  }
  Py_XDECREF(r);
  Py_DECREF(callable);
  PyGILState_Release(g);
}

/* After a wait: raise what a routine raised, if anything. */
static int reraise_routine_error(void) {
  if (routine_exc_type == NULL)
    return 0;
  PyErr_Restore(routine_exc_type, routine_exc_value, routine_exc_tb);
  routine_exc_type = routine_exc_value = routine_exc_tb = NULL;
  return -1;
}

static void drop_routine_error(void) {
  Py_CLEAR(routine_exc_type);
  Py_CLEAR(routine_exc_value);
  Py_CLEAR(routine_exc_tb);
}

/* ---- the wait loop ---- */

/*
 * Wait on handles with a Python timeout object.  Returns the core's code
 * (OK, TIMEOUT, IO_COMPLETION, or an error >= -100), or -1000 with a Python
 * exception set.
 */
#define PY_ERROR (-1000)

static int wait_handles(const wsevent_t *h, size_t n, unsigned flags,
                        PyObject *timeout_obj, size_t *index) {
  double seconds, deadline = 0;
  int infinite, r;

  if (parse_timeout(timeout_obj, &seconds, &infinite) < 0)
    return PY_ERROR;
  /* First, without releasing the GIL: the common already-signaled case. */
  r = wsevent_wait_multiple(h, n, flags, 0, index);
  if (r != WSEVENT_TIMEOUT || (!infinite && seconds == 0))
    goto done;
  if (!infinite)
    deadline = monotonic() + seconds;
  for (;;) {
    uint32_t ms = chunk_ms(infinite, deadline); /* 0 once past: a last poll */
    Py_BEGIN_ALLOW_THREADS
    r = wsevent_wait_multiple(h, n, flags | WSEVENT_INTERRUPTIBLE, ms, index);
    Py_END_ALLOW_THREADS
    if (r == WSEVENT_INTERRUPTED) {
      if (PyErr_CheckSignals() < 0) {
        drop_routine_error(); /* the signal's exception wins */
        return PY_ERROR;
      }
      continue;
    }
    if (r == WSEVENT_TIMEOUT && !infinite && monotonic() < deadline)
      continue; /* a chunk of a very long timeout */
    break;
  }
done:
  if (reraise_routine_error() < 0)
    return PY_ERROR;
  return r;
}

/* ---- event lists ---- */

typedef struct {
  PyObject *seq;               /* a fast sequence holding the events */
  wsevent_t stack[STACK_HANDLES];
  wsevent_t *handles;
  size_t count;
} event_list;

static void list_release(event_list *l) {
  if (l->handles != l->stack)
    PyMem_Free(l->handles);
  Py_XDECREF(l->seq);
}

static int list_collect(module_state *st, PyObject *events, const char *fname,
                        size_t max, event_list *l) {
  l->handles = l->stack;
  l->seq = PySequence_Fast(events, "");
  if (l->seq == NULL) {
    PyErr_Format(PyExc_TypeError,
                 "%s() expects an iterable of Event objects, not %.100s",
                 fname, Py_TYPE(events)->tp_name);
    return -1;
  }
  Py_ssize_t n = PySequence_Fast_GET_SIZE(l->seq);
  if (n == 0) {
    PyErr_Format(PyExc_ValueError, "%s() needs at least one event", fname);
    goto fail;
  }
  if ((size_t)n > max) {
    PyErr_Format(PyExc_ValueError, "%s() takes at most %zu events, got %zd",
                 fname, max, n);
    goto fail;
  }
  if (n > STACK_HANDLES) {
    l->handles = PyMem_New(wsevent_t, n);
    if (l->handles == NULL) {
      PyErr_NoMemory();
      goto fail;
    }
  }
  PyObject **items = PySequence_Fast_ITEMS(l->seq);
  for (Py_ssize_t i = 0; i < n; i++) {
    if (!PyObject_TypeCheck(items[i], st->event_type)) {
      PyErr_Format(PyExc_TypeError,
                   "%s() expects Event objects, got %.100s at index %zd",
                   fname, Py_TYPE(items[i])->tp_name, i);
      goto fail;
    }
    EventObject *ev = (EventObject *)items[i];
    if (ev->closed) {
      PyErr_Format(PyExc_ValueError, "%s(): the event at index %zd is closed",
                   fname, i);
      goto fail;
    }
    l->handles[i] = ev->handle;
  }
  l->count = (size_t)n;
  return 0;
fail:
  list_release(l);
  l->seq = NULL;
  l->handles = l->stack;
  return -1;
}

/* Turn a failed multiple wait into the right exception. */
static PyObject *raise_wait_error(module_state *st, int r, const char *fname,
                                  size_t index) {
  if (r == WSEVENT_EINVAL) {
    PyErr_Format(PyExc_ValueError, "%s(): the same event appears twice", fname);
    return NULL;
  }
  if (r == WSEVENT_ECLOSED || r == WSEVENT_EINVAL_HANDLE) {
    raise_code(st, r);
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    PyObject *i = PyLong_FromSize_t(index);
    if (i) {
      PyObject_SetAttrString(v, "index", i);
      Py_DECREF(i);
    }
    PyErr_Restore(t, v, tb);
    return NULL;
  }
  return raise_code(st, r);
}

/* ---- Event ---- */

static PyObject *Event_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"manual_reset", "initial_state", NULL};
  int manual = 1, initial = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|$pp:Event", kwlist, &manual,
                                   &initial))
    return NULL;
  module_state *st = state_of_type(type);
  if (st == NULL)
    return NULL;
  EventObject *self = (EventObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->closed = 1; /* until it owns a handle, as liolib's newprefile */
  self->manual_reset = manual;
  unsigned flags = (manual ? 0 : WSEVENT_AUTO_RESET) |
                   (initial ? WSEVENT_INITIAL_SET : 0);
  int r = wsevent_create(&self->handle, flags);
  if (r != WSEVENT_OK) {
    Py_DECREF(self);
    return raise_code(st, r);
  }
  self->closed = 0;
  return (PyObject *)self;
}

/* Event._from_handle(handle): an Event that takes ownership of a handle a
 * provider created (closing it when closed or collected). */
static PyObject *Event_from_handle(PyTypeObject *type, PyObject *arg) {
  module_state *st = state_of_type(type);
  if (st == NULL)
    return NULL;
  if (!PyLong_Check(arg)) {
    PyErr_Format(PyExc_TypeError, "handle must be an int, not %.100s",
                 Py_TYPE(arg)->tp_name);
    return NULL;
  }
  unsigned long long h = PyLong_AsUnsignedLongLong(arg);
  if (h == (unsigned long long)-1 && PyErr_Occurred())
    return NULL;
  unsigned flags;
  int r = wsevent_get_flags(h, &flags);
  if (r != WSEVENT_OK)
    return raise_code(st, r);
  EventObject *self = (EventObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->handle = h;
  self->manual_reset = !(flags & WSEVENT_AUTO_RESET);
  self->closed = 0;
  return (PyObject *)self;
}

/* Run the close callbacks (asyncio waiters), then close the handle. */
static int event_close_impl(EventObject *self) {
  if (self->closed)
    return 0;
  PyObject *cbs = self->close_callbacks;
  self->close_callbacks = NULL;
  if (cbs != NULL) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cbs); i++) {
      PyObject *r = PyObject_CallOneArg(PyList_GET_ITEM(cbs, i), (PyObject *)self);
      if (r == NULL)
        PyErr_WriteUnraisable(PyList_GET_ITEM(cbs, i));
      Py_XDECREF(r);
    }
    Py_DECREF(cbs);
  }
  self->closed = 1;
  /* The handle may already be invalid if a provider closed it: fine. */
  wsevent_close(self->handle);
  return 0;
}

static void Event_dealloc(EventObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  if (self->weakrefs)
    PyObject_ClearWeakRefs((PyObject *)self);
  event_close_impl(self);
  Py_CLEAR(self->close_callbacks);
  tp->tp_free(self);
  Py_DECREF(tp);
}

static int Event_traverse(EventObject *self, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(self->close_callbacks);
  return 0;
}

static int Event_clear_refs(EventObject *self) {
  Py_CLEAR(self->close_callbacks);
  return 0;
}

static PyObject *Event_set(EventObject *self, PyObject *unused) {
  if (check_open(self) < 0)
    return NULL;
  int r = wsevent_set(self->handle);
  if (r != WSEVENT_OK)
    return raise_code(state_of_type(Py_TYPE(self)), r);
  Py_RETURN_NONE;
}

static PyObject *Event_clear(EventObject *self, PyObject *unused) {
  if (check_open(self) < 0)
    return NULL;
  int r = wsevent_reset(self->handle);
  if (r != WSEVENT_OK)
    return raise_code(state_of_type(Py_TYPE(self)), r);
  Py_RETURN_NONE;
}

static PyObject *Event_is_set(EventObject *self, PyObject *unused) {
  if (check_open(self) < 0)
    return NULL;
  int r = wsevent_is_set(self->handle);
  if (r < 0)
    return raise_code(state_of_type(Py_TYPE(self)), r);
  return PyBool_FromLong(r);
}

static PyObject *Event_wait(EventObject *self, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames) {
  PyObject *timeout = Py_None;
  if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0) {
    if (nargs != 0 || PyTuple_GET_SIZE(kwnames) != 1 ||
        !PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0)) ||
        PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "timeout")) {
      PyErr_SetString(PyExc_TypeError, "wait() takes one argument, timeout");
      return NULL;
    }
    timeout = args[0];
  } else if (nargs > 1) {
    PyErr_Format(PyExc_TypeError, "wait() takes at most 1 argument (%zd given)",
                 nargs);
    return NULL;
  } else if (nargs == 1) {
    timeout = args[0];
  }
  if (check_open(self) < 0)
    return NULL;
  size_t index;
  int r = wait_handles(&self->handle, 1, 0, timeout, &index);
  if (r == PY_ERROR)
    return NULL;
  if (r == WSEVENT_OK)
    Py_RETURN_TRUE;
  if (r == WSEVENT_TIMEOUT)
    Py_RETURN_FALSE;
  return raise_code(state_of_type(Py_TYPE(self)), r);
}

static PyObject *Event_close(EventObject *self, PyObject *unused) {
  event_close_impl(self);
  Py_RETURN_NONE;
}

static PyObject *Event_fileno(EventObject *self, PyObject *unused) {
  if (check_open(self) < 0)
    return NULL;
  int fd, r = wsevent_fd(self->handle, &fd);
  if (r == WSEVENT_ENFILE) {
    errno = EMFILE;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  if (r != WSEVENT_OK)
    return raise_code(state_of_type(Py_TYPE(self)), r);
  return PyLong_FromLong(fd);
}

static PyObject *Event_enter(EventObject *self, PyObject *unused) {
  if (check_open(self) < 0)
    return NULL;
  return Py_NewRef(self);
}

static PyObject *Event_exit(EventObject *self, PyObject *args) {
  event_close_impl(self);
  Py_RETURN_NONE;
}

static PyObject *Event_add_close_callback(EventObject *self, PyObject *cb) {
  if (check_open(self) < 0)
    return NULL;
  if (self->close_callbacks == NULL &&
      (self->close_callbacks = PyList_New(0)) == NULL)
    return NULL;
  if (PyList_Append(self->close_callbacks, cb) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *Event_remove_close_callback(EventObject *self, PyObject *cb) {
  if (self->close_callbacks != NULL) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->close_callbacks); i++)
      if (PyList_GET_ITEM(self->close_callbacks, i) == cb)
        return PySequence_DelItem(self->close_callbacks, i) < 0 ? NULL
                                                                : Py_NewRef(Py_None);
  }
  Py_RETURN_NONE;
}

static PyObject *Event_repr(EventObject *self) {
  const char *status = "closed";
  if (!self->closed) {
    int r = wsevent_is_set(self->handle);
    status = r == 1 ? "set" : r == 0 ? "unset" : "invalid";
  }
  return PyUnicode_FromFormat("<%s at %p: %s>", Py_TYPE(self)->tp_name, self,
                              status);
}

static PyObject *Event_get_handle(EventObject *self, void *c) {
  if (check_open(self) < 0)
    return NULL;
  return PyLong_FromUnsignedLongLong(self->handle);
}

static PyObject *Event_get_closed(EventObject *self, void *c) {
  return PyBool_FromLong(self->closed);
}

static PyObject *Event_get_manual_reset(EventObject *self, void *c) {
  return PyBool_FromLong(self->manual_reset);
}

static PyMethodDef Event_methods[] = {
    {"set", (PyCFunction)Event_set, METH_NOARGS,
     "set()\n--\n\nSignal the event. A manual-reset event releases every "
     "waiter; an auto-reset event releases one, or stays set until one "
     "comes."},
    {"clear", (PyCFunction)Event_clear, METH_NOARGS,
     "clear()\n--\n\nMake the event unsignaled (as threading.Event.clear)."},
    {"reset", (PyCFunction)Event_clear, METH_NOARGS,
     "reset()\n--\n\nMake the event unsignaled (alias of clear)."},
    {"is_set", (PyCFunction)Event_is_set, METH_NOARGS,
     "is_set()\n--\n\nTrue if the event is signaled. Never consumes an "
     "auto-reset event (wait(0) does)."},
    {"wait", (PyCFunction)(void (*)(void))Event_wait,
     METH_FASTCALL | METH_KEYWORDS,
     "wait(timeout=None)\n--\n\nBlock until the event is signaled or the "
     "timeout (seconds) elapses. Returns True if signaled, False on "
     "timeout. Releases the GIL; Ctrl-C interrupts it."},
    {"close", (PyCFunction)Event_close, METH_NOARGS,
     "close()\n--\n\nClose the event. Threads blocked on it raise "
     "wsevent.Error (WSEVENT_ECLOSED). A second close does nothing."},
    {"fileno", (PyCFunction)Event_fileno, METH_NOARGS,
     "fileno()\n--\n\nA file descriptor readable while the event is "
     "signaled, owned by the event (do not close it)."},
    {"__enter__", (PyCFunction)Event_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)Event_exit, METH_VARARGS, NULL},
    {"_from_handle", (PyCFunction)Event_from_handle, METH_O | METH_CLASS,
     "_from_handle(handle)\n--\n\nWrap a handle a provider created; the "
     "Event owns it from now on."},
    {"_add_close_callback", (PyCFunction)Event_add_close_callback, METH_O,
     "Call cb(event) just before the event is closed (asyncio helpers)."},
    {"_remove_close_callback", (PyCFunction)Event_remove_close_callback,
     METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Event_getset[] = {
    {"handle", (getter)Event_get_handle, NULL,
     "The 64-bit handle that C providers take.", NULL},
    {"closed", (getter)Event_get_closed, NULL, "True once closed.", NULL},
    {"manual_reset", (getter)Event_get_manual_reset, NULL,
     "True for a manual-reset event, False for auto-reset.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Event_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(EventObject, weakrefs),
     READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Event_slots[] = {
    {Py_tp_doc,
     "Event(*, manual_reset=True, initial_state=False)\n--\n\n"
     "A Windows Sockets event object. A drop-in replacement for "
     "threading.Event that C providers can signal from any thread through "
     "its handle."},
    {Py_tp_new, Event_new},
    {Py_tp_dealloc, Event_dealloc},
    {Py_tp_traverse, Event_traverse},
    {Py_tp_clear, Event_clear_refs},
    {Py_tp_methods, Event_methods},
    {Py_tp_getset, Event_getset},
    {Py_tp_members, Event_members},
    {Py_tp_repr, Event_repr},
    {0, NULL},
};

static PyType_Spec Event_spec = {
    .name = "wsevent.Event",
    .basicsize = sizeof(EventObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Event_slots,
};

/* ---- module functions ---- */

static int wait_multiple_common(PyObject *module, PyObject *events,
                                      PyObject *timeout, unsigned flags,
                                      const char *fname, size_t max, int *r,
                                      size_t *index) {
  module_state *st = state_of_module(module);
  event_list l;
  if (list_collect(st, events, fname, max, &l) < 0)
    return -1;
  *r = wait_handles(l.handles, l.count, flags, timeout, index);
  list_release(&l);
  if (*r == PY_ERROR)
    return -1;
  if (*r < 0) {
    raise_wait_error(st, *r, fname, *index);
    return -1;
  }
  return 0;
}

static PyObject *mod_wait_any(PyObject *module, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"events", "timeout", NULL};
  PyObject *events, *timeout = Py_None;
  int r;
  size_t index = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:wait_any", kwlist, &events,
                                   &timeout))
    return NULL;
  if (wait_multiple_common(module, events, timeout, 0, "wait_any",
                           WSEVENT_MAX_WAIT, &r, &index) < 0)
    return NULL;
  if (r == WSEVENT_TIMEOUT)
    Py_RETURN_NONE;
  return PyLong_FromSize_t(index);
}

static PyObject *mod_wait_all(PyObject *module, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"events", "timeout", NULL};
  PyObject *events, *timeout = Py_None;
  int r;
  size_t index = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:wait_all", kwlist, &events,
                                   &timeout))
    return NULL;
  if (wait_multiple_common(module, events, timeout, WSEVENT_WAIT_ALL,
                           "wait_all", WSEVENT_MAX_WAIT, &r, &index) < 0)
    return NULL;
  return PyBool_FromLong(r == WSEVENT_OK);
}

static PyObject *mod_wait_for_multiple(PyObject *module, PyObject *args,
                                       PyObject *kw) {
  static char *kwlist[] = {"events", "wait_all", "timeout", "alertable", NULL};
  PyObject *events, *timeout = Py_None;
  int all = 0, alertable = 0, r;
  size_t index = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|pOp:wait_for_multiple", kwlist,
                                   &events, &all, &timeout, &alertable))
    return NULL;
  unsigned flags = (all ? WSEVENT_WAIT_ALL : 0) |
                   (alertable ? WSEVENT_ALERTABLE : 0);
  if (wait_multiple_common(module, events, timeout, flags,
                           "wait_for_multiple", MAXIMUM_WAIT_EVENTS, &r,
                           &index) < 0)
    return NULL;
  if (r == WSEVENT_TIMEOUT)
    return PyLong_FromLong(WAIT_TIMEOUT);
  if (r == WSEVENT_IO_COMPLETION)
    return PyLong_FromLong(WAIT_IO_COMPLETION);
  return PyLong_FromSize_t(WAIT_EVENT_0 + index);
}

static PyObject *mod_sleep(PyObject *module, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"timeout", "alertable", NULL};
  PyObject *timeout;
  int alertable = 0;
  double seconds;
  int infinite;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p:sleep", kwlist, &timeout,
                                   &alertable))
    return NULL;
  if (parse_timeout(timeout, &seconds, &infinite) < 0)
    return NULL;
  if (infinite && !alertable) {
    PyErr_SetString(PyExc_ValueError,
                    "sleep(None) would never return unless alertable=True");
    return NULL;
  }
  double deadline = monotonic() + seconds;
  unsigned flags = WSEVENT_INTERRUPTIBLE | (alertable ? WSEVENT_ALERTABLE : 0);
  int r;
  for (;;) {
    uint32_t ms = chunk_ms(infinite, deadline);
    Py_BEGIN_ALLOW_THREADS
    r = wsevent_sleep(ms, flags);
    Py_END_ALLOW_THREADS
    if (r == WSEVENT_INTERRUPTED) {
      if (PyErr_CheckSignals() < 0)
        return NULL;
      continue;
    }
    if (r == WSEVENT_OK && !infinite && monotonic() < deadline)
      continue;
    break;
  }
  if (reraise_routine_error() < 0)
    return NULL;
  if (r < 0)
    return raise_code(state_of_module(module), r);
  return PyBool_FromLong(r == WSEVENT_IO_COMPLETION);
}

static PyObject *mod_thread_id(PyObject *module, PyObject *unused) {
  wsevent_thread_t id;
  int r = wsevent_thread_self(&id);
  if (r != WSEVENT_OK)
    return raise_code(state_of_module(module), r);
  return PyLong_FromUnsignedLongLong(id);
}

static PyObject *mod_queue_completion(PyObject *module, PyObject *args) {
  PyObject *id_obj, *callable;
  if (!PyArg_ParseTuple(args, "OO:queue_completion", &id_obj, &callable))
    return NULL;
  if (!PyLong_Check(id_obj)) {
    PyErr_Format(PyExc_TypeError, "thread id must be an int, not %.100s",
                 Py_TYPE(id_obj)->tp_name);
    return NULL;
  }
  unsigned long long id = PyLong_AsUnsignedLongLong(id_obj);
  if (id == (unsigned long long)-1 && PyErr_Occurred())
    return NULL; /* OverflowError: negative or wider than 64 bits */
  if (!PyCallable_Check(callable)) {
    PyErr_Format(PyExc_TypeError, "queue_completion() needs a callable, not %.100s",
                 Py_TYPE(callable)->tp_name);
    return NULL;
  }
  Py_INCREF(callable);
  int r = wsevent_queue_completion(id, run_python_routine, callable);
  if (r != WSEVENT_OK) {
    Py_DECREF(callable);
    return raise_code(state_of_module(module), r);
  }
  Py_RETURN_NONE;
}

/* completion(callable): a context that a C provider queues with the routine
 * _completion_routine (xQueueCompletion); the routine calls callable() in
 * the target thread and drops the reference.  Queue it exactly once. */
static PyObject *mod_completion(PyObject *module, PyObject *callable) {
  if (!PyCallable_Check(callable)) {
    PyErr_Format(PyExc_TypeError, "completion() needs a callable, not %.100s",
                 Py_TYPE(callable)->tp_name);
    return NULL;
  }
  Py_INCREF(callable);
  return PyLong_FromVoidPtr(callable);
}

/* ---- network events and timers ---- */

static int check_mask(PyObject *obj, long *mask) {
  if (!PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "mask must be an int (FD flags), not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  *mask = PyLong_AsLong(obj);
  if (*mask == -1 && PyErr_Occurred())
    return -1;
  if (*mask < 0 || (*mask & ~WSEVENT_FD_ALL_EVENTS)) {
    PyErr_Format(PyExc_ValueError, "unknown network event bits in mask %#lx", *mask);
    return -1;
  }
  return 0;
}

/* An Event's handle, or 0 for None when allowed. */
static int optional_event(module_state *st, PyObject *obj, int allow_none,
                          wsevent_t *h, const char *what) {
  if (obj == Py_None && allow_none) {
    *h = 0;
    return 0;
  }
  if (!PyObject_TypeCheck(obj, st->event_type)) {
    PyErr_Format(PyExc_TypeError, "%s must be an Event%s, not %.100s", what,
                 allow_none ? " or None" : "", Py_TYPE(obj)->tp_name);
    return -1;
  }
  if (check_open((EventObject *)obj) < 0)
    return -1;
  *h = ((EventObject *)obj)->handle;
  return 0;
}

static PyObject *mod_event_select(PyObject *module, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"sock", "event", "mask", NULL};
  PyObject *sock, *event, *mask_obj;
  module_state *st = state_of_module(module);
  long mask;
  wsevent_t h;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO:event_select", kwlist, &sock,
                                   &event, &mask_obj))
    return NULL;
  int fd = PyObject_AsFileDescriptor(sock);
  if (fd < 0 || check_mask(mask_obj, &mask) < 0 ||
      optional_event(st, event, mask == 0, &h, "event") < 0)
    return NULL;
  int r = wsevent_event_select(fd, h, mask);
  if (r != WSEVENT_OK)
    return raise_code(st, r);
  Py_RETURN_NONE;
}

static PyObject *mod_enum_network_events(PyObject *module, PyObject *args,
                                         PyObject *kw) {
  static char *kwlist[] = {"sock", "event", NULL};
  PyObject *sock, *event = Py_None;
  module_state *st = state_of_module(module);
  wsevent_t h;
  struct wsevent_network_events ne;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:enum_network_events", kwlist,
                                   &sock, &event))
    return NULL;
  int fd = PyObject_AsFileDescriptor(sock);
  if (fd < 0 || optional_event(st, event, 1, &h, "event") < 0)
    return NULL;
  int r = wsevent_enum_network_events(fd, h, &ne);
  if (r != WSEVENT_OK)
    return raise_code(st, r);
  PyObject *errors = PyTuple_New(WSEVENT_FD_MAX_EVENTS);
  if (errors == NULL)
    return NULL;
  for (int i = 0; i < WSEVENT_FD_MAX_EVENTS; i++)
    PyTuple_SET_ITEM(errors, i, PyLong_FromLong(ne.error_code[i]));
  return Py_BuildValue("lN", ne.network_events, errors);
}

/* Seconds to whole milliseconds for a timer (no None: timers end). */
static int timer_ms(PyObject *obj, uint32_t *ms, const char *what) {
  double seconds;
  int infinite;
  if (obj == Py_None) {
    PyErr_Format(PyExc_TypeError, "%s must be a number of seconds", what);
    return -1;
  }
  if (parse_timeout(obj, &seconds, &infinite) < 0)
    return -1;
  double want = ceil(seconds * 1000.0);
  if (want > (double)UINT32_MAX - 1) {
    PyErr_Format(PyExc_OverflowError, "%s is too large (at most 49 days)", what);
    return -1;
  }
  *ms = (uint32_t)want;
  return 0;
}

static PyObject *mod_timer_start(PyObject *module, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"event", "due", "period", NULL};
  PyObject *event, *due, *period = NULL;
  module_state *st = state_of_module(module);
  wsevent_t h;
  uint32_t due_ms, period_ms = 0;
  wsevent_timer_t t;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:timer_start", kwlist, &event,
                                   &due, &period))
    return NULL;
  if (optional_event(st, event, 0, &h, "event") < 0 ||
      timer_ms(due, &due_ms, "due") < 0 ||
      (period != NULL && timer_ms(period, &period_ms, "period") < 0))
    return NULL;
  int r = wsevent_timer_start(h, due_ms, period_ms, &t);
  if (r != WSEVENT_OK)
    return raise_code(st, r);
  return PyLong_FromUnsignedLongLong(t);
}

static PyObject *mod_timer_cancel(PyObject *module, PyObject *arg) {
  if (!PyLong_Check(arg)) {
    PyErr_Format(PyExc_TypeError, "timer id must be an int, not %.100s",
                 Py_TYPE(arg)->tp_name);
    return NULL;
  }
  unsigned long long id = PyLong_AsUnsignedLongLong(arg);
  if (id == (unsigned long long)-1 && PyErr_Occurred())
    return NULL;
  int r = wsevent_timer_cancel(id);
  if (r != WSEVENT_OK)
    return raise_code(state_of_module(module), r);
  Py_RETURN_NONE;
}

static PyObject *mod_strerror(PyObject *module, PyObject *arg) {
  long code = PyLong_AsLong(arg);
  if (code == -1 && PyErr_Occurred())
    return NULL;
  return PyUnicode_FromString(wsevent_strerror((int)code));
}

static PyMethodDef module_methods[] = {
    {"wait_any", (PyCFunction)(void (*)(void))mod_wait_any,
     METH_VARARGS | METH_KEYWORDS,
     "wait_any(events, timeout=None)\n--\n\nWait until any event is signaled. "
     "Returns the lowest index among the signaled ones (consuming that "
     "event if auto-reset), or None on timeout."},
    {"wait_all", (PyCFunction)(void (*)(void))mod_wait_all,
     METH_VARARGS | METH_KEYWORDS,
     "wait_all(events, timeout=None)\n--\n\nWait until all events are "
     "signaled at once; auto-reset ones are consumed together. Returns True, "
     "or False on timeout (nothing consumed)."},
    {"wait_for_multiple", (PyCFunction)(void (*)(void))mod_wait_for_multiple,
     METH_VARARGS | METH_KEYWORDS,
     "wait_for_multiple(events, wait_all=False, timeout=None, "
     "alertable=False)\n--\n\nWSAWaitForMultipleEvents: returns "
     "WAIT_EVENT_0 + index, WAIT_TIMEOUT or WAIT_IO_COMPLETION. At most 64 "
     "events, as in Winsock."},
    {"sleep", (PyCFunction)(void (*)(void))mod_sleep,
     METH_VARARGS | METH_KEYWORDS,
     "sleep(timeout, alertable=False)\n--\n\nSleepEx: wait for the timeout; "
     "if alertable, return True as soon as completion routines ran."},
    {"thread_id", mod_thread_id, METH_NOARGS,
     "thread_id()\n--\n\nThe calling thread's id, for queue_completion and "
     "for providers."},
    {"queue_completion", mod_queue_completion, METH_VARARGS,
     "queue_completion(thread_id, callable)\n--\n\nQueueUserAPC: run "
     "callable() in that thread during its next alertable wait."},
    {"completion", mod_completion, METH_O,
     "completion(callable)\n--\n\nA context (an address) for C providers: "
     "queued once with _completion_routine, it runs callable() in the "
     "target thread's next alertable wait."},
    {"event_select", (PyCFunction)(void (*)(void))mod_event_select,
     METH_VARARGS | METH_KEYWORDS,
     "event_select(sock, event, mask)\n--\n\nWSAEventSelect: signal event when "
     "any FD bit in mask occurs on sock (a socket object or a descriptor); "
     "mask 0 cancels."},
    {"_enum_network_events", (PyCFunction)(void (*)(void))mod_enum_network_events,
     METH_VARARGS | METH_KEYWORDS,
     "_enum_network_events(sock, event=None)\n--\n\n(bits, errors) as "
     "WSAEnumNetworkEvents; see enum_network_events."},
    {"timer_start", (PyCFunction)(void (*)(void))mod_timer_start,
     METH_VARARGS | METH_KEYWORDS,
     "timer_start(event, due, period=0)\n--\n\nSet event after due seconds, "
     "then every period seconds (0: once). Returns the timer id."},
    {"timer_cancel", mod_timer_cancel, METH_O,
     "timer_cancel(timer_id)\n--\n\nStop a timer; wsevent.Error if it is "
     "unknown or finished."},
    {"strerror", mod_strerror, METH_O,
     "strerror(code)\n--\n\nThe sentence for a core error code."},
    {NULL, NULL, 0, NULL},
};

/* ---- module ---- */

static int module_exec(PyObject *m) {
  module_state *st = state_of_module(m);
  st->event_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Event_spec, NULL);
  if (st->event_type == NULL)
    return -1;
  if (PyModule_AddType(m, st->event_type) < 0)
    return -1;
  st->error = PyErr_NewExceptionWithDoc(
      "wsevent.Error",
      "A failure reported by the wsevent core; errno and code hold the "
      "core's (negative) code, name its symbolic name.",
      PyExc_OSError, NULL);
  if (st->error == NULL || PyModule_AddObjectRef(m, "Error", st->error) < 0)
    return -1;
  PyObject *capsule = PyCapsule_New((void *)wsevent_upcalls(),
                                    WSEVENT_CAPSULE_NAME, NULL);
  if (capsule == NULL || PyModule_AddObject(m, "_C_API", capsule) < 0) {
    Py_XDECREF(capsule);
    return -1;
  }
#define ADD_INT(name, value)                                                  \
  if (PyModule_AddIntConstant(m, name, value) < 0)                            \
    return -1;
  ADD_INT("WAIT_EVENT_0", WAIT_EVENT_0);
  ADD_INT("WAIT_TIMEOUT", WAIT_TIMEOUT);
  ADD_INT("WAIT_IO_COMPLETION", WAIT_IO_COMPLETION);
  ADD_INT("MAXIMUM_WAIT_EVENTS", MAXIMUM_WAIT_EVENTS);
#define XX(name, value, text) ADD_INT("WSEVENT_" #name, value);
  WSEVENT_ERRNO_MAP(XX)
#undef XX
  if (PyModule_AddObject(m, "TIMEOUT_MAX", PyFloat_FromDouble(TIMEOUT_MAX)) < 0)
    return -1;
  if (PyModule_AddObject(m, "_completion_routine",
                         PyLong_FromVoidPtr((void *)(uintptr_t)run_python_routine)) < 0)
    return -1;
  return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg) {
  module_state *st = state_of_module(m);
  Py_VISIT(st->event_type);
  Py_VISIT(st->error);
  return 0;
}

static int module_clear(PyObject *m) {
  module_state *st = state_of_module(m);
  Py_CLEAR(st->event_type);
  Py_CLEAR(st->error);
  return 0;
}

static void module_free(void *m) { module_clear((PyObject *)m); }

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef wsevent_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "wsevent._wsevent",
    .m_doc = "Windows Sockets event objects (the C extension; import wsevent).",
    .m_size = sizeof(module_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__wsevent(void) { return PyModuleDef_Init(&wsevent_module); }
