"""pytest, unmodified, runs the test suites of pure-Python packages in a sandbox.

For each package of packages.txt: extract its pinned sdist, run
``pytest.main`` with pytest's default plugins and options natively (this
Python) and inside a fresh isola sandbox (through build/examples-c/isola-run),
record every test's outcome, and compare. Both runs must agree test by test,
except the tests listed in EXPECTED_IN_SANDBOX (they need what the sandbox
refuses: processes, a thread running beside its caller, foreign calls).

    python3 tests/pytest_suites/run.py [--isola-run PATH]

Downloads (pip, hash-checked) go to ~/.cache/isola-build/ (XDG_CACHE_HOME
respected), outside the repository, keyed by the pinned files' contents.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MARKER = "ISOLA-PYTEST-OUTCOMES "

# Tests that cannot pass in the sandbox, with the reason. Each must pass
# natively and not pass in the sandbox; everything else must match exactly.
EXPECTED_IN_SANDBOX = {
    "sqlparse": {
        "tests/test_cli.py::test_script": "starts a Python subprocess",
    },
    "tomlkit": {
        # ctypes loads no library in the sandbox (no foreign calls).
        "tests/test_items.py::test_float_is_not_a_sequence": "calls PySequence_Check through ctypes.pythonapi",
    },
    "more_itertools": {
        # callback_iter's function runs in a ThreadPoolExecutor while the
        # caller consumes what it reports; in the sandbox a task runs to
        # its end when submitted (a thread cannot pause midway), so leaving
        # the context early aborts nothing.
        "tests/test_more.py::CallbackIterTests::test_abort": "needs a thread that runs beside its caller",
    },
}

# The pytest plugin (not a stub: pytest's own plugins all load) that records
# every test's outcome, and the line that reports them; shared with
# numpy_suites.py. A driver defines ARGS, then runs RECORD_OUTCOMES.
RECORD_OUTCOMES = r'''
import json, sys
import pytest

class Outcomes:
    def __init__(self):
        self.seen = {}

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            if hasattr(report, "wasxfail"):
                outcome = "xpassed" if report.outcome == "passed" else "xfailed"
            elif report.when != "call" and report.outcome == "failed":
                outcome = "error"
            else:
                outcome = report.outcome
            if self.seen.get(report.nodeid) not in ("failed", "error"):
                self.seen[report.nodeid] = outcome

outcomes = Outcomes()
code = pytest.main(ARGS, plugins=[outcomes])
sys.stdout.flush()
print("\n@MARKER@" + json.dumps({"exit": int(code), "tests": outcomes.seen}))
'''.replace("@MARKER@", MARKER)

# Runs in both places: pytest.main with default plugins and options.
DRIVER = r'''
import os, sys
os.chdir(sys.argv[1])
for entry in reversed(sys.argv[2].split(":")):
    sys.path.insert(0, os.path.join(sys.argv[1], entry))
ARGS = ["-q"]
''' + RECORD_OUTCOMES


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "isola-build")


def digest(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True)


def install_pytest():
    """pytest and its dependencies into a cached directory (read-only in the sandbox)."""
    req = os.path.join(HERE, "requirements.txt")
    target = os.path.join(cache_root(), "pytest-%s-py%d%d" % (digest(req), *sys.version_info[:2]))
    if not os.path.isfile(os.path.join(target, ".complete")):
        shutil.rmtree(target, ignore_errors=True)
        pip("install", "--no-deps", "--only-binary", ":all:", "--require-hashes",
            "--target", target, "-r", req)
        open(os.path.join(target, ".complete"), "w").close()
    return target


def packages():
    with open(os.path.join(HERE, "packages.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                sdist, sha, path = line.split()
                yield sdist, sha, path


def fetch_sdist(sdist, sha):
    """The pinned sdist, downloaded once with pip into the cache and checked."""
    cache = os.path.join(cache_root(), "pypi")
    path = os.path.join(cache, sdist)
    if not (os.path.isfile(path) and sha256_of(path) == sha):
        os.makedirs(cache, exist_ok=True)
        name, _, version = sdist[: -len(".tar.gz")].rpartition("-")
        with tempfile.TemporaryDirectory() as tmp:
            reqs = os.path.join(tmp, "req.txt")
            with open(reqs, "w") as f:
                f.write("%s==%s --hash=sha256:%s\n" % (name, version, sha))
            pip("download", "--no-deps", "--no-binary", ":all:", "--require-hashes", "-d", tmp, "-r", reqs)
            shutil.move(os.path.join(tmp, sdist), path)
    if sha256_of(path) != sha:
        sys.exit("%s: sha256 mismatch" % path)
    return path


def extract(sdist_path, into):
    with tarfile.open(sdist_path) as tar:
        top = tar.getnames()[0].split("/")[0]
        tar.extractall(into, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(into)
    return os.path.join(into, top)


def parse(stdout, label):
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    sys.exit("%s: no outcome line; output ended with:\n%s" % (label, stdout[-3000:]))


def run_native(pkg_dir, path, site, driver):
    env = dict(os.environ, PYTHONPATH=site, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, driver, pkg_dir, path], env=env,
                          capture_output=True, text=True, timeout=600)
    return parse(proc.stdout, "native " + pkg_dir)


def run_sandbox(isola_run, pkg_dir, path, site, driver):
    # Mounts: pytest read-only, the package read-write (its tests write
    # there), the driver read-only.
    entry = os.path.join(os.path.dirname(pkg_dir), "sandbox-entry.py")
    with open(entry, "w") as f:
        f.write("import runpy, sys\nsys.argv = ['/driver/driver.py', '/pkg', %r]\n"
                "runpy.run_path('/driver/driver.py', run_name='__main__')\n" % path)
    argv = [isola_run, "--timeout-ms", "600000",
            "--mount", "%s:/site" % site, "--mount", "%s:/pkg:rw" % pkg_dir,
            "--mount", "%s:/driver" % os.path.dirname(driver),
            "--env", "PYTHONPATH=/site", entry]
    return run_isola(argv, "sandbox " + pkg_dir, timeout=900)


def run_isola(argv, label, timeout):
    """Run isola-run (argv), join its `stdout` events and parse the outcome line.

    Exits naming `label` if the sandbox reports an `error` event."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    out = []
    for line in proc.stdout.splitlines():
        event = json.loads(line)
        if event["type"] == "stdout":
            out.append(event["data"])
        elif event["type"] == "error":
            sys.exit("%s failed: %s\n%s" % (label, event["message"], "".join(out)[-3000:]))
    if proc.returncode != 0 and not out:
        sys.exit("%s: isola-run exited with %d:\n%s" % (label, proc.returncode, proc.stderr[-3000:]))
    return parse("".join(out), label)


def compare(name, native, sandboxed):
    expected = EXPECTED_IN_SANDBOX.get(name, {})
    problems = []
    for nodeid, outcome in sorted(native["tests"].items()):
        got = sandboxed["tests"].get(nodeid)
        if nodeid in expected:
            if outcome != "passed" or got == "passed":
                problems.append("%s: expected native pass / sandbox failure, got %s / %s" % (nodeid, outcome, got))
        elif got != outcome:
            problems.append("%s: native %s, sandbox %s" % (nodeid, outcome, got))
    for nodeid in sorted(set(sandboxed["tests"]) - set(native["tests"])):
        problems.append("%s: only in the sandbox (%s)" % (nodeid, sandboxed["tests"][nodeid]))
    return problems


def count(result, outcome):
    return sum(1 for o in result["tests"].values() if o == outcome)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--isola-run", default=os.path.join(ROOT, "build", "examples-c", "isola-run"))
    args = parser.parse_args()
    site = install_pytest()
    failures = []
    with tempfile.TemporaryDirectory(prefix="isola-pytest-") as work:
        driver_dir = os.path.join(work, "driver")
        os.mkdir(driver_dir)
        driver = os.path.join(driver_dir, "driver.py")
        with open(driver, "w") as f:
            f.write(DRIVER)
        print("%-12s %8s %8s %8s   %s" % ("package", "native", "sandbox", "time", "passed / other outcomes"))
        for sdist, sha, path in packages():
            name = sdist.rpartition("-")[0]
            archive = fetch_sdist(sdist, sha)
            # Separate fresh copies: each run may write into its tree.
            native_dir = extract(archive, os.path.join(work, "native-" + name))
            sandbox_dir = extract(archive, os.path.join(work, "sandbox-" + name))
            t0 = time.monotonic()
            native = run_native(native_dir, path, site, driver)
            t1 = time.monotonic()
            sandboxed = run_sandbox(args.isola_run, sandbox_dir, path, site, driver)
            t2 = time.monotonic()
            print("%-12s %8d %8d %7.1fs   native %.1fs, sandbox %.1fs; not passing in the sandbox as expected: %s" % (
                name, count(native, "passed"), count(sandboxed, "passed"), t2 - t0, t1 - t0, t2 - t1,
                ", ".join("%s (%s)" % kv for kv in EXPECTED_IN_SANDBOX.get(name, {}).items()) or "none"))
            problems = compare(name, native, sandboxed)
            if count(native, "passed") == 0:
                problems.append("no test passed natively")
            failures += ["%s: %s" % (name, p) for p in problems]
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("pytest suites: every package matches its native run")


if __name__ == "__main__":
    main()
