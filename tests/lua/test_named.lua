-- Named events shared between processes: ws.event{name=...},
-- ws.open_event, and the semantics across processes (children are other
-- lua5.4 processes that open the names again).
local ws = require "wsevent"

math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 1000)
local function unique(tag)
  return string.format("%s-lua-%d-%d", tag, os.time(), math.random(1, 1e9))
end

-- Run `body` in another interpreter with `name` as ... ; returns the
-- popen handle (its output is what the child prints).
local function spawn(body, ...)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write('local ws = require "wsevent"\n', body, "\n")
  f:close()
  local args = {}
  for _, a in ipairs{...} do args[#args + 1] = string.format("%q", a) end
  local p = io.popen(string.format("LUA_CPATH=%q lua5.4 %s %s; rm -f %s",
    package.cpath, script, table.concat(args, " "), script))
  return p
end

local function finish(p)
  local out = p:read("a")
  local ok, how, code = p:close()
  return out, ok, how, code
end

describe("named events", function()
  it("are created, opened and report whether they existed", function()
    local name = unique("basic")
    local a, existed = ws.event{name = name, manual_reset = false}
    assert.is_false(existed)
    assert.equals(name, a:name())
    local b, existed2 = ws.event{name = name, initial_state = true}
    assert.is_true(existed2)
    assert.is_false(b:manual_reset()) -- the existing event's mode is kept
    assert.is_false(b:is_set())
    local c = assert(ws.open_event(name))
    a:set()
    assert.is_true(c:wait(0))
    assert.is_nil(ws.event():name())
    assert.is_true(a:close()); b:close(); c:close()
    local none, msg, code = ws.open_event(name)
    assert.is_nil(none)
    assert.matches("no event is named", msg)
    assert.equals(ws.WSEVENT_ENOTFOUND, code)
  end)

  it("refuse bad names with a clear error", function()
    for _, bad in ipairs{"", "a/b", string.rep("x", 201), "nul\0byte"} do
      assert.has_error(function() ws.event{name = bad} end)
      assert.has_error(function() ws.open_event(bad) end)
    end
    assert.has_error(function() ws.event{name = 42} end, nil)
    local ok, err = pcall(ws.open_event, {})
    assert.is_false(ok)
    assert.matches("name must be a string", err)
    local e = ws.event{name = string.rep("x", 200)}
    assert.equals(200, #e:name())
    e:close()
  end)

  it("ping-pong with another process", function()
    local ping = ws.event{name = unique("ping"), manual_reset = false}
    local pong = ws.event{name = unique("pong"), manual_reset = false}
    local p = spawn([[
      local ping = assert(ws.open_event(arg[1]))
      local pong = assert(ws.open_event(arg[2]))
      for i = 1, 2000 do assert(ping:wait(10)); pong:set() end
      print("done")
    ]], ping:name(), pong:name())
    for i = 1, 2000 do
      ping:set()
      assert.is_true(pong:wait(10))
    end
    local out, ok = finish(p)
    assert.equals("done\n", out)
    assert.is_true(ok)
  end)

  it("release exactly one waiter per set across processes", function()
    local item = ws.event{name = unique("item"), manual_reset = false}
    local ack = ws.event{name = unique("ack"), manual_reset = false}
    local stop = ws.event{name = unique("stop")}
    local body = [[
      local item, stop, ack = ws.open_event(arg[1]), ws.open_event(arg[2]), ws.open_event(arg[3])
      local n = 0
      while true do
        local i = assert(ws.wait_any({item, stop}, 20))
        if i == 2 then break end
        n = n + 1
        ack:set()
      end
      print(n)
    ]]
    local ps = {}
    for i = 1, 2 do ps[i] = spawn(body, item:name(), stop:name(), ack:name()) end
    local sets = 100000
    for i = 1, sets do
      item:set()
      assert.is_true(ack:wait(20))
    end
    assert.is_falsy(ack:wait(0)) -- nobody took two
    stop:set()
    local total = 0
    for i = 1, 2 do total = total + tonumber((finish(ps[i]))) end
    assert.equals(sets, total)
  end)

  it("wait_all mixes local and named events", function()
    local l = ws.event{initial_state = true}
    local a = ws.event{name = unique("a"), manual_reset = false}
    local b = ws.event{name = unique("b"), manual_reset = false}
    a:set()
    assert.is_nil(ws.wait_all({l, a, b}, 0.02))
    assert.is_true(a:is_set()) -- not taken alone
    local p = spawn("assert(ws.open_event(arg[1])):set()", b:name())
    assert.is_true(ws.wait_all({l, a, b}, 20))
    finish(p)
    assert.is_true(l:is_set())
    assert.is_false(a:is_set())
    assert.is_false(b:is_set())
  end)

  it("wake a cqueues loop when another process sets them", function()
    local cqueues = require "cqueues"
    local ev = ws.event{name = unique("cq"), manual_reset = false}
    local ack = ws.event{name = unique("ack"), manual_reset = false}
    local p = spawn([[
      local e, ack = assert(ws.open_event(arg[1])), assert(ws.open_event(arg[2]))
      for i = 1, 3 do e:set(); assert(ack:wait(20)) end
    ]], ev:name(), ack:name())
    local cq = cqueues.new()
    local got, polls = 0, 0
    cq:wrap(function()
      while got < 3 do
        cqueues.poll(ev)   -- the event's descriptor, through the monitor
        polls = polls + 1
        if ev:wait(0) then
          got = got + 1
          ack:set()        -- the next set only then: none coalesce
        end
      end
    end)
    assert(cq:loop(20))
    finish(p)
    assert.equals(3, got)
    -- a take here quiets the descriptor at once: no spurious wake-ups
    assert.is_true(polls <= 4)
  end)

  it("leave nobody stuck when a process is killed while setting", function()
    local e = ws.event{name = unique("busy")}
    local o = ws.event{name = unique("other"), manual_reset = false}
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local ws = require "wsevent"
      local e, o = assert(ws.open_event(arg[1])), assert(ws.open_event(arg[2]))
      io.stdout:write("ready\n"); io.stdout:flush()
      while true do e:set(); e:reset(); o:set(); o:wait(0) end
    ]])
    f:close()
    for round = 1, 5 do
      local p = io.popen(string.format(
        "LUA_CPATH=%q lua5.4 %s %q %q & echo pid $!; wait", package.cpath, script,
        e:name(), o:name()))
      -- The shell's "pid" and the child's "ready", in either order (the
      -- child may write first); the child is killed whatever happens, or
      -- closing the pipe would wait for it for good.
      local pid, ready
      for _ = 1, 2 do
        local line = p:read("l") or ""
        pid = pid or tonumber(line:match("^pid (%d+)$"))
        ready = ready or line == "ready"
      end
      if pid then
        ws.sleep(0.005)
        os.execute("kill -9 " .. pid)
      end
      p:close()
      assert(pid and ready, "the child did not start")
      assert.is_true(e:reset())   -- its locks are free
      assert.is_falsy(e:wait(0))
      e:set()
      assert.is_true(e:wait(1))
      o:reset(); o:set()
      assert.is_true(o:wait(1))
      assert.is_falsy(o:wait(0))
    end
    os.remove(script)
  end)

  it("lose nothing when a waiting process is killed", function()
    local e = ws.event{name = unique("kill"), manual_reset = false}
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write('local ws = require "wsevent"; assert(ws.open_event(arg[1])):wait()\n')
    f:close()
    local p = io.popen(string.format("LUA_CPATH=%q lua5.4 %s %q >/dev/null & echo $!",
      package.cpath, script, e:name()))
    local pid = assert(tonumber(p:read("l")))
    p:close()
    -- until it sleeps in its wait
    for i = 1, 10000 do
      local st = io.open("/proc/" .. pid .. "/stat")
      local line = st and st:read("a") or ""
      if st then st:close() end
      if line:match("%) S ") then break end
      ws.sleep(0.001)
    end
    os.execute("kill -9 " .. pid)
    os.remove(script)
    e:set()
    assert.is_true(e:wait(5))
  end)
end)
