-- Ctrl-C in the standalone interpreter interrupts a blocked wait.
describe("Ctrl-C", function()
  -- The script says "ready" through a fifo just before it waits, and the
  -- shell sends SIGINT once it has read that: no sleep to guess with. (A
  -- signal that lands just before the wait still interrupts it: lua.c's
  -- hook fires at the next call.)
  local function run(body)
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write('local wsevent = require "wsevent"\n')
    f:write('local fifo = assert(io.open(arg[1], "w")); fifo:write("ready\\n"); fifo:close()\n')
    f:write(body, "\n")
    f:write('print("not interrupted")\n')
    f:close()
    local cmd = string.format(
      "fifo=$(mktemp -u); mkfifo $fifo; LUA_CPATH=%q lua5.4 %s $fifo 2>&1 & pid=$!; " ..
      "read line < $fifo; rm -f $fifo; kill -INT $pid; wait $pid; echo \"status=$?\"",
      package.cpath, script)
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    os.remove(script)
    return out
  end

  for name, body in pairs{
    event = "wsevent.event():wait()",
    wait_any = "wsevent.wait_any({wsevent.event(), wsevent.event()})",
    wait_all = "wsevent.wait_all({wsevent.event(), wsevent.event()}, 1e6)",
    sleep = "wsevent.sleep(nil, true)",
  } do
    it("interrupts " .. name, function()
      local out = run(body)
      assert.matches("interrupted!", out)
      assert.not_matches("not interrupted", out)
      assert.matches("status=1", out)
    end)
  end
end)
