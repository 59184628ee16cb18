"""An asyncio event loop driven by ``wasi:io/poll``.

The stock loops need sockets (a self-pipe) and ``select``; neither exists in
the sandbox. ``BaseEventLoop`` already implements callbacks, timers, tasks and
futures and only asks a ``_selector`` to wait for I/O with a timeout, so we
give it one that waits on host pollables instead.

Waiting works by registering a pollable together with an asyncio future; when
``poll`` reports the pollable ready the future is resolved and the awaiting
coroutine resumes. Timers become a ``subscribe-duration`` pollable added to the
same ``poll`` call, so a single blocking call covers both.
"""

import asyncio
import asyncio.base_events
import asyncio.events

from . import clocks, hostapi, threads
from .errors import DeadlockError


DEADLOCK_MESSAGE = (
    "event loop deadlock: the awaited task can never finish because no "
    "callbacks are ready, no timers are scheduled and nothing is waiting on the "
    "host (for example `await asyncio.Future()` that nobody resolves)"
)


class _PollSelector:
    """Stands in for the ``selectors`` object ``BaseEventLoop._run_once`` uses."""

    def __init__(self, loop):
        self._loop = loop

    def select(self, timeout):
        waiters = [(p, f) for p, f in self._loop._waiters if not f.done()]
        if threads.pending and (timeout is None or timeout > 0):
            # Blocked here, CPython's loop would let other threads run: the
            # threads started and not yet run run now, until one gives the
            # loop work (call_soon_threadsafe: a default executor's shutdown
            # thread, a worker handing back a result) or a host event is in.
            # Daemon threads only when nothing else could end the wait, as
            # time.sleep runs them not either (see threads).
            def ready():
                return bool(self._loop._ready) or any(p.ready() for p, _ in waiters)

            if threads.run_started(ready, timeout, daemons=timeout is None and not waiters):
                return []  # the loop looks again: ready work, timers, host events
        if timeout is not None and timeout <= 0:
            # Ready work exists: only pick up host events that are already there.
            for pollable, fut in waiters:
                if pollable.ready():
                    fut.set_result(None)
            return []
        if not waiters and timeout is None:
            raise DeadlockError(DEADLOCK_MESSAGE)
        pollables = [p for p, _ in waiters]
        timer = None
        if timeout is not None:
            timer = hostapi.subscribe_duration(max(0, int(timeout * 1e9)))
            pollables.append(timer)
        try:
            ready = clocks.idle(hostapi.poll, pollables)
        finally:
            hostapi.drop(timer)
        for index in ready:
            if index < len(waiters):
                fut = waiters[index][1]
                if not fut.done():
                    fut.set_result(None)
        return []

    def close(self):
        pass


class PollLoop(asyncio.base_events.BaseEventLoop):
    """The sandbox event loop. One instance per sandbox, reused across calls."""

    def __init__(self):
        super().__init__()
        self._selector = _PollSelector(self)
        # (pollable, future) pairs; a list because pollables need not be hashable.
        self._waiters = []

    def time(self):
        return hostapi.clock_now() / 1e9

    # BaseEventLoop hooks --------------------------------------------------
    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        # Called by call_soon_threadsafe to wake a blocked select; there are no
        # other threads that could be waiting to wake us.
        pass

    def close(self):
        # The loop lives as long as the sandbox; user code calling close()
        # (asyncio.Runner, a copied asyncio.run recipe) must not break later
        # calls. The "next" loop (new_event_loop gives this one again) starts
        # with a default executor of its own, as a new loop would: after
        # shutdown_default_executor (Runner.close) run_in_executor and
        # to_thread would otherwise refuse to run.
        executor, self._default_executor = self._default_executor, None
        self._executor_shutdown_called = False
        if executor is not None:
            executor.shutdown(wait=False)

    def __del__(self):
        # close() is a no-op by design, so the base class's "unclosed event
        # loop" ResourceWarning would always fire; there is nothing to leak.
        pass

    async def _make_subprocess_transport(self, protocol, args, shell, stdin, stdout, stderr,
                                         bufsize, extra=None, **kwargs):
        # asyncio.create_subprocess_exec/_shell: refused as subprocess.Popen
        # is (the base class raises NotImplementedError, which no program
        # that falls back when a tool is missing expects).
        from .unsupported import _no_processes
        raise _no_processes("asyncio subprocess %r" % (args,))

    # host waits -----------------------------------------------------------
    async def wait_pollable(self, pollable):
        """Wait until ``pollable`` is ready. Takes ownership and drops it."""
        try:
            if pollable.ready():
                return
            fut = self.create_future()
            entry = (pollable, fut)
            self._waiters.append(entry)
            try:
                await fut
            finally:
                self._waiters.remove(entry)
        finally:
            hostapi.drop(pollable)


async def wait_pollable(pollable):
    """Await a host pollable on the running sandbox loop (drops it afterwards)."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, PollLoop):
        hostapi.drop(pollable)
        raise RuntimeError("sandbox host waits need the isola event loop, not %r" % type(loop).__name__)
    await loop.wait_pollable(pollable)


def block_on_pollable(pollable):
    """Block the whole sandbox until ``pollable`` is ready (drops it afterwards)."""
    try:
        if not pollable.ready():
            clocks.idle(hostapi.poll, [pollable])
    finally:
        hostapi.drop(pollable)


async def answer(fut):
    """Await a host future resource (hostcall, HTTP) and return its answer
    (an Ok/Err result); the resource is dropped afterwards."""
    try:
        while (result := fut.get()) is None:
            await wait_pollable(fut.subscribe())
        return result
    finally:
        hostapi.drop(fut)


def answer_sync(fut):
    """As ``answer``, blocking the whole sandbox."""
    try:
        while (result := fut.get()) is None:
            block_on_pollable(fut.subscribe())
        return result
    finally:
        hostapi.drop(fut)


# ---------------------------------------------------------------- installation

_main_loop = None


def get_loop():
    """The sandbox loop, created on first use."""
    global _main_loop
    if _main_loop is None:
        _main_loop = PollLoop()
    return _main_loop


def run(main, *, debug=None, loop_factory=None):
    """Replacement for ``asyncio.run`` that uses the sandbox loop."""
    if asyncio.events._get_running_loop() is not None:
        if hasattr(main, "close"):
            main.close()
        raise RuntimeError("asyncio.run() cannot be called from a running event loop")
    if not asyncio.iscoroutine(main) and not asyncio.isfuture(main):
        raise ValueError("a coroutine was expected, got {!r}".format(main))
    loop = get_loop()
    if debug is not None:
        loop.set_debug(debug)
    return run_until_complete(loop, main)


def run_until_complete(loop, awaitable):
    """Run ``awaitable`` to completion; cancel leftover tasks it spawned."""
    task = asyncio.ensure_future(awaitable, loop=loop)
    try:
        return loop.run_until_complete(task)
    except DeadlockError:
        # Unwind the stuck task so its finally blocks run and it is not left
        # pending for the next call; if unwinding blocks too, abandon it quietly.
        task.cancel()
        try:
            loop.run_until_complete(task)
        except BaseException:
            pass
        if not task.done():
            task._log_destroy_pending = False
        raise
    finally:
        _cancel_leftovers(loop, task)


def _cancel_leftovers(loop, main_task):
    """Like asyncio.run: background tasks do not outlive the call that made them."""
    pending = [t for t in asyncio.all_tasks(loop) if t is not main_task and not t.done()]
    if not pending:
        return
    for t in pending:
        t.cancel()
    try:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    except BaseException:
        for t in pending:
            t._log_destroy_pending = False
    for t in pending:
        if t.done() and not t.cancelled() and t.exception() is not None:
            loop.call_exception_handler({
                "message": "unhandled exception during sandbox call shutdown",
                "exception": t.exception(),
                "task": t,
            })


def install():
    """Make asyncio use the sandbox loop: asyncio.run, new_event_loop, get_event_loop."""
    loop = get_loop()
    asyncio.set_event_loop(loop)
    getter = getattr(asyncio.events, "_get_event_loop_policy", None) or asyncio.events.get_event_loop_policy
    policy = getter()
    # Every "new" loop is the sandbox loop: it owns the host waits and never closes.
    policy.new_event_loop = get_loop
    asyncio.run = run
    try:
        import asyncio.runners as runners
        runners.run = run
    except ImportError:
        pass
    return loop
