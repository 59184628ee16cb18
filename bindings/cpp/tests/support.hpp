// Shared helpers of the C++ binding tests.
#ifndef ISOLA_CPP_TEST_SUPPORT_HPP
#define ISOLA_CPP_TEST_SUPPORT_HPP

#include <isola.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace test {

// One template per test process (each CTest case is its own process).
inline const isola::Template &tpl() {
  static const isola::Template t = isola::Template::create();
  return t;
}

// Records every output event as "kind:payload", in arrival order.
class EventSink : public isola::Sink {
 public:
  std::vector<std::string> events;
  void on_item(std::string_view v) override { events.push_back("item:" + std::string(v)); }
  void on_result(std::string_view v) override { events.push_back("result:" + std::string(v)); }
  void on_stdout(std::string_view t) override { events.push_back("out:" + std::string(t)); }
  void on_stderr(std::string_view t) override { events.push_back("err:" + std::string(t)); }
  void on_log(unsigned level, std::string_view logger, std::string_view message) override {
    events.push_back("log:" + std::to_string(level) + ":" + std::string(logger) + ":" + std::string(message));
  }
};

inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Run `f`, expecting an isola::Error; return it.
template <typename F>
isola::Error expect_error(F &&f) {
  try {
    f();
  } catch (const isola::Error &e) {
    return e;
  }
  throw std::runtime_error("expected an isola::Error, nothing was thrown");
}

}  // namespace test

#endif
