/*
 * overlapped.c: overlapped socket I/O (WSARecv, WSASend, ... with an
 * overlapped record) as wsevent.Operation objects.
 *
 * An Operation owns the core's record and the buffers the core reads or
 * fills.  It keeps them until the operation completed: an operation
 * collected while pending is cancelled first (the core completes it under
 * its lock, after which it never touches the record again).  With a
 * routine, the core holds a reference to the Operation until the routine
 * ran in the starting thread (or was released because that thread ended),
 * so the record outlives the pending operation there too.
 *
 * Without a routine the Operation always has an event (the caller's, or a
 * manual-reset one of its own), which is what asyncio awaits (__init__.py):
 * no thread per operation.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include "glue.h"

#include <structmember.h>

enum kind { K_RECV, K_RECV_INTO, K_RECVFROM, K_SEND, K_ACCEPT, K_CONNECT };
static const char *const kind_names[] = {"recv", "recv_into", "recvfrom",
                                         "send", "accept", "connect"};

typedef struct {
  PyObject_HEAD
  wsevent_overlapped_t ov;
  int fd;
  char kind;
  char started;   /* the core took it (pending or completed) */
  char own_event; /* op->event is ours: nobody else consumes it */
  char released;  /* buffers let go */
  PyObject *sock;
  PyObject *event;   /* Event or None */
  PyObject *routine; /* callable or None */
  PyObject *data;    /* recv/recvfrom: the bytes being filled; later the result */
  Py_buffer *views;  /* recv_into, send: the caller's buffers */
  Py_ssize_t nviews;
  struct sockaddr_storage addr; /* recvfrom/accept: the peer */
  socklen_t addrlen;
  PyObject *weakrefs;
} OperationObject;

static module_state *state_of(OperationObject *op) {
  return wse_py_state_of_type(Py_TYPE(op));
}

/* ---- routines released by the core (thread ended) ----
 *
 * The core calls release with its lock held, where taking the GIL could
 * deadlock against a thread that holds the GIL and waits for that lock:
 * such Operations are listed here and dropped at the next call into this
 * file. */
static pthread_mutex_t released_mutex = PTHREAD_MUTEX_INITIALIZER;
static OperationObject *released[64];
static size_t n_released;
static OperationObject **released_more; /* beyond 64, grown */
static size_t n_released_more, cap_released_more;

static void op_release(wsevent_overlapped_t *ov) {
  OperationObject *op = (OperationObject *)((char *)ov - offsetof(OperationObject, ov));
  pthread_mutex_lock(&released_mutex);
  if (n_released < 64) {
    released[n_released++] = op;
  } else {
    if (n_released_more == cap_released_more) {
      size_t cap = cap_released_more ? cap_released_more * 2 : 64;
      OperationObject **grown = realloc(released_more, cap * sizeof *grown);
      if (grown == NULL) { /* leak it rather than touch Python here */
        pthread_mutex_unlock(&released_mutex);
        return;
      }
      released_more = grown;
      cap_released_more = cap;
    }
    released_more[n_released_more++] = op;
  }
  pthread_mutex_unlock(&released_mutex);
}

/* With the GIL: drop the references of released routines. */
static void collect_released(void) {
  for (;;) {
    OperationObject *op = NULL;
    pthread_mutex_lock(&released_mutex);
    if (n_released_more > 0)
      op = released_more[--n_released_more];
    else if (n_released > 0)
      op = released[--n_released];
    pthread_mutex_unlock(&released_mutex);
    if (op == NULL)
      return;
    Py_DECREF(op);
  }
}

/* The routine, in the starting thread's alertable wait (GIL not held). */
static void op_routine(int status, size_t bytes, wsevent_overlapped_t *ov,
                       int flags) {
  (void)status, (void)bytes, (void)flags; /* all in the record */
  OperationObject *op = (OperationObject *)((char *)ov - offsetof(OperationObject, ov));
  wse_py_run_routine_with(op->routine, (PyObject *)op);
}

/* ---- arguments ---- */

static int check_size(PyObject *obj, Py_ssize_t *n) {
  *n = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
  if (*n == -1 && PyErr_Occurred())
    return -1;
  if (*n < 0) {
    PyErr_SetString(PyExc_ValueError, "negative buffer size");
    return -1;
  }
  return 0;
}

static int socket_family(int fd) {
  int family = AF_UNSPEC;
  socklen_t len = sizeof family;
  getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len);
  return family;
}

/* A Python address for a socket of fd's family into *sa, as the socket
 * module takes them: (host, port) for IPv4, (host, port[, flowinfo[,
 * scope_id]]) for IPv6, a str or bytes path for AF_UNIX. */
static int parse_address(int fd, PyObject *address, struct sockaddr_storage *sa,
                         socklen_t *len) {
  int family = socket_family(fd);
  memset(sa, 0, sizeof *sa);
  if (family == AF_UNIX) {
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(address, &path))
      return -1;
    struct sockaddr_un *un = (struct sockaddr_un *)sa;
    Py_ssize_t n = PyBytes_GET_SIZE(path);
    if ((size_t)n >= sizeof un->sun_path) {
      Py_DECREF(path);
      PyErr_SetString(PyExc_OSError, "AF_UNIX path too long");
      return -1;
    }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, PyBytes_AS_STRING(path), (size_t)n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n +
                       (n > 0 && PyBytes_AS_STRING(path)[0] != '\0'));
    Py_DECREF(path);
    return 0;
  }
  if (family != AF_INET && family != AF_INET6) {
    PyErr_Format(PyExc_OSError, "unsupported address family %d", family);
    return -1;
  }
  const char *host;
  int port;
  unsigned int flowinfo = 0, scope_id = 0;
  if (!PyTuple_Check(address) ||
      !PyArg_ParseTuple(address, family == AF_INET ? "si;address must be (host, port)"
                                                   : "si|II;address must be (host, port[, flowinfo[, scope_id]])",
                        &host, &port, &flowinfo, &scope_id)) {
    if (!PyErr_Occurred())
      PyErr_Format(PyExc_TypeError, "address must be a tuple, not %.100s",
                   Py_TYPE(address)->tp_name);
    return -1;
  }
  if (port < 0 || port > 65535) {
    PyErr_SetString(PyExc_OverflowError, "port must be 0-65535");
    return -1;
  }
  struct addrinfo hints = {.ai_family = family}, *res = NULL;
  int e;
  Py_BEGIN_ALLOW_THREADS
  e = getaddrinfo(host[0] ? host : NULL, NULL, &hints, &res);
  Py_END_ALLOW_THREADS
  if (e != 0) {
    PyErr_Format(PyExc_OSError, "%s: %s", host, gai_strerror(e));
    return -1;
  }
  memcpy(sa, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  if (family == AF_INET) {
    ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
  } else {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
    a6->sin6_port = htons((uint16_t)port);
    a6->sin6_flowinfo = htonl(flowinfo);
    a6->sin6_scope_id = scope_id;
  }
  return 0;
}

/* An address as the socket module gives it. */
static PyObject *make_address(const struct sockaddr_storage *sa, socklen_t len) {
  char host[INET6_ADDRSTRLEN];
  if (len == 0)
    Py_RETURN_NONE;
  switch (sa->ss_family) {
  case AF_INET: {
    const struct sockaddr_in *a = (const void *)sa;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return Py_BuildValue("si", host, ntohs(a->sin_port));
  }
  case AF_INET6: {
    const struct sockaddr_in6 *a = (const void *)sa;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return Py_BuildValue("siII", host, ntohs(a->sin6_port),
                         ntohl(a->sin6_flowinfo), a->sin6_scope_id);
  }
  case AF_UNIX: {
    const struct sockaddr_un *a = (const void *)sa;
    size_t n = len > offsetof(struct sockaddr_un, sun_path)
                   ? len - offsetof(struct sockaddr_un, sun_path)
                   : 0;
    if (n > 0 && a->sun_path[0] != '\0')
      n = strnlen(a->sun_path, n);
    if (n > 0 && a->sun_path[0] == '\0') /* abstract: bytes */
      return PyBytes_FromStringAndSize(a->sun_path, (Py_ssize_t)n);
    return PyUnicode_DecodeFSDefaultAndSize(a->sun_path, (Py_ssize_t)n);
  }
  default:
    return Py_BuildValue("(iy#)", sa->ss_family, (const char *)sa, (Py_ssize_t)len);
  }
}

/* ---- the Operation type ---- */

static void release_buffers(OperationObject *op) {
  if (op->released)
    return;
  op->released = 1;
  for (Py_ssize_t i = 0; i < op->nviews; i++)
    PyBuffer_Release(&op->views[i]);
  PyMem_Free(op->views);
  op->views = NULL;
  op->nviews = 0;
}

static int is_pending(OperationObject *op) {
  return op->started &&
         __atomic_load_n(&op->ov.status, __ATOMIC_ACQUIRE) == WSEVENT_IO_PENDING;
}

static void Operation_dealloc(OperationObject *op) {
  PyTypeObject *tp = Py_TYPE(op);
  PyObject_GC_UnTrack(op);
  if (op->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)op);
  /* Only an operation without a routine can be collected while pending:
   * cancel it, after which the core never touches op again. */
  if (is_pending(op))
    wsevent_cancel_overlapped(op->fd, &op->ov);
  /* A connection accepted that nobody took (result() never called): it
   * is ours to close, or the client would talk to nobody for good. */
  if (op->kind == K_ACCEPT && op->started && op->data == NULL &&
      op->ov.status == WSEVENT_OK && op->ov.socket >= 0)
    close(op->ov.socket);
  release_buffers(op);
  Py_CLEAR(op->sock);
  Py_CLEAR(op->event);
  Py_CLEAR(op->routine);
  Py_CLEAR(op->data);
  tp->tp_free(op);
  Py_DECREF(tp);
}

static int Operation_traverse(OperationObject *op, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(op));
  Py_VISIT(op->sock);
  Py_VISIT(op->event);
  Py_VISIT(op->routine);
  Py_VISIT(op->data);
  return 0;
}

static PyObject *new_operation(PyObject *module, enum kind kind, PyObject *sock,
                               PyObject *event, PyObject *routine) {
  module_state *st = wse_py_state(module);
  collect_released();
  int fd = wse_py_fileno(st, sock);
  if (fd < 0)
    return NULL;
  if (event != Py_None && !PyObject_TypeCheck(event, st->event_type)) {
    PyErr_Format(PyExc_TypeError, "event must be an Event or None, not %.100s",
                 Py_TYPE(event)->tp_name);
    return NULL;
  }
  if (routine != Py_None && !PyCallable_Check(routine)) {
    PyErr_Format(PyExc_TypeError, "routine must be callable or None, not %.100s",
                 Py_TYPE(routine)->tp_name);
    return NULL;
  }
  wsevent_t h = 0;
  if (event != Py_None && wse_py_handle_of(st, event, 0, &h) < 0)
    return NULL;
  PyTypeObject *tp = st->operation_type;
  OperationObject *op = (OperationObject *)tp->tp_alloc(tp, 0);
  if (op == NULL)
    return NULL;
  op->fd = fd;
  op->kind = (char)kind;
  op->sock = Py_NewRef(sock);
  op->routine = Py_NewRef(routine);
  op->ov.socket = -1;
  if (event == Py_None && routine == Py_None) {
    /* An event of its own, to wait on and await. */
    int r = wsevent_create(&h, 0);
    if (r != WSEVENT_OK) {
      Py_DECREF(op);
      return wse_py_raise(st, r, NULL);
    }
    event = wse_py_event_from_handle(st, h, 1);
    if (event == NULL) {
      wsevent_close(h);
      Py_DECREF(op);
      return NULL;
    }
    op->own_event = 1;
    op->event = event;
  } else {
    op->event = Py_NewRef(event);
  }
  /* With a routine, hEvent is the program's: the core does not set it. */
  op->ov.event = routine == Py_None ? h : 0;
  /* An operation that must wait checks with fstat(2) that fd is still the
   * socket of the core's record (a program may close a socket object and
   * the number go to another file).  A socket object made by
   * accept_overlapped that still holds its descriptor was not closed
   * since (a closed socket object never holds one again; os.close() on a
   * descriptor an object owns is the exception Python does not survive
   * either): vouched for, the check is skipped. */
  if (wse_py_fdmap_is(&st->accepted, sock, fd))
    op->ov.options = WSEVENT_OV_SAME_SOCKET;
  op->ov.release = op_release;
  op->released = 0;
  return (PyObject *)op;
}

/* Hand op to the core (start is the core call made); the new reference
 * or NULL. */
static PyObject *started(OperationObject *op, int r) {
  if (r == WSEVENT_OK || r == WSEVENT_IO_PENDING) {
    op->started = 1;
    return (PyObject *)op;
  }
  if (op->routine != Py_None)
    Py_DECREF(op); /* the core's reference, never taken */
  if (r == WSEVENT_ESOCKET) {
    errno = op->ov.error;
    PyErr_SetFromErrno(PyExc_OSError);
  } else {
    wse_py_raise(state_of(op), r, NULL);
  }
  Py_DECREF(op);
  return NULL;
}

/* The core's reference for a routine, taken before the start (the routine
 * may be queued by the start itself). */
static wsevent_overlapped_fn routine_of(OperationObject *op) {
  if (op->routine == Py_None)
    return NULL;
  Py_INCREF(op);
  return op_routine;
}

static int get_views(OperationObject *op, PyObject *data, int writable) {
  int flags = writable ? PyBUF_WRITABLE : PyBUF_SIMPLE;
  PyObject *seq = NULL;
  Py_ssize_t n = 1;
  if (!writable && (PyList_Check(data) || PyTuple_Check(data))) {
    seq = data;
    n = PySequence_Fast_GET_SIZE(data);
    if (n > WSEVENT_MAX_BUFS) {
      PyErr_Format(PyExc_ValueError, "more than %d buffers", WSEVENT_MAX_BUFS);
      return -1;
    }
  }
  op->views = PyMem_Calloc((size_t)(n ? n : 1), sizeof *op->views);
  if (op->views == NULL) {
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *item = seq != NULL ? PySequence_Fast_ITEMS(seq)[i] : data;
    if (PyObject_GetBuffer(item, &op->views[i], flags) < 0) {
      if (PyErr_ExceptionMatches(PyExc_TypeError) ||
          PyErr_ExceptionMatches(PyExc_BufferError))
        PyErr_Format(PyExc_TypeError,
                     writable ? "a writable, contiguous bytes-like object is "
                                "required, not %.100s"
                              : "a contiguous bytes-like object (or a list of "
                                "them) is required, not %.100s",
                     Py_TYPE(item)->tp_name);
      return -1;
    }
    op->nviews = i + 1;
  }
  return 0;
}

static int start_transfer(OperationObject *op, int flags, int sending,
                          const struct sockaddr *to, socklen_t tolen) {
  wsevent_buf_t stack[8], *bufs = stack;
  Py_ssize_t n = op->nviews;
  if (n > 8 && (bufs = PyMem_Malloc((size_t)n * sizeof *bufs)) == NULL) {
    PyErr_NoMemory();
    return WSE_PY_ERROR;
  }
  for (Py_ssize_t i = 0; i < n; i++)
    bufs[i] = (wsevent_buf_t){(size_t)op->views[i].len, op->views[i].buf};
  wsevent_overlapped_fn fn = routine_of(op);
  int r;
  if (!sending && op->kind == K_RECVFROM) {
    op->addrlen = sizeof op->addr;
    r = wsevent_recvfrom_overlapped(op->fd, bufs, (size_t)n, flags,
                                    (struct sockaddr *)&op->addr, &op->addrlen,
                                    &op->ov, fn);
  } else if (!sending) {
    r = wsevent_recv_overlapped(op->fd, bufs, (size_t)n, flags, &op->ov, fn);
  } else if (to != NULL) {
    r = wsevent_sendto_overlapped(op->fd, bufs, (size_t)n, flags, to, tolen,
                                  &op->ov, fn);
  } else {
    r = wsevent_send_overlapped(op->fd, bufs, (size_t)n, flags, &op->ov, fn);
  }
  if (bufs != stack)
    PyMem_Free(bufs);
  return r;
}

/* recv_overlapped(sock, size, flags=0, *, event=None, routine=None) and
 * recvfrom_overlapped: into a new bytes object of at most size bytes. */
static const char *const transfer_names[] = {"sock", "data", "flags", "event",
                                             "routine", NULL};
static const char *const recv_names[] = {"sock", "size", "flags", "event",
                                         "routine", NULL};

static PyObject *recv_common(PyObject *module, PyObject *const *args,
                             Py_ssize_t nargs, PyObject *kwnames, enum kind kind) {
  PyObject *a[5] = {NULL, NULL, NULL, Py_None, Py_None};
  Py_ssize_t size;
  int flags = 0;
  if (wse_py_args(kind == K_RECV ? "recv_overlapped" : "recvfrom_overlapped",
                  args, nargs, kwnames, recv_names, 3, 2, a) < 0)
    return NULL;
  PyObject *sock = a[0], *flags_obj = a[2], *event = a[3], *routine = a[4];
  if (check_size(a[1], &size) < 0 ||
      (flags_obj != NULL && wse_py_socket_flags(flags_obj, &flags) < 0))
    return NULL;
  OperationObject *op = (OperationObject *)new_operation(module, kind, sock, event, routine);
  if (op == NULL)
    return NULL;
  op->data = PyBytes_FromStringAndSize(NULL, size);
  op->views = PyMem_Calloc(1, sizeof *op->views);
  if (op->data == NULL || op->views == NULL ||
      PyObject_GetBuffer(op->data, &op->views[0], PyBUF_SIMPLE) < 0) {
    if (!PyErr_Occurred())
      PyErr_NoMemory();
    Py_DECREF(op);
    return NULL;
  }
  op->nviews = 1;
  int r = start_transfer(op, flags, 0, NULL, 0);
  return r == WSE_PY_ERROR ? (Py_DECREF(op), NULL) : started(op, r);
}

static PyObject *mod_recv_overlapped(PyObject *m, PyObject *const *a,
                                     Py_ssize_t n, PyObject *k) {
  return recv_common(m, a, n, k, K_RECV);
}

static PyObject *mod_recvfrom_overlapped(PyObject *m, PyObject *const *a,
                                         Py_ssize_t n, PyObject *k) {
  return recv_common(m, a, n, k, K_RECVFROM);
}

static PyObject *mod_recv_into_overlapped(PyObject *module, PyObject *const *args,
                                          Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"sock", "buffer", "flags", "event",
                                      "routine", NULL};
  PyObject *a[5] = {NULL, NULL, NULL, Py_None, Py_None};
  int flags = 0;
  if (wse_py_args("recv_into_overlapped", args, nargs, kwnames, names, 3, 2, a) < 0)
    return NULL;
  PyObject *sock = a[0], *buffer = a[1], *flags_obj = a[2], *event = a[3],
           *routine = a[4];
  if ((flags_obj != NULL && wse_py_socket_flags(flags_obj, &flags) < 0))
    return NULL;
  OperationObject *op =
      (OperationObject *)new_operation(module, K_RECV_INTO, sock, event, routine);
  if (op == NULL)
    return NULL;
  if (get_views(op, buffer, 1) < 0) {
    Py_DECREF(op);
    return NULL;
  }
  int r = start_transfer(op, flags, 0, NULL, 0);
  return r == WSE_PY_ERROR ? (Py_DECREF(op), NULL) : started(op, r);
}

/* send_overlapped(sock, data, flags=0, *, event=None, routine=None) and
 * sendto_overlapped(sock, data, address, flags=0, ...): data is a
 * bytes-like object or a list of them (gathered, as a WSABUF array). */
static PyObject *send_common(PyObject *module, PyObject *const *args,
                             Py_ssize_t nargs, PyObject *kwnames, int to) {
  static const char *const names_to[] = {"sock", "data", "address", "flags",
                                         "event", "routine", NULL};
  /* sock, data, address (sendto's), flags, event, routine */
  PyObject *a[6] = {NULL, NULL, NULL, NULL, Py_None, Py_None};
  int flags = 0;
  if (to) {
    if (wse_py_args("sendto_overlapped", args, nargs, kwnames, names_to, 4, 3, a) < 0)
      return NULL;
  } else {
    PyObject *b[5] = {NULL, NULL, NULL, Py_None, Py_None};
    if (wse_py_args("send_overlapped", args, nargs, kwnames, transfer_names, 3, 2, b) < 0)
      return NULL;
    a[0] = b[0], a[1] = b[1], a[3] = b[2], a[4] = b[3], a[5] = b[4];
  }
  PyObject *sock = a[0], *data = a[1], *address = a[2], *event = a[4],
           *routine = a[5];
  if (a[3] != NULL && wse_py_socket_flags(a[3], &flags) < 0)
    return NULL;
  OperationObject *op =
      (OperationObject *)new_operation(module, K_SEND, sock, event, routine);
  if (op == NULL)
    return NULL;
  struct sockaddr_storage sa;
  socklen_t len = 0;
  if (get_views(op, data, 0) < 0 ||
      (address != NULL && parse_address(op->fd, address, &sa, &len) < 0)) {
    Py_DECREF(op);
    return NULL;
  }
  int r = start_transfer(op, flags, 1, address != NULL ? (struct sockaddr *)&sa : NULL,
                         len);
  return r == WSE_PY_ERROR ? (Py_DECREF(op), NULL) : started(op, r);
}

static PyObject *mod_send_overlapped(PyObject *m, PyObject *const *a,
                                     Py_ssize_t n, PyObject *k) {
  return send_common(m, a, n, k, 0);
}

static PyObject *mod_sendto_overlapped(PyObject *m, PyObject *const *a,
                                       Py_ssize_t n, PyObject *k) {
  return send_common(m, a, n, k, 1);
}

/* The start made sock's descriptor non-blocking: say so to a socket object
 * too (its timeout 0.0), as event_select does, or its own accept() or
 * recv() would raise BlockingIOError with a timeout of None.  op, or NULL
 * (and op released) if that failed. */
static PyObject *nonblocking(PyObject *op) {
  PyObject *sock = op != NULL ? ((OperationObject *)op)->sock : NULL;
  if (sock == NULL || PyLong_Check(sock))
    return op;
  PyObject *t = PyObject_CallMethod(sock, "gettimeout", NULL);
  if (t == NULL) {
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
      goto fail;
    PyErr_Clear(); /* not a socket object: only its descriptor matters */
    return op;
  }
  int already = PyFloat_Check(t) && PyFloat_AS_DOUBLE(t) == 0.0;
  Py_DECREF(t);
  if (!already) {
    PyObject *r = PyObject_CallMethod(sock, "setblocking", "O", Py_False);
    if (r == NULL)
      goto fail;
    Py_DECREF(r);
  }
  return op;
fail:
  Py_DECREF(op);
  return NULL;
}

static PyObject *mod_accept_overlapped(PyObject *module, PyObject *const *args,
                                       Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"sock", "event", "routine", NULL};
  PyObject *a[3] = {NULL, Py_None, Py_None};
  if (wse_py_args("accept_overlapped", args, nargs, kwnames, names, 1, 1, a) < 0)
    return NULL;
  PyObject *sock = a[0], *event = a[1], *routine = a[2];
  OperationObject *op =
      (OperationObject *)new_operation(module, K_ACCEPT, sock, event, routine);
  if (op == NULL)
    return NULL;
  op->addrlen = sizeof op->addr;
  int r = wsevent_accept_overlapped(op->fd, (struct sockaddr *)&op->addr,
                                    &op->addrlen, &op->ov, routine_of(op));
  return nonblocking(started(op, r));
}

static PyObject *mod_connect_overlapped(PyObject *module, PyObject *const *args,
                                        Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"sock", "address", "event", "routine", NULL};
  PyObject *a[4] = {NULL, NULL, Py_None, Py_None};
  if (wse_py_args("connect_overlapped", args, nargs, kwnames, names, 2, 2, a) < 0)
    return NULL;
  PyObject *sock = a[0], *address = a[1], *event = a[2], *routine = a[3];
  OperationObject *op =
      (OperationObject *)new_operation(module, K_CONNECT, sock, event, routine);
  if (op == NULL)
    return NULL;
  struct sockaddr_storage sa;
  socklen_t len;
  if (parse_address(op->fd, address, &sa, &len) < 0) {
    Py_DECREF(op);
    return NULL;
  }
  int r = wsevent_connect_overlapped(op->fd, (struct sockaddr *)&sa, len, &op->ov,
                                     routine_of(op));
  return nonblocking(started(op, r));
}

/* ---- methods ---- */

static PyObject *Operation_done(OperationObject *op, PyObject *unused) {
  collect_released();
  return PyBool_FromLong(!is_pending(op));
}

/* The result of a completed operation, in Python terms. */
static PyObject *outcome(OperationObject *op, int r) {
  module_state *st = state_of(op);
  if (r == WSEVENT_ESOCKET) {
    errno = op->ov.error;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  if (r != WSEVENT_OK)
    return wse_py_raise(st, r, NULL);
  switch (op->kind) {
  case K_RECV:
  case K_RECVFROM: {
    if (op->nviews > 0)
      release_buffers(op);
    if (PyBytes_GET_SIZE(op->data) != (Py_ssize_t)op->ov.bytes &&
        _PyBytes_Resize(&op->data, (Py_ssize_t)op->ov.bytes) < 0)
      return NULL;
    if (op->kind == K_RECV)
      return Py_NewRef(op->data);
    PyObject *address = make_address(&op->addr, op->addrlen);
    if (address == NULL)
      return NULL;
    return Py_BuildValue("(ON)", op->data, address);
  }
  case K_RECV_INTO:
  case K_SEND:
    release_buffers(op);
    return PyLong_FromSize_t(op->ov.bytes);
  case K_ACCEPT: {
    if (op->data == NULL) {
      /* The new socket, as socket.accept gives it: once. */
      PyObject *socket_mod = PyImport_ImportModule("socket");
      if (socket_mod == NULL)
        return NULL;
      PyObject *family = PyObject_GetAttrString(op->sock, "family");
      PyObject *type = family ? PyObject_GetAttrString(op->sock, "type") : NULL;
      PyObject *proto = type ? PyObject_GetAttrString(op->sock, "proto") : NULL;
      PyObject *conn = NULL;
      if (proto == NULL) {
        /* A descriptor, not a socket object: the socket module asks. */
        PyErr_Clear();
        conn = PyObject_CallMethod(socket_mod, "socket", "OOOi", Py_None,
                                   Py_None, Py_None, op->ov.socket);
      } else {
        conn = PyObject_CallMethod(socket_mod, "socket", "OOOi", family, type,
                                   proto, op->ov.socket);
      }
      Py_XDECREF(family);
      Py_XDECREF(type);
      Py_XDECREF(proto);
      Py_DECREF(socket_mod);
      if (conn == NULL)
        return NULL;
      /* The core's accept made the descriptor (any record left under its
       * number went): while this object holds it, its operations start
       * vouched for (see new_operation). */
      PyObject *address = wse_py_fdmap_set(&st->accepted, conn, op->ov.socket) == 0
                              ? make_address(&op->addr, op->addrlen)
                              : NULL;
      if (address == NULL) {
        Py_DECREF(conn);
        return NULL;
      }
      op->data = Py_BuildValue("(NN)", conn, address);
      if (op->data == NULL)
        return NULL;
    }
    return Py_NewRef(op->data);
  }
  default:
    Py_RETURN_NONE;
  }
}

/* result(wait=False): the outcome; wsevent.Error WSEVENT_IO_INCOMPLETE if
 * not complete and not waiting (Winsock's WSA_IO_INCOMPLETE). */
static PyObject *Operation_result(OperationObject *op, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"wait", NULL};
  PyObject *a[1] = {NULL};
  int wait = 0;
  if (wse_py_args("result", args, nargs, kwnames, names, 1, 0, a) < 0 ||
      wse_py_bool(a[0], &wait) < 0)
    return NULL;
  collect_released();
  int r = wsevent_overlapped_result(&op->ov, 0, NULL, NULL);
  if (r == WSEVENT_IO_INCOMPLETE && wait) {
    if (op->own_event) {
      /* Our own event: nobody else takes it; the wait can be interrupted. */
      wsevent_t h = ((EventObject *)op->event)->handle;
      size_t index;
      int w = wse_py_wait(&h, 1, 0, WSEVENT_NEVER, &index);
      if (w == WSE_PY_ERROR)
        return NULL;
      if (w != WSEVENT_OK)
        return wse_py_raise(state_of(op), w, NULL);
      r = wsevent_overlapped_result(&op->ov, 1, NULL, NULL);
    } else {
      Py_BEGIN_ALLOW_THREADS
      r = wsevent_overlapped_result(&op->ov, 1, NULL, NULL);
      Py_END_ALLOW_THREADS
    }
  }
  if (r == WSEVENT_IO_INCOMPLETE)
    return wse_py_raise(state_of(op), r,
                        "the operation has not completed yet (result(wait=True) "
                        "waits for it)");
  return outcome(op, r);
}

static PyObject *Operation_cancel(OperationObject *op, PyObject *unused) {
  collect_released();
  if (!is_pending(op))
    Py_RETURN_FALSE;
  return PyBool_FromLong(wsevent_cancel_overlapped(op->fd, &op->ov) == WSEVENT_OK);
}

static PyObject *Operation_repr(OperationObject *op) {
  return PyUnicode_FromFormat("<wsevent.Operation %s fd=%d %s>",
                              kind_names[(int)op->kind], op->fd,
                              is_pending(op) ? "pending" : "done");
}

static PyObject *get_kind(OperationObject *op, void *c) {
  return PyUnicode_FromString(kind_names[(int)op->kind]);
}

static PyMethodDef Operation_methods[] = {
    {"done", (PyCFunction)Operation_done, METH_NOARGS,
     "done()\n--\n\nTrue once the operation has completed (or failed, or was "
     "cancelled)."},
    {"result", (PyCFunction)(void (*)(void))Operation_result,
     METH_FASTCALL | METH_KEYWORDS,
     "result(wait=False)\n--\n\nThe outcome, as WSAGetOverlappedResult: "
     "bytes (recv), (bytes, address) (recvfrom), an int (recv_into, send: "
     "bytes moved), (socket, address) (accept), None (connect).  Not "
     "complete: wsevent.Error WSEVENT_IO_INCOMPLETE, or with wait=True "
     "block until it is.  A failed operation raises OSError with the "
     "system's errno; a cancelled one (or one whose socket was closed "
     "through wsevent.close_socket) wsevent.Error WSEVENT_EABORTED."},
    {"cancel", (PyCFunction)Operation_cancel, METH_NOARGS,
     "cancel()\n--\n\nCancel the operation if it is still pending (it then "
     "completes with WSEVENT_EABORTED, and its event or routine is "
     "signalled); True if it was."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Operation_members[] = {
    {"event", T_OBJECT, offsetof(OperationObject, event), READONLY,
     "The Event set at completion (the caller's, or the operation's own); "
     "with a routine, the caller's event (never set by the operation) or "
     "None."},
    {"routine", T_OBJECT, offsetof(OperationObject, routine), READONLY,
     "The callable run as routine(operation) in the starting thread's next "
     "alertable wait, or None."},
    {"socket", T_OBJECT, offsetof(OperationObject, sock), READONLY,
     "The socket (or descriptor) the operation runs on."},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(OperationObject, weakrefs),
     READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* What lpcbTransfer and lpdwFlags give: also for an operation that failed
 * or was cancelled (a send cancelled half-way sent that much). */
static PyObject *get_bytes(OperationObject *op, void *c) {
  if (is_pending(op) || !op->started)
    Py_RETURN_NONE;
  return PyLong_FromSize_t(op->ov.bytes);
}

static PyObject *get_flags(OperationObject *op, void *c) {
  if (is_pending(op) || !op->started)
    Py_RETURN_NONE;
  return PyLong_FromLong(op->ov.flags);
}

static PyGetSetDef Operation_getset[] = {
    {"kind", (getter)get_kind, NULL, "'recv', 'send', 'accept'...", NULL},
    {"bytes", (getter)get_bytes, NULL,
     "Bytes transferred, once done (None while pending), also by an "
     "operation that failed or was cancelled: a send cancelled half-way "
     "sent that many (WSAGetOverlappedResult's lpcbTransfer).", NULL},
    {"flags", (getter)get_flags, NULL,
     "A receive's result flags once done (socket.MSG_TRUNC: the datagram "
     "did not fit; MSG_OOB...), else None; lpdwFlags.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *Operation_new(PyTypeObject *tp, PyObject *a, PyObject *k) {
  PyErr_SetString(PyExc_TypeError,
                  "Operations are made by recv_overlapped(), send_overlapped()...");
  return NULL;
}

static PyType_Slot Operation_slots[] = {
    {Py_tp_doc,
     "An overlapped socket operation (WSARecv, WSASend... with an "
     "overlapped record).  Made by wsevent.recv_overlapped() and its "
     "siblings; awaitable from asyncio."},
    {Py_tp_new, Operation_new},
    {Py_tp_dealloc, Operation_dealloc},
    {Py_tp_traverse, Operation_traverse},
    {Py_tp_methods, Operation_methods},
    {Py_tp_members, Operation_members},
    {Py_tp_getset, Operation_getset},
    {Py_tp_repr, Operation_repr},
    {0, NULL},
};

PyType_Spec wse_py_operation_spec = {
    .name = "wsevent.Operation",
    .basicsize = sizeof(OperationObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = Operation_slots,
};

static PyObject *mod_close_socket(PyObject *module, PyObject *sock) {
  if (!PyLong_Check(sock) && PyObject_HasAttrString(sock, "fileno")) {
    /* A socket object closed already: nothing to do, as sock.close(). */
    PyObject *n = PyObject_CallMethod(sock, "fileno", NULL);
    if (n == NULL)
      return NULL;
    long v = PyLong_Check(n) ? PyLong_AsLong(n) : 0;
    Py_DECREF(n);
    if (v == -1 && !PyErr_Occurred())
      Py_RETURN_NONE;
    PyErr_Clear();
  }
  int fd = wse_py_fileno(wse_py_state(module), sock);
  if (fd < 0)
    return NULL;
  collect_released();
  wsevent_socket_closing(fd);
  wse_py_fdmap_forget(&wse_py_state(module)->accepted, fd);
  PyObject *r = PyObject_CallMethod(sock, "close", NULL);
  if (r == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
    PyErr_Clear(); /* a descriptor */
    if (close(fd) < 0)
      return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
  }
  return r;
}

#define OP_DOC(name, sig, what)                                               \
  name "(" sig ")\n--\n\n" what "  Returns an Operation at once: complete "   \
       "already or pending.  Without a routine, its event is set at "        \
       "completion (event, or one of its own); with one, routine(operation) " \
       "runs in this thread's next alertable wait."

PyMethodDef wse_py_overlapped_methods[] = {
    {"recv_overlapped", (PyCFunction)(void (*)(void))mod_recv_overlapped,
     METH_FASTCALL | METH_KEYWORDS,
     OP_DOC("recv_overlapped", "sock, size, flags=0, *, event=None, routine=None",
            "WSARecv: receive at most size bytes into a new bytes object.")},
    {"recv_into_overlapped", (PyCFunction)(void (*)(void))mod_recv_into_overlapped,
     METH_FASTCALL | METH_KEYWORDS,
     OP_DOC("recv_into_overlapped",
            "sock, buffer, flags=0, *, event=None, routine=None",
            "WSARecv into a writable buffer, kept until completion.")},
    {"recvfrom_overlapped", (PyCFunction)(void (*)(void))mod_recvfrom_overlapped,
     METH_FASTCALL | METH_KEYWORDS,
     OP_DOC("recvfrom_overlapped",
            "sock, size, flags=0, *, event=None, routine=None",
            "WSARecvFrom: (bytes, address).")},
    {"send_overlapped", (PyCFunction)(void (*)(void))mod_send_overlapped,
     METH_FASTCALL | METH_KEYWORDS,
     OP_DOC("send_overlapped", "sock, data, flags=0, *, event=None, routine=None",
            "WSASend: all of data (a bytes-like object, or a list of them), "
            "kept until completion.")},
    {"sendto_overlapped", (PyCFunction)(void (*)(void))mod_sendto_overlapped,
     METH_FASTCALL | METH_KEYWORDS,
     OP_DOC("sendto_overlapped",
            "sock, data, address, flags=0, *, event=None, routine=None",
            "WSASendTo.")},
    {"accept_overlapped", (PyCFunction)(void (*)(void))mod_accept_overlapped,
     METH_FASTCALL | METH_KEYWORDS,
     OP_DOC("accept_overlapped", "sock, *, event=None, routine=None",
            "AcceptEx: (socket, address).  The listener becomes non-blocking.")},
    {"connect_overlapped", (PyCFunction)(void (*)(void))mod_connect_overlapped,
     METH_FASTCALL | METH_KEYWORDS,
     OP_DOC("connect_overlapped", "sock, address, *, event=None, routine=None",
            "ConnectEx.  The socket becomes non-blocking.")},
    {"close_socket", mod_close_socket, METH_O,
     "close_socket(sock, /)\n--\n\nclosesocket: cancel the socket's "
     "event-select, complete its pending operations with WSEVENT_EABORTED, "
     "then close it (sock.close(), or close(2) for a descriptor)."},
    {NULL, NULL, 0, NULL},
};
