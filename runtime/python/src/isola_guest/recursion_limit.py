"""``sys.setrecursionlimit`` capped at a depth whose exception can be freed.

An exception that unwound through N Python frames holds a traceback of N
entries, and freeing it recurses N levels deep in C. CPython stops such
recursions in time by watching the stack pointer, but on WebAssembly that is
the linear-memory stack, which deallocation barely uses; the recursion runs
on the engine's native stack (48 MiB) instead, and past about 220,000
levels the sandbox traps. So a limit set above :data:`MAX_RECURSION_LIMIT`
is lowered to it: runaway recursion under ``sys.setrecursionlimit(10**6)``,
a common idiom, ends in ``RecursionError`` as under ``python``, not in a
trap that ends the sandbox. ``sys.getrecursionlimit()`` reports the limit in
force.
"""

import sys

#: Deepest recursion allowed: about two thirds of the depth whose traceback
#: still frees on the native stack (measured: 210,000 frames freed, 240,000
#: trapped).
MAX_RECURSION_LIMIT = 150_000

_setrecursionlimit = sys.setrecursionlimit


def setrecursionlimit(limit, /):
    """Set the maximum depth of the Python interpreter stack to ``limit``,
    at most :data:`MAX_RECURSION_LIMIT` in a sandbox (see the module)."""
    _setrecursionlimit(limit)  # CPython's own checks and errors first
    if limit > MAX_RECURSION_LIMIT:
        _setrecursionlimit(MAX_RECURSION_LIMIT)


def install():
    """Replace ``sys.setrecursionlimit``."""
    sys.setrecursionlimit = setrecursionlimit
