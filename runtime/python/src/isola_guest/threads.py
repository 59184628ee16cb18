"""Threads in a sandbox that has one: cooperative threads and waits that end.

WASI gives the guest one thread, and CPython's lock, when it would block on
a lock nobody can release, stops the whole sandbox (a wasm trap). So before
``threading`` is first imported (``install``, at build time, first thing in
``app``), ``_thread`` gets the types and functions defined here, and
``threading``, ``queue`` and everything built on them use them:

- ``Lock`` and ``RLock`` take the C lock without blocking when it is free
  (the common case: one Python call more than the C lock). When it is not,
  the wait lets the threads started but not yet run run first (in start
  order, one at a time, re-checking after each), since only they could
  release it. When none is left: a wait with a timeout sleeps out its
  timeout (``time.sleep``: the sandbox's time limit and cancel still apply)
  and returns False as CPython's does (so ``queue.Empty`` etc. follow); a
  wait without one raises ``sandbox.DeadlockError`` (a RuntimeError) at the
  line that waited in the main thread, and ends a started thread with
  ``sandbox.ThreadEnded`` (a BaseException its ``except Exception`` does not
  catch; the thread ends quietly, as a daemon thread ends at interpreter
  exit, with a note on stderr if it was not a daemon).
- ``Thread.start`` queues the thread; it runs, to completion or until it
  is ended, in the calling thread: when it is joined, when a thread waits
  (above) or sleeps (``time.sleep`` runs the non-daemon threads not yet
  run first),
  or at the end of the export call that started it (non-daemon threads, as
  ``python`` waits for them at exit; daemon threads never run are dropped).
  While it runs, ``get_ident``, ``current_thread``, ``threading.local`` and
  ``is_alive`` are its own.
- A thread cannot be suspended midway: the thread beneath it (the one that
  let it run) goes on only once it returns. So a thread that waits for
  something only a later step of a thread beneath would do is ended (a
  bounded queue's producer whose consumer is beneath it). A daemon thread's
  timed wait or sleep ends it too once a wait beneath it can go on (its
  lock is free or its timeout passed): background loops (progress
  refreshers, heartbeats) would otherwise never return. A non-daemon
  thread's timed waits and sleeps really wait, as in CPython.
"""

import _thread
import functools
import itertools
import operator
import sys
import time
import weakref
from _collections import deque

from . import clocks
from .errors import DeadlockError, ThreadEnded

DEADLOCK_MESSAGE = (
    "isola sandbox: this wait can never end: the sandbox runs one thread, and no started "
    "thread is left to run that could end it (a started thread runs when it is joined or "
    "when the thread that started it waits)"
)
ENDED_MESSAGE = (
    "isola sandbox: this thread was ended: it waited for something no thread left to run "
    "could do (the sandbox runs one thread; see sandbox.ThreadEnded)"
)

_c_allocate_lock = _thread.allocate_lock
_monotonic = time.monotonic
_c_sleep = time.sleep


def _sleep(secs):
    clocks.idle(_c_sleep, secs)


TIMEOUT_MAX = _thread.TIMEOUT_MAX

#: The main thread's ident (the interpreter's one real thread).
MAIN_IDENT = _thread.get_ident()
#: Ident of the thread running now; ``_current_box[0]`` too, for ``get_ident``.
_current = MAIN_IDENT
_current_box = [MAIN_IDENT]
#: Whether the running thread is a daemon thread (the main thread is not).
_current_daemon = False
_idents = itertools.count(1)
#: Threads started and not yet run, in start order.
pending = deque()
#: ``(lock, deadline)`` of the waits beneath the running thread, outermost
#: first: each let the threads above it run.
_waits = []
#: threading.Thread, once ``install`` imported threading.
_Thread = ()


#: ``_thread.get_ident``: the running thread's identifier (each started
#: thread has its own). A C-level callable: logging asks for it on every
#: record, and a Python function costs several times as much.
get_ident = functools.partial(operator.getitem, _current_box, 0)


# ---------------------------------------------------------------- waiting


def _next_task(daemons):
    """Take the first thread not yet run (skipping daemon threads unless
    ``daemons``) off ``pending``, or None."""
    for task in pending:
        if daemons or not task.daemon:
            pending.remove(task)
            return task
    return None


def _wait(lock, timeout, daemons=True):
    """Take ``lock`` (a C lock, already tried), or give up after ``timeout``
    seconds (None: never); returns whether it was taken. ``lock`` None waits
    for something no other thread can do (joining a thread beneath).
    Threads not yet run run first (only non-daemon ones unless ``daemons``)."""
    deadline = None if timeout is None else _monotonic() + timeout
    if lock is not None:
        while (task := _next_task(daemons)) is not None:
            _waits.append((lock, deadline))
            try:
                _run(task)
            finally:
                _waits.pop()
            if lock.acquire(False):
                return True
            if deadline is not None and _monotonic() >= deadline:
                return False
    if deadline is None:
        if _current != MAIN_IDENT:
            raise ThreadEnded(ENDED_MESSAGE)
        raise DeadlockError(DEADLOCK_MESSAGE)
    wake = deadline
    if _current_daemon and _waits:
        # A background loop (a progress refresher, a heartbeat) would never
        # let the waits beneath it go on: end it once one of them can.
        now = _monotonic()
        for held, until in _waits:
            if (held is not None and not held.locked()) or (until is not None and until <= now):
                raise ThreadEnded(ENDED_MESSAGE)
            if until is not None and until < wake:
                wake = until
    remaining = wake - _monotonic()
    if remaining > 0:
        _sleep(remaining)
    if wake < deadline:
        raise ThreadEnded(ENDED_MESSAGE)
    return lock is not None and lock.acquire(False)


class _Until:
    """Stands in for a lock in ``_waits`` for a wait that is no lock's: it
    counts as "released" (the wait beneath can go on) once ``ready()``."""

    __slots__ = ("ready",)

    def __init__(self, ready):
        self.ready = ready

    def locked(self):
        return not self.ready()


def run_started(ready, timeout, daemons):
    """A wait that is no lock's (the event loop's, about to block in its
    selector) lets the threads started and not yet run run first, as a lock's
    wait does: in start order (daemon threads only if ``daemons``), until
    ``ready()`` (a thread gave the loop work: ``call_soon_threadsafe``).
    ``timeout`` (seconds, None: none) is when the wait ends anyway; a daemon
    thread's timed waits and sleeps end it once ``ready()`` or past it, as
    beneath a lock's wait. Returns whether any ran."""
    deadline = None if timeout is None else _monotonic() + timeout
    ran = False
    until = _Until(ready)
    while not ready() and (task := _next_task(daemons)) is not None:
        _waits.append((until, deadline))
        try:
            _run(task)
        finally:
            _waits.pop()
        ran = True
    return ran


#: A lock never released: what ``sleep`` waits on.
_NEVER = _c_allocate_lock()
_NEVER.acquire()


def sleep(secs):
    """``time.sleep``: started non-daemon threads not yet run run first (so
    they make progress while their starter sleeps: ``while t.is_alive():
    sleep(0.1)`` works); daemon threads (progress refreshers, monitors) run
    when joined or waited for, not here. A daemon thread's own sleep ends it
    like its timed waits (above)."""
    if pending or (_current_daemon and _waits):
        if secs < 0:
            raise ValueError("sleep length must be non-negative")
        _wait(_NEVER, secs, daemons=False)
    else:
        _sleep(secs)


def _acquire(lock, blocking, timeout):
    """``acquire(blocking, timeout)`` of a C lock, with CPython's argument checks."""
    if not blocking:
        if timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return lock.acquire(False)
    if timeout != -1:
        if timeout < 0:
            raise ValueError("timeout value must be a non-negative number")
        if timeout > TIMEOUT_MAX:
            raise OverflowError("timeout value is too large")
    if lock.acquire(False):
        return True
    return _wait(lock, None if timeout == -1 else timeout)


class Lock:
    """``threading.Lock``: a C lock whose blocking waits go through ``_wait``."""

    __slots__ = ("_lock", "__weakref__")

    def __init__(self):
        self._lock = _c_allocate_lock()

    def acquire(self, blocking=True, timeout=-1):
        if blocking is True and timeout == -1:
            return self._lock.acquire(False) or _wait(self._lock, None)
        return _acquire(self._lock, blocking, timeout)

    def __enter__(self):
        return self._lock.acquire(False) or _wait(self._lock, None)

    def release(self):
        self._lock.release()

    def __exit__(self, t, v, tb):
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def _at_fork_reinit(self):
        self._lock = _c_allocate_lock()

    def __repr__(self):
        return "<%s %s.%s object at %#x>" % ("locked" if self._lock.locked() else "unlocked",
                                            type(self).__module__, type(self).__qualname__, id(self))


class RLock:
    """``threading.RLock``, owned by the running (cooperative) thread."""

    __slots__ = ("_block", "_owner", "_count", "__weakref__")

    def __init__(self, *args, **kwargs):
        self._block = _c_allocate_lock()
        self._owner = None
        self._count = 0

    def acquire(self, blocking=True, timeout=-1):
        me = _current
        if self._owner == me:
            self._count += 1
            return True
        if blocking is True and timeout == -1:
            if not self._block.acquire(False):
                _wait(self._block, None)
        elif not _acquire(self._block, blocking, timeout):
            return False
        self._owner = me
        self._count = 1
        return True

    __enter__ = acquire

    def release(self, t=None, v=None, tb=None):
        if self._owner != _current:
            raise RuntimeError("cannot release un-acquired lock")
        self._count = count = self._count - 1
        if not count:
            self._owner = None
            self._block.release()

    # One Python call per ``with`` exit, not two: logging takes a handler's
    # lock for every record.
    __exit__ = release

    def locked(self):
        return self._block.locked()

    def _is_owned(self):
        return self._owner == _current

    def _recursion_count(self):
        return self._count if self._owner == _current else 0

    def _release_save(self):
        if self._count == 0:
            raise RuntimeError("cannot release un-acquired lock")
        state = (self._count, self._owner)
        self._count = 0
        self._owner = None
        self._block.release()
        return state

    def _acquire_restore(self, state):
        if not self._block.acquire(False):
            _wait(self._block, None)
        self._count, self._owner = state

    def _at_fork_reinit(self):
        self._block = _c_allocate_lock()
        self._owner = None
        self._count = 0

    def __repr__(self):
        return "<%s %s.%s object owner=%r count=%d at %#x>" % (
            "locked" if self._block.locked() else "unlocked", type(self).__module__,
            type(self).__qualname__, self._owner or 0, self._count, id(self))


# ---------------------------------------------------------------- threads

_NOT_STARTED, _PENDING, _RUNNING, _DONE = range(4)


class _Task:
    __slots__ = ("function", "handle", "daemon", "thread")

    def __init__(self, function, handle, daemon, thread):
        self.function, self.handle, self.daemon, self.thread = function, handle, daemon, thread


class ThreadHandle:
    """``_thread._ThreadHandle``: what ``Thread.join`` and ``is_alive`` ask."""

    __slots__ = ("ident", "_state", "_task")

    def __init__(self):
        self.ident = 0
        self._state = _NOT_STARTED
        self._task = None

    def is_done(self):
        return self._state == _DONE

    def _set_done(self):
        if self._state == _PENDING:
            pending.remove(self._task)
        self._state = _DONE

    def join(self, timeout=None):
        state = self._state
        if state == _DONE:
            return
        if state == _NOT_STARTED:
            raise RuntimeError("thread not started")
        if state == _PENDING:
            pending.remove(self._task)
            _run(self._task)
            return
        if self.ident == _current:
            raise RuntimeError("Cannot join current thread")
        # Running beneath the caller: it cannot go on before the caller returns.
        _wait(None, None if timeout is None or timeout < 0 else timeout)

    def __repr__(self):
        return "<_ThreadHandle object: ident=%d>" % self.ident


def _make_thread_handle(ident):
    handle = ThreadHandle()
    handle.ident = ident
    handle._state = _RUNNING
    return handle


def _quiet_when_ended(thread, invoke):
    """``Thread._invoke_excepthook`` that lets ``ThreadEnded`` end the thread quietly."""

    def invoke_excepthook(thread):
        if isinstance(sys.exception(), ThreadEnded):
            if not thread.daemon:
                print("isola sandbox: thread %r ended: it waited for something no thread left "
                      "to run could do" % thread.name, file=sys.stderr)
            return
        invoke(thread)

    return invoke_excepthook


def start_joinable_thread(function, handle=None, daemon=True):
    """Queue ``function`` as a new thread; it runs when joined, when its
    starter waits, or at the end of the call (see the module docstring)."""
    if handle is None:
        handle = ThreadHandle()
    elif handle._state != _NOT_STARTED:
        raise RuntimeError("thread already started")
    handle.ident = next(_idents)
    thread = getattr(function, "__self__", None)
    if not isinstance(thread, _Thread):
        thread = None
    task = _Task(function, handle, daemon, thread)
    handle._task = task
    handle._state = _PENDING
    if thread is not None:
        # Thread.start waits for these, set when a thread begins to run.
        thread._ident = handle.ident
        thread._invoke_excepthook = _quiet_when_ended(thread, thread._invoke_excepthook)
        thread._started.set()
    pending.append(task)
    return handle


def start_new_thread(function, args, kwargs=None):
    """``_thread.start_new_thread``: a daemon thread calling ``function(*args, **kwargs)``."""
    if not callable(function):
        raise TypeError("first arg must be callable")
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")

    def call():
        function(*args, **(kwargs or {}))

    call.__wrapped__ = function
    return start_joinable_thread(call).ident


def _run(task):
    """Run a started thread to its end, in the calling thread."""
    global _current, _current_daemon
    previous, ident, previous_daemon = _current, task.handle.ident, _current_daemon
    task.handle._state = _RUNNING
    _current = _current_box[0] = ident
    _current_daemon = task.daemon
    _switch_locals(previous, ident)
    try:
        task.function()
    except (ThreadEnded, SystemExit):
        pass
    except BaseException:  # from a function given to _thread directly (Thread handles its own)
        import traceback
        function = getattr(task.function, "__wrapped__", task.function)
        print("Exception ignored in thread started by: %r" % (function,), file=sys.stderr)
        traceback.print_exc()
    finally:
        _current = _current_box[0] = previous
        _current_daemon = previous_daemon
        _switch_locals(ident, previous, finished=True)
        task.handle._state = _DONE


def run_left_over():
    """End of an export call: run the non-daemon threads not run yet (as
    ``python`` waits for them at exit), then drop the daemon ones."""
    while (task := _next_task(False)) is not None:
        _run(task)
    drop_pending()


def drop_pending():
    """Forget the threads never run (as daemon threads end at exit)."""
    while pending:
        task = pending.popleft()
        task.handle._state = _DONE
        if task.thread is not None:
            import threading
            with threading._active_limbo_lock:
                threading._limbo.pop(task.thread, None)


# ---------------------------------------------------------------- thread-local data

#: The live ``local`` instances: id -> weak reference (not a WeakSet: a
#: subclass may be unhashable, e.g. a dataclass).
_locals = {}


class local:
    """``threading.local``: each thread sees its own attributes.

    Attribute access is that of a plain object; the scheduler swaps every
    live instance's ``__dict__`` when it switches threads (only ``_run``
    does), so the cost is paid per switch, not per access. A subclass's
    ``__init__`` runs (with the constructor's arguments) when a thread
    first runs while the instance exists, rather than on first access.
    """

    __slots__ = ("_local__dicts", "_local__args", "__dict__", "__weakref__")

    def __new__(cls, /, *args, **kw):
        if (args or kw) and (cls.__init__ is object.__init__):
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        object.__setattr__(self, "_local__args", (args, kw))
        object.__setattr__(self, "_local__dicts", {_current: object.__getattribute__(self, "__dict__")})
        key = id(self)
        _locals[key] = weakref.ref(self, lambda _, key=key: _locals.pop(key, None))
        return self


_DICTS = local._local__dicts
_ARGS = local._local__args


def _switch_locals(old, new, finished=False):
    for ref in list(_locals.values()):
        obj = ref()
        if obj is None:
            continue
        dicts = _DICTS.__get__(obj)
        if finished:
            dicts.pop(old, None)
        d = dicts.get(new)
        fresh = d is None
        if fresh:
            d = dicts[new] = {}
        object.__setattr__(obj, "__dict__", d)
        init = type(obj).__init__
        if fresh and init is not object.__init__:
            args, kw = _ARGS.__get__(obj)
            try:
                init(obj, *args, **kw)
            except Exception:
                import traceback
                traceback.print_exc()


# ---------------------------------------------------------------- installation


def install():
    """Give ``_thread`` these types and functions, then import ``threading``
    and ``queue`` on top of them. Runs at build time, before anything else
    imports ``threading`` (which copies ``_thread``'s names when imported)."""
    global _Thread
    if "threading" in sys.modules:
        raise RuntimeError("isola_guest.threads.install() must run before threading is imported")
    _thread.allocate_lock = _thread.allocate = Lock
    _thread.LockType = _thread.lock = Lock
    _thread.RLock = RLock
    _thread.get_ident = get_ident
    _thread._local = local
    _thread._ThreadHandle = ThreadHandle
    _thread._make_thread_handle = _make_thread_handle
    _thread.start_joinable_thread = start_joinable_thread
    _thread.start_new_thread = _thread.start_new = start_new_thread
    sleep.__name__, sleep.__doc__ = "sleep", time.sleep.__doc__
    time.sleep = sleep
    for obj, name in ((Lock, "lock"), (RLock, "RLock"), (local, "_local"), (ThreadHandle, "_ThreadHandle")):
        obj.__module__, obj.__name__, obj.__qualname__ = "_thread", name, name
    import threading
    import queue
    import _queue

    _Thread = threading.Thread
    # The C SimpleQueue blocks in C; the pure-Python one waits on the locks above.
    queue.SimpleQueue = _queue.SimpleQueue = queue._PySimpleQueue
