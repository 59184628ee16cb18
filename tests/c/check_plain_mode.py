"""isola-run --plain behaves as python does: run the same programs with
`python3 -c` and `isola-run --plain -c` and compare stdout, stderr and the
exit status byte for byte (programs whose output does not depend on the
Python version or the platform).

usage: check_plain_mode.py ISOLA_RUN
"""

import os
import subprocess
import sys
import tempfile

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
    # Arguments that are not UTF-8 (a Latin-1 file name) are decoded with
    # surrogateescape, as python decodes them; the library takes UTF-8
    # only, and isola-run refused them ('argv[1] is not valid UTF-8').
    ("import sys; print(ascii(sys.argv[1:])); print(sys.argv[1].encode('utf-8', 'surrogateescape'))",
     [b"\xe9t\xe9.csv", "\u00e9", b"\xff"], None),
    # A piped standard input is the script's, as under python.
    ("import sys; data = sys.stdin.read(); print(len(data), data.upper(), end='')", [], b"line one\nline two\n"),
    ("import sys\nfor line in sys.stdin:\n    print(line.strip()[::-1])\n", [], b"abc\ndef\n"),
    ("import sys; print(repr(sys.stdin.buffer.read()))", [], b"\x00\xff bytes\n"),
    ("print(input('name? '))", [], b"world\n"),
    ("print(input('name? '))", [], None),
    # logging writes to stderr as python's does: the implicit basicConfig of
    # logging.warning() and friends, the last-resort handler's bare message
    # before it, basicConfig's own format and level.
    ("import logging; logging.getLogger('a').warning('first'); logging.warning('x %d', 1);"
     " logging.getLogger('a.b').error('y'); logging.info('hidden'); print('out')", [], None),
    ("import logging; logging.basicConfig(level=logging.INFO, format='%(levelname)s|%(name)s|%(message)s');"
     " logging.info('shown'); logging.getLogger('n').debug('hidden')", [], None),
    ("import logging\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    logging.exception('failed')\n", [], None),
    # Programs that failed in the sandbox: asyncio.Runner's close (it shuts
    # the default executor down in a thread) waited out 300 s; a lock file
    # opened without an access mode was EINVAL; reconfigure was missing;
    # a signal to itself was refused.
    ("import asyncio\nasync def work():\n    return await asyncio.to_thread(pow, 2, 10)\n"
     "with asyncio.Runner() as r:\n    print(r.run(work()))\nprint(asyncio.run(work()))\n", [], None),
    ("import os, tempfile\np = os.path.join(tempfile.mkdtemp(), 'lock')\nos.close(os.open(p, os.O_CREAT | os.O_EXCL))\n"
     "try:\n    os.open(p, os.O_CREAT | os.O_EXCL)\nexcept FileExistsError:\n    print('locked')\n", [], None),
    ("import sys; sys.stdout.reconfigure(encoding='utf-8'); print(sys.stdout.encoding, '\u00e9')", [], None),
    ("import os, signal; signal.signal(signal.SIGUSR1, lambda s, f: print('got', s)); os.kill(os.getpid(), signal.SIGUSR1)\n"
     "try:\n    os.kill(os.getpid(), signal.SIGINT)\nexcept KeyboardInterrupt:\n    print('interrupted')\n", [], None),
    # An uncaught KeyboardInterrupt ends python by SIGINT (-2), after atexit.
    ("import atexit; atexit.register(print, 'at exit'); print('partial'); raise KeyboardInterrupt", [], None),
    # A traceback names the script as python does (<string> for -c).
    ("def f():\n    raise ValueError('boom')\nf()\n", [], None),
    ("x = (\n", [], None),
    # At exit, after the atexit handlers, the script's objects are
    # finalised in the order their names were bound (a cycle's by the
    # collector), after a failure or sys.exit too.
    ("import atexit, sys\nclass A:\n    def __init__(self, n):\n        self.n = n\n        self.me = self if n == 'cycle' else None\n"
     "    def __del__(self):\n        print('del', self.n, file=sys.stderr if self.n == 'err' else sys.stdout)\n"
     "z = A('z')\n_u = A('_u')\na = A('a')\ne = A('err')\n"
     "atexit.register(print, 'atexit')\nprint('end')\nsys.exit(int(sys.argv[1]))\n", ["3"], None),
    ("class A:\n    def __del__(self):\n        print('del after the traceback')\na = A()\n1 / 0\n", [], None),
    ("class A:\n    def __init__(self):\n        self.me = self\n    def __del__(self):\n        print('cycle collected')\nA()\nprint('end')\n", [], None),
]

# Scripts run from a file (python: its path, joined to the current
# directory when relative) or from standard input (<stdin>): the whole
# stderr must match, tracebacks included (but their source lines).
FILE_PROGRAMS = [
    "import sys\ndef f():\n    raise KeyError('k')\nprint('before')\nf()\n",
    "x = (\n",
    # Sources in the encoding their PEP 263 declaration names (bytes): the
    # sandbox's eval takes UTF-8 only, and these failed with
    # INVALID_ARGUMENT ('code is not valid UTF-8') unless mounted. (Not
    # piped: python itself then fails with 'encoding problem'.)
    b"# -*- coding: latin-1 -*-\nprint('caf\xe9', len('\xe9'))\n1 / 0  # \xe9\n",
    b"#!/usr/bin/env python3\n# vim: set fileencoding=cp1252 :\nprint('\x80 \xe9')\n",
]

# Modules run with -m from the working directory (a --mount of the same
# path in the sandbox): tracebacks start at runpy's frame as python's do.
MODULE_PROGRAMS = [
    "import sys\ndef f():\n    raise ValueError('in a module')\nprint(__name__, sys.argv[1:])\nf()\n",
    "import sys\nprint(__name__, sys.argv[0].endswith('.py'), sys.argv[1:])\nsys.exit(3)\n",
]


def run(argv, stdin, cwd=None):
    proc = subprocess.run(argv, input=stdin if stdin is not None else b"", cwd=cwd,
                          capture_output=True, check=False, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def without_source_lines(result):
    """Tracebacks without their source and caret lines: python shows them
    for -c and <stdin> since 3.13 (the sandbox has 3.14), not before."""
    status, out, err = result
    if b'  File "' in err:
        err = b"".join(line for line in err.splitlines(keepends=True) if not line.startswith(b"    "))
    return status, out, err


def compare(label, native, sandboxed):
    native, sandboxed = without_source_lines(native), without_source_lines(sandboxed)
    if native != sandboxed:
        print("FAIL: %s\n  python:    %r\n  isola-run: %r" % (label, native, sandboxed))
        return 1
    return 0


def main():
    isola_run = sys.argv[1]
    failures = 0
    for code, args, stdin in PROGRAMS:
        native = run([sys.executable, "-c", code, *args], stdin)
        sandboxed = run([isola_run, "--plain", "-c", code, *args], stdin)
        failures += compare("%r %r" % (code, args), native, sandboxed)
    with tempfile.TemporaryDirectory() as tmp:
        for i, code in enumerate(FILE_PROGRAMS):
            path = os.path.join(tmp, "prog%d.py" % i)
            if isinstance(code, str):
                code = code.encode()
            with open(path, "wb") as f:
                f.write(code)
            for script in (path, os.path.relpath(path)):
                native = run([sys.executable, script], None)
                sandboxed = run([isola_run, "--plain", script], None)
                failures += compare("%s: %r" % (script, code), native, sandboxed)
            if code.isascii():  # python fails a piped script declaring another encoding
                native = run([sys.executable, "-"], code)
                sandboxed = run([isola_run, "--plain", "-"], code)
                failures += compare("stdin: %r" % code, native, sandboxed)
        for i, code in enumerate(MODULE_PROGRAMS):
            with open(os.path.join(tmp, "mod%d.py" % i), "w") as f:
                f.write(code)
            native = run([sys.executable, "-m", "mod%d" % i, "a"], None, cwd=tmp)
            sandboxed = run([isola_run, "--plain", "--mount", "%s:%s" % (tmp, tmp), "-m", "mod%d" % i, "a"],
                            None, cwd=tmp)
            failures += compare("-m mod%d: %r" % (i, code), native, sandboxed)
        # A file left open: python flushes and closes it at exit, so its
        # data reaches the mount.
        code = "f = open('unclosed.txt', 'w')\nf.write('data ' * 3)\nb = open('unclosed.bin', 'wb', buffering=1 << 16)\nb.write(b'x' * 100)\n"
        results = []
        for argv in ([sys.executable, "-c", code], [isola_run, "--plain", "--mount", "%s:%s:rw" % (tmp, tmp), "-c", code]):
            for name in ("unclosed.txt", "unclosed.bin"):
                if os.path.exists(os.path.join(tmp, name)):
                    os.remove(os.path.join(tmp, name))
            status, out, err = run(argv, None, cwd=tmp)
            files = []
            for name in ("unclosed.txt", "unclosed.bin"):
                with open(os.path.join(tmp, name), "rb") as f:
                    files.append(f.read())
            results.append((status, out + b"".join(files), err))
        failures += compare("a file left open: %r" % code, results[0], results[1])
        # A tree copied on a read-write mount: copytree sets each directory's
        # times (os.utime of a mounted directory failed with EIO), and
        # os.access agrees with the modes (X_OK was true for every file).
        code = ("import os, shutil\nos.makedirs('tree/sub')\nopen('tree/sub/f.txt', 'w').write('x')\n"
                "os.utime('tree/sub', (1e9, 1e9))\nshutil.copytree('tree', 'copy')\n"
                "print(os.stat('copy/sub').st_mtime, open('copy/sub/f.txt').read(), sorted(os.listdir('copy')))\n"
                "print(os.access('copy/sub/f.txt', os.X_OK), os.access('copy/sub', os.X_OK), shutil.which('f.txt', path='copy/sub'))\n")
        results = []
        for i, argv in enumerate(([sys.executable, "-c", code], [isola_run, "--plain", "-c", code])):
            work = os.path.join(tmp, "rw%d" % i)
            os.mkdir(work)
            if i:
                argv[2:2] = ["--mount", "%s:%s:rw" % (work, work)]
            results.append(run(argv, None, cwd=work))
        failures += compare("copytree on a mount: %r" % code, results[0], results[1])
        # A module that is not there: python names its executable, isola-run itself.
        native = run([sys.executable, "-m", "no_such_module_x"], None, cwd=tmp)
        sandboxed = run([isola_run, "--plain", "--mount", "%s:%s" % (tmp, tmp), "-m", "no_such_module_x"],
                        None, cwd=tmp)
        expected = (native[0], native[1], b"isola-run: No module named no_such_module_x\n")
        if not native[2].endswith(b": No module named no_such_module_x\n"):
            expected = native
        failures += compare("-m no_such_module_x", expected, sandboxed)
    if failures:
        sys.exit(1)
    print("ok: %d programs behave the same under isola-run --plain and python"
          % (len(PROGRAMS) + 2 * len(FILE_PROGRAMS) + sum(isinstance(c, str) for c in FILE_PROGRAMS)
             + len(MODULE_PROGRAMS) + 3))


if __name__ == "__main__":
    main()
