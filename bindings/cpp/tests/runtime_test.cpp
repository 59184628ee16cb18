// Choosing the runtime by name: the scientific runtime ("sci", numpy),
// which `make runtime-sci` lays out beside target/debug/libisola.so where
// the library looks for it; an unknown name is a clear error.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"

TEST_CASE("runtime_name sci evaluates numpy") {
  isola::TemplateOptions options;
  options.runtime_name("sci");
  const isola::Template sci = isola::Template::create(options);
  isola::Sandbox sb = sci.sandbox();
  CHECK(sb.eval_result("import numpy\nint(numpy.arange(6).reshape(2, 3).sum())") == "15");
  CHECK(sb.eval_result("(numpy.arange(6.0).reshape(2, 3) @ numpy.array([1.0, 2.0, 3.0])).tolist()") ==
        "[8.0,26.0]");
  // The default runtime has no numpy: the name really chose another component.
  isola::Sandbox plain = test::tpl().sandbox();
  const isola::Error e = test::expect_error([&] { plain.eval_result("import numpy"); });
  CHECK(e.guest_type() == "ModuleNotFoundError");
}

TEST_CASE("runtime_name of an unknown runtime throws InvalidArgument") {
  isola::TemplateOptions options;
  const isola::Error e = test::expect_error([&] { options.runtime_name("no-such-runtime"); });
  CHECK(e.code() == isola::ErrorCode::InvalidArgument);
  CHECK(std::string(e.what()).find("isola-python-no-such-runtime.wasm") != std::string::npos);
  const isola::Error bad = test::expect_error([&] { options.runtime_name("../sci"); });
  CHECK(bad.code() == isola::ErrorCode::InvalidArgument);
  // The options are unchanged: they still build the embedded runtime.
  const isola::Template still_default = isola::Template::create(options);
  isola::Sandbox sb = still_default.sandbox();
  CHECK(sb.eval_result("import sys\n'numpy' in sys.modules") == "false");
}
