-- bench_lua.lua: the Lua module against the same work done in C.
-- Contenders run interleaved round by round; a ratio is the median of the
-- per-round ratios.
local wsevent = require "wsevent"
local h = require "benchhelper"

local ROUNDS, TRIPS, CALLS = 11, 2000, 2000000

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2
end

local function pair()
  return wsevent.event{manual_reset = false}, wsevent.event{manual_reset = false}
end

local function lua_round()
  local a, b = pair()
  h.pong(wsevent._upcalls, a:handle(), b:handle(), TRIPS)
  local t0 = h.now()
  for _ = 1, TRIPS do
    a:set()
    b:wait()
  end
  local dt = h.now() - t0
  a:close(); b:close()
  return dt / TRIPS / 2 * 1e9
end

local function c_round()
  local a, b = pair()
  h.pong(wsevent._upcalls, a:handle(), b:handle(), TRIPS)
  local dt = h.ping(wsevent._upcalls, a:handle(), b:handle(), TRIPS)
  a:close(); b:close()
  return dt / TRIPS / 2 * 1e9
end

local function per_call(f, arg)
  local t0 = h.now()
  for _ = 1, CALLS do f(arg) end
  return (h.now() - t0) / CALLS * 1e9
end

local lua_ns, c_ns, ratios = {}, {}, {}
for r = 1, ROUNDS do
  lua_ns[r], c_ns[r] = lua_round(), c_round()
  ratios[r] = lua_ns[r] / c_ns[r]
end

local ev = wsevent.event{initial_state = true}
local set_ns, is_set_ns, noop_ns, set_ratio = {}, {}, {}, {}
for r = 1, 5 do
  set_ns[r] = per_call(ev.set, ev)
  is_set_ns[r] = per_call(ev.is_set, ev)
  noop_ns[r] = per_call(h.noop, ev)
  set_ratio[r] = set_ns[r] / noop_ns[r]
end

local function row(what, value, unit, target, met)
  local mark = met == nil and "" or (met and "met" or "MISS")
  print(string.format("| %-48s | %10.2f %-6s | %-22s | %-4s |", what, value, unit,
                      target or "", mark))
end

print(string.format("wsevent Lua benchmark: %d interleaved rounds of %d round trips\n",
                    ROUNDS, TRIPS))
print(string.format("| %-48s | %17s | %-22s |      |", "measure", "value", "target"))
print("|" .. string.rep("-", 50) .. "|" .. string.rep("-", 19) .. "|" ..
      string.rep("-", 24) .. "|------|")
row("one-way wake, Lua waiter + C thread (median)", median(lua_ns), "ns")
row("one-way wake, C waiter + C thread (median)", median(c_ns), "ns")
local m = median(ratios)
row("ping-pong, Lua / C", m, "x", "<= 1.3x", m <= 1.3)
row("ev:set() per call", median(set_ns), "ns")
row("ev:is_set() per call", median(is_set_ns), "ns")
row("empty C function per call", median(noop_ns), "ns")
row("ev:set() / empty C function", median(set_ratio), "x")
