/*
 * glue.h: what the files of the CPython glue share.  Private.
 *
 *   module.c      the module: state, wsevent.Error, constants, capsules
 *   event.c       the Event type
 *   wait.c        timeouts and waits (one, any, all, Winsock's, sleep)
 *   completion.c  thread ids and completion routines
 *   port.c        completion ports: the asyncio helpers' engine
 *   network.c     event-select and timers
 *   overlapped.c  overlapped socket I/O: the Operation type
 *
 * Every file keeps only language conversion: the semantics are the core's.
 */
#ifndef WSEVENT_PY_GLUE_H
#define WSEVENT_PY_GLUE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "wsevent.h"
#include "wsevent_provider.h"
#include "wsevent_python.h"

/* threading.TIMEOUT_MAX on 64-bit Linux. */
#define WSE_PY_TIMEOUT_MAX 9223372036.0
/* A wait's return when a Python exception is set. */
#define WSE_PY_ERROR (-1000)

/* Weak references to socket objects, by descriptor (network.c; the GIL
 * guards them). */
typedef struct {
  PyObject **refs;
  int n;
} wse_py_fdmap;

typedef struct {
  PyTypeObject *event_type;
  PyTypeObject *port_type;
  PyTypeObject *operation_type;
  PyTypeObject *netevents_type;
  PyObject *error;
  PyObject *str_fileno; /* "fileno", interned */
  /* The socket objects selected (network.c), and those made by
   * accept_overlapped (overlapped.c), by descriptor. */
  wse_py_fdmap selected, accepted;
} module_state;

/* Event's states: made by __new__, then __init__ gives it a handle. */
enum { EVENT_NEW = 0, EVENT_OPEN = 1, EVENT_CLOSED = 2 };

typedef struct {
  PyObject_HEAD
  wsevent_t handle;
  char state;        /* EVENT_* */
  char owned;        /* close the handle when closed or collected */
  char manual_reset;
  char existed;      /* made by naming an event that existed already */
  PyObject *weakrefs;
} EventObject;

/* module.c */
extern struct PyModuleDef wse_py_module;
module_state *wse_py_state(PyObject *module);
module_state *wse_py_state_of_type(PyTypeObject *type);
/* Raise wsevent.Error (MemoryError for WSEVENT_ENOMEM) for a core code,
 * with the core's sentence or `message`; returns NULL. */
PyObject *wse_py_raise(module_state *st, int code, const char *message);
/* The same, naming which event of a multiple wait (Error.index). */
PyObject *wse_py_raise_at(module_state *st, int code, size_t index);

/* An int that fits a C int into *out; 0, or -1 with an exception
 * (OverflowError with `overflow` if it does not fit). */
int wse_py_int(PyObject *v, const char *overflow, int *out);
/* The descriptor of an int or of an object with fileno(), as
 * PyObject_AsFileDescriptor (same errors) without its bound method per
 * call; -1 with an exception. */
int wse_py_fileno(module_state *st, PyObject *obj);
/* The arguments of a METH_FASTCALL | METH_KEYWORDS function, taken as
 * PyArg_ParseTupleAndKeywords takes "O|O...": names lists them
 * (NULL-terminated, at most 32), the first npos may come by position, the
 * first `required` must be given; out[i] keeps its value for one not
 * given.  0, or -1 with the TypeError CPython's parser raises. */
int wse_py_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames, const char *const *names, int npos,
                int required, PyObject **out);
/* A "p" argument: *out set to its truth if obj is not NULL; 0 or -1. */
int wse_py_bool(PyObject *obj, int *out);

/* event.c */
extern PyType_Spec wse_py_event_spec;
/* ValueError/RuntimeError unless the Event is open; 0 or -1. */
int wse_py_check_open(EventObject *ev);
/* An Event for a handle: owned (closes it) or borrowed (never does). */
PyObject *wse_py_event_from_handle(module_state *st, wsevent_t handle,
                                   int owned);
/* The handle of an open Event, or of an int if allow_int; -1 if neither. */
int wse_py_handle_of(module_state *st, PyObject *obj, int allow_int,
                     wsevent_t *handle);

/* network.c */
/* Remember sock (only a socket.socket: a wrapper's fileno() may move to
 * another socket; an int clears the entry) as the object on fd.  0, or
 * -1 with an exception. */
int wse_py_fdmap_set(wse_py_fdmap *m, PyObject *sock, int fd);
/* Whether sock is the object remembered on fd. */
int wse_py_fdmap_is(const wse_py_fdmap *m, PyObject *sock, int fd);
void wse_py_fdmap_forget(wse_py_fdmap *m, int fd);
void wse_py_fdmap_clear(wse_py_fdmap *m);

/* wait.c */
extern PyMethodDef wse_py_wait_methods[];
/* Parse a timeout in seconds, as threading does: None waits forever, a
 * negative number polls; NaN is a ValueError, more than TIMEOUT_MAX an
 * OverflowError, anything but an int or float a TypeError.  0 or -1. */
int wse_py_deadline(PyObject *timeout, wsevent_time_t *deadline);
/* Wait with the GIL released, running signal handlers; returns the core's
 * code or WSE_PY_ERROR with an exception set. */
int wse_py_wait(const wsevent_t *handles, size_t count, unsigned flags,
                wsevent_time_t deadline, size_t *index);

/* A tuple of Events (strong references for the whole wait: another thread
 * may empty the caller's list) and their handles. */
typedef struct {
  PyObject *tuple;
  wsevent_t stack[16];
  wsevent_t *handles;
  size_t count;
} wse_py_events;
int wse_py_events_collect(module_state *st, PyObject *events,
                          const char *fname, size_t max, wse_py_events *l);
void wse_py_events_release(wse_py_events *l);

/* completion.c */
extern PyMethodDef wse_py_completion_methods[];
/* A completion routine for a Python callable: fn, release and a context
 * holding a reference, dropped by whichever of the two runs. */
void wse_py_run_routine(void *context);
void wse_py_release_routine(void *context);
/* Run callable(arg) as a routine (GIL taken, the first error kept for the
 * wait), then drop the reference to arg the caller gave away. */
void wse_py_run_routine_with(PyObject *callable, PyObject *arg);

/* network.c: a socket call's flags: an int that fits a C int. */
int wse_py_socket_flags(PyObject *obj, int *flags);
/* After a wait that may have run routines: raise what one raised. */
int wse_py_reraise_routine_error(void);
void wse_py_drop_routine_error(void);

/* port.c */
extern PyType_Spec wse_py_port_spec;

/* network.c */
extern PyMethodDef wse_py_network_methods[];

/* overlapped.c */
extern PyType_Spec wse_py_operation_spec;
extern PyType_Spec wse_py_netevents_spec;
extern PyMethodDef wse_py_overlapped_methods[];

#endif
