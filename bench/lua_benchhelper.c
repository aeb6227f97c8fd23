/* lua_benchhelper.c: the C side of the Lua benchmark (require "benchhelper"). */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "lauxlib.h"
#include "lua.h"

#include "wsevent_provider.h"

struct pong { const struct wsevent_upcalls *up; wsevent_t a, b; long trips; };

static void *pong_main(void *p) {
  struct pong *j = p;
  for (long i = 0; i < j->trips; i++) {
    j->up->xWaitMultiple(&j->a, 1, 0, WSEVENT_INFINITE, NULL);
    j->up->xSet(j->b);
  }
  free(j);
  return NULL;
}

/* pong(upcalls, a, b, trips): a C thread answers every set of a with b. */
static int pong(lua_State *L) {
  luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
  struct pong *j = malloc(sizeof *j);
  j->up = lua_touserdata(L, 1);
  j->a = (wsevent_t)luaL_checkinteger(L, 2);
  j->b = (wsevent_t)luaL_checkinteger(L, 3);
  j->trips = (long)luaL_checkinteger(L, 4);
  pthread_t t;
  pthread_create(&t, NULL, pong_main, j);
  pthread_detach(t);
  return 0;
}

/* ping(upcalls, a, b, trips): the same ping loop in C; returns seconds. */
static int ping(lua_State *L) {
  const struct wsevent_upcalls *up = lua_touserdata(L, 1);
  wsevent_t a = (wsevent_t)luaL_checkinteger(L, 2), b = (wsevent_t)luaL_checkinteger(L, 3);
  long trips = (long)luaL_checkinteger(L, 4);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < trips; i++) {
    up->xSet(a);
    up->xWaitMultiple(&b, 1, 0, WSEVENT_INFINITE, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  lua_pushnumber(L, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
  return 1;
}

static int noop(lua_State *L) { (void)L; return 0; }

static int now(lua_State *L) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  lua_pushnumber(L, t.tv_sec + t.tv_nsec * 1e-9);
  return 1;
}

__attribute__((visibility("default"))) int luaopen_benchhelper(lua_State *L) {
  static const luaL_Reg f[] = {{"pong", pong}, {"ping", ping}, {"noop", noop},
                               {"now", now}, {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
