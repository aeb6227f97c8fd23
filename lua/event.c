/*
 * event.c: the Event type (wsevent.event{...}) and its methods.
 *
 * An Event owns its handle, or borrows one (_from_handle(h)): a borrowed
 * Event never closes the core's event, so a provider's event has one owner.
 */
#include <string.h>

#include "glue.h"

static const char *const event_options[] = {"manual_reset", "initial_state",
                                             "name", NULL};

static int opt_bool(lua_State *L, int arg, const char *name, int dflt) {
  int t = lua_getfield(L, arg, name);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a boolean", name));
  int b = t == LUA_TNIL ? dflt : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

/* A new Event userdata, marked closed until it holds a handle. */
static Event *new_event(lua_State *L) {
  Event *ev = lua_newuserdatauv(L, sizeof *ev, 0);
  ev->closed = 1;
  ev->owned = 1;
  ev->manual_reset = 1;
  wse_lua_set_metatable(L, &wse_lua_event_mt);
  return ev;
}

Event *wse_lua_push_new_event(lua_State *L, unsigned flags, int *code) {
  Event *ev = new_event(L);
  ev->manual_reset = !(flags & WSEVENT_AUTO_RESET);
  *code = wsevent_create(&ev->handle, flags);
  if (*code != WSEVENT_OK) {
    lua_pop(L, 1);
    return NULL;
  }
  ev->closed = 0;
  return ev;
}

/* The name at arg, checked: 1 to WSEVENT_NAME_MAX bytes, no '/' or NUL. */
static const char *check_name(lua_State *L, int arg, int idx) {
  size_t len;
  if (lua_type(L, idx) != LUA_TSTRING) /* not a number either */
    luaL_argerror(L, arg, lua_pushfstring(L, "name must be a string, not %s",
                                          luaL_typename(L, idx)));
  const char *name = lua_tolstring(L, idx, &len);
  if (len == 0 || len > WSEVENT_NAME_MAX || memchr(name, '/', len) != NULL ||
      strlen(name) != len)
    luaL_argerror(L, arg, lua_pushfstring(L,
                  "invalid event name (1 to %d bytes, no '/' and no NUL)",
                  WSEVENT_NAME_MAX));
  return name;
}

/* Push an Event for the named event: ev, existed; or nil, msg, code. */
static int push_named(lua_State *L, const char *name, unsigned flags) {
  Event *ev = new_event(L);
  int existed = 0;
  int r = wsevent_create_named(&ev->handle, name, flags, &existed);
  if (r != WSEVENT_OK) {
    lua_pop(L, 1);
    if (r == WSEVENT_ENOTFOUND) {
      luaL_pushfail(L);
      lua_pushfstring(L, "no event is named '%s'", name);
      lua_pushinteger(L, r);
      return 3;
    }
    return wse_lua_fail(L, r);
  }
  unsigned actual = 0;
  wsevent_get_flags(ev->handle, &actual);
  ev->manual_reset = !(actual & WSEVENT_AUTO_RESET);
  ev->closed = 0;
  lua_pushboolean(L, existed);
  return 2;
}

/* event{manual_reset = true, initial_state = false, name = nil}: with a
 * name, also whether it existed already (its own mode and state kept). */
static int l_event(lua_State *L) {
  int manual = 1, initial = 0;
  const char *name = NULL;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    wse_lua_check_keys(L, 1, event_options);
    manual = opt_bool(L, 1, "manual_reset", 1);
    initial = opt_bool(L, 1, "initial_state", 0);
    if (lua_getfield(L, 1, "name") != LUA_TNIL)
      name = check_name(L, 1, -1); /* stays on the stack, anchored */
  }
  unsigned flags = (manual ? 0 : WSEVENT_AUTO_RESET) |
                   (initial ? WSEVENT_INITIAL_SET : 0);
  if (name != NULL)
    return push_named(L, name, flags);
  int r;
  if (wse_lua_push_new_event(L, flags, &r) == NULL)
    return wse_lua_fail(L, r);
  return 1;
}

/* open_event(name): the existing event called name, as OpenEvent. */
static int l_open_event(lua_State *L) {
  const char *name = check_name(L, 1, 1);
  int n = push_named(L, name, WSEVENT_OPEN_EXISTING);
  if (n == 2)
    lua_pop(L, 1); /* it existed: say only the event */
  return n == 2 ? 1 : n;
}

/* ev:name(): the name of a named event, or nil. */
static int l_name(lua_State *L) {
  Event *ev = wse_lua_check_event(L, 1);
  char buf[WSEVENT_NAME_MAX + 1];
  size_t len = 0;
  int r = wsevent_get_name(ev->handle, buf, sizeof buf, &len);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  if (len == 0)
    lua_pushnil(L);
  else
    lua_pushlstring(L, buf, len);
  return 1;
}

int wse_lua_push_from_handle(lua_State *L, wsevent_t h, int owned) {
  unsigned flags;
  int r = wsevent_get_flags(h, &flags);
  if (r != WSEVENT_OK)
    return r;
  Event *ev = new_event(L);
  ev->handle = h;
  ev->owned = owned;
  ev->manual_reset = !(flags & WSEVENT_AUTO_RESET);
  ev->closed = 0;
  return WSEVENT_OK;
}

/* _from_handle(h [, owned]): an Event for a handle a provider made.  It
 * borrows the handle unless owned is true (then closing or collecting it
 * closes the event: the provider gave its event away). */
static int l_from_handle(lua_State *L) {
  lua_Integer h = luaL_checkinteger(L, 1); /* 64 bits, as ev:handle() */
  luaL_argcheck(L, h != 0, 1, "0 is not a handle");
  int r = wse_lua_push_from_handle(L, (wsevent_t)h, lua_toboolean(L, 2));
  return r == WSEVENT_OK ? 1 : wse_lua_fail(L, r);
}

static int l_set(lua_State *L) {
  int r = wsevent_set(wse_lua_check_event(L, 1)->handle);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_reset(lua_State *L) {
  int r = wsevent_reset(wse_lua_check_event(L, 1)->handle);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_is_set(lua_State *L) {
  int r = wsevent_is_set(wse_lua_check_event(L, 1)->handle);
  if (r < 0)
    return wse_lua_fail(L, r);
  lua_pushboolean(L, r);
  return 1;
}

/* ev:wait([timeout]): true, or fail, "timeout", or fail, message, code. */
static int l_wait(lua_State *L) {
  Event *ev = wse_lua_check_event(L, 1);
  wsevent_time_t deadline;
  wse_lua_check_deadline(L, 2, &deadline);
  size_t index;
  /* First without the interrupt machinery: the already-set case. */
  int r = wsevent_wait_multiple_until(&ev->handle, 1, 0, 0, &index);
  if (r == WSEVENT_TIMEOUT && deadline > wsevent_now())
    r = wse_lua_wait(L, &ev->handle, 1, 0, deadline, &index);
  if (r == WSEVENT_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return r == WSEVENT_TIMEOUT ? wse_lua_timeout(L) : wse_lua_fail(L, r);
}

/* ev:close(): true.  Closing twice is allowed; a borrowed event is only
 * forgotten. */
static int l_close(lua_State *L) {
  Event *ev = wse_lua_check_udata(L, 1, &wse_lua_event_mt, EVENT_MT);
  if (!ev->closed) {
    ev->closed = 1;
    if (ev->owned)
      wsevent_close(ev->handle); /* may be invalid already: a provider closed it */
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_gc(lua_State *L) {
  l_close(L);
  return 0;
}

static int l_fd(lua_State *L) {
  int fd, r = wsevent_fd(wse_lua_check_event(L, 1)->handle, &fd);
  if (r != WSEVENT_OK)
    return wse_lua_fail(L, r);
  lua_pushinteger(L, fd);
  return 1;
}

static int l_handle(lua_State *L) {
  /* A 64-bit handle fits a Lua integer bit for bit. */
  lua_pushinteger(L, (lua_Integer)wse_lua_check_event(L, 1)->handle);
  return 1;
}

static int l_manual_reset(lua_State *L) {
  lua_pushboolean(L, wse_lua_check_event(L, 1)->manual_reset);
  return 1;
}

static int l_closed(lua_State *L) {
  lua_pushboolean(L, ((Event *)wse_lua_check_udata(L, 1, &wse_lua_event_mt, EVENT_MT))->closed);
  return 1;
}

static int l_owned(lua_State *L) {
  lua_pushboolean(L, wse_lua_check_event(L, 1)->owned);
  return 1;
}

/* cqueues' pollable protocol: cqueues.poll(ev) and cq:wrap code wait for
 * the event's descriptor to be readable, which it is while the event is
 * set (for an auto-reset event: claim it with ev:wait(0) afterwards). */
static int l_pollfd(lua_State *L) { return l_fd(L); }

static int l_events(lua_State *L) {
  wse_lua_check_event(L, 1);
  lua_pushliteral(L, "r");
  return 1;
}

static int l_timeout(lua_State *L) {
  wse_lua_check_event(L, 1);
  lua_pushnil(L); /* no timeout of its own */
  return 1;
}

static int l_tostring(lua_State *L) {
  Event *ev = wse_lua_check_udata(L, 1, &wse_lua_event_mt, EVENT_MT);
  const char *status = "closed";
  if (!ev->closed) {
    int r = wsevent_is_set(ev->handle);
    status = r == 1 ? "set" : r == 0 ? "unset" : "invalid";
  }
  lua_pushfstring(L, "wsevent.Event (%p): %s%s", (void *)ev, status,
                  !ev->closed && !ev->owned ? ", borrowed" : "");
  return 1;
}

const luaL_Reg wse_lua_event_methods[] = {
    {"set", l_set},
    {"reset", l_reset},
    {"is_set", l_is_set},
    {"wait", l_wait},
    {"close", l_close},
    {"fd", l_fd},
    {"handle", l_handle},
    {"closed", l_closed},
    {"owned", l_owned},
    {"manual_reset", l_manual_reset},
    {"name", l_name},
    {"pollfd", l_pollfd},
    {"events", l_events},
    {"timeout", l_timeout},
    {NULL, NULL},
};

const luaL_Reg wse_lua_event_meta[] = {
    {"__gc", l_gc},
    {"__close", l_gc},
    {"__tostring", l_tostring},
    {NULL, NULL},
};

/* The module's Event functions go with the waits' (wait.c registers). */
const luaL_Reg wse_lua_event_functions[] = {
    {"event", l_event},
    {"open_event", l_open_event},
    {"_from_handle", l_from_handle},
    {NULL, NULL},
};
