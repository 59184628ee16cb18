"""A template's prelude run once, at template build, then snapshotted.

With a template's prelude snapshot enabled the host runs, in a build-time
instance: ``begin_prelude()``, the prelude (an ordinary ``eval-script``),
then ``finish_prelude()``, and snapshots the instance's memory with
wasmtime-wizer. Every sandbox of the template starts from that snapshot, so
the prelude's definitions are there without running it again.

Linear memory survives a snapshot; the instance's WASI and host resources
(file descriptors, pollables, host-call futures) do not. So
``finish_prelude`` refuses a prelude that leaves any of them behind, makes
the C runtime forget the WASI handles it cached (``_isola_snapshot``), and
marks the heap as restored: the next instance redoes its per-instance
set-up (``instance.ensure_ready``), including what componentize-py does
only once per heap (environment, random seed).
"""

import asyncio
import gc
import io
import os
import sys

from . import instance, loop, snapshot, stdfds
from .errors import Failure

#: Descriptors open before the prelude ran (the preopened directories and
#: the standard streams); anything else open afterwards is the prelude's.
_baseline_fds = frozenset()

#: Highest descriptor number looked at: the C library hands out the lowest
#: free number, so a prelude's files are far below this.
_MAX_FD = 1024


def _open_fds():
    fds = set()
    for fd in range(_MAX_FD):
        try:
            os.fstat(fd)
        except OSError:
            continue
        fds.add(fd)
    return fds


def begin_prelude():
    """Record what is open before the prelude runs."""
    global _baseline_fds
    _baseline_fds = frozenset(_open_fds())


def _refuse(what):
    raise Failure(
        "invalid-argument",
        "PreludeNotSnapshottable",
        "the prelude cannot be snapshotted: it leaves %s behind (a snapshot keeps memory, "
        "not open files or host objects); close or finish them in the prelude, or build "
        "the template without the prelude snapshot" % what,
    )


def _open_files():
    standard = {id(s) for s in (sys.stdin, sys.stdout, sys.stderr,
                                sys.__stdin__, sys.__stdout__, sys.__stderr__) if s is not None}
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, io.IOBase) and id(obj) not in standard:
            try:
                closed = obj.closed
            except Exception:
                continue
            if not closed:
                found.append(repr(obj))
    return found


def finish_prelude():
    """Check that the prelude left nothing a snapshot cannot keep, then
    prepare the heap for the snapshot. Nothing may run in this instance
    afterwards: its WASI handles are forgotten."""
    gc.collect()  # files and futures the prelude merely dropped are closed now
    files = _open_files()
    if files:
        _refuse("open files (%s)" % ", ".join(sorted(files)[:5]))
    extra = sorted(_open_fds() - _baseline_fds)
    if extra:
        _refuse("open file descriptors %s" % extra)
    if stdfds._aliases or stdfds._redirects:
        _refuse("duplicated or redirected standard descriptors")
    tasks = [t for t in asyncio.all_tasks(loop.get_loop()) if not t.done()]
    if tasks:
        _refuse("%d unfinished asyncio task(s)" % len(tasks))
    instance.ready = False
    instance.restored = True
    # The prelude's objects join the shared heap image, as the runtime's
    # own do at build time (see isola_guest.snapshot).
    snapshot.seal()
    import _isola_snapshot

    _isola_snapshot.forget_wasi_state()
