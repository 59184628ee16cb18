"""isola-run --plain behaves as python does: run the same programs with
`python3 -c` and `isola-run --plain -c` and compare stdout, stderr and the
exit status byte for byte (programs whose output does not depend on the
Python version or the platform).

usage: check_plain_mode.py ISOLA_RUN
"""

import subprocess
import sys

PROGRAMS = [
    # (code, arguments, stdin bytes or None for /dev/null)
    ("print('hi'); import sys; print('err', file=sys.stderr); print('bye')", [], None),
    # Bytes that are UTF-8 (output events are text: others arrive escaped).
    ("import sys; sys.stdout.buffer.write(bytes(range(128)) + 'é✓'.encode()); sys.stdout.flush()", [], None),
    ("import sys; sys.stdout.write('no newline at the end')", [], None),
    ("import sys; sys.exit(3)", [], None),
    ("import sys; sys.exit()", [], None),
    ("import sys; sys.exit(0)", [], None),
    ("raise SystemExit(300)", [], None),
    ("raise SystemExit(-1)", [], None),
    ("import sys; print('out'); sys.exit('fatal: no input')", [], None),
    ("import atexit, sys; atexit.register(print, 'at exit'); sys.exit(4)", [], None),
    ("import argparse; p = argparse.ArgumentParser(); p.add_argument('--n', type=int, required=True);"
     " print(p.parse_args().n * 2)", ["--n", "21"], None),
    ("import argparse; p = argparse.ArgumentParser(); p.add_argument('--n', type=int, required=True);"
     " print(p.parse_args().n * 2)", ["--n", "x"], None),
    # A piped standard input is the script's, as under python.
    ("import sys; data = sys.stdin.read(); print(len(data), data.upper(), end='')", [], b"line one\nline two\n"),
    ("import sys\nfor line in sys.stdin:\n    print(line.strip()[::-1])\n", [], b"abc\ndef\n"),
    ("import sys; print(repr(sys.stdin.buffer.read()))", [], b"\x00\xff bytes\n"),
    ("print(input('name? '))", [], b"world\n"),
    ("print(input('name? '))", [], None),
]


def run(argv, stdin):
    proc = subprocess.run(argv, input=stdin if stdin is not None else b"",
                          capture_output=True, check=False, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    isola_run = sys.argv[1]
    failures = 0
    for code, args, stdin in PROGRAMS:
        native = run([sys.executable, "-c", code, *args], stdin)
        sandboxed = run([isola_run, "--plain", "-c", code, *args], stdin)
        # Tracebacks name other files; compare their last line only.
        if native[2].startswith(b"Traceback"):
            native = (native[0], native[1], native[2].splitlines()[-1])
            sandboxed = (sandboxed[0], sandboxed[1], (sandboxed[2].splitlines() or [b""])[-1])
        if native != sandboxed:
            failures += 1
            print("FAIL: %r %r\n  python:    %r\n  isola-run: %r" % (code, args, native, sandboxed))
    if failures:
        sys.exit(1)
    print("ok: %d programs behave the same under isola-run --plain and python" % len(PROGRAMS))


if __name__ == "__main__":
    main()
