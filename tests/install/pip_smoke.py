"""Run by make test-pip with the venv's Python, from outside the tree: the
installed package works, and it is the installed one."""
import asyncio
import os
import sys

import wsevent

source = os.path.join(os.path.realpath(sys.argv[1]), "python")
where = os.path.realpath(wsevent.__file__)
assert not where.startswith(source + os.sep), f"imported from the tree: {where}"
assert "site-packages" in where, where
assert os.path.isfile(os.path.join(os.path.dirname(where), "libwsevent.so.1"))
for header in ("wsevent.h", "wsevent_provider.h", "wsevent_python.h"):
    assert os.path.isfile(os.path.join(wsevent.get_include(), header)), header

ev = wsevent.Event(manual_reset=False)
ev.set()
assert wsevent.wait_any([wsevent.Event(), ev], 1) == 1
ev.set()
assert asyncio.run(ev.wait_async(1)) is True
print(f"installed wsevent {wsevent.__version__} works from {os.path.dirname(where)}")
