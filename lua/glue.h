/*
 * glue.h: what the files of the Lua module share (one module, lua/).
 *
 * lauxlib conventions: a wrong argument raises (luaL_argerror); a runtime
 * failure returns fail, message, code, and so does a wait that times out
 * (fail, "timeout").  An Event userdata is created already marked closed
 * before it takes its handle (liolib's newprefile), and one function serves
 * __gc and __close.
 *
 * Waits never leave the Lua state half-changed: the list of handles lives
 * in a userdata (collected if an error unwinds), and any Lua code that a
 * wait triggers (a completion routine, an interrupt hook) runs only after
 * the core's wait has returned or from a protected call.
 */
#ifndef WSEVENT_LUA_GLUE_H
#define WSEVENT_LUA_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include "lauxlib.h"
#include "lua.h"

#include "wsevent.h"
#include "wsevent_provider.h"

#define EVENT_MT "wsevent.Event"
#define MAXIMUM_WAIT_EVENTS 64
#define TIMEOUT_MAX 9223372036.0

#define WSE_LUA_HIDDEN __attribute__((visibility("hidden")))

typedef struct {
  wsevent_t handle;
  int closed;
  int manual_reset;
  int owned; /* closes the event when closed or collected */
} Event;

/* The module's userdata types, checked by a registry key that is a C
 * address (lua_rawgetp) instead of luaL_checkudata's name: no string made
 * (a strcmp in luaS_new's cache) per call. */
WSE_LUA_HIDDEN extern const char wse_lua_event_mt, wse_lua_op_mt;
/* luaL_newmetatable(L, name), also kept under key. */
WSE_LUA_HIDDEN void wse_lua_new_metatable(lua_State *L, const char *name,
                                          const void *key);
/* Sets the metatable of key on the value on top. */
WSE_LUA_HIDDEN void wse_lua_set_metatable(lua_State *L, const void *key);
/* The userdata at arg if its metatable is key's, else NULL (test) or a
 * type error naming the type (check). */
WSE_LUA_HIDDEN void *wse_lua_test_udata(lua_State *L, int arg, const void *key);
WSE_LUA_HIDDEN void *wse_lua_check_udata(lua_State *L, int arg, const void *key,
                                         const char *name);

/* fail, the core's message for code, code: 3 results. */
WSE_LUA_HIDDEN int wse_lua_fail(lua_State *L, int code);
/* fail, "timeout": 2 results, the shape of every wait that times out. */
WSE_LUA_HIDDEN int wse_lua_timeout(lua_State *L);
WSE_LUA_HIDDEN Event *wse_lua_check_event(lua_State *L, int arg);
/* A timeout in seconds at arg into *deadline: nil, none and math.huge wait
 * forever; NaN and negative numbers raise. */
WSE_LUA_HIDDEN void wse_lua_check_deadline(lua_State *L, int arg,
                                           wsevent_time_t *deadline);
/* The handles of a Lua list of events, in a userdata pushed on the stack. */
WSE_LUA_HIDDEN wsevent_t *wse_lua_check_list(lua_State *L, int arg, size_t max,
                                             size_t *count);
/* Wait until the deadline; runs a signal's hook (Ctrl-C) between tries and
 * raises what a completion routine raised.  A core code. */
WSE_LUA_HIDDEN int wse_lua_wait(lua_State *L, const wsevent_t *h, size_t n,
                                unsigned flags, wsevent_time_t deadline,
                                size_t *index);
WSE_LUA_HIDDEN int wse_lua_sleep(lua_State *L, unsigned flags,
                                 wsevent_time_t deadline);
/* Raise unknown keys of an options table at arg (names: NULL-terminated). */
WSE_LUA_HIDDEN void wse_lua_check_keys(lua_State *L, int arg,
                                       const char *const names[]);

/* Completion routines (completion.c). */
WSE_LUA_HIDDEN void wse_lua_run_routine(void *context);
WSE_LUA_HIDDEN void wse_lua_release_routine(void *context);
WSE_LUA_HIDDEN void wse_lua_reraise_routine_error(lua_State *L);
/* Give L's universe its number and its sentinel (at luaopen_wsevent). */
WSE_LUA_HIDDEN void wse_lua_open_universe(lua_State *L);
/* A routine context for the function at arg (raises if not a function). */
WSE_LUA_HIDDEN void *wse_lua_new_routine(lua_State *L, int arg);
/* The same, called with the value at index with as its one argument. */
WSE_LUA_HIDDEN void *wse_lua_new_routine_with(lua_State *L, int arg, int with);

/* Pushes an Event for an open handle (event.c); a core code, nothing
 * pushed on failure. */
WSE_LUA_HIDDEN int wse_lua_push_from_handle(lua_State *L, wsevent_t h,
                                            int owned);
/* wsevent._CAPI, pushed (capi.c). */
WSE_LUA_HIDDEN void wse_lua_push_capi(lua_State *L);

/* Pushes a new open Event (event.c), or pushes nothing and returns NULL
 * with the core's code. */
WSE_LUA_HIDDEN Event *wse_lua_push_new_event(lua_State *L, unsigned flags,
                                             int *code);

/* Overlapped operations (overlapped.c). */
WSE_LUA_HIDDEN void wse_lua_create_operation_meta(lua_State *L);
/* fd was made by the library's accept and handed out as an integer: until
 * wsevent.close_socket(fd), operations on it are started as vouched for
 * (WSEVENT_OV_SAME_SOCKET). */
WSE_LUA_HIDDEN void wse_lua_own_fd(lua_State *L, int fd);

/* The table of the registry at key, made (with metatable __mode = mode,
 * if mode is not NULL) on first use; pushed. */
WSE_LUA_HIDDEN void wse_lua_push_registry_table(lua_State *L, const void *key,
                                                const char *mode);

/* A descriptor from an integer or an object with :getfd() (luasocket). */
WSE_LUA_HIDDEN int wse_lua_check_fd(lua_State *L, int arg);

WSE_LUA_HIDDEN extern const luaL_Reg wse_lua_event_methods[];
WSE_LUA_HIDDEN extern const luaL_Reg wse_lua_event_meta[];
WSE_LUA_HIDDEN extern const luaL_Reg wse_lua_event_functions[];
WSE_LUA_HIDDEN extern const luaL_Reg wse_lua_wait_functions[];
WSE_LUA_HIDDEN extern const luaL_Reg wse_lua_completion_functions[];
WSE_LUA_HIDDEN extern const luaL_Reg wse_lua_network_functions[];
/* The module table on top: put the functions that keep upvalues in it. */
WSE_LUA_HIDDEN void wse_lua_open_network(lua_State *L);
WSE_LUA_HIDDEN extern const luaL_Reg wse_lua_overlapped_functions[];

#endif
