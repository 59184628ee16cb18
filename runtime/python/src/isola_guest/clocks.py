"""``time.process_time`` (and ``thread_time``) measured from the sandbox's start.

wasi-libc emulates the process CPU clock as the monotonic clock minus the
moment its C runtime started, and that moment belongs to the build that
took the heap snapshot: on another machine (or after a reboot) every
reading would be off by an arbitrary amount, often negative. Readings here
count from the sandbox's first call instead, so they are small, positive
and differences between them are unchanged.

That emulated clock also runs while the sandbox waits (``time.sleep``, the
event loop or a thread wait blocked on the host), which a CPU clock does
not: ``time.sleep(1)`` added a second of "CPU time". The guest's blocking
calls go through ``idle``, and the time spent in them is left out.

WASI has no thread CPU clock either: ``time.thread_time`` is this process
clock (the sandbox runs one thread at a time), and ``time.get_clock_info``
describes it under that name too.
"""

import time

_raw_ns = time.process_time_ns
_monotonic_ns = time.monotonic_ns
_origin_ns = 0
_idle_ns = 0  # time spent blocked in ``idle`` since the origin


def restart():
    """Make the clock read zero now (once per sandbox, on its first call)."""
    global _origin_ns, _idle_ns
    _origin_ns = _raw_ns()
    _idle_ns = 0


def idle(fn, *args):
    """``fn(*args)``, a call that blocks the sandbox without computing (a
    sleep, a host poll): its time is not process time."""
    global _idle_ns
    start = _monotonic_ns()
    try:
        return fn(*args)
    finally:
        _idle_ns += _monotonic_ns() - start


def process_time_ns():
    return _raw_ns() - _origin_ns - _idle_ns


def process_time():
    return (_raw_ns() - _origin_ns - _idle_ns) * 1e-9


_c_get_clock_info = time.get_clock_info


def get_clock_info(name, /):
    """``time.get_clock_info``, which also knows ``thread_time``: the
    process clock's (C's raises ValueError: unknown clock)."""
    return _c_get_clock_info("process_time" if name == "thread_time" else name)


def install():
    for fn, original in ((process_time, time.process_time), (process_time_ns, time.process_time_ns)):
        fn.__doc__ = original.__doc__
        fn.__module__ = "time"
        setattr(time, fn.__name__, fn)
    # WASI has no thread CPU clock; the sandbox's one thread is the process.
    if not hasattr(time, "thread_time"):
        time.thread_time = process_time
        time.thread_time_ns = process_time_ns
        get_clock_info.__module__ = "time"
        time.get_clock_info = get_clock_info

