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
 * then `swig -python -threads` and `swig -lua` (both with -I for this
 * directory, core/include and, for Python, wsevent.get_include()).
 *
 * What the typemaps give:
 *
 *   wsevent_t (in)       a wsevent.Event (Python) or event (Lua), or an
 *                        integer handle (its 64 bits: in Lua a handle with
 *                        the top bit set is a negative integer), or
 *                        None/nil for 0, "no event" (for a provider whose
 *                        event is optional, as an OVERLAPPED's hEvent); a
 *                        closed event, 0 or a bool raises.
 *   wsevent_t (out)      an integer (in Lua a true integer, never a float).
 *   wsevent_new_t (out)  a new Event that owns the handle the provider
 *                        created for the caller (typedef it to wsevent_t).
 *   (wsevent_completion_fn fn, wsevent_completion_fn release, void *context)
 *   (wsevent_completion_fn fn, void *context)
 *                        one script argument: a Python callable or a Lua
 *                        function, or None/nil (fn NULL).  The provider
 *                        queues it with xQueueCompletionEx(thread, fn,
 *                        release, context); it runs in that thread, inside
 *                        its next alertable wait, or is released if the
 *                        thread ends first.  The pair form has no release
 *                        function: prefer the triple.  Its context is made
 *                        after every argument was converted, so an
 *                        argument that fails leaks nothing.
 *   integers             range-checked: a value that does not fit the C
 *                        type raises (Lua: integers only, never a float;
 *                        char, short, int, long, long long, size_t and
 *                        their unsigned forms, and the <stdint.h> types,
 *                        which this file includes).  Lua has no unsigned
 *                        64-bit integers: an unsigned long (long) above
 *                        2^63 - 1 comes back as its bits, a negative
 *                        integer, and a negative one is refused going in.
 *
 * Conventions for the provider's functions:
 *   - A function that takes a completion returns a signed integer; a
 *     negative return means it failed and did not keep the completion: the
 *     wrapper then releases it (the script's callable is not leaked).  The
 *     return reaches the script as that integer, not as an exception.
 *   - WSEVENT_STARTUP(fn): fn(upcalls) is called once at import and must
 *     return 0; it is hidden from scripts (a script could otherwise pass
 *     any pointer to it).
 *   - WSEVENT_SHUTDOWN(fn): fn() stops the provider's threads and waits
 *     for them; called before the host may unload the module (Lua: at
 *     lua_close, before C modules are unloaded; Python: at exit).  Hidden
 *     from scripts too.
 *
 * The module's init imports the host module's C API (Python: the capsule
 * wsevent._wsevent._CAPI, wsevent_python.h; Lua: the light userdata
 * wsevent._CAPI, wsevent_lua.h), so the provider and the script share one
 * core and one handle space.  Compile the wrapper with -I for the header's
 * directory (Python: wsevent.get_include(); Lua: lua/ or the installed
 * include directory).
 */

%include <stdint.i>

%{
#include <stdint.h>
#include "wsevent_provider.h"

/* The host's table, fetched at module init. */
static const struct wsevent_upcalls *wsevent_host_upcalls;
%}

typedef uint64_t wsevent_t;
typedef void (*wsevent_completion_fn)(void *context);

/* ================================================================== */
#if defined(SWIGPYTHON)

%{
#include "wsevent_python.h"

static WsEvent_CAPI *wsevent_capi;
%}

%init %{
  wsevent_capi = WsEvent_IMPORT();
  if (wsevent_capi == NULL)
    return NULL;
  wsevent_host_upcalls = wsevent_capi->upcalls;
%}

%typemap(in) wsevent_t {
  if ($input == Py_None)
    $1 = 0; /* no event */
  else if (wsevent_capi->handle_of($input, 1, &$1) < 0)
    SWIG_fail;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_UINT64) wsevent_t {
  $1 = $input == Py_None || (PyLong_Check($input) && !PyBool_Check($input)) ||
       PyObject_TypeCheck($input, wsevent_capi->EventType);
}
%typemap(out) wsevent_t {
  $result = PyLong_FromUnsignedLongLong($1);
}
%typemap(out) wsevent_new_t {
  if ($1 == 0) {
    PyErr_SetString(PyExc_RuntimeError, "the provider could not create an event");
    SWIG_fail;
  }
  $result = wsevent_capi->from_handle($1, 1);
  if ($result == NULL)
    SWIG_fail;
}

/* The callable is checked with the other arguments, and its context made
 * once they all converted (check runs after every in): an argument that
 * fails after it leaks nothing. */
%typemap(in) (wsevent_completion_fn fn, wsevent_completion_fn release, void *context)
    (PyObject *wse_callable) {
  if ($input != Py_None && !PyCallable_Check($input)) {
    PyErr_Format(PyExc_TypeError, "expected a callable or None, not %.100s",
                 Py_TYPE($input)->tp_name);
    SWIG_fail;
  }
  wse_callable = $input;
}
%typemap(check) (wsevent_completion_fn fn, wsevent_completion_fn release, void *context) {
  if (wsevent_capi->completion_of(wse_callable$argnum, &$1, &$2, &$3) < 0)
    SWIG_fail;
}
%typemap(argout) (wsevent_completion_fn fn, wsevent_completion_fn release, void *context) {
  if (result < 0 && $3 != NULL)
    $2($3); /* not kept by the provider */
}
%typemap(in) (wsevent_completion_fn fn, void *context)
    (PyObject *wse_callable, wsevent_completion_fn release_fn) {
  if ($input != Py_None && !PyCallable_Check($input)) {
    PyErr_Format(PyExc_TypeError, "expected a callable or None, not %.100s",
                 Py_TYPE($input)->tp_name);
    SWIG_fail;
  }
  wse_callable = $input;
}
%typemap(check) (wsevent_completion_fn fn, void *context) {
  if (wsevent_capi->completion_of(wse_callable$argnum, &$1, &release_fn$argnum, &$2) < 0)
    SWIG_fail;
}
%typemap(argout) (wsevent_completion_fn fn, void *context) {
  if (result < 0 && $2 != NULL)
    release_fn$argnum($2); /* not kept by the provider */
}

%define WSEVENT_STARTUP(fn)
%ignore fn;
%init %{
  if (fn(wsevent_host_upcalls) != 0) {
    PyErr_SetString(PyExc_ImportError, #fn "() failed");
    return NULL;
  }
%}
%enddef

/* Python never unloads extension modules: fn runs at process exit, after
 * the interpreter (so it must not call Python). */
%define WSEVENT_SHUTDOWN(fn)
%ignore fn;
%init %{
  Py_AtExit(fn);
%}
%enddef

/* ================================================================== */
#elif defined(SWIGLUA)

%{
#include "wsevent_lua.h"

static const WsEvent_LuaCAPI *wsevent_capi;

/* The argument checks SWIG makes before any conversion. */
static int wsevent_lua_is_handle(lua_State *L, int idx) {
  return lua_isnil(L, idx) || lua_isinteger(L, idx) ||
         luaL_testudata(L, idx, wsevent_capi->event_metatable) != NULL;
}
static int wsevent_lua_is_routine(lua_State *L, int idx) {
  return lua_isnil(L, idx) || lua_isfunction(L, idx);
}

/* WSEVENT_SHUTDOWN's hook, run by a sentinel's __gc at lua_close: Lua
 * finalizes it before the table of loaded C libraries (created earlier,
 * finalized later), so before this module is unloaded. */
static void (*wsevent_lua_shutdown_fn)(void);
static int wsevent_lua_shutdown(lua_State *L) {
  (void)L;
  if (wsevent_lua_shutdown_fn != NULL)
    wsevent_lua_shutdown_fn();
  return 0;
}
%}

%typemap(in, checkfn="wsevent_lua_is_handle") wsevent_t {
  $1 = lua_isnil(L, $input) ? 0 /* no event */ : wsevent_capi->handle_of(L, $input, 1);
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_UINT64) wsevent_t {
  $1 = wsevent_lua_is_handle(L, $input);
}
%typemap(out) wsevent_t {
  lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++;
}
%typemap(out) wsevent_new_t {
  if ($1 == 0) {
    lua_pushnil(L); SWIG_arg++;
  } else {
    /* The provider gives its new event away: the Lua object owns it. */
    int r = wsevent_capi->push_from_handle(L, $1, 1);
    if (r != WSEVENT_OK)
      luaL_error(L, "the provider returned a handle that is not an event: %s",
                 wsevent_capi->upcalls->xStrerror(r));
    SWIG_arg++;
  }
}
/* As for Python: the function is checked first (checkfn), and its
 * context made once every argument converted. */
%typemap(in, checkfn="wsevent_lua_is_routine")
    (wsevent_completion_fn fn, wsevent_completion_fn release, void *context)
    (int wse_routine_idx) {
  wse_routine_idx = $input;
}
%typemap(check) (wsevent_completion_fn fn, wsevent_completion_fn release, void *context) {
  wsevent_capi->completion_of(L, wse_routine_idx$argnum, &$1, &$2, &$3);
}
%typemap(argout) (wsevent_completion_fn fn, wsevent_completion_fn release, void *context) {
  if (result < 0 && $3 != NULL)
    $2($3); /* not kept by the provider */
}
%typemap(in, checkfn="wsevent_lua_is_routine") (wsevent_completion_fn fn, void *context)
    (int wse_routine_idx, wsevent_completion_fn release_fn) {
  wse_routine_idx = $input;
}
%typemap(check) (wsevent_completion_fn fn, void *context) {
  wsevent_capi->completion_of(L, wse_routine_idx$argnum, &$1, &release_fn$argnum, &$2);
}
%typemap(argout) (wsevent_completion_fn fn, void *context) {
  if (result < 0 && $2 != NULL)
    release_fn$argnum($2); /* not kept by the provider */
}

/* Strict integers: SWIG's defaults go through lua_Number (and truncate).
 * A value that does not fit the C type raises; nothing wraps.  (Unsigned
 * types take 0 to their maximum: a negative Lua integer is refused, not
 * read as a huge one.) */
%{
#include <limits.h>
%}
/* A range error goes to the wrapper's fail path (no longjmp from inside
 * a conversion), with an argument error's message. */
%define WSEVENT_LUA_INTEGER(TYPE, OK)
%typemap(in, checkfn="lua_isinteger") TYPE {
  lua_Integer v = lua_tointeger(L, $input);
  if (!(OK)) {
    SWIG_Lua_pushferrstring(L, "bad argument #%d to '%s' (out of range for %s)",
                            $input, "$symname", #TYPE);
    SWIG_fail;
  }
  $1 = (TYPE)v;
}
%typemap(out) TYPE {
  lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++;
}
%enddef
WSEVENT_LUA_INTEGER(signed char, v >= SCHAR_MIN && v <= SCHAR_MAX)
WSEVENT_LUA_INTEGER(unsigned char, v >= 0 && v <= UCHAR_MAX)
WSEVENT_LUA_INTEGER(short, v >= SHRT_MIN && v <= SHRT_MAX)
WSEVENT_LUA_INTEGER(unsigned short, v >= 0 && v <= USHRT_MAX)
WSEVENT_LUA_INTEGER(int, v >= INT_MIN && v <= INT_MAX)
WSEVENT_LUA_INTEGER(unsigned int, v >= 0 && (unsigned long long)v <= UINT_MAX)
WSEVENT_LUA_INTEGER(long, 1)
WSEVENT_LUA_INTEGER(unsigned long, v >= 0)
WSEVENT_LUA_INTEGER(long long, 1)
WSEVENT_LUA_INTEGER(unsigned long long, v >= 0)
WSEVENT_LUA_INTEGER(size_t, v >= 0)

%init %{
  wsevent_capi = wsevent_lua_import(L);
  wsevent_host_upcalls = wsevent_capi->upcalls;
%}

%define WSEVENT_STARTUP(fn)
%ignore fn;
%init %{
  if (fn(wsevent_host_upcalls) != 0)
    luaL_error(L, #fn "() failed");
%}
%enddef

%define WSEVENT_SHUTDOWN(fn)
%ignore fn;
%init %{
  wsevent_lua_shutdown_fn = fn;
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, wsevent_lua_shutdown);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  luaL_ref(L, LUA_REGISTRYINDEX);
%}
%enddef

#endif
