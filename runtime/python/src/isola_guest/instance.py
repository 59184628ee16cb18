"""Per-instance set-up.

The component starts from a heap snapshot taken at build time, so anything
that must differ per instance (environment, random seed, the host-backed
output streams) is done lazily on the first export call of each instance.
"""

import asyncio
import importlib
import os
import random
import sys

from . import hostapi, loop, output

_ready = False

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
        return chdir(os.path.normpath(os.path.join(os.getcwd(), text)))

    isola_chdir.__doc__ = chdir.__doc__
    isola_chdir.__name__ = "chdir"
    return isola_chdir


def _rebuild_environ():
    pairs = hostapi.get_environment()
    # The snapshot still holds the build machine's environment: forget it.
    for key in list(os.environ):
        try:
            del os.environ[key]
        except Exception:
            os.environ._data.pop(os.environ.encodekey(key), None)
    for key, value in pairs:
        try:
            os.environ[key] = value
        except Exception:  # e.g. "=" in a name; keep the rest
            pass


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
    sys.dont_write_bytecode = True  # mounted package dirs are usually read-only
    loop.install()
    os.chdir = _normalizing_chdir(os.chdir)


def ensure_ready():
    """Per-instance part of the set-up, on the first export call."""
    global _ready
    if _ready:
        return
    _rebuild_environ()
    try:
        os.chdir(HOME)
    except OSError:  # a runtime hosted without isola's file system
        pass
    # The C runtime's start-up empties sys.argv after the snapshot; programs
    # (argparse, pytest) expect a program name in it.
    sys.argv = ["sandbox"]
    random.seed(os.urandom(32))
    _apply_pythonpath()
    _ready = True


def begin_call():
    """Undo process-wide changes a previous call may have left behind."""
    # Output always goes to the host at the start of a call, even if an earlier
    # call replaced sys.stdout and never restored it.
    sys.stdout = output.stdout
    sys.stderr = output.stderr
    # asyncio.Runner clears the current loop when it closes; put ours back.
    asyncio.set_event_loop(loop.get_loop())
