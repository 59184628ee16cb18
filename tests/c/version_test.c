/* isola_version() agrees with the header macros. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static void version_matches_header_macros(void) {
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", ISOLA_VERSION_MAJOR, ISOLA_VERSION_MINOR,
           ISOLA_VERSION_PATCH);
  CHECK_STR_EQ(isola_version(), expected);
}

static void version_is_static_storage(void) {
  /* Same pointer every time: static, never freed by the caller. */
  CHECK(isola_version() == isola_version());
}

static const struct test_case cases[] = {
    TEST_CASE(version_matches_header_macros),
    TEST_CASE(version_is_static_storage),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
