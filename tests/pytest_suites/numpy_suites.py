"""numpy's own tests, run by pytest unmodified in a sandbox of the scientific runtime.

The numpy inside ``isola-python-sci.wasm`` was built from the same version's
sdist (runtime/sci/build.sh), whose build tree keeps numpy's test files
(runtime/python/out/sci-site). This script runs a representative part of them
-- ufuncs, linear algebra, the random Generator -- with ``pytest.main``
natively (numpy 2.3.5's CPython 3.11 wheel, which ships the same tests) and
in a sandbox (build/examples-c/isola-run --runtime PATH), records every
test's outcome, prints pass counts side by side and lists each test that
passes natively but not in the sandbox.

The sandbox's numpy is the one in the snapshot; its test packages
(numpy/_core/tests, ...) are read from the site directory, mounted
read-only and added to the numpy packages' ``__path__`` (the only change to
the set-up: pytest, numpy's conftest and its tests run as they are).

It fails when the sandbox run does not complete, when fewer tests pass than
MIN_PASS_RATIO of the native passes, or when a test passes in the sandbox
but fails natively (something would be wrong with the comparison).

    python3 tests/pytest_suites/numpy_suites.py [--isola-run PATH] [--runtime PATH] [--site DIR] [--suite FILE]...
"""

import argparse
import json
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

SUITES = [
    "numpy/_core/tests/test_umath.py",
    "numpy/linalg/tests/test_linalg.py",
    "numpy/random/tests/test_generator_mt19937.py",
]

# The sandbox must pass at least this share of what passes natively.
# Known reasons for the rest are printed with the list of differences:
# no floating-point exception flags in WebAssembly (errstate, warnings on
# overflow/invalid, LinAlgError for singular matrices), a 32-bit C long and
# intp, software long double, no threads or subprocesses.
MIN_PASS_RATIO = 0.90

DRIVER = r'''
import os, sys
root, suites = sys.argv[1], sys.argv[2].split(",")
os.chdir(root)
if os.environ.get("ISOLA_NUMPY_TESTS_FROM_MOUNT"):
    # numpy comes from the runtime's snapshot; its test packages from here.
    for name, module in list(sys.modules.items()):
        if (name == "numpy" or name.startswith("numpy.")) and hasattr(module, "__path__"):
            extra = os.path.join(root, *name.split("."))
            if os.path.isdir(extra) and extra not in module.__path__:
                module.__path__.append(extra)
ARGS = ["-q", "-p", "no:cacheprovider", "--rootdir", root, *suites]
''' + harness.RECORD_OUTCOMES


def install_tools():
    """pytest, hypothesis and native numpy into one cached directory."""
    reqs = [os.path.join(HERE, "requirements.txt"), os.path.join(HERE, "numpy_requirements.txt")]
    target = os.path.join(harness.cache_root(), "pytest-numpy-%s-py%d%d" % (
        harness.digest(*reqs), *sys.version_info[:2]))
    if not os.path.isfile(os.path.join(target, ".complete")):
        shutil.rmtree(target, ignore_errors=True)
        args = ["install", "--no-deps", "--only-binary", ":all:", "--require-hashes", "--target", target]
        for r in reqs:
            args += ["-r", r]
        harness.pip(*args)
        open(os.path.join(target, ".complete"), "w").close()
    return target


def run_native(tools, driver, suites):
    env = dict(os.environ, PYTHONPATH=tools, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, driver, tools, ",".join(suites)], env=env,
                          capture_output=True, text=True, timeout=1800)
    return harness.parse(proc.stdout, "native numpy")


def run_sandbox(isola_run, runtime, site, tools, driver, suites):
    entry = os.path.join(os.path.dirname(driver), "sandbox-entry.py")
    with open(entry, "w") as f:
        f.write("import runpy, sys\nsys.argv = ['/driver/driver.py', '/npsite', %r]\n"
                "runpy.run_path('/driver/driver.py', run_name='__main__')\n" % ",".join(suites))
    proc = subprocess.run(
        [isola_run, "--runtime", runtime, "--timeout-ms", "3000000", "--max-memory-mib", "2048",
         "--mount", "%s:/site" % tools, "--mount", "%s:/npsite" % site,
         "--mount", "%s:/driver" % os.path.dirname(driver),
         "--env", "PYTHONPATH=/site", "--env", "ISOLA_NUMPY_TESTS_FROM_MOUNT=1", entry],
        capture_output=True, text=True, timeout=3600)
    out = []
    for line in proc.stdout.splitlines():
        event = json.loads(line)
        if event["type"] == "stdout":
            out.append(event["data"])
        elif event["type"] == "error":
            sys.exit("sandbox numpy run failed: %s\n%s" % (event["message"], "".join(out)[-3000:]))
    return harness.parse("".join(out), "sandbox numpy")


def suite_of(nodeid):
    return nodeid.split("::", 1)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--isola-run", default=os.path.join(ROOT, "build", "examples-c", "isola-run"))
    parser.add_argument("--runtime", default=os.path.join(ROOT, "runtime", "python", "out", "isola-python-sci.wasm"))
    parser.add_argument("--site", default=os.path.join(ROOT, "runtime", "python", "out", "sci-site"))
    parser.add_argument("--suite", action="append", help="a test file to run instead of the default set (repeatable)")
    args = parser.parse_args()
    suites = args.suite or SUITES
    tools = install_tools()
    with tempfile.TemporaryDirectory(prefix="isola-numpy-tests-") as work:
        driver_dir = os.path.join(work, "driver")
        os.mkdir(driver_dir)
        driver = os.path.join(driver_dir, "driver.py")
        with open(driver, "w") as f:
            f.write(DRIVER)
        t0 = time.monotonic()
        native = run_native(tools, driver, suites)
        t1 = time.monotonic()
        sandboxed = run_sandbox(args.isola_run, os.path.abspath(args.runtime), os.path.abspath(args.site),
                                tools, driver, suites)
        t2 = time.monotonic()
    print("%-46s %14s %14s" % ("suite (passed / total)", "native", "sandbox"))
    for suite in suites:
        n = [o for k, o in native["tests"].items() if suite_of(k) == suite]
        s = [o for k, o in sandboxed["tests"].items() if suite_of(k) == suite]
        print("%-46s %7d / %5d %7d / %5d" % (suite, n.count("passed"), len(n), s.count("passed"), len(s)))
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
    problems = []
    if native_passed == 0:
        problems.append("no test passed natively")
    if sandbox_passed < MIN_PASS_RATIO * native_passed:
        problems.append("the sandbox passed %d tests, less than %.0f%% of the %d native passes"
                        % (sandbox_passed, MIN_PASS_RATIO * 100, native_passed))
    problems += ["%s: fails natively but passes in the sandbox" % k for k in gained]
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("numpy suites: %d of %d native passes also pass in the sandbox" % (
        native_passed - len(lost), native_passed))


if __name__ == "__main__":
    main()
