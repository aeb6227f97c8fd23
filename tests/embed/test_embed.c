/*
 * test_embed.c: one process, one core.  A C host that links libwsevent
 * embeds Python and Lua; events created in C are waited on by both
 * scripts and set from C threads, and the scripts set events back to C.
 *
 * Each glue loads libwsevent.so.1 by its soname, so the dynamic linker
 * hands them the copy the host already has: one handle space.  With a
 * second copy, a handle made here would be refused there (or, worse, name
 * another event), which is what these tests would catch.
 *
 * ROOT (the source tree) is given by the Makefile.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>

#include "../tap.h"
#include "lauxlib.h"
#include "lualib.h"
#include "wsevent.h"

/* Set `event` once `started` is set: the script is waiting by then. */
struct setter {
  wsevent_t started, event;
  pthread_t thread;
};

static void *set_when_started(void *p) {
  struct setter *s = p;
  if (wsevent_wait(s->started, 10000) == WSEVENT_OK)
    wsevent_set(s->event);
  return NULL;
}

static void start_setter(struct setter *s, wsevent_t started, wsevent_t event) {
  s->started = started;
  s->event = event;
  ASSERT_EQ(pthread_create(&s->thread, NULL, set_when_started, s), 0);
}

static void start_python(void) {
  setenv("PYTHONPATH", ROOT "/python", 1);
  setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
  Py_Initialize();
}

/* Run Python code in __main__ with the handles as globals; returns the
 * global `result` as a C integer (or fails the test). */
static long long run_python(const char *code, const char *names[],
                            const wsevent_t values[], int n) {
  PyObject *globals = PyModule_GetDict(PyImport_AddModule("__main__"));
  for (int i = 0; i < n; i++) {
    PyObject *v = PyLong_FromUnsignedLongLong(values[i]);
    PyDict_SetItemString(globals, names[i], v);
    Py_DECREF(v);
  }
  PyObject *r = PyRun_String(code, Py_file_input, globals, globals);
  if (r == NULL) {
    PyErr_Print();
    ASSERT(!"the Python code raised");
  }
  Py_DECREF(r);
  PyObject *result = PyDict_GetItemString(globals, "result");
  ASSERT(result != NULL);
  return PyLong_AsLongLong(result);
}

static lua_State *start_lua(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  ASSERT_EQ(luaL_dostring(L, "package.cpath = '" ROOT "/build/lua/?.so;' .. "
                             "package.cpath"),
            LUA_OK);
  return L;
}

/* Run Lua code with the handles as globals; returns global `result`. */
static long long run_lua(lua_State *L, const char *code, const char *names[],
                         const wsevent_t values[], int n) {
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)values[i]);
    lua_setglobal(L, names[i]);
  }
  if (luaL_dostring(L, code) != LUA_OK) {
    printf("# lua: %s\n", lua_tostring(L, -1));
    ASSERT(!"the Lua code raised");
  }
  lua_getglobal(L, "result");
  int exact = 0;
  long long v = (long long)lua_tointegerx(L, -1, &exact);
  ASSERT(exact);
  lua_pop(L, 1);
  return v;
}

/* The scripts borrow the host's events: they must not close them when
 * their objects are collected (the host owns them and checks them after). */
static const char *python_waits =
    "import wsevent\n"
    "started = wsevent.Event.from_handle(started_h)\n"
    "go = wsevent.Event.from_handle(go_h)\n"
    "back = wsevent.Event.from_handle(back_h)\n"
    "started.set()\n"
    "ok = go.wait(10)\n"
    "back.set()\n"
    "mine = wsevent.Event()\n"
    "result = mine.handle if ok else 0\n"
    "keep = [started, go, back, mine]\n";

static const char *lua_waits =
    "local ws = require 'wsevent'\n"
    "local started = assert(ws._from_handle(started_h))\n"
    "local go = assert(ws._from_handle(go_h))\n"
    "local back = assert(ws._from_handle(back_h))\n"
    "started:set()\n"
    "local ok = go:wait(10)\n"
    "back:set()\n"
    "mine = ws.event()\n"
    "keep = {started, go, back}\n"
    "result = ok and mine:handle() or 0\n";

static void script_round_trip(int lua) {
  wsevent_t h[3]; /* started, go, back */
  const char *names[3] = {"started_h", "go_h", "back_h"};
  struct setter s;
  ASSERT_EQ(wsevent_create(&h[0], WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&h[1], WSEVENT_AUTO_RESET), WSEVENT_OK);
  ASSERT_EQ(wsevent_create(&h[2], 0), WSEVENT_OK);
  start_setter(&s, h[0], h[1]);
  lua_State *L = NULL;
  long long mine;
  if (lua) {
    L = start_lua();
    mine = run_lua(L, lua_waits, names, h, 3);
  } else {
    start_python();
    mine = run_python(python_waits, names, h, 3);
  }
  pthread_join(s.thread, NULL);
  /* The script waited on our event and set one back. */
  ASSERT_NE(mine, 0);
  ASSERT_EQ(wsevent_wait(h[2], 0), WSEVENT_OK);
  /* The script's own event is one of ours too: set it from C, and the
   * script sees it. */
  ASSERT_EQ(wsevent_is_set((wsevent_t)mine), 0);
  ASSERT_EQ(wsevent_set((wsevent_t)mine), WSEVENT_OK);
  wsevent_t m = (wsevent_t)mine;
  const char *mine_name[1] = {"mine_h"};
  if (lua) {
    ASSERT_EQ(run_lua(L, "result = mine:is_set() and 1 or 0", mine_name, &m, 1), 1);
    lua_close(L);
  } else {
    ASSERT_EQ(run_python("result = int(keep[3].is_set())", mine_name, &m, 1), 1);
    Py_FinalizeEx();
    /* The script only borrowed the host's events: they are still open. */
    for (int i = 0; i < 3; i++)
      ASSERT_GE(wsevent_is_set(h[i]), 0);
  }
  for (int i = 0; i < 3; i++)
    wsevent_close(h[i]);
}


TEST(test_python_waits_on_the_hosts_events_and_sets_them_back) {
  script_round_trip(0);
}

TEST(test_lua_waits_on_the_hosts_events_and_sets_them_back) {
  script_round_trip(1);
}

TEST(test_python_and_lua_share_one_handle_space) {
  /* Python makes an event, Lua waits on it, C sets it. */
  start_python();
  lua_State *L = start_lua();
  long long py = run_python("import wsevent\n"
                            "ev = wsevent.Event(manual_reset=False)\n"
                            "result = ev.handle\n",
                            NULL, NULL, 0);
  wsevent_t started;
  ASSERT_EQ(wsevent_create(&started, WSEVENT_AUTO_RESET), WSEVENT_OK);
  struct setter s;
  start_setter(&s, started, (wsevent_t)py);
  wsevent_t h[2] = {(wsevent_t)py, started};
  const char *names[2] = {"py_h", "started_h"};
  long long r = run_lua(L,
                        "local ws = require 'wsevent'\n"
                        "local ev = assert(ws._from_handle(py_h))\n"
                        "local started = assert(ws._from_handle(started_h))\n"
                        "keep = {ev, started}\n"
                        "started:set()\n"
                        "result = ev:wait(10) and 1 or 0\n",
                        names, h, 2);
  pthread_join(s.thread, NULL);
  ASSERT_EQ(r, 1);
  /* Consumed by Lua's wait: the auto-reset event Python made is unset. */
  ASSERT_EQ(run_python("result = int(ev.is_set())", NULL, NULL, 0), 0);
  lua_close(L);
  Py_FinalizeEx();
}
