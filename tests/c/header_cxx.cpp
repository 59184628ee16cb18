// isola.h must compile as C++17 (-Wall -Wextra -Werror -pedantic), with C
// linkage for every function, and agree with the library it is linked to.
#include <isola.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

static_assert(std::is_same<decltype(&isola_error_free), void (*)(isola_error_t *)>::value,
              "isola_error_free keeps its signature");
static_assert(sizeof(isola_sink_t) >= sizeof(void *) + 5 * sizeof(void (*)()),
              "the sink holds user_data and five callbacks");

namespace {
// The usual C++ wrapper: an owning pointer with the matching free function.
struct ErrorFree {
  void operator()(isola_error_t *e) const { isola_error_free(e); }
};
using Error = std::unique_ptr<isola_error_t, ErrorFree>;
}  // namespace

int main() {
  const std::string expected = std::to_string(ISOLA_VERSION_MAJOR) + "." +
                               std::to_string(ISOLA_VERSION_MINOR) + "." +
                               std::to_string(ISOLA_VERSION_PATCH);
  if (expected != isola_version()) {
    std::fprintf(stderr, "header %s, library %s\n", expected.c_str(), isola_version());
    return 1;
  }
  Error err(isola_sandbox_cancel(nullptr));
  if (!err || isola_error_code(err.get()) != ISOLA_ERROR_INVALID_ARGUMENT) {
    std::fprintf(stderr, "cancel(nullptr) did not fail with INVALID_ARGUMENT\n");
    return 1;
  }
  std::printf("C++17 header check ok: isola %s\n", isola_version());
  return 0;
}
