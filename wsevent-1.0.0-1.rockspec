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
  type = "builtin",
  modules = {
    wsevent = {
      -- The module with its own copy of the core: a Lua-only install.
      -- (Programs that also load the Python module or a C host want
      -- the shared libwsevent instead: `make install`.)
      sources = {
        "lua/capi.c", "lua/completion.c", "lua/event.c", "lua/module.c", "lua/network.c",
        "lua/wait.c", "core/src/event/completion.c", "core/src/event/error.c",
        "core/src/event/event.c", "core/src/event/fork.c",
        "core/src/event/handle.c", "core/src/event/lock.c",
        "core/src/event/pollwait.c", "core/src/event/port.c",
        "core/src/event/provider.c", "core/src/event/source.c",
        "core/src/event/wait.c", "core/src/net/reactor.c",
        "core/src/net/select.c", "core/src/net/timer.c",
      },
      incdirs = { "core/include", "core/src/event" },
      defines = { "_GNU_SOURCE" },
      libraries = { "pthread" },
    },
  },
}
