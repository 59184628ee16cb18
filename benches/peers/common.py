"""What the Python peers of `make bench` measure the same way."""

import threading
import time


def private_kib():
    """Sum of the Private_* lines of /proc/self/smaps_rollup (KiB): memory
    only this process holds."""
    total = 0
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_"):
                total += int(line.split()[1])
    return total


def throughput(work, threads, seconds):
    """Calls of `work()` per second, repeated for `seconds` on `threads` threads."""
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def loop(i):
        while time.perf_counter() < deadline:
            work()
            counts[i] += 1

    start = time.perf_counter()
    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def option(args, name, default):
    """The value after `name` in `args`, converted like `default`."""
    return type(default)(args[args.index(name) + 1]) if name in args else default
