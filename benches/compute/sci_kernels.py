"""Workloads of the scientific-runtime rows of `make bench`, run identically
in a sandbox of the scientific runtime (`isola-bench runtime sci N FILE`) and
by native CPython with the numpy (and pandas) wheels pinned in
benches/peers/requirements.txt (a fresh process, so its imports are real).

`bench_run(reps)` returns {name: {"ms": best time, "check": checksum}}; the
checksums (rounded, so that a different summation order does not matter)
must agree between the two, so neither side can win by doing less work.
A workload whose package is missing (pandas while the scientific runtime
does not bundle it) is None.
"""

import time


def _best(fn, reps):
    """Run `fn` once to warm up, then `reps` times; (best ms, its result)."""
    check = fn()
    best = None
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - start) * 1e3
        best = elapsed if best is None or elapsed < best else best
    return {"ms": best, "check": check}


def _timed_import(name):
    """(ms, module) of `import name`, or (None, None) when it is missing."""
    start = time.perf_counter()
    try:
        module = __import__(name)
    except ImportError:
        return None, None
    return (time.perf_counter() - start) * 1e3, module


def _round(x):
    return float("%.6g" % x)


def bench_run(reps=3):
    out = {}
    import_ms, np = _timed_import("numpy")
    out["import_numpy"] = {"ms": import_ms, "check": np.__version__.split(".")[0]}

    rng = np.random.default_rng(0)
    a, b = rng.random((500, 500)), rng.random((500, 500))
    out["matmul_500"] = _best(lambda: _round(float((a @ b).sum())), reps)

    x = rng.standard_normal(1_000_000)

    def numpy_mix():
        # Sorting, ufuncs with a reduction, and an FFT over a million floats.
        s = np.sort(x)
        y = np.sqrt(x * x + 1.0).sum()
        f = np.abs(np.fft.rfft(x[:1 << 16])).max()
        return [_round(float(s[500_000])), _round(float(y)), _round(float(f))]

    out["numpy_mix"] = _best(numpy_mix, reps)

    # pandas: filled when the runtime bundles it.
    import_ms, pd = _timed_import("pandas")
    if pd is None:
        out["import_pandas"] = out["groupby_1e6"] = None
        return out
    out["import_pandas"] = {"ms": import_ms, "check": pd.__version__.split(".")[0]}
    df = pd.DataFrame({"k": rng.integers(0, 1000, 1_000_000), "v": rng.random(1_000_000)})

    def groupby():
        g = df.groupby("k")["v"].agg(["mean", "sum", "count"])
        return [len(g), _round(float(g["mean"].sum())), int(g["count"].sum())]

    out["groupby_1e6"] = _best(groupby, reps)
    return out
