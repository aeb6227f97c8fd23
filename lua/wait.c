/*
 * wait.c: waits on several events, and sleeps.
 *
 * One shape for every wait: what it waited for (true, or an index), or
 * fail and a reason: "timeout" (and, for wait_for_multiple,
 * "io_completion": completion routines ran), or fail, message, code for a
 * failure (plus the index of the event it concerns, for a list).  Winsock's
 * numbers stay available as wsevent.WAIT_TIMEOUT and friends.
 */
#include "glue.h"

static const char *const wait_options[] = {"wait_all", "alertable", "timeout",
                                           NULL};

/* A failed list wait: fail, message, code, index (1-based). */
static int fail_at(lua_State *L, int r, size_t index) {
  int k = wse_lua_fail(L, r);
  lua_pushinteger(L, (lua_Integer)index + 1);
  return k + 1;
}

/* A wait over a list at arg 1 with a timeout at arg 2. */
static int wait_list(lua_State *L, unsigned flags, size_t *index) {
  lua_settop(L, 2); /* the handle array goes above the arguments */
  size_t n;
  wsevent_t *h = wse_lua_check_list(L, 1, WSEVENT_MAX_WAIT, &n);
  wsevent_time_t deadline;
  wse_lua_check_deadline(L, 2, &deadline);
  int r = wsevent_wait_multiple_until(h, n, flags, 0, index);
  if (r == WSEVENT_EINVAL)
    return luaL_argerror(L, 1, "the same event appears twice");
  if (r == WSEVENT_TIMEOUT && deadline > wsevent_now())
    r = wse_lua_wait(L, h, n, flags, deadline, index);
  return r;
}

/* wait_any(events [, timeout]): the index of a set event. */
static int l_wait_any(lua_State *L) {
  size_t index = 0;
  int r = wait_list(L, 0, &index);
  if (r == WSEVENT_OK) {
    lua_pushinteger(L, (lua_Integer)index + 1);
    return 1;
  }
  return r == WSEVENT_TIMEOUT ? wse_lua_timeout(L) : fail_at(L, r, index);
}

/* wait_all(events [, timeout]): true once all are set together. */
static int l_wait_all(lua_State *L) {
  size_t index = 0;
  int r = wait_list(L, WSEVENT_WAIT_ALL, &index);
  if (r == WSEVENT_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return r == WSEVENT_TIMEOUT ? wse_lua_timeout(L) : fail_at(L, r, index);
}

static int opt_bool_field(lua_State *L, int arg, const char *name) {
  int t = lua_getfield(L, arg, name);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a boolean", name));
  int b = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

/* wait_for_multiple(events, {wait_all=, alertable=, timeout=}):
 * WSAWaitForMultipleEvents (64 events at most): the index of the set event
 * (any) or 1 (all), fail and "timeout", or fail and "io_completion". */
static int l_wait_for_multiple(lua_State *L) {
  lua_settop(L, 2); /* the handle array goes above the arguments */
  size_t n, index = 0;
  wsevent_t *h = wse_lua_check_list(L, 1, MAXIMUM_WAIT_EVENTS, &n);
  int h_index = lua_gettop(L);
  unsigned flags = 0;
  wsevent_time_t deadline = WSEVENT_NEVER;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    wse_lua_check_keys(L, 2, wait_options);
    flags |= opt_bool_field(L, 2, "wait_all") ? WSEVENT_WAIT_ALL : 0;
    flags |= opt_bool_field(L, 2, "alertable") ? WSEVENT_ALERTABLE : 0;
    lua_getfield(L, 2, "timeout");
    wse_lua_check_deadline(L, lua_gettop(L), &deadline);
    lua_settop(L, h_index);
  }
  /* Even a wait that only looks once runs queued routines: through the
   * loop, which tells them which Lua state waits. */
  int r = wsevent_wait_multiple_until(h, n, flags & ~WSEVENT_ALERTABLE, 0, &index);
  if (r == WSEVENT_EINVAL)
    return luaL_argerror(L, 1, "the same event appears twice");
  if (r == WSEVENT_TIMEOUT)
    r = wse_lua_wait(L, h, n, flags, deadline, &index);
  if (r == WSEVENT_OK) {
    lua_pushinteger(L, (lua_Integer)index + 1);
    return 1;
  }
  if (r == WSEVENT_TIMEOUT)
    return wse_lua_timeout(L);
  if (r == WSEVENT_IO_COMPLETION) {
    luaL_pushfail(L);
    lua_pushliteral(L, "io_completion");
    return 2;
  }
  return fail_at(L, r, index);
}

/* sleep(seconds [, alertable]): whether completion routines ran (an
 * alertable sleep ends once they have, as SleepEx). */
static int l_sleep(lua_State *L) {
  wsevent_time_t deadline;
  wse_lua_check_deadline(L, 1, &deadline);
  int alertable = lua_toboolean(L, 2);
  if (deadline == WSEVENT_NEVER && !alertable)
    return luaL_argerror(L, 1, "nil would sleep forever unless alertable");
  int r = wse_lua_sleep(L, alertable ? WSEVENT_ALERTABLE : 0, deadline);
  if (r < 0)
    return wse_lua_fail(L, r);
  lua_pushboolean(L, r == WSEVENT_IO_COMPLETION);
  return 1;
}

const luaL_Reg wse_lua_wait_functions[] = {
    {"wait_any", l_wait_any},
    {"wait_all", l_wait_all},
    {"wait_for_multiple", l_wait_for_multiple},
    {"sleep", l_sleep},
    {NULL, NULL},
};
