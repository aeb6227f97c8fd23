/*
 * wsevent_lua.h: the C API of the wsevent Lua module, for other C modules
 * (a provider wrapped by SWIG with bindings/wsevent.i, or written by hand);
 * the Lua twin of wsevent_python.h:
 *
 *     #include "wsevent_lua.h"
 *     static const WsEvent_LuaCAPI *wsevent_capi;
 *     ...in luaopen_yourmodule:
 *     wsevent_capi = wsevent_lua_import(L);    (raises if wsevent is absent)
 *
 * The table is the light userdata wsevent._CAPI.  It is versioned: fields
 * are only ever appended; check `version` before using one added after
 * version 1.  Functions are called from a C function that Lua is running
 * (they may raise, as luaL_check* do) on any state of the universe that
 * required wsevent.  The plain upcall table, for providers that need
 * nothing else, is wsevent._upcalls (WSEVENT_LUA_UPCALLS_FIELD).
 *
 * The table lives in the wsevent module: Lua unloads C modules in the
 * reverse order of loading, so a module that required wsevent in its
 * luaopen may use it until its own unloading.
 */
#ifndef WSEVENT_LUA_H
#define WSEVENT_LUA_H

#include "lauxlib.h"
#include "lua.h"

#include "wsevent_provider.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WSEVENT_LUA_CAPI_FIELD "_CAPI"
#define WSEVENT_LUA_CAPI_VERSION 1

typedef struct {
  int version;
  /* Version 1 */
  /* The core's upcall table, shared by every language in the process. */
  const struct wsevent_upcalls *upcalls;
  /* The metatable name of events (luaL_testudata). */
  const char *event_metatable;
  /* The handle of the open event at idx, or, if allow_int, of an integer
   * handle there (its 64 bits: a negative integer is a handle whose top
   * bit is set).  Raises an argument error otherwise (a closed event, a
   * wrong type, 0). */
  wsevent_t (*handle_of)(lua_State *L, int idx, int allow_int);
  /* Pushes a new event for a handle.  owned: the event closes the handle
   * when closed or collected (give it an event nobody else owns, such as
   * one a provider made for the caller).  Not owned: it never closes the
   * core's event.  Returns WSEVENT_OK, or a core code with nothing pushed
   * if the handle is not an open event. */
  int (*push_from_handle)(lua_State *L, wsevent_t handle, int owned);
  /* A completion routine for the function at idx: queue it with
   * xQueueCompletionEx(thread, *fn, *release, *context).  The context
   * holds the function (in the registry) until whichever of fn and
   * release runs; a provider that does not queue it must call
   * (*release)(*context) itself (from any thread).  nil or none gives
   * NULLs; anything but a function raises an argument error. */
  void (*completion_of)(lua_State *L, int idx, wsevent_completion_fn *fn,
                        wsevent_completion_fn *release, void **context);
} WsEvent_LuaCAPI;

/* require "wsevent" and return its table; raises if it is missing or
 * older than this header. */
static inline const WsEvent_LuaCAPI *wsevent_lua_import(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "wsevent");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, WSEVENT_LUA_CAPI_FIELD);
  const WsEvent_LuaCAPI *capi = (const WsEvent_LuaCAPI *)lua_touserdata(L, -1);
  lua_pop(L, 2);
  if (capi == NULL)
    luaL_error(L, "wsevent." WSEVENT_LUA_CAPI_FIELD " is missing");
  if (capi->version < WSEVENT_LUA_CAPI_VERSION)
    luaL_error(L, "wsevent C API version %d, need %d", capi->version,
               WSEVENT_LUA_CAPI_VERSION);
  return capi;
}

#ifdef __cplusplus
}
#endif

#endif
