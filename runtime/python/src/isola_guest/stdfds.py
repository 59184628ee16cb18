"""``os.dup`` / ``os.dup2`` for the standard descriptors 0, 1 and 2.

WASI has no ``dup``: its C library refuses it (ENOTSUP) and has no
``dup2``. Programs that save and redirect their standard streams — pytest's
default output capture, its faulthandler set-up, ``contextlib``-style
redirection helpers — need both. This module provides them at the Python
level, for the standard descriptors only:

- ``os.dup(n)`` (n = 0, 1, 2) returns a new descriptor number standing for
  the original stream n: writes to it reach the host's stdout / stderr.
- ``os.dup2(fd, n)`` makes descriptor n refer to ``fd``'s file for every
  Python-level use: ``os.write`` / ``os.read`` / ``os.fstat`` on n,
  ``sys.stdout`` / ``sys.stderr`` (see ``output``). ``os.dup2(saved, n)``
  with a descriptor from ``os.dup(n)`` restores it.

C code that writes to descriptor 1 or 2 itself is not redirected: its output
still reaches the host's stdout / stderr (it is never lost). ``dup`` of any
other descriptor still fails as WASI makes it fail.
"""

import errno
import os

from . import file_errors

_STD = (0, 1, 2)
# Descriptor numbers handed out by dup(): far above anything the C library
# allocates (it always picks the lowest free number).
_FIRST_ALIAS = 1 << 24

real_write = os.write  # the C library's write, on real descriptors
_real_read = os.read
_real_close = os.close
_real_fstat = os.fstat
_real_isatty = os.isatty
_real_dup = os.dup

# alias descriptor -> the real descriptor it stands for
_aliases = {}
# standard descriptor -> the real descriptor it has been redirected to
_redirects = {}
_next_alias = _FIRST_ALIAS


def resolve(fd):
    """The real descriptor that an operation on ``fd`` acts on."""
    if fd in _aliases:
        return _aliases[fd]
    return _redirects.get(fd, fd)


def redirected(fd):
    """Where standard descriptor ``fd`` is redirected to, or None."""
    return _redirects.get(fd)


def dup(fd, /):
    global _next_alias
    target = resolve(fd)
    if target not in _STD and target not in _redirects.values():
        return _real_dup(fd)  # fails as WASI makes it fail
    alias = _next_alias
    _next_alias += 1
    _aliases[alias] = target
    return alias


def dup2(fd, fd2, inheritable=True):
    target = resolve(fd)
    if fd2 in _STD:
        if target == fd2:
            _redirects.pop(fd2, None)
        else:
            _real_fstat(target)  # EBADF for a closed descriptor, as dup2 would
            _redirects[fd2] = target
        return fd2
    if fd2 in _aliases:
        _aliases[fd2] = target
        return fd2
    raise OSError(errno.ENOTSUP, "dup2 onto descriptor %d: WASI can only redirect 0, 1 and 2" % fd2)


def write(fd, data, /):
    target = resolve(fd)
    try:
        written = real_write(target, data)
    except OSError as error:
        raise file_errors.exact_write_error(target, data, error) from None
    return file_errors.finish_write(target, data, written, real_write)


def read(fd, n, /):
    return _real_read(resolve(fd), n)


def fstat(fd):
    return _real_fstat(resolve(fd))


def isatty(fd, /):
    return _real_isatty(resolve(fd))


def close(fd):
    if fd in _aliases:
        del _aliases[fd]
    elif fd in _redirects:
        # Closing a redirected standard descriptor ends the redirection; the
        # original stream stays open for the rest of the sandbox.
        del _redirects[fd]
    else:
        _real_close(fd)


def install():
    for fn in (dup, dup2, write, read, fstat, isatty, close):
        fn.__module__ = "os"
        setattr(os, fn.__name__, fn)
