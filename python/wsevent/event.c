/*
 * event.c: wsevent.Event, a heap type whose object names one event.
 *
 * __new__ makes an object with no event (so a subclass's __init__ may
 * take any arguments); __init__ parses the options, as threading.Event's
 * does, and creates the event.  An Event either owns its handle (it closes
 * the event when closed or collected) or borrows it (from_handle with
 * owned=False: it never closes the event, and reads as closed once the
 * owner closed it).  No Python code ever runs on a dying Event.
 */
#include "glue.h"

#include <structmember.h>

int wse_py_check_open(EventObject *ev) {
  if (ev->state == EVENT_OPEN)
    return 0;
  if (ev->state == EVENT_NEW)
    PyErr_Format(PyExc_RuntimeError,
                 "%.100s.__init__() was not called: the event does not exist",
                 Py_TYPE(ev)->tp_name);
  else
    PyErr_SetString(PyExc_ValueError, "operation on a closed event");
  return -1;
}

/* Raise for a failed call on ev: a borrowed event whose owner closed it
 * reads as closed, like one closed here. */
static PyObject *fail(EventObject *ev, int code) {
  if (code == WSEVENT_EINVAL_HANDLE && !ev->owned) {
    PyErr_SetString(PyExc_ValueError,
                    "operation on a closed event (its owner closed it)");
    return NULL;
  }
  return wse_py_raise(wse_py_state_of_type(Py_TYPE(ev)), code, NULL);
}

static PyObject *Event_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  EventObject *self = (EventObject *)type->tp_alloc(type, 0);
  if (self != NULL) {
    self->state = EVENT_NEW;
    self->owned = 1;
  }
  return (PyObject *)self;
}

/* Create or open the event called `name` (a str) into self. */
static int init_named(EventObject *self, PyObject *name, unsigned flags) {
  if (!PyUnicode_Check(name)) {
    PyErr_Format(PyExc_TypeError, "name must be a str, not %.100s",
                 Py_TYPE(name)->tp_name);
    return -1;
  }
  Py_ssize_t len;
  const char *utf8 = PyUnicode_AsUTF8AndSize(name, &len);
  if (utf8 == NULL)
    return -1;
  if (len == 0 || len > WSEVENT_NAME_MAX || memchr(utf8, '/', len) != NULL ||
      strlen(utf8) != (size_t)len) {
    PyErr_Format(PyExc_ValueError,
                 "invalid event name %R: it must be 1 to %d bytes in UTF-8, "
                 "with no '/' and no NUL",
                 name, WSEVENT_NAME_MAX);
    return -1;
  }
  int existed = 0, r;
  Py_BEGIN_ALLOW_THREADS
  r = wsevent_create_named(&self->handle, utf8, flags, &existed);
  Py_END_ALLOW_THREADS
  if (r != WSEVENT_OK) {
    module_state *st = wse_py_state_of_type(Py_TYPE(self));
    PyObject *msg = r == WSEVENT_ENOTFOUND
                        ? PyUnicode_FromFormat("no event is named %R", name)
                        : NULL;
    if (st != NULL && (msg != NULL || r != WSEVENT_ENOTFOUND))
      wse_py_raise(st, r, msg ? PyUnicode_AsUTF8(msg) : NULL);
    Py_XDECREF(msg);
    return -1;
  }
  unsigned actual = 0;
  wsevent_get_flags(self->handle, &actual);
  self->manual_reset = !(actual & WSEVENT_AUTO_RESET);
  self->existed = existed != 0;
  return 0;
}

static int Event_init(EventObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"manual_reset", "initial_state", "name", NULL};
  int manual = 1, initial = 0;
  PyObject *name = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|$ppO:Event", kwlist, &manual,
                                   &initial, &name))
    return -1;
  if (self->state != EVENT_NEW) {
    PyErr_SetString(PyExc_RuntimeError, "Event.__init__() called twice");
    return -1;
  }
  unsigned flags = (manual ? 0 : WSEVENT_AUTO_RESET) |
                   (initial ? WSEVENT_INITIAL_SET : 0);
  if (name != Py_None) {
    if (init_named(self, name, flags) < 0)
      return -1;
  } else {
    int r = wsevent_create(&self->handle, flags);
    if (r != WSEVENT_OK) {
      wse_py_raise(wse_py_state_of_type(Py_TYPE(self)), r, NULL);
      return -1;
    }
    self->manual_reset = manual;
  }
  self->owned = 1;
  self->state = EVENT_OPEN;
  return 0;
}

/* Event.open(name): the existing event called name, as OpenEvent. */
static PyObject *Event_open(PyTypeObject *type, PyObject *name) {
  EventObject *self = (EventObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->state = EVENT_NEW;
  self->owned = 1;
  if (init_named(self, name, WSEVENT_OPEN_EXISTING) < 0) {
    Py_DECREF(self);
    return NULL;
  }
  self->state = EVENT_OPEN;
  return (PyObject *)self;
}

/* The name of a named event, or None. */
static PyObject *name_of(EventObject *self) {
  char buf[WSEVENT_NAME_MAX + 1];
  size_t len = 0;
  int r = wsevent_get_name(self->handle, buf, sizeof buf, &len);
  if (r != WSEVENT_OK)
    return wse_py_raise(wse_py_state_of_type(Py_TYPE(self)), r, NULL);
  if (len == 0)
    Py_RETURN_NONE;
  return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "surrogateescape");
}

/* A subclass instance's own `name` (threading.Event subclasses often set
 * self.name), which then shadows the event's name; NULL if none. */
static PyObject *own_name(EventObject *self) {
  if (Py_TYPE(self)->tp_dictoffset == 0)
    return NULL;
  PyObject *dict = PyObject_GenericGetDict((PyObject *)self, NULL);
  if (dict == NULL) {
    PyErr_Clear();
    return NULL;
  }
  PyObject *v = PyDict_GetItemString(dict, "name"); /* borrowed */
  Py_XINCREF(v);
  Py_DECREF(dict);
  return v;
}

static PyObject *Event_get_name(EventObject *self, void *c) {
  PyObject *own = own_name(self);
  if (own != NULL)
    return own;
  if (wse_py_check_open(self) < 0)
    return NULL;
  return name_of(self);
}

static int Event_set_name(EventObject *self, PyObject *value, void *c) {
  if (Py_TYPE(self)->tp_dictoffset == 0) {
    PyErr_SetString(PyExc_AttributeError,
                    "the name of a wsevent.Event is given when it is made");
    return -1;
  }
  PyObject *dict = PyObject_GenericGetDict((PyObject *)self, NULL);
  if (dict == NULL)
    return -1;
  int r = value != NULL ? PyDict_SetItemString(dict, "name", value)
                        : PyDict_DelItemString(dict, "name");
  Py_DECREF(dict);
  return r;
}

static PyObject *Event_get_existed(EventObject *self, void *c) {
  return PyBool_FromLong(self->existed);
}

/* A named event pickles as its name (for multiprocessing): unpickling
 * opens it, in whatever process. */
static PyObject *Event_reduce(EventObject *self, PyObject *unused) {
  if (wse_py_check_open(self) < 0)
    return NULL;
  PyObject *name = name_of(self);
  if (name == NULL)
    return NULL;
  if (name == Py_None) {
    Py_DECREF(name);
    PyErr_Format(PyExc_TypeError,
                 "cannot pickle an unnamed %.100s: only named events "
                 "(Event(name=...)) can be shared with other processes",
                 Py_TYPE(self)->tp_name);
    return NULL;
  }
  PyObject *open = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "open");
  PyObject *r = open ? Py_BuildValue("O(O)", open, name) : NULL;
  Py_XDECREF(open);
  Py_DECREF(name);
  return r;
}

PyObject *wse_py_event_from_handle(module_state *st, wsevent_t handle,
                                   int owned) {
  unsigned flags;
  int r = wsevent_get_flags(handle, &flags);
  if (r != WSEVENT_OK)
    return wse_py_raise(st, r, NULL);
  EventObject *self = (EventObject *)st->event_type->tp_alloc(st->event_type, 0);
  if (self == NULL)
    return NULL;
  self->handle = handle;
  self->manual_reset = !(flags & WSEVENT_AUTO_RESET);
  self->owned = owned != 0;
  self->state = EVENT_OPEN;
  return (PyObject *)self;
}

int wse_py_handle_of(module_state *st, PyObject *obj, int allow_int,
                     wsevent_t *handle) {
  if (PyObject_TypeCheck(obj, st->event_type)) {
    if (wse_py_check_open((EventObject *)obj) < 0)
      return -1;
    *handle = ((EventObject *)obj)->handle;
    return 0;
  }
  if (allow_int && PyLong_Check(obj) && !PyBool_Check(obj)) {
    unsigned long long h = PyLong_AsUnsignedLongLong(obj);
    if (h == (unsigned long long)-1 && PyErr_Occurred())
      return -1; /* OverflowError: negative or wider than 64 bits */
    if (h == 0) {
      PyErr_SetString(PyExc_ValueError, "0 is not a handle");
      return -1;
    }
    *handle = h;
    return 0;
  }
  PyErr_Format(PyExc_TypeError, "expected a wsevent.Event%s, not %.100s",
               allow_int ? " or an int handle" : "", Py_TYPE(obj)->tp_name);
  return -1;
}

/* Event.from_handle(handle, *, owned=False) */
static PyObject *Event_from_handle(PyTypeObject *type, PyObject *args,
                                   PyObject *kw) {
  static char *kwlist[] = {"handle", "owned", NULL};
  PyObject *h;
  int owned = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$p:from_handle", kwlist, &h,
                                   &owned))
    return NULL;
  module_state *st = wse_py_state_of_type(type);
  wsevent_t handle;
  if (st == NULL)
    return NULL;
  if (!PyLong_Check(h)) {
    PyErr_Format(PyExc_TypeError, "handle must be an int, not %.100s",
                 Py_TYPE(h)->tp_name);
    return NULL;
  }
  if (wse_py_handle_of(st, h, 1, &handle) < 0)
    return NULL;
  return wse_py_event_from_handle(st, handle, owned);
}

/* Close (if owned) and forget the handle.  Runs no Python code. */
static void event_close(EventObject *self) {
  if (self->state != EVENT_OPEN)
    return;
  self->state = EVENT_CLOSED;
  if (self->owned)
    wsevent_close(self->handle); /* may be invalid already: a provider
                                    closed it; harmless */
}

static void Event_dealloc(EventObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  if (self->weakrefs)
    PyObject_ClearWeakRefs((PyObject *)self);
  event_close(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

static int Event_traverse(EventObject *self, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(self));
  return 0;
}

static PyObject *Event_set(EventObject *self, PyObject *unused) {
  if (wse_py_check_open(self) < 0)
    return NULL;
  int r = wsevent_set(self->handle);
  if (r != WSEVENT_OK)
    return fail(self, r);
  Py_RETURN_NONE;
}

static PyObject *Event_clear(EventObject *self, PyObject *unused) {
  if (wse_py_check_open(self) < 0)
    return NULL;
  int r = wsevent_reset(self->handle);
  if (r != WSEVENT_OK)
    return fail(self, r);
  Py_RETURN_NONE;
}

static PyObject *Event_is_set(EventObject *self, PyObject *unused) {
  if (wse_py_check_open(self) < 0)
    return NULL;
  int r = wsevent_is_set(self->handle);
  if (r < 0)
    return fail(self, r);
  return PyBool_FromLong(r);
}

static PyObject *Event_wait(EventObject *self, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames) {
  PyObject *timeout = Py_None;
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs + nkw > 1) {
    PyErr_Format(PyExc_TypeError, "wait() takes at most 1 argument (%zd given)",
                 nargs + nkw);
    return NULL;
  }
  if (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                                   "timeout") != 0) {
    PyErr_Format(PyExc_TypeError, "wait() got an unexpected keyword argument '%U'",
                 PyTuple_GET_ITEM(kwnames, 0));
    return NULL;
  }
  if (nargs + nkw == 1)
    timeout = args[0];
  wsevent_time_t deadline;
  if (wse_py_check_open(self) < 0 || wse_py_deadline(timeout, &deadline) < 0)
    return NULL;
  size_t index;
  int r = wse_py_wait(&self->handle, 1, 0, deadline, &index);
  if (r == WSE_PY_ERROR)
    return NULL;
  if (r == WSEVENT_OK)
    Py_RETURN_TRUE;
  if (r == WSEVENT_TIMEOUT)
    Py_RETURN_FALSE;
  return fail(self, r);
}

static PyObject *Event_close(EventObject *self, PyObject *unused) {
  event_close(self);
  Py_RETURN_NONE;
}

static PyObject *Event_fileno(EventObject *self, PyObject *unused) {
  if (wse_py_check_open(self) < 0)
    return NULL;
  int fd, r = wsevent_fd(self->handle, &fd);
  if (r != WSEVENT_OK)
    return fail(self, r);
  return PyLong_FromLong(fd);
}

static PyObject *Event_enter(EventObject *self, PyObject *unused) {
  if (wse_py_check_open(self) < 0)
    return NULL;
  return Py_NewRef(self);
}

static PyObject *Event_exit(EventObject *self, PyObject *args) {
  event_close(self);
  Py_RETURN_NONE;
}

static PyObject *Event_repr(EventObject *self) {
  const char *status = self->state == EVENT_NEW ? "uninitialised" : "closed";
  if (self->state == EVENT_OPEN) {
    int r = wsevent_is_set(self->handle);
    status = r == 1 ? "set" : r == 0 ? "unset" : "closed by its owner";
  }
  char name[WSEVENT_NAME_MAX + 1];
  size_t len = 0;
  if (self->state == EVENT_OPEN &&
      wsevent_get_name(self->handle, name, sizeof name, &len) == WSEVENT_OK &&
      len > 0) {
    PyObject *n = PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "surrogateescape");
    if (n == NULL)
      return NULL;
    PyObject *r = PyUnicode_FromFormat("<%s %R at %p: %s%s>",
                                       Py_TYPE(self)->tp_name, n, self, status,
                                       self->owned ? "" : ", borrowed");
    Py_DECREF(n);
    return r;
  }
  return PyUnicode_FromFormat("<%s at %p: %s%s>", Py_TYPE(self)->tp_name, self,
                              status, self->owned ? "" : ", borrowed");
}

static PyObject *Event_get_handle(EventObject *self, void *c) {
  if (wse_py_check_open(self) < 0)
    return NULL;
  return PyLong_FromUnsignedLongLong(self->handle);
}

static PyObject *Event_get_closed(EventObject *self, void *c) {
  /* A borrowed event is closed once its owner closed it. */
  return PyBool_FromLong(self->state != EVENT_OPEN ||
                         wsevent_is_set(self->handle) < 0);
}

static PyObject *Event_get_manual_reset(EventObject *self, void *c) {
  return PyBool_FromLong(self->manual_reset);
}

static PyObject *Event_get_owned(EventObject *self, void *c) {
  return PyBool_FromLong(self->owned);
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
     "timeout (seconds, to the microsecond; negative polls, as "
     "threading.Event) elapses. Returns True if signaled, False on "
     "timeout. Releases the GIL; Ctrl-C interrupts it."},
    {"close", (PyCFunction)Event_close, METH_NOARGS,
     "close()\n--\n\nClose the event (a borrowed one is only let go). "
     "Threads blocked on it raise wsevent.Error (WSEVENT_ECLOSED). A second "
     "close does nothing."},
    {"fileno", (PyCFunction)Event_fileno, METH_NOARGS,
     "fileno()\n--\n\nA file descriptor readable while the event is "
     "signaled, owned by the event (do not close it)."},
    {"__enter__", (PyCFunction)Event_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)Event_exit, METH_VARARGS, NULL},
    {"open", (PyCFunction)Event_open, METH_O | METH_CLASS,
     "open(name, /)\n--\n\nThe existing named event `name` (as OpenEvent); "
     "wsevent.Error (WSEVENT_ENOTFOUND, errno ENOENT) if no process holds "
     "one."},
    {"__reduce__", (PyCFunction)Event_reduce, METH_NOARGS,
     "A named event pickles as its name: unpickling opens it."},
    {"from_handle", (PyCFunction)(void (*)(void))Event_from_handle,
     METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "from_handle(handle, *, owned=False)\n--\n\nAn Event for a handle made "
     "elsewhere (by C code or another language). By default it borrows the "
     "handle: it never closes the event. owned=True takes the event over: "
     "closing or collecting the Event closes it (give it only an event "
     "nobody else owns)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Event_getset[] = {
    {"handle", (getter)Event_get_handle, NULL,
     "The 64-bit handle that C providers take.", NULL},
    {"closed", (getter)Event_get_closed, NULL,
     "True once closed (for a borrowed event: once its owner closed it).",
     NULL},
    {"manual_reset", (getter)Event_get_manual_reset, NULL,
     "True for a manual-reset event, False for auto-reset.", NULL},
    {"owned", (getter)Event_get_owned, NULL,
     "True if closing this Event closes the event.", NULL},
    {"name", (getter)Event_get_name, (setter)Event_set_name,
     "The name of a named event (shared between processes), else None. "
     "A subclass may set its own `name` attribute, as threading.Event "
     "subclasses do; the event keeps its name.",
     NULL},
    {"existed", (getter)Event_get_existed, NULL,
     "True if Event(name=...) opened an event that existed already "
     "(Win32's ERROR_ALREADY_EXISTS); its own reset mode and state were "
     "kept.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Event_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(EventObject, weakrefs),
     READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Event_slots[] = {
    {Py_tp_doc,
     "Event(*, manual_reset=True, initial_state=False, name=None)\n--\n\n"
     "A Windows Sockets event object. A drop-in replacement for "
     "threading.Event that C providers can signal from any thread through "
     "its handle. With a name, the event is shared with every process of "
     "the same user that names it (created, or opened if it exists: see "
     "`existed`)."},
    {Py_tp_new, Event_new},
    {Py_tp_init, Event_init},
    {Py_tp_dealloc, Event_dealloc},
    {Py_tp_traverse, Event_traverse},
    {Py_tp_methods, Event_methods},
    {Py_tp_getset, Event_getset},
    {Py_tp_members, Event_members},
    {Py_tp_repr, Event_repr},
    {0, NULL},
};

PyType_Spec wse_py_event_spec = {
    .name = "wsevent.Event",
    .basicsize = sizeof(EventObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Event_slots,
};
