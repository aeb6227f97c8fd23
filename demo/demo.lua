-- The seed's model from Lua: a SWIG-wrapped C provider signals our events.
local wsevent = require "wsevent"
local device = require "device"   -- the sample provider, wrapped by SWIG
local socket = require "socket"

local start = socket.gettime()
local function say(who, text)
  print(string.format("[%6.1f ms] %s: %s", (socket.gettime() - start) * 1000, who, text))
end

print("wsevent demo (Lua): the C provider 'device' completes operations\n")

local names = {"read", "write", "connect"}
local events = {}
for i, delay in ipairs{30, 10, 50} do
  events[i] = wsevent.event()
  device.device_start(events[i], delay, nil)
  say("script", string.format("started '%s' (%d ms), handle 0x%x", names[i], delay, events[i]:handle()))
end
for _ = 1, 3 do
  local i = wsevent.wait_any(events)
  say("script", string.format("wait_any -> %d ('%s'); resetting it", i, names[i]))
  events[i]:reset()
  events[i] = wsevent.event()
end

local autos = {}
for i, delay in ipairs{20, 5, 40} do
  autos[i] = wsevent.event{manual_reset = false}
  device.device_start(autos[i], delay, nil)
end
say("script", "wait_all on three auto-reset events")
assert(wsevent.wait_all(autos))
say("script", string.format("wait_all done; consumed together: %s %s %s",
  autos[1]:is_set(), autos[2]:is_set(), autos[3]:is_set()))

local ev <close> = wsevent.event()
device.device_start(ev, 20, function() say("script", "completion routine runs in the script's thread") end)
say("script", "started 'recv' with a completion routine; alertable sleep")
wsevent.sleep(5, true)

local late = wsevent.event()
local op = device.device_start(late, 0, nil)
late:close()
device.device_complete(op)
socket.sleep(0.02)
say("device", string.format("set on an event the script had closed -> %d (WSEVENT_EINVAL_HANDLE = %d)",
  device.device_result(op), wsevent.WSEVENT_EINVAL_HANDLE))

-- The same model with a real provider: overlapped socket I/O.
local listener = assert(socket.bind("127.0.0.1", 0))
local _, port = listener:getsockname()
local client = assert(socket.connect("127.0.0.1", port))
local server = assert(listener:accept())
local op = assert(wsevent.recv_overlapped(server, 64))
say("script", "overlapped receive started: " .. tostring(op))
client:send("ping")
assert(op:event():wait(5))
say("script", "event set: " .. op:result())
wsevent.send_overlapped(server, "pong", {routine = function(o)
  say("script", "send routine, in the script's thread: " .. o:result() .. " bytes")
end})
wsevent.sleep(5, true)
say("peer", "got " .. client:receive(4))
wsevent.close_socket(server); client:close(); listener:close()

-- One event, two processes: another lua5.4 opens the name and sets it.
local name = string.format("demo-lua-%d", os.time())
local done = wsevent.event{name = name, manual_reset = false}
local child = io.popen(string.format(
  "LUA_CPATH=%q lua5.4 -e 'assert(require(\"wsevent\").open_event(%q)):set()'",
  package.cpath, name))
say("script", "named event '" .. done:name() .. "': waiting for another process")
assert(done:wait(10))
child:close()
say("script", "set by the other process")
done:close()
print("\ndemo finished")
