// isola.hpp compiles on its own under strict warnings, its owners have the
// intended value semantics, and the header matches the linked library.
#include <isola.hpp>
#include <isola.hpp>  // include guard

#include <cstdio>
#include <cstring>
#include <type_traits>

template <typename T>
constexpr bool move_only_v = !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T> &&
                             std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>;

static_assert(move_only_v<isola::Template>);
static_assert(move_only_v<isola::Sandbox>);
static_assert(move_only_v<isola::Stream>);
static_assert(move_only_v<isola::Args>);
static_assert(move_only_v<isola::SandboxOptions>);
static_assert(move_only_v<isola::TemplateOptions>);
static_assert(move_only_v<isola::Reply>);
static_assert(move_only_v<isola::HttpReply>);
static_assert(std::is_base_of_v<std::runtime_error, isola::Error>);
static_assert(std::has_virtual_destructor_v<isola::Sink>);
static_assert(std::has_virtual_destructor_v<isola::Host>);

int main() {
  char expected[32];
  std::snprintf(expected, sizeof expected, "%d.%d.%d", ISOLA_VERSION_MAJOR, ISOLA_VERSION_MINOR,
                ISOLA_VERSION_PATCH);
  if (std::strcmp(isola::version(), expected) != 0) {
    std::fprintf(stderr, "header %s, library %s\n", expected, isola::version());
    return 1;
  }
  if (std::strcmp(isola::code_name(isola::ErrorCode::Timeout), "TIMEOUT") != 0) {
    return 1;
  }
  return 0;
}
