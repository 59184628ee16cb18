"""Permission bits in ``os.stat`` results.

WASI file systems have no permission bits: ``st_mode`` holds only the file
type, so every file looked like ``----------``. Archives written in the
sandbox then stored mode 0 (``tarfile``, ``zipfile``, ``shutil.make_archive``),
and a host that unpacks them got files nobody may read; programs that
check ``stat.S_IMODE`` saw unreadable files. ``os.stat``, ``os.lstat`` and
``os.fstat`` (and so ``os.path``, ``pathlib``, ``shutil``, ``tarfile``,
``zipfile``) report the modes a Linux process with umask 022 would create:
``rw-r--r--`` for files, ``rwxr-xr-x`` for directories. What a file really
allows is decided by its mount (read-only mounts refuse writes);
``os.chmod`` changes nothing. ``os.DirEntry.stat()`` (a C type) still
reports the type only.
"""

import os
import stat

_PERMISSIONS = {
    stat.S_IFREG: 0o644,
    stat.S_IFDIR: 0o755,
    stat.S_IFLNK: 0o777,
    stat.S_IFCHR: 0o666,
    stat.S_IFBLK: 0o660,
    stat.S_IFIFO: 0o644,
    stat.S_IFSOCK: 0o755,
}


def with_permissions(result: os.stat_result) -> os.stat_result:
    """``result`` with default permission bits when it has none."""
    mode = result.st_mode
    if mode & 0o7777:
        return result
    permissions = _PERMISSIONS.get(stat.S_IFMT(mode))
    if permissions is None:
        return result
    cls, (fields, extra) = result.__reduce__()
    return cls((mode | permissions,) + tuple(fields[1:]), extra)


def _wrap(fn):
    def wrapper(*args, **kwargs):
        return with_permissions(fn(*args, **kwargs))

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def install() -> None:
    """Wrap ``os.stat``, ``os.lstat`` and ``os.fstat`` (once). importlib
    keeps calling ``posix.stat`` directly: it needs no permission bits."""
    for name in ("stat", "lstat", "fstat"):
        fn = getattr(os, name)
        if getattr(fn, "__wrapped__", None) is not None:
            continue
        wrapper = _wrap(fn)
        setattr(os, name, wrapper)
        # `os.stat in os.supports_follow_symlinks` and friends stay true.
        for supports in (os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks,
                         os.supports_effective_ids):
            if fn in supports:
                supports.add(wrapper)
