-- wsevent for Lua 5.4: every call and every semantic rule.
local wsevent = require "wsevent"
local helper = require "testhelper"

local function now()
  local s = require "socket"
  return s.gettime()
end

describe("wsevent.event", function()
  it("is manual-reset and unset by default", function()
    local ev = wsevent.event()
    assert.is_true(ev:manual_reset())
    assert.is_false(ev:is_set())
    assert.is_nil(ev:wait(0))
  end)

  it("honours manual_reset and initial_state", function()
    local ev = wsevent.event{manual_reset = false, initial_state = true}
    assert.is_false(ev:manual_reset())
    assert.is_true(ev:is_set())
    assert.is_true(ev:is_set())      -- is_set never consumes
    assert.is_true(ev:wait(0))       -- a wait does
    assert.is_nil(ev:wait(0))
  end)

  it("sets, resets and waits", function()
    local ev = wsevent.event()
    assert.is_true(ev:set())
    assert.is_true(ev:wait())
    assert.is_true(ev:wait(0.01))
    assert.is_true(ev:reset())
    assert.is_nil(ev:wait(0.01))
  end)

  it("waits for the timeout in seconds, fractions allowed", function()
    local ev = wsevent.event()
    local t0 = now()
    assert.is_nil(ev:wait(0.1))
    assert.is_true(now() - t0 >= 0.099)
  end)

  it("gives the handle as an integer, not a float", function()
    local ev = wsevent.event()
    assert.equals("integer", math.type(ev:handle()))
    assert.is_true(ev:handle() ~= 0)
  end)

  it("has __name, __tostring, and works as a table key", function()
    local ev = wsevent.event()
    assert.equals("wsevent.Event", getmetatable(ev).__name)
    assert.matches("^wsevent%.Event %(0x%x+%): unset$", tostring(ev))
    ev:set()
    assert.matches(": set$", tostring(ev))
    local t = {[ev] = 1}
    assert.equals(1, t[ev])
    ev:close()
    assert.matches(": closed$", tostring(ev))
  end)

  it("errors on use once closed, like a closed file, and closes twice harmlessly", function()
    local ev = wsevent.event()
    ev:close()
    ev:close()
    assert.is_true(ev:closed())
    for _, m in ipairs{"set", "reset", "is_set", "wait", "fd", "handle"} do
      assert.has_error(function() ev[m](ev) end, "attempt to use a closed event")
    end
  end)

  it("closes to-be-closed variables", function()
    local kept
    do
      local ev <close> = wsevent.event()
      kept = ev
      assert.is_false(kept:closed())
    end
    assert.is_true(kept:closed())
  end)

  it("gives one integer descriptor per event", function()
    local ev = wsevent.event()
    local fd = ev:fd()
    assert.equals("integer", math.type(fd))
    assert.equals(fd, ev:fd())
  end)

  it("is released by a set from a C thread", function()
    local ev = wsevent.event{manual_reset = false}
    assert.is_true(helper.set_later(wsevent._upcalls, ev:handle(), 30))
    assert.is_true(ev:wait(10))
    assert.is_false(ev:is_set())
  end)

  it("releases exactly one wait per set when auto-reset", function()
    local ev = wsevent.event{manual_reset = false}
    helper.set_later(wsevent._upcalls, ev:handle(), 20, 3)
    local got = 0
    for _ = 1, 3 do
      if ev:wait(10) then got = got + 1 end
    end
    assert.equals(3, got)
    assert.is_nil(ev:wait(0.05))   -- no fourth signal
  end)

  it("gives C an invalid-handle result once collected", function()
    local ev = wsevent.event()
    local h = ev:handle()
    assert.equals(wsevent.WSEVENT_OK, helper.set_now(wsevent._upcalls, h))
    ev = nil
    collectgarbage(); collectgarbage()
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, helper.set_now(wsevent._upcalls, h))
    local fresh = wsevent.event()
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, helper.set_now(wsevent._upcalls, h))
    assert.is_false(fresh:is_set())
  end)

  it("returns nil, message, code when a provider closed the handle", function()
    local ev = wsevent.event()
    assert.equals(wsevent.WSEVENT_OK, helper.close_now(wsevent._upcalls, ev:handle()))
    local ok, msg, code = ev:set()
    assert.is_nil(ok)
    assert.equals(wsevent.strerror(wsevent.WSEVENT_EINVAL_HANDLE), msg)
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, code)
    ev:close() -- harmless
  end)
end)

describe("waits on many", function()
  local function events(n, opts)
    local t = {}
    for i = 1, n do t[i] = wsevent.event(opts) end
    return t
  end

  it("wait_any returns the lowest signaled index, 1-based", function()
    local evs = events(5)
    local i, msg = wsevent.wait_any(evs, 0)
    assert.is_nil(i)
    assert.equals("timeout", msg)
    evs[5]:set(); evs[3]:set()
    assert.equals(3, wsevent.wait_any(evs))
  end)

  it("wait_any consumes the auto-reset event it reports", function()
    local evs = events(3, {manual_reset = false})
    evs[1]:set(); evs[2]:set()
    assert.equals(1, wsevent.wait_any(evs, 0))
    assert.equals(2, wsevent.wait_any(evs, 0))
    assert.is_nil(wsevent.wait_any(evs, 0))
  end)

  it("wait_any is released by a C thread, over 4096 events", function()
    local evs = events(4096, {manual_reset = false})
    helper.set_later(wsevent._upcalls, evs[4000]:handle(), 30)
    assert.equals(4000, wsevent.wait_any(evs, 10))
  end)

  it("wait_all waits for all and consumes them together", function()
    local evs = events(3, {manual_reset = false})
    evs[1]:set(); evs[3]:set()
    local ok, msg = wsevent.wait_all(evs, 0.05)
    assert.is_nil(ok)
    assert.equals("timeout", msg)
    assert.is_true(evs[1]:is_set() and evs[3]:is_set())
    helper.set_later(wsevent._upcalls, evs[2]:handle(), 30)
    assert.is_true(wsevent.wait_all(evs, 10))
    for _, e in ipairs(evs) do assert.is_false(e:is_set()) end
  end)

  it("every wait has one shape: a result, or fail and a reason", function()
    local evs = events(3)
    assert.same({nil, "timeout"}, {wsevent.wait_for_multiple(evs, {timeout = 0})})
    assert.same({nil, "timeout"}, {wsevent.wait_any(evs, 0)})
    assert.same({nil, "timeout"}, {wsevent.wait_all(evs, 0)})
    assert.same({nil, "timeout"}, {evs[1]:wait(0)})
    evs[2]:set()
    assert.equals(2, wsevent.wait_for_multiple(evs, {timeout = 0}))
    assert.equals(2, wsevent.wait_any(evs, 0))
    assert.same({nil, "timeout"},
      {wsevent.wait_for_multiple(evs, {wait_all = true, timeout = 0})})
    assert.is_true(evs[2]:wait(0))
    -- Winsock's numbers stay available, for code that compares with them.
    assert.equals(0xC0, wsevent.WAIT_IO_COMPLETION)
    assert.equals(0x102, wsevent.WAIT_TIMEOUT)
    assert.equals(0, wsevent.WAIT_EVENT_0)
  end)

  it("takes math.huge as forever and refuses NaN and negative timeouts", function()
    local ev = wsevent.event{initial_state = true}
    assert.is_true(ev:wait(math.huge))
    assert.equals(1, wsevent.wait_any({ev}, math.huge))
    assert.has_error(function() ev:wait(0 / 0) end, "bad argument #1 to 'wait' (timeout is NaN)")
    assert.has_error(function() ev:wait(-1) end)
    assert.has_error(function() ev:wait(1e300) end)
    assert.has_error(function() wsevent.sleep(math.huge) end) -- forever, not alertable
  end)

  it("raises for unknown option keys", function()
    assert.has_error(function() wsevent.event{manual = false} end,
                     "bad argument #1 to 'event' (unknown option 'manual')")
    assert.has_error(function() wsevent.wait_for_multiple({wsevent.event()}, {timout = 0}) end,
                     "bad argument #2 to 'wait_for_multiple' (unknown option 'timout')")
  end)

  it("close returns true, also the second time", function()
    local ev = wsevent.event()
    assert.is_true(ev:close())
    assert.is_true(ev:close())
    assert.is_true(ev:closed())
  end)

  it("a borrowed handle never closes the event it names", function()
    local owner = wsevent.event()
    local borrowed = wsevent._from_handle(owner:handle())
    assert.is_false(borrowed:owned())
    assert.is_true(borrowed:close())
    borrowed = nil
    collectgarbage(); collectgarbage()
    assert.is_true(owner:set())  -- still alive
    assert.is_true(owner:is_set())
    local adopted = wsevent._from_handle(owner:handle(), true)
    assert.is_true(adopted:owned())
    adopted:close()
    assert.same({nil, wsevent.strerror(wsevent.WSEVENT_EINVAL_HANDLE), wsevent.WSEVENT_EINVAL_HANDLE},
                {owner:set()})
  end)

  it("reports an event closed during a wait, with its index", function()
    local evs = events(3)
    helper.close_later(wsevent._upcalls, evs[2]:handle(), 30)
    local ok, msg, code, index = wsevent.wait_any(evs, 10)
    assert.is_nil(ok)
    assert.equals(wsevent.WSEVENT_ECLOSED, code)
    assert.equals(2, index)
    assert.is_string(msg)
  end)
end)

describe("completion routines", function()
  it("run in this thread's alertable wait, queued from a C thread", function()
    local ran = {}
    local ctx = wsevent.completion(function() ran[#ran + 1] = "c" end)
    helper.queue_later(wsevent._upcalls, wsevent.thread_id(),
                       wsevent._completion_routine, ctx, 20)
    local ok, why = wsevent.wait_for_multiple({wsevent.event()},
                                              {alertable = true, timeout = 10})
    assert.same({nil, "io_completion"}, {ok, why})
    assert.same({"c"}, ran)
  end)

  it("stay queued through non-alertable waits", function()
    local ran = 0
    assert.is_true(wsevent.queue_completion(function() ran = ran + 1 end))
    local ev = wsevent.event()
    assert.is_nil(ev:wait(0.02))
    assert.is_nil(wsevent.wait_any({ev}, 0.02))
    assert.equals(0, ran)
    assert.is_true(wsevent.sleep(0, true))
    assert.equals(1, ran)
    assert.is_false(wsevent.sleep(0, true))
  end)

  it("raise their errors from the wait that ran them", function()
    wsevent.queue_completion(function() error("from the routine") end)
    assert.has_error(function() wsevent.sleep(1, true) end)
    assert.is_false(wsevent.sleep(0, true))
  end)

  it("report error(nil) as an error, not as success", function()
    wsevent.queue_completion(function() error(nil) end)
    assert.has_error(function() wsevent.sleep(1, true) end,
                     "completion routine raised an error (error object is a nil value)")
  end)

  it("say why they cannot yield", function()
    local co = coroutine.wrap(function()
      wsevent.queue_completion(function() coroutine.yield(1) end)
      return wsevent.sleep(1, true)
    end)
    local ok, err = pcall(co)
    assert.is_false(ok)
    assert.matches("a completion routine cannot yield", err)
  end)
end)
