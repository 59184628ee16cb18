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
``ThreadPoolExecutor`` and ``ProcessPoolExecutor`` run each task at
``submit``, ``multiprocessing.Pool`` (and ``multiprocessing.dummy.Pool``)
when it is given, in the calling thread (below); ``multiprocessing``
processes stay refused: a process is asked for isolation this sandbox
cannot give inside itself.
"""

import errno
import functools
import operator
import sys

_NO_PROCESSES = "isola sandbox: cannot start processes (%s)"
_NO_NETWORK = "isola sandbox: no network access (%s); ask the host through sandbox.http or sandbox.hostcall"


class ProcessNotAvailable(PermissionError, FileNotFoundError):
    """Raised where a program would start a process. A ``PermissionError``
    (the sandbox refuses) that is also a ``FileNotFoundError``, what starting
    a program that is not installed raises, so programs that fall back when
    a tool is missing (``except FileNotFoundError`` around
    ``subprocess.run``: docutils' ``paperconf``) take that path."""




def _no_processes(what):
    return ProcessNotAvailable(errno.EPERM, _NO_PROCESSES % what)


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
    """A signal to the sandbox's own process (``pid`` its own or 0, its
    group) that it handles is raised in it, as ``signal.raise_signal`` does:
    its Python handler runs (``SIGINT``: ``KeyboardInterrupt``), an ignored
    one does nothing. Signal 0 checks that the process exists (it does).
    Refused: one that would end the process (``SIGKILL``, a default
    ``SIGTERM``: in WASI the C library would trap), and every other process:
    there is none."""
    if pid in (0, _getpid()) and sig != 0:
        import signal
        try:
            handler = signal.getsignal(sig)
        except ValueError:
            raise OSError(errno.EINVAL, "Invalid argument") from None
        if callable(handler) or handler == signal.SIG_IGN or (
                handler == signal.SIG_DFL and sig in _IGNORED_BY_DEFAULT):
            signal.raise_signal(sig)
            return None
    elif sig == 0 and pid in (0, _getpid()):
        return None
    raise PermissionError(errno.EPERM, "isola sandbox: cannot send signals (os.kill(%r, %r))" % (pid, sig))


#: Signals whose default action is to do nothing (Linux: signal(7)).
_IGNORED_BY_DEFAULT = frozenset((17, 18, 23, 28))  # SIGCHLD SIGCONT SIGURG SIGWINCH


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


def _owner_id(value, what):
    """``value`` as an int, as CPython's uid and gid arguments are taken."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("%s should be integer, not %s" % (what, type(value).__name__)) from None


def _chown(path, uid, gid, *, dir_fd=None, follow_symlinks=True):
    """Files belong to user 0; changing to that owner (or -1, no change) is a
    no-op. The arguments are checked, and the file must exist, as for
    Linux's ``chown``."""
    uid = _owner_id(uid, "uid")
    gid = _owner_id(gid, "gid")
    import os
    os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)  # a missing file's error
    if uid not in (-1, 0) or gid not in (-1, 0):
        raise PermissionError(errno.EPERM, "isola sandbox: files have one owner (uid 0)", path)


_chown.__name__ = _chown.__qualname__ = "chown"


def _lchown(path, uid, gid):
    """``os.chown`` of the link itself."""
    _chown(path, uid, gid, follow_symlinks=False)


_lchown.__name__ = _lchown.__qualname__ = "lchown"


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
    "lchown": _lchown,
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
        # What CPython's __init__ sets before it tries to start the child,
        # so the half-built object's repr (shown in pytest's tracebacks)
        # works as after a program that is not installed.
        self.args = args
        self.stdin = self.stdout = self.stderr = self.pid = self.returncode = None
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


def _run_inline(executor, broken_type, what):
    """Make ``executor`` (a ``concurrent.futures`` executor class whose
    ``__init__`` set ``_initializer``, ``_initargs``, ``_initialized``,
    ``_broken`` and ``_shutdown``) run each task at ``submit``, in the
    calling thread, and hand back a finished future: ``map``,
    ``as_completed``, ``wait``, ``asyncio.to_thread`` and
    ``loop.run_in_executor`` work, one task after another. Tasks that wait
    for each other fail with ``sandbox.DeadlockError``."""
    import concurrent.futures as cf

    def submit(self, fn, /, *args, **kwargs):
        if self._broken:
            raise broken_type(self._broken)
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future = cf.Future()
        future.set_running_or_notify_cancel()
        if not self._initialized and self._initializer is not None:
            try:
                self._initializer(*self._initargs)
            except BaseException as e:
                self._broken = "A %s initializer failed, the pool is not usable anymore" % what
                raise broken_type(self._broken) from e
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

    executor.submit = submit
    executor.shutdown = shutdown


def _init_inline(self, max_workers, initializer, initargs):
    if max_workers is not None and max_workers <= 0:
        raise ValueError("max_workers must be greater than 0")
    if initializer is not None and not callable(initializer):
        raise TypeError("initializer must be a callable")
    self._max_workers = max_workers or 1
    self._initializer, self._initargs = initializer, initargs
    self._initialized = False
    self._broken = False
    self._shutdown = False


def _adapt_futures_thread(mod):
    """``ThreadPoolExecutor`` runs each task at ``submit`` (``_run_inline``)."""

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        _init_inline(self, max_workers, initializer, initargs)
        self._thread_name_prefix = thread_name_prefix

    mod.ThreadPoolExecutor.__init__ = __init__
    _run_inline(mod.ThreadPoolExecutor, mod.BrokenThreadPool, "thread")


def _adapt_futures_process(mod):
    """``ProcessPoolExecutor`` runs each task at ``submit`` as well, in this
    process: no isolation between tasks and nothing pickled (the sandbox
    cannot start processes)."""

    def __init__(self, max_workers=None, mp_context=None, initializer=None, initargs=(), *,
                 max_tasks_per_child=None):
        _init_inline(self, max_workers, initializer, initargs)
        self._mp_context = mp_context
        self._max_tasks_per_child = max_tasks_per_child

    mod.ProcessPoolExecutor.__init__ = __init__
    _run_inline(mod.ProcessPoolExecutor, mod.BrokenProcessPool, "process")


def _adapt_mp_process(mod):
    def start(self):
        raise _no_processes("multiprocessing.Process.start")

    mod.BaseProcess.start = start


class _PoolResult:
    """What ``Pool.apply_async`` and ``map_async`` return: already finished."""

    def __init__(self, value=None, error=None):
        self._value, self._error = value, error

    def ready(self):
        return True

    def successful(self):
        return self._error is None

    def wait(self, timeout=None):
        pass

    def get(self, timeout=None):
        if self._error is not None:
            raise self._error
        return self._value


def _adapt_mp_pool(mod):
    """``multiprocessing.Pool`` (and ``ThreadPool``, ``multiprocessing.dummy.Pool``)
    run each task when it is given, in the calling thread, one after another:
    no isolation between tasks, nothing pickled; ``imap`` runs each task as its
    result is asked for. The initializer runs once, at creation."""
    import builtins
    import itertools

    def __init__(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None,
                 context=None):
        if processes is not None and processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._processes = processes or 1
        self._state = mod.RUN
        if initializer is not None:
            initializer(*initargs)

    def _finished(compute, callback, error_callback):
        try:
            value = compute()
        except Exception as e:
            if error_callback is not None:
                error_callback(e)
            return _PoolResult(error=e)
        if callback is not None:
            callback(value)
        return _PoolResult(value)

    def apply(self, func, args=(), kwds={}):
        self._check_running()
        return func(*args, **kwds)

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        self._check_running()
        return _finished(lambda: func(*args, **kwds), callback, error_callback)

    def map(self, func, iterable, chunksize=None):
        self._check_running()
        return list(builtins.map(func, iterable))

    def starmap(self, func, iterable, chunksize=None):
        self._check_running()
        return list(itertools.starmap(func, iterable))

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        self._check_running()
        return _finished(lambda: list(builtins.map(func, iterable)), callback, error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        self._check_running()
        return _finished(lambda: list(itertools.starmap(func, iterable)), callback, error_callback)

    def imap(self, func, iterable, chunksize=1):
        self._check_running()
        return builtins.map(func, iterable)

    def close(self):
        if self._state == mod.RUN:
            self._state = mod.CLOSE

    def terminate(self):
        self._state = mod.TERMINATE

    def join(self):
        if self._state == mod.RUN:
            raise ValueError("Pool is still running")

    def __enter__(self):
        self._check_running()
        return self

    def __exit__(self, *exc_info):
        self.terminate()

    def __repr__(self):
        return "<%s.%s state=%s pool_size=%d (isola: tasks run inline)>" % (
            type(self).__module__, type(self).__qualname__, self._state, self._processes)

    for fn in (__init__, apply, apply_async, map, starmap, map_async,
               starmap_async, imap, close, terminate, join, __enter__, __exit__, __repr__):
        setattr(mod.Pool, fn.__name__, fn)
    mod.Pool.imap_unordered = imap
    mod.Pool.__del__ = lambda self: None


def _adapt_mp_context(mod):
    """The queue, lock and shared-value types of ``multiprocessing`` (and of
    its contexts: ``multiprocessing.Queue()``, ``get_context().Lock()``,
    ``Manager()``) are the threading ones, as ``multiprocessing.dummy``'s
    are: their C part (``_multiprocessing``, semaphores between processes)
    does not exist, and no other process does either. With ``Pool`` running
    its tasks in this process, a queue, lock, ``Value`` or manager ``dict``
    given to the tasks is shared with them as between processes; nothing is
    pickled. ``Process.start`` stays refused."""
    import array
    import queue
    import threading

    class Queue(queue.Queue):
        """``multiprocessing.Queue`` (with ``task_done``/``join``: also ``JoinableQueue``)."""

        def __init__(self, maxsize=0, *, ctx=None):
            super().__init__(maxsize if maxsize > 0 else 0)

        def close(self):
            pass

        def join_thread(self):
            pass

        def cancel_join_thread(self):
            pass

    class SimpleQueue(Queue):
        def __init__(self, *, ctx=None):
            super().__init__()

    class Synchronized:
        """The lock of a shared ``Value`` or ``Array``: ``get_lock()``,
        ``acquire``/``release``, ``with``; ``get_obj()`` is the object itself."""

        def get_lock(self):
            return self._lock

        def get_obj(self):
            return self

        def acquire(self, *args):
            return self._lock.acquire(*args)

        def release(self):
            return self._lock.release()

        def __enter__(self):
            return self._lock.__enter__()

        def __exit__(self, *exc):
            return self._lock.__exit__(*exc)

    class Value(Synchronized):
        """``multiprocessing.Value``: ``value``, ``get_lock()``, ``get_obj()``."""

        def __init__(self, typecode_or_type, *args, lock=True, ctx=None):
            self._typecode = typecode_or_type
            if args:
                self.value = args[0]
            elif isinstance(typecode_or_type, str) and typecode_or_type in "fd":
                self.value = 0.0
            elif typecode_or_type == "c":
                self.value = b"\x00"
            else:
                self.value = 0
            self._lock = lock if lock not in (True, False, None) else threading.RLock()

        def __repr__(self):
            return "<Synchronized wrapper for %r>" % (self.value,)

    class Array(Synchronized, array.array):
        """``multiprocessing.Array`` over ``array.array``, with ``get_lock()``."""

        def __new__(cls, typecode_or_type, size_or_initializer, *, lock=True, ctx=None):
            if isinstance(size_or_initializer, int):
                size_or_initializer = [0] * size_or_initializer
            self = super().__new__(cls, typecode_or_type, size_or_initializer)
            self._lock = lock if lock not in (True, False, None) else threading.RLock()
            return self

    class Namespace:
        def __init__(self, **kwds):
            self.__dict__.update(kwds)

        def __repr__(self):
            items = ("%s=%r" % item for item in sorted(self.__dict__.items()))
            return "Namespace(%s)" % ", ".join(items)

    def _lock_of(make):
        def lock(self, *args, **kwargs):
            kwargs.pop("ctx", None)
            return make(*args, **kwargs)
        return lock

    class SyncManager:
        """``multiprocessing.Manager()``: its shared objects are plain ones."""

        def __init__(self, *args, **kwargs):
            pass

        def start(self, *args, **kwargs):
            pass

        def shutdown(self):
            pass

        def join(self, timeout=None):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def dict(self, *args, **kwargs):
            return dict(*args, **kwargs)

        def list(self, *args):
            return list(*args)

        def Namespace(self, **kwds):
            return Namespace(**kwds)

        def Queue(self, maxsize=0):
            return Queue(maxsize)

        JoinableQueue = Queue

        def Value(self, typecode, value, lock=True):
            return Value(typecode, value, lock=lock)

        def Array(self, typecode, sequence, lock=True):
            return Array(typecode, sequence, lock=lock)

        def Pool(self, *args, **kwargs):
            return mod._default_context.Pool(*args, **kwargs)

        Lock = _lock_of(threading.Lock)
        RLock = _lock_of(threading.RLock)
        Event = _lock_of(threading.Event)
        Condition = _lock_of(threading.Condition)
        Semaphore = _lock_of(threading.Semaphore)
        BoundedSemaphore = _lock_of(threading.BoundedSemaphore)
        Barrier = _lock_of(threading.Barrier)

    base = mod.BaseContext
    base.Manager = lambda self: SyncManager()
    base.Queue = lambda self, maxsize=0: Queue(maxsize)
    base.JoinableQueue = lambda self, maxsize=0: Queue(maxsize)
    base.SimpleQueue = lambda self: SimpleQueue()
    base.Value = lambda self, typecode_or_type, *args, lock=True: Value(typecode_or_type, *args, lock=lock)
    base.RawValue = lambda self, typecode_or_type, *args: Value(typecode_or_type, *args)
    base.Array = lambda self, typecode_or_type, size_or_initializer, *, lock=True: Array(
        typecode_or_type, size_or_initializer, lock=lock)
    base.RawArray = lambda self, typecode_or_type, size_or_initializer: Array(
        typecode_or_type, size_or_initializer)
    names = ("Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier")
    for name in names:
        setattr(base, name, _lock_of(getattr(threading, name)))
    # multiprocessing binds its default context's methods when imported.
    package = sys.modules.get("multiprocessing")
    if package is not None and getattr(package, "context", None) is mod:
        for name in names + ("Manager", "Queue", "JoinableQueue", "SimpleQueue", "Value",
                             "RawValue", "Array", "RawArray"):
            setattr(package, name, getattr(mod._default_context, name))


def _adapt_argparse(mod):
    # Python 3.14's argparse names a program run with -m after the
    # interpreter ('usage: python3 -m tool'), from sys.executable, which is
    # '' in the sandbox: the usage began ' -m tool'. Name the interpreter
    # as a Linux shell would call it.
    prog_name = getattr(mod, "_prog_name", None)
    if prog_name is None:
        return

    def _prog_name(prog=None):
        name = prog_name(prog)
        if prog is None and not sys.executable and name.startswith(" "):
            name = "python3" + name
        return name

    mod._prog_name = _prog_name


# module name -> function adapting it, once, right after it is imported
_ADAPTERS = {
    "argparse": _adapt_argparse,
    "os": _adapt_os,
    "subprocess": _adapt_subprocess,
    "socket": _adapt_socket,
    "concurrent.futures.thread": _adapt_futures_thread,
    "concurrent.futures.process": _adapt_futures_process,
    "multiprocessing.process": _adapt_mp_process,
    "multiprocessing.context": _adapt_mp_context,
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
