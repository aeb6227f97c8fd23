-- event_select / enum_network_events with luasocket, and timers.
local wsevent = require "wsevent"
local socket = require "socket"

local function listener()
  local l = assert(socket.bind("127.0.0.1", 0))
  return l, select(2, l:getsockname())
end

local function tcp_pair()
  local l, port = listener()
  local c = assert(socket.connect("127.0.0.1", port))
  local s = assert(l:accept())
  l:close()
  return c, s
end

local function next_events(sock, ev)
  assert(ev:wait(5), "no network event within 5 s")
  return assert(wsevent.enum_network_events(sock, ev))
end

-- Until a reset has arrived: a socket the kernel has closed has no peer
-- (luasocket has no poll, and reading the reset would consume it).
local function wait_reset(s)
  for _ = 1, 5000 do
    if not s:getpeername() then return end
    socket.sleep(0.001)
  end
  error("no reset within 5 s")
end

describe("event_select", function()
  it("records accept with its error code", function()
    local l, port = listener()
    local ev = wsevent.event()
    assert.is_true(wsevent.event_select(l, ev, wsevent.FD_ACCEPT))
    local c = socket.connect("127.0.0.1", port)
    local r = next_events(l, ev)
    assert.equals(wsevent.FD_ACCEPT, r.events)
    assert.is_true(r.accept)
    assert.equals(0, r.errors.accept)
    c:close(); l:close()
  end)

  it("takes integer descriptors too", function()
    local l = listener()
    assert.is_true(wsevent.event_select(math.tointeger(l:getfd()), wsevent.event(), wsevent.FD_ACCEPT))
    l:close()
  end)

  it("takes the float luasocket's getfd() returns, as luaL_checkinteger would", function()
    local c, s = tcp_pair()
    local fd = s:getfd()
    assert.equals("float", math.type(fd))
    local ev = wsevent.event()
    assert.is_true(wsevent.event_select(fd, ev, wsevent.FD_READ))
    c:send("x")
    assert.is_true(next_events(fd, ev).read)
    assert.equals("x", wsevent.recv(fd, 10))
    assert.has_error(function() wsevent.event_select(fd + 0.5, ev, wsevent.FD_READ) end,
                     "bad argument #1 to 'event_select' (number has no integer representation)")
    c:close(); s:close()
  end)

  it("records read again, at the next wait, while data is left unread", function()
    local c, s = tcp_pair()
    local ev = wsevent.event()
    wsevent.event_select(s, ev, wsevent.FD_READ)
    c:send("0123456789")
    assert.is_true(next_events(s, ev).read)
    -- As on Windows, nothing is recorded again until a read; luasocket's
    -- reads go past wsevent, so the next wait re-enables FD_READ itself.
    assert.is_false(ev:is_set())
    assert.is_true(next_events(s, ev).read)
    s:settimeout(0)
    assert.equals("0123456789", s:receive(10))
    assert.equals(0, wsevent.enum_network_events(s, ev).events)
    assert.is_nil(ev:wait(0))
    c:close(); s:close()
  end)

  it("records a graceful close after the data, and a reset", function()
    local c, s = tcp_pair()
    local ev = wsevent.event()
    wsevent.event_select(s, ev, wsevent.FD_READ | wsevent.FD_CLOSE)
    c:send("bye")
    c:close()
    s:settimeout(0)
    local data, closed = "", nil
    for _ = 1, 10 do
      local r = next_events(s, ev)
      if r.close then closed = r.errors.close; break end
      if r.read then
        local got, _, partial = s:receive(100)
        data = data .. (got or partial or "")
      end
    end
    assert.equals("bye", data)
    assert.equals(0, closed)
    s:close()
  end)

  it("records a reset before the select as a close, and recv still gives it", function()
    local c, s = tcp_pair()
    c:send("abc")
    c:setoption("linger", {on = true, timeout = 0})
    c:close()
    wait_reset(s)
    local ev = wsevent.event()
    assert(wsevent.event_select(s, ev, wsevent.FD_READ | wsevent.FD_WRITE | wsevent.FD_CLOSE))
    local r = next_events(s, ev)
    assert.is_true(r.close)
    assert.is_nil(r.read)
    assert.equals(104, r.errors.close) -- ECONNRESET
    assert.equals("abc", wsevent.recv(s, 100))
    local data, msg, code = wsevent.recv(s, 100)
    assert.is_nil(data)
    assert.equals(104, code) -- not a clean end of stream
    s:close()
  end)

  it("records connect refused with its errno", function()
    local l, port = listener()
    l:close()
    local c = socket.tcp4()
    local ev = wsevent.event()
    wsevent.event_select(c, ev, wsevent.FD_CONNECT)
    c:connect("127.0.0.1", port)
    local r = next_events(c, ev)
    assert.is_true(r.connect)
    assert.equals(111, r.errors.connect) -- ECONNREFUSED on Linux
    c:close()
  end)

  it("reselects and cancels", function()
    local c, s = tcp_pair()
    local e1, e2 = wsevent.event(), wsevent.event()
    wsevent.event_select(s, e1, wsevent.FD_READ)
    wsevent.event_select(s, e2, wsevent.FD_READ)
    c:send("x")
    assert.is_true(e2:wait(5))
    assert.is_false(e1:is_set())
    assert.is_true(wsevent.event_select(s, nil, 0))
    assert.equals(0, wsevent.enum_network_events(s).events)
    c:close(); s:close()
  end)

  it("answers nil, message, code for a closed socket", function()
    local c, s = tcp_pair()
    wsevent.event_select(s, wsevent.event(), wsevent.FD_READ)
    local fd = math.tointeger(s:getfd())
    s:close()
    local ok, msg, code = wsevent.enum_network_events(fd)
    assert.is_nil(ok)
    assert.equals(wsevent.WSEVENT_ENOTSOCK, code)
    assert.is_string(msg)
    c:close()
  end)

  it("trusts only the socket object that was selected, while it is open", function()
    -- The selected object, still open on its descriptor, is enumerated
    -- without the check that the number is still its socket; an integer,
    -- or another object on a reused number, gets the check.
    local helper = require "testhelper"
    local c, s = tcp_pair()
    local ev = wsevent.event()
    assert.is_true(wsevent.event_select(s, ev, wsevent.FD_READ | wsevent.FD_CLOSE))
    c:send("y")
    assert.is_true(ev:wait(5)) -- set by recording: nothing enumerated yet
    -- Another file put on the number behind the object's back (a program
    -- bug): the object is trusted and sees its selection's record.
    local fd = math.tointeger(s:getfd())
    local c2, s2 = tcp_pair()
    assert.is_true(helper.dup2(math.tointeger(s2:getfd()), fd))
    assert.equals(wsevent.FD_READ, assert(wsevent.enum_network_events(s, ev)).events)
    assert.is_false(ev:is_set())
    assert.equals(0, assert(wsevent.enum_network_events(fd)).events) -- checked: dropped
    -- Closed, and the number reused under a new object: checked, dropped.
    local c3, s3 = tcp_pair()
    assert.is_true(wsevent.event_select(s3, ev, wsevent.FD_READ))
    local n = math.tointeger(s3:getfd())
    c3:send("z")
    assert.is_true(ev:wait(5))
    s3:close()
    local fresh = assert(socket.tcp4())
    assert.is_true(helper.dup2(math.tointeger(fresh:getfd()), n))
    local reused = assert(socket.tcp4())
    reused:close()
    reused:setfd(n) -- luasocket's own: an object on that number
    assert.equals(0, assert(wsevent.enum_network_events(reused)).events)
    for _, x in ipairs{c, s, c2, s2, c3, fresh, reused} do x:close() end
  end)

  it("trusts a socket accepted with wsevent.accept as selected", function()
    local helper = require "testhelper"
    local l, port = listener()
    local ev = wsevent.event()
    assert.is_true(wsevent.event_select(l, ev, wsevent.FD_ACCEPT | wsevent.FD_READ))
    local c = assert(socket.connect("127.0.0.1", port))
    assert.is_true(ev:wait(5)) -- FD_ACCEPT: left in the record
    local conn = assert(wsevent.accept(l))
    ev:reset()
    c:send("hi")
    assert.is_true(ev:wait(5)) -- set by recording conn's FD_READ
    local other = assert(socket.tcp4())
    assert.is_true(helper.dup2(math.tointeger(other:getfd()), math.tointeger(conn:getfd())))
    assert.equals(wsevent.FD_READ, assert(wsevent.enum_network_events(conn, ev)).events)
    assert.equals(0, assert(wsevent.enum_network_events(math.tointeger(conn:getfd()))).events)
    for _, x in ipairs{c, conn, other, l} do x:close() end
  end)

  it("reads a luasocket object's descriptor as its getfd would, open or closed", function()
    -- The glue reads the descriptor inside luasocket's objects once their
    -- class has shown that getfd agrees (network.c): a closed object must
    -- still be refused, and one moved to another number (setfd) followed.
    local c, s = tcp_pair()
    local ev = wsevent.event()
    assert.is_true(wsevent.event_select(s, ev, wsevent.FD_READ))
    c:send("a")
    assert.is_true(next_events(s, ev).read) -- the class is known from here
    assert.equals("a", wsevent.recv(s, 10))
    local c2, s2 = tcp_pair()
    c2:send("from the second")
    local first = s:getfd()
    s:setfd(s2:getfd()) -- luasocket's own: the object now names s2's socket
    assert.equals("from the second", wsevent.recv(s, 100))
    s:setfd(first)
    s2:close()
    assert.has_error(function() wsevent.recv(s2, 10) end,
                     "bad argument #1 to 'recv' (socket is closed)")
    assert.has_error(function() wsevent.send(s2, "x") end,
                     "bad argument #1 to 'send' (socket is closed)")
    assert.has_error(function() wsevent.enum_network_events(s2) end,
                     "bad argument #1 to 'enum_network_events' (socket is closed)")
    -- A table with getfd is asked each time.
    local calls = 0
    local wrapper = {getfd = function() calls = calls + 1; return s:getfd() end}
    c:send("b")
    assert.equals("b", wsevent.recv(wrapper, 10))
    assert.equals(0, assert(wsevent.enum_network_events(wrapper)).events)
    assert.equals(2, calls)
    for _, x in ipairs{c, s, c2} do x:close() end
  end)

  it("answers an enumeration with a plain table, errors included", function()
    local c, s = tcp_pair()
    local ev = wsevent.event()
    assert.is_true(wsevent.event_select(s, ev, wsevent.FD_READ | wsevent.FD_CLOSE))
    c:send("x")
    local r = next_events(s, ev)
    assert.is_nil(getmetatable(r))
    assert.same({events = wsevent.FD_READ, read = true, errors = {read = 0}}, r)
    assert.equals("x", wsevent.recv(s, 10))
    -- A reset: FD_CLOSE with its errno.
    c:setoption("linger", {on = true, timeout = 0})
    c:close()
    wait_reset(s)
    r = next_events(s, ev)
    assert.is_true(r.close)
    assert.is_true(r.errors.close > 0)
    s:close()
  end)

  it("refuses Windows-only bits and bad arguments", function()
    local s = socket.tcp4()
    local ok, _, code = wsevent.event_select(s, wsevent.event(), wsevent.FD_QOS)
    assert.is_nil(ok)
    assert.equals(wsevent.WSEVENT_ENOTSUP, code)
    assert.has_error(function() wsevent.event_select(s, wsevent.event(), 1 << 12) end)
    assert.has_error(function() wsevent.event_select("s", wsevent.event(), 1) end)
    assert.has_error(function() wsevent.event_select(s, nil, 1) end)
    assert.has_error(function() wsevent.event_select(socket.tcp(), wsevent.event(), 1) end,
                     "bad argument #1 to 'event_select' (socket has no descriptor yet, or is closed (luasocket's tcp() makes one on bind or connect; tcp4() at once))")
    local closed = socket.tcp4()
    closed:close()
    assert.has_error(function() wsevent.event_select(closed, wsevent.event(), 1) end,
                     "bad argument #1 to 'event_select' (socket has no descriptor yet, or is closed (luasocket's tcp() makes one on bind or connect; tcp4() at once))")
    local l = listener()
    l:close()
    assert.has_error(function() wsevent.event_select(l, wsevent.event(), 1) end,
                     "bad argument #1 to 'event_select' (socket is closed)")
    -- no silent truncation of integers
    assert.has_error(function() wsevent.event_select((1 << 32) + 3, wsevent.event(), 1) end,
                     "bad argument #1 to 'event_select' (not a descriptor (out of range))")
    assert.has_error(function() wsevent.strerror(1 << 32) end)
    assert.has_error(function() wsevent.recv(s, 1 << 40) end)
    assert.has_error(function() wsevent.timer_start(wsevent.event(), -1) end)
    assert.has_error(function() wsevent.timer_start(wsevent.event()) end)
    s:close()
  end)
end)

describe("timers", function()
  it("fire once, or periodically until cancelled", function()
    local ev = wsevent.event{manual_reset = false}
    local t0 = socket.gettime()
    local t = wsevent.timer_start(ev, 0.05)
    assert.is_true(ev:wait(5))
    assert.is_true(socket.gettime() - t0 >= 0.049)
    assert.is_nil(ev:wait(0.1))
    assert.is_nil(wsevent.timer_cancel(t)) -- finished
    t = wsevent.timer_start(ev, 0, 0.02)
    for _ = 1, 3 do assert.is_true(ev:wait(5)) end
    assert.is_true(wsevent.timer_cancel(t))
    ev:wait(0)
    assert.is_nil(ev:wait(0.1))
  end)
end)

describe("the socket calls wsevent sees", function()
  it("recv re-enables FD_READ exactly as Winsock's recv", function()
    local c, s = tcp_pair()
    local ev = wsevent.event()
    wsevent.event_select(s, ev, wsevent.FD_READ)
    c:send("0123456789")
    assert.is_true(next_events(s, ev).read)
    assert.equals("0123", wsevent.recv(s, 4))
    assert.is_true(ev:is_set()) -- data remains: recorded again at once
    assert.is_true(wsevent.enum_network_events(s, ev).read)
    assert.equals("456789", wsevent.recv(s, 100))
    assert.is_nil(ev:wait(0.05))
    local data, msg, code = wsevent.recv(s, 10)
    assert.is_nil(data); assert.is_string(msg); assert.equals(11, code) -- EAGAIN
    assert.equals("", wsevent.recv(s, 0))
    c:close(); s:close()
  end)

  it("recv gives each byte once, whatever the sizes asked", function()
    -- Small and large reads (one beyond the buffer recv keeps) in turn.
    local c, s = tcp_pair()
    c:settimeout(5); s:settimeout(5)
    local sent, got = {}, {}
    local sizes = {1, 70000, 3, (1 << 20) + 1, 64, 65536}
    for round = 1, 12 do
      local chunk = string.rep(string.char(65 + round), 1000 * round)
      sent[#sent + 1] = chunk
      assert(c:send(chunk))
      local want = #chunk
      while want > 0 do
        local data = wsevent.recv(s, sizes[(round + want) % #sizes + 1])
        if data then
          got[#got + 1] = data
          want = want - #data
        end
      end
    end
    assert.equals(table.concat(sent), table.concat(got))
    c:close(); s:close()
  end)

  it("send takes string.sub's range and reports a full buffer", function()
    local c, s = tcp_pair()
    local ev = wsevent.event()
    wsevent.event_select(c, ev, wsevent.FD_WRITE)
    assert.is_true(next_events(c, ev).write)
    assert.equals(3, wsevent.send(c, "abcdef", 2, 4))
    assert.equals(2, wsevent.send(c, "abcdef", -2))
    assert.equals(0, wsevent.send(c, "abcdef", 5, 2))
    s:settimeout(5)
    assert.equals("bcdef", s:receive(5))
    local big, sent = string.rep("x", 65536), 0
    while true do
      local n, _, code = wsevent.send(c, big)
      if not n then assert.equals(11, code); break end
      sent = sent + n
    end
    assert.is_false(ev:is_set())
    while sent > 0 do sent = sent - #assert(s:receive(math.min(sent, 65536))) end
    assert.is_true(next_events(c, ev).write) -- room again
    c:close(); s:close()
  end)

  it("accept passes the listener's selection on", function()
    local l, port = listener()
    local ev = wsevent.event()
    wsevent.event_select(l, ev, wsevent.FD_ACCEPT | wsevent.FD_READ)
    local c = assert(socket.connect("127.0.0.1", port))
    assert.is_true(next_events(l, ev).accept)
    local s = assert(wsevent.accept(l))
    c:send("hi")
    assert.is_true(next_events(s, ev).read)
    assert.equals("hi", wsevent.recv(s, 10))
    local none, msg = wsevent.accept(l)
    assert.is_nil(none); assert.equals("timeout", msg)
    -- an integer descriptor gives an integer descriptor
    local c2 = assert(socket.connect("127.0.0.1", port))
    assert.is_true(next_events(l, ev).accept)
    local fd = assert(wsevent.accept(math.tointeger(l:getfd())))
    assert.is_true(math.type(fd) == "integer")
    c2:send("yo")
    assert.is_true(next_events(fd, ev).read)
    assert.equals("yo", wsevent.recv(fd, 10))
    wsevent.event_select(fd, nil, 0)
    c:close(); c2:close(); s:close(); l:close()
  end)
end)
