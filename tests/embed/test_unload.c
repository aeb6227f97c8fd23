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
#include <pthread.h>

#include "../tap.h"
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
