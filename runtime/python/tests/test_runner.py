"""The exports end to end against a fake host (native CPython)."""
import logging
import os
import posix
import sys
import unittest

import fakehost
from isola_guest import cbor, hostapi, instance, loop as guest_loop, runner
from isola_guest.errors import Failure


class Value:
    def __init__(self, value):
        self.value = value


class Arg:
    def __init__(self, value, name=None, raw=False, stream=None):
        self.name = name
        self.value = Value(stream if stream is not None else (value if raw else cbor.dumps(value)))


class RunnerTests(unittest.TestCase):
    maxDiff = None
    @classmethod
    def setUpClass(cls):
        cls.saved = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__, list(sys.argv),
                     list(logging.getLogger().handlers), logging.lastResort,
                     sys.modules["__main__"], os._exit)
        # What app.py does at component build time.
        instance.prepare_snapshot()

    @classmethod
    def tearDownClass(cls):
        (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__, sys.argv,
         handlers, logging.lastResort, sys.modules["__main__"], os._exit) = cls.saved
        posix._exit = os._exit
        root = logging.getLogger()
        root.handlers[:] = handlers

    def setUp(self):
        self.host = fakehost.FakeHost().bind()

    def run_export(self, export, *args):
        """Run an export; record the result it returns as the host would
        deliver it, after the output and items sent before it."""
        returned = export(*args)
        if returned is not None:
            self.host.events.append(("final", cbor.loads(returned)))

    def script(self, code, filename=None):
        """Evaluate; check the one final result and keep it out of the events."""
        self.run_export(runner.eval_script, code, filename)
        finals = [e for e in self.host.events if e[0] == "final"]
        self.assertEqual(len(finals), 1, self.host.events)
        self.assertEqual(self.host.events[-1][0], "final")
        self.host.events = self.host.events[:-1]
        return finals[0][1]

    def test_os_exit_sends_pending_output_then_ends_with_its_status(self):
        with self.assertRaises(fakehost.Exited):
            sys.stdout.write("bye")
            os._exit(3)
        self.assertEqual(self.host.events, [("stdout", "bye"), ("exit", 3)])
        self.assertIs(posix._exit, os._exit)

    def test_os_exit_checks_its_argument_as_python_does(self):
        with self.assertRaisesRegex(TypeError, "'str' object cannot be interpreted"):
            os._exit("3")
        with self.assertRaisesRegex(OverflowError, "too large to convert to C int"):
            os._exit(2**31)
        with self.assertRaises(fakehost.Exited):
            os._exit(status=-(2**31))
        self.assertEqual(self.host.events, [("exit", -(2**31))])

    def test_warm_up_needs_no_host_and_leaves_no_trace(self):
        # app.py runs it at build time, where the host's imports trap.
        names = ("poll", "clock_now", "subscribe_duration",
                 "emit", "emit_output", "emit_log", "hostcall")
        for name in names:
            setattr(hostapi, name, hostapi._unbound)
        before = dict(runner.namespace)
        instance.warm_up()
        self.assertEqual(runner.namespace, before)
        self.assertEqual(self.host.events, [])

    def test_sys_argv_is_the_hosts_command_line_else_a_stand_in(self):
        # ensure_ready runs on an instance's first export call.
        try:
            instance.ready = False
            self.host.arguments = ["tool.py", "--count", "3"]
            self.assertEqual(self.script("import sys\nsys.argv"), ["tool.py", "--count", "3"])
            instance.ready = False
            self.host.arguments = []
            self.assertEqual(self.script("import sys\nsys.argv"), ["sandbox"])
        finally:
            instance.ready = True

    def test_stdout_buffer_takes_bytes(self):
        self.script("import sys\nsys.stdout.buffer.write(b'raw \\xff ok\\n')\nsys.stdout.buffer.flush()\n")
        self.assertEqual(self.host.events, [("stdout", "raw \\xff ok\n")])

    def test_stdout_answers_as_a_text_wrapper_and_reconfigures(self):
        from isola_guest.output import HostWriter
        out = HostWriter(False)
        self.assertEqual((out.encoding, out.errors, out.mode, out.line_buffering, out.write_through),
                         ("utf-8", "strict", "w", True, False))
        self.assertEqual(HostWriter(True).errors, "backslashreplace")
        out.reconfigure(encoding="UTF8")  # a common first line of scripts
        self.assertEqual(out.encoding, "utf-8")
        out.write("é\n")
        out.reconfigure(encoding="ascii", errors="replace", newline="\r\n", line_buffering=False)
        self.assertEqual((out.encoding, out.errors, out.line_buffering), ("ascii", "replace", False))
        out.write("é!\n")
        out.reconfigure(encoding="latin-1", errors="strict", newline=None)
        with self.assertRaises(UnicodeEncodeError):
            out.write("✓")
        out.write("é\n")  # not UTF-8: escaped, as bytes written to buffer are
        out.reconfigure(encoding="utf-8-sig")
        out.write("a\n")
        out.write("b\n")
        with self.assertRaises(LookupError):
            out.reconfigure(encoding="no-such-codec")
        with self.assertRaises(ValueError):
            out.reconfigure(newline="x")
        with self.assertRaises(TypeError):
            out.reconfigure(errors=1)
        self.assertEqual(self.host.events, [
            ("stdout", "é\n"), ("stdout", "?!\r\n"), ("stdout", "\\xe9\n"),
            ("stdout", "\ufeffa\n"), ("stdout", "b\n")])

    def test_script_result_is_its_last_expression(self):
        self.assertIsNone(self.script("x = 20"))
        self.assertEqual(self.script("y = x + 1\ny * 2"), 42)
        self.assertEqual(self.script("import asyncio\nawait asyncio.sleep(0, result=[x])"), [20])
        self.assertEqual(self.script("object"), "<class 'object'>")
        self.assertIsNone(self.script("print('hi')"))
        self.assertNotIn("__isola_script_result__", runner.namespace)

    def call(self, name, *args, **kwargs):
        a = [Arg(v) for v in args] + [Arg(v, name=k) for k, v in kwargs.items()]
        self.run_export(runner.call_func, name, a)
        return self.host.events

    def failure(self, fn, *args):
        with self.assertRaises(Failure) as cm:
            fn(*args)
        return cm.exception

    def test_scripts_run_in_the_main_module(self):
        # What a program's module is under python: sys.modules["__main__"],
        # so pickle, typing and unittest find what scripts define.
        self.assertTrue(self.script(
            "import pickle, sys, typing\n"
            "class Point:\n    def __init__(self, x): self.x = x\n"
            "def double(p: 'Point') -> 'Point':\n    return Point(p.x * 2)\n"
            "copy = pickle.loads(pickle.dumps(Point(3)))\n"
            "[sys.modules['__main__'].Point is Point, type(copy) is Point, copy.x,\n"
            " pickle.loads(pickle.dumps(double)) is double,\n"
            " typing.get_type_hints(double)['p'] is Point]"), [True, True, 3, True, True])
        self.assertEqual(self.script("__name__"), "__main__")

    def test_plain_call_and_kwargs(self):
        self.script("def add(a, b=1):\n    return a + b\n")
        self.assertEqual(self.call("add", 2, b=5), [("final", 7)])

    def test_result_is_returned_by_the_export_not_emitted(self):
        self.script("def add(a, b=1):\n    print(a)\n    return a + b\n")
        returned = runner.call_func("add", [Arg(2)])
        self.assertEqual(cbor.loads(returned), 3)
        self.assertEqual(self.host.events, [("stdout", "2\n")])
        # A second result of one export still reaches the host, which
        # refuses it (protocol violation), instead of replacing the first.
        self.host.events = []
        self.script("from isola_guest import emitting\ndef twice():\n    emitting.send(True, 1)\n    return 2\n")
        returned = runner.call_func("twice", [])
        self.assertEqual(cbor.loads(returned), 1)
        self.assertEqual(self.host.events, [("final", 2)])

    def test_generator_streams_items_then_return_value(self):
        self.script("def g(n):\n    for i in range(n):\n        print('p', i)\n        yield i\n    return 'end'\n")
        self.assertEqual(self.call("g", 2), [
            ("stdout", "p 0\n"), ("item", 0), ("stdout", "p 1\n"), ("item", 1), ("final", "end")])

    def test_async_generator_and_coroutine(self):
        self.script(
            "import asyncio, sandbox\n"
            "async def ag():\n    for i in range(3):\n        await asyncio.sleep(0.1)\n        yield i\n"
            "async def co():\n    return await asyncio.gather(sandbox.hostcall('sleep', 30), sandbox.hostcall('sleep', 10))\n")
        self.assertEqual(self.call("ag"), [("item", 0), ("item", 1), ("item", 2), ("final", None)])
        self.host.events = []
        self.assertEqual(self.call("co"), [("final", [30, 10])])

    def test_top_level_await_and_persistent_namespace(self):
        self.script("import asyncio\nv = await asyncio.sleep(0.01, result=3)\n")
        self.script("print(v * 2)\n")
        self.assertEqual(self.host.events, [("stdout", "6\n")])

    def test_exception_traceback_is_trimmed(self):
        f = self.failure(self.script, "def f():\n    raise ValueError('bad')\nf()\n")
        self.assertEqual((f.code, f.kind), ("exception", "ValueError"))
        self.assertRegex(f.message, r'File "<script-\d+>", line 2, in f\n    raise ValueError\(\'bad\'\)\n')
        self.assertNotIn("isola_guest", f.message)
        self.assertTrue(f.message.rstrip().endswith("ValueError: bad"))

    def test_a_script_can_be_named_as_python_names_it(self):
        # eval-script's filename: a host names a script by its path (isola-run
        # also by <string> for -c, <stdin>), as compile(code, filename) does.
        import inspect
        import linecache
        f = self.failure(self.script, "def f():\n    raise ValueError('bad')\nf()\n", "/work/tool.py")
        self.assertRegex(f.message, r'File "/work/tool.py", line 2, in f\n    raise ValueError\(\'bad\'\)\n')
        # Unnamed scripts are numbered.
        f = self.failure(self.script, "1 / 0\n")
        self.assertRegex(f.message, r'File "<script-\d+>", line 1')
        # A name given again replaces its source (once in the bounded list).
        self.script("def g():\n    return 1\n", "cell.py")
        self.script("\n\ndef g():\n    return 2\n", "cell.py")
        self.assertEqual(inspect.getsource(runner.namespace["g"]), "def g():\n    return 2\n")
        self.assertEqual(list(runner._sources).count("cell.py"), 1)
        self.assertEqual(linecache.getline("cell.py", 3), "def g():\n")
        self.assertEqual(runner._source_bytes[0], sum(runner._sources.values()))

    def test_script_sources_are_kept_within_bounds(self):
        import linecache
        saved = runner._SOURCES_KEPT
        runner._SOURCES_KEPT = 2
        try:
            for i in range(3):
                self.script("v%d = %d\n" % (i, i))
            names = list(runner._sources)
            self.assertEqual(len(names), 2)
            self.assertEqual([linecache.getline(n, 1) for n in names], ["v1 = 1\n", "v2 = 2\n"])
            first = "<script-%d>" % (int(names[0][8:-1]) - 1)
            self.assertNotIn(first, linecache.cache)
            self.assertEqual(runner._source_bytes[0], sum(runner._sources.values()))
        finally:
            runner._SOURCES_KEPT = saved

    def test_system_exit_carries_pythons_exit_status(self):
        # No code, 0 (or an int that truncates to 0, as python's C int): success.
        self.assertIsNone(self.script("import sys\nsys.exit()\n"))
        self.assertIsNone(self.script("raise SystemExit(0)\n"))
        self.assertIsNone(self.script("raise SystemExit(2**32)\n"))
        self.assertEqual(self.host.events, [])
        for code, status in (("3", 3), ("300", 300), ("-1", -1), ("True", 1)):
            f = self.failure(self.script, "raise SystemExit(%s)\n" % code)
            self.assertEqual((f.code, f.kind, f.exit_status), ("exception", "SystemExit", status))
            self.assertIn("Traceback", f.message)
        self.assertEqual(self.host.events, [])
        # Any other code: printed on stderr as python does, status 1.
        f = self.failure(self.script, "import sys\nsys.exit('no input')\n")
        self.assertEqual((f.kind, f.exit_status), ("SystemExit", 1))
        self.assertEqual(self.host.events, [("stderr", "no input\n")])
        self.host.events = []
        # Caught, it is no exit.
        self.assertEqual(self.script("try:\n    raise SystemExit(4)\nexcept SystemExit as e:\n    c = e.code\nc"), 4)
        # A call: the same rules.
        self.script("import sys\ndef leave(code):\n    print('bye')\n    sys.exit(code)\n"
                    "def gen():\n    yield 1\n    sys.exit(0)\n")
        self.assertEqual(self.call("leave", None), [("stdout", "bye\n"), ("final", None)])
        self.host.events = []
        self.assertEqual(self.call("gen"), [("item", 1), ("final", None)])
        self.host.events = []
        f = self.failure(self.call, "leave", 2)
        self.assertEqual((f.kind, f.exit_status), ("SystemExit", 2))
        self.assertIsNone(self.failure(self.script, "raise KeyError(1)\n").exit_status)

    def test_syntax_error(self):
        f = self.failure(self.script, "x = (\n")
        self.assertEqual((f.code, f.kind), ("exception", "SyntaxError"))
        self.assertNotIn("isola_guest", f.message)

    def test_host_error(self):
        self.script("import sandbox\ndef h():\n    return sandbox.hostcall_sync('fail')\n")
        f = self.failure(self.call, "h")
        self.assertEqual(f.kind, "HostError")
        self.assertIn("refused", f.message)

    def test_unknown_and_uncallable(self):
        self.script("notfn = 1\n")
        self.assertEqual(self.failure(self.call, "missing_fn").code, "invalid-argument")
        self.assertEqual(self.failure(self.call, "notfn").code, "invalid-argument")

    def test_bad_cbor_argument(self):
        self.script("def ident(x):\n    return x\n")
        f = self.failure(runner.call_func, "ident", [Arg(b"\xff", raw=True)])
        self.assertEqual(f.code, "invalid-argument")

    def test_call_cbor_matches_call_func(self):
        # The host's export for calls whose arguments are all complete values.
        self.script("def add(a, b=1, **more):\n    return [a + b, more]\n")
        self.run_export(runner.call_cbor, "add", [cbor.dumps(2)], [("b", cbor.dumps(5)), ("c", cbor.dumps("x"))])
        self.assertEqual(self.host.events, [("final", [7, {"c": "x"}])])
        self.host.events = []
        self.run_export(runner.call_cbor, "add", [cbor.dumps(2)], [])
        self.assertEqual(self.host.events, [("final", [3, {}])])
        f = self.failure(runner.call_cbor, "add", [cbor.dumps(1), b"\xff"], [])
        self.assertEqual((f.code, f.message[:39]), ("invalid-argument", "positional argument 1 is not valid CBOR"))
        f = self.failure(runner.call_cbor, "add", [], [("b", b"")])
        self.assertEqual((f.code, f.message[:32]), ("invalid-argument", "argument 'b' is not valid CBOR: "))
        f = self.failure(runner.call_cbor, "add", [], [("b", cbor.dumps(1)), ("b", cbor.dumps(2))])
        self.assertEqual((f.code, f.message), ("invalid-argument", "keyword argument 'b' given more than once"))
        self.assertEqual(self.failure(runner.call_cbor, "notfn", [], []).code, "invalid-argument")

    def test_unencodable_return(self):
        self.script("def bad():\n    return {1, 2}\n")
        f = self.failure(self.call, "bad")
        self.assertEqual((f.code, f.kind), ("exception", "TypeError"))
        self.assertIn("'set'", f.message)

    def test_stream_argument_sync_and_async(self):
        self.script(
            "def total(it):\n    return sum(it)\n"
            "async def atotal(it):\n    return [x async for x in it]\n")
        stream = fakehost.Iterator(self.host, [("chunk", 1), ("chunk", 2)])
        self.run_export(runner.call_func, "total", [Arg(None, stream=stream)])
        self.assertEqual(self.host.events, [("final", 3)])
        self.host.events = []
        stream = fakehost.Iterator(self.host, [("chunk", "a"), ("failed", "producer died")])
        f = self.failure(runner.call_func, "atotal", [Arg(None, stream=stream)])
        self.assertEqual(f.kind, "StreamError")
        self.assertIn("producer died", f.message)

    def test_output_limit_even_if_swallowed(self):
        self.host.emit_limit = 2
        self.script("def spam():\n    try:\n        for i in range(10): print(i)\n    except BaseException:\n        pass\n    return 1\n")
        f = self.failure(self.call, "spam")
        self.assertEqual(f.code, "output-limit")

    def test_logging_goes_to_host(self):
        self.script("import logging\nlogging.getLogger('a.b').warning('hi %s', 1)\nlogging.info('dropped')\n")
        self.assertEqual(self.host.events, [("log", 30, "a.b", "hi 1")])

    def test_log_to_stderr_logs_as_python_does(self):
        from isola_guest import output

        root = logging.getLogger()
        saved = (list(root.handlers), logging.lastResort, logging.basicConfig)
        try:
            self.script("import sandbox, logging\nsandbox.log_to_stderr()\n"
                        "logging.getLogger('a').warning('first')\nlogging.warning('x %d', 1)\n"
                        "logging.getLogger('a').error('y')\nlogging.info('dropped')\n")
            self.assertEqual(self.host.events, [("stderr", "first\n"), ("stderr", "WARNING:root:x 1\n"),
                                                ("stderr", "ERROR:a:y\n")])
        finally:
            for h in list(root.handlers):
                root.removeHandler(h)
            for h in saved[0]:
                root.addHandler(h)
            logging.lastResort, logging.basicConfig = saved[1], saved[2]
        self.assertIn(output.log_handler, root.handlers)

    def test_explicit_emit_and_partial_line_flushed(self):
        self.script("import sandbox\ndef e():\n    print('no newline', end='')\n    sandbox.emit('x')\n    return 2\n")
        self.assertEqual(self.call("e"), [("stdout", "no newline"), ("item", "x"), ("final", 2)])

    def test_deadlock_reported(self):
        self.script("import asyncio\nasync def stuck():\n    await asyncio.Future()\n")
        f = self.failure(self.call, "stuck")
        self.assertEqual(f.kind, "DeadlockError")

    def test_asyncio_run_in_script(self):
        self.script("import asyncio\nasync def m():\n    await asyncio.sleep(1)\n    return 5\nprint(asyncio.run(m()))\n")
        self.assertEqual(self.host.events, [("stdout", "5\n")])
        self.assertIs(guest_loop.get_loop(), guest_loop._main_loop)


if __name__ == "__main__":
    unittest.main()
