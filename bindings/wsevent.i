/*
 * wsevent.i: SWIG typemaps for wrapping a wsevent provider's C API for
 * Python and Lua 5.4 at once.
 *
 * In the provider's own .i:
 *
 *     %module device
 *     %include "wsevent.i"
 *     WSEVENT_STARTUP(device_startup)   // WSPStartup-like hook, optional
 *     %{ #include "device.h" %}
 *     %include "device.h"
 *
 * then `swig -python -threads` and `swig -lua`.  What the typemaps give:
 *
 *   wsevent_t (in)       a wsevent.Event (Python) or event (Lua), or an
 *                        integer handle; a closed event raises.
 *   wsevent_t (out)      an integer (in Lua a true integer, never a float).
 *   wsevent_new_t (out)  a new Event object that owns the handle the
 *                        provider created (typedef it to wsevent_t in C).
 *   (wsevent_completion_fn fn, void *context)
 *                        one script argument: a Python callable or a Lua
 *                        function (or None/nil).  It runs in the thread
 *                        that the provider queues it to, inside that
 *                        thread's next alertable wait.  If the provider
 *                        never queues it, its reference is never released.
 *   integers (Lua)       pushed with lua_pushinteger and checked with
 *                        luaL_checkinteger: no silent float truncation.
 *
 * The module's init code imports the host module (wsevent) and takes its
 * upcall table (the capsule wsevent._C_API, the Lua field _upcalls), so the
 * provider and the script share one core and one handle space.
 */

%{
#include <stdint.h>
#include "wsevent_provider.h"

/* The host's table, fetched at module init. */
static const struct wsevent_upcalls *wsevent_host_upcalls;
%}

typedef unsigned long long uint64_t;
typedef uint64_t wsevent_t;
typedef void (*wsevent_completion_fn)(void *context);

/* ================================================================== */
#if defined(SWIGPYTHON)

%{
static PyObject *wsevent_py_module; /* wsevent, kept for the whole run */

/* A handle from an Event or an int; -1 and an exception on error. */
static int wsevent_py_handle(PyObject *obj, wsevent_t *out) {
  if (PyLong_Check(obj)) {
    unsigned long long h = PyLong_AsUnsignedLongLong(obj);
    if (h == (unsigned long long)-1 && PyErr_Occurred())
      return -1;
    *out = h;
    return 0;
  }
  PyObject *event_type = PyObject_GetAttrString(wsevent_py_module, "Event");
  if (event_type == NULL)
    return -1;
  int is_event = PyObject_IsInstance(obj, event_type);
  Py_DECREF(event_type);
  if (is_event <= 0) {
    if (is_event == 0)
      PyErr_Format(PyExc_TypeError, "expected a wsevent.Event or an int handle, not %.100s",
                   Py_TYPE(obj)->tp_name);
    return -1;
  }
  PyObject *h = PyObject_GetAttrString(obj, "handle"); /* raises if closed */
  if (h == NULL)
    return -1;
  *out = PyLong_AsUnsignedLongLong(h);
  Py_DECREF(h);
  return PyErr_Occurred() ? -1 : 0;
}

/* The completion routine and a context for a Python callable. */
static int wsevent_py_completion(PyObject *obj, wsevent_completion_fn *fn, void **ctx) {
  *fn = NULL;
  *ctx = NULL;
  if (obj == Py_None)
    return 0;
  if (!PyCallable_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "expected a callable or None, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  PyObject *routine = PyObject_GetAttrString(wsevent_py_module, "_completion_routine");
  PyObject *context = routine ? PyObject_CallMethod(wsevent_py_module, "completion", "O", obj)
                              : NULL;
  if (context != NULL) {
    *fn = (wsevent_completion_fn)PyLong_AsVoidPtr(routine);
    *ctx = PyLong_AsVoidPtr(context);
  }
  Py_XDECREF(routine);
  Py_XDECREF(context);
  return PyErr_Occurred() ? -1 : 0;
}
%}

%typemap(in) wsevent_t {
  if (wsevent_py_handle($input, &$1) < 0)
    SWIG_fail;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_UINT64) wsevent_t {
  $1 = PyLong_Check($input) || PyObject_HasAttrString($input, "handle");
}
%typemap(out) wsevent_t {
  $result = PyLong_FromUnsignedLongLong($1);
}
%typemap(out) wsevent_new_t {
  if ($1 == 0) {
    PyErr_SetString(PyExc_RuntimeError, "the provider could not create an event");
    SWIG_fail;
  }
  PyObject *event_type = PyObject_GetAttrString(wsevent_py_module, "Event");
  $result = event_type ? PyObject_CallMethod(event_type, "_from_handle", "K",
                                             (unsigned long long)$1) : NULL;
  Py_XDECREF(event_type);
  if ($result == NULL)
    SWIG_fail;
}
%typemap(in) (wsevent_completion_fn fn, void *context) {
  if (wsevent_py_completion($input, &$1, &$2) < 0)
    SWIG_fail;
}

%define WSEVENT_STARTUP(fn)
%init %{
  fn(wsevent_host_upcalls);
%}
%enddef

%init %{
  wsevent_py_module = PyImport_ImportModule("wsevent");
  if (wsevent_py_module == NULL)
    return NULL;
  wsevent_host_upcalls = (const struct wsevent_upcalls *)
      PyCapsule_Import(WSEVENT_CAPSULE_NAME, 0);
  if (wsevent_host_upcalls == NULL)
    return NULL;
%}

/* ================================================================== */
#elif defined(SWIGLUA)

%{
#include "lauxlib.h"

/* A handle from an event userdata or an integer (raises on error). */
static wsevent_t wsevent_lua_handle(lua_State *L, int idx) {
  if (lua_isinteger(L, idx))
    return (wsevent_t)lua_tointeger(L, idx);
  if (luaL_testudata(L, idx, "wsevent.Event") == NULL)
    luaL_typeerror(L, idx, "wsevent event or integer handle");
  lua_getfield(L, idx, "handle"); /* the method: raises if closed */
  lua_pushvalue(L, idx);
  lua_call(L, 1, 1);
  wsevent_t h = (wsevent_t)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return h;
}

/* package.loaded.wsevent[name], pushed. */
static void wsevent_lua_field(lua_State *L, const char *name) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "wsevent");
  lua_remove(L, -2);
  if (!lua_istable(L, -1))
    luaL_error(L, "the wsevent module is not loaded");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
}
%}

%typemap(in, checkfn="") wsevent_t {
  $1 = wsevent_lua_handle(L, $input);
}
%typemap(out) wsevent_t {
  lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++;
}
%typemap(out) wsevent_new_t {
  if ($1 == 0) {
    lua_pushnil(L); SWIG_arg++;
  } else {
    wsevent_lua_field(L, "_from_handle");
    lua_pushinteger(L, (lua_Integer)$1);
    lua_call(L, 1, 1);
    SWIG_arg++;
  }
}
%typemap(in, checkfn="") (wsevent_completion_fn fn, void *context) {
  if (lua_isnoneornil(L, $input)) {
    $1 = NULL;
    $2 = NULL;
  } else {
    luaL_checktype(L, $input, LUA_TFUNCTION);
    wsevent_lua_field(L, "_completion_routine");
    $1 = (wsevent_completion_fn)(uintptr_t)lua_touserdata(L, -1);
    lua_pop(L, 1);
    wsevent_lua_field(L, "completion");
    lua_pushvalue(L, $input);
    lua_call(L, 1, 1);
    $2 = lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
}

/* Strict integers: SWIG's defaults go through lua_Number. */
%define WSEVENT_LUA_INTEGER(TYPE)
%typemap(in, checkfn="") TYPE {
  $1 = (TYPE)luaL_checkinteger(L, $input);
}
%typemap(out) TYPE {
  lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++;
}
%enddef
WSEVENT_LUA_INTEGER(int)
WSEVENT_LUA_INTEGER(unsigned int)
WSEVENT_LUA_INTEGER(long)
WSEVENT_LUA_INTEGER(unsigned long)
WSEVENT_LUA_INTEGER(long long)
WSEVENT_LUA_INTEGER(unsigned long long)

%define WSEVENT_STARTUP(fn)
%init %{
  fn(wsevent_host_upcalls);
%}
%enddef

%init %{
  lua_getglobal(L, "require");
  lua_pushstring(L, "wsevent");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, WSEVENT_LUA_UPCALLS_FIELD);
  wsevent_host_upcalls = (const struct wsevent_upcalls *)lua_touserdata(L, -1);
  lua_pop(L, 2);
  if (wsevent_host_upcalls == NULL)
    luaL_error(L, "wsevent._upcalls is missing");
%}

#endif
