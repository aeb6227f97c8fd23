/*
 * completion.c: completion routines (queue_completion, completion) and
 * thread ids.
 *
 * A completion object is a Lua function kept in the registry of one Lua
 * universe.  C providers queue wse_lua_run_routine with it as the context
 * (wsevent._completion_routine); it runs inside an alertable wait of that
 * OS thread, in the Lua state doing the wait (found through
 * wsevent_thread_data), and only if that state belongs to the same
 * universe.  It is freed once run.  What it raises comes out of the wait
 * that ran it; it cannot yield (it runs inside the wait, a C call).
 *
 * A universe is named by a number of its own, kept in its registry, not
 * by its main state's address: a state closed and another made at the
 * same address must not take the first one's registry references.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "glue.h"

#define ROUTINE_MAGIC 0x77736576u
/* Registry key of the first error raised by a completion routine. */
#define ROUTINE_ERROR "wsevent.routine_error"

struct routine {
  uint32_t magic;
  uint64_t universe;
  int ref;
  int arg_ref; /* its argument, or LUA_NOREF: called with none */
  struct routine *next_released;
};

/* Routines released (never to run) from any thread: their registry
 * entries are dropped by the next Lua call of their universe into this
 * file (luaL_unref is for the Lua thread only). */
static pthread_mutex_t released_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct routine *released;

static const char universe_key = 0;
static _Atomic uint64_t next_universe = 1;

/* The universe of L (0 before the module was opened in it). */
static uint64_t universe_of(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &universe_key);
  uint64_t u = (uint64_t)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return u;
}

/* In a Lua thread: drop this universe's released routines, and their
 * registry references too if the universe lives on. */
static void drop_released(lua_State *L, bool unref) {
  uint64_t u = universe_of(L);
  pthread_mutex_lock(&released_mutex);
  struct routine **p = &released;
  while (*p != NULL) {
    struct routine *r = *p;
    if (r->universe == u) {
      *p = r->next_released;
      if (unref) {
        luaL_unref(L, LUA_REGISTRYINDEX, r->ref);
        luaL_unref(L, LUA_REGISTRYINDEX, r->arg_ref); /* LUA_NOREF: nothing */
      }
      r->magic = 0;
      free(r);
    } else {
      p = &r->next_released;
    }
  }
  pthread_mutex_unlock(&released_mutex);
}

/* A universe that closes takes its released routines with it (its
 * registry goes with it, and no later universe may see them). */
static int universe_gc(lua_State *L) {
  drop_released(L, false);
  return 0;
}

void wse_lua_open_universe(lua_State *L) {
  if (universe_of(L) != 0)
    return; /* opened again (package.loaded cleared) */
  lua_pushinteger(L, (lua_Integer)atomic_fetch_add(&next_universe, 1));
  lua_rawsetp(L, LUA_REGISTRYINDEX, &universe_key);
  /* A sentinel in the registry, finalized when the state closes. */
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, universe_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  luaL_ref(L, LUA_REGISTRYINDEX);
}

/* The error on the stack, made reportable: error(nil) would otherwise read
 * as "no error", and a yield gets the rule it broke. */
static void explain_error(lua_State *L) {
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "completion routine raised an error "
                       "(error object is a nil value)");
  } else if (lua_type(L, -1) == LUA_TSTRING &&
             strstr(lua_tostring(L, -1), "attempt to yield") != NULL) {
    lua_pushfstring(L, "a completion routine cannot yield: it runs inside "
                       "the wait that ran it (%s)", lua_tostring(L, -1));
    lua_remove(L, -2);
  }
}

void wse_lua_run_routine(void *context) {
  struct routine *r = context;
  lua_State *L = wsevent_thread_data();
  if (r == NULL || r->magic != ROUTINE_MAGIC)
    return;
  if (L != NULL && universe_of(L) == r->universe) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ref);
    luaL_unref(L, LUA_REGISTRYINDEX, r->ref);
    int nargs = r->arg_ref != LUA_NOREF;
    if (nargs) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, r->arg_ref);
      luaL_unref(L, LUA_REGISTRYINDEX, r->arg_ref);
    }
    if (lua_pcall(L, nargs, 0, 0) != LUA_OK) {
      explain_error(L);
      /* Keep the first error; the wait raises it once it has returned. */
      if (lua_getfield(L, LUA_REGISTRYINDEX, ROUTINE_ERROR) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, ROUTINE_ERROR);
      } else {
        lua_pop(L, 2);
      }
    }
  }
  /* Run in a foreign universe or no Lua wait: dropped, never run on an
   * unrelated state.  Its registry entry stays (the universe may be gone). */
  r->magic = 0;
  free(r);
}

/* The release function of xQueueCompletionEx: any thread. */
void wse_lua_release_routine(void *context) {
  struct routine *r = context;
  if (r == NULL || r->magic != ROUTINE_MAGIC)
    return;
  pthread_mutex_lock(&released_mutex);
  r->next_released = released;
  released = r;
  pthread_mutex_unlock(&released_mutex);
}

static void collect_released(lua_State *L) { drop_released(L, true); }

/* The function at arg, called with the value at with (0: no argument).
 * The references first: only the malloc can fail after them. */
static struct routine *new_routine(lua_State *L, int arg, int with) {
  luaL_checktype(L, arg, LUA_TFUNCTION);
  collect_released(L);
  int arg_ref = LUA_NOREF;
  if (with != 0) {
    lua_pushvalue(L, with);
    arg_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_pushvalue(L, arg);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  struct routine *r = malloc(sizeof *r);
  if (r == NULL) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    luaL_unref(L, LUA_REGISTRYINDEX, arg_ref);
    luaL_error(L, "not enough memory");
  }
  r->ref = ref;
  r->arg_ref = arg_ref;
  r->universe = universe_of(L);
  r->magic = ROUTINE_MAGIC;
  r->next_released = NULL;
  return r;
}

void wse_lua_reraise_routine_error(lua_State *L) {
  collect_released(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, ROUTINE_ERROR) == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, ROUTINE_ERROR);
  lua_error(L);
}

static int l_thread_id(lua_State *L) {
  wsevent_thread_t id;
  int r = wsevent_thread_self(&id);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

/* queue_completion(fn): run fn in this thread's next alertable wait. */
static int l_queue_completion(lua_State *L) {
  wsevent_thread_t id;
  int r = wsevent_thread_self(&id);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  struct routine *routine = new_routine(L, 1, 0);
  r = wsevent_queue_completion(id, wse_lua_run_routine, routine);
  if (r != WSEVENT_OK) {
    luaL_unref(L, LUA_REGISTRYINDEX, routine->ref);
    free(routine);
    return wse_lua_fail(L, r);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* completion(fn): a context for C providers to queue with
 * wsevent._completion_routine; fn runs in the thread they queue it to. */
static int l_completion(lua_State *L) {
  lua_pushlightuserdata(L, new_routine(L, 1, 0));
  return 1;
}

void *wse_lua_new_routine(lua_State *L, int arg) { return new_routine(L, arg, 0); }

void *wse_lua_new_routine_with(lua_State *L, int arg, int with) {
  return new_routine(L, lua_absindex(L, arg), lua_absindex(L, with));
}

const luaL_Reg wse_lua_completion_functions[] = {
    {"thread_id", l_thread_id},
    {"queue_completion", l_queue_completion},
    {"completion", l_completion},
    {NULL, NULL},
};
