/*
 * module.c: the module wsevent._wsevent: its state, wsevent.Error, the
 * constants, and the two capsules other extensions import: the core's
 * upcall table (_C_API) and this glue's C API (_CAPI, wsevent_python.h).
 */
#include <errno.h>

#include "glue.h"

module_state *wse_py_state(PyObject *module) {
  return (module_state *)PyModule_GetState(module);
}

module_state *wse_py_state_of_type(PyTypeObject *type) {
  PyObject *m = PyType_GetModuleByDef(type, &wse_py_module);
  return m ? wse_py_state(m) : NULL;
}

/* The errno a core code stands for, or 0 where none fits. */
static int errno_of(int code, int system_errno) {
  switch (code) {
  case WSEVENT_EINVAL_HANDLE:
    return EBADF;
  case WSEVENT_EINVAL:
    return EINVAL;
  case WSEVENT_ENFILE:
    return EMFILE;
  case WSEVENT_ENOTSOCK:
    return ENOTSOCK;
  case WSEVENT_ENOTSUP:
    return EOPNOTSUPP;
  case WSEVENT_ENOTFOUND:
    return ENOENT;
  case WSEVENT_ESYS:
    return system_errno; /* the core leaves the system's errno */
  default:
    return 0; /* ECLOSED, ELIMIT: no errno says it */
  }
}

static PyObject *make_error(module_state *st, int code, const char *message) {
  int e = errno_of(code, errno);
  if (message == NULL)
    message = wsevent_strerror(code);
  PyObject *exc = e ? PyObject_CallFunction(st->error, "is", e, message)
                    : PyObject_CallFunction(st->error, "s", message);
  if (exc == NULL)
    return NULL;
  PyObject *c = PyLong_FromLong(code);
  PyObject *name = PyUnicode_FromString(wsevent_err_name(code));
  int bad = c == NULL || name == NULL ||
            PyObject_SetAttrString(exc, "code", c) < 0 ||
            PyObject_SetAttrString(exc, "name", name) < 0;
  Py_XDECREF(c);
  Py_XDECREF(name);
  if (bad)
    Py_CLEAR(exc);
  return exc;
}

PyObject *wse_py_raise(module_state *st, int code, const char *message) {
  if (code == WSEVENT_ENOMEM)
    return PyErr_NoMemory();
  PyObject *exc = make_error(st, code, message);
  if (exc != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return NULL;
}

PyObject *wse_py_raise_at(module_state *st, int code, size_t index) {
  if (code == WSEVENT_ENOMEM)
    return PyErr_NoMemory();
  PyObject *exc = make_error(st, code, NULL);
  if (exc == NULL)
    return NULL;
  PyObject *i = PyLong_FromSize_t(index);
  if (i != NULL && PyObject_SetAttrString(exc, "index", i) == 0)
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_XDECREF(i);
  Py_DECREF(exc);
  return NULL;
}

/* ---- arguments ---- */

int wse_py_int(PyObject *v, const char *overflow, int *out) {
  long l = PyLong_AsLong(v);
  if (l == -1 && PyErr_Occurred())
    return -1;
  if (l < INT_MIN || l > INT_MAX) {
    PyErr_SetString(PyExc_OverflowError, overflow);
    return -1;
  }
  *out = (int)l;
  return 0;
}

int wse_py_fileno(module_state *st, PyObject *obj) {
  static const char too_large[] = "Python int too large to convert to C int";
  int fd;
  if (PyLong_Check(obj)) {
    if (wse_py_int(obj, too_large, &fd) < 0)
      return -1;
  } else {
    /* PyObject_AsFileDescriptor makes a bound method per call: call
     * fileno as the interpreter calls a method, on the object itself. */
    PyObject *self[1] = {obj};
    PyObject *r = PyObject_VectorcallMethod(
        st->str_fileno, self, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (r == NULL) {
      /* No fileno is a TypeError; an AttributeError from inside one
       * stays what it is. */
      if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (PyObject_HasAttr(obj, st->str_fileno)) {
          PyErr_Restore(type, value, tb);
        } else {
          Py_XDECREF(type);
          Py_XDECREF(value);
          Py_XDECREF(tb);
          PyErr_SetString(PyExc_TypeError,
                          "argument must be an int, or have a fileno() method.");
        }
      }
      return -1;
    }
    if (!PyLong_Check(r)) {
      Py_DECREF(r);
      PyErr_SetString(PyExc_TypeError, "fileno() returned a non-integer");
      return -1;
    }
    int bad = wse_py_int(r, too_large, &fd);
    Py_DECREF(r);
    if (bad < 0)
      return -1;
  }
  if (fd < 0) {
    PyErr_Format(PyExc_ValueError,
                 "file descriptor cannot be a negative integer (%i)", fd);
    return -1;
  }
  return fd;
}

int wse_py_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames, const char *const *names, int npos,
                int required, PyObject **out) {
  int n = 0;
  while (names[n] != NULL)
    n++;
  if (nargs > npos) {
    PyErr_Format(PyExc_TypeError,
                 "%s() takes at most %d positional argument%s (%zd given)",
                 fname, npos, npos == 1 ? "" : "s", nargs);
    return -1;
  }
  unsigned given = 0;
  for (Py_ssize_t i = 0; i < nargs; i++) {
    out[i] = args[i];
    given |= 1u << i;
  }
  Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; k++) {
    PyObject *key = PyTuple_GET_ITEM(kwnames, k);
    int i = 0;
    while (i < n && PyUnicode_CompareWithASCIIString(key, names[i]) != 0)
      i++;
    if (i == n) {
      PyErr_Format(PyExc_TypeError, "'%U' is an invalid keyword argument for %s()",
                   key, fname);
      return -1;
    }
    if (given & (1u << i)) {
      PyErr_Format(PyExc_TypeError,
                   "argument for %s() given by name ('%s') and position (%d)",
                   fname, names[i], i + 1);
      return -1;
    }
    given |= 1u << i;
    out[i] = args[nargs + k];
  }
  for (int i = 0; i < required; i++) {
    if (!(given & (1u << i))) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s' (pos %d)",
                   fname, names[i], i + 1);
      return -1;
    }
  }
  return 0;
}

int wse_py_bool(PyObject *obj, int *out) {
  if (obj == NULL)
    return 0;
  int v = PyObject_IsTrue(obj);
  if (v < 0)
    return -1;
  *out = v;
  return 0;
}

static PyObject *mod_strerror(PyObject *module, PyObject *arg) {
  if (!PyLong_Check(arg)) {
    PyErr_Format(PyExc_TypeError, "code must be an int, not %.100s",
                 Py_TYPE(arg)->tp_name);
    return NULL;
  }
  int overflow;
  long code = PyLong_AsLongAndOverflow(arg, &overflow);
  if (code == -1 && PyErr_Occurred())
    return NULL;
  if (overflow || code < INT_MIN || code > INT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "code is out of range for a wsevent code");
    return NULL;
  }
  return PyUnicode_FromString(wsevent_strerror((int)code));
}

static PyMethodDef module_methods[] = {
    {"strerror", mod_strerror, METH_O,
     "strerror(code, /)\n--\n\nThe sentence for a core return code."},
    {NULL, NULL, 0, NULL},
};

/* ---- the C API for other extensions (wsevent_python.h) ---- */

static PyObject *module_of_capi; /* this module, for the C API's calls */

static int capi_handle_of(PyObject *obj, int allow_int, wsevent_t *handle) {
  return wse_py_handle_of(wse_py_state(module_of_capi), obj, allow_int, handle);
}

static PyObject *capi_from_handle(wsevent_t handle, int owned) {
  return wse_py_event_from_handle(wse_py_state(module_of_capi), handle, owned);
}

static int capi_completion_of(PyObject *callable, wsevent_completion_fn *fn,
                              wsevent_completion_fn *release, void **context) {
  *fn = *release = NULL;
  *context = NULL;
  if (callable == Py_None)
    return 0;
  if (!PyCallable_Check(callable)) {
    PyErr_Format(PyExc_TypeError, "expected a callable or None, not %.100s",
                 Py_TYPE(callable)->tp_name);
    return -1;
  }
  *fn = wse_py_run_routine;
  *release = wse_py_release_routine;
  *context = Py_NewRef(callable);
  return 0;
}

static WsEvent_CAPI capi = {
    .version = WSEVENT_PY_CAPI_VERSION,
    .handle_of = capi_handle_of,
    .from_handle = capi_from_handle,
    .completion_of = capi_completion_of,
};

/* ---- module ---- */

static int add_error(PyObject *m, module_state *st) {
  /* index is there on every Error: the event of a multiple wait, else
   * None; code and name are the core's. */
  PyObject *attrs = Py_BuildValue("{s:O,s:O,s:O}", "index", Py_None, "code",
                                  Py_None, "name", Py_None);
  if (attrs == NULL)
    return -1;
  st->error = PyErr_NewExceptionWithDoc(
      "wsevent.Error",
      "A failure reported by the wsevent core.  code is the core's "
      "(negative) code and name its symbol (WSEVENT_EINVAL_HANDLE...); "
      "errno is the matching system errno where one fits, else None; "
      "index names the event of a multiple wait, else None.",
      PyExc_OSError, attrs);
  Py_DECREF(attrs);
  if (st->error == NULL)
    return -1;
  return PyModule_AddObjectRef(m, "Error", st->error);
}

static int add_constants(PyObject *m) {
  static const struct { const char *name; long value; } ints[] = {
      {"WAIT_EVENT_0", WSEVENT_WAIT_OBJECT_0},
      {"WAIT_TIMEOUT", WSEVENT_WAIT_TIMEOUT},
      {"WAIT_IO_COMPLETION", WSEVENT_WAIT_IO_COMPLETION},
      {"WAIT_FAILED", WSEVENT_WAIT_FAILED},
      {"MAXIMUM_WAIT_EVENTS", WSEVENT_MAXIMUM_WAIT_OBJECTS},
#define XX(name, value, text) {"WSEVENT_" #name, value},
      WSEVENT_ERRNO_MAP(XX)
#undef XX
  };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (PyModule_AddObject(m, ints[i].name, PyLong_FromLong(ints[i].value)) < 0)
      return -1;
  if (PyModule_AddObject(m, "TIMEOUT_MAX", PyFloat_FromDouble(WSE_PY_TIMEOUT_MAX)) < 0 ||
      PyModule_AddStringConstant(m, "__version__", WSEVENT_VERSION_STRING) < 0)
    return -1;
  /* For C code driven through ctypes (tests/helpers): the routine and the
   * release function that wsevent.completion() contexts go with. */
  if (PyModule_AddObject(m, "_completion_routine",
                         PyLong_FromVoidPtr((void *)(uintptr_t)wse_py_run_routine)) < 0 ||
      PyModule_AddObject(m, "_completion_release",
                         PyLong_FromVoidPtr((void *)(uintptr_t)wse_py_release_routine)) < 0)
    return -1;
  return 0;
}

static int module_exec(PyObject *m) {
  module_state *st = wse_py_state(m);
  st->event_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &wse_py_event_spec, NULL);
  if (st->event_type == NULL || PyModule_AddType(m, st->event_type) < 0)
    return -1;
  st->port_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &wse_py_port_spec, NULL);
  if (st->port_type == NULL || PyModule_AddType(m, st->port_type) < 0)
    return -1;
  st->operation_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &wse_py_operation_spec, NULL);
  if (st->operation_type == NULL || PyModule_AddType(m, st->operation_type) < 0)
    return -1;
  st->netevents_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &wse_py_netevents_spec, NULL);
  if (st->netevents_type == NULL || PyModule_AddType(m, st->netevents_type) < 0)
    return -1;
  st->str_fileno = PyUnicode_InternFromString("fileno");
  if (st->str_fileno == NULL || add_error(m, st) < 0 || add_constants(m) < 0)
    return -1;
  if (PyModule_AddFunctions(m, wse_py_wait_methods) < 0 ||
      PyModule_AddFunctions(m, wse_py_completion_methods) < 0 ||
      PyModule_AddFunctions(m, wse_py_network_methods) < 0 ||
      PyModule_AddFunctions(m, wse_py_overlapped_methods) < 0)
    return -1;

  PyObject *raw = PyCapsule_New((void *)wsevent_upcalls(), WSEVENT_CAPSULE_NAME, NULL);
  if (raw == NULL || PyModule_AddObject(m, "_C_API", raw) < 0) {
    Py_XDECREF(raw);
    return -1;
  }
  /* The C API serves the first instance of the module (the only one: a
   * second interpreter importing it is refused below). */
  if (module_of_capi == NULL) {
    module_of_capi = m;
    capi.upcalls = wsevent_upcalls();
    capi.EventType = st->event_type;
  }
  PyObject *glue = PyCapsule_New(&capi, WSEVENT_PY_CAPI_NAME, NULL);
  if (glue == NULL || PyModule_AddObject(m, "_CAPI", glue) < 0) {
    Py_XDECREF(glue);
    return -1;
  }
  return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg) {
  module_state *st = wse_py_state(m);
  Py_VISIT(st->event_type);
  Py_VISIT(st->port_type);
  Py_VISIT(st->operation_type);
  Py_VISIT(st->netevents_type);
  Py_VISIT(st->error);
  Py_VISIT(st->str_fileno);
  return 0;
}

static int module_clear(PyObject *m) {
  module_state *st = wse_py_state(m);
  Py_CLEAR(st->event_type);
  Py_CLEAR(st->port_type);
  Py_CLEAR(st->operation_type);
  Py_CLEAR(st->netevents_type);
  Py_CLEAR(st->error);
  Py_CLEAR(st->str_fileno);
  wse_py_fdmap_clear(&st->selected);
  wse_py_fdmap_clear(&st->accepted);
  return 0;
}

static void module_free(void *m) {
  if (m == module_of_capi)
    module_of_capi = NULL;
  module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

struct PyModuleDef wse_py_module = {
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

PyMODINIT_FUNC PyInit__wsevent(void) { return PyModuleDef_Init(&wse_py_module); }
