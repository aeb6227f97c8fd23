/*
 * network.c: event-select (WSAEventSelect, WSAEnumNetworkEvents) and
 * waitable timers.  The Python-level wrappers (FD flags, NetworkEvents,
 * socket objects told they are non-blocking) are in __init__.py.
 */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "glue.h"

static int check_mask(PyObject *obj, long *mask) {
  if (!PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "mask must be an int (FD flags), not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  int overflow;
  *mask = PyLong_AsLongAndOverflow(obj, &overflow);
  if (*mask == -1 && PyErr_Occurred())
    return -1;
  if (overflow || *mask < 0 || (*mask & ~WSEVENT_FD_ALL_EVENTS)) {
    PyObject *text = PyObject_Repr(obj);
    if (text != NULL)
      PyErr_Format(PyExc_ValueError, "unknown network event bits in mask %U",
                   text);
    Py_XDECREF(text);
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
  return wse_py_handle_of(st, obj, 0, h);
}

/* ---- which socket object was selected on which descriptor ----
 *
 * An enumeration checks with fstat(2) that its descriptor is still the
 * socket that was selected: a program may close a socket object without
 * telling the library, and the number go to another socket.  That call is
 * most of an enumeration's cost.  A socket object, once closed, never
 * holds a descriptor again; so if the object enumerated is the very one
 * that was selected on fd and still holds fd, fd was not closed since
 * (short of os.close() on a descriptor a socket object owns, which Python
 * does not survive either), and the enumeration skips the check. */

void wse_py_fdmap_clear(wse_py_fdmap *m) {
  for (int i = 0; i < m->n; i++)
    Py_CLEAR(m->refs[i]);
  PyMem_Free(m->refs);
  m->refs = NULL;
  m->n = 0;
}

void wse_py_fdmap_forget(wse_py_fdmap *m, int fd) {
  if (fd >= 0 && fd < m->n)
    Py_CLEAR(m->refs[fd]);
}

int wse_py_fdmap_set(wse_py_fdmap *m, PyObject *sock, int fd) {
  PyObject *ref = NULL;
  wse_py_fdmap_forget(m, fd);
  if (PyLong_Check(sock))
    return 0;
  PyObject *mod = PyImport_ImportModule("socket");
  if (mod == NULL)
    return -1;
  PyObject *type = PyObject_GetAttrString(mod, "socket");
  Py_DECREF(mod);
  int is_socket = type != NULL ? PyObject_IsInstance(sock, type) : -1;
  Py_XDECREF(type);
  if (is_socket <= 0)
    return is_socket;
  if (fd >= m->n) {
    int n = fd < 64 ? 64 : fd + 1 + fd / 2;
    PyObject **grown = PyMem_Realloc(m->refs, (size_t)n * sizeof *grown);
    if (grown == NULL) {
      PyErr_NoMemory();
      return -1;
    }
    for (int i = m->n; i < n; i++)
      grown[i] = NULL;
    m->refs = grown;
    m->n = n;
  }
  ref = PyWeakref_NewRef(sock, NULL);
  if (ref == NULL)
    return -1;
  m->refs[fd] = ref;
  return 0;
}

int wse_py_fdmap_is(const wse_py_fdmap *m, PyObject *sock, int fd) {
  return fd >= 0 && fd < m->n && m->refs[fd] != NULL &&
         PyWeakref_GET_OBJECT(m->refs[fd]) == sock;
}

static int remember_selected(module_state *st, PyObject *sock, int fd) {
  return wse_py_fdmap_set(&st->selected, sock, fd);
}

/* WSEVENT_ENUM_SAME_SOCKET if sock is the object selected on fd. */
static unsigned same_socket(module_state *st, PyObject *sock, int fd) {
  return wse_py_fdmap_is(&st->selected, sock, fd) ? WSEVENT_ENUM_SAME_SOCKET : 0;
}

static PyObject *mod_event_select(PyObject *module, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"sock", "event", "mask", NULL};
  PyObject *sock, *event, *mask_obj;
  module_state *st = wse_py_state(module);
  long mask;
  wsevent_t h;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO:event_select", kwlist, &sock,
                                   &event, &mask_obj))
    return NULL;
  int fd = wse_py_fileno(st, sock);
  if (fd < 0 || check_mask(mask_obj, &mask) < 0 ||
      optional_event(st, event, mask == 0, &h, "event") < 0)
    return NULL;
  int r = wsevent_event_select(fd, h, mask);
  if (r != WSEVENT_OK)
    return wse_py_raise(st, r, NULL);
  if (remember_selected(st, sock, fd) < 0)
    return NULL;
  Py_RETURN_NONE;
}

/* ---- NetworkEvents: what an enumeration found ----
 *
 * A C object, since a server makes one per message: the bits, the codes,
 * a boolean per bit; `events` and `errors` (FD values, from the package's
 * tables) are made only when asked for. */

typedef struct {
  PyObject_HEAD
  long bits;
  int codes[WSEVENT_FD_MAX_EVENTS];
} NetEventsObject;

/* wsevent.<name> (a table the package makes once), new reference. */
static PyObject *package_table(const char *name) {
  PyObject *pkg = PyImport_ImportModule("wsevent");
  if (pkg == NULL)
    return NULL;
  PyObject *t = PyObject_GetAttrString(pkg, name);
  Py_DECREF(pkg);
  return t;
}

static PyObject *NE_events(NetEventsObject *self, void *c) {
  PyObject *of = package_table("_FD_OF");
  if (of == NULL)
    return NULL;
  PyObject *v = PySequence_GetItem(of, self->bits & 0x3FF);
  Py_DECREF(of);
  return v;
}

static PyObject *NE_errors(NetEventsObject *self, void *c) {
  PyObject *flags = package_table("_FD_BITS");
  PyObject *d = flags ? PyDict_New() : NULL;
  for (int i = 0; d != NULL && i < WSEVENT_FD_MAX_EVENTS; i++) {
    if (!(self->bits & (1L << i)))
      continue;
    PyObject *k = PySequence_GetItem(flags, i);
    PyObject *v = k ? PyLong_FromLong(self->codes[i]) : NULL;
    if (v == NULL || PyDict_SetItem(d, k, v) < 0)
      Py_CLEAR(d);
    Py_XDECREF(k);
    Py_XDECREF(v);
  }
  Py_XDECREF(flags);
  return d;
}

static PyObject *NE_bit(NetEventsObject *self, void *bit) {
  return PyBool_FromLong(self->bits & (long)(intptr_t)bit);
}

static PyObject *NE_repr(NetEventsObject *self) {
  PyObject *events = NE_events(self, NULL);
  PyObject *errors = events ? NE_errors(self, NULL) : NULL;
  PyObject *r = errors ? PyUnicode_FromFormat("NetworkEvents(events=%R, errors=%R)",
                                              events, errors)
                       : NULL;
  Py_XDECREF(events);
  Py_XDECREF(errors);
  return r;
}

#define NE_BIT(name, b)                                                       \
  {#name, (getter)NE_bit, NULL, "True if FD_" #name " occurred.",             \
   (void *)(intptr_t)(1L << WSEVENT_FD_##b##_BIT)}

static PyGetSetDef NE_getset[] = {
    {"events", (getter)NE_events, NULL,
     "The network events that occurred, as an FD value.", NULL},
    {"errors", (getter)NE_errors, NULL,
     "FD bit -> error code (errno value, 0 for success) for each event that "
     "occurred.", NULL},
    NE_BIT(read, READ),
    NE_BIT(write, WRITE),
    NE_BIT(oob, OOB),
    NE_BIT(accept, ACCEPT),
    NE_BIT(connect, CONNECT),
    NE_BIT(close, CLOSE),
    {NULL, NULL, NULL, NULL, NULL},
};

static void NE_dealloc(NetEventsObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

static PyType_Slot NE_slots[] = {
    {Py_tp_doc, "What enum_network_events found: `events` (FD flags) and "
                "`errors` (FD bit -> errno value, 0 for success) for the "
                "events that occurred, and a boolean per event (`read`, "
                "`write`, `oob`, `accept`, `connect`, `close`), cheaper to "
                "test than FD flags."},
    {Py_tp_getset, NE_getset},
    {Py_tp_repr, NE_repr},
    {Py_tp_dealloc, NE_dealloc},
    {0, NULL},
};

PyType_Spec wse_py_netevents_spec = {
    .name = "wsevent.NetworkEvents",
    .basicsize = sizeof(NetEventsObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = NE_slots,
};

static PyObject *mod_enum_network_events(PyObject *module, PyObject *const *args,
                                         Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"sock", "event", NULL};
  PyObject *a[2] = {NULL, Py_None};
  module_state *st = wse_py_state(module);
  wsevent_t h;
  struct wsevent_network_events ne;
  if (wse_py_args("enum_network_events", args, nargs, kwnames, names, 2, 1, a) < 0)
    return NULL;
  PyObject *sock = a[0], *event = a[1];
  int fd = wse_py_fileno(st, sock);
  if (fd < 0 || optional_event(st, event, 1, &h, "event") < 0)
    return NULL;
  int r = wsevent_enum_network_events_ex(fd, h, &ne, same_socket(st, sock, fd));
  if (r != WSEVENT_OK)
    return wse_py_raise(st, r, NULL);
  NetEventsObject *o = PyObject_New(NetEventsObject, st->netevents_type);
  if (o == NULL)
    return NULL;
  o->bits = ne.network_events;
  for (int i = 0; i < WSEVENT_FD_MAX_EVENTS; i++)
    o->codes[i] = ne.error_code[i];
  return (PyObject *)o;
}

/* ---- the socket calls that re-enable network events, as Winsock's do ---- */

int wse_py_socket_flags(PyObject *obj, int *flags) {
  if (!PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "flags must be an int, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  return wse_py_int(obj, "flags out of range", flags);
}

static int check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t min,
                       Py_ssize_t max) {
  if (nargs >= min && nargs <= max)
    return 1;
  PyErr_Format(PyExc_TypeError, "%s() takes from %zd to %zd positional "
               "arguments but %zd were given", name, min, max, nargs);
  return 0;
}

/* An int argument, with socket.recv's messages. */
static int int_arg(PyObject *obj, const char *what, Py_ssize_t *out) {
  if (!PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  *out = PyLong_AsSsize_t(obj);
  return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

/* recv's buffer.  A bytes object of the size asked is a malloc of that
 * size, then a realloc that shrinks it: per message in a loop that asks
 * for 64 KiB and gets a few bytes (socket.recv pays both).  Up to
 * RECV_SCRATCH, recv reads into a kept buffer instead and copies what came
 * into a bytes object of its size, unless the last recv brought more than
 * RECV_COPY_MAX (a bulk transfer, for which the copy would cost more than
 * the allocation: the bytes object is read into directly).  The buffer is
 * taken for the call (the GIL is released meanwhile, and another thread
 * may be in recv: it gets a new one), given back after. */
#define RECV_SCRATCH ((Py_ssize_t)64 * 1024)
#define RECV_COPY_MAX ((ssize_t)4 * 1024)
static _Atomic(char *) scratch_spare;
static atomic_bool recv_bulk;

static char *scratch_take(void) {
  char *p = atomic_exchange(&scratch_spare, NULL);
  return p != NULL ? p : malloc((size_t)RECV_SCRATCH);
}

static void scratch_give(char *p) {
  free(atomic_exchange(&scratch_spare, p));
}

/* recv(sock, bufsize, flags=0): socket.recv through wsevent_recv. */
static PyObject *mod_recv(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs) {
  Py_ssize_t size;
  int flags = 0;
  if (!check_nargs("recv", nargs, 2, 3))
    return NULL;
  int fd = wse_py_fileno(wse_py_state(module), args[0]);
  if (fd < 0 || int_arg(args[1], "bufsize", &size) < 0 ||
      (nargs > 2 && wse_py_socket_flags(args[2], &flags) < 0))
    return NULL;
  if (size < 0) {
    PyErr_SetString(PyExc_ValueError, "negative buffersize in recv");
    return NULL;
  }
  bool copy = size > 0 && size <= RECV_SCRATCH &&
              !atomic_load_explicit(&recv_bulk, memory_order_relaxed);
  char *scratch = copy ? scratch_take() : NULL;
  if (scratch != NULL) {
    ssize_t n;
    Py_BEGIN_ALLOW_THREADS
    n = wsevent_recv(fd, scratch, (size_t)size, flags);
    Py_END_ALLOW_THREADS
    if (n > RECV_COPY_MAX)
      atomic_store_explicit(&recv_bulk, true, memory_order_relaxed);
    PyObject *bytes = n < 0 ? PyErr_SetFromErrno(PyExc_OSError)
                            : PyBytes_FromStringAndSize(scratch, n);
    scratch_give(scratch);
    return bytes;
  }
  PyObject *bytes = PyBytes_FromStringAndSize(NULL, size);
  if (bytes == NULL || size == 0)
    return bytes;
  ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  n = wsevent_recv(fd, PyBytes_AS_STRING(bytes), (size_t)size, flags);
  Py_END_ALLOW_THREADS
  if (n < 0) {
    Py_DECREF(bytes);
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  if (n <= RECV_COPY_MAX)
    atomic_store_explicit(&recv_bulk, false, memory_order_relaxed);
  if (n != size && _PyBytes_Resize(&bytes, n) < 0)
    return NULL;
  return bytes;
}

/* recv_into(sock, buffer, nbytes=0, flags=0): socket.recv_into. */
static PyObject *mod_recv_into(PyObject *module, PyObject *const *args,
                               Py_ssize_t nargs) {
  Py_buffer view;
  Py_ssize_t nbytes = 0;
  int flags = 0;
  if (!check_nargs("recv_into", nargs, 2, 4))
    return NULL;
  int fd = wse_py_fileno(wse_py_state(module), args[0]);
  if (fd < 0 || (nargs > 2 && int_arg(args[2], "nbytes", &nbytes) < 0) ||
      (nargs > 3 && wse_py_socket_flags(args[3], &flags) < 0))
    return NULL;
  if (PyObject_GetBuffer(args[1], &view, PyBUF_WRITABLE) < 0) {
    if (PyErr_ExceptionMatches(PyExc_BufferError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "buffer must be a writable bytes-like "
                   "object, not %.100s", Py_TYPE(args[1])->tp_name);
    }
    return NULL;
  }
  if (nbytes < 0 || nbytes > view.len) {
    PyBuffer_Release(&view);
    PyErr_SetString(PyExc_ValueError, "nbytes must be between 0 and the "
                                      "buffer's size");
    return NULL;
  }
  if (nbytes == 0)
    nbytes = view.len;
  ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  n = wsevent_recv(fd, view.buf, (size_t)nbytes, flags);
  Py_END_ALLOW_THREADS
  PyBuffer_Release(&view);
  if (n < 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  return PyLong_FromSsize_t(n);
}

/* send(sock, data, flags=0): socket.send through wsevent_send (which never
 * raises SIGPIPE: a closed peer is an EPIPE error). */
static PyObject *mod_send(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs) {
  Py_buffer view;
  int flags = 0;
  if (!check_nargs("send", nargs, 2, 3))
    return NULL;
  int fd = wse_py_fileno(wse_py_state(module), args[0]);
  if (fd < 0 || (nargs > 2 && wse_py_socket_flags(args[2], &flags) < 0))
    return NULL;
  if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
    return NULL;
  ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  n = wsevent_send(fd, view.buf, (size_t)view.len, flags);
  Py_END_ALLOW_THREADS
  PyBuffer_Release(&view);
  if (n < 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  return PyLong_FromSsize_t(n);
}

/* _accept(sock): the new descriptor, through wsevent_accept (it gets the
 * listener's selection). */
static PyObject *mod_accept(PyObject *module, PyObject *sock) {
  int fd = wse_py_fileno(wse_py_state(module), sock);
  if (fd < 0)
    return NULL;
  int c;
  Py_BEGIN_ALLOW_THREADS
  c = wsevent_accept(fd, NULL, NULL);
  Py_END_ALLOW_THREADS
  if (c < 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  return PyLong_FromLong(c);
}

/* sock's descriptor and selection; 0, or -1 with an exception. */
static int selection_of(PyObject *module, PyObject *sock, int *fd,
                        wsevent_t *ev, long *mask) {
  *fd = wse_py_fileno(wse_py_state(module), sock);
  if (*fd < 0)
    return -1;
  int r = wsevent_socket_selection(*fd, ev, mask);
  if (r != WSEVENT_OK) {
    wse_py_raise(wse_py_state(module), r, NULL);
    return -1;
  }
  return 0;
}

/* _accepted(conn): the socket object made for a descriptor from _accept:
 * remembered as the object selected on it if it has the listener's
 * selection.  Returns the mask (0: not selected). */
static PyObject *mod_accepted(PyObject *module, PyObject *conn) {
  int fd;
  wsevent_t ev;
  long mask;
  if (selection_of(module, conn, &fd, &ev, &mask) < 0 ||
      (mask != 0 && remember_selected(wse_py_state(module), conn, fd) < 0))
    return NULL;
  return PyLong_FromLong(mask);
}

/* _socket_selection(sock): (event handle, mask), (0, 0) if not selected. */
static PyObject *mod_socket_selection(PyObject *module, PyObject *sock) {
  int fd;
  wsevent_t ev;
  long mask;
  if (selection_of(module, sock, &fd, &ev, &mask) < 0)
    return NULL;
  return Py_BuildValue("Kl", (unsigned long long)ev, mask);
}

/* Seconds to whole milliseconds for a timer (no None: timers end). */
static int timer_ms(PyObject *obj, uint32_t *ms, const char *what) {
  if (!PyFloat_Check(obj) && !PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be a number of seconds, not %.100s",
                 what, Py_TYPE(obj)->tp_name);
    return -1;
  }
  double seconds = PyFloat_AsDouble(obj);
  if (seconds == -1.0 && PyErr_Occurred())
    return -1;
  if (isnan(seconds) || seconds < 0) {
    PyErr_Format(PyExc_ValueError, "%s must be a non-negative number of "
                 "seconds, not %R", what, obj);
    return -1;
  }
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
  module_state *st = wse_py_state(module);
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
    return wse_py_raise(st, r, NULL);
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
    return wse_py_raise(wse_py_state(module), r,
                        r == WSEVENT_EINVAL_HANDLE
                            ? "no such timer: unknown, cancelled, or finished "
                              "(a one-shot timer that fired, or whose event "
                              "was closed)"
                            : NULL);
  Py_RETURN_NONE;
}

PyMethodDef wse_py_network_methods[] = {
    {"_event_select", (PyCFunction)(void (*)(void))mod_event_select,
     METH_VARARGS | METH_KEYWORDS,
     "_event_select(sock, event, mask)\n--\n\nWSAEventSelect; see "
     "event_select."},
    {"enum_network_events", (PyCFunction)(void (*)(void))mod_enum_network_events,
     METH_FASTCALL | METH_KEYWORDS,
     "enum_network_events(sock, event=None)\n--\n\nWSAEnumNetworkEvents: "
     "return the network events recorded for sock since the last call (a "
     "NetworkEvents), clear the record and reset event (if given), in one "
     "atomic step."},
    {"recv", (PyCFunction)(void (*)(void))mod_recv, METH_FASTCALL,
     "recv(sock, bufsize, flags=0, /)\n--\n\nsocket.recv through wsevent: at "
     "most bufsize bytes (b'' at the end of the stream), BlockingIOError when "
     "none are there yet. Re-enables FD_READ as Winsock's recv does."},
    {"recv_into", (PyCFunction)(void (*)(void))mod_recv_into, METH_FASTCALL,
     "recv_into(sock, buffer, nbytes=0, flags=0, /)\n--\n\nsocket.recv_into "
     "through wsevent: the number of bytes received into buffer (nbytes 0: "
     "up to its size)."},
    {"send", (PyCFunction)(void (*)(void))mod_send, METH_FASTCALL,
     "send(sock, data, flags=0, /)\n--\n\nsocket.send through wsevent: the "
     "number of bytes sent (never raises SIGPIPE); BlockingIOError when the "
     "buffer is full, after which FD_WRITE is recorded once there is room."},
    {"_accepted", mod_accepted, METH_O,
     "_accepted(conn, /)\n--\n\nThe socket object made for a descriptor "
     "from _accept: its selection mask (remembered with the object)."},
    {"_socket_selection", mod_socket_selection, METH_O,
     "_socket_selection(sock, /)\n--\n\n(event handle, mask) of sock's "
     "event_select."},
    {"_accept", mod_accept, METH_O,
     "_accept(sock, /)\n--\n\nSee accept."},
    {"timer_start", (PyCFunction)(void (*)(void))mod_timer_start,
     METH_VARARGS | METH_KEYWORDS,
     "timer_start(event, due, period=0)\n--\n\nSet event after due seconds, "
     "then every period seconds (0: once). Returns the timer id. The timer "
     "stops when its event is closed."},
    {"timer_cancel", mod_timer_cancel, METH_O,
     "timer_cancel(timer_id, /)\n--\n\nStop a timer; wsevent.Error if it is "
     "unknown or finished."},
    {NULL, NULL, 0, NULL},
};
