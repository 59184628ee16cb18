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
reports the type only. ``os.access(path, os.X_OK)`` agrees with those
modes (WASI's says every file is executable): false for files, true for
directories, so ``shutil.which`` finds no program among data files.
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


def _named_like(wrapper, fn):
    """``wrapper`` carrying ``fn``'s name and doc, ``fn`` as ``__wrapped__``."""
    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def _wrap(fn):
    def wrapper(*args, **kwargs):
        return with_permissions(fn(*args, **kwargs))

    return _named_like(wrapper, fn)


def _wrap_access(fn):
    def access(path, mode, *, dir_fd=None, effective_ids=False, follow_symlinks=True):
        if not fn(path, mode, dir_fd=dir_fd, effective_ids=effective_ids,
                  follow_symlinks=follow_symlinks):
            return False
        if not mode & os.X_OK:
            return True
        try:
            result = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        except OSError:
            return False
        return bool(with_permissions(result).st_mode & 0o111)

    return _named_like(access, fn)


def install() -> None:
    """Wrap ``os.stat``, ``os.lstat``, ``os.fstat`` and ``os.access`` (once). importlib
    keeps calling ``posix.stat`` directly: it needs no permission bits."""
    for name, wrap in (("stat", _wrap), ("lstat", _wrap), ("fstat", _wrap), ("access", _wrap_access)):
        fn = getattr(os, name)
        if getattr(fn, "__wrapped__", None) is not None:
            continue
        wrapper = wrap(fn)
        setattr(os, name, wrapper)
        # `os.stat in os.supports_follow_symlinks` and friends stay true.
        for supports in (os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks,
                         os.supports_effective_ids):
            if fn in supports:
                supports.add(wrapper)
