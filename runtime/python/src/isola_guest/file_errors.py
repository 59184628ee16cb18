"""Exact error codes for failed writes to files, and whole writes.

The preview-1 adapter bundled with componentize-py 0.25.1 turns every failed
*stream* write into ``EIO``: it never asks ``wasi:filesystem`` which error it
was. Plain ``write()`` on a file goes through such a stream, so a program
filling the scratch file system (or a read-write mount's quota) would see
``OSError: [Errno 29] I/O error`` instead of ``ENOSPC`` / ``EDQUOT``.
Positional writes (``pwrite``) report the exact code, so when a write fails
with ``EIO`` the same bytes are offered once more as a positional write at
the end of the file: a write that failed for lack of room fails the same way
there, now with its real code. Should that probe succeed instead (the
failure did not repeat), the file is truncated back and the original ``EIO``
stands: the probe never changes what the program wrote.

Covered: ``os.write`` on any descriptor, and file objects from ``open`` /
``io.open`` (hence ``pathlib``, ``os.fdopen``, ``tempfile``, ``shutil``)
opened for writing, whose raw layer is :class:`FileIO`.

Writes to regular files are whole, as on Linux (``finish_write``): the
sandbox's file streams take at most 1 MiB per ``write``, so ``os.write``
and :class:`FileIO` write the rest of a larger buffer themselves.

``os.open`` without an access mode opens for reading, as on Linux, whose
``O_RDONLY`` is 0 (WASI's is a flag of its own; none given is ``EINVAL``).

Likewise for opening: WASI has no ``EMFILE``, so a sandbox at its limit of
open host files sees ``ENOMEM`` from the host; ``open`` and ``os.open``
report it as ``EMFILE`` ("Too many open files"), which is what it is and
what programs check for.
"""

import builtins
import errno
import io
import os
import stat
import sys

#: What a probe may reveal; anything else leaves the original error.
_EXACT_CODES = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS,
                          errno.EACCES, errno.EPERM))

_c_open = io.open
#: Descriptors ``stdfds.dup2`` can redirect.
_REDIRECTABLE = (0, 1, 2)
_c_fileio = io.FileIO
_c_os_open = os.open
#: WASI's access modes (read, write, exec, search): one must be given.
_ACCESS_MODES = os.O_ACCMODE


def exact_write_error(fd, data, error):
    """The error a failed write of ``data`` to ``fd`` really had: ``error``
    itself unless it is the adapter's catch-all ``EIO``."""
    if error.errno != errno.EIO:
        return error
    try:
        status = os.fstat(fd)
    except OSError:
        return error
    if not stat.S_ISREG(status.st_mode):
        return error
    size = status.st_size
    # Where the write went: past the end after a seek (a sparse file), the
    # end itself would take the bytes and teach nothing.
    try:
        at = max(size, os.lseek(fd, 0, os.SEEK_CUR))
    except OSError:
        at = size
    try:
        os.pwrite(fd, data, at)
    except OSError as probe:
        return probe if probe.errno in _EXACT_CODES else error
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass
    return error


def finish_write(fd, data, written, write_some):
    """Bytes of ``data`` written to ``fd`` once the rest is written too.

    Linux writes a regular file whole (or fails), and programs rely on it:
    importlib's ``.pyc`` writer, for one, treats a short write as an error.
    The sandbox's file streams take at most 1 MiB per ``write``, so a
    larger write to a file returns early; this writes the rest with
    ``write_some(fd, view)`` (returning a count). Other descriptors
    (pipes, devices, the standard streams) keep their short writes. An
    error after some bytes were written ends the loop with the count so
    far, as Linux reports it (the next write then fails)."""
    if not written:
        return written
    view = memoryview(data)
    total = view.nbytes
    if written >= total:
        return written
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return written
    except OSError:
        return written
    view = view.cast("B")
    while written < total:
        try:
            more = write_some(fd, view[written:])
        except OSError:
            break
        if not more:
            break
        written += more
    return written


class FileIO(_c_fileio):
    """``io.FileIO`` whose writes to regular files are whole, as on Linux,
    and whose failed writes report their exact error code; one on a
    standard descriptor (``open(1, "w", closefd=False)``) writes where
    ``os.dup2`` redirected it, as ``os.write`` does (``stdfds``)."""

    def write(self, b, /):
        if not self.closed and self.fileno() in _REDIRECTABLE and self.writable():
            from . import stdfds  # it imports this module

            if stdfds.redirected(self.fileno()) is not None:
                return os.write(self.fileno(), b)
        try:
            written = super().write(b)
        except OSError as error:
            raise exact_write_error(self.fileno(), b, error) from None
        return finish_write(self.fileno(), b, written, self._write_some)

    def _write_some(self, _fd, view):
        return super().write(view)

    def __repr__(self):
        # C's repr names the object's type, "FileIO" for this subclass;
        # it stands for _io.FileIO, whose repr says "<_io.FileIO ...>".
        text = super().__repr__()
        if type(self) is FileIO:
            text = "<_io." + text[1:]
        return text


_MODE_LETTERS = frozenset("axrwb+t")
_WRITING_LETTERS = frozenset("axw+")


def _plain_writing_mode(mode, buffering, encoding, errors, newline):
    """Whether ``open`` with these arguments opens a file for writing and
    raises nothing about its arguments (anything else is left to ``io.open``,
    which reads files, and raises for bad arguments, exactly as before)."""
    if not isinstance(mode, str) or not isinstance(buffering, int):
        return False
    letters = set(mode)
    if letters - _MODE_LETTERS or len(letters) != len(mode) or not letters & _WRITING_LETTERS:
        return False
    if len(letters & set("axrw")) != 1 or {"b", "t"} <= letters:
        return False
    for argument in (encoding, errors, newline):
        if argument is not None and not isinstance(argument, str):
            return False
    if "b" in letters:
        return encoding is None and errors is None and newline is None and buffering != 1
    return buffering != 0


def _too_many_open(error):
    """``error`` itself, or ``EMFILE`` for the ``ENOMEM`` WASI gives instead."""
    if error.errno != errno.ENOMEM:
        return error
    return OSError(errno.EMFILE, os.strerror(errno.EMFILE), error.filename)


def os_open(path, flags, mode=0o777, *, dir_fd=None):
    if not flags & _ACCESS_MODES:
        # Linux's O_RDONLY is 0, so ``os.open(p, os.O_CREAT | os.O_EXCL)``
        # (a lock file) or ``os.open(p, 0)`` opens for reading there; WASI's
        # O_RDONLY is a bit of its own, and flags without one are EINVAL.
        flags |= os.O_RDONLY
    try:
        return _c_os_open(path, flags, mode, dir_fd=dir_fd)
    except OSError as error:
        raise _too_many_open(error) from None


def open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
         closefd=True, opener=None):
    try:
        return _open(file, mode, buffering, encoding, errors, newline, closefd, opener)
    except OSError as error:
        raise _too_many_open(error) from None


def _open(file, mode, buffering, encoding, errors, newline, closefd, opener):
    if not _plain_writing_mode(mode, buffering, encoding, errors, newline):
        return _c_open(file, mode, buffering, encoding, errors, newline, closefd, opener)
    if not isinstance(file, int):
        file = os.fspath(file)  # as io.open does: the file's name is a str or bytes
    raw_mode = "".join(letter for letter in mode if letter in "axrw+")
    raw = FileIO(file, raw_mode, closefd, opener=opener)
    try:
        line_buffering = buffering == 1 or (buffering < 0 and raw._isatty_open_only())
        if buffering == 1 or buffering < 0:
            buffering = max(min(raw._blksize, 8192 * 1024), io.DEFAULT_BUFFER_SIZE)
        if buffering == 0:
            return raw
        buffered = (io.BufferedRandom if "+" in mode else io.BufferedWriter)(raw, buffering)
        if "b" in mode:
            return buffered
        text = io.TextIOWrapper(buffered, io.text_encoding(encoding), errors, newline,
                                line_buffering)
        text.mode = mode
        return text
    except BaseException:
        raw.close()
        raise


open.__doc__ = _c_open.__doc__
open.__module__ = "_io"
os_open.__doc__ = _c_os_open.__doc__
os_open.__name__ = os_open.__qualname__ = "open"
os_open.__module__ = "os"


def install():
    """Make ``open``, ``io.open`` and ``_io.FileIO`` build writable files on
    :class:`FileIO`, and ``open`` / ``os.open`` report ``EMFILE``."""
    builtins.open = io.open = open
    os.open = os_open
    # importlib writes .pyc files through _io.FileIO (a short write there
    # is an error); io.FileIO stays the C type.
    sys.modules["_io"].FileIO = FileIO
