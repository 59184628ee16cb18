/* isola_args_t and isola_sandbox_call: building argument lists from JSON
 * and CBOR, the positional-before-keyword rule, and validation. */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define INVALID ISOLA_ERROR_INVALID_ARGUMENT

static const char CODE[] = "def f(*args, **kwargs):\n    return [list(args), kwargs]\n";

/* Call f with `args` and return the JSON result (malloc'd). */
static char *call_f(isola_args_t *args) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandbox, CODE, NULL));
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call(sandbox, "f", args, &sink));
  CHECK(cap.result_count == 1);
  char *result = malloc(cap.result.len + 1);
  CHECK(result != NULL);
  memcpy(result, buffer_str(&cap.result), cap.result.len + 1);
  capture_free(&cap);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
  return result;
}

static void json_and_cbor_arguments_mix(void) {
  isola_args_t *args = isola_args_new();
  const uint8_t cbor_text[] = {0x62, 'h', 'i'}; /* "hi" */
  CHECK_OK(isola_args_add_json(args, NULL, "[1, 2]"));
  CHECK_OK(isola_args_add_cbor(args, NULL, cbor_text, sizeof cbor_text));
  CHECK_OK(isola_args_add_json(args, "flag", "true"));
  char *result = call_f(args);
  CHECK_STR_EQ(result, "[[[1,2],\"hi\"],{\"flag\":true}]");
  free(result);
  isola_args_free(args);
}

static void json_lists_expand_into_arguments(void) {
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_json_lists(args, "[1, \"two\"]", "{\"k\": null}"));
  char *result = call_f(args);
  CHECK_STR_EQ(result, "[[1,\"two\"],{\"k\":null}]");
  free(result);
  isola_args_free(args);
}

static void null_args_means_no_arguments(void) {
  char *result = call_f(NULL);
  CHECK_STR_EQ(result, "[[],{}]");
  free(result);
}

static void invalid_json_lists_append_nothing(void) {
  isola_args_t *args = isola_args_new();
  CHECK_ERROR(isola_args_add_json_lists(args, "[1, 2]", "{\"k\": }"), INVALID);
  CHECK_ERROR(isola_args_add_json_lists(args, "{}", NULL), INVALID);
  CHECK_ERROR(isola_args_add_json_lists(args, NULL, "[]"), INVALID);
  /* The valid array of the first attempt was not kept. */
  char *result = call_f(args);
  CHECK_STR_EQ(result, "[[],{}]");
  free(result);
  isola_args_free(args);
}

static void malformed_values_are_invalid_argument(void) {
  isola_args_t *args = isola_args_new();
  const uint8_t truncated[] = {0x82, 0x01};
  CHECK_ERROR(isola_args_add_json(args, NULL, "[1,"), INVALID);
  CHECK_ERROR(isola_args_add_json(args, NULL, ""), INVALID);
  CHECK_ERROR(isola_args_add_cbor(args, NULL, truncated, sizeof truncated), INVALID);
  CHECK_ERROR(isola_args_add_json(args, "bad\xff", "1"), INVALID);
  isola_args_free(args);
}

static void positional_after_keyword_is_rejected(void) {
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_json(args, "k", "1"));
  isola_error_t *err = isola_args_add_json(args, NULL, "2");
  if (err == NULL) {
    /* Accepted when added: the call must refuse it. */
    isola_template_t *tpl = new_template();
    isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
    CHECK_OK(isola_sandbox_eval(sandbox, CODE, NULL));
    err = isola_sandbox_call(sandbox, "f", args, NULL);
    isola_sandbox_free(sandbox);
    isola_template_free(tpl);
  }
  CHECK(err != NULL);
  CHECK(isola_error_code(err) == INVALID);
  isola_error_free(err);
  isola_args_free(args);
}

static const struct test_case cases[] = {
    TEST_CASE(json_and_cbor_arguments_mix),
    TEST_CASE(json_lists_expand_into_arguments),
    TEST_CASE(null_args_means_no_arguments),
    TEST_CASE(invalid_json_lists_append_nothing),
    TEST_CASE(malformed_values_are_invalid_argument),
    TEST_CASE(positional_after_keyword_is_rejected),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
