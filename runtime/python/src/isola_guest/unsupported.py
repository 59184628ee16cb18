"""What the sandbox cannot do fails where it is used, with an error naming the sandbox.

(Also the few POSIX calls WASI lacks that programs use without needing a
real answer: ``os.umask``, ``os.getuid`` and friends.)

``socket``, ``subprocess`` and ``multiprocessing`` import normally
(programs and test suites import them without using them). The
operations the sandbox does not offer raise at the point of use, as on
Pyodide: ``PermissionError`` for processes and network access. These
wrappers only reword; the refusal itself comes from the host (no network
in the WASI context, no process creation in WASI), so code that bypasses
them (``_socket``) is refused too.

Threads are not refused: ``threading.Thread.start`` starts a cooperative
thread, run in the calling thread when it is joined, when its starter
waits, or at the end of the call; a wait that can never end raises
``sandbox.DeadlockError`` (see ``isola_guest.threads``).
``ThreadPoolExecutor`` runs each task at ``submit`` (below).
"""

import errno
import functools
import sys

_NO_PROCESSES = "isola sandbox: cannot start processes (%s)"
_NO_NETWORK = "isola sandbox: no network access (%s); ask the host through sandbox.http or sandbox.hostcall"


def _no_processes(what):
    return PermissionError(errno.EPERM, _NO_PROCESSES % what)


def _fork():
    raise _no_processes("os.fork")


_umask = 0o022


def _umask_fn(mask, /):
    """WASI files have no permission bits; the mask is kept only so that
    programs saving and restoring it (pytest's cache) work."""
    global _umask
    previous, _umask = _umask, int(mask) & 0o777
    return previous


def _uid():
    """WASI has no users; files report owner 0, so does the process (as on Emscripten)."""
    return 0


def _refuse_processes(name):
    def refuse(*_args, **_kwargs):
        raise _no_processes("os.%s" % name)

    refuse.__name__ = name
    refuse.__doc__ = "Not available: the isola sandbox cannot start processes."
    return refuse


def _kill(pid, sig, /):
    """Signal 0 to the sandbox's own process checks that it exists (it does);
    every other signal is refused: there are no other processes, and WASI
    has no signals."""
    if sig == 0 and pid in (0, _getpid()):
        return None
    raise PermissionError(errno.EPERM, "isola sandbox: cannot send signals (os.kill(%r, %r))" % (pid, sig))


def _killpg(pgid, sig, /):
    raise PermissionError(errno.EPERM, "isola sandbox: cannot send signals (os.killpg(%r, %r))" % (pgid, sig))


def _getpid():
    import os
    return os.getpid()


def _getppid():
    """The sandbox has no parent process it could see; report 1, like a
    process whose parent is init."""
    return 1


def _getlogin():
    """The sandbox's one user (see ``isola_guest.users``)."""
    return "user"


def _getgroups():
    return [0]


def _no_children(name):
    def wait(*_args, **_kwargs):
        raise ChildProcessError(errno.ECHILD, "No child processes (isola sandbox: os.%s)" % name)

    wait.__name__ = name
    return wait


def _chown(path, uid, gid, *, dir_fd=None, follow_symlinks=True):
    """Files belong to user 0; changing to that owner (or -1, no change) is a no-op."""
    if uid not in (-1, 0) or gid not in (-1, 0):
        raise PermissionError(errno.EPERM, "isola sandbox: files have one owner (uid 0)", path)


def _get_terminal_size(fd=1, /):
    """The sandbox has no terminal: fails as on Linux for a descriptor that
    is not one (``shutil.get_terminal_size`` then falls back to 80x24)."""
    raise OSError(errno.ENOTTY, "Inappropriate ioctl for device (isola sandbox: no terminal)")


_OS_FALLBACKS = {
    "get_terminal_size": _get_terminal_size,
    "getppid": _getppid,
    "getlogin": _getlogin,
    "getgroups": _getgroups,
    "kill": _kill,
    "killpg": _killpg,
    "chown": _chown,
    "lchown": _chown,
    # No os.register_at_fork: the standard library registers its locks'
    # _at_fork_reinit (absent without fork) whenever that function exists.
}


def _adapt_os(mod):
    if not hasattr(mod, "fork"):
        mod.fork = _fork
    for name, fn in _OS_FALLBACKS.items():
        if not hasattr(mod, name):
            setattr(mod, name, fn)
    for name in ("system", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp",
                 "execlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle",
                 "spawnlp", "spawnlpe", "posix_spawn", "posix_spawnp", "forkpty"):
        if not hasattr(mod, name):
            setattr(mod, name, _refuse_processes(name))
    for name in ("wait", "waitpid", "wait3", "wait4", "waitid"):
        if not hasattr(mod, name):
            setattr(mod, name, _no_children(name))
    if not hasattr(mod, "umask"):
        _umask_fn.__name__ = "umask"
        mod.umask = _umask_fn
    for name in ("getuid", "geteuid", "getgid", "getegid"):
        if not hasattr(mod, name):
            setattr(mod, name, _uid)


def _adapt_subprocess(mod):
    def __init__(self, args, *_args, **_kwargs):
        raise _no_processes("subprocess.Popen(%r)" % (args,))

    mod.Popen.__init__ = __init__


def _reword_network(fn, what, error_type):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except error_type as e:
            raise type(e)(e.errno, _NO_NETWORK % what) from None
    return wrapper


def _adapt_socket(mod):
    mod.socket.__init__ = _reword_network(mod.socket.__init__, "creating a socket", PermissionError)
    mod.socketpair = _reword_network(mod.socketpair, "socket.socketpair", PermissionError)
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo"):
        fn = getattr(mod, name, None)
        if fn is not None:
            setattr(mod, name, _reword_network(fn, "name lookup of socket.%s" % name, mod.gaierror))


def _adapt_futures_thread(mod):
    """``ThreadPoolExecutor`` runs each task at ``submit``, in the calling
    thread, and hands back a finished future: ``map``, ``as_completed``,
    ``wait``, ``asyncio.to_thread`` and ``loop.run_in_executor`` work,
    one task after another. Tasks that wait for each other would wait
    forever (the call's time limit ends that)."""
    import concurrent.futures as cf

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._max_workers = max_workers or 1
        self._thread_name_prefix = thread_name_prefix
        self._initializer, self._initargs = initializer, initargs
        self._initialized = False
        self._broken = False
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs):
        if self._broken:
            raise mod.BrokenThreadPool(self._broken)
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future = cf.Future()
        future.set_running_or_notify_cancel()
        if not self._initialized and self._initializer is not None:
            try:
                self._initializer(*self._initargs)
            except BaseException as e:
                self._broken = "A thread initializer failed, the thread pool is not usable anymore"
                raise mod.BrokenThreadPool(self._broken) from e
        self._initialized = True
        try:
            result = fn(*args, **kwargs)
        except BaseException as e:
            future.set_exception(e)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._shutdown = True

    executor = mod.ThreadPoolExecutor
    executor.__init__ = __init__
    executor.submit = submit
    executor.shutdown = shutdown


def _adapt_mp_process(mod):
    def start(self):
        raise _no_processes("multiprocessing.Process.start")

    mod.BaseProcess.start = start


def _adapt_mp_pool(mod):
    def __init__(self, *_args, **_kwargs):
        raise _no_processes("multiprocessing.Pool")

    mod.Pool.__init__ = __init__
    mod.Pool.__del__ = lambda self: None


# module name -> function adapting it, once, right after it is imported
_ADAPTERS = {
    "os": _adapt_os,
    "subprocess": _adapt_subprocess,
    "socket": _adapt_socket,
    "concurrent.futures.thread": _adapt_futures_thread,
    "multiprocessing.process": _adapt_mp_process,
    "multiprocessing.pool": _adapt_mp_pool,
}
_adapted = set()


def adapt(module):
    """Adapt ``module`` if it is one of the modules above (idempotent)."""
    name = getattr(module, "__name__", None)
    fn = _ADAPTERS.get(name)
    if fn is not None and name not in _adapted:
        _adapted.add(name)
        fn(module)


def install():
    """Adapt the modules already imported (at build time); ``lazy_stdlib``
    adapts the others when they are first imported."""
    for name in _ADAPTERS:
        module = sys.modules.get(name)
        if module is not None:
            adapt(module)
