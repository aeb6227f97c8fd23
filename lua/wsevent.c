/*
 * wsevent.c: the Lua 5.4 module over libwsevent.  local wsevent = require
 * "wsevent".
 *
 * lauxlib conventions: a wrong argument raises (luaL_argerror); a runtime
 * failure returns nil, message, code.  An Event userdata is created already
 * marked closed before it takes its handle (liolib's newprefile), and one
 * function serves __gc and __close.
 *
 * Waits never leave the Lua state half-changed: the list of handles lives
 * in a userdata (collected if an error unwinds), and any Lua code that a
 * wait triggers (a completion routine, an interrupt hook) runs only after
 * the core's wait has returned or from a protected call.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <time.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "wsevent.h"
#include "wsevent_provider.h"

#define EVENT_MT "wsevent.Event"
#define MAXIMUM_WAIT_EVENTS 64
#define WAIT_EVENT_0 0
#define WAIT_IO_COMPLETION 0xC0
#define WAIT_TIMEOUT 0x102
#define TIMEOUT_MAX 9223372036.0
#define ROUTINE_MAGIC 0x77736576u
/* Registry key of the first error raised by a completion routine. */
#define ROUTINE_ERROR "wsevent.routine_error"

typedef struct {
  wsevent_t handle;
  int closed;
  int manual_reset;
} Event;

/* ---- helpers ---- */

static int fail(lua_State *L, int code) {
  luaL_pushfail(L);
  lua_pushstring(L, wsevent_strerror(code));
  lua_pushinteger(L, code);
  return 3;
}

static Event *check_event(lua_State *L, int arg) {
  Event *ev = luaL_checkudata(L, arg, EVENT_MT);
  if (ev->closed)
    luaL_error(L, "attempt to use a closed event");
  return ev;
}

/* Timeout in seconds; nil is infinite.  Returns 1 if infinite. */
static int check_timeout(lua_State *L, int arg, double *seconds) {
  if (lua_isnoneornil(L, arg))
    return 1;
  if (lua_type(L, arg) != LUA_TNUMBER)
    luaL_typeerror(L, arg, "number or nil");
  double t = lua_tonumber(L, arg);
  if (isnan(t))
    luaL_argerror(L, arg, "timeout is NaN");
  if (t < 0)
    luaL_argerror(L, arg, "timeout must be non-negative");
  if (t > TIMEOUT_MAX)
    luaL_argerror(L, arg, "timeout too large (use nil to wait forever)");
  *seconds = t;
  return 0;
}

static double monotonic(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The next wait's timeout: what is left until the deadline, rounded up,
 * in chunks short of WSEVENT_INFINITE (longer waits loop). */
static uint32_t chunk_ms(int infinite, double deadline) {
  if (infinite)
    return WSEVENT_INFINITE;
  double want = ceil((deadline - monotonic()) * 1000.0);
  return want <= 0 ? 0 : want > 0x7FFFFFFF ? 0x7FFFFFFF : (uint32_t)want;
}

/* ---- completion routines ---- */

/*
 * A completion object: a Lua function kept in the registry of one Lua
 * universe.  C providers queue run_routine with it as the context; it runs
 * inside an alertable wait of that OS thread, in the Lua state doing the
 * wait (found through wsevent_thread_data), and only if that state belongs
 * to the same universe.  It is freed once run.
 */
struct routine {
  uint32_t magic;
  lua_State *main;
  int ref;
};

static lua_State *main_of(lua_State *L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  lua_State *m = lua_tothread(L, -1);
  lua_pop(L, 1);
  return m;
}

static void run_routine(void *context) {
  struct routine *r = context;
  lua_State *L = wsevent_thread_data();
  if (r == NULL || r->magic != ROUTINE_MAGIC)
    return;
  if (L != NULL && main_of(L) == r->main) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ref);
    luaL_unref(L, LUA_REGISTRYINDEX, r->ref);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
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

static struct routine *new_routine(lua_State *L, int arg) {
  luaL_checktype(L, arg, LUA_TFUNCTION);
  struct routine *r = malloc(sizeof *r);
  if (r == NULL)
    luaL_error(L, "not enough memory");
  lua_pushvalue(L, arg);
  r->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  r->main = main_of(L);
  r->magic = ROUTINE_MAGIC;
  return r;
}

/* After a wait: raise what a routine raised. */
static void reraise_routine_error(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, ROUTINE_ERROR) == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, ROUTINE_ERROR);
  lua_error(L);
}

/* ---- the wait loop ---- */

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/*
 * Wait on handles.  On EINTR, calls an empty C function: a hook that a
 * signal handler installed (lua.c's Ctrl-C handler sets one) fires on that
 * call and may raise; the core's wait has returned by then, so nothing is
 * left registered.  Then waits again for the time that remains.
 */
static int wait_handles(lua_State *L, const wsevent_t *h, size_t n,
                        unsigned flags, int infinite, double seconds,
                        size_t *index) {
  double deadline = infinite ? 0 : monotonic() + seconds;
  void *previous;
  int r;

  if (wsevent_thread_set_data(L, &previous) != WSEVENT_OK)
    return WSEVENT_ENOMEM;
  for (;;) {
    uint32_t ms = chunk_ms(infinite, deadline);
    r = wsevent_wait_multiple(h, n, flags | WSEVENT_INTERRUPTIBLE, ms, index);
    if (r == WSEVENT_INTERRUPTED) {
      wsevent_thread_set_data(previous, NULL);
      lua_pushcfunction(L, noop);
      lua_call(L, 0, 0); /* may raise "interrupted!" */
      wsevent_thread_set_data(L, NULL);
      continue;
    }
    if (r == WSEVENT_TIMEOUT && !infinite && monotonic() < deadline)
      continue;
    break;
  }
  wsevent_thread_set_data(previous, NULL);
  reraise_routine_error(L);
  return r;
}

/* Collect a Lua list of events into a userdata array of handles. */
static wsevent_t *check_list(lua_State *L, int arg, size_t max, size_t *count) {
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
    Event *ev = luaL_testudata(L, -1, EVENT_MT);
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

/* ---- Event ---- */

static int l_event(lua_State *L) {
  int manual = 1, initial = 0;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, 1, "manual_reset") != LUA_TNIL) {
      luaL_argcheck(L, lua_isboolean(L, -1), 1, "manual_reset must be a boolean");
      manual = lua_toboolean(L, -1);
    }
    if (lua_getfield(L, 1, "initial_state") != LUA_TNIL) {
      luaL_argcheck(L, lua_isboolean(L, -1), 1, "initial_state must be a boolean");
      initial = lua_toboolean(L, -1);
    }
    lua_pop(L, 2);
  }
  Event *ev = lua_newuserdatauv(L, sizeof *ev, 0);
  ev->closed = 1; /* until it owns a handle */
  ev->manual_reset = manual;
  luaL_setmetatable(L, EVENT_MT);
  int r = wsevent_create(&ev->handle, (manual ? 0 : WSEVENT_AUTO_RESET) |
                                          (initial ? WSEVENT_INITIAL_SET : 0));
  if (r != WSEVENT_OK)
    return fail(L, r);
  ev->closed = 0;
  return 1;
}

/* _from_handle(h): an event that owns a handle a provider created. */
static int l_from_handle(lua_State *L) {
  wsevent_t h = (wsevent_t)luaL_checkinteger(L, 1);
  unsigned flags;
  int r = wsevent_get_flags(h, &flags);
  if (r != WSEVENT_OK)
    return fail(L, r);
  Event *ev = lua_newuserdatauv(L, sizeof *ev, 0);
  ev->handle = h;
  ev->manual_reset = !(flags & WSEVENT_AUTO_RESET);
  ev->closed = 0;
  luaL_setmetatable(L, EVENT_MT);
  return 1;
}

static int l_set(lua_State *L) {
  int r = wsevent_set(check_event(L, 1)->handle);
  if (r != WSEVENT_OK)
    return fail(L, r);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_reset(lua_State *L) {
  int r = wsevent_reset(check_event(L, 1)->handle);
  if (r != WSEVENT_OK)
    return fail(L, r);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_is_set(lua_State *L) {
  int r = wsevent_is_set(check_event(L, 1)->handle);
  if (r < 0)
    return fail(L, r);
  lua_pushboolean(L, r);
  return 1;
}

static int l_wait(lua_State *L) {
  Event *ev = check_event(L, 1);
  double seconds = 0;
  int infinite = check_timeout(L, 2, &seconds);
  size_t index;
  int r = wsevent_wait_multiple(&ev->handle, 1, 0, 0, &index);
  if (r == WSEVENT_TIMEOUT && (infinite || seconds > 0))
    r = wait_handles(L, &ev->handle, 1, 0, infinite, seconds, &index);
  if (r == WSEVENT_OK || r == WSEVENT_TIMEOUT) {
    lua_pushboolean(L, r == WSEVENT_OK);
    return 1;
  }
  return fail(L, r);
}

static int l_close(lua_State *L) {
  Event *ev = luaL_checkudata(L, 1, EVENT_MT);
  if (!ev->closed) {
    ev->closed = 1;
    wsevent_close(ev->handle); /* may already be invalid: a provider closed it */
  }
  return 0;
}

static int l_fd(lua_State *L) {
  int fd, r = wsevent_fd(check_event(L, 1)->handle, &fd);
  if (r != WSEVENT_OK)
    return fail(L, r);
  lua_pushinteger(L, fd);
  return 1;
}

static int l_handle(lua_State *L) {
  /* A 64-bit handle fits a Lua integer bit for bit. */
  lua_pushinteger(L, (lua_Integer)check_event(L, 1)->handle);
  return 1;
}

static int l_manual_reset(lua_State *L) {
  lua_pushboolean(L, check_event(L, 1)->manual_reset);
  return 1;
}

static int l_closed(lua_State *L) {
  lua_pushboolean(L, ((Event *)luaL_checkudata(L, 1, EVENT_MT))->closed);
  return 1;
}

static int l_tostring(lua_State *L) {
  Event *ev = luaL_checkudata(L, 1, EVENT_MT);
  const char *status = "closed";
  if (!ev->closed) {
    int r = wsevent_is_set(ev->handle);
    status = r == 1 ? "set" : r == 0 ? "unset" : "invalid";
  }
  lua_pushfstring(L, "wsevent.Event (%p): %s", (void *)ev, status);
  return 1;
}

/* ---- module functions ---- */

static int l_wait_any(lua_State *L) {
  lua_settop(L, 2); /* the handle array goes above the arguments */
  size_t n, index = 0;
  wsevent_t *h = check_list(L, 1, WSEVENT_MAX_WAIT, &n);
  double seconds = 0;
  int infinite = check_timeout(L, 2, &seconds);
  int r = wsevent_wait_multiple(h, n, 0, 0, &index);
  if (r == WSEVENT_TIMEOUT && (infinite || seconds > 0))
    r = wait_handles(L, h, n, 0, infinite, seconds, &index);
  if (r == WSEVENT_OK) {
    lua_pushinteger(L, (lua_Integer)index + 1);
    return 1;
  }
  if (r == WSEVENT_TIMEOUT) {
    luaL_pushfail(L);
    lua_pushliteral(L, "timeout");
    return 2;
  }
  int k = fail(L, r);
  lua_pushinteger(L, (lua_Integer)index + 1); /* which event */
  return k + 1;
}

static int l_wait_all(lua_State *L) {
  lua_settop(L, 2); /* the handle array goes above the arguments */
  size_t n, index = 0;
  wsevent_t *h = check_list(L, 1, WSEVENT_MAX_WAIT, &n);
  double seconds = 0;
  int infinite = check_timeout(L, 2, &seconds);
  int r = wsevent_wait_multiple(h, n, WSEVENT_WAIT_ALL, 0, &index);
  if (r == WSEVENT_EINVAL)
    return luaL_argerror(L, 1, "the same event appears twice");
  if (r == WSEVENT_TIMEOUT && (infinite || seconds > 0))
    r = wait_handles(L, h, n, WSEVENT_WAIT_ALL, infinite, seconds, &index);
  if (r == WSEVENT_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (r == WSEVENT_TIMEOUT) {
    luaL_pushfail(L);
    lua_pushliteral(L, "timeout");
    return 2;
  }
  int k = fail(L, r);
  lua_pushinteger(L, (lua_Integer)index + 1);
  return k + 1;
}

static int opt_bool_field(lua_State *L, int arg, const char *name) {
  int t = lua_getfield(L, arg, name);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a boolean", name));
  int b = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

static int l_wait_for_multiple(lua_State *L) {
  lua_settop(L, 2); /* the handle array goes above the arguments */
  size_t n, index = 0;
  wsevent_t *h = check_list(L, 1, MAXIMUM_WAIT_EVENTS, &n);
  int h_index = lua_gettop(L);
  unsigned flags = 0;
  double seconds = 0;
  int infinite = 1;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    flags |= opt_bool_field(L, 2, "wait_all") ? WSEVENT_WAIT_ALL : 0;
    flags |= opt_bool_field(L, 2, "alertable") ? WSEVENT_ALERTABLE : 0;
    lua_getfield(L, 2, "timeout");
    infinite = check_timeout(L, lua_gettop(L), &seconds);
    lua_settop(L, h_index);
  }
  void *previous;
  wsevent_thread_set_data(L, &previous);
  int r = wsevent_wait_multiple(h, n, flags, 0, &index);
  wsevent_thread_set_data(previous, NULL);
  reraise_routine_error(L);
  if (r == WSEVENT_EINVAL)
    return luaL_argerror(L, 1, "the same event appears twice");
  if (r == WSEVENT_TIMEOUT && (infinite || seconds > 0))
    r = wait_handles(L, h, n, flags, infinite, seconds, &index);
  if (r == WSEVENT_OK)
    lua_pushinteger(L, WAIT_EVENT_0 + (lua_Integer)index);
  else if (r == WSEVENT_TIMEOUT)
    lua_pushinteger(L, WAIT_TIMEOUT);
  else if (r == WSEVENT_IO_COMPLETION)
    lua_pushinteger(L, WAIT_IO_COMPLETION);
  else
    return fail(L, r);
  return 1;
}

static int l_sleep(lua_State *L) {
  double seconds = 0;
  int infinite = check_timeout(L, 1, &seconds);
  int alertable = lua_toboolean(L, 2);
  if (infinite && !alertable)
    return luaL_argerror(L, 1, "nil would sleep forever unless alertable");
  double deadline = monotonic() + seconds;
  void *previous;
  int r;
  wsevent_thread_set_data(L, &previous);
  for (;;) {
    uint32_t ms = chunk_ms(infinite, deadline);
    r = wsevent_sleep(ms, WSEVENT_INTERRUPTIBLE | (alertable ? WSEVENT_ALERTABLE : 0));
    if (r == WSEVENT_INTERRUPTED) {
      wsevent_thread_set_data(previous, NULL);
      lua_pushcfunction(L, noop);
      lua_call(L, 0, 0);
      wsevent_thread_set_data(L, NULL);
      continue;
    }
    if (r == WSEVENT_OK && !infinite && monotonic() < deadline)
      continue;
    break;
  }
  wsevent_thread_set_data(previous, NULL);
  reraise_routine_error(L);
  if (r < 0)
    return fail(L, r);
  lua_pushboolean(L, r == WSEVENT_IO_COMPLETION);
  return 1;
}

static int l_thread_id(lua_State *L) {
  wsevent_thread_t id;
  int r = wsevent_thread_self(&id);
  if (r != WSEVENT_OK)
    return fail(L, r);
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

/* queue_completion(fn): run fn in this thread's next alertable wait. */
static int l_queue_completion(lua_State *L) {
  wsevent_thread_t id;
  int r = wsevent_thread_self(&id);
  if (r != WSEVENT_OK)
    return fail(L, r);
  struct routine *routine = new_routine(L, 1);
  r = wsevent_queue_completion(id, run_routine, routine);
  if (r != WSEVENT_OK) {
    luaL_unref(L, LUA_REGISTRYINDEX, routine->ref);
    free(routine);
    return fail(L, r);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* completion(fn): a context for C providers to queue with
 * wsevent._completion_routine; fn runs in the thread they queue it to. */
static int l_completion(lua_State *L) {
  lua_pushlightuserdata(L, new_routine(L, 1));
  return 1;
}

/* ---- network events and timers ---- */

static const char *const fd_names[WSEVENT_FD_MAX_EVENTS] = {
    "read", "write", "oob", "accept", "connect", "close",
    "qos", "group_qos", "routing_interface_change", "address_list_change"};

/* A descriptor from an integer or an object with :getfd() (luasocket). */
static int check_fd(lua_State *L, int arg) {
  arg = lua_absindex(L, arg);
  if (lua_isinteger(L, arg))
    return (int)lua_tointeger(L, arg);
  if (lua_type(L, arg) == LUA_TUSERDATA || lua_type(L, arg) == LUA_TTABLE) {
    lua_getfield(L, arg, "getfd"); /* through __index */
    if (lua_isfunction(L, -1)) {
      lua_pushvalue(L, arg);
      lua_call(L, 1, 1);
      int exact;
      /* luasocket's getfd pushes a float (3.0): take any exact integer. */
      lua_Integer fd = lua_tointegerx(L, -1, &exact);
      if (exact && fd >= 0 && fd <= INT32_MAX) {
        lua_pop(L, 1);
        return (int)fd;
      }
      if (exact && fd < 0)
        luaL_argerror(L, arg, "socket has no descriptor yet (luasocket's "
                              "tcp() makes it on bind or connect; use tcp4())");
    }
    lua_pop(L, 1);
  }
  luaL_typeerror(L, arg, "socket (with getfd) or integer descriptor");
  return -1;
}

static int l_event_select(lua_State *L) {
  int fd = check_fd(L, 1);
  lua_Integer mask = luaL_checkinteger(L, 3);
  luaL_argcheck(L, mask >= 0 && !(mask & ~WSEVENT_FD_ALL_EVENTS), 3,
                "unknown network event bits");
  wsevent_t h = 0;
  if (!(mask == 0 && lua_isnil(L, 2)))
    h = check_event(L, 2)->handle;
  int r = wsevent_event_select(fd, h, (long)mask);
  if (r != WSEVENT_OK)
    return fail(L, r);
  /* The descriptor is non-blocking now, as on Windows; tell a luasocket
   * object too (timeout 0), so that its methods agree instead of polling. */
  if (!lua_isinteger(L, 1)) {
    if (lua_getfield(L, 1, "settimeout") == LUA_TFUNCTION) {
      lua_pushvalue(L, 1);
      lua_pushinteger(L, 0);
      lua_call(L, 2, 0);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_enum_network_events(lua_State *L) {
  int fd = check_fd(L, 1);
  wsevent_t h = lua_isnoneornil(L, 2) ? 0 : check_event(L, 2)->handle;
  struct wsevent_network_events ne;
  int r = wsevent_enum_network_events(fd, h, &ne);
  if (r != WSEVENT_OK)
    return fail(L, r);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, ne.network_events);
  lua_setfield(L, -2, "events");
  lua_newtable(L); /* errors */
  for (int i = 0; i < WSEVENT_FD_MAX_EVENTS; i++) {
    if (!(ne.network_events & (1L << i)))
      continue;
    lua_pushboolean(L, 1);
    lua_setfield(L, -3, fd_names[i]);
    lua_pushinteger(L, ne.error_code[i]);
    lua_setfield(L, -2, fd_names[i]);
  }
  lua_setfield(L, -2, "errors");
  return 1;
}

/* ---- the socket calls that re-enable network events, as Winsock's do ---- */

static int fail_errno(lua_State *L, int err) {
  luaL_pushfail(L);
  lua_pushstring(L, strerror(err));
  lua_pushinteger(L, err);
  return 3;
}

/* recv(sock, n [, flags]): up to n bytes ("" at the end of the stream), or
 * fail, message, errno (EAGAIN: nothing yet). */
static int l_recv(lua_State *L) {
  int fd = check_fd(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  lua_Integer flags = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, n >= 0 && n <= INT32_MAX, 2, "out of range");
  luaL_argcheck(L, flags >= INT_MIN && flags <= INT_MAX, 3, "out of range");
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, (size_t)n);
  ssize_t got = n > 0 ? wsevent_recv(fd, p, (size_t)n, (int)flags) : 0;
  if (got < 0)
    return fail_errno(L, errno);
  luaL_pushresultsize(&b, (size_t)got);
  return 1;
}

/* send(sock, data [, i [, j]]): bytes sent of data:sub(i, j), or fail,
 * message, errno (EAGAIN: the buffer is full; FD_WRITE follows). */
static int l_send(lua_State *L) {
  int fd = check_fd(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  lua_Integer i = luaL_optinteger(L, 3, 1), j = luaL_optinteger(L, 4, -1);
  /* string.sub's rules for i and j */
  if (i < 0)
    i = (lua_Integer)len + i + 1 > 0 ? (lua_Integer)len + i + 1 : 1;
  else if (i == 0)
    i = 1;
  if (j < 0)
    j = (lua_Integer)len + j + 1;
  else if (j > (lua_Integer)len)
    j = (lua_Integer)len;
  if (i > j) {
    lua_pushinteger(L, 0);
    return 1;
  }
  ssize_t n = wsevent_send(fd, data + i - 1, (size_t)(j - i + 1), 0);
  if (n < 0)
    return fail_errno(L, errno);
  lua_pushinteger(L, n);
  return 1;
}

/* accept(server): the accepted socket, with the listener's event_select
 * (event and mask), as Winsock copies it: an integer descriptor for an
 * integer, a luasocket client (timeout 0) for a luasocket server.  Or
 * fail, message, errno. */
static int l_accept(lua_State *L) {
  int fd = check_fd(L, 1);
  wsevent_t ev;
  long mask;
  if (lua_isinteger(L, 1)) {
    int c = wsevent_accept(fd, NULL, NULL);
    if (c < 0)
      return fail_errno(L, errno);
    lua_pushinteger(L, c);
    return 1;
  }
  /* luasocket keeps its own objects: accept with its method, then pass
   * the selection on.  Its accept goes past wsevent, so FD_ACCEPT is
   * re-enabled at the next wait or enumeration. */
  lua_getfield(L, 1, "accept");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 2);
  if (lua_isnil(L, -2))
    return 2; /* nil, "timeout" or another luasocket error */
  lua_pop(L, 1);
  int c = check_fd(L, -1);
  if (wsevent_socket_selection(fd, &ev, &mask) == WSEVENT_OK && mask != 0) {
    int r = wsevent_event_select(c, ev, mask);
    if (r != WSEVENT_OK)
      return fail(L, r);
    lua_getfield(L, -1, "settimeout");
    lua_pushvalue(L, -2);
    lua_pushinteger(L, 0);
    lua_call(L, 2, 0);
  }
  return 1;
}

static uint32_t check_ms(lua_State *L, int arg) {
  double s = 0;
  luaL_argcheck(L, !lua_isnoneornil(L, arg), arg, "number expected");
  check_timeout(L, arg, &s);
  double ms = ceil(s * 1000.0);
  luaL_argcheck(L, ms <= (double)UINT32_MAX - 1, arg, "too large (at most 49 days)");
  return (uint32_t)ms;
}

static int l_timer_start(lua_State *L) {
  wsevent_t h = check_event(L, 1)->handle;
  uint32_t due = check_ms(L, 2);
  uint32_t period = lua_isnoneornil(L, 3) ? 0 : check_ms(L, 3);
  wsevent_timer_t t;
  int r = wsevent_timer_start(h, due, period, &t);
  if (r != WSEVENT_OK)
    return fail(L, r);
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

static int l_timer_cancel(lua_State *L) {
  int r = wsevent_timer_cancel((wsevent_timer_t)luaL_checkinteger(L, 1));
  if (r != WSEVENT_OK)
    return fail(L, r);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_strerror(lua_State *L) {
  lua_pushstring(L, wsevent_strerror((int)luaL_checkinteger(L, 1)));
  return 1;
}

/* ---- registration ---- */

static const luaL_Reg event_methods[] = {
    {"set", l_set},       {"reset", l_reset},   {"is_set", l_is_set},
    {"wait", l_wait},     {"close", l_close},   {"fd", l_fd},
    {"handle", l_handle}, {"closed", l_closed}, {"manual_reset", l_manual_reset},
    {NULL, NULL},
};

static const luaL_Reg event_meta[] = {
    {"__gc", l_close},
    {"__close", l_close},
    {"__tostring", l_tostring},
    {"__index", NULL}, /* placeholder, set below */
    {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"event", l_event},
    {"wait_any", l_wait_any},
    {"wait_all", l_wait_all},
    {"wait_for_multiple", l_wait_for_multiple},
    {"sleep", l_sleep},
    {"thread_id", l_thread_id},
    {"queue_completion", l_queue_completion},
    {"completion", l_completion},
    {"_from_handle", l_from_handle},
    {"event_select", l_event_select},
    {"enum_network_events", l_enum_network_events},
    {"recv", l_recv},
    {"send", l_send},
    {"accept", l_accept},
    {"timer_start", l_timer_start},
    {"timer_cancel", l_timer_cancel},
    {"strerror", l_strerror},
    {NULL, NULL},
};

static void create_meta(lua_State *L) {
  luaL_newmetatable(L, EVENT_MT); /* also sets __name */
  luaL_setfuncs(L, event_meta, 0);
  luaL_newlibtable(L, event_methods);
  luaL_setfuncs(L, event_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

__attribute__((visibility("default"))) int luaopen_wsevent(lua_State *L) {
  luaL_newlib(L, functions);
  create_meta(L);
  lua_pushlightuserdata(L, (void *)wsevent_upcalls());
  lua_setfield(L, -2, WSEVENT_LUA_UPCALLS_FIELD);
  lua_pushlightuserdata(L, (void *)(uintptr_t)run_routine);
  lua_setfield(L, -2, "_completion_routine");
  static const struct { const char *name; int value; } constants[] = {
      {"WAIT_EVENT_0", WAIT_EVENT_0},
      {"WAIT_TIMEOUT", WAIT_TIMEOUT},
      {"WAIT_IO_COMPLETION", WAIT_IO_COMPLETION},
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
