/*
 * network.c: event-select (event_select, enum_network_events), the socket
 * calls that re-enable network events as Winsock's do (recv, send,
 * accept), and waitable timers.  Sockets are luasocket objects (anything
 * with :getfd()) or integer descriptors.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "glue.h"

static const char *const fd_names[WSEVENT_FD_MAX_EVENTS] = {
    "read", "write", "oob", "accept", "connect", "close",
    "qos", "group_qos", "routing_interface_change", "address_list_change"};

/* A descriptor from an integer or an object with :getfd() (luasocket).
 *
 * Calling getfd through the object's metatable is most of what a recv,
 * send or enumeration costs in Lua (a method lookup, a call, and
 * luasocket's class check, which makes a string): three per message in an
 * echo loop.  luasocket keeps the descriptor in the first member of its
 * objects (t_socket sock: an int on Unix, -1 once closed), which is what
 * getfd returns.  So for an object of one of its classes (by the metatable's
 * __name), the glue reads it there, once the class has shown, by a getfd
 * call that returned the same descriptor, that its objects are laid out so
 * (a luasocket built otherwise keeps the getfd calls).  The verdict is kept
 * per metatable in a weak-keyed registry table. */
static const char peek_key = 0;

static const char *const luasocket_classes[] = {
    "tcp{client}", "tcp{server}", "tcp{master}", "udp{connected}",
    "udp{unconnected}", NULL};

/* The descriptor of the luasocket object at arg read in place; -2 if its
 * class is not known to keep it there (pushes nothing). */
static int peek_fd(lua_State *L, int arg) {
  if (lua_rawlen(L, arg) < sizeof(int) || !lua_getmetatable(L, arg))
    return -2;
  wse_lua_push_registry_table(L, &peek_key, "k");
  lua_pushvalue(L, -2);
  lua_rawget(L, -2);
  bool peekable = lua_toboolean(L, -1); /* nil: not judged yet */
  lua_pop(L, 3);
  return peekable ? *(const int *)lua_touserdata(L, arg) : -2;
}

/* After getfd returned fd (>= 0) for the userdata at arg: judge its class
 * if it is luasocket's and not judged yet. */
static void judge_class(lua_State *L, int arg, int fd) {
  if (lua_rawlen(L, arg) < sizeof(int) || !lua_getmetatable(L, arg))
    return;
  bool known = false;
  if (lua_getfield(L, -1, "__name") == LUA_TSTRING)
    for (int i = 0; luasocket_classes[i] != NULL && !known; i++)
      known = strcmp(lua_tostring(L, -1), luasocket_classes[i]) == 0;
  lua_pop(L, 1);
  if (!known) {
    lua_pop(L, 1);
    return;
  }
  wse_lua_push_registry_table(L, &peek_key, "k");
  lua_pushvalue(L, -2);
  if (lua_rawget(L, -2) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, *(const int *)lua_touserdata(L, arg) == fd);
    lua_rawset(L, -3);
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

int wse_lua_check_fd(lua_State *L, int arg) {
  arg = lua_absindex(L, arg);
  if (lua_type(L, arg) == LUA_TNUMBER) {
    /* A float with an integer value counts, as for luaL_checkinteger:
     * luasocket's sock:getfd() returns one (3.0). */
    int exact;
    lua_Integer fd = lua_tointegerx(L, arg, &exact);
    luaL_argcheck(L, exact, arg, "number has no integer representation");
    luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, arg, "not a descriptor (out of range)");
    return (int)fd;
  }
  if (lua_type(L, arg) == LUA_TUSERDATA) {
    int fd = peek_fd(L, arg);
    if (fd >= 0)
      return fd; /* (-1, closed: getfd says so below, with the message) */
  }
  if (lua_type(L, arg) == LUA_TUSERDATA || lua_type(L, arg) == LUA_TTABLE) {
    lua_getfield(L, arg, "getfd"); /* through __index */
    if (lua_isfunction(L, -1)) {
      lua_pushvalue(L, arg);
      lua_call(L, 1, 1);
      int exact;
      /* luasocket's getfd pushes a float (3.0): take any exact integer. */
      lua_Integer fd = lua_tointegerx(L, -1, &exact);
      if (exact && fd >= 0 && fd <= INT_MAX) {
        lua_pop(L, 1);
        if (lua_type(L, arg) == LUA_TUSERDATA)
          judge_class(L, arg, (int)fd);
        return (int)fd;
      }
      if (exact && fd < 0) {
        /* luasocket says -1 both for a closed socket and for a tcp() not
         * yet bound or connected (its "master" class). */
        const char *name = luaL_tolstring(L, arg, NULL);
        luaL_argerror(L, arg,
                      strncmp(name, "tcp{master}", 11) == 0 ||
                              strncmp(name, "udp{unconnected}", 16) == 0
                          ? "socket has no descriptor yet, or is closed "
                            "(luasocket's tcp() makes one on bind or connect; "
                            "tcp4() at once)"
                          : "socket is closed");
      }
    }
    lua_pop(L, 1);
  }
  luaL_typeerror(L, arg, "socket (with getfd) or integer descriptor");
  return -1;
}

/* ---- which socket object was selected on which descriptor ----
 *
 * An enumeration checks with fstat(2) that its descriptor is still the
 * socket that was selected (a program may close a luasocket object
 * without telling the library, and the number go to another socket): most
 * of an enumeration's cost.  A luasocket object, once closed, holds no
 * descriptor again; so if the object enumerated is the very one that was
 * selected on fd and still holds fd, fd was not closed since, and the
 * check is skipped.  A weak-valued table in the registry, by descriptor;
 * only userdata (a table's getfd may move to another socket). */
static const char selected_key = 0;

void wse_lua_push_registry_table(lua_State *L, const void *key,
                                 const char *mode) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  if (mode != NULL) {
    lua_newtable(L); /* its metatable */
    lua_pushstring(L, mode);
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

static void push_selected(lua_State *L) {
  wse_lua_push_registry_table(L, &selected_key, "v");
}

/* Remember the value at arg as the object selected on fd. */
static void remember_selected(lua_State *L, int arg, int fd) {
  arg = lua_absindex(L, arg);
  push_selected(L);
  if (lua_type(L, arg) == LUA_TUSERDATA)
    lua_pushvalue(L, arg);
  else
    lua_pushnil(L);
  lua_rawseti(L, -2, fd);
  lua_pop(L, 1);
}

/* WSEVENT_ENUM_SAME_SOCKET if the value at arg is the object selected on
 * fd. */
static unsigned same_socket(lua_State *L, int arg, int fd) {
  if (lua_type(L, arg) != LUA_TUSERDATA)
    return 0;
  push_selected(L);
  lua_rawgeti(L, -1, fd);
  unsigned flags = lua_rawequal(L, -1, arg) ? WSEVENT_ENUM_SAME_SOCKET : 0;
  lua_pop(L, 2);
  return flags;
}

static int l_event_select(lua_State *L) {
  int fd = wse_lua_check_fd(L, 1);
  lua_Integer mask = luaL_checkinteger(L, 3);
  luaL_argcheck(L, mask >= 0 && !(mask & ~WSEVENT_FD_ALL_EVENTS), 3,
                "unknown network event bits");
  wsevent_t h = 0;
  if (!(mask == 0 && lua_isnil(L, 2)))
    h = wse_lua_check_event(L, 2)->handle;
  int r = wsevent_event_select(fd, h, (long)mask);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  remember_selected(L, 1, fd);
  /* The descriptor is non-blocking now, as on Windows; tell a luasocket
   * object too (timeout 0), so that its methods agree instead of polling. */
  if (lua_type(L, 1) != LUA_TNUMBER) {
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

/*
 * enum_network_events' result: a table with `events`, a true field per
 * event that occurred, and `errors` (by name, each event's errno).  Two
 * tables per call, each field set by a name made from a C string, were
 * most of an echo loop's cost per message in Lua: the names are made once
 * (upvalues), and each table is made at the size it will have.
 */
enum { UP_EVENTS = 1, UP_ERRORS, UP_NAMES };

static int l_enum_network_events(lua_State *L) {
  int fd = wse_lua_check_fd(L, 1);
  wsevent_t h = lua_isnoneornil(L, 2) ? 0 : wse_lua_check_event(L, 2)->handle;
  struct wsevent_network_events ne;
  int r = wsevent_enum_network_events_ex(fd, h, &ne, same_socket(L, 1, fd));
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  int n = __builtin_popcountl((unsigned long)ne.network_events);
  lua_createtable(L, 0, 2 + n);
  lua_pushvalue(L, lua_upvalueindex(UP_EVENTS));
  lua_pushinteger(L, ne.network_events);
  lua_rawset(L, -3);
  lua_pushvalue(L, lua_upvalueindex(UP_ERRORS));
  lua_createtable(L, 0, n);
  for (int i = 0; i < WSEVENT_FD_MAX_EVENTS; i++)
    if (ne.network_events & (1L << i)) {
      lua_pushvalue(L, lua_upvalueindex(UP_NAMES + i));
      lua_pushboolean(L, 1);
      lua_rawset(L, -5);
      lua_pushvalue(L, lua_upvalueindex(UP_NAMES + i));
      lua_pushinteger(L, ne.error_code[i]);
      lua_rawset(L, -3);
    }
  lua_rawset(L, -3);
  return 1;
}

void wse_lua_open_network(lua_State *L) {
  lua_pushliteral(L, "events");
  lua_pushliteral(L, "errors");
  for (int i = 0; i < WSEVENT_FD_MAX_EVENTS; i++)
    lua_pushstring(L, fd_names[i]);
  lua_pushcclosure(L, l_enum_network_events, UP_NAMES - 1 + WSEVENT_FD_MAX_EVENTS);
  lua_setfield(L, -2, "enum_network_events");
}

/* ---- the socket calls that re-enable network events, as Winsock's do ---- */

static int fail_errno(lua_State *L, int err) {
  luaL_pushfail(L);
  lua_pushstring(L, strerror(err));
  lua_pushinteger(L, err);
  return 3;
}

/* recv's buffer, kept in the registry at the largest size asked (up to
 * RECV_BUF_MAX) for the next call.  A luaL_Buffer of 64 KiB is a malloc,
 * and at its collection a free after which glibc consolidates its heap:
 * per message in a loop that receives up to 64 KiB (luasocket's
 * receive(65536) reads into a buffer its object keeps).  Only this call
 * uses it, and no Lua code runs while it is filled. */
static const char recv_buf_key = 0;
#define RECV_BUF_MAX ((size_t)1 << 20)

static char *recv_buf(lua_State *L, size_t n) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &recv_buf_key) != LUA_TUSERDATA ||
      lua_rawlen(L, -1) < n) {
    lua_pop(L, 1);
    lua_newuserdatauv(L, n, 0);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &recv_buf_key);
  }
  char *p = lua_touserdata(L, -1);
  lua_pop(L, 1); /* the registry keeps it */
  return p;
}

/* recv(sock, n [, flags]): up to n bytes ("" at the end of the stream), or
 * fail, message, errno (EAGAIN: nothing yet). */
static int l_recv(lua_State *L) {
  int fd = wse_lua_check_fd(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  lua_Integer flags = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, n >= 0 && n <= INT32_MAX, 2, "out of range");
  luaL_argcheck(L, flags >= INT_MIN && flags <= INT_MAX, 3, "out of range");
  luaL_Buffer b;
  int big = (size_t)n > RECV_BUF_MAX;
  char *p = big ? luaL_buffinitsize(L, &b, (size_t)n) : recv_buf(L, (size_t)n);
  ssize_t got = n > 0 ? wsevent_recv(fd, p, (size_t)n, (int)flags) : 0;
  if (got < 0)
    return fail_errno(L, errno);
  if (big)
    luaL_pushresultsize(&b, (size_t)got);
  else
    lua_pushlstring(L, p, (size_t)got);
  return 1;
}

/* send(sock, data [, i [, j]]): bytes sent of data:sub(i, j), or fail,
 * message, errno (EAGAIN: the buffer is full; FD_WRITE follows). */
static int l_send(lua_State *L) {
  int fd = wse_lua_check_fd(L, 1);
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
  int fd = wse_lua_check_fd(L, 1);
  wsevent_t ev;
  long mask;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    int c = wsevent_accept(fd, NULL, NULL);
    if (c < 0)
      return fail_errno(L, errno);
    wse_lua_own_fd(L, c);
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
  int c = wse_lua_check_fd(L, -1);
  if (wsevent_socket_selection(fd, &ev, &mask) == WSEVENT_OK && mask != 0) {
    int r = wsevent_event_select(c, ev, mask);
    if (r != WSEVENT_OK)
      return wse_lua_fail(L, r);
    remember_selected(L, -1, c);
    lua_getfield(L, -1, "settimeout");
    lua_pushvalue(L, -2);
    lua_pushinteger(L, 0);
    lua_call(L, 2, 0);
  }
  return 1;
}

/* Seconds to whole milliseconds for a timer (no nil: timers end). */
static uint32_t check_ms(lua_State *L, int arg) {
  double s = luaL_checknumber(L, arg);
  luaL_argcheck(L, !isnan(s) && s >= 0, arg, "must be a non-negative number of seconds");
  double ms = ceil(s * 1000.0);
  luaL_argcheck(L, ms <= (double)UINT32_MAX - 1, arg, "too large (at most 49 days)");
  return (uint32_t)ms;
}

static int l_timer_start(lua_State *L) {
  wsevent_t h = wse_lua_check_event(L, 1)->handle;
  uint32_t due = check_ms(L, 2);
  uint32_t period = lua_isnoneornil(L, 3) ? 0 : check_ms(L, 3);
  wsevent_timer_t t;
  int r = wsevent_timer_start(h, due, period, &t);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

static int l_timer_cancel(lua_State *L) {
  int r = wsevent_timer_cancel((wsevent_timer_t)luaL_checkinteger(L, 1));
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  lua_pushboolean(L, 1);
  return 1;
}


const luaL_Reg wse_lua_network_functions[] = {
    {"event_select", l_event_select},
    {"enum_network_events", NULL}, /* a closure: wse_lua_open_network */
    {"recv", l_recv},
    {"send", l_send},
    {"accept", l_accept},
    {"timer_start", l_timer_start},
    {"timer_cancel", l_timer_cancel},
    {NULL, NULL},
};
