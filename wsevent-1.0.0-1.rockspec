package = "wsevent"
version = "1.0.0-1"
-- Built from a checkout with `luarocks make wsevent-1.0.0-1.rockspec`,
-- which uses the local tree (the source url is only read by `luarocks build`).
source = { url = "git+https://example.invalid/wsevent.git", tag = "v1.0.0" }
description = {
  summary = "Windows Sockets event objects for Lua 5.4",
  detailed = [[Manual- and auto-reset events that C providers signal from
any thread; wait on one or many (any/all), completion routines, pollable
descriptors.]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
build = {
  -- One core per process: the module links libwsevent.so.1, installed
  -- beside it (found through $ORIGIN), the same shared library as the C
  -- API and the Python package use; the dynamic linker loads one library
  -- per soname, so a process that also loads the Python module or links
  -- libwsevent shares one core and one handle space with the rock.
  type = "make",
  build_target = "rock",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA_CFLAGS = "-I$(LUA_INCDIR)",
  },
  install_target = "rock-install",
  install_variables = {
    ROCK_LIBDIR = "$(LIBDIR)",
  },
}
