/* lua_testhelper.c: delayed_set.c for Lua tests (require "testhelper"). */
#include "lauxlib.h"
#include "lua.h"

#include "wsevent_provider.h"

int delayed_set(const struct wsevent_upcalls *up, uint64_t event,
                unsigned delay_ms, unsigned count, int *result);
int upcall_set(const struct wsevent_upcalls *up, uint64_t event);
int upcall_close(const struct wsevent_upcalls *up, uint64_t event);
int delayed_close(const struct wsevent_upcalls *up, uint64_t event,
                  unsigned delay_ms);
int queue_later(const struct wsevent_upcalls *up, wsevent_thread_t thread,
                wsevent_completion_fn fn, void *context, unsigned delay_ms);

static const struct wsevent_upcalls *upcalls(lua_State *L) {
  luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
  return lua_touserdata(L, 1);
}

/* set_later(upcalls, handle [, delay_ms [, count]]) */
static int set_later(lua_State *L) {
  int r = delayed_set(upcalls(L), (uint64_t)luaL_checkinteger(L, 2),
                      (unsigned)luaL_optinteger(L, 3, 20),
                      (unsigned)luaL_optinteger(L, 4, 1), NULL);
  lua_pushboolean(L, r == 0);
  return 1;
}

/* set_now(upcalls, handle) -> the upcall's code */
static int set_now(lua_State *L) {
  lua_pushinteger(L, upcall_set(upcalls(L), (uint64_t)luaL_checkinteger(L, 2)));
  return 1;
}

/* close_now(upcalls, handle) -> the upcall's code */
static int close_now(lua_State *L) {
  lua_pushinteger(L, upcall_close(upcalls(L), (uint64_t)luaL_checkinteger(L, 2)));
  return 1;
}

/* close_later(upcalls, handle [, delay_ms]) */
static int close_later(lua_State *L) {
  int r = delayed_close(upcalls(L), (uint64_t)luaL_checkinteger(L, 2),
                        (unsigned)luaL_optinteger(L, 3, 20));
  lua_pushboolean(L, r == 0);
  return 1;
}

/* queue_later(upcalls, thread_id, routine, context [, delay_ms]) */
static int l_queue_later(lua_State *L) {
  luaL_checktype(L, 3, LUA_TLIGHTUSERDATA);
  luaL_checktype(L, 4, LUA_TLIGHTUSERDATA);
  wsevent_completion_fn fn = (wsevent_completion_fn)(uintptr_t)lua_touserdata(L, 3);
  int r = queue_later(upcalls(L), (wsevent_thread_t)luaL_checkinteger(L, 2), fn,
                      lua_touserdata(L, 4), (unsigned)luaL_optinteger(L, 5, 20));
  lua_pushboolean(L, r == 0);
  return 1;
}

__attribute__((visibility("default"))) int luaopen_testhelper(lua_State *L) {
  static const luaL_Reg f[] = {{"set_later", set_later},
                               {"set_now", set_now},
                               {"queue_later", l_queue_later},
                               {"close_now", close_now},
                               {"close_later", close_later},
                               {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
