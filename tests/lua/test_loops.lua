-- Event loops: cqueues (events are pollables) and luv (uv.new_poll on the
-- event's descriptor), the way Lua programs wait without blocking.
local wsevent = require "wsevent"
local helper = require "testhelper"

-- The documented pattern: wait inside a cqueues coroutine, yielding to the
-- loop. An auto-reset event is claimed with ev:wait(0) once readable
-- (another waiter may have taken it first: then poll again).
local function cq_wait(cqueues, ev, timeout)
  local deadline = timeout and cqueues.monotime() + timeout
  while true do
    if ev:wait(0) then return true end
    local left = deadline and deadline - cqueues.monotime()
    if left and left <= 0 then return nil, "timeout" end
    cqueues.poll(ev, left)
  end
end

describe("cqueues", function()
  local cqueues = require "cqueues"

  it("polls an event directly, set from a C thread", function()
    local ev = wsevent.event{manual_reset = false}
    local cq = cqueues.new()
    local got, other = {}, 0
    cq:wrap(function()
      got[#got + 1] = cq_wait(cqueues, ev, 5)
      got[#got + 1] = cq_wait(cqueues, ev, 5)
    end)
    cq:wrap(function() -- the loop keeps running other coroutines
      for _ = 1, 5 do other = other + 1; cqueues.sleep(0.001) end
    end)
    assert.is_true(helper.set_later(wsevent._upcalls, ev:handle(), 20, 2))
    assert(cq:loop(10))
    assert.same({true, true}, got)
    assert.equals(5, other)
    assert.is_false(ev:is_set()) -- both signals consumed, one each
  end)

  it("times out inside the loop", function()
    local ev = wsevent.event()
    local cq = cqueues.new()
    local r
    cq:wrap(function() r = {cq_wait(cqueues, ev, 0.05)} end)
    assert(cq:loop(10))
    assert.same({nil, "timeout"}, r)
  end)

  it("offers the pollable protocol", function()
    local ev = wsevent.event()
    assert.equals(ev:fd(), ev:pollfd())
    assert.equals("r", ev:events())
    assert.is_nil(ev:timeout())
  end)
end)

describe("luv", function()
  local uv = require "luv"

  it("wakes a uv poll on the event's descriptor", function()
    local ev = wsevent.event()
    local poll = uv.new_poll(ev:fd())
    local fired = 0
    poll:start("r", function(err, events)
      assert.is_nil(err)
      fired = fired + 1
      assert.is_true(ev:wait(0))
      ev:reset()           -- manual-reset: clear it, or it stays readable
      if fired == 2 then poll:stop(); poll:close() end
    end)
    assert.is_true(helper.set_later(wsevent._upcalls, ev:handle(), 20, 2))
    local timer = uv.new_timer()
    timer:start(5000, 0, function() poll:stop(); timer:close() end)
    while fired < 2 and uv.run("once") do end
    if not timer:is_closing() then timer:stop(); timer:close() end
    uv.run("nowait")
    assert.equals(2, fired)
  end)
end)
