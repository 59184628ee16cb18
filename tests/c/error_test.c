/* isola_error_t and the NULL-argument contract of every function. */
#include <string.h>

#include "test_support.h"

#define INVALID ISOLA_ERROR_INVALID_ARGUMENT

static void null_error_accessors_are_safe(void) {
  CHECK(isola_error_code(NULL) == INVALID);
  const char *message = isola_error_message(NULL);
  CHECK(message != NULL);
  CHECK(message[0] != '\0');
  CHECK_STR_EQ(isola_error_guest_type(NULL), "");
  isola_error_free(NULL);
}

static void code_names_are_stable(void) {
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_INVALID_ARGUMENT), "INVALID_ARGUMENT");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_INVALID_STATE), "INVALID_STATE");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_GUEST_EXCEPTION), "GUEST_EXCEPTION");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_TIMEOUT), "TIMEOUT");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_CANCELLED), "CANCELLED");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_MEMORY_LIMIT), "MEMORY_LIMIT");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_OUTPUT_LIMIT), "OUTPUT_LIMIT");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_IO), "IO");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_TRAP), "TRAP");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_INTERNAL), "INTERNAL");
  CHECK_STR_EQ(isola_error_code_name(ISOLA_ERROR_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
}

static void code_values_are_stable(void) {
  /* The numeric values are ABI: they must never change. */
  CHECK(ISOLA_ERROR_INVALID_ARGUMENT == 1);
  CHECK(ISOLA_ERROR_INVALID_STATE == 2);
  CHECK(ISOLA_ERROR_GUEST_EXCEPTION == 3);
  CHECK(ISOLA_ERROR_TIMEOUT == 4);
  CHECK(ISOLA_ERROR_CANCELLED == 5);
  CHECK(ISOLA_ERROR_MEMORY_LIMIT == 6);
  CHECK(ISOLA_ERROR_OUTPUT_LIMIT == 7);
  CHECK(ISOLA_ERROR_IO == 8);
  CHECK(ISOLA_ERROR_TRAP == 9);
  CHECK(ISOLA_ERROR_INTERNAL == 10);
  CHECK(ISOLA_ERROR_RESOURCE_EXHAUSTED == 11);
}

static void unknown_code_name_is_unknown(void) {
  CHECK_STR_EQ(isola_error_code_name(0), "UNKNOWN");
  CHECK_STR_EQ(isola_error_code_name(12), "UNKNOWN");
  CHECK_STR_EQ(isola_error_code_name(UINT32_MAX), "UNKNOWN");
}

static void error_message_names_the_null_argument(void) {
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_cancel(NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "sandbox");
  CHECK_STR_EQ(isola_error_guest_type(err), "");
  isola_error_free(err);
}

static void free_functions_accept_null(void) {
  isola_error_free(NULL);
  isola_args_free(NULL);
  isola_stream_free(NULL);
  isola_sandbox_options_free(NULL);
  isola_template_options_free(NULL);
  isola_sandbox_free(NULL);
  isola_template_free(NULL);
}

static void null_options_are_rejected(void) {
  CHECK_ERROR(isola_sandbox_options_set_max_memory(NULL, 1 << 20), INVALID);
  CHECK_ERROR(isola_sandbox_options_set_timeout_ms(NULL, 100), INVALID);
  CHECK_ERROR(isola_sandbox_options_set_max_value_bytes(NULL, 1024), INVALID);
  CHECK_ERROR(isola_sandbox_options_set_max_output_bytes(NULL, 1024), INVALID);
  CHECK_ERROR(isola_sandbox_options_add_mount(NULL, "/tmp", "/data", ISOLA_MOUNT_READ_ONLY),
              INVALID);
  CHECK_ERROR(isola_sandbox_options_set_env(NULL, "K", "V"), INVALID);
  CHECK_ERROR(isola_template_options_set_runtime_path(NULL, "/x.wasm"), INVALID);
  CHECK_ERROR(isola_template_options_set_cache_dir(NULL, "/tmp"), INVALID);
  CHECK_ERROR(isola_template_options_set_prelude(NULL, "x = 1"), INVALID);
  CHECK_ERROR(isola_template_options_set_prelude_snapshot(NULL, true), INVALID);
  CHECK(isola_template_options_defaults(NULL) == NULL);
}

static void null_string_arguments_of_options_are_rejected(void) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK(opts != NULL);
  CHECK_ERROR(isola_sandbox_options_add_mount(opts, NULL, "/data", ISOLA_MOUNT_READ_ONLY),
              INVALID);
  CHECK_ERROR(isola_sandbox_options_add_mount(opts, "/tmp", NULL, ISOLA_MOUNT_READ_ONLY),
              INVALID);
  CHECK_ERROR(isola_sandbox_options_set_env(opts, NULL, "V"), INVALID);
  CHECK_ERROR(isola_sandbox_options_set_env(opts, "K", NULL), INVALID);
  isola_sandbox_options_free(opts);
}

static void null_template_is_rejected(void) {
  isola_sandbox_t *sandbox = (isola_sandbox_t *)&sandbox; /* must stay untouched */
  CHECK_ERROR(isola_sandbox_new(NULL, NULL, &sandbox), INVALID);
  CHECK(sandbox == (isola_sandbox_t *)&sandbox);
}

static void null_out_pointers_are_rejected(void) {
  CHECK_ERROR(isola_template_new(NULL, NULL), INVALID);
  isola_template_t *tpl = new_template();
  CHECK_ERROR(isola_sandbox_new(tpl, NULL, NULL), INVALID);
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_ERROR(isola_sandbox_memory_usage(sandbox, NULL), INVALID);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void null_sandbox_is_rejected(void) {
  uint64_t usage = 0;
  uint8_t cbor_args[] = {0x80};
  CHECK_ERROR(isola_sandbox_eval(NULL, "1", NULL), INVALID);
  CHECK_ERROR(isola_sandbox_eval_file(NULL, "/x.py", NULL), INVALID);
  CHECK_ERROR(isola_sandbox_eval_named(NULL, "1", "x.py", NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_json(NULL, "f", "[]", NULL, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_cbor(NULL, "f", cbor_args, sizeof cbor_args, NULL, 0, NULL),
              INVALID);
  CHECK_ERROR(isola_sandbox_cancel(NULL), INVALID);
  CHECK_ERROR(isola_sandbox_set_timeout_ms(NULL, 100), INVALID);
  CHECK_ERROR(isola_sandbox_memory_usage(NULL, &usage), INVALID);
}

static void null_string_arguments_of_calls_are_rejected(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandbox, "def f(*a, **k):\n    return 1\n", NULL));
  CHECK_ERROR(isola_sandbox_eval(sandbox, NULL, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_eval_file(sandbox, NULL, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_eval_named(sandbox, NULL, "x.py", NULL), INVALID);
  CHECK_ERROR(isola_sandbox_eval_named(sandbox, "1", NULL, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_json(sandbox, NULL, "[]", NULL, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_cbor(sandbox, NULL, NULL, 0, NULL, 0, NULL), INVALID);
  /* A NULL buffer with a non-zero length. */
  CHECK_ERROR(isola_sandbox_call_cbor(sandbox, "f", NULL, 3, NULL, 0, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_cbor(sandbox, "f", NULL, 0, NULL, 5, NULL), INVALID);
  /* NULL args/kwargs mean "none": these succeed. */
  CHECK_OK(isola_sandbox_call_json(sandbox, "f", NULL, NULL, NULL));
  CHECK_OK(isola_sandbox_call_cbor(sandbox, "f", NULL, 0, NULL, 0, NULL));
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void null_args_list_is_rejected(void) {
  const uint8_t cbor_one[] = {0x01};
  CHECK_ERROR(isola_args_add_json(NULL, NULL, "1"), INVALID);
  CHECK_ERROR(isola_args_add_cbor(NULL, NULL, cbor_one, sizeof cbor_one), INVALID);
  CHECK_ERROR(isola_args_add_json_lists(NULL, "[1]", NULL), INVALID);
  isola_stream_t *stream = NULL;
  CHECK_OK(isola_stream_new(1, &stream));
  CHECK_ERROR(isola_args_add_stream(NULL, NULL, stream), INVALID);
  isola_args_t *args = isola_args_new();
  CHECK(args != NULL);
  CHECK_ERROR(isola_args_add_stream(args, NULL, NULL), INVALID);
  CHECK_ERROR(isola_args_add_json(args, NULL, NULL), INVALID);
  CHECK_ERROR(isola_args_add_cbor(args, NULL, NULL, 1), INVALID);
  isola_args_free(args);
  isola_stream_free(stream);
}

static void null_stream_is_rejected(void) {
  const uint8_t cbor_one[] = {0x01};
  CHECK_ERROR(isola_stream_new(4, NULL), INVALID);
  CHECK_ERROR(isola_stream_push_json(NULL, "1"), INVALID);
  CHECK_ERROR(isola_stream_push_cbor(NULL, cbor_one, sizeof cbor_one), INVALID);
  CHECK_ERROR(isola_stream_close(NULL), INVALID);
}

static void null_replies_are_rejected(void) {
  const uint8_t cbor_one[] = {0x01};
  CHECK_ERROR(isola_reply_ok_json(NULL, "1"), INVALID);
  CHECK_ERROR(isola_reply_ok_cbor(NULL, cbor_one, sizeof cbor_one), INVALID);
  CHECK_ERROR(isola_reply_error(NULL, "no"), INVALID);
  CHECK_ERROR(isola_http_reply_ok(NULL, 200, NULL, 0, NULL, 0), INVALID);
  CHECK_ERROR(isola_http_reply_error(NULL, "no"), INVALID);
}

static void null_host_is_rejected(void) {
  isola_host_t host;
  memset(&host, 0, sizeof host);
  host.struct_size = sizeof host;
  host.format = ISOLA_FORMAT_JSON;
  CHECK_ERROR(isola_sandbox_options_set_host(NULL, &host), INVALID);
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_ERROR(isola_sandbox_options_set_host(opts, NULL), INVALID);
  isola_sandbox_options_free(opts);
}

static void null_sandbox_call_is_rejected(void) {
  isola_args_t *args = isola_args_new();
  CHECK_ERROR(isola_sandbox_call(NULL, "f", args, NULL), INVALID);
  isola_args_free(args);
  CHECK_ERROR(isola_sandbox_call(NULL, "f", NULL, NULL), INVALID);
}

/* The code names the kind; the message is the detail, not "invalid
 * argument: ..." again. */
static void messages_do_not_repeat_the_code(void) {
  isola_template_options_t *options = isola_template_options_new();
  isola_error_t *err = EXPECT_ERROR(isola_template_options_set_runtime_name(options, "../x"), INVALID);
  CHECK(strncmp(isola_error_message(err), "runtime name", 12) == 0);
  isola_error_free(err);
  CHECK_OK(isola_template_options_set_runtime_path(options, "/nonexistent/runtime.wasm"));
  isola_template_t *template_ = NULL;
  err = EXPECT_ERROR(isola_template_new(options, &template_), ISOLA_ERROR_IO);
  CHECK(strncmp(isola_error_message(err), "reading runtime /nonexistent/runtime.wasm", 41) == 0);
  isola_error_free(err);
  isola_template_options_free(options);
}

static void errors_are_independent_objects(void) {
  /* No thread-local "last error": two errors coexist with their own text. */
  isola_error_t *first = EXPECT_ERROR(isola_sandbox_cancel(NULL), INVALID);
  isola_error_t *second = EXPECT_ERROR(isola_template_options_set_prelude(NULL, "x"), INVALID);
  CHECK(first != second);
  CHECK_CONTAINS(isola_error_message(first), "sandbox");
  CHECK_CONTAINS(isola_error_message(second), "options");
  isola_error_free(second);
  CHECK_CONTAINS(isola_error_message(first), "sandbox");
  isola_error_free(first);
}

static const struct test_case cases[] = {
    TEST_CASE(null_error_accessors_are_safe),
    TEST_CASE(code_names_are_stable),
    TEST_CASE(code_values_are_stable),
    TEST_CASE(unknown_code_name_is_unknown),
    TEST_CASE(error_message_names_the_null_argument),
    TEST_CASE(free_functions_accept_null),
    TEST_CASE(null_options_are_rejected),
    TEST_CASE(null_string_arguments_of_options_are_rejected),
    TEST_CASE(null_template_is_rejected),
    TEST_CASE(null_out_pointers_are_rejected),
    TEST_CASE(null_sandbox_is_rejected),
    TEST_CASE(null_string_arguments_of_calls_are_rejected),
    TEST_CASE(null_args_list_is_rejected),
    TEST_CASE(null_stream_is_rejected),
    TEST_CASE(null_replies_are_rejected),
    TEST_CASE(null_host_is_rejected),
    TEST_CASE(null_sandbox_call_is_rejected),
    TEST_CASE(messages_do_not_repeat_the_code),
    TEST_CASE(errors_are_independent_objects),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
