/*
 * test_unload.c: a host that unloads the Lua module must not unload the
 * core under the threads it served.
 *
 * This host embeds Lua and does NOT link libwsevent: the module brings
 * the core in, and lua_close() dlcloses the module.  A thread that asked
 * for its wsevent id has a thread-exit hook in the core; with the core
 * unmapped, that hook would crash when the thread ends.  libwsevent is
 * linked with -z nodelete, so it stays.  ROOT is given by the Makefile.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

#include "../tap.h"
#include "wsevent.h" /* its constants only: this host does not link it */
#include "lauxlib.h"
#include "lualib.h"

static void *use_and_close(void *p) {
  (void)p;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  int r = luaL_dostring(L, "package.cpath = '" ROOT "/build/lua/?.so;' .. package.cpath\n"
                           "local ws = require 'wsevent'\n"
                           "assert(ws.thread_id())\n"
                           "local ev = ws.event()\n"
                           "ev:set()\n"
                           "assert(ev:wait(0))\n");
  if (r != LUA_OK)
    printf("# lua: %s\n", lua_tostring(L, -1));
  lua_close(L); /* unloads wsevent.so */
  return (void *)(intptr_t)r;
}

TEST(test_a_thread_outlives_the_module_that_gave_it_an_id) {
  for (int i = 0; i < 3; i++) {
    pthread_t t;
    void *r;
    ASSERT_EQ(pthread_create(&t, NULL, use_and_close, NULL), 0);
    ASSERT_EQ(pthread_join(t, &r), 0); /* its exit hook ran by now */
    ASSERT_EQ((intptr_t)r, LUA_OK);
  }
}

/* ---- the module's functions that the core holds ---- */

static int run_lua(lua_State *L, const char *code) {
  int r = luaL_dostring(L, code);
  if (r != LUA_OK)
    printf("# lua: %s\n", lua_tostring(L, -1));
  return r;
}

#define REQUIRE "package.cpath = '" ROOT "/build/lua/?.so;' .. package.cpath\n" \
                "ws = require 'wsevent'\n"

TEST(test_routines_queued_from_lua_outlive_the_state_that_queued_them) {
  /* The core holds the module's routine function for each; lua_close()
   * must not unload the module under them (it is linked -z nodelete).
   * The host's next alertable wait finds them, and drops them: their
   * state is gone. */
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  ASSERT_EQ(run_lua(L, REQUIRE "for i = 1, 10 do ws.queue_completion(function() end) end"),
            LUA_OK);
  lua_close(L);
  void *core = dlopen("libwsevent.so.1", RTLD_NOW | RTLD_NOLOAD);
  ASSERT(core != NULL); /* still there */
  int (*sleep_fn)(uint32_t, unsigned) = (int (*)(uint32_t, unsigned))dlsym(core, "wsevent_sleep");
  ASSERT(sleep_fn != NULL);
  ASSERT_EQ(sleep_fn(0, WSEVENT_ALERTABLE), WSEVENT_IO_COMPLETION);
  dlclose(core);
}

/* An allocator that gives every state's first block, its main thread, the
 * same address: a state made after another closed is where it was. */
static _Alignas(64) char state_block[8192];
struct alloc_ud {
  int first;
};

static void *same_place(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct alloc_ud *a = ud;
  if (ptr == state_block) {
    if (nsize == 0)
      return NULL; /* freed: the block is kept for the next state */
    return nsize <= sizeof state_block ? ptr : NULL;
  }
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr == NULL && a->first && nsize <= sizeof state_block) {
    a->first = 0;
    (void)osize;
    return state_block;
  }
  return realloc(ptr, nsize);
}

TEST(test_a_state_made_where_a_closed_one_was_keeps_its_own_routines) {
  /* Routines a provider released (never to run) wait for their state's
   * next call to drop their registry references.  They were told apart
   * by the main state's address: a new state at that address had its own
   * references dropped by them ("attempt to call a number value"). */
  struct alloc_ud a1 = {1}, a2 = {1};
  lua_State *A = lua_newstate(same_place, &a1);
  luaL_openlibs(A);
  ASSERT_EQ(run_lua(A, REQUIRE "ctx = {}\n"
                       "for i = 1, 100 do ctx[i] = ws.completion(function() end) end"),
            LUA_OK);
  lua_getglobal(A, "ws");
  lua_getfield(A, -1, "_completion_release");
  void (*release)(void *) = (void (*)(void *))(uintptr_t)lua_touserdata(A, -1);
  ASSERT(release != NULL);
  lua_getglobal(A, "ctx");
  for (int i = 1; i <= 100; i++) { /* as a provider that gives up */
    lua_rawgeti(A, -1, i);
    release(lua_touserdata(A, -1));
    lua_pop(A, 1);
  }
  lua_close(A);
  lua_State *B = lua_newstate(same_place, &a2);
  ASSERT(B == A); /* where A was */
  luaL_openlibs(B);
  int refs[100]; /* B's own references, as a host or a provider keeps them */
  for (int i = 0; i < 100; i++) {
    lua_pushinteger(B, i * 7);
    refs[i] = luaL_ref(B, LUA_REGISTRYINDEX);
  }
  ASSERT_EQ(run_lua(B, REQUIRE
                    "local ran = 0\n"
                    "for i = 1, 50 do ws.queue_completion(function() ran = ran + 1 end) end\n"
                    "ws.queue_completion(function() end) -- collects released ones\n"
                    "assert(ws.sleep(0, true))\n"
                    "assert(ran == 50, ran .. ' of 50 routines ran')\n"),
            LUA_OK);
  for (int i = 0; i < 100; i++) {
    lua_rawgeti(B, LUA_REGISTRYINDEX, refs[i]);
    ASSERT_EQ(lua_tointeger(B, -1), i * 7); /* none dropped by A's */
    lua_pop(B, 1);
  }
  lua_close(B);
}
