import ctypes
import os
import pathlib

import pytest

import wsevent

ROOT = pathlib.Path(__file__).resolve().parents[2]
HELPER = ROOT / "build" / "helpers" / "libdelayed_set.so"


@pytest.fixture(scope="session")
def upcalls():
    """The core's upcall table, taken from the capsule as a provider would."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return get(wsevent._C_API, b"wsevent._wsevent._C_API")


@pytest.fixture(scope="session")
def c_provider(upcalls):
    """A C library with its own threads that signals events (test helper)."""
    assert HELPER.exists(), f"build {HELPER} first (make)"
    lib = ctypes.CDLL(str(HELPER))
    lib.delayed_set.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint,
                                ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]
    lib.upcall_set.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    lib.queue_later.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                                ctypes.c_void_p, ctypes.c_uint]

    class Provider:
        def set_later(self, event_or_handle, delay_ms=20, count=1, result=None):
            handle = getattr(event_or_handle, "handle", event_or_handle)
            ptr = ctypes.byref(result) if result is not None else None
            assert lib.delayed_set(upcalls, handle, delay_ms, count, ptr) == 0

        def queue_later(self, thread_id, callable, delay_ms=20):
            ctx = wsevent.completion(callable)
            assert lib.queue_later(upcalls, thread_id, wsevent._completion_routine,
                                   ctx, delay_ms) == 0

        def set_now(self, handle):
            return lib.upcall_set(upcalls, handle)

    return Provider()
