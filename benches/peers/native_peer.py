"""Peer of `make bench`: native CPython, no sandbox at all (the baseline).

Run by the native interpreter itself (its real binary, not a shim):

  python native_peer.py measure [--fresh N] [--seconds S] [--calls N] [--batches N]

Three ways to run untrusted-looking code natively: a subprocess per request
(`python -I -c CODE`, the isolation a host gets without a sandbox), `exec`
in-process (no isolation), and a JSON round trip into an in-process
function (the floor for a warm call). Prints one JSON object on stdout.
"""

import json
import os
import statistics
import subprocess
import sys
import time

from common import option, throughput

CODE = "def f(x):\n    return x + 1\nprint(f(1))"




def subprocess_request():
    out = subprocess.run([sys.executable, "-I", "-c", CODE], capture_output=True, text=True, check=True)
    if out.stdout.strip() != "2":
        raise RuntimeError("f(1) printed %r" % out.stdout)




def per_call_us(fn, calls, batches):
    for _ in range(calls):
        fn()
    samples = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) * 1e6 / calls)
    return statistics.median(samples)


def measure(fresh_n, seconds, calls, batches):
    subprocess_request()
    samples = []
    for _ in range(fresh_n):
        start = time.perf_counter()
        subprocess_request()
        samples.append((time.perf_counter() - start) * 1e3)

    source = "def f(x):\n    return x + 1\n"

    def exec_fresh():
        namespace = {}
        exec(compile(source, "<request>", "exec"), namespace)
        if namespace["f"](1) != 2:
            raise RuntimeError("f(1) != 2")

    namespace = {}
    exec(source, namespace)
    f = namespace["f"]

    def json_round_trip():
        return json.dumps(f(*json.loads("[1]")))

    # A child interpreter after f(1): its private memory.
    child_code = ("import sys; sys.path.insert(0, %r)\n" % os.path.dirname(os.path.abspath(__file__))
                  + CODE.replace("print(f(1))", "f(1)\n")
                  + "from common import private_kib\nprint(private_kib())")
    child = subprocess.run([sys.executable, "-I", "-c", child_code], capture_output=True, text=True, check=True)
    return {
        "fresh_ms": statistics.median(samples),
        "exec_fresh_us": per_call_us(exec_fresh, calls // 10, batches),
        "warm_call_us": per_call_us(json_round_trip, calls, batches),
        "per_second_1_thread": throughput(subprocess_request, 1, seconds),
        "per_second_2_threads": throughput(subprocess_request, 2, seconds),
        "private_mib_per_process": int(child.stdout) / 1024,
    }


def main(argv):
    mode, args = argv[1], argv[2:]
    if mode == "measure":
        out = measure(option(args, "--fresh", 30), option(args, "--seconds", 2.0),
                      option(args, "--calls", 20000), option(args, "--batches", 20))
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
