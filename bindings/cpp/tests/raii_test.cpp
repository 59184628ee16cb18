// Ownership: moves leave empty owners that fail cleanly, nothing is freed
// twice, sandboxes outlive their template.
#include <catch2/catch.hpp>

#include "support.hpp"

using test::tpl;

TEST_CASE("a moved sandbox keeps working and the source is empty") {
  isola::Sandbox a = tpl().sandbox();
  a.eval("x = 5\ndef get():\n    return x\n");
  isola::Sandbox b = std::move(a);
  CHECK_FALSE(static_cast<bool>(a));
  CHECK(static_cast<bool>(b));
  CHECK(b.call_json("get") == "5");
  // The moved-from sandbox reports an error instead of crashing.
  const isola::Error e = test::expect_error([&] { a.eval("1"); });
  CHECK(e.code() == isola::ErrorCode::InvalidArgument);

  // Move assignment frees the target's old sandbox and takes the new one.
  isola::Sandbox c = tpl().sandbox();
  c = std::move(b);
  CHECK(c.call_json("get") == "5");
  c = std::move(c);  // self-move is harmless  // NOLINT
  CHECK(c.call_json("get") == "5");

  std::vector<isola::Sandbox> many;
  for (int i = 0; i < 4; i++) {
    many.push_back(tpl().sandbox());  // reallocation moves them
  }
  for (auto &sb : many) {
    sb.eval("def neg(x):\n    return -x\n");
    CHECK(sb.call_json("neg", "[-3]") == "3");
  }
}

TEST_CASE("sandboxes outlive their template") {
  isola::Sandbox sb = [] {
    isola::Template t = isola::Template::create(isola::TemplateOptions().prelude("Y = 7\n"));
    isola::Template moved = std::move(t);
    return moved.sandbox();
  }();
  sb.eval("def y():\n    return Y\n");
  CHECK(sb.call_json("y") == "7");
}

TEST_CASE("moved options streams and args stay safe") {
  isola::SandboxOptions o1;
  o1.max_memory(128u << 20);
  isola::SandboxOptions o2 = std::move(o1);
  CHECK(o1.raw() == nullptr);
  CHECK_THROWS_AS(o1.max_memory(1), isola::Error);
  isola::Sandbox sb = tpl().sandbox(o2);
  sb.eval("def first(xs):\n    return next(iter(xs))\n");

  isola::Stream s1(4);
  s1.push_json("\"a\"");
  isola::Stream s2 = std::move(s1);
  CHECK(s1.raw() == nullptr);
  CHECK_THROWS_AS(s1.push_json("1"), isola::Error);

  isola::Args a1;
  a1.stream("xs", s2);
  isola::Args a2 = std::move(a1);
  isola::CollectSink sink;
  sb.call("first", a2, sink);
  CHECK(sink.result == "\"a\"");

  isola::TemplateOptions t1;
  isola::TemplateOptions t2 = std::move(t1);
  CHECK_THROWS_AS(t1.prelude("x"), isola::Error);
  t2.no_cache().embedded_runtime();
}

TEST_CASE("invalid arguments throw invalid argument errors") {
  const isola::Error zero = test::expect_error([] { isola::Stream s(0); });
  CHECK(zero.code() == isola::ErrorCode::InvalidArgument);
  CHECK(zero.guest_type().empty());
  const isola::Error env = test::expect_error([] { isola::SandboxOptions().env("A=B", "x"); });
  CHECK(env.code() == isola::ErrorCode::InvalidArgument);
  const isola::Error args = test::expect_error([] { isola::Args().json("{oops"); });
  CHECK(args.code() == isola::ErrorCode::InvalidArgument);
  const isola::Error lists = test::expect_error([] { isola::Args().json_lists("{}", ""); });
  CHECK(lists.code() == isola::ErrorCode::InvalidArgument);
  CHECK(std::string(isola::code_name(isola::ErrorCode::Cancelled)) == "CANCELLED");
}

TEST_CASE("a string with a NUL byte throws instead of being cut short") {
  // The C API takes C strings: a NUL byte inside a view ended the string
  // there, so eval("x = 1\0raise SystemExit(9)") ran "x = 1" and succeeded
  // (python refuses source with a NUL byte), env values and file paths
  // were cut short.
  using namespace std::literals;
  isola::Sandbox sb = tpl().sandbox();
  const isola::Error code = test::expect_error([&] { sb.eval("x = 1\0raise SystemExit(9)"sv); });
  CHECK(code.code() == isola::ErrorCode::InvalidArgument);
  CHECK(std::string(code.what()).find("NUL byte at offset 5") != std::string::npos);
  const isola::Error named = test::expect_error([&] { sb.eval_named("x = 2"sv, "a\0b.py"sv); });
  CHECK(named.code() == isola::ErrorCode::InvalidArgument);
  const isola::Error env = test::expect_error([] { isola::SandboxOptions().env("K"sv, "va\0lue"sv); });
  CHECK(env.code() == isola::ErrorCode::InvalidArgument);
  const isola::Error path =
      test::expect_error([&] { sb.write_file(std::string("/tmp/a\0/b", 9), std::vector<std::uint8_t>{1}); });
  CHECK(path.code() == isola::ErrorCode::InvalidArgument);
  const isola::Error arg = test::expect_error([] { isola::Args().json("k"sv, "1\0"sv); });
  CHECK(arg.code() == isola::ErrorCode::InvalidArgument);
  // Nothing of the refused calls ran or was written.
  CHECK(sb.eval_result("import os\n[globals().get('x'), os.listdir('/tmp')]") == "[null,[]]");
}
