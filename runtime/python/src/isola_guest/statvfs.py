"""``os.statvfs`` and ``shutil.disk_usage`` from what isola knows.

WASI has no statvfs (CPython's WASI build lacks ``os.statvfs``, so
``shutil.disk_usage`` did not exist either). The host answers for a path
(``stat-fs``): in the in-memory scratch file system (``/tmp``, the home
directory, ``/``, ``/dev``), its caps and use (bytes of file contents and
files; a cap of 0, none, shows as the 4 GiB a sandbox's memory can hold at
most); in a mount with a byte quota, the quota and what the guest added;
a mount without a quota is the host's file system, whose size the sandbox
does not see: ``OSError`` (``ENOSYS``), as for any path in a sandbox
without the import.
"""

import collections
import errno
import os
import shutil

from . import hostapi

#: Block size reported (f_bsize, f_frsize).
BLOCK = 4096
#: What a cap of 0 (none) shows as: the most a wasm32 memory holds.
_NO_CAP = 1 << 32
#: ST_RDONLY, as Linux defines it.
ST_RDONLY = 1


def statvfs(path):
    """Perform a statvfs system call on the given path.

    path may be a path string or a path-like object (not a descriptor:
    WASI gives no path for one)."""
    if isinstance(path, int):
        raise OSError(errno.ENOSYS, "statvfs of a file descriptor is not available in the sandbox")
    os.stat(path)  # FileNotFoundError and friends, as Linux gives them
    where = os.path.abspath(os.fsdecode(os.fspath(path)))
    try:
        stats = hostapi.stat_fs(where)
    except RuntimeError:  # not running inside the component
        stats = None
    if stats is None:
        raise OSError(errno.ENOSYS, "the size of this mount is its host's file system, which the sandbox does not see", path)
    max_bytes = stats.max_bytes or _NO_CAP
    max_files = stats.max_files or _NO_CAP
    blocks = -(-max_bytes // BLOCK)
    used_blocks = min(blocks, -(-stats.used_bytes // BLOCK))
    free = 0 if stats.read_only else blocks - used_blocks
    files_free = 0 if stats.read_only else max(0, max_files - stats.used_files)
    return os.statvfs_result((BLOCK, BLOCK, blocks, free, free, max_files, files_free, files_free,
                              ST_RDONLY if stats.read_only else 0, 255, 0))


_ntuple_diskusage = collections.namedtuple("usage", "total used free")


def disk_usage(path):
    """Return disk usage statistics about the given path.

    Returned value is a named tuple with attributes 'total', 'used' and
    'free', which are the amount of total, used and free space, in bytes.
    """
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    total = st.f_blocks * st.f_frsize
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    return _ntuple_diskusage(total, used, free)


def install():
    """Give ``os`` and ``shutil`` the functions (build time)."""
    if hasattr(os, "statvfs"):
        return
    statvfs.__module__ = "os"
    os.statvfs = statvfs
    if "statvfs" not in os.__all__:
        os.__all__.append("statvfs")
    disk_usage.__module__ = "shutil"
    shutil.disk_usage = disk_usage
    shutil._ntuple_diskusage = _ntuple_diskusage
    if "disk_usage" not in shutil.__all__:
        shutil.__all__.append("disk_usage")
