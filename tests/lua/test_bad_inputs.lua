-- Every wrong argument raises a clear error, and leaves the module usable.
local wsevent = require "wsevent"

local function closed()
  local e = wsevent.event(); e:close(); return e
end

local E = wsevent.event
local cases = {
  {"event with a number", function() E(5) end, "table expected"},
  {"event with a string manual_reset", function() E{manual_reset = "yes"} end, "manual_reset must be a boolean"},
  {"event with a numeric initial_state", function() E{initial_state = 1} end, "initial_state must be a boolean"},
  {"wait with a string timeout", function() E():wait("1") end, "number or nil expected"},
  {"wait with a table timeout", function() E():wait({}) end, "number or nil expected"},
  {"wait with NaN", function() E():wait(0/0) end, "NaN"},
  {"wait with a negative timeout", function() E():wait(-1) end, "non%-negative"},
  {"event with an unknown option", function() wsevent.event{manual = false} end, "unknown option 'manual'"},
  {"event_select on a descriptor beyond int", function() wsevent.event_select(1 << 33, E(), 1) end, "out of range"},
  {"event_select on a fractional descriptor", function() wsevent.event_select(3.5, E(), 1) end, "no integer representation"},
  {"recv_overlapped on a fractional descriptor", function() wsevent.recv_overlapped(3.5, 1) end, "no integer representation"},
  {"wait with 1e300", function() E():wait(1e300) end, "too large"},
  {"set on a non-event", function() E().set({}) end, "wsevent.Event expected"},
  {"set on a closed event", function() closed():set() end, "closed event"},
  {"wait on a closed event", function() closed():wait(0) end, "closed event"},
  {"fd on a closed event", function() closed():fd() end, "closed event"},
  {"handle of a closed event", function() closed():handle() end, "closed event"},
  {"wait_any on nil", function() wsevent.wait_any(nil) end, "table expected"},
  {"wait_any on an empty list", function() wsevent.wait_any({}) end, "list is empty"},
  {"wait_all on an empty list", function() wsevent.wait_all({}) end, "list is empty"},
  {"wait_any on a mixed list", function() wsevent.wait_any({E(), 3}) end, "item 2 is a number"},
  {"wait_all with a closed event", function() wsevent.wait_all({E(), closed()}) end, "event 2 is closed"},
  {"wait_all with duplicates", function() local e = E(); wsevent.wait_all({e, E(), e}, 0) end, "appears twice"},
  {"wait_any with a bad timeout", function() wsevent.wait_any({E()}, "x") end, "number or nil expected"},
  {"wait_for_multiple over 64", function()
      local t = {}; for i = 1, 65 do t[i] = E() end
      wsevent.wait_for_multiple(t, {timeout = 0}) end, "more than 64"},
  {"wait_for_multiple with a string option table", function() wsevent.wait_for_multiple({E()}, "x") end, "table expected"},
  {"wait_for_multiple with a non-boolean wait_all", function() wsevent.wait_for_multiple({E()}, {wait_all = 1}) end, "wait_all must be a boolean"},
  {"wait_for_multiple with a negative timeout", function() wsevent.wait_for_multiple({E()}, {timeout = -2}) end, "non%-negative"},
  {"queue_completion with a non-function", function() wsevent.queue_completion(42) end, "function expected"},
  {"completion with nil", function() wsevent.completion() end, "function expected"},
  {"sleep(nil) not alertable", function() wsevent.sleep(nil) end, "sleep forever"},
  {"sleep with a negative time", function() wsevent.sleep(-1) end, "non%-negative"},
  {"strerror with a string", function() wsevent.strerror("x") end, "number expected"},
}

describe("bad inputs", function()
  it("are at least twenty distinct ones", function()
    assert.is_true(#cases >= 20)
  end)

  for _, case in ipairs(cases) do
    it(case[1] .. " raises a clear error and leaves things usable", function()
      local ok, err = pcall(case[2])
      assert.is_false(ok)
      assert.matches(case[3], tostring(err))
      local ev = wsevent.event{manual_reset = false, initial_state = true}
      assert.equals(2, wsevent.wait_any({wsevent.event(), ev}, 0))
      assert.is_false(wsevent.sleep(0, true))
    end)
  end
end)
