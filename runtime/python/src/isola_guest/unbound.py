"""The guest's replacements of built-in functions do not bind as methods.

CPython's ``open``, ``io.open`` and ``os`` functions are built-in functions:
stored in a class (``class T: open = io.open``, ``_close = os.close``) and
read through an instance they stay plain functions. The guest replaces
some of them with Python functions (``file_errors.open``, ``stdfds.close``,
``file_modes``' ``os.stat``, ...), which would bind there:
``self.open(path, 'wb')`` passed the instance as the path (TypeError), and
``self._close(fd)`` too (CPython's test_io and test_tempfile do both).
Wrapped in a ``staticmethod`` (callable, carrying the function's name, doc
and ``__wrapped__``) they do not bind; ``repr``, ``pickle`` and ``copy``
treat them as the built-in functions they stand for.
"""

import builtins
import io
import os
import posix
import types

_GUEST_DIR = os.path.dirname(__file__) + os.sep


class BuiltinFunction(staticmethod):
    """A guest function standing for a built-in one."""

    def __repr__(self):
        return "<built-in function %s>" % self.__name__

    def __reduce__(self):
        # A global, as pickle and copy treat functions (by module and name).
        return self.__qualname__


def _guest_function(value):
    return isinstance(value, types.FunctionType) and value.__code__.co_filename.startswith(_GUEST_DIR)


def install():
    """Wrap the guest functions ``builtins``, ``io``, ``os`` and ``posix`` hold (once,
    after every other replacement)."""
    wrapped = {}
    supports_sets = (os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks,
                     os.supports_effective_ids)
    for module in (builtins, io, os, posix):
        for name, value in list(vars(module).items()):
            if not _guest_function(value):
                continue
            new = wrapped.get(id(value))
            if new is None:
                new = wrapped[id(value)] = BuiltinFunction(value)
                # Where pickle finds this very object again (the function's
                # own module holds the unwrapped one, and io's open is _io's).
                new.__module__ = module.__name__
                new.__qualname__ = name
                # A stand-in accepts what the C function it replaces
                # accepts: ``os.open in os.supports_dir_fd`` stays true.
                original = getattr(posix, name, None) if module is os else None
                for supports in supports_sets:
                    if value in supports or (original is not None and original in supports):
                        supports.discard(value)
                        supports.add(new)
            setattr(module, name, new)
