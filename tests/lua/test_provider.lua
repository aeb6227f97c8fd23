-- The sample provider, wrapped by SWIG, driven from Lua.
local wsevent = require "wsevent"
local device = require "device"   -- build/swig/lua, built by `make`
local socket = require "socket"

local function wait_result(op)
  local deadline = socket.gettime() + 10
  while device.device_result(op) == 1 do
    assert(socket.gettime() < deadline, "operation never completed")
    socket.sleep(0.005)
  end
  return device.device_result(op)
end

describe("the sample provider", function()
  it("signals from its own thread while we wait on any", function()
    local evs = {wsevent.event{manual_reset = false}, wsevent.event{manual_reset = false}}
    device.device_start(evs[2], 30, nil)
    assert.equals(2, wsevent.wait_any(evs, 10))
  end)

  it("signals while we wait on all", function()
    local evs = {}
    for i = 1, 3 do
      evs[i] = wsevent.event{manual_reset = false}
      device.device_start(evs[i], 10 * i, nil)
    end
    assert.is_true(wsevent.wait_all(evs, 10))
  end)

  it("returns integers, never floats", function()
    local op = device.device_start(wsevent.event(), 0, nil)
    assert.equals("integer", math.type(op))
    assert.equals("integer", math.type(device.device_completed()))
    device.device_complete(op)
  end)

  it("runs completions in this thread, only in alertable waits", function()
    local ev = wsevent.event()
    local ran = 0
    local op = device.device_start(ev, 0, function() ran = ran + 1 end)
    device.device_complete(op)
    assert.is_true(ev:wait(10))
    wait_result(op)
    assert.equals(0, ran)
    assert.is_true(wsevent.sleep(10, true))
    assert.equals(1, ran)
  end)

  it("hands back provider-created events as owning event objects", function()
    local ev = device.device_open_event(1)
    assert.equals("wsevent.Event", getmetatable(ev).__name)
    assert.is_true(ev:owned())
    assert.is_false(ev:manual_reset())
    local op = device.device_start(ev, 0, nil)
    device.device_complete(op)
    assert.is_true(ev:wait(10))
  end)

  it("gives the provider an invalid handle when the event was closed", function()
    local ev = wsevent.event()
    local op = device.device_start(ev, 0, nil)
    ev:close()
    device.device_complete(op)
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, wait_result(op))
  end)

  it("gives the provider an invalid handle when the event was collected", function()
    local op = device.device_start(wsevent.event(), 0, nil)
    collectgarbage(); collectgarbage()
    device.device_complete(op)
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, wait_result(op))
  end)

  it("rejects bad arguments", function()
    assert.has_error(function() device.device_start("x", 1, nil) end)
    assert.has_error(function() device.device_start(wsevent.event(), 1.5, nil) end)
    assert.has_error(function() device.device_start(wsevent.event(), 1, 42) end)
    local closed = wsevent.event(); closed:close()
    assert.has_error(function() device.device_start(closed, 1, nil) end)
  end)

  it("completes thousands of operations, none lost, none twice", function()
    local n = 1500
    local evs, completions = {}, {}
    math.randomseed(7)
    for i = 1, n do
      evs[i] = wsevent.event{manual_reset = false}
      device.device_start(evs[i], math.random(1, 60), function() completions[#completions + 1] = i end)
    end
    local pending, seen = {}, {}
    for i = 1, n do pending[i] = i end
    while #pending > 0 do
      local list = {}
      for k, i in ipairs(pending) do list[k] = evs[i] end
      local k = wsevent.wait_any(list, 20)
      assert(k, "an operation never signalled")
      seen[#seen + 1] = table.remove(pending, k)
    end
    table.sort(seen)
    for i = 1, n do assert.equals(i, seen[i]) end
    for i = 1, n do assert.is_false(evs[i]:is_set()) end
    local deadline = socket.gettime() + 20
    while #completions < n and socket.gettime() < deadline do
      wsevent.sleep(0.05, true)
    end
    table.sort(completions)
    assert.equals(n, #completions)
    for i = 1, n do assert.equals(i, completions[i]) end
  end)
end)

describe("completion functions given to a provider call that fails", function()
  it("are released, not kept forever", function()
    local function burst(n)
      for _ = 1, n do
        local mine = {}
        local id = device.device_start(12345, 0, function() return mine end)
        assert.is_true(id < 0)
      end
      wsevent.sleep(0, true) -- a Lua call of this universe drops them
      collectgarbage(); collectgarbage()
    end
    burst(200) -- warm up the registry's free list
    local before = collectgarbage("count")
    burst(5000)
    local grown = collectgarbage("count") - before
    assert.is_true(grown < 100, "grew by " .. grown .. " KiB")
  end)
end)

describe("provider arguments", function()
  it("are range-checked, never wrapped", function()
    local ev = wsevent.event()
    assert.has_error(function() device.device_start(ev, 1 << 32, nil) end,
                     "bad argument #2 to 'device_start' (out of range for unsigned int)")
    assert.has_error(function() device.device_start(ev, -1, nil) end,
                     "bad argument #2 to 'device_start' (out of range for unsigned int)")
    assert.has_error(function() device.device_start(ev, 1.5, nil) end)
  end)
end)

describe("the typemaps (tests/helpers/probe.i)", function()
  local probe = require "probe"

  it("round-trip integers of every width as integers, and refuse what does not fit", function()
    assert.equals(-128, probe.probe_i8(-128))
    assert.equals(255, probe.probe_u8(255))
    assert.equals(-32768, probe.probe_short(-32768))
    assert.equals(65535, probe.probe_u16(65535))
    assert.equals(1 << 40, probe.probe_size(1 << 40))
    assert.equals(math.maxinteger, probe.probe_u64(math.maxinteger))
    assert.equals("integer", math.type(probe.probe_u16(7)))
    assert.has_error(function() probe.probe_u16(65536) end,
                     "bad argument #1 to 'probe_u16' (out of range for unsigned short)")
    assert.has_error(function() probe.probe_i8(128) end,
                     "bad argument #1 to 'probe_i8' (out of range for signed char)")
    assert.has_error(function() probe.probe_short(40000) end)
    assert.has_error(function() probe.probe_size(-1) end)
    assert.has_error(function() probe.probe_u64(-1) end) -- not read as 2^64 - 1
    assert.has_error(function() probe.probe_u16(1.0) end) -- integers only
  end)

  it("take nil for no event, and refuse 0 and booleans", function()
    local ev = wsevent.event()
    assert.equals(ev:handle(), probe.probe_event(ev))
    assert.equals(ev:handle(), probe.probe_event(ev:handle()))
    assert.equals(0, probe.probe_event(nil))
    assert.has_error(function() probe.probe_event(0) end,
                     "bad argument #1 to 'probe_event' (0 is not a handle)")
    assert.has_error(function() probe.probe_event(false) end)
  end)

  it("let a routine alone complete an operation started with no event", function()
    local ran = 0
    local op = device.device_start(nil, 0, function() ran = ran + 1 end)
    assert.is_true(op > 0)
    device.device_complete(op)
    local deadline = socket.gettime() + 10
    while ran == 0 and socket.gettime() < deadline do wsevent.sleep(0.01, true) end
    assert.equals(1, ran)
    assert.equals(wsevent.WSEVENT_EINVAL, device.device_start(nil, 0, nil))
  end)

  it("keep no function given before an argument that fails", function()
    local released = 0
    local function tracked()
      local guard = setmetatable({}, {__gc = function() released = released + 1 end})
      return function() return guard end
    end
    assert.has_error(function() probe.probe_keep(tracked(), "x") end)
    assert.has_error(function() probe.probe_keep(tracked(), 1 << 40) end)
    assert.equals(-1, probe.probe_keep(tracked(), -1)) -- refused: released
    assert.equals(3, probe.probe_keep(tracked(), 3))   -- kept, then released
    wsevent.completion(function() end) -- a call of this universe drops them
    collectgarbage(); collectgarbage()
    assert.equals(4, released)
  end)
end)

describe("the C API (wsevent._CAPI, wsevent_lua.h)", function()
  local helper = require "testhelper"

  it("gives the handle of an open event, and refuses anything else", function()
    local ev = wsevent.event()
    assert.equals(ev:handle(), helper.capi_handle(ev))
    assert.equals(ev:handle(), helper.capi_handle(ev:handle(), true))
    assert.has_error(function() helper.capi_handle(ev:handle()) end,
                     "bad argument #1 to 'capi_handle' (wsevent event expected, got number)")
    assert.has_error(function() helper.capi_handle({handle = ev:handle()}, true) end,
                     "bad argument #1 to 'capi_handle' (wsevent event or integer handle expected, got table)")
    assert.has_error(function() helper.capi_handle(0, true) end,
                     "bad argument #1 to 'capi_handle' (0 is not a handle)")
    -- A handle's 64 bits: one whose slot was reused 2^31 times has its top
    -- bit set, a negative Lua integer, and is taken as it is.
    assert.equals(-1, helper.capi_handle(-1, true))
    local none, _, code = wsevent._from_handle(-1)
    assert.is_nil(none)
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, code) -- no such event, not a type error
    ev:close()
    assert.has_error(function() helper.capi_handle(ev) end,
                     "bad argument #1 to 'capi_handle' (event is closed)")
  end)

  it("makes borrowed and owned events for a handle", function()
    local owner = wsevent.event{manual_reset = false}
    local borrowed = helper.capi_from_handle(owner:handle(), false)
    assert.is_false(borrowed:owned())
    assert.is_false(borrowed:manual_reset())
    borrowed:close()
    assert.is_true(owner:set())               -- the borrowed one did not close it
    local adopted = helper.capi_from_handle(owner:handle(), true)
    assert.is_true(adopted:owned())
    adopted:close()
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, select(3, owner:set()))
    local none, code = helper.capi_from_handle(owner:handle(), true)
    assert.is_nil(none)
    assert.equals(wsevent.WSEVENT_EINVAL_HANDLE, code)
  end)

  it("turns a function into a routine that runs once in this thread", function()
    local ran = 0
    assert.is_true(helper.capi_queue_later(function() ran = ran + 1 end, 10))
    local done = wsevent.event()
    assert.same({nil, "io_completion"},
                {wsevent.wait_for_multiple({done}, {alertable = true, timeout = 10})})
    assert.equals(1, ran)
    assert.has_error(function() helper.capi_queue_later(42) end,
                     "bad argument #1 to 'capi_queue_later' (function expected, got number)")
  end)

  it("releases a routine that is never queued, from any thread", function()
    local ran = false
    assert.is_true(helper.capi_release(function() ran = true end))
    assert.is_false(helper.capi_release(nil))
    wsevent.sleep(0, true)
    assert.is_false(ran)
  end)
end)
