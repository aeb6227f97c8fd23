/*
 * overlapped.c: overlapped socket I/O (WSARecv, WSASend, ... with an
 * overlapped record) as Operation userdata; the same concept as the Python
 * glue's overlapped.c.
 *
 * The userdata holds the core's record and the memory the core fills or
 * reads: a receive's buffer (malloc'd, copied into a string at the
 * result), a send's strings (kept as user values, so they stay put).
 * Collected while pending, an operation is cancelled first (the core then
 * never touches it again).  With a routine, the function and the
 * operation are both kept by completion.c until the routine ran (as
 * fn(op)) or was released: the operation cannot be collected while the
 * core may still call it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "glue.h"

#define OP_MT "wsevent.Operation"

enum kind { K_RECV, K_RECVFROM, K_SEND, K_ACCEPT, K_CONNECT };
static const char *const kind_names[] = {"recv", "recvfrom", "send", "accept",
                                         "connect"};

/* User values: 1 the event (or nil), 2 the routine (or nil), 3 the data
 * of a send (a string or a table of strings) or of a completed receive, 4
 * the socket argument. */
enum { UV_EVENT = 1, UV_ROUTINE, UV_DATA, UV_SOCKET, N_UV = UV_SOCKET };

typedef struct {
  wsevent_overlapped_t ov;
  int fd;
  int kind;
  int started;
  int own_event;
  int handed_out;    /* an accept's descriptor, given to the program once */
  void *routine_ctx; /* completion.c's, while the routine may run */
  char *buf;         /* a receive's buffer */
  size_t size;
  struct sockaddr_storage addr;
  socklen_t addrlen;
} Operation;

static int is_pending(Operation *op) {
  return op->started &&
         __atomic_load_n(&op->ov.status, __ATOMIC_ACQUIRE) == WSEVENT_IO_PENDING;
}

/* The core's routine: completion.c runs the closure in the Lua state that
 * waits in this thread. */
static void op_routine(int status, size_t bytes, wsevent_overlapped_t *ov,
                       int flags) {
  (void)status, (void)bytes, (void)flags;
  Operation *op = (Operation *)((char *)ov - offsetof(Operation, ov));
  void *ctx = op->routine_ctx;
  op->routine_ctx = NULL;
  wse_lua_run_routine(ctx);
}

static void op_release(wsevent_overlapped_t *ov) {
  Operation *op = (Operation *)((char *)ov - offsetof(Operation, ov));
  void *ctx = op->routine_ctx;
  op->routine_ctx = NULL;
  wse_lua_release_routine(ctx); /* lock-only: safe under the core's lock */
}

/* ---- descriptors the library made ----
 *
 * An operation that must wait checks with fstat(2) that its descriptor is
 * still the socket of the core's record (a program may close a descriptor
 * behind the library's back and get the number back for another file): a
 * system call per operation in a loop that receives again from its
 * routine.  A descriptor that the library's accept made and handed out as
 * an integer is the program's to close with wsevent.close_socket, as a
 * Winsock SOCKET is closed with closesocket; until then its operations
 * start vouched for, and skip the check.  A table in the registry, by
 * descriptor. */
static const char owned_key = 0;

static void push_owned(lua_State *L) {
  wse_lua_push_registry_table(L, &owned_key, NULL);
}

static void set_owned(lua_State *L, int fd, int owned) {
  push_owned(L);
  if (owned)
    lua_pushboolean(L, 1);
  else
    lua_pushnil(L);
  lua_rawseti(L, -2, fd);
  lua_pop(L, 1);
}

void wse_lua_own_fd(lua_State *L, int fd) { set_owned(L, fd, 1); }

/* WSEVENT_OV_SAME_SOCKET for an integer descriptor the library handed
 * out. */
static unsigned vouched(lua_State *L, int arg, int fd) {
  if (lua_type(L, arg) != LUA_TNUMBER)
    return 0;
  push_owned(L);
  unsigned options = lua_rawgeti(L, -1, fd) != LUA_TNIL ? WSEVENT_OV_SAME_SOCKET : 0;
  lua_pop(L, 2);
  return options;
}

/* ---- receive buffers ----
 *
 * One buffer is kept for the next receive: glibc consolidates its heap at
 * each free of a chunk of 64 KiB or more, a cost per message in a loop
 * that receives into 64 KiB.  A buffer goes back once its bytes were
 * copied into the result string (or the operation was collected); while
 * it waits here it holds its size.  Shared by the process's Lua states. */
static _Atomic(char *) spare_buf;

static char *buf_take(size_t n) {
  char *b = atomic_exchange(&spare_buf, NULL);
  if (b != NULL) {
    size_t size;
    memcpy(&size, b, sizeof size);
    if (size == n)
      return b;
    free(b);
  }
  return malloc(n);
}

static void buf_give(char *b, size_t n) {
  if (b != NULL && n >= sizeof n) {
    memcpy(b, &n, sizeof n);
    b = atomic_exchange(&spare_buf, b);
  }
  free(b);
}

/* ---- arguments ---- */

static const char *const op_options[] = {"event", "routine", "flags", NULL};

/* A new Operation on the stack, from the options at arg: a table, or a
 * function (the routine, with no other option: a loop that starts an
 * operation per message makes no table for it). */
static Operation *new_op(lua_State *L, int kind, int fd, int arg) {
  int flags = 0;
  int has_opts = !lua_isnoneornil(L, arg) && !lua_isfunction(L, arg);
  if (has_opts) {
    luaL_argexpected(L, lua_istable(L, arg), arg, "table or function");
    wse_lua_check_keys(L, arg, op_options);
  }
  Operation *op = lua_newuserdatauv(L, sizeof *op, N_UV);
  memset(op, 0, sizeof *op);
  op->fd = fd;
  op->kind = kind;
  op->ov.socket = -1;
  wse_lua_set_metatable(L, &wse_lua_op_mt);
  int opi = lua_gettop(L);
  lua_pushvalue(L, 1); /* the socket (object or descriptor) */
  lua_setiuservalue(L, opi, UV_SOCKET);
  wsevent_t h = 0;
  int routine = lua_isfunction(L, arg);
  if (routine) {
    lua_pushvalue(L, arg);
    lua_setiuservalue(L, opi, UV_ROUTINE);
  } else if (has_opts) {
    if (lua_getfield(L, arg, "flags") != LUA_TNIL) {
      lua_Integer f = lua_tointeger(L, -1);
      luaL_argcheck(L, lua_isinteger(L, -1) && f >= INT_MIN && f <= INT_MAX, arg,
                    "flags must be an integer");
      flags = (int)f;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, arg, "routine") != LUA_TNIL) {
      luaL_argcheck(L, lua_isfunction(L, -1), arg, "routine must be a function");
      routine = 1;
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, opi, UV_ROUTINE);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, arg, "event") != LUA_TNIL) {
      Event *ev = wse_lua_test_udata(L, -1, &wse_lua_event_mt);
      luaL_argcheck(L, ev != NULL, arg, "event must be an event");
      luaL_argcheck(L, !ev->closed, arg, "event is closed");
      h = ev->handle;
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, opi, UV_EVENT);
    }
    lua_pop(L, 1);
  }
  if (h == 0 && !routine) {
    /* An event of its own, to wait on or poll. */
    int code;
    Event *ev = wse_lua_push_new_event(L, 0, &code);
    if (ev == NULL)
      luaL_error(L, "cannot create the operation's event: %s", wsevent_strerror(code));
    h = ev->handle;
    lua_setiuservalue(L, opi, UV_EVENT);
    op->own_event = 1;
  }
  op->ov.event = routine ? 0 : h;
  op->ov.options = vouched(L, 1, fd);
  op->ov.release = op_release;
  op->ov.flags = flags; /* carried to the start below */
  return op;
}

/* The routine for the start, if any: the function, to be called with the
 * operation (at opi), given to completion.c. */
static wsevent_overlapped_fn routine_of(lua_State *L, Operation *op, int opi) {
  if (lua_getiuservalue(L, opi, UV_ROUTINE) == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  op->routine_ctx = wse_lua_new_routine_with(L, -1, opi);
  lua_pop(L, 1);
  return op_routine;
}

/* After the core's answer: the operation, or fail, message, code. */
static int started(lua_State *L, Operation *op, int r) {
  if (r == WSEVENT_OK || r == WSEVENT_IO_PENDING) {
    op->started = 1;
    return 1;
  }
  if (op->routine_ctx != NULL) { /* never queued */
    wse_lua_release_routine(op->routine_ctx);
    op->routine_ctx = NULL;
  }
  if (r == WSEVENT_ESOCKET) {
    luaL_pushfail(L);
    lua_pushstring(L, strerror(op->ov.error));
    lua_pushinteger(L, op->ov.error);
    return 3;
  }
  return wse_lua_fail(L, r);
}

static int socket_family(int fd) {
  int family = AF_UNSPEC;
  socklen_t len = sizeof family;
  getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len);
  return family;
}

/* host, port at arg into *sa (a path for AF_UNIX); raises if malformed,
 * fail... (3 results) if the name does not resolve, else 0. */
static int check_address(lua_State *L, int fd, int arg,
                         struct sockaddr_storage *sa, socklen_t *len) {
  int family = socket_family(fd);
  size_t n;
  const char *host = luaL_checklstring(L, arg, &n);
  memset(sa, 0, sizeof *sa);
  if (family == AF_UNIX) {
    struct sockaddr_un *un = (struct sockaddr_un *)sa;
    luaL_argcheck(L, n < sizeof un->sun_path, arg, "path too long");
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, host, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                       (n > 0 && host[0] != '\0'));
    return 0;
  }
  luaL_argcheck(L, family == AF_INET || family == AF_INET6, 1,
                "not an IPv4, IPv6 or local socket");
  lua_Integer port = luaL_checkinteger(L, arg + 1);
  luaL_argcheck(L, port >= 0 && port <= 65535, arg + 1, "port out of range");
  struct addrinfo hints = {.ai_family = family}, *res = NULL;
  int e = getaddrinfo(n > 0 ? host : NULL, NULL, &hints, &res);
  if (e != 0) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", host, gai_strerror(e));
    lua_pushinteger(L, WSEVENT_EINVAL);
    return 3;
  }
  memcpy(sa, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  if (family == AF_INET)
    ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
  else
    ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
  return 0;
}

/* host, port (or a path) of an address: 2 results. */
static int push_address(lua_State *L, const struct sockaddr_storage *sa,
                        socklen_t len) {
  char host[INET6_ADDRSTRLEN];
  if (len == 0) {
    lua_pushnil(L);
    lua_pushnil(L);
  } else if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const void *)sa;
    lua_pushstring(L, inet_ntop(AF_INET, &a->sin_addr, host, sizeof host));
    lua_pushinteger(L, ntohs(a->sin_port));
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const void *)sa;
    lua_pushstring(L, inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host));
    lua_pushinteger(L, ntohs(a->sin6_port));
  } else {
    const struct sockaddr_un *a = (const void *)sa;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t n = len > off ? len - off : 0;
    if (n > 0 && a->sun_path[0] != '\0')
      n = strnlen(a->sun_path, n);
    lua_pushlstring(L, a->sun_path, n);
    lua_pushnil(L);
  }
  return 2;
}

/* ---- starting operations ---- */

static int start_recv(lua_State *L, int kind) {
  int fd = wse_lua_check_fd(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0 && n <= INT32_MAX, 2, "out of range");
  Operation *op = new_op(L, kind, fd, 3);
  int opi = lua_gettop(L);
  if (n > 0 && (op->buf = buf_take((size_t)n)) == NULL)
    return luaL_error(L, "not enough memory");
  op->size = (size_t)n;
  int flags = op->ov.flags;
  op->ov.flags = 0;
  wsevent_buf_t b = {op->size, op->buf};
  wsevent_overlapped_fn fn = routine_of(L, op, opi);
  int r;
  if (kind == K_RECVFROM) {
    op->addrlen = sizeof op->addr;
    r = wsevent_recvfrom_overlapped(fd, &b, n > 0, flags,
                                    (struct sockaddr *)&op->addr, &op->addrlen,
                                    &op->ov, fn);
  } else {
    r = wsevent_recv_overlapped(fd, &b, n > 0, flags, &op->ov, fn);
  }
  return started(L, op, r);
}

/* recv_overlapped(sock, n [, {event=, routine=, flags=} or routine]) */
static int l_recv_overlapped(lua_State *L) { return start_recv(L, K_RECV); }
/* recvfrom_overlapped(sock, n [, options]): result data, host, port */
static int l_recvfrom_overlapped(lua_State *L) { return start_recv(L, K_RECVFROM); }

/* send_overlapped(sock, data [, options]) and sendto_overlapped(sock,
 * data, host, port [, options]): data is a string or a list of strings
 * (gathered, as a WSABUF array). */
static int start_send(lua_State *L, int to) {
  int fd = wse_lua_check_fd(L, 1);
  wsevent_buf_t stack[16], *bufs = stack;
  size_t count = 1;
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_Integer n = luaL_len(L, 2);
    luaL_argcheck(L, n >= 0 && n <= WSEVENT_MAX_BUFS, 2, "too many strings");
    count = (size_t)n;
  } else {
    luaL_checktype(L, 2, LUA_TSTRING); /* no numbers: bytes are strings */
  }
  struct sockaddr_storage sa;
  socklen_t salen = 0;
  int optarg = 3;
  if (to) {
    if (check_address(L, fd, 3, &sa, &salen) != 0)
      return 3;
    optarg = socket_family(fd) == AF_UNIX ? 4 : 5;
  }
  Operation *op = new_op(L, K_SEND, fd, optarg);
  int opi = lua_gettop(L);
  if (count > 16) {
    bufs = lua_newuserdatauv(L, count * sizeof *bufs, 0); /* collected */
  }
  if (lua_type(L, 2) == LUA_TTABLE) {
    /* A copy of the list, each item read once (through __index, if any)
     * and kept by the copy: the caller may change theirs meanwhile, and a
     * proxy's strings live only while something holds them. */
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
      if (lua_geti(L, 2, (lua_Integer)i + 1) != LUA_TSTRING)
        return luaL_argerror(L, 2, lua_pushfstring(L, "item %d is not a string",
                                                   (int)i + 1));
      lua_seti(L, -2, (lua_Integer)i + 1);
    }
  } else {
    lua_pushvalue(L, 2);
  }
  int data = lua_gettop(L);
  for (size_t i = 0; i < count; i++) {
    size_t len;
    if (lua_type(L, data) == LUA_TTABLE) {
      lua_rawgeti(L, data, (lua_Integer)i + 1);
      bufs[i].buf = (void *)lua_tolstring(L, -1, &len);
      lua_pop(L, 1); /* the copy keeps it */
    } else {
      bufs[i].buf = (void *)lua_tolstring(L, data, &len);
    }
    bufs[i].len = len;
  }
  lua_setiuservalue(L, opi, UV_DATA); /* the operation keeps the copy */
  int flags = op->ov.flags;
  op->ov.flags = 0;
  wsevent_overlapped_fn fn = routine_of(L, op, opi);
  int r = to ? wsevent_sendto_overlapped(fd, bufs, count, flags,
                                         (struct sockaddr *)&sa, salen, &op->ov, fn)
             : wsevent_send_overlapped(fd, bufs, count, flags, &op->ov, fn);
  lua_settop(L, opi);
  return started(L, op, r);
}

static int l_send_overlapped(lua_State *L) { return start_send(L, 0); }
static int l_sendto_overlapped(lua_State *L) { return start_send(L, 1); }

/* accept_overlapped(sock [, options]): result fd, host, port */
static int l_accept_overlapped(lua_State *L) {
  int fd = wse_lua_check_fd(L, 1);
  Operation *op = new_op(L, K_ACCEPT, fd, 2);
  int opi = lua_gettop(L);
  op->ov.flags = 0;
  op->addrlen = sizeof op->addr;
  wsevent_overlapped_fn fn = routine_of(L, op, opi);
  return started(L, op, wsevent_accept_overlapped(fd, (struct sockaddr *)&op->addr,
                                                  &op->addrlen, &op->ov, fn));
}

/* connect_overlapped(sock, host, port [, options]) (a path, no port, for a
 * local socket): result true */
static int l_connect_overlapped(lua_State *L) {
  int fd = wse_lua_check_fd(L, 1);
  struct sockaddr_storage sa;
  socklen_t len;
  if (check_address(L, fd, 2, &sa, &len) != 0)
    return 3;
  Operation *op = new_op(L, K_CONNECT, fd, socket_family(fd) == AF_UNIX ? 3 : 4);
  int opi = lua_gettop(L);
  op->ov.flags = 0;
  wsevent_overlapped_fn fn = routine_of(L, op, opi);
  return started(L, op, wsevent_connect_overlapped(fd, (struct sockaddr *)&sa, len,
                                                   &op->ov, fn));
}

/* ---- methods ---- */

static Operation *check_op(lua_State *L) { return wse_lua_check_udata(L, 1, &wse_lua_op_mt, OP_MT); }

/* The bytes a receive (the operation at index 1) took: a string, kept as
 * its data, so that the buffer can serve the next receive. */
static void push_received(lua_State *L, Operation *op) {
  if (op->buf != NULL) {
    lua_pushlstring(L, op->buf, op->ov.bytes);
    lua_setiuservalue(L, 1, UV_DATA);
    buf_give(op->buf, op->size);
    op->buf = NULL;
  }
  if (lua_getiuservalue(L, 1, UV_DATA) != LUA_TSTRING) { /* into no bytes */
    lua_pop(L, 1);
    lua_pushliteral(L, "");
  }
}

/* The outcome of a completed operation (at index 1): its values, or fail,
 * msg, code. */
static int outcome(lua_State *L, Operation *op, int r) {
  if (r == WSEVENT_ESOCKET) {
    luaL_pushfail(L);
    lua_pushstring(L, strerror(op->ov.error));
    lua_pushinteger(L, op->ov.error);
    return 3;
  }
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  switch (op->kind) {
  case K_RECV:
    push_received(L, op);
    return 1;
  case K_RECVFROM:
    push_received(L, op);
    return 1 + push_address(L, &op->addr, op->addrlen);
  case K_SEND:
    lua_pushinteger(L, (lua_Integer)op->ov.bytes);
    return 1;
  case K_ACCEPT:
    if (!op->handed_out) { /* once: it may be closed and its number reused */
      op->handed_out = 1;
      wse_lua_own_fd(L, op->ov.socket);
    }
    lua_pushinteger(L, op->ov.socket);
    return 1 + push_address(L, &op->addr, op->addrlen);
  default:
    lua_pushboolean(L, 1);
    return 1;
  }
}

/* op:result([wait]): the outcome; nil, "incomplete" while pending (unless
 * wait: then it blocks until complete). */
static int l_result(lua_State *L) {
  Operation *op = check_op(L);
  int wait = lua_toboolean(L, 2);
  luaL_argcheck(L, op->started, 1, "operation never started");
  int r = wsevent_overlapped_result(&op->ov, 0, NULL, NULL);
  if (r == WSEVENT_IO_INCOMPLETE && wait) {
    if (op->own_event) {
      /* Its own event: nobody else takes it, and Ctrl-C can interrupt. */
      lua_getiuservalue(L, 1, UV_EVENT);
      wsevent_t h = ((Event *)lua_touserdata(L, -1))->handle;
      lua_pop(L, 1);
      size_t index;
      int w = wse_lua_wait(L, &h, 1, 0, WSEVENT_NEVER, &index);
      if (w != WSEVENT_OK)
        return wse_lua_fail(L, w);
    }
    r = wsevent_overlapped_result(&op->ov, 1, NULL, NULL);
  }
  if (r == WSEVENT_IO_INCOMPLETE) {
    luaL_pushfail(L);
    lua_pushliteral(L, "incomplete");
    return 2;
  }
  return outcome(L, op, r);
}

static int l_done(lua_State *L) {
  lua_pushboolean(L, !is_pending(check_op(L)));
  return 1;
}

static int l_cancel(lua_State *L) {
  Operation *op = check_op(L);
  lua_pushboolean(L, is_pending(op) &&
                         wsevent_cancel_overlapped(op->fd, &op->ov) == WSEVENT_OK);
  return 1;
}

/* op:bytes(), op:flags(): what WSAGetOverlappedResult's lpcbTransfer and
 * lpdwFlags give, once done (nil while pending), also for an operation
 * that failed or was cancelled (a send cancelled half-way sent that much).
 * flags: a receive's MSG_* result bits (wsevent.MSG_TRUNC: the datagram
 * did not fit). */
static int push_once_done(lua_State *L, Operation *op, lua_Integer value) {
  if (!op->started || is_pending(op))
    luaL_pushfail(L);
  else
    lua_pushinteger(L, value);
  return 1;
}

static int l_bytes(lua_State *L) {
  Operation *op = check_op(L);
  return push_once_done(L, op, (lua_Integer)op->ov.bytes);
}

static int l_flags(lua_State *L) {
  Operation *op = check_op(L);
  return push_once_done(L, op, op->ov.flags);
}

static int l_event(lua_State *L) {
  check_op(L);
  lua_getiuservalue(L, 1, UV_EVENT);
  return 1;
}

static int l_socket(lua_State *L) {
  check_op(L);
  lua_getiuservalue(L, 1, UV_SOCKET);
  return 1;
}

static int l_kind(lua_State *L) {
  lua_pushstring(L, kind_names[check_op(L)->kind]);
  return 1;
}

/* cqueues' pollable protocol, through the event: cqueues.poll(op). */
static int l_pollfd(lua_State *L) {
  check_op(L);
  if (lua_getiuservalue(L, 1, UV_EVENT) == LUA_TNIL)
    return luaL_error(L, "an operation with a routine has no event to poll");
  int fd;
  int r = wsevent_fd(((Event *)lua_touserdata(L, -1))->handle, &fd);
  if (r != WSEVENT_OK)
    return luaL_error(L, "%s", wsevent_strerror(r));
  lua_pushinteger(L, fd);
  return 1;
}

static int l_events(lua_State *L) {
  lua_pushliteral(L, "r");
  return 1;
}

static int l_timeout(lua_State *L) {
  lua_pushnil(L);
  return 1;
}

static int l_gc(lua_State *L) {
  Operation *op = wse_lua_check_udata(L, 1, &wse_lua_op_mt, OP_MT);
  /* Only an operation without a routine can be collected while pending:
   * cancelled, the core never touches it again. */
  if (is_pending(op))
    wsevent_cancel_overlapped(op->fd, &op->ov);
  /* A connection accepted that nobody took (result() never called): it
   * is ours to close, or the client would talk to nobody for good. */
  if (op->kind == K_ACCEPT && op->started && !op->handed_out &&
      op->ov.status == WSEVENT_OK && op->ov.socket >= 0) {
    op->handed_out = 1;
    close(op->ov.socket);
  }
  buf_give(op->buf, op->size);
  op->buf = NULL;
  return 0;
}

static int l_tostring(lua_State *L) {
  Operation *op = check_op(L);
  lua_pushfstring(L, "wsevent operation (%s, fd %d, %s)", kind_names[op->kind],
                  op->fd, is_pending(op) ? "pending" : "done");
  return 1;
}

static const luaL_Reg op_methods[] = {
    {"result", l_result}, {"done", l_done},     {"cancel", l_cancel},
    {"bytes", l_bytes},   {"flags", l_flags},
    {"event", l_event},   {"kind", l_kind},     {"socket", l_socket},
    {"pollfd", l_pollfd},
    {"events", l_events}, {"timeout", l_timeout}, {NULL, NULL},
};

static const luaL_Reg op_meta[] = {
    {"__gc", l_gc}, {"__tostring", l_tostring}, {NULL, NULL},
};

void wse_lua_create_operation_meta(lua_State *L) {
  wse_lua_new_metatable(L, OP_MT, &wse_lua_op_mt);
  luaL_setfuncs(L, op_meta, 0);
  lua_newtable(L);
  luaL_setfuncs(L, op_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

/* close_socket(sock): closesocket: cancel the socket's selection, complete
 * its pending operations aborted, then close it (sock:close() for a
 * luasocket object).  true. */
static int l_close_socket(lua_State *L) {
  int fd = wse_lua_check_fd(L, 1);
  wsevent_socket_closing(fd);
  set_owned(L, fd, 0);
  if (lua_type(L, 1) == LUA_TNUMBER) {
    if (close(fd) < 0) {
      luaL_pushfail(L);
      lua_pushstring(L, strerror(errno));
      lua_pushinteger(L, errno);
      return 3;
    }
  } else {
    lua_getfield(L, 1, "close");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
  }
  lua_pushboolean(L, 1);
  return 1;
}

const luaL_Reg wse_lua_overlapped_functions[] = {
    {"recv_overlapped", l_recv_overlapped},
    {"recvfrom_overlapped", l_recvfrom_overlapped},
    {"send_overlapped", l_send_overlapped},
    {"sendto_overlapped", l_sendto_overlapped},
    {"accept_overlapped", l_accept_overlapped},
    {"connect_overlapped", l_connect_overlapped},
    {"close_socket", l_close_socket},
    {NULL, NULL},
};
