/*
 * module.c: the Lua 5.4 module over libwsevent (local wsevent = require
 * "wsevent"): the helpers every file shares, and luaopen_wsevent.
 *
 * The module is split by concept, as the Python glue is: event.c (the
 * Event type), wait.c, completion.c, network.c, overlapped.c, capi.c;
 * glue.h is what they share.
 */
#include <math.h>
#include <string.h>
#include <sys/socket.h>

#include "glue.h"
#include "wsevent_lua.h"

int wse_lua_fail(lua_State *L, int code) {
  luaL_pushfail(L);
  lua_pushstring(L, wsevent_strerror(code));
  lua_pushinteger(L, code);
  return 3;
}

int wse_lua_timeout(lua_State *L) {
  luaL_pushfail(L);
  lua_pushliteral(L, "timeout");
  return 2;
}

const char wse_lua_event_mt = 0, wse_lua_op_mt = 0;

void wse_lua_new_metatable(lua_State *L, const char *name, const void *key) {
  luaL_newmetatable(L, name); /* also sets __name, for messages */
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void wse_lua_set_metatable(lua_State *L, const void *key) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  lua_setmetatable(L, -2);
}

void *wse_lua_test_udata(lua_State *L, int arg, const void *key) {
  void *p = lua_touserdata(L, arg);
  if (p == NULL || !lua_getmetatable(L, arg))
    return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

void *wse_lua_check_udata(lua_State *L, int arg, const void *key,
                          const char *name) {
  void *p = wse_lua_test_udata(L, arg, key);
  if (p == NULL)
    luaL_typeerror(L, arg, name);
  return p;
}

Event *wse_lua_check_event(lua_State *L, int arg) {
  Event *ev = wse_lua_check_udata(L, arg, &wse_lua_event_mt, EVENT_MT);
  if (ev->closed)
    luaL_error(L, "attempt to use a closed event");
  return ev;
}

void wse_lua_check_deadline(lua_State *L, int arg, wsevent_time_t *deadline) {
  if (lua_isnoneornil(L, arg)) {
    *deadline = WSEVENT_NEVER;
    return;
  }
  if (lua_type(L, arg) != LUA_TNUMBER)
    luaL_typeerror(L, arg, "number or nil");
  double t = lua_tonumber(L, arg);
  if (isnan(t))
    luaL_argerror(L, arg, "timeout is NaN");
  if (t < 0)
    luaL_argerror(L, arg, "timeout must be non-negative");
  if (t == HUGE_VAL) { /* math.huge: forever, as luasocket users expect */
    *deadline = WSEVENT_NEVER;
    return;
  }
  if (t > TIMEOUT_MAX)
    luaL_argerror(L, arg, "timeout too large (use nil or math.huge to wait "
                          "forever)");
  wsevent_deadline(t, deadline);
}

void wse_lua_check_keys(lua_State *L, int arg, const char *const names[]) {
  lua_pushnil(L);
  while (lua_next(L, arg) != 0) {
    lua_pop(L, 1); /* the value */
    int known = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (size_t i = 0; names[i] != NULL && !known; i++)
        known = strcmp(lua_tostring(L, -1), names[i]) == 0;
    if (!known) {
      /* A typo (manual= for manual_reset=) would silently change what the
       * call does: say so. */
      luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'",
                                            luaL_tolstring(L, -1, NULL)));
    }
  }
}

wsevent_t *wse_lua_check_list(lua_State *L, int arg, size_t max, size_t *count) {
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_Integer n = luaL_len(L, arg);
  if (n < 1)
    luaL_argerror(L, arg, "list is empty");
  if ((size_t)n > max)
    luaL_argerror(L, arg, lua_pushfstring(L, "more than %d events",
                                          (int)(max > INT32_MAX ? INT32_MAX : max)));
  wsevent_t *h = lua_newuserdatauv(L, (size_t)n * sizeof *h, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, arg, i);
    Event *ev = wse_lua_test_udata(L, -1, &wse_lua_event_mt);
    if (ev == NULL)
      luaL_argerror(L, arg, lua_pushfstring(L, "item %d is a %s, not an event",
                                            (int)i, luaL_typename(L, -1)));
    if (ev->closed)
      luaL_argerror(L, arg, lua_pushfstring(L, "event %d is closed", (int)i));
    h[i - 1] = ev->handle;
    lua_pop(L, 1);
  }
  *count = (size_t)n;
  return h;
}

/* ---- the wait loop ---- */

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* After EINTR: call an empty C function, on which a hook that a signal
 * handler installed (lua.c's Ctrl-C handler sets one) fires and may raise.
 * The core's wait has returned by then, so nothing is left registered. */
static void run_hooks(lua_State *L, void *previous) {
  wsevent_thread_set_data(previous, NULL);
  lua_pushcfunction(L, noop);
  lua_call(L, 0, 0); /* may raise "interrupted!" */
  wsevent_thread_set_data(L, NULL);
}

/* The thread's data is the Lua state that waits, for completion routines
 * (completion.c). */
int wse_lua_wait(lua_State *L, const wsevent_t *h, size_t n, unsigned flags,
                 wsevent_time_t deadline, size_t *index) {
  void *previous;
  int r;
  if (wsevent_thread_set_data(L, &previous) != WSEVENT_OK)
    return WSEVENT_ENOMEM;
  while ((r = wsevent_wait_multiple_until(h, n, flags | WSEVENT_INTERRUPTIBLE,
                                          deadline, index)) ==
         WSEVENT_INTERRUPTED)
    run_hooks(L, previous);
  wsevent_thread_set_data(previous, NULL);
  wse_lua_reraise_routine_error(L);
  return r;
}

int wse_lua_sleep(lua_State *L, unsigned flags, wsevent_time_t deadline) {
  void *previous;
  int r;
  if (wsevent_thread_set_data(L, &previous) != WSEVENT_OK)
    return WSEVENT_ENOMEM;
  while ((r = wsevent_sleep_until(deadline, flags | WSEVENT_INTERRUPTIBLE)) ==
         WSEVENT_INTERRUPTED)
    run_hooks(L, previous);
  wsevent_thread_set_data(previous, NULL);
  wse_lua_reraise_routine_error(L);
  return r;
}

/* strerror(code): the core's message for one of its codes. */
static int l_strerror(lua_State *L) {
  lua_Integer code = luaL_checkinteger(L, 1);
  luaL_argcheck(L, code >= INT32_MIN && code <= INT32_MAX, 1,
                "out of range for a wsevent code");
  lua_pushstring(L, wsevent_strerror((int)code));
  return 1;
}

static const luaL_Reg module_functions[] = {
    {"strerror", l_strerror},
    {NULL, NULL},
};

static void create_meta(lua_State *L) {
  wse_lua_new_metatable(L, EVENT_MT, &wse_lua_event_mt);
  luaL_setfuncs(L, wse_lua_event_meta, 0);
  lua_newtable(L);
  luaL_setfuncs(L, wse_lua_event_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

__attribute__((visibility("default"))) int luaopen_wsevent(lua_State *L) {
  wse_lua_open_universe(L);
  lua_newtable(L);
  luaL_setfuncs(L, module_functions, 0);
  luaL_setfuncs(L, wse_lua_event_functions, 0);
  luaL_setfuncs(L, wse_lua_wait_functions, 0);
  luaL_setfuncs(L, wse_lua_completion_functions, 0);
  luaL_setfuncs(L, wse_lua_network_functions, 0);
  wse_lua_open_network(L);
  luaL_setfuncs(L, wse_lua_overlapped_functions, 0);
  create_meta(L);
  wse_lua_create_operation_meta(L);
  lua_pushlightuserdata(L, (void *)wsevent_upcalls());
  lua_setfield(L, -2, WSEVENT_LUA_UPCALLS_FIELD);
  wse_lua_push_capi(L);
  lua_setfield(L, -2, WSEVENT_LUA_CAPI_FIELD);
  lua_pushlightuserdata(L, (void *)(uintptr_t)wse_lua_run_routine);
  lua_setfield(L, -2, "_completion_routine");
  lua_pushlightuserdata(L, (void *)(uintptr_t)wse_lua_release_routine);
  lua_setfield(L, -2, "_completion_release");
  lua_pushliteral(L, WSEVENT_VERSION_STRING);
  lua_setfield(L, -2, "_VERSION");
  static const struct { const char *name; int value; } constants[] = {
      /* Winsock's numbers, for code that compares with them. */
      {"WAIT_EVENT_0", WSEVENT_WAIT_OBJECT_0},
      {"WAIT_TIMEOUT", WSEVENT_WAIT_TIMEOUT},
      {"WAIT_IO_COMPLETION", WSEVENT_WAIT_IO_COMPLETION},
      {"MAXIMUM_WAIT_EVENTS", MAXIMUM_WAIT_EVENTS},
      {"FD_READ", WSEVENT_FD_READ},
      {"FD_WRITE", WSEVENT_FD_WRITE},
      {"FD_OOB", WSEVENT_FD_OOB},
      {"FD_ACCEPT", WSEVENT_FD_ACCEPT},
      {"FD_CONNECT", WSEVENT_FD_CONNECT},
      {"FD_CLOSE", WSEVENT_FD_CLOSE},
      {"FD_QOS", WSEVENT_FD_QOS},
      {"FD_GROUP_QOS", WSEVENT_FD_GROUP_QOS},
      {"FD_ROUTING_INTERFACE_CHANGE", WSEVENT_FD_ROUTING_INTERFACE_CHANGE},
      {"FD_ADDRESS_LIST_CHANGE", WSEVENT_FD_ADDRESS_LIST_CHANGE},
      /* Operation flags (options.flags) and result flags (op:flags()). */
      {"MSG_OOB", MSG_OOB},
      {"MSG_DONTROUTE", MSG_DONTROUTE},
      {"MSG_TRUNC", MSG_TRUNC},
      {"MSG_CTRUNC", MSG_CTRUNC},
      {"MSG_EOR", MSG_EOR},
#define XX(name, value, text) {"WSEVENT_" #name, value},
      WSEVENT_ERRNO_MAP(XX)
#undef XX
  };
  for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
    lua_pushinteger(L, constants[i].value);
    lua_setfield(L, -2, constants[i].name);
  }
  return 1;
}
