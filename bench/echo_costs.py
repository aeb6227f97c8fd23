"""What each whole-program echo server spends per message, counted.

Throughput ratios between these servers swing by +-10% on a shared
virtual machine even between two identical servers (the control row of
bench_python.py and bench_lua.lua), more than the servers differ.  So the
work per message is also counted, in ways that do not depend on the
machine's mood:

- user-space instructions per message: the server runs under callgrind;
  its counters are zeroed after a warm-up, then dumped after a timed run
  of the load generator (bench/echo_client.c), which says how many round
  trips it made;
- system calls per message: perf counts the raw_syscalls:sys_enter
  tracepoint of the server (all its threads) over a run of the same load
  generator (skipped where perf cannot: no tracepoints, not root).

Each server is the one bench_python.py / bench_lua.lua measure (their
--serve modes).  Usage: echo_costs.py [python|lua]...; environment:
WSEVENT_ECHO_CLIENT (the load generator), LUA (lua5.4), LUA_CPATH and
PYTHONPATH as for the benchmarks.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ECHO_CLIENT = os.environ.get("WSEVENT_ECHO_CLIENT") or os.path.join(HERE, "..", "build", "echo_client")
LUA = os.environ.get("LUA", "lua5.4")
RUN_SECONDS = 2.0
CONNECTIONS = 10

SERVERS = {
    "python": [("event_select", "wsevent"), ("selectors", "selectors"),
               ("overlapped", "overlapped"), ("asyncio", "asyncio")],
    "lua": [("event_select", "wsevent"), ("socket.select", "select"),
            ("overlapped", "overlapped")],
}
# (language, server, the server it is compared with, whether the counts
# decide: where throughput is a tie within the machine's noise, the server
# must be at least as cheap; where it wins clearly, they are information)
PAIRS = [("python", "event_select", "selectors", True),
         ("python", "overlapped", "asyncio", False),
         ("lua", "event_select", "socket.select", True),
         ("lua", "overlapped", "socket.select", True)]


def server_command(lang, kind):
    if lang == "python":
        return [sys.executable, os.path.join(HERE, "bench_python.py"), "--serve", kind]
    return [LUA, os.path.join(HERE, "bench_lua.lua"), "--serve", kind]


def start(cmd, quiet=False):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL if quiet else None)
    port = int(proc.stdout.readline().split()[-1])  # "12345" or "port 12345"
    return proc, port


def drive(port, seconds):
    """Round trips made by the load generator in `seconds`."""
    out = subprocess.run([ECHO_CLIENT, str(port), str(CONNECTIONS), str(seconds)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout) * seconds


def stop(proc):
    proc.kill()
    proc.wait()


def callgrind_total(path):
    out = subprocess.run(["callgrind_annotate", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "PROGRAM TOTALS" in line:
            return int(line.split()[0].replace(",", ""))
    raise RuntimeError(f"no totals in {path}")


def instructions_per_message(lang, kind, tmp):
    out = os.path.join(tmp, f"cg.{lang}.{kind}")
    proc, port = start(["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={out}"]
                       + server_command(lang, kind), quiet=True)
    try:
        drive(port, 0.5)  # warm up: connections made, caches and tables grown
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
        messages = drive(port, RUN_SECONDS)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
    finally:
        stop(proc)
    dumps = sorted(glob.glob(out + ".*"))
    return callgrind_total(dumps[-1]) / messages


def syscalls_per_message(lang, kind):
    proc, port = start(server_command(lang, kind))
    try:
        drive(port, 0.3)
        perf = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter",
                                 "-p", str(proc.pid)], stderr=subprocess.PIPE, text=True)
        time.sleep(0.2)  # perf attached
        messages = drive(port, RUN_SECONDS)
        perf.send_signal(2)
        _, err = perf.communicate()
    finally:
        stop(proc)
    for line in err.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2].startswith("raw_syscalls:sys_enter"):
            return int(fields[0]) / messages if fields[0].isdigit() else None
    return None


def perf_works():
    if shutil.which("perf") is None:
        return False
    r = subprocess.run(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "true"],
                       capture_output=True, text=True)
    return r.returncode == 0 and "not supported" not in r.stderr and "<not" not in r.stderr


def row(what, value, unit, target="", met=None):
    mark = "" if met is None else ("met" if met else "MISS")
    print(f"| {what:<48} | {value:10.2f} {unit:<6} | {target:<22} | {mark:<4} |")


def main():
    langs = sys.argv[1:] or ["python", "lua"]
    have_valgrind = shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None
    have_perf = perf_works()
    print(f"What the echo servers spend per message ({CONNECTIONS} connections, "
          f"{RUN_SECONDS:g} s runs of bench/echo_client.c)\n")
    print(f"| {'measure':<48} | {'value':>17} | {'target':<22} |      |")
    print("|" + "-" * 50 + "|" + "-" * 19 + "|" + "-" * 24 + "|------|")
    ins, calls = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in langs:
            for name, kind in SERVERS[lang]:
                if have_valgrind:
                    ins[lang, name] = instructions_per_message(lang, kind, tmp)
                    row(f"{lang} {name}: user instructions / message", ins[lang, name], "")
                if have_perf:
                    calls[lang, name] = syscalls_per_message(lang, kind)
                    if calls[lang, name] is not None:
                        row(f"{lang} {name}: system calls / message", calls[lang, name], "")
    for lang, a, b, decides in PAIRS:
        if lang not in langs:
            continue
        target = "<= 1x" if decides else ""
        if (lang, a) in ins:
            r = ins[lang, a] / ins[lang, b]
            row(f"{lang}: instructions, {a} / {b}", r, "x", target, r <= 1 if decides else None)
        if calls.get((lang, a)) is not None and calls.get((lang, b)) is not None:
            r = calls[lang, a] / calls[lang, b]
            row(f"{lang}: system calls, {a} / {b}", r, "x", target, r <= 1 if decides else None)
    if not have_valgrind:
        print("\n(valgrind not installed: no instruction counts)")
    if not have_perf:
        print("\n(perf cannot count tracepoints here: no system call counts)")


if __name__ == "__main__":
    main()
