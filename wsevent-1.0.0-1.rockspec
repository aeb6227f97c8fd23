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
      sources = {
        "lua/wsevent.c", "core/src/completion.c", "core/src/error.c",
        "core/src/event.c", "core/src/fork.c", "core/src/handle.c",
        "core/src/lock.c", "core/src/provider.c", "core/src/wait.c",
      },
      incdirs = { "core/include" },
      defines = { "_GNU_SOURCE" },
      libraries = { "pthread" },
    },
  },
}
