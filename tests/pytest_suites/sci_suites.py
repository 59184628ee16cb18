"""numpy's and pandas' own tests, run by pytest unmodified in a sandbox of the scientific runtime.

The numpy and pandas inside ``isola-python-sci.wasm`` were built from the
same versions' sdists (runtime/sci/build.sh, runtime/sci/pandas/build.sh),
whose installed trees keep their test files (runtime/python/out/sci-site,
sci-pandas-site). This script runs a representative part of them -- numpy's
ufuncs, linear algebra, random Generator and file I/O; pandas' groupby,
merge, CSV reading and writing, timestamps and date ranges -- with ``pytest.main``
natively (the same versions' CPython 3.11 wheels, which ship the same tests)
and in a sandbox (build/examples-c/isola-run --runtime PATH), one sandbox per
package, records every test's outcome, prints pass counts side by side and
lists each test that passes natively but not in the sandbox.

The sandbox's numpy and pandas are the ones in the snapshot; their test
packages (numpy/_core/tests, pandas/tests, ...) and the modules the snapshot
left out (pandas.conftest, pandas.util._test_decorators: they need pytest)
are read from the site directory, mounted read-only and added to the
packages' ``__path__`` (the only change to the set-up: pytest, the
packages' conftest files and their tests run as they are).

It fails when a sandbox run does not complete, when fewer tests of a package
pass than its min_pass_ratio of the native passes, or when a test passes in
the sandbox but fails natively (something would be wrong with the
comparison).

    python3 tests/pytest_suites/sci_suites.py [--isola-run PATH] [--runtime PATH] [--out DIR]
                                             [--package numpy|pandas]... [--suite FILE]...
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import run as harness  # noqa: E402  (the pure-Python suites' harness: cache, pip, outcomes)

# Per package: the test files, the site directory (under runtime/python/out)
# holding its build tree, and the share of the native passes that must also
# pass in the sandbox. Known reasons for the rest are printed with the list
# of differences: no floating-point exception flags in WebAssembly (errstate
# and warnings for what only hardware arithmetic detects), a 32-bit
# C long and intp, software long double, no threads or subprocesses.
PACKAGES = {
    "numpy": {
        "suites": [
            "numpy/_core/tests/test_umath.py",
            "numpy/linalg/tests/test_linalg.py",
            "numpy/random/tests/test_generator_mt19937.py",
            # Files: np.save/np.load, savez, loadtxt/genfromtxt, tofile and
            # memmap (numpy hands files to C stdio with dup(), which WASI
            # lacks: runtime/sci/patches/numpy-wasi-file-dup.patch).
            "numpy/lib/tests/test_io.py",
            "numpy/lib/tests/test_format.py",
            "numpy/_core/tests/test_memmap.py",
        ],
        "site": "sci-site",
        "min_pass_ratio": 0.90,
    },
    "pandas": {
        "suites": [
            "pandas/tests/groupby/test_groupby.py",
            "pandas/tests/reshape/merge/test_merge.py",
            "pandas/tests/io/parser/common/test_common_basic.py",
            "pandas/tests/io/formats/test_to_csv.py",
            "pandas/tests/scalar/timestamp/test_timestamp.py",
            "pandas/tests/indexes/datetimes/test_date_range.py",
        ],
        "site": "sci-pandas-site",
        "min_pass_ratio": 0.97,
    },
}

DRIVER = r'''
import os, sys
root, suites = sys.argv[1], sys.argv[2].split(",")
os.chdir(root)
package = os.environ.get("ISOLA_TESTS_FROM_MOUNT")
if package:
    # The package comes from the runtime's snapshot; its test packages from here.
    for name, module in list(sys.modules.items()):
        if (name == package or name.startswith(package + ".")) and hasattr(module, "__path__"):
            extra = os.path.join(root, *name.split("."))
            if os.path.isdir(extra) and extra not in module.__path__:
                module.__path__.append(extra)
# -o addopts=: pandas' pytest configuration (pandas/pyproject.toml) adds
# options such as --junitxml=test-data.xml, which writes into the read-only
# site; its other settings (markers, xfail_strict, filterwarnings) apply.
ARGS = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", root, *suites]
''' + harness.RECORD_OUTCOMES


def install_tools():
    """pytest, hypothesis and native numpy and pandas into one cached directory."""
    reqs = [os.path.join(HERE, name) for name in
            ("requirements.txt", "numpy_requirements.txt", "pandas_requirements.txt")]
    target = os.path.join(harness.cache_root(), "pytest-sci-%s-py%d%d" % (
        harness.digest(*reqs), *sys.version_info[:2]))
    if not os.path.isfile(os.path.join(target, ".complete")):
        shutil.rmtree(target, ignore_errors=True)
        args = ["install", "--no-deps", "--only-binary", ":all:", "--require-hashes", "--target", target]
        for r in reqs:
            args += ["-r", r]
        harness.pip(*args)
        open(os.path.join(target, ".complete"), "w").close()
    return target


def run_native(package, tools, driver, suites):
    env = dict(os.environ, PYTHONPATH=tools, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, driver, tools, ",".join(suites)], env=env,
                          capture_output=True, text=True, timeout=1800)
    return harness.parse(proc.stdout, "native " + package)


def run_sandbox(package, isola_run, runtime, site, tools, driver, suites):
    entry = os.path.join(os.path.dirname(driver), "sandbox-entry.py")
    with open(entry, "w") as f:
        f.write("import runpy, sys\nsys.argv = ['/driver/driver.py', '/pkgsite', %r]\n"
                "runpy.run_path('/driver/driver.py', run_name='__main__')\n" % ",".join(suites))
    argv = [isola_run, "--runtime", runtime, "--timeout-ms", "3000000", "--max-memory-mib", "2048",
            "--mount", "%s:/site" % tools, "--mount", "%s:/pkgsite" % site,
            "--mount", "%s:/driver" % os.path.dirname(driver),
            "--env", "PYTHONPATH=/site", "--env", "ISOLA_TESTS_FROM_MOUNT=" + package, entry]
    return harness.run_isola(argv, "sandbox " + package, timeout=3600)


def suite_of(nodeid):
    return nodeid.split("::", 1)[0]


def run_package(package, args, tools, work):
    """Run one package's suites natively and in a sandbox; returns its problems."""
    config = PACKAGES[package]
    suites = [x for x in args.suite if x.split("/", 1)[0] == package] if args.suite else config["suites"]
    site = os.path.join(os.path.abspath(args.out), config["site"])
    driver_dir = os.path.join(work, package)
    os.mkdir(driver_dir)
    driver = os.path.join(driver_dir, "driver.py")
    with open(driver, "w") as f:
        f.write(DRIVER)
    t0 = time.monotonic()
    native = run_native(package, tools, driver, suites)
    t1 = time.monotonic()
    sandboxed = run_sandbox(package, args.isola_run, os.path.abspath(args.runtime), site, tools, driver, suites)
    t2 = time.monotonic()
    print("%-52s %14s %14s" % ("%s suite (passed / total)" % package, "native", "sandbox"))
    for suite in suites:
        n = [o for k, o in native["tests"].items() if suite_of(k) == suite]
        s = [o for k, o in sandboxed["tests"].items() if suite_of(k) == suite]
        print("%-52s %7d / %5d %7d / %5d" % (suite, n.count("passed"), len(n), s.count("passed"), len(s)))
    print("time: native %.0fs, sandbox %.0fs" % (t1 - t0, t2 - t1))
    lost = sorted(k for k, o in native["tests"].items()
                  if o == "passed" and sandboxed["tests"].get(k) != "passed")
    gained = sorted(k for k, o in sandboxed["tests"].items()
                    if o == "passed" and native["tests"].get(k) == "failed")
    print("passing natively, not in the sandbox (%d):" % len(lost))
    for k in lost:
        print("  %s: %s" % (k, sandboxed["tests"].get(k, "not run")))
    native_passed = harness.count(native, "passed")
    sandbox_passed = harness.count(sandboxed, "passed")
    ratio = config["min_pass_ratio"]
    problems = []
    if native_passed == 0:
        problems.append("%s: no test passed natively" % package)
    if sandbox_passed < ratio * native_passed:
        problems.append("%s: the sandbox passed %d tests, less than %.0f%% of the %d native passes"
                        % (package, sandbox_passed, ratio * 100, native_passed))
    problems += ["%s: fails natively but passes in the sandbox" % k for k in gained]
    if not problems:
        print("%s suites: %d of %d native passes also pass in the sandbox\n" % (
            package, native_passed - len(lost), native_passed))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--isola-run", default=os.path.join(ROOT, "build", "examples-c", "isola-run"))
    parser.add_argument("--runtime", default=os.path.join(ROOT, "runtime", "python", "out", "isola-python-sci.wasm"))
    parser.add_argument("--out", default=os.path.join(ROOT, "runtime", "python", "out"),
                        help="the directory holding the site directories of the runtime's build")
    parser.add_argument("--package", action="append", choices=sorted(PACKAGES),
                        help="run this package's suites only (repeatable; default: all)")
    parser.add_argument("--suite", action="append",
                        help="a test file to run instead of its package's default set (repeatable)")
    args = parser.parse_args()
    packages = args.package or sorted({x.split("/", 1)[0] for x in args.suite or []} or PACKAGES)
    unknown = sorted(set(packages) - set(PACKAGES))
    if unknown:
        sys.exit("--suite paths must start with one of %s, not %s" % (", ".join(sorted(PACKAGES)), ", ".join(unknown)))
    tools = install_tools()
    problems = []
    with tempfile.TemporaryDirectory(prefix="isola-sci-tests-") as work:
        for package in packages:
            problems += run_package(package, args, tools, work)
    if problems:
        print("\n".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
