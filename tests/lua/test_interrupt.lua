-- Ctrl-C in the standalone interpreter interrupts a blocked wait.
describe("Ctrl-C", function()
  local function run(body)
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write('local wsevent = require "wsevent"\n')
    f:write('io.stdout:write("ready\\n"); io.stdout:flush()\n')
    f:write(body, "\n")
    f:write('print("not interrupted")\n')
    f:close()
    local cmd = string.format(
      "LUA_CPATH=%q lua5.4 %s 2>&1 & pid=$!; sleep 0.5; kill -INT $pid; wait $pid; echo \"status=$?\"",
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
