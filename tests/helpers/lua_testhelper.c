/* lua_testhelper.c: delayed_set.c for Lua tests (require "testhelper"). */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"

#include "wsevent_lua.h"
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

/* ---- wsevent._CAPI, used as a C module would ---- */

static const WsEvent_LuaCAPI *capi;

/* capi_handle(x [, allow_int]) -> handle_of's answer */
static int capi_handle(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)capi->handle_of(L, 1, lua_toboolean(L, 2)));
  return 1;
}

/* capi_from_handle(h, owned) -> an Event, or nil and the core's code */
static int capi_from_handle(lua_State *L) {
  int r = capi->push_from_handle(L, (wsevent_t)luaL_checkinteger(L, 1),
                                 lua_toboolean(L, 2));
  if (r == WSEVENT_OK)
    return 1;
  lua_pushnil(L);
  lua_pushinteger(L, r);
  return 2;
}

/* capi_queue_later(fn [, delay_ms]): fn runs in this thread's next
 * alertable wait after delay_ms, queued from another thread. */
static int capi_queue_later(lua_State *L) {
  wsevent_completion_fn fn, release;
  void *context;
  wsevent_thread_t self;
  capi->completion_of(L, 1, &fn, &release, &context);
  if (capi->upcalls->xThreadSelf(&self) != WSEVENT_OK ||
      queue_later(capi->upcalls, self, fn, context,
                  (unsigned)luaL_optinteger(L, 2, 20)) != 0) {
    if (context != NULL)
      release(context);
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* capi_release(fn): take a routine for fn and release it unqueued (from
 * another thread, as a provider that gives up would). */
static void *release_thread(void *arg) {
  void **pair = arg;
  ((wsevent_completion_fn)(uintptr_t)pair[0])(pair[1]);
  return NULL;
}
static int capi_release(lua_State *L) {
  wsevent_completion_fn fn, release;
  void *pair[2];
  pthread_t t;
  capi->completion_of(L, 1, &fn, &release, &pair[1]);
  lua_pushboolean(L, fn != NULL);
  if (pair[1] == NULL)
    return 1;
  pair[0] = (void *)(uintptr_t)release;
  if (pthread_create(&t, NULL, release_thread, pair) != 0)
    release(pair[1]);
  else
    pthread_join(t, NULL);
  return 1;
}

/* dup2(from, to): put the file of descriptor `from` on number `to` behind
 * everybody's back (lua-posix does not load under 5.4). */
static int l_dup2(lua_State *L) {
  int from = (int)luaL_checkinteger(L, 1), to = (int)luaL_checkinteger(L, 2);
  lua_pushboolean(L, dup2(from, to) == to);
  return 1;
}

__attribute__((visibility("default"))) int luaopen_testhelper(lua_State *L) {
  static const luaL_Reg f[] = {{"set_later", set_later},
                               {"set_now", set_now},
                               {"queue_later", l_queue_later},
                               {"close_now", close_now},
                               {"close_later", close_later},
                               {"capi_handle", capi_handle},
                               {"capi_from_handle", capi_from_handle},
                               {"capi_queue_later", capi_queue_later},
                               {"capi_release", capi_release},
                               {"dup2", l_dup2},
                               {NULL, NULL}};
  capi = wsevent_lua_import(L);
  luaL_newlib(L, f);
  return 1;
}
