/* Process-wide capacity: pool size and memory ceiling set through the API
 * before the first template, a distinct RESOURCE_EXHAUSTED when every
 * sandbox place is taken, and the live count. */
#include <stdio.h>

#include "test_support.h"

static isola_capacity_t capacity(void) {
  isola_capacity_t cap = {0, 0, 0};
  CHECK_OK(isola_capacity(&cap));
  return cap;
}

static void a_full_pool_is_resource_exhausted_until_a_sandbox_is_freed(void) {
  CHECK_OK(isola_configure_engine(3, 256u * 1024 * 1024));
  isola_template_t *tpl = new_template();
  isola_capacity_t cap = capacity();
  CHECK(cap.max_sandboxes == 3);
  CHECK(cap.max_memory_per_sandbox == 256u * 1024 * 1024);
  CHECK(cap.live_sandboxes == 0);
  isola_sandbox_t *sandboxes[3];
  for (int i = 0; i < 3; i++) {
    sandboxes[i] = new_sandbox(tpl, NULL);
  }
  CHECK(capacity().live_sandboxes == 3);
  isola_sandbox_t *extra = NULL;
  isola_error_t *err =
      EXPECT_ERROR(isola_sandbox_new(tpl, NULL, &extra), ISOLA_ERROR_RESOURCE_EXHAUSTED);
  CHECK(extra == NULL);
  CHECK_CONTAINS(isola_error_message(err), "all 3 sandbox places");
  CHECK_STR_EQ(isola_error_code_name(isola_error_code(err)), "RESOURCE_EXHAUSTED");
  isola_error_free(err);
  isola_sandbox_free(sandboxes[1]);
  CHECK(capacity().live_sandboxes == 2);
  sandboxes[1] = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandboxes[1], "x = 1", NULL));
  for (int i = 0; i < 3; i++) {
    isola_sandbox_free(sandboxes[i]);
  }
  CHECK(capacity().live_sandboxes == 0);
  isola_template_free(tpl);
}

static void the_memory_ceiling_caps_every_sandbox(void) {
  CHECK_OK(isola_configure_engine(0, 128u * 1024 * 1024));
  setup(NULL);
  isola_error_t *err = isola_sandbox_eval(sandbox, "x = bytearray(512 * 1024 * 1024)", NULL);
  CHECK(err != NULL);
  CHECK_CONTAINS(isola_error_message(err), "MemoryError");
  isola_error_free(err);
  teardown();
}

static void configuration_is_checked_and_fixed_once_the_engine_runs(void) {
  CHECK_ERROR(isola_configure_engine(0, 1024), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_configure_engine(0, 8ull << 30), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_OK(isola_configure_engine(10, 0)); /* replaced by the next call */
  CHECK_OK(isola_configure_engine(20, 0));
  CHECK(capacity().max_sandboxes == 20);
  isola_template_t *tpl = new_template();
  CHECK_ERROR(isola_configure_engine(5, 0), ISOLA_ERROR_INVALID_STATE);
  CHECK(capacity().max_sandboxes == 20);
  CHECK_ERROR(isola_capacity(NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  isola_template_free(tpl);
}

int main(int argc, char **argv) {
  static const struct test_case cases[] = {
      TEST_CASE(a_full_pool_is_resource_exhausted_until_a_sandbox_is_freed),
      TEST_CASE(the_memory_ceiling_caps_every_sandbox),
      TEST_CASE(configuration_is_checked_and_fixed_once_the_engine_runs),
  };
  return RUN_TESTS(argc, argv, cases);
}
