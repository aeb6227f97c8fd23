-- Overlapped socket I/O from Lua: operations over real sockets.
local wsevent = require "wsevent"
local socket = require "socket"

-- A connected TCP pair of luasocket objects: server end, client end.
local function tcp_pair()
  local listener = assert(socket.bind("127.0.0.1", 0))
  local _, port = listener:getsockname()
  local client = assert(socket.connect("127.0.0.1", port))
  local server = assert(listener:accept())
  listener:close()
  return server, client
end

describe("overlapped operations", function()
  local server, client
  before_each(function() server, client = tcp_pair() end)
  after_each(function() server:close(); client:close() end)

  it("pend, then complete through their own event", function()
    local op = assert(wsevent.recv_overlapped(server, 100))
    assert.equals("recv", op:kind())
    assert.is_false(op:done())
    assert.same({nil, "incomplete"}, {op:result()})
    assert.is_false(op:event():is_set())
    client:send("hello")
    assert.is_true(op:event():wait(5))
    assert.is_true(op:done())
    assert.equals("hello", op:result())
    assert.equals("hello", op:result())
  end)

  it("complete at once when data is there, and still signal", function()
    client:send("now")
    socket.select({server}, nil, 5)
    local ev = wsevent.event()
    local op = assert(wsevent.recv_overlapped(server, 10, {event = ev}))
    assert.is_true(op:done())
    assert.equals(ev, op:event())
    assert.is_true(ev:is_set())
    assert.equals("now", op:result())
  end)

  it("give an empty string at the end of the stream", function()
    local op = assert(wsevent.recv_overlapped(server, 10))
    client:shutdown("send")
    assert.equals("", op:result(true))
  end)

  it("send strings and lists of strings whole, in order", function()
    local big = string.rep("0123456789abcdef", 262144) -- 4 MiB
    local first = assert(wsevent.send_overlapped(server, {big:sub(1, 1000), big:sub(1001)}))
    local second = assert(wsevent.send_overlapped(server, "tail"))
    local got, want = {}, #big + 4
    local have = 0
    client:settimeout(5)
    while have < want do
      local data, err, partial = client:receive(math.min(65536, want - have))
      data = data or partial
      assert(data and #data > 0, err)
      got[#got + 1] = data
      have = have + #data
    end
    assert.equals(#big, first:result(true))
    assert.equals(4, second:result(true))
    assert.is_true(table.concat(got) == big .. "tail")
  end)

  it("take every byte once, in order, with many pending", function()
    local ops = {}
    for i = 1, 16 do ops[i] = assert(wsevent.recv_overlapped(server, 37)) end
    local data = {}
    for i = 1, 3000 do data[i] = string.char(i % 251) end
    data = table.concat(data)
    client:send(data)
    local got = {}
    local have = 0
    while have < #data do
      local op = table.remove(ops, 1)
      local chunk = assert(op:result(true))
      got[#got + 1] = chunk
      have = have + #chunk
      ops[#ops + 1] = assert(wsevent.recv_overlapped(server, 37))
    end
    assert.is_true(table.concat(got) == data)
    for _, op in ipairs(ops) do op:cancel() end
  end)

  it("account for every byte over 10,000 operations", function()
    local data = {}
    for i = 1, 30000 do data[i] = string.char(i * 13 % 256) end
    data = table.concat(data)
    local got, have, ops, sent = {}, 0, 0, 0
    local pending = {}
    for i = 1, 8 do pending[i] = assert(wsevent.recv_overlapped(server, 1 + i % 3)) end
    while have < #data do
      if sent < #data then -- feed in slices the socket buffer always takes
        local n = math.min(4096, #data - sent)
        assert(wsevent.send_overlapped(client, data:sub(sent + 1, sent + n)):result(true))
        sent = sent + n
      end
      while have < sent do
        local chunk = assert(table.remove(pending, 1):result(true))
        got[#got + 1] = chunk
        have = have + #chunk
        ops = ops + 1
        pending[#pending + 1] = assert(wsevent.recv_overlapped(server, 1 + ops % 3))
      end
    end
    assert.is_true(ops >= 10000)
    assert.is_true(table.concat(got) == data)
    for _, op in ipairs(pending) do assert.is_true(op:cancel()) end
  end)

  it("fail with the peer's reset", function()
    local op = assert(wsevent.recv_overlapped(server, 10))
    assert(client:setoption("linger", {on = true, timeout = 0}))
    client:close()
    local ok, msg, code = op:result(true)
    assert.is_nil(ok)
    assert.equals(104, code) -- ECONNRESET
    assert.matches("reset", msg)
  end)

  it("run a routine in this thread's alertable wait", function()
    local seen = {}
    local op = assert(wsevent.recv_overlapped(server, 10, {
      routine = function(o) seen[#seen + 1] = {o, o:result()} end}))
    assert.is_nil(op:event())
    client:send("rt")
    op:result(true)
    assert.same({}, seen)
    assert.is_true(wsevent.sleep(5, true))
    assert.equals(op, seen[1][1])
    assert.equals("rt", seen[1][2])
  end)

  it("take the routine itself in place of the options", function()
    local seen = {}
    local op = assert(wsevent.recv_overlapped(server, 10, function(o)
      seen[#seen + 1] = {o, o:result()}
    end))
    assert.is_nil(op:event())
    client:send("fn")
    assert.is_true(wsevent.sleep(5, true))
    assert.equals(op, seen[1][1])
    assert.equals("fn", seen[1][2])
  end)

  it("keep nothing of a routine once it ran", function()
    -- Each start keeps its function and operation until the routine runs
    -- (or is released); a loop of them leaves the registry as it found it.
    local function registry_size()
      collectgarbage(); collectgarbage()
      local n = 0
      for _ in pairs(debug.getregistry()) do n = n + 1 end
      return n
    end
    local count, aborted = 0, nil
    local function again(o)
      count = count + 1
      assert.equals("z", o:result())
      if count < 200 then
        assert(wsevent.recv_overlapped(server, 1, again))
        client:send("z")
      end
    end
    local before = registry_size()
    assert(wsevent.recv_overlapped(server, 1, again))
    client:send("z")
    while count < 200 do assert.is_true(wsevent.sleep(5, true)) end
    local op = assert(wsevent.recv_overlapped(server, 1, function(o)
      aborted = select(3, o:result())
    end))
    assert.is_true(op:cancel())
    assert.is_true(wsevent.sleep(5, true))
    assert.equals(wsevent.WSEVENT_EABORTED, aborted)
    assert.equals(200, count)
    op = nil
    -- The luaL_ref free list may keep a slot or two.
    assert.is_true(registry_size() <= before + 2)
  end)

  it("report a routine's error from the wait", function()
    wsevent.send_overlapped(server, "x", {routine = function() error("from the routine") end})
    assert.has_error(function() wsevent.sleep(5, true) end, "from the routine")
  end)

  it("cancel: aborted, and the others still take the data", function()
    local first = assert(wsevent.recv_overlapped(server, 10))
    local second = assert(wsevent.recv_overlapped(server, 10))
    assert.is_true(second:cancel())
    assert.is_false(second:cancel())
    local ok, msg, code = second:result()
    assert.is_nil(ok)
    assert.equals(wsevent.WSEVENT_EABORTED, code)
    assert.equals(wsevent.strerror(code), msg)
    client:send("one")
    assert.equals("one", first:result(true))
  end)

  it("close_socket completes pending operations aborted", function()
    local s2, c2 = tcp_pair()
    local op = assert(wsevent.recv_overlapped(s2, 10))
    assert.is_true(wsevent.close_socket(s2))
    assert.equals(wsevent.WSEVENT_EABORTED, select(3, op:result(true)))
    c2:close()
  end)

  it("are cancelled when collected while pending", function()
    local op = assert(wsevent.recv_overlapped(server, 16))
    op = nil
    collectgarbage(); collectgarbage()
    client:send("after")
    server:settimeout(5)
    assert.equals("after", server:receive(5))
  end)

  it("are pollable by cqueues", function()
    local cqueues = require "cqueues"
    local op = assert(wsevent.recv_overlapped(server, 10))
    local cq = cqueues.new()
    local got
    cq:wrap(function()
      while not op:done() do cqueues.poll(op, 5) end
      got = op:result()
    end)
    cq:wrap(function() cqueues.sleep(0.01); client:send("cq") end)
    assert(cq:loop(5))
    assert.equals("cq", got)
  end)
end)

describe("accept, connect and datagrams", function()
  it("accept and connect", function()
    local listener = assert(socket.bind("127.0.0.1", 0))
    local _, port = listener:getsockname()
    local accepting = assert(wsevent.accept_overlapped(listener))
    local client = socket.tcp4()
    local connecting = assert(wsevent.connect_overlapped(client, "127.0.0.1", port))
    assert.is_true(connecting:result(true))
    local fd, host, peer_port = accepting:result(true)
    assert.equals("number", math.type(fd) and "number")
    assert.equals("127.0.0.1", host)
    assert.equals(select(2, client:getsockname()), tostring(peer_port))
    -- luasocket still sees a "master" object (the connect went past it):
    -- send through wsevent.
    assert.equals(2, wsevent.send_overlapped(client, "hi"):result(true))
    local reading = assert(wsevent.recv_overlapped(fd, 2))
    assert.equals("hi", reading:result(true))
    wsevent.close_socket(fd)
    client:close()
    listener:close()
  end)

  it("trust a descriptor accept_overlapped handed out, until close_socket", function()
    -- An operation that must wait skips the check that the descriptor is
    -- still the record's socket when the descriptor came from the
    -- library's accept and was not given back through close_socket.
    local helper = require "testhelper"
    local listener = assert(socket.bind("127.0.0.1", 0))
    local _, port = listener:getsockname()
    local accepting = assert(wsevent.accept_overlapped(listener))
    local client = assert(socket.connect("127.0.0.1", port))
    local fd = assert(accepting:result(true))
    local seen = {}
    local function routine(op) seen[#seen + 1] = {op:result()} end
    -- A receive that waits: the socket joins this thread's routines' set.
    assert(wsevent.recv_overlapped(fd, 10, {routine = routine}))
    client:send("a")
    assert.is_true(wsevent.sleep(5, true))
    assert.same({{"a"}}, seen)
    -- Another socket on the number behind the library's back (a program
    -- bug): trusted, the receive waits on the old socket's record.
    local other, other_peer = tcp_pair()
    assert.is_true(helper.dup2(math.tointeger(other:getfd()), fd))
    assert(wsevent.recv_overlapped(fd, 10, {routine = routine}))
    other_peer:send("b")
    assert.is_false(wsevent.sleep(0.1, true))
    assert.equals(1, #seen)
    -- close_socket completes it aborted and ends the trust: the number
    -- named by yet another socket is checked, and works.
    assert.is_true(wsevent.close_socket(fd))
    assert.is_true(wsevent.sleep(5, true))
    assert.equals(2, #seen)
    assert.is_nil(seen[2][1])
    local third, third_peer = tcp_pair()
    assert.is_true(helper.dup2(math.tointeger(third:getfd()), fd))
    assert(wsevent.recv_overlapped(fd, 10, {routine = routine}))
    assert.is_false(wsevent.sleep(0.01, true))
    assert.is_true(helper.dup2(math.tointeger(other:getfd()), fd)) -- again
    assert(wsevent.recv_overlapped(fd, 10, {routine = routine}))
    assert.is_true(wsevent.sleep(5, true)) -- the check dropped the record
    assert.equals("b", seen[#seen][1])
    wsevent.close_socket(fd)
    for _, x in ipairs{client, listener, other, other_peer, third, third_peer} do
      x:close()
    end
  end)

  it("keep a receive's result when its buffer serves the next", function()
    local server, client = tcp_pair()
    client:send("first")
    local one = assert(wsevent.recv_overlapped(server, 65536))
    assert.equals("first", one:result(true))
    client:send("second")
    local two = assert(wsevent.recv_overlapped(server, 65536))
    assert.equals("second", two:result(true))
    assert.equals("first", one:result())
    assert.equals("second", two:result())
    server:close(); client:close()
  end)

  it("a refused connect gives the system's error", function()
    local listener = assert(socket.bind("127.0.0.1", 0))
    local _, port = listener:getsockname()
    listener:close()
    local client = socket.tcp4()
    local op, msg, code = wsevent.connect_overlapped(client, "127.0.0.1", port)
    if op then op, msg, code = op:result(true) end
    assert.is_nil(op)
    assert.equals(111, code) -- ECONNREFUSED
    assert.matches("refused", msg)
    client:close()
  end)

  it("datagrams carry their address", function()
    local u1, u2 = socket.udp(), socket.udp()
    assert(u1:setsockname("127.0.0.1", 0))
    assert(u2:setsockname("127.0.0.1", 0))
    local _, port1 = u1:getsockname()
    local _, port2 = u2:getsockname()
    local op = assert(wsevent.recvfrom_overlapped(u1, 100))
    local sent = assert(wsevent.sendto_overlapped(u2, "datagram", "127.0.0.1", tonumber(port1)))
    assert.equals(8, sent:result(true))
    local data, host, port = op:result(true)
    assert.equals("datagram", data)
    assert.equals("127.0.0.1", host)
    assert.equals(tonumber(port2), port)
    u1:close(); u2:close()
  end)
end)

describe("what an operation leaves behind", function()
  local function fd_count()
    local f = assert(io.open("/proc/self/stat")) -- opened by this process
    local pid = f:read("n")
    f:close()
    local n = 0
    local ls = io.popen("ls /proc/" .. pid .. "/fd")
    for _ in ls:lines() do n = n + 1 end
    ls:close()
    return n
  end

  it("a list given through __index and __len is read once and kept", function()
    -- Its strings live only while something holds them: the operation
    -- keeps its own copy, so a collection before the send takes nothing.
    local server, client = tcp_pair()
    local items = {}
    for i = 1, 8 do items[i] = string.rep(string.char(64 + i), 4096) end
    local proxy = setmetatable({}, {
      __len = function() return #items end,
      __index = function(_, i) return items[i] and items[i] .. "" end,
    })
    local op = assert(wsevent.send_overlapped(server, proxy))
    collectgarbage("collect")
    assert.equals(8 * 4096, op:result(true))
    client:settimeout(5)
    assert.equals(table.concat(items), client:receive(8 * 4096))
    server:close(); client:close()
  end)

  it("a completed accept nobody took is closed when collected", function()
    local listener = assert(socket.bind("127.0.0.1", 0))
    local _, port = listener:getsockname()
    collectgarbage("collect")
    local before = fd_count()
    local clients = {}
    for i = 1, 20 do
      local op = assert(wsevent.accept_overlapped(listener))
      clients[i] = assert(socket.connect("127.0.0.1", port))
      op:event():wait(5)
      assert.is_true(op:done())
    end
    collectgarbage("collect")
    collectgarbage("collect")
    assert.is_true(fd_count() - before - #clients <= 5)
    clients[1]:settimeout(5)
    assert.same({nil, "closed", ""}, {clients[1]:receive(1)})
    for _, c in ipairs(clients) do c:close() end
    listener:close()
  end)

  it("bytes and flags: what moved, and a truncated datagram", function()
    local u1, u2 = socket.udp(), socket.udp()
    assert(u1:setsockname("127.0.0.1", 0))
    local _, port1 = u1:getsockname()
    local op = assert(wsevent.recvfrom_overlapped(u1, 4))
    assert.is_nil(op:bytes())
    assert.is_nil(op:flags())
    assert(u2:sendto("too long", "127.0.0.1", port1))
    assert.equals("too ", (op:result(true)))
    assert.equals(4, op:bytes())
    assert.is_true(op:flags() & wsevent.MSG_TRUNC ~= 0)
    local ok = assert(wsevent.recvfrom_overlapped(u1, 100))
    assert(u2:sendto("fits", "127.0.0.1", port1))
    assert.equals("fits", (ok:result(true)))
    assert.equals(0, ok:flags())
    u1:close(); u2:close()
    -- A send cancelled half-way: bytes says how much went.
    local server, client = tcp_pair()
    local big = assert(wsevent.send_overlapped(server, string.rep("z", 64 << 20)))
    assert.is_true(big:cancel())
    local ok, _, code = big:result()
    assert.is_nil(ok)
    assert.equals(wsevent.WSEVENT_EABORTED, code)
    assert.is_true(big:bytes() > 0 and big:bytes() < 64 << 20)
    server:close(); client:close()
  end)
end)

describe("overlapped wrong inputs", function()
  it("raise clear errors", function()
    local server, client = tcp_pair()
    assert.has_error(function() wsevent.recv_overlapped({}, 10) end)
    assert.has_error(function() wsevent.recv_overlapped(server, -1) end,
                     "bad argument #2 to 'recv_overlapped' (out of range)")
    assert.has_error(function() wsevent.recv_overlapped(server, 1, {evnet = 1}) end,
                     "bad argument #3 to 'recv_overlapped' (unknown option 'evnet')")
    assert.has_error(function() wsevent.recv_overlapped(server, 1, {routine = 3}) end,
                     "bad argument #3 to 'recv_overlapped' (routine must be a function)")
    assert.has_error(function() wsevent.recv_overlapped(server, 1, "routine") end,
                     "bad argument #3 to 'recv_overlapped' (table or function expected, got string)")
    local closed = wsevent.event(); closed:close()
    assert.has_error(function() wsevent.recv_overlapped(server, 1, {event = closed}) end,
                     "bad argument #3 to 'recv_overlapped' (event is closed)")
    assert.has_error(function() wsevent.send_overlapped(server, 42) end)
    assert.has_error(function() wsevent.send_overlapped(server, {"ok", 3}) end,
                     "bad argument #2 to 'send_overlapped' (item 2 is not a string)")
    local ok, _, code = wsevent.recv_overlapped(server, 1, {flags = 2}) -- MSG_PEEK
    assert.is_nil(ok)
    assert.equals(wsevent.WSEVENT_EINVAL, code)
    local f = io.tmpfile()
    ok, _, code = wsevent.recv_overlapped(0, 1)
    assert.is_nil(ok)
    assert.equals(wsevent.WSEVENT_ENOTSOCK, code)
    f:close()
    local u = socket.udp4()
    assert.has_error(function() wsevent.sendto_overlapped(u, "x", "127.0.0.1", 70000) end,
                     "bad argument #4 to 'sendto_overlapped' (port out of range)")
    u:close()
    local n = socket.tcp4()
    ok, _, code = wsevent.send_overlapped(n, "never connected")
    assert.is_nil(ok)
    assert.is_true(code > 0) -- the system's errno
    n:close()
    server:close(); client:close()
  end)
end)
