/* isola_sandbox_options_t and isola_template_options_t setters: what they
 * accept and what they reject before any sandbox exists. */
/* mkdtemp, setenv */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_support.h"

#define INVALID ISOLA_ERROR_INVALID_ARGUMENT

static void new_options_are_distinct_objects(void) {
  isola_sandbox_options_t *a = isola_sandbox_options_new();
  isola_sandbox_options_t *b = isola_sandbox_options_new();
  CHECK(a != NULL && b != NULL && a != b);
  isola_sandbox_options_free(a);
  isola_sandbox_options_free(b);
}

static void add_mount_accepts_both_modes(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_add_mount(opts, "/tmp", "/ro", ISOLA_MOUNT_READ_ONLY));
  CHECK_OK(isola_sandbox_options_add_mount(opts, "/tmp", "/rw", ISOLA_MOUNT_READ_WRITE));
  /* The same guest path again replaces the mount. */
  CHECK_OK(isola_sandbox_options_add_mount(opts, "/tmp", "/rw", ISOLA_MOUNT_READ_ONLY));
  isola_sandbox_options_free(opts);
}

static void add_mount_rejects_unknown_mode(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_options_add_mount(opts, "/tmp", "/data", 2), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "mode");
  isola_error_free(err);
  CHECK_ERROR(isola_sandbox_options_add_mount(opts, "/tmp", "/data", UINT32_MAX), INVALID);
  isola_sandbox_options_free(opts);
}

static void add_mount_rejects_relative_guest_path(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  isola_error_t *err = EXPECT_ERROR(
      isola_sandbox_options_add_mount(opts, "/tmp", "data", ISOLA_MOUNT_READ_ONLY), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "absolute");
  isola_error_free(err);
  CHECK_ERROR(isola_sandbox_options_add_mount(opts, "/tmp", "", ISOLA_MOUNT_READ_ONLY), INVALID);
  CHECK_ERROR(isola_sandbox_options_add_mount(opts, "/tmp", "./data", ISOLA_MOUNT_READ_ONLY),
              INVALID);
  isola_sandbox_options_free(opts);
}

static void add_mount_rejects_invalid_utf8(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_ERROR(isola_sandbox_options_add_mount(opts, "/tmp/\xff", "/data", ISOLA_MOUNT_READ_ONLY),
              INVALID);
  CHECK_ERROR(isola_sandbox_options_add_mount(opts, "/tmp", "/d\xc3", ISOLA_MOUNT_READ_ONLY),
              INVALID);
  isola_sandbox_options_free(opts);
}

static void max_memory_rejects_zero(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_options_set_max_memory(opts, 0), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "memory");
  isola_error_free(err);
  CHECK_OK(isola_sandbox_options_set_max_memory(opts, 64u << 20));
  isola_sandbox_options_free(opts);
}

static void output_caps_reject_zero(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_ERROR(isola_sandbox_options_set_max_value_bytes(opts, 0), INVALID);
  CHECK_ERROR(isola_sandbox_options_set_max_output_bytes(opts, 0), INVALID);
  CHECK_OK(isola_sandbox_options_set_max_value_bytes(opts, 1));
  CHECK_OK(isola_sandbox_options_set_max_output_bytes(opts, 1));
  isola_sandbox_options_free(opts);
}

static void timeout_zero_means_no_limit_and_is_accepted(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_timeout_ms(opts, 0));
  CHECK_OK(isola_sandbox_options_set_timeout_ms(opts, 1));
  CHECK_OK(isola_sandbox_options_set_timeout_ms(opts, UINT64_MAX));
  isola_sandbox_options_free(opts);
}

static void env_rejects_key_with_equals_sign(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_options_set_env(opts, "A=B", "v"), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "A=B");
  isola_error_free(err);
  isola_sandbox_options_free(opts);
}

static void env_rejects_empty_key(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_ERROR(isola_sandbox_options_set_env(opts, "", "v"), INVALID);
  isola_sandbox_options_free(opts);
}

static void env_accepts_empty_value_and_replacement(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_env(opts, "KEY", ""));
  CHECK_OK(isola_sandbox_options_set_env(opts, "KEY", "value = with equals"));
  CHECK_ERROR(isola_sandbox_options_set_env(opts, "KEY", "\xff"), INVALID);
  isola_sandbox_options_free(opts);
}

static void template_options_defaults_are_borrowed(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK(opts != NULL);
  isola_sandbox_options_t *defaults = isola_template_options_defaults(opts);
  CHECK(defaults != NULL);
  CHECK(isola_template_options_defaults(opts) == defaults);
  CHECK_OK(isola_sandbox_options_set_timeout_ms(defaults, 1000));
  CHECK_ERROR(isola_sandbox_options_set_max_memory(defaults, 0), INVALID);
  /* Freeing the borrowed defaults by mistake does nothing (no invalid
   * free under ASan): they stay usable and belong to `opts`. */
  isola_sandbox_options_free(defaults);
  CHECK(isola_template_options_defaults(opts) == defaults);
  CHECK_OK(isola_sandbox_options_set_timeout_ms(defaults, 2000));
  /* Freeing the template options frees the defaults too (no double free
   * under valgrind/ASan). */
  isola_template_options_free(opts);
}

static void template_option_setters_accept_null_to_reset(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_runtime_path(opts, "/nonexistent/runtime.wasm"));
  CHECK_OK(isola_template_options_set_runtime_path(opts, NULL));
  CHECK_OK(isola_template_options_set_cache_dir(opts, "/tmp/isola-cache"));
  CHECK_OK(isola_template_options_set_cache_dir(opts, NULL));
  CHECK_OK(isola_template_options_set_prelude(opts, "x = 1"));
  CHECK_OK(isola_template_options_set_prelude(opts, NULL));
  isola_template_options_free(opts);
}

static void template_option_strings_must_be_utf8(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_ERROR(isola_template_options_set_prelude(opts, "x = '\xff'"), INVALID);
  CHECK_ERROR(isola_template_options_set_runtime_path(opts, "/r\xfe.wasm"), INVALID);
  CHECK_ERROR(isola_template_options_set_cache_dir(opts, "/c\xfe"), INVALID);
  isola_template_options_free(opts);
}

static void runtime_name_is_looked_up_in_the_runtime_dir(void) {
  isola_template_options_t *opts = isola_template_options_new();
  char dir[] = "/tmp/isola-runtime-dir-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char file[sizeof dir + 64];
  snprintf(file, sizeof file, "%s/isola-python-sci.wasm", dir);
  FILE *f = fopen(file, "w");
  CHECK(f != NULL);
  fclose(f);
  CHECK(setenv("ISOLA_RUNTIME_DIR", dir, 1) == 0);
  /* Found by name in $ISOLA_RUNTIME_DIR (only the lookup happens here: the
   * component is read by isola_template_new). */
  CHECK_OK(isola_template_options_set_runtime_name(opts, "sci"));
  /* A missing runtime names the file and where it looked. */
  isola_error_t *err = EXPECT_ERROR(isola_template_options_set_runtime_name(opts, "nope"), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "isola-python-nope.wasm");
  CHECK_CONTAINS(isola_error_message(err), dir);
  isola_error_free(err);
  /* Names are names, not paths. */
  CHECK_ERROR(isola_template_options_set_runtime_name(opts, "../sci"), INVALID);
  CHECK_ERROR(isola_template_options_set_runtime_name(opts, ""), INVALID);
  CHECK_ERROR(isola_template_options_set_runtime_name(opts, NULL), INVALID);
  CHECK(unsetenv("ISOLA_RUNTIME_DIR") == 0);
  remove(file);
  rmdir(dir);
  isola_template_options_free(opts);
}

static const struct test_case cases[] = {
    TEST_CASE(new_options_are_distinct_objects),
    TEST_CASE(runtime_name_is_looked_up_in_the_runtime_dir),
    TEST_CASE(add_mount_accepts_both_modes),
    TEST_CASE(add_mount_rejects_unknown_mode),
    TEST_CASE(add_mount_rejects_relative_guest_path),
    TEST_CASE(add_mount_rejects_invalid_utf8),
    TEST_CASE(max_memory_rejects_zero),
    TEST_CASE(output_caps_reject_zero),
    TEST_CASE(timeout_zero_means_no_limit_and_is_accepted),
    TEST_CASE(env_rejects_key_with_equals_sign),
    TEST_CASE(env_rejects_empty_key),
    TEST_CASE(env_accepts_empty_value_and_replacement),
    TEST_CASE(template_options_defaults_are_borrowed),
    TEST_CASE(template_option_setters_accept_null_to_reset),
    TEST_CASE(template_option_strings_must_be_utf8),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
