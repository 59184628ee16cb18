// Eval, calls, output order, errors, limits and cancellation.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;
using test::tpl;

TEST_CASE("eval defines functions and call_json returns the result") {
  isola::Sandbox sb = tpl().sandbox();
  isola::CollectSink script;
  sb.eval("def add(a, b):\n    return a + b\nprint('defined')\n", script);
  CHECK(script.out == "defined\n");
  // The script ends with the expression print(...), whose value is None.
  CHECK(script.has_result);
  CHECK(script.result == "null");

  CHECK(sb.call_json("add", "[1, 2]") == "3");
  CHECK(sb.call_json("add", "[\"a\"]", "{\"b\": \"b\"}") == "\"ab\"");

  isola::CollectSink sink;
  sb.call_json("add", "[40]", "{\"b\": 2}", sink);
  CHECK(sink.result == "42");
  CHECK(sink.items.empty());
}

TEST_CASE("eval delivers the value of the final expression once") {
  isola::Sandbox sb = tpl().sandbox();
  CHECK(sb.eval_result("x = 20\nx + 22") == "42");
  CHECK(sb.eval_result("y = 1") == "null");
  // A value without a JSON form arrives as its repr text.
  CHECK(sb.eval_result("{1, 2}") == "\"{1, 2}\"");
  // Through a sink: the output first, then exactly one result.
  test::EventSink sink;
  sb.eval("print(x)\nx * 2", sink);
  const std::vector<std::string> expected = {"out:20\n", "result:40"};
  CHECK(sink.events == expected);
  const isola::Error e = test::expect_error([&] { sb.eval_result("raise KeyError('k')"); });
  CHECK(e.guest_type() == "KeyError");
}

TEST_CASE("call with Args mixes positional keyword and cbor values") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval("def f(a, b, *, c):\n    return [a, b, c]\n");
  isola::Args args;
  const unsigned char two_list[] = {0x82, 0x01, 0x02};  // CBOR [1, 2]
  args.json("1").cbor(two_list, sizeof two_list).json("c", "{\"k\": null}");
  isola::CollectSink sink;
  sb.call("f", args, sink);
  CHECK(sink.result == "[1,[1,2],{\"k\":null}]");

  isola::Args lists;
  lists.json_lists("[1, 2]", "{\"c\": 3}");
  isola::CollectSink sink2;
  sb.call("f", lists, sink2);
  CHECK(sink2.result == "[1,2,3]");
}

TEST_CASE("generator items and prints arrive in the order produced") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval(
      "def gen(n):\n"
      "    for i in range(n):\n"
      "        print('before', i)\n"
      "        yield {'i': i}\n"
      "    return 'done'\n");
  test::EventSink sink;
  sb.call_json("gen", "[3]", sink);
  const std::vector<std::string> expected = {
      "out:before 0\n", "item:{\"i\":0}", "out:before 1\n", "item:{\"i\":1}",
      "out:before 2\n", "item:{\"i\":2}", "result:\"done\"",
  };
  CHECK(sink.events == expected);

  isola::CollectSink many;
  sb.call_json("gen", "[200]", many);
  REQUIRE(many.items.size() == 200);
  for (std::size_t i = 0; i < many.items.size(); i++) {
    CHECK(many.items[i] == "{\"i\":" + std::to_string(i) + "}");
  }
}

TEST_CASE("stderr and logging records reach the sink") {
  isola::Sandbox sb = tpl().sandbox();
  test::EventSink sink;
  sb.eval(
      "import sys, logging\n"
      "def f():\n"
      "    sys.stderr.write('oops\\n')\n"
      "    logging.getLogger('app').warning('careful %d', 3)\n");
  sb.call_json("f", "", "", sink);
  REQUIRE(sink.events.size() == 3);
  CHECK(sink.events[0] == "err:oops\n");
  CHECK(sink.events[1] == "log:30:app:careful 3");
  CHECK(sink.events[2] == "result:null");
}

TEST_CASE("sys.exit carries the exit status python would give") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval("import sys\ndef leave(code):\n    sys.exit(code)\n");
  CHECK(sb.call_json("leave", "[0]") == "null");  // sys.exit(0): success
  const isola::Error e = test::expect_error([&] { sb.call_json("leave", "[3]"); });
  CHECK(e.code() == isola::ErrorCode::GuestException);
  CHECK(e.guest_type() == "SystemExit");
  CHECK(e.exit_status() == std::optional<int>(3));
  const isola::Error message = test::expect_error([&] { sb.call_json("leave", "[\"usage\"]"); });
  CHECK(message.exit_status() == std::optional<int>(1));
  const isola::Error other = test::expect_error([&] { sb.eval("raise ValueError(3)"); });
  CHECK_FALSE(other.exit_status().has_value());
}

TEST_CASE("eval_named names the source in tracebacks") {
  isola::Sandbox sb = tpl().sandbox();
  const isola::Error e = test::expect_error(
      [&] { sb.eval_named("def f():\n    return 1 // 0\nf()\n", "/srv/job.py"); });
  CHECK(e.code() == isola::ErrorCode::GuestException);
  CHECK(std::string(e.what()).find("File \"/srv/job.py\", line 2, in f") != std::string::npos);
  isola::CollectSink sink;
  sb.eval_named("print(__import__('inspect').currentframe().f_code.co_filename)", "cell.py", sink);
  CHECK(sink.out == "cell.py\n");
}

TEST_CASE("a cbor sink receives cbor bytes") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval("def f():\n    return [1, 'a']\n");
  isola::CollectSink sink(isola::Format::Cbor);
  sb.call_json("f", "", "", sink);
  CHECK(sink.result == std::string("\x82\x01\x61\x61", 4));
}

TEST_CASE("a guest exception becomes isola Error with code and guest type") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval("def boom(x):\n    raise ValueError(f'bad value {x}')\n");
  const isola::Error e = test::expect_error([&] { sb.call_json("boom", "[7]"); });
  CHECK(e.code() == isola::ErrorCode::GuestException);
  CHECK(std::string(e.code_name()) == "GUEST_EXCEPTION");
  CHECK(e.guest_type() == "ValueError");
  CHECK(std::string(e.what()).find("bad value 7") != std::string::npos);
  CHECK_FALSE(e.sandbox_is_dead());
  // The sandbox stays usable after a guest exception.
  sb.eval("def size(xs):\n    return len(xs)\n");
  CHECK(sb.call_json("size", "[[1, 2, 3]]") == "3");

  const isola::Error missing = test::expect_error([&] { sb.call_json("no_such_function", "[]"); });
  CHECK(missing.code() == isola::ErrorCode::InvalidArgument);
  const isola::Error bad_json = test::expect_error([&] { sb.call_json("boom", "[not json"); });
  CHECK(bad_json.code() == isola::ErrorCode::InvalidArgument);
}

TEST_CASE("a timeout from the options stops a runaway eval") {
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().timeout(300ms));
  const auto start = std::chrono::steady_clock::now();
  const isola::Error e = test::expect_error([&] { sb.eval("while True:\n    pass\n"); });
  CHECK(e.code() == isola::ErrorCode::Timeout);
  CHECK(e.sandbox_is_dead());
  CHECK(test::ms_since(start) < 5000);
}

TEST_CASE("set_timeout limits the following calls") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval("def spin():\n    while True:\n        pass\n");
  sb.set_timeout(200ms);
  const isola::Error e = test::expect_error([&] { sb.call_json("spin"); });
  CHECK(e.code() == isola::ErrorCode::Timeout);
  CHECK_THROWS_AS(sb.set_timeout(-1ms), isola::Error);
}

TEST_CASE("cancel from a std thread stops the running call") {
  isola::Sandbox sb = tpl().sandbox();
  std::atomic<bool> started{false};
  struct StartSink : isola::Sink {
    std::atomic<bool> *started;
    void on_stdout(std::string_view) override { started->store(true); }
  } sink;
  sink.started = &started;
  std::thread canceller([&] {
    while (!started.load()) {
      std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(50ms);
    sb.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const isola::Error e =
      test::expect_error([&] { sb.eval("import sys\nprint('go')\nsys.stdout.flush()\nwhile True:\n    pass\n", sink); });
  canceller.join();
  CHECK(e.code() == isola::ErrorCode::Cancelled);
  CHECK(e.sandbox_is_dead());
  CHECK(test::ms_since(start) < 5000);
}

TEST_CASE("a cancel handle is call-scoped and outlives its sandbox") {
  isola::CancelHandle handle;
  {
    isola::Sandbox sb = tpl().sandbox();
    handle = sb.cancel_handle();
    // Idle: nothing happens, and the next call is not affected.
    CHECK(handle.cancel() == isola::CancelOutcome::Idle);
    CHECK(sb.cancel() == isola::CancelOutcome::Idle);
    CHECK(sb.eval_result("6 * 7") == "42");
    std::thread watchdog([&] {
      while (handle.cancel() != isola::CancelOutcome::Requested) {
        std::this_thread::sleep_for(5ms);
      }
    });
    const isola::Error e = test::expect_error([&] { sb.eval("while True:\n    pass\n"); });
    watchdog.join();
    CHECK(e.code() == isola::ErrorCode::Cancelled);
  }
  // The sandbox is gone; the handle still answers.
  CHECK(handle.cancel() == isola::CancelOutcome::Gone);
}

TEST_CASE("a stream pushed from a std thread feeds a generator") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval(
      "def running_total(xs, *, scale):\n"
      "    t = 0\n"
      "    for x in xs:\n"
      "        t += x * scale\n"
      "        yield t\n"
      "    return 'end'\n");
  isola::Stream stream(2);  // small: the pusher must wait for the guest
  isola::Args args;
  args.stream(stream).json("scale", "10");
  std::thread pusher([&] {
    for (int i = 1; i <= 100; i++) {
      stream.push_json(std::to_string(i));
    }
    stream.close();
  });
  isola::CollectSink sink;
  sb.call("running_total", args, sink);
  pusher.join();
  REQUIRE(sink.items.size() == 100);
  CHECK(sink.items.front() == "10");
  CHECK(sink.items.back() == "50500");
  CHECK(sink.result == "\"end\"");
  // The call is over: pushing fails cleanly instead of blocking.
  const isola::Error e = test::expect_error([&] { stream.push_json("1"); });
  CHECK(e.code() == isola::ErrorCode::InvalidState);
}

TEST_CASE("a failed stream raises StreamError in the guest after the earlier values") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval(
      "import sandbox\n"
      "def relay(xs):\n"
      "    try:\n"
      "        for x in xs:\n"
      "            yield x\n"
      "    except sandbox.StreamError as e:\n"
      "        return [type(e).__name__, 'upstream broke' in str(e)]\n"
      "    return 'no error'\n");
  isola::Stream stream(2);  // the failure waits behind unread values
  isola::Args args;
  args.stream(stream);
  std::thread producer([&] {
    for (int i = 1; i <= 5; i++) {
      stream.push_json(std::to_string(i));
    }
    stream.fail("upstream broke");
  });
  test::EventSink sink;
  sb.call("relay", args, sink);
  producer.join();
  const std::vector<std::string> expected = {
      "item:1", "item:2", "item:3", "item:4", "item:5", "result:[\"StreamError\",true]",
  };
  CHECK(sink.events == expected);
  // Failing closed the stream.
  const isola::Error e = test::expect_error([&] { stream.push_json("6"); });
  CHECK(e.code() == isola::ErrorCode::InvalidState);
}

TEST_CASE("an exception thrown by a sink is rethrown after the call") {
  isola::Sandbox sb = tpl().sandbox();
  sb.eval("def gen():\n    for i in range(5):\n        yield i\n    return 'ok'\n");
  struct Throwing : isola::Sink {
    int seen = 0;
    void on_item(std::string_view) override {
      seen++;
      throw std::logic_error("sink refused");
    }
  } sink;
  CHECK_THROWS_WITH(sb.call_json("gen", "", "", sink), "sink refused");
  CHECK(sink.seen == 1);  // later callbacks were skipped
  CHECK(sb.call_json("gen") == "\"ok\"");  // the sandbox is fine
}

TEST_CASE("template options set the prelude and sandbox defaults") {
  isola::TemplateOptions options;
  options.prelude("BASE = 41\n").max_memory(256u << 20).env("GREETING", "hi");
  const isola::Template t = isola::Template::create(options);
  isola::Sandbox sb = t.sandbox();
  sb.eval("import os\ndef f():\n    return [BASE + 1, os.environ['GREETING']]\n");
  CHECK(sb.call_json("f") == "[42,\"hi\"]");
  CHECK(sb.memory_usage() > 0);

  isola::Sandbox limited = t.sandbox(isola::SandboxOptions().max_memory(64u << 20));
  isola::CollectSink sink;
  limited.eval(
      "try:\n    x = bytearray(200 * 1024 * 1024)\nexcept MemoryError:\n    print('memory error')\n", sink);
  CHECK(sink.out == "memory error\n");
}

TEST_CASE("files go into the scratch file system and artifacts come back as bytes") {
  isola::Sandbox sb = tpl().sandbox();
  sb.write_file("/tmp/in/data.bin", {0, 1, 2, 255});
  sb.eval(
      "import os\n"
      "data = open('/tmp/in/data.bin', 'rb').read()\n"
      "os.makedirs('/tmp/out/sub', exist_ok=True)\n"
      "open('/tmp/out/result.bin', 'wb').write(bytes(reversed(data)))\n");
  CHECK(sb.read_file("/tmp/out/result.bin") == std::vector<std::uint8_t>{255, 2, 1, 0});
  const auto entries = sb.list_dir("/tmp/out");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].first == "result.bin");
  CHECK(entries[0].second == ISOLA_FILE_KIND_FILE);
  CHECK(entries[1].first == "sub");
  CHECK(entries[1].second == ISOLA_FILE_KIND_DIRECTORY);
  try {
    sb.read_file("/tmp/missing");
    FAIL("reading a missing file must throw");
  } catch (const isola::Error &e) {
    CHECK(e.code() == isola::ErrorCode::Io);
  }
  try {
    sb.write_file("/etc/passwd", {1});
    FAIL("writing outside the scratch file system must throw");
  } catch (const isola::Error &e) {
    CHECK(e.code() == isola::ErrorCode::InvalidArgument);
  }
}

TEST_CASE("stdin_data is what the guest reads from standard input") {
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().stdin_data(std::string_view("21\nre\0st", 8)));
  sb.eval("import sys\ndef first():\n    return int(input()) * 2\n"
          "def rest():\n    return [ord(c) for c in sys.stdin.read()]\n");
  CHECK(sb.call_json("first") == "42");
  CHECK(sb.call_json("rest") == "[114,101,0,115,116]");
}

TEST_CASE("argv becomes the guest sys.argv per sandbox over the template default") {
  isola::TemplateOptions options;
  options.argv({"tool.py", "--from-template"});
  const isola::Template t = isola::Template::create(options);
  const char *read_argv = "import sys\ndef argv():\n    return sys.argv\n";
  isola::Sandbox inherits = t.sandbox();
  inherits.eval(read_argv);
  CHECK(inherits.call_json("argv") == "[\"tool.py\",\"--from-template\"]");
  isola::Sandbox own = t.sandbox(isola::SandboxOptions().argv({"report.py", "--count", "3", "a b"}));
  own.eval(
      "import argparse\n"
      "def parsed():\n"
      "    p = argparse.ArgumentParser()\n"
      "    p.add_argument('--count', type=int)\n"
      "    p.add_argument('files', nargs='*')\n"
      "    a = p.parse_args()\n"
      "    return [p.prog, a.count, a.files]\n");
  CHECK(own.call_json("parsed") == "[\"report.py\",3,[\"a b\"]]");
  isola::Sandbox plain = tpl().sandbox();
  plain.eval(read_argv);
  CHECK(plain.call_json("argv") == "[\"sandbox\"]");

  isola::SandboxOptions bad;
  CHECK(test::expect_error([&] { bad.argv({}); }).code() == isola::ErrorCode::InvalidArgument);
  const isola::Error nul = test::expect_error([&] { bad.argv({"x.py", std::string("a\0b", 3)}); });
  CHECK(nul.code() == isola::ErrorCode::InvalidArgument);
  CHECK(std::string(nul.what()).find("argv[1]") != std::string::npos);
  CHECK(test::expect_error([&] { bad.argv({"x.py", "\xff"}); }).code() == isola::ErrorCode::InvalidArgument);
}

// The prelude of the Go and Zig binding tests too: the same prelude and
// template settings share one cached snapshot (compiled once per cache).
static const char SNAPSHOT_PRELUDE[] =
    "import random\nTOKEN = random.random()\ndef snap_double(x):\n    return 2 * x\n";

TEST_CASE("prelude_snapshot runs the prelude once for every sandbox") {
  isola::TemplateOptions options;
  options.prelude(SNAPSHOT_PRELUDE).prelude_snapshot();
  const isola::Template t = isola::Template::create(options);
  const char *probe = "def probe():\n    return [snap_double(21), TOKEN]\n";
  isola::Sandbox a = t.sandbox();
  isola::Sandbox b = t.sandbox();
  a.eval(probe);
  b.eval(probe);
  const std::string first = a.call_json("probe");
  CHECK(first.rfind("[42,", 0) == 0);
  // One run at template build: the number it drew is in every sandbox (a
  // prelude run per sandbox would draw a new one each time).
  CHECK(b.call_json("probe") == first);

  // With the snapshot the prelude runs in Template::create, so its error
  // is thrown there.
  isola::TemplateOptions failing;
  failing.prelude("raise KeyError('prelude broke')\n").prelude_snapshot(true);
  const isola::Error e = test::expect_error([&] { isola::Template::create(failing); });
  CHECK(e.code() == isola::ErrorCode::GuestException);
  CHECK(e.guest_type() == "KeyError");
}
