"""The cooperative scheduler and its locks (native CPython, without
installing them into ``_thread``: threads here are bare functions given to
``start_joinable_thread``; ``threading.Thread`` on top is tested in the
sandbox, tests/threads.rs)."""
import io
import time
import unittest
from contextlib import redirect_stderr

import _path  # noqa: F401
from isola_guest import threads
from isola_guest.errors import DeadlockError, ThreadEnded


class SchedulerTests(unittest.TestCase):
    def tearDown(self):
        threads.drop_pending()
        self.assertEqual(threads.get_ident(), threads.MAIN_IDENT)

    def test_a_wait_nothing_can_end_raises_deadlock_error(self):
        lock = threads.Lock()
        lock.acquire()
        with self.assertRaises(DeadlockError) as cm:
            lock.acquire()
        self.assertIn("isola sandbox: this wait can never end", str(cm.exception))
        self.assertIsInstance(cm.exception, RuntimeError)
        with self.assertRaises(DeadlockError):
            with lock:
                pass

    def test_a_timed_wait_sleeps_its_timeout_and_returns_false(self):
        lock = threads.Lock()
        lock.acquire()
        start = time.monotonic()
        self.assertFalse(lock.acquire(timeout=0.1))
        self.assertGreaterEqual(time.monotonic() - start, 0.1)
        self.assertFalse(lock.acquire(False))
        with self.assertRaises(ValueError):
            lock.acquire(False, 1)
        with self.assertRaises(ValueError):
            lock.acquire(True, -2)

    def test_a_wait_runs_started_threads_until_one_releases_the_lock(self):
        lock = threads.Lock()
        lock.acquire()
        ran = []

        def first():
            ran.append(("first", threads.get_ident()))

        def releaser():
            ran.append(("releaser", threads.get_ident()))
            lock.release()

        def last():
            ran.append(("last", threads.get_ident()))

        handles = [threads.start_joinable_thread(f, daemon=False) for f in (first, releaser, last)]
        self.assertTrue(lock.acquire())
        self.assertEqual(ran, [("first", handles[0].ident), ("releaser", handles[1].ident)])
        self.assertEqual([h.is_done() for h in handles], [True, True, False])
        handles[2].join()
        self.assertEqual(ran[-1], ("last", handles[2].ident))
        self.assertEqual(len({h.ident for h in handles} | {threads.MAIN_IDENT}), 4)

    def test_a_thread_that_would_wait_forever_is_ended_and_the_waiter_goes_on(self):
        lock, never = threads.Lock(), threads.Lock()
        lock.acquire()
        never.acquire()
        steps = []

        def worker():
            lock.release()
            try:
                never.acquire()
            except Exception:
                steps.append("caught")
            finally:
                steps.append("finally")

        threads.start_joinable_thread(worker)
        self.assertTrue(lock.acquire())
        self.assertEqual(steps, ["finally"])

    def test_an_rlock_belongs_to_the_thread_that_took_it(self):
        rlock = threads.RLock()
        with rlock:
            with rlock:
                self.assertTrue(rlock._is_owned())
            seen = []

            def other():
                seen.append(rlock.acquire(timeout=0.01))
                seen.append(rlock._is_owned())
                try:
                    rlock.release()
                except RuntimeError as e:
                    seen.append(str(e))

            threads.start_joinable_thread(other).join()
            self.assertEqual(seen, [False, False, "cannot release un-acquired lock"])
        self.assertFalse(rlock.locked())

    def test_thread_local_data_is_per_thread(self):
        data = threads.local()
        data.x = "main"
        seen = []

        def worker():
            seen.append(getattr(data, "x", None))
            data.x = "worker"
            seen.append(data.x)

        threads.start_joinable_thread(worker).join()
        self.assertEqual(seen, [None, "worker"])
        self.assertEqual(data.x, "main")

    def test_an_unhashable_local_subclass_works(self):
        class Unhashable(threads.local):
            __hash__ = None

            def __init__(self):
                self.x = 0

        data = Unhashable()
        data.x = 1
        seen = []
        threads.start_joinable_thread(lambda: seen.append(data.x)).join()
        self.assertEqual((seen, data.x), ([0], 1))
        del data
        self.assertFalse([r for r in threads._locals.values() if r() is not None
                          and type(r()).__name__ == "Unhashable"])

    def test_left_over_non_daemon_threads_run_and_daemon_ones_are_dropped(self):
        ran = []
        daemon = threads.start_joinable_thread(lambda: ran.append("daemon"), daemon=True)
        threads.start_joinable_thread(lambda: ran.append("non-daemon"), daemon=False)
        threads.run_left_over()
        self.assertEqual(ran, ["non-daemon"])
        self.assertTrue(daemon.is_done())
        self.assertFalse(threads.pending)

    def test_errors_of_a_bare_thread_function_are_printed(self):
        def boom():
            raise ValueError("bad")

        err = io.StringIO()
        with redirect_stderr(err):
            threads.start_new_thread(boom, ())
            threads.run_left_over()
        self.assertEqual(err.getvalue(), "")  # start_new_thread threads are daemons
        with redirect_stderr(err):
            threads.start_joinable_thread(boom, daemon=False).join()
        self.assertIn("ValueError: bad", err.getvalue())

    def test_joining_a_thread_beneath_ends_the_joiner(self):
        seen = []
        main_handle = threads._make_thread_handle(threads.MAIN_IDENT)

        def joiner():
            try:
                main_handle.join()
            except ThreadEnded:
                seen.append("ended")
                raise

        threads.start_joinable_thread(joiner).join()
        self.assertEqual(seen, ["ended"])

    def test_sleep_runs_non_daemon_threads_and_ends_a_daemon_loop_beneath_a_wait(self):
        ran = []
        lock = threads.Lock()
        lock.acquire()

        def work():
            threads.sleep(0.02)  # a non-daemon thread's sleep really sleeps
            ran.append("work")

        def loop():
            while True:
                ran.append("tick")
                threads.sleep(0.01)

        loop_handle = threads.start_joinable_thread(loop, daemon=True)
        work_handle = threads.start_joinable_thread(work, daemon=False)
        start = time.monotonic()
        threads.sleep(0.03)
        self.assertGreaterEqual(time.monotonic() - start, 0.03)
        self.assertEqual(ran, ["work"])  # the daemon loop does not run in a sleep
        self.assertTrue(work_handle.is_done())
        self.assertFalse(loop_handle.is_done())
        # A timed wait runs it; it ends once that wait's timeout passed.
        self.assertFalse(lock.acquire(timeout=0.05))
        self.assertGreaterEqual(time.monotonic() - start, 0.08)
        self.assertIn("tick", ran)
        self.assertTrue(loop_handle.is_done())
        with self.assertRaises(ValueError):
            threads.start_joinable_thread(work, daemon=False)
            threads.sleep(-1)

if __name__ == "__main__":
    unittest.main()
