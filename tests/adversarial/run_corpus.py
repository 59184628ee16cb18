#!/usr/bin/env python3
"""Run the adversarial corpus through isola-run (the C ABI end to end).

    run_corpus.py ISOLA-RUN CORPUS-DIR

Each corpus file's header gives its expected outcome (see
tests/adversarial_corpus.rs, which runs the same files through the Rust
API). For every guest this checks that isola-run exits normally (status 0
for OK, 1 with one error line of the expected code otherwise, or the
header's exit-status with an exit line for sys.exit, never a signal), that
the error message and stdout hold what the header asks, and that isola
printed nothing on the host's stderr.
"""

import json
import os
import subprocess
import sys
import tempfile


def parse(path):
    case = {"expect": None, "error": None, "stdout": None, "exit-status": None, "options": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].strip().partition(": ")
            if sep and key in case:
                case[key] = value.split() if key == "options" else value.strip()
    if case["expect"] is None:
        raise SystemExit("%s: no '# expect:' line" % path)
    return case


def fixtures(root):
    ro, rw = os.path.join(root, "ro"), os.path.join(root, "rw")
    os.mkdir(ro)
    os.mkdir(rw)
    with open(os.path.join(ro, "secret.txt"), "w") as f:
        f.write("secret\n")
    os.symlink("/etc", os.path.join(ro, "outside"))
    return {"ro": ro, "rw": rw}


def arguments(case, dirs):
    args = ["--timeout-ms", "20000"]
    for option in case["options"]:
        key, _, value = option.partition("=")
        if key == "mount":
            mode, _, guest = value.partition(":")
            args += ["--mount", dirs[mode] + ":" + guest + (":rw" if mode == "rw" else "")]
        elif key in ("timeout-ms", "max-memory-mib", "env"):
            args += ["--" + key, value]
        else:
            raise SystemExit("unknown option " + option)
    return args


def check(isola_run, path):
    case = parse(path)
    with tempfile.TemporaryDirectory() as root:
        cmd = [isola_run] + arguments(case, fixtures(root)) + [path]
        proc = subprocess.run(cmd, capture_output=True, timeout=300)
    if proc.returncode < 0:
        return "killed by signal %d" % -proc.returncode
    events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    errors = [e for e in events if e["type"] == "error"]
    stdout = "".join(e["data"] for e in events if e["type"] == "stdout")
    exits = [e["status"] for e in events if e["type"] == "exit"]
    if case["exit-status"] is not None:
        # sys.exit(N) is no error: an exit line, and isola-run exits with N
        # (& 0xff), as python does.
        want_status = int(case["exit-status"]) & 0xff
        if errors or exits != [want_status] or proc.returncode != want_status:
            return "expected exit status %d, got exit lines %r, errors %r (status %d)" % (
                want_status, exits, errors, proc.returncode)
    else:
        got = errors[-1]["code"] if errors else "OK"
        want_status = 0 if case["expect"] == "OK" else 1
        if got != case["expect"] or proc.returncode != want_status:
            return "expected %s, got %s (status %d): %s" % (
                case["expect"], got, proc.returncode, errors[-1]["message"][:300] if errors else "")
        if case["error"] and case["error"] not in errors[-1]["message"]:
            return "error lacks %r: %r" % (case["error"], errors[-1]["message"][:300])
    if case["stdout"] and case["stdout"] not in stdout:
        return "stdout lacks %r: %r" % (case["stdout"], stdout[:300])
    if proc.stderr:
        return "isola wrote to the host's stderr: %r" % proc.stderr[:300]
    return None


def main():
    isola_run, corpus = sys.argv[1], sys.argv[2]
    paths = sorted(os.path.join(corpus, n) for n in os.listdir(corpus) if n.endswith(".py"))
    if len(paths) < 40:
        raise SystemExit("the corpus has only %d guests" % len(paths))
    failures = []
    for path in paths:
        why = check(isola_run, path)
        print("%s %s" % ("FAIL" if why else "ok  ", os.path.basename(path)), flush=True)
        if why:
            failures.append("%s: %s" % (os.path.basename(path), why))
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("%d hostile guests contained" % len(paths))


if __name__ == "__main__":
    main()
