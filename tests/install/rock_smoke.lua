-- The rock as installed: lua5.4 rock_smoke.lua TREE VERSION, run from
-- outside the source tree, so that only the installed module can load.
local tree, version = assert(arg[1]), assert(arg[2])
package.cpath = tree .. "/lib/lua/5.4/?.so;" .. package.cpath
local wsevent = require "wsevent"
assert(package.searchpath("wsevent", package.cpath):sub(1, #tree) == tree,
       "not the installed module")
local ev = wsevent.event{manual_reset = false}
assert(ev:set() and ev:wait(0))
assert(wsevent.wait_any({ev}, 0) == nil)
assert(wsevent._VERSION == version, wsevent._VERSION)
-- One core: the module uses the shared libwsevent.so.1 installed beside
-- it (not a private copy), the library every language links.
local maps = assert(io.open("/proc/self/maps")):read("a")
local core = maps:match("(%S*/libwsevent%.so%.1)\n")
assert(core, "the rock did not load libwsevent.so.1")
assert(core:sub(1, #tree) == tree, "libwsevent.so.1 from " .. core)
print("the rock works: wsevent " .. wsevent._VERSION .. " from " .. tree)
