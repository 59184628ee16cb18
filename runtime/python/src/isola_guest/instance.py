"""Per-instance set-up.

The component starts from a heap snapshot taken at build time, so anything
that must differ per instance is done lazily on the first export call of
each instance. componentize-py's own glue already does part of it on that
call, before any isola code runs: it fills the (build-time emptied)
``os.environ`` from ``wasi:cli/environment`` and reseeds ``random`` from
host entropy. What is left here is small; work that is the same in every
instance is done at build time instead (``prepare_snapshot``,
``warm_up``).
"""

import asyncio
import importlib
import os
import sys

from . import cbor, clocks, file_errors, hostapi, local_time, loop, output, process_exit

#: Whether this instance's per-instance set-up (``ensure_ready``) has run;
#: read directly on the per-call path.
ready = False

#: Set in a heap the host snapshotted after a template's prelude
#: (``preinit.finish_prelude``). componentize-py's glue fills
#: ``os.environ`` and reseeds ``random`` only on the first export call of a
#: heap, which in such a snapshot was the build-time instance's; a restored
#: instance must do both itself.
restored = False

#: ``sys.argv`` of a sandbox whose host gave it no command line.
DEFAULT_ARGV = ("sandbox",)

#: The guest's home and default working directory, in the sandbox's
#: in-memory scratch file system (the host's `isola::sandbox::GUEST_HOME`).
HOME = "/home/user"


def _normalizing_chdir(chdir):
    """wasi-libc keeps the working directory as the joined string
    (``/home/user/..``); resolve ``.`` and ``..`` first, as the sandbox's
    file system itself resolves them by name (it has no symlinks above the
    mounts)."""

    def isola_chdir(path):
        if isinstance(path, int):
            return chdir(path)
        text = os.fsdecode(path)
        try:
            return chdir(os.path.normpath(os.path.join(os.getcwd(), text)))
        except OSError as error:
            # The error names the path as given, as CPython's does.
            error.filename = path
            raise

    isola_chdir.__doc__ = chdir.__doc__
    isola_chdir.__name__ = "chdir"
    return isola_chdir


def _apply_pythonpath():
    entries = [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]
    if not entries:
        # invalidate_caches() costs milliseconds; skip it when nothing changed.
        return
    for p in reversed(entries):
        if p in sys.path:
            sys.path.remove(p)
        sys.path.insert(0, p)
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()


def prepare_snapshot():
    """Build-time part of the set-up: the same in every instance, so it is
    done once and lives in the shared heap image instead of being redone
    (and its pages copied) by each instance."""
    output.install()
    file_errors.install()
    clocks.install()
    process_exit.install()
    sys.dont_write_bytecode = True  # mounted package dirs are usually read-only
    loop.install()
    os.chdir = _normalizing_chdir(os.chdir)
    from . import runner
    runner.install_main()
    from . import unbound
    unbound.install()  # last: after every replacement of a built-in function


def _renew_environment_and_seed():
    """What componentize-py's glue does on a heap's first export call, for
    a heap snapshotted after that call: this instance's environment (the
    build-time one is dropped, whatever the prelude set) and a fresh seed
    for ``random`` from the host's entropy."""
    import random

    os.environ.clear()
    for key, value in hostapi.get_environment():
        os.environ[key] = value
    random.seed()


#: The locale CPython on Linux coerces a C locale to (PEP 538) and names in
#: the environment variable LC_CTYPE; the guest's character-type locale.
COERCED_LOCALE = "C.UTF-8"


def coerced_ctype(environ):
    """What CPython's start-up sets ``LC_CTYPE`` to in an environment (a
    mapping): ``C.UTF-8`` when the environment leaves the character-type
    locale at C (no ``LC_ALL``, and ``LC_CTYPE``, else ``LANG``, unset,
    empty, ``C`` or ``POSIX``) unless ``PYTHONCOERCECLOCALE=0``, else None
    (the environment is left as it is)."""
    if environ.get("LC_ALL") or environ.get("PYTHONCOERCECLOCALE") == "0":
        return None
    name = environ.get("LC_CTYPE") or environ.get("LANG") or "C"
    return COERCED_LOCALE if name in ("C", "POSIX") else None


def _coerce_c_locale():
    """python on Linux started in the C locale (an environment without
    locale variables, as a sandbox's usually is) coerces it to C.UTF-8 and
    says so in ``os.environ['LC_CTYPE']`` (PEP 538), where programs and
    packages look for the locale (``babel.default_locale()`` and so
    babel's formatting without a ``locale=``, ``locale.getdefaultlocale()``).
    The guest's C library starts in C.UTF-8 already, so CPython's start-up
    found nothing to coerce and set no variable; this sets it as python's
    start-up on Linux would for this instance's environment."""
    ctype = coerced_ctype(os.environ)
    if ctype is not None:
        os.environ["LC_CTYPE"] = ctype


def ensure_ready():
    """Per-instance part of the set-up, on the first export call."""
    global ready
    if ready:
        return
    # os.environ and the random seed are already this instance's (see the
    # module docstring), except in a heap restored after a prelude.
    if restored:
        _renew_environment_and_seed()
    _coerce_c_locale()
    try:
        os.chdir(HOME)
    except OSError:  # a runtime hosted without isola's file system
        pass
    # The C runtime's start-up empties sys.argv after the snapshot; programs
    # (argparse, pytest) expect a program name in it: the command line the
    # host gave this sandbox (its argv option), else a stand-in.
    sys.argv = list(hostapi.get_arguments()) or list(DEFAULT_ARGV)
    clocks.restart()
    local_time.start()  # only when the sandbox's environment sets TZ
    # numpy's legacy global generator (np.random.random and friends), in the
    # scientific runtime's snapshot, was seeded at build time: without this
    # every sandbox would draw the same numbers. 128 bits of OS entropy as
    # MT19937's init_by_array key, as seed() gives it, without seed()'s
    # SeedSequence: that runs Cython and Python code costing about 0.5 ms
    # and copy-on-write page copies in every new sandbox (0.06 ms this way).
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        key = os.urandom(16)
        np_random.seed([int.from_bytes(key[i:i + 4], "little") for i in range(0, 16, 4)])
    _apply_pythonpath()
    ready = True


#: ``asyncio.events``, where the current event loop policy is kept.
_events = asyncio.events


def begin_call():
    """Undo process-wide changes a previous call may have left behind.

    This runs on every export call, so it reads before it writes: storing
    an attribute of a module (``sys.stdout = ...``) is a generic set-attribute
    call in CPython, about 1,400 guest instructions, and ``getattr`` with a
    default is a builtin call; a plain attribute chain is specialised."""
    # Output always goes to the host at the start of a call, even if an earlier
    # call replaced sys.stdout and never restored it.
    if sys.stdout is not output.stdout:
        sys.stdout = output.stdout
    if sys.stderr is not output.stderr:
        sys.stderr = output.stderr
    # asyncio.Runner clears the current loop when it closes; put ours back.
    # Most calls leave it alone, and asyncio.set_event_loop is four
    # Python-level calls, so look first (any policy but the default one's
    # thread-local slot takes the general path).
    try:
        current = _events._event_loop_policy._local._loop
    except AttributeError:
        current = None
    if current is None or current is not loop._main_loop:
        asyncio.set_event_loop(loop.get_loop())


#: How often ``warm_up`` runs each path: CPython specialises an
#: instruction after it ran a couple of times.
WARM_UP_ROUNDS = 8


class _WarmUpValue:
    def __init__(self, raw):
        self.value = raw


class _WarmUpArg:
    def __init__(self, name, raw):
        self.name = name
        self.value = _WarmUpValue(raw)


def warm_up():
    """Run the per-call Python paths that need no host at build time, so what
    they compute on first use (the compiler's and the AST module's first
    use, specialised bytecode of the runtime's own functions, type and
    method caches, interned names) is part of the heap snapshot instead of
    being redone, and its pages copied, by every instance's first eval and
    call. Nothing the user can see is left behind: the code runs in a
    throwaway namespace."""
    from . import runner

    scratch = {"__name__": "__warm_up__", "__builtins__": __builtins__}
    args = [_WarmUpArg(None, cbor.dumps(1)), _WarmUpArg("y", cbor.dumps([1.5, "x", None, True]))]
    for _ in range(WARM_UP_ROUNDS):
        begin_call()
        code = runner._compile_script("def f(x, y=None):\n    return x + 1\nf(1)\n", runner.SCRIPT_NAME)
        eval(code, scratch)
        runner._script_result(scratch.pop(runner._RESULT_NAME, None))
        positional, keywords = runner._decode_args(args)
        result = scratch["f"](*positional, **keywords)
        positional, keywords = runner._decode_cbor_args([cbor.dumps(1)], [("y", cbor.dumps([1.5, "x"]))])
        result = scratch["f"](*positional, **keywords)
        cbor.loads(cbor.dumps({"result": result, "items": [result, "text", 2.5, None, b"b"]}))
