/*
 * port.c: _Port, a completion port (wsevent_port_*), the engine of the
 * asyncio helpers in __init__.py.
 *
 * An event loop keeps one port while it has waits; each awaited wait is an
 * asynchronous wait on the port, satisfied (and its auto-reset events
 * consumed) at the moment a blocking wait would be.  The loop polls the
 * port's one descriptor and takes the packets on its own thread: no
 * thread per waiter, no descriptor per event, no loop call from another
 * thread.
 */
#include "glue.h"

typedef struct {
  PyObject_HEAD
  wsevent_port_t port;
  int open;
} PortObject;

static PyObject *port_fail(PortObject *self, int code) {
  return wse_py_raise(wse_py_state_of_type(Py_TYPE(self)), code, NULL);
}

static int check_port(PortObject *self) {
  if (self->open)
    return 0;
  PyErr_SetString(PyExc_ValueError, "operation on a closed port");
  return -1;
}

static PyObject *Port_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  if (PyTuple_GET_SIZE(args) != 0 || (kw != NULL && PyDict_GET_SIZE(kw) != 0)) {
    PyErr_SetString(PyExc_TypeError, "_Port() takes no arguments");
    return NULL;
  }
  module_state *st = wse_py_state_of_type(type);
  if (st == NULL)
    return NULL;
  PortObject *self = (PortObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  int r = wsevent_port_create(&self->port);
  if (r != WSEVENT_OK) {
    Py_DECREF(self);
    return wse_py_raise(st, r, NULL);
  }
  self->open = 1;
  return (PyObject *)self;
}

static void port_close(PortObject *self) {
  if (self->open) {
    self->open = 0;
    wsevent_port_close(self->port);
  }
}

static void Port_dealloc(PortObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  port_close(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

static PyObject *Port_fileno(PortObject *self, PyObject *unused) {
  int fd;
  if (check_port(self) < 0)
    return NULL;
  int r = wsevent_port_fd(self->port, &fd);
  if (r != WSEVENT_OK)
    return port_fail(self, r);
  return PyLong_FromLong(fd);
}

/* wait(events, key, wait_all): start an asynchronous wait; its id. */
static PyObject *Port_wait(PortObject *self, PyObject *args) {
  PyObject *events;
  unsigned long long key;
  int all;
  if (!PyArg_ParseTuple(args, "OKp:wait", &events, &key, &all) ||
      check_port(self) < 0)
    return NULL;
  module_state *st = wse_py_state_of_type(Py_TYPE(self));
  wse_py_events l;
  if (wse_py_events_collect(st, events, "wait", WSEVENT_MAX_WAIT, &l) < 0)
    return NULL;
  wsevent_async_t id;
  int r = wsevent_wait_async(self->port, l.handles, l.count,
                             all ? WSEVENT_WAIT_ALL : 0, key, &id);
  wse_py_events_release(&l);
  if (r == WSEVENT_EINVAL && all) {
    PyErr_SetString(PyExc_ValueError, "wait_all_async(): the same event appears twice");
    return NULL;
  }
  if (r != WSEVENT_OK)
    return port_fail(self, r);
  return PyLong_FromUnsignedLongLong(id);
}

static PyObject *packet_tuple(const struct wsevent_packet *p) {
  return Py_BuildValue("(Kin)", (unsigned long long)p->key, p->result,
                       (Py_ssize_t)p->index);
}

/* take(): the queued packets, as (key, result, index) tuples. */
static PyObject *Port_take(PortObject *self, PyObject *unused) {
  if (check_port(self) < 0)
    return NULL;
  PyObject *list = PyList_New(0);
  if (list == NULL)
    return NULL;
  struct wsevent_packet pk[64];
  size_t n;
  do {
    int r = wsevent_port_take(self->port, pk, 64, &n);
    if (r != WSEVENT_OK) {
      Py_DECREF(list);
      return port_fail(self, r);
    }
    for (size_t i = 0; i < n; i++) {
      PyObject *t = packet_tuple(&pk[i]);
      if (t == NULL || PyList_Append(list, t) < 0) {
        /* The packets already taken are lost with their consumed
         * signals: only on out-of-memory. */
        Py_XDECREF(t);
        Py_DECREF(list);
        return NULL;
      }
      Py_DECREF(t);
    }
  } while (n == 64);
  return list;
}

/* cancel(id): None if it was pending (nothing consumed), or
 * (result, index) if it had been satisfied: the caller owns that outcome. */
static PyObject *Port_cancel(PortObject *self, PyObject *arg) {
  unsigned long long id = PyLong_AsUnsignedLongLong(arg);
  if (id == (unsigned long long)-1 && PyErr_Occurred())
    return NULL;
  int satisfied;
  struct wsevent_packet pk;
  int r = wsevent_wait_async_cancel(id, &satisfied, &pk);
  if (r != WSEVENT_OK)
    return port_fail(self, r);
  if (!satisfied)
    Py_RETURN_NONE;
  return Py_BuildValue("(in)", pk.result, (Py_ssize_t)pk.index);
}

static PyObject *Port_close(PortObject *self, PyObject *unused) {
  port_close(self);
  Py_RETURN_NONE;
}

static PyMethodDef Port_methods[] = {
    {"fileno", (PyCFunction)Port_fileno, METH_NOARGS,
     "fileno()\n--\n\nThe descriptor, readable while packets are queued."},
    {"wait", (PyCFunction)Port_wait, METH_VARARGS,
     "wait(events, key, wait_all, /)\n--\n\nStart an asynchronous wait; "
     "returns its id."},
    {"take", (PyCFunction)Port_take, METH_NOARGS,
     "take()\n--\n\nThe queued packets: a list of (key, result, index)."},
    {"cancel", (PyCFunction)Port_cancel, METH_O,
     "cancel(wait_id, /)\n--\n\nCancel a wait: None if it was pending, else "
     "its (result, index), whose consumed signal the caller now owns."},
    {"close", (PyCFunction)Port_close, METH_NOARGS,
     "close()\n--\n\nClose the port; pending waits are cancelled."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Port_slots[] = {
    {Py_tp_doc, "_Port()\n--\n\nA completion port (internal to the asyncio "
                "helpers)."},
    {Py_tp_new, Port_new},
    {Py_tp_dealloc, Port_dealloc},
    {Py_tp_methods, Port_methods},
    {0, NULL},
};

PyType_Spec wse_py_port_spec = {
    .name = "wsevent._Port",
    .basicsize = sizeof(PortObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Port_slots,
};
