"""``mmap`` in the sandbox: memory maps emulated over file reads and writes.

WASI has no ``mmap`` system call, so this CPython build has no ``mmap``
module, yet programs and packages import it (pandas at import time, numpy's
``memmap``, readers of large files). This module gives them the same class
and constants, backed by a private buffer:

- A map of a file holds a copy of the mapped bytes, read when it is made.
- Writes through the map's methods (``m[i] = …``, ``write``, ``move``,
  ``write_byte``) reach the file at once for a shared, writable map
  (``ACCESS_WRITE``, or ``MAP_SHARED`` with ``PROT_WRITE``); writes through
  the buffer protocol (numpy arrays over the map) reach it on ``flush()``
  and ``close()``. ``ACCESS_COPY`` / ``MAP_PRIVATE`` never write back;
  ``ACCESS_READ`` refuses writes as CPython does.
- Another descriptor's writes to the file are not seen by an existing map.
- The file must stay open while a shared map writes back (WASI has no
  ``dup``); writing back after it was closed raises ``EBADF``, also when
  its descriptor number now belongs to another file. A map told the
  file's path (``_write_back_by_path``, which the scientific runtime's
  ``numpy.memmap`` uses, as numpy closes the file it maps) opens the file
  by path for each write back instead.
- A shared map writes back when it is garbage collected, as a real map's
  pages reach the file when it is unmapped (numpy's "del fp flushes").
- Anonymous maps (``fileno=-1``) are plain zero-filled memory.
"""

import os
import sys

error = OSError

PAGESIZE = ALLOCATIONGRANULARITY = 65536  # the WebAssembly page

ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY = 0, 1, 2, 3
MAP_SHARED, MAP_PRIVATE = 1, 2
MAP_ANON = MAP_ANONYMOUS = 0x20
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED = 0, 1, 2, 3, 4

_READONLY = "mmap can't modify a readonly memory map."


def _read_exactly(fd, length, offset):
    chunks = []
    while length > 0:
        chunk = os.pread(fd, length, offset)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


class mmap:
    """A memory map of a file or of anonymous memory (see the module docs)."""

    def __init__(self, fileno, length, flags=MAP_SHARED, prot=PROT_WRITE | PROT_READ,
                 access=ACCESS_DEFAULT, offset=0, *, trackfd=True):
        if length < 0:
            raise OverflowError("memory mapped length must be positive")
        if offset < 0:
            raise OverflowError("memory mapped offset must be positive")
        if access != ACCESS_DEFAULT and (flags != MAP_SHARED or prot != PROT_WRITE | PROT_READ):
            raise ValueError("mmap can't specify both access and flags, prot.")
        if access not in (ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY):
            raise ValueError("mmap invalid access parameter.")
        if access == ACCESS_DEFAULT:
            if not prot & PROT_WRITE:
                access = ACCESS_READ
            elif flags & MAP_PRIVATE:
                access = ACCESS_COPY
            else:
                access = ACCESS_WRITE
        self._access = access
        self._fd = None if fileno == -1 else fileno
        self._path = None
        self._identity = None
        self._offset = offset
        self._position = 0
        self._exports = 0
        if self._fd is None:
            if length == 0:
                raise ValueError("cannot mmap an empty file")
            self._data = bytearray(length)
            return
        st = os.fstat(fileno)
        self._identity = (st.st_dev, st.st_ino)
        size = st.st_size
        if length == 0:
            if size == 0:
                raise ValueError("cannot mmap an empty file")
            if offset >= size:
                raise ValueError("mmap offset is greater than file size")
            length = size - offset
        elif offset > size or size - offset < length:
            raise ValueError("mmap length is greater than file size")
        self._data = bytearray(_read_exactly(fileno, length, offset))

    # -- helpers ---------------------------------------------------------

    def _check_open(self):
        if self._data is None:
            raise ValueError("mmap closed or invalid")

    def _check_writable(self):
        self._check_open()
        if self._access == ACCESS_READ:
            raise TypeError(_READONLY)

    def _write_back_by_path(self, path):
        """Write back by opening ``path`` (the mapped file) rather than through
        the descriptor given, which its owner may close."""
        st = os.stat(path)
        if self._fd is not None and (st.st_dev, st.st_ino) == self._identity:
            self._path = os.fspath(path)

    def _open_file(self):
        """A descriptor of the mapped file and whether to close it after use."""
        if self._path is not None:
            return os.open(self._path, os.O_WRONLY), True
        st = os.fstat(self._fd)
        if (st.st_dev, st.st_ino) != self._identity:
            # The map's descriptor was closed and its number reused by
            # another file: never write into that one.
            raise OSError(9, "Bad file descriptor: the mapped file was closed")
        return self._fd, False

    def _write_through(self, start, end):
        if self._access == ACCESS_WRITE and self._fd is not None and end > start:
            view = memoryview(self._data)[start:end]
            position = self._offset + start
            fd, owned = self._open_file()
            try:
                while view:
                    written = os.pwrite(fd, view, position)
                    view = view[written:]
                    position += written
            finally:
                if owned:
                    os.close(fd)

    # -- the buffer and sequence protocols ---------------------------------

    def __buffer__(self, flags):
        self._check_open()
        view = memoryview(self._data)
        self._exports += 1
        return view.toreadonly() if self._access == ACCESS_READ else view

    def __release_buffer__(self, view):
        self._exports -= 1

    def __len__(self):
        self._check_open()
        return len(self._data)

    def __getitem__(self, index):
        self._check_open()
        item = self._data[index]
        return bytes(item) if isinstance(index, slice) else item

    def __setitem__(self, index, value):
        self._check_writable()
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._data))
            if step == 1 and len(value) != max(stop - start, 0):
                raise IndexError("mmap slice assignment is wrong size")
            self._data[index] = value
            if step > 0 and stop > start:
                self._write_through(start, stop)
            elif step < 0 and start > stop:
                self._write_through(stop + 1, start + 1)
        else:
            if not isinstance(value, int):
                raise TypeError("mmap item value must be an int")
            if index < 0:
                index += len(self._data)
            self._data[index] = value
            self._write_through(index, index + 1)

    def __iter__(self):
        self._check_open()
        return (bytes((b,)) for b in bytes(self._data))

    def __enter__(self):
        self._check_open()
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_data", None) is not None and not self._exports:
            self.close()

    def __repr__(self):
        if self._data is None:
            return "<mmap.mmap closed=True>"
        names = {ACCESS_READ: "ACCESS_READ", ACCESS_WRITE: "ACCESS_WRITE", ACCESS_COPY: "ACCESS_COPY"}
        return "<mmap.mmap closed=False, access=%s, length=%d, pos=%d, offset=%d>" % (
            names[self._access], len(self._data), self._position, self._offset)

    # -- the mmap methods ----------------------------------------------------

    @property
    def closed(self):
        return self._data is None

    def close(self):
        if self._data is None:
            return
        if self._exports:
            raise BufferError("cannot close exported pointers exist")
        try:
            self.flush()
        except OSError:
            pass  # the file was closed first; as with a real map, close still succeeds
        self._data = None

    def flush(self, offset=0, size=None):
        self._check_open()
        if size is None:
            size = len(self._data) - offset
        if offset < 0 or size < 0 or offset + size > len(self._data):
            raise ValueError("flush values out of range")
        self._write_through(offset, offset + size)

    def madvise(self, option, start=0, length=None):
        self._check_open()

    def find(self, sub, start=None, end=None):
        self._check_open()
        return self._data.find(sub, *self._bounds(start, end))

    def rfind(self, sub, start=None, end=None):
        self._check_open()
        return self._data.rfind(sub, *self._bounds(start, end))

    def _bounds(self, start, end):
        return (self._position if start is None else start,
                len(self._data) if end is None else end)

    def move(self, dest, src, count):
        self._check_writable()
        size = len(self._data)
        if min(dest, src, count) < 0 or src + count > size or dest + count > size:
            raise ValueError("source, destination, or count out of range")
        self._data[dest:dest + count] = self._data[src:src + count]
        self._write_through(dest, dest + count)

    def read(self, n=None):
        self._check_open()
        end = len(self._data) if n is None or n < 0 else min(len(self._data), self._position + n)
        chunk = bytes(self._data[self._position:end])
        self._position = max(self._position, end)
        return chunk

    def read_byte(self):
        self._check_open()
        if self._position >= len(self._data):
            raise ValueError("read byte out of range")
        self._position += 1
        return self._data[self._position - 1]

    def readline(self):
        self._check_open()
        newline = self._data.find(b"\n", self._position)
        end = len(self._data) if newline < 0 else newline + 1
        return self.read(end - self._position)

    def resize(self, newsize):
        self._check_writable()
        if self._fd is not None:
            raise OSError(95, "mmap.resize of a file map is not supported in the isola sandbox")
        if self._exports:
            raise BufferError("mmap can't resize with extant buffers exported.")
        if newsize < len(self._data):
            del self._data[newsize:]
        else:
            self._data.extend(bytes(newsize - len(self._data)))
        self._position = min(self._position, newsize)

    def seek(self, pos, whence=os.SEEK_SET):
        self._check_open()
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: len(self._data)}.get(whence)
        if base is None:
            raise ValueError("unknown seek type")
        if not 0 <= base + pos <= len(self._data):
            raise ValueError("seek out of range")
        self._position = base + pos
        return self._position

    def seekable(self):
        return True

    def size(self):
        self._check_open()
        if self._fd is None:
            return len(self._data)
        if self._path is not None:
            return os.stat(self._path).st_size
        return os.fstat(self._fd).st_size

    def tell(self):
        self._check_open()
        return self._position

    def write(self, data):
        self._check_writable()
        data = memoryview(data).cast("B")
        if self._position + len(data) > len(self._data):
            raise ValueError("data out of range")
        start = self._position
        self._data[start:start + len(data)] = data
        self._position += len(data)
        self._write_through(start, self._position)
        return len(data)

    def write_byte(self, byte):
        self._check_writable()
        if self._position >= len(self._data):
            raise ValueError("write byte out of range")
        self._data[self._position] = byte
        self._position += 1
        self._write_through(self._position - 1, self._position)


mmap.__module__ = "mmap"


def install():
    """Make ``import mmap`` give this module."""
    sys.modules.setdefault("mmap", sys.modules[__name__])
