"""The seed's model from Python: a SWIG-wrapped C provider signals our events."""
import os
import subprocess
import sys
import threading
import time

import device  # the sample provider (bindings/sample), wrapped by SWIG
import wsevent

start = time.monotonic()


def say(who, text):
    print(f"[{(time.monotonic() - start) * 1000:6.1f} ms] {who}: {text}", flush=True)


print("wsevent demo (Python): the C provider 'device' completes operations\n")

names = ["read", "write", "connect"]
events = [wsevent.Event() for _ in names]           # manual-reset, as WSACreateEvent
for name, ev, delay in zip(names, events, (30, 10, 50)):
    device.device_start(ev, delay, None)
    say("script", f"started '{name}' ({delay} ms) with event handle {ev.handle:#x}")
for _ in names:
    i = wsevent.wait_any(events)
    say("script", f"wait_any -> {i} ('{names[i]}'); resetting it")
    events[i].reset()
    events[i] = wsevent.Event()                      # out of the way

autos = [wsevent.Event(manual_reset=False) for _ in range(3)]
for ev, delay in zip(autos, (20, 5, 40)):
    device.device_start(ev, delay, None)
say("script", "wait_all on three auto-reset events")
wsevent.wait_all(autos)
say("script", f"wait_all done; consumed together: {[e.is_set() for e in autos]}")

ev = wsevent.Event()
device.device_start(ev, 20, lambda: say("script", f"completion routine runs in thread "
                                                  f"{threading.current_thread().name}"))
say("script", "started 'recv' with a completion routine; alertable sleep")
wsevent.sleep(5, alertable=True)

ev.close()
late = wsevent.Event()
op = device.device_start(late, 0, None)
late.close()
device.device_complete(op)
time.sleep(0.02)
say("device", f"set on an event the script had closed -> {device.device_result(op)} "
              f"(WSEVENT_EINVAL_HANDLE = {wsevent.WSEVENT_EINVAL_HANDLE})")

# The same model with a real provider: overlapped socket I/O.
import asyncio
import socket

a, b = socket.socketpair()
threading.Timer(0.02, b.send, (b"ping",)).start()
op = wsevent.recv_overlapped(a, 64)
say("script", f"overlapped receive started: {op}; its event is set at completion")
op.event.wait()
say("script", f"event set: {op.result()!r}")
wsevent.send_overlapped(a, b"pong", routine=lambda o: say(
    "script", f"send routine, in thread {threading.current_thread().name}: "
              f"{o.result()} bytes"))
wsevent.sleep(5, alertable=True)
say("peer", f"got {b.recv(64)!r}")


async def exchange():
    asyncio.get_running_loop().call_later(0.02, b.send, b"from asyncio")
    return await wsevent.recv_overlapped(a, 64)  # no thread per operation

say("script", f"awaited in asyncio: {asyncio.run(exchange())!r}")
wsevent.close_socket(a)
b.close()

# One event, two processes: a named event, opened again by an exec'd child.
name = f"demo-{os.getpid()}"
done = wsevent.Event(name=name, manual_reset=False)
child = subprocess.Popen([sys.executable, "-c",
                          "import sys, wsevent; wsevent.Event.open(sys.argv[1]).set()",
                          name], env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
say("script", f"named event {done.name!r}: waiting for process {child.pid}")
done.wait(10)
child.wait()
say("script", f"set by process {child.pid}, {done!r}")
done.close()
print("\ndemo finished")
