import asyncio
import unittest

import fakehost
from isola_guest import loop as guest_loop
from isola_guest import threads


class LoopTests(unittest.TestCase):
    def setUp(self):
        self.host = fakehost.FakeHost().bind()
        self.loop = guest_loop.PollLoop()

    def run_(self, coro):
        return guest_loop.run_until_complete(self.loop, coro)

    def test_sleep_uses_virtual_clock(self):
        async def main():
            t0 = self.loop.time()
            await asyncio.sleep(2.5)
            return self.loop.time() - t0
        self.assertAlmostEqual(self.run_(main()), 2.5, places=3)

    def test_gather_and_ordering(self):
        order = []

        async def worker(name, delay):
            await asyncio.sleep(delay)
            order.append(name)
            return name
        async def main():
            return await asyncio.gather(worker("b", 0.2), worker("a", 0.1), worker("c", 0.3))
        res = self.run_(main())
        self.assertEqual(res, ["b", "a", "c"])
        self.assertEqual(order, ["a", "b", "c"])

    def test_get_running_loop_and_create_task(self):
        async def main():
            self.assertIs(asyncio.get_running_loop(), self.loop)
            t = asyncio.create_task(asyncio.sleep(0.01, result=7))
            f = asyncio.ensure_future(asyncio.sleep(0.02, result=8))
            return await t + await f
        self.assertEqual(self.run_(main()), 15)

    def test_wait_for_timeout_and_cancel(self):
        async def main():
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.sleep(10), 0.5)
            t = asyncio.create_task(asyncio.sleep(10))
            await asyncio.sleep(0)
            t.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await t
            return "ok"
        self.assertEqual(self.run_(main()), "ok")
        self.assertLess(self.host.now, 2_000_000_000)

    def test_wait_pollable_concurrent(self):
        async def one(delay_ms):
            fut = fakehost.Future(self.host, self.host.now + delay_ms * 1_000_000, "x")
            await guest_loop.wait_pollable(fut.subscribe())
            return self.host.now

        async def main():
            return await asyncio.gather(one(30), one(10), one(20))
        self.assertEqual(self.run_(main()), [30_000_000, 10_000_000, 20_000_000])
        self.assertEqual(self.loop._waiters, [])
        self.assertEqual(self.host.dropped, 3)  # each pollable dropped exactly once

    def test_deadlock_is_reported(self):
        async def stuck():
            await asyncio.Future()
        with self.assertRaises(guest_loop.DeadlockError):
            self.run_(stuck())
        # The loop stays usable afterwards.
        self.assertEqual(self.run_(asyncio.sleep(0.01, result=1)), 1)

    def test_leftover_tasks_are_cancelled(self):
        cancelled = []

        async def background():
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        async def main():
            asyncio.create_task(background())
            await asyncio.sleep(0)
            return 1
        self.assertEqual(self.run_(main()), 1)
        self.assertEqual(cancelled, [True])

    def test_exception_propagates(self):
        async def boom():
            await asyncio.sleep(0.01)
            raise KeyError("k")
        with self.assertRaises(KeyError):
            self.run_(boom())

    def test_asyncio_run_patch(self):
        guest_loop._main_loop = self.loop
        guest_loop.install()

        async def main():
            return asyncio.get_running_loop()
        self.assertIs(asyncio.run(main()), self.loop)
        self.assertIs(asyncio.new_event_loop(), self.loop)

        async def nested():
            coro = main()
            with self.assertRaises(RuntimeError):
                asyncio.run(coro)
        asyncio.run(nested())

    def test_a_blocked_loop_runs_started_threads_first(self):
        # CPython's loop blocked in its selector lets other threads run; here
        # the threads started and not yet run run before it blocks, so one
        # that hands a result back (call_soon_threadsafe) ends the wait at
        # once instead of after the timer (asyncio.Runner.close's executor
        # shutdown waited out its 300 s this way).
        def hand_back(fut, daemon):
            threads.start_joinable_thread(
                lambda: self.loop.call_soon_threadsafe(fut.set_result, daemon), daemon=daemon)

        async def main(daemon, timer):
            fut = self.loop.create_future()
            hand_back(fut, daemon)
            if timer is None:
                return await fut
            async with asyncio.timeout(timer):
                return await fut
        self.assertFalse(self.run_(main(False, 300)))
        self.assertLess(self.host.now, 1_000_000_000)
        # A daemon thread runs when nothing else could end the wait (as
        # time.sleep, which runs none, ends by itself) ...
        self.assertTrue(self.run_(main(True, None)))
        # ... and not while a timer can.
        with self.assertRaises(TimeoutError):
            self.run_(main(True, 5))
        self.assertEqual(len(threads.pending), 1)
        threads.drop_pending()

    def test_block_on_pollable(self):
        p = fakehost.Pollable(self.host, 5_000_000)
        guest_loop.block_on_pollable(p)
        self.assertEqual(self.host.now, 5_000_000)
        self.assertTrue(p.dropped)


if __name__ == "__main__":
    unittest.main()
