"""``os._exit``: end the sandbox as ``_exit(2)`` ends a process.

wasi-libc's ``_exit`` reaches the host through WASI's ``exit``, which keeps
only success or failure, so the status would be lost; isola's ``exit``
import carries it. As in python, no Python clean-up runs (no ``finally``,
``atexit`` or ``with`` exits); text already written to ``sys.stdout`` and
``sys.stderr`` is sent first, as a terminal would show it.
"""

import operator
import os
import posix

from . import hostapi, output

_C_INT_MIN, _C_INT_MAX = -(2**31), 2**31 - 1


def _exit(status):
    """Exit to the system with specified status, without normal exit processing."""
    status = operator.index(status)
    if not _C_INT_MIN <= status <= _C_INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    output.flush_all()
    hostapi.exit(status)
    # The host's import never returns inside the component.
    raise SystemError("the host did not end the sandbox on os._exit")


_exit.__name__ = _exit.__qualname__ = "_exit"
_exit.__module__ = "posix"


def install():
    """Replace ``os._exit`` (``posix._exit``) in the build-time heap."""
    os._exit = posix._exit = _exit
