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

/* `err` is INVALID_ARGUMENT and its message contains `needle`; frees it. */
#define CHECK_INVALID_SAYING(expr, needle)                    \
  do {                                                        \
    isola_error_t *err_ = EXPECT_ERROR(expr, INVALID);        \
    CHECK_CONTAINS(isola_error_message(err_), needle);        \
    isola_error_free(err_);                                   \
  } while (0)

/* A positional argument after a keyword one, or a keyword given twice, is
 * refused when it is added, appending nothing: the list keeps what it had,
 * and a call with it passes exactly that (the call used to take the list
 * and only the guest refused it, so a retry called f() with nothing). */
static void out_of_order_arguments_are_refused_when_added(void) {
  isola_args_t *args = isola_args_new();
  const uint8_t two[] = {0x02};
  CHECK_OK(isola_args_add_json(args, NULL, "0"));
  CHECK_OK(isola_args_add_json(args, "k", "1"));
  CHECK_INVALID_SAYING(isola_args_add_json(args, NULL, "2"), "positional argument 2 follows keyword");
  CHECK_ERROR(isola_args_add_cbor(args, NULL, two, sizeof two), INVALID);
  CHECK_INVALID_SAYING(isola_args_add_json(args, "k", "3"), "'k' given more than once");
  CHECK_ERROR(isola_args_add_json_lists(args, "[4]", NULL), INVALID);
  CHECK_ERROR(isola_args_add_json_lists(args, NULL, "{\"j\": 5, \"k\": 6}"), INVALID);
  isola_stream_t *stream = NULL;
  CHECK_OK(isola_stream_new(1, &stream));
  CHECK_ERROR(isola_args_add_stream(args, NULL, stream), INVALID);
  CHECK_ERROR(isola_args_add_stream(args, "k", stream), INVALID);
  /* The refused stream was not attached: another list may take it. */
  isola_args_t *other = isola_args_new();
  CHECK_OK(isola_args_add_stream(other, NULL, stream));
  isola_args_free(other);
  isola_stream_free(stream);
  CHECK_OK(isola_args_add_json(args, "j", "7"));
  char *result = call_f(args);
  CHECK_STR_EQ(result, "[[0],{\"k\":1,\"j\":7}]");
  free(result);
  isola_args_free(args);
}

static const struct test_case cases[] = {
    TEST_CASE(json_and_cbor_arguments_mix),
    TEST_CASE(json_lists_expand_into_arguments),
    TEST_CASE(null_args_means_no_arguments),
    TEST_CASE(invalid_json_lists_append_nothing),
    TEST_CASE(malformed_values_are_invalid_argument),
    TEST_CASE(out_of_order_arguments_are_refused_when_added),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
