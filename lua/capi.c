/*
 * capi.c: wsevent._CAPI, the module's C API for other C modules
 * (wsevent_lua.h): what bindings/wsevent.i needs, without looking fields
 * up per call or passing function pointers through Lua values.
 */
#include "glue.h"
#include "wsevent_lua.h"

static wsevent_t handle_of(lua_State *L, int idx, int allow_int) {
  if (allow_int && lua_isinteger(L, idx)) {
    /* A handle's 64 bits, as ev:handle() gives them: one whose slot was
     * reused 2^31 times reads as a negative integer. */
    lua_Integer h = lua_tointeger(L, idx);
    luaL_argcheck(L, h != 0, idx, "0 is not a handle");
    return (wsevent_t)h;
  }
  if (wse_lua_test_udata(L, idx, &wse_lua_event_mt) == NULL)
    luaL_typeerror(L, idx, allow_int ? "wsevent event or integer handle"
                                     : "wsevent event");
  Event *ev = lua_touserdata(L, idx);
  if (ev->closed)
    luaL_argerror(L, idx, "event is closed");
  return ev->handle;
}

static void completion_of(lua_State *L, int idx, wsevent_completion_fn *fn,
                          wsevent_completion_fn *release, void **context) {
  if (lua_isnoneornil(L, idx)) {
    *fn = NULL;
    *release = NULL;
    *context = NULL;
    return;
  }
  *context = wse_lua_new_routine(L, idx);
  *fn = wse_lua_run_routine;
  *release = wse_lua_release_routine;
}

static WsEvent_LuaCAPI capi = {
    .version = WSEVENT_LUA_CAPI_VERSION,
    .event_metatable = EVENT_MT,
    .handle_of = handle_of,
    .push_from_handle = wse_lua_push_from_handle,
    .completion_of = completion_of,
};

void wse_lua_push_capi(lua_State *L) {
  capi.upcalls = wsevent_upcalls(); /* the same table every time */
  lua_pushlightuserdata(L, &capi);
}
