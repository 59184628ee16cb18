/* isola_sandbox_t: eval, calls with JSON and CBOR arguments, argument
 * validation, guest exceptions, isolation, memory usage. */
#define _XOPEN_SOURCE 700

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define INVALID ISOLA_ERROR_INVALID_ARGUMENT


/* The sandbox still answers a simple call. */
static void check_still_usable(void) {
  CHECK_OK(isola_sandbox_eval(sandbox, "def _alive():\n    return 'alive'\n", NULL));
  char *result = call_json_result(sandbox, "_alive", NULL);
  CHECK_STR_EQ(result, "\"alive\"");
  free(result);
}

static void eval_defines_functions_for_later_calls(void) {
  setup("def add(a, b):\n    return a + b\n");
  char *result = call_json_result(sandbox, "add", "[1, 2]");
  CHECK_STR_EQ(result, "3");
  free(result);
  teardown();
}

static void module_state_persists_between_calls(void) {
  setup("count = 0\ndef bump():\n    global count\n    count += 1\n    return count\n");
  for (int i = 1; i <= 3; i++) {
    char *result = call_json_result(sandbox, "bump", NULL);
    CHECK(atoi(result) == i);
    free(result);
  }
  CHECK_OK(isola_sandbox_eval(sandbox, "count = 100", NULL));
  char *result = call_json_result(sandbox, "bump", "[]");
  CHECK_STR_EQ(result, "101");
  free(result);
  teardown();
}

/* A script delivers one result: null without a trailing expression, else
 * that expression's value (its repr when it has no JSON form). */
static void eval_result_is_the_last_expression_or_null(void) {
  setup(NULL);
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sandbox, "x = 1 + 1", &sink));
  CHECK(cap.result_count == 1);
  CHECK_STR_EQ(buffer_str(&cap.result), "null");
  capture_free(&cap);
  sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sandbox, "y = x * 20\n{'answer': y + 2}", &sink));
  CHECK(cap.result_count == 1);
  CHECK_STR_EQ(buffer_str(&cap.result), "{\"answer\":42}");
  capture_free(&cap);
  sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sandbox, "object", &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "\"<class 'object'>\"");
  capture_free(&cap);
  teardown();
}

static void eval_allows_top_level_await(void) {
  setup(NULL);
  CHECK_OK(isola_sandbox_eval(sandbox,
                              "import asyncio\nawait asyncio.sleep(0.01)\nDONE = 'yes'\n"
                              "def done():\n    return DONE\n",
                              NULL));
  char *result = call_json_result(sandbox, "done", NULL);
  CHECK_STR_EQ(result, "\"yes\"");
  free(result);
  teardown();
}

static void async_function_is_awaited(void) {
  setup("import asyncio\nasync def later(x):\n    await asyncio.sleep(0.01)\n    return x * 2\n");
  char *result = call_json_result(sandbox, "later", "[21]");
  CHECK_STR_EQ(result, "42");
  free(result);
  teardown();
}

static void call_json_passes_kwargs(void) {
  setup("def f(a, b=1, *, c=0):\n    return [a, b, c]\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_json(sandbox, "f", "[5]", "{\"c\": 7, \"b\": 6}", &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "[5,6,7]");
  capture_free(&cap);
  /* kwargs alone. */
  sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_json(sandbox, "f", NULL, "{\"a\": \"x\"}", &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "[\"x\",1,0]");
  capture_free(&cap);
  teardown();
}

static void json_values_round_trip(void) {
  setup("def echo(x):\n    return x\n"
        "def typed():\n    return {'i': 2**70, 'neg': -3, 'f': 2.5, 't': True, 'n': None,"
        " 's': 'caf\\u00e9 \\u2713', 'l': [1, [2]], 'b': b'\\x01\\xff'}\n"
        "def nan():\n    return float('nan')\n");
  char *result = call_json_result(sandbox, "echo", "[{\"a\": [1, 2.5, null, true, \"\\u00e9\"]}]");
  CHECK_STR_EQ(result, "{\"a\":[1,2.5,null,true,\"\xc3\xa9\"]}");
  free(result);
  result = call_json_result(sandbox, "typed", NULL);
  /* Full-precision big integers, bytes as numbers, NaN as null, UTF-8. */
  CHECK_CONTAINS(result, "\"i\":1180591620717411303424");
  CHECK_CONTAINS(result, "\"neg\":-3");
  CHECK_CONTAINS(result, "\"f\":2.5");
  CHECK_CONTAINS(result, "\"t\":true");
  CHECK_CONTAINS(result, "\"n\":null");
  CHECK_CONTAINS(result, "\"s\":\"caf\xc3\xa9 \xe2\x9c\x93\"");
  CHECK_CONTAINS(result, "\"l\":[1,[2]]");
  CHECK_CONTAINS(result, "\"b\":[1,255]");
  free(result);
  result = call_json_result(sandbox, "nan", NULL);
  CHECK_STR_EQ(result, "null");
  free(result);
  teardown();
}

/* NaN and infinities have no JSON form: each becomes null where it stands. */
static void nan_inside_container_becomes_null_element(void) {
  setup("def f():\n    return [1, float('nan'), {'inf': float('inf')}, 'x']\n");
  char *result = call_json_result(sandbox, "f", NULL);
  CHECK_STR_EQ(result, "[1,null,{\"inf\":null},\"x\"]");
  free(result);
  teardown();
}

static void big_integer_arguments_keep_precision(void) {
  setup("def twice(x):\n    return x * 2\n");
  char *result = call_json_result(sandbox, "twice", "[123456789012345678901234567890]");
  CHECK_STR_EQ(result, "246913578024691357802469135780");
  free(result);
  teardown();
}

static void call_cbor_passes_args_and_kwargs(void) {
  setup("def f(a, b, c=0):\n    return a + b + c\n");
  const uint8_t args[] = {0x82, 0x02, 0x03};           /* [2, 3] */
  const uint8_t kwargs[] = {0xa1, 0x61, 'c', 0x0a};    /* {"c": 10} */
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_CBOR);
  CHECK_OK(isola_sandbox_call_cbor(sandbox, "f", args, sizeof args, kwargs, sizeof kwargs, &sink));
  CHECK(cap.result_count == 1);
  CHECK(cap.result.len == 1 && (uint8_t)cap.result.data[0] == 0x0f); /* 15 */
  capture_free(&cap);
  /* The same call delivering JSON. */
  sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_cbor(sandbox, "f", args, sizeof args, NULL, 0, &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "5");
  capture_free(&cap);
  teardown();
}

static void call_cbor_result_is_cbor(void) {
  setup("def f():\n    return {'k': 'hi'}\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_CBOR);
  CHECK_OK(isola_sandbox_call_cbor(sandbox, "f", NULL, 0, NULL, 0, &sink));
  const uint8_t expected[] = {0xa1, 0x61, 'k', 0x62, 'h', 'i'};
  CHECK(cap.result.len == sizeof expected);
  CHECK(memcmp(cap.result.data, expected, sizeof expected) == 0);
  capture_free(&cap);
  teardown();
}

static void invalid_json_args_are_invalid_argument(void) {
  setup("def f(*a, **k):\n    return 1\n");
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "f", "[1,", NULL, NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "JSON");
  isola_error_free(err);
  err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "f", NULL, "{\"a\":}", NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "kwargs");
  isola_error_free(err);
  /* Well-formed JSON of the wrong shape. */
  CHECK_ERROR(isola_sandbox_call_json(sandbox, "f", "{\"a\": 1}", NULL, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_json(sandbox, "f", NULL, "[1]", NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_json(sandbox, "f", "[\"\xff\"]", NULL, NULL), INVALID);
  /* Argument errors do not harm the sandbox. */
  check_still_usable();
  teardown();
}

static void invalid_cbor_args_are_invalid_argument(void) {
  setup("def f(*a, **k):\n    return 1\n");
  const uint8_t garbage[] = {0xff, 0x00};
  const uint8_t truncated[] = {0x82, 0x01};     /* array of 2 with one item */
  const uint8_t not_array[] = {0x01};           /* 1 */
  const uint8_t int_key_map[] = {0xa1, 0x01, 0x02}; /* {1: 2} */
  CHECK_ERROR(isola_sandbox_call_cbor(sandbox, "f", garbage, sizeof garbage, NULL, 0, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_cbor(sandbox, "f", truncated, sizeof truncated, NULL, 0, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_cbor(sandbox, "f", not_array, sizeof not_array, NULL, 0, NULL), INVALID);
  CHECK_ERROR(isola_sandbox_call_cbor(sandbox, "f", NULL, 0, int_key_map, sizeof int_key_map, NULL),
              INVALID);
  check_still_usable();
  teardown();
}

static void invalid_utf8_code_is_invalid_argument(void) {
  setup(NULL);
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_eval(sandbox, "x = '\xff\xfe'", NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "UTF-8");
  isola_error_free(err);
  CHECK_ERROR(isola_sandbox_call_json(sandbox, "f\xc3", NULL, NULL, NULL), INVALID);
  check_still_usable();
  teardown();
}

static void unknown_function_is_invalid_argument(void) {
  setup("not_a_function = 5\n");
  isola_error_t *err =
      EXPECT_ERROR(isola_sandbox_call_json(sandbox, "no_such_function", NULL, NULL, NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "no_such_function");
  /* The C API's words, not the WIT export's ("define it with eval-script first"). */
  CHECK_CONTAINS(isola_error_message(err), "defined by an eval");
  CHECK(strstr(isola_error_message(err), "eval-script") == NULL);
  isola_error_free(err);
  /* Built-ins and dotted names are not looked up: the message says so. */
  err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "print", "[1]", NULL, NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "built-ins and dotted names are not looked up");
  isola_error_free(err);
  err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "not_a_function", NULL, NULL, NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "not_a_function");
  isola_error_free(err);
  check_still_usable();
  teardown();
}

static void guest_exception_carries_type_and_traceback(void) {
  setup("def check(x):\n    if x < 0:\n        raise ValueError(f'negative: {x}')\n    return x\n");
  isola_error_t *err =
      EXPECT_ERROR(isola_sandbox_call_json(sandbox, "check", "[-5]", NULL, NULL),
                   ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "ValueError");
  CHECK_CONTAINS(isola_error_message(err), "Traceback");
  CHECK_CONTAINS(isola_error_message(err), "ValueError: negative: -5");
  CHECK_CONTAINS(isola_error_message(err), "check");
  isola_error_free(err);
  /* An exception leaves the sandbox usable. */
  char *result = call_json_result(sandbox, "check", "[5]");
  CHECK_STR_EQ(result, "5");
  free(result);
  teardown();
}

static void system_exit_reports_pythons_exit_status(void) {
  setup("import sys\ndef leave(code):\n    sys.exit(code)\n");
  int32_t status = -7;
  /* No code or 0: success, as a process exiting 0. */
  char *result = call_json_result(sandbox, "leave", "[null]");
  CHECK_STR_EQ(result, "null");
  free(result);
  CHECK_OK(isola_sandbox_eval(sandbox, "sys.exit(0)", NULL));
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "leave", "[300]", NULL, NULL),
                                    ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "SystemExit");
  CHECK(isola_error_exit_status(err, &status));
  CHECK(status == 300);
  CHECK(!isola_error_exit_status(err, NULL));
  isola_error_free(err);
  /* Any other code: status 1 (the guest printed it on stderr). */
  err = EXPECT_ERROR(isola_sandbox_eval(sandbox, "sys.exit('bad usage')", NULL),
                     ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK(isola_error_exit_status(err, &status));
  CHECK(status == 1);
  isola_error_free(err);
  /* Other errors have none and leave the output alone. */
  status = -7;
  err = EXPECT_ERROR(isola_sandbox_eval(sandbox, "raise ValueError(3)", NULL),
                     ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK(!isola_error_exit_status(err, &status));
  isola_error_free(err);
  err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "no_such_function", NULL, NULL, NULL),
                     ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK(!isola_error_exit_status(err, &status));
  isola_error_free(err);
  CHECK(!isola_error_exit_status(NULL, &status));
  CHECK(status == -7);
  check_still_usable();
  teardown();
}

static void os_exit_ends_the_sandbox_with_its_status(void) {
  setup("import os\n");
  int32_t status = -7;
  isola_error_t *err =
      EXPECT_ERROR(isola_sandbox_eval(sandbox, "os._exit(0)", NULL), ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "SystemExit");
  CHECK(isola_error_exit_status(err, &status));
  CHECK(status == 0);
  isola_error_free(err);
  /* The sandbox ended as a process does: it refuses further calls. */
  err = EXPECT_ERROR(isola_sandbox_eval(sandbox, "1", NULL), ISOLA_ERROR_INVALID_STATE);
  isola_error_free(err);
  teardown();
}

static void eval_named_names_the_source_in_tracebacks(void) {
  setup(NULL);
  isola_error_t *err = EXPECT_ERROR(
      isola_sandbox_eval_named(sandbox, "def f():\n    return 1 // 0\nf()\n", "/srv/job.py", NULL),
      ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_CONTAINS(isola_error_message(err), "File \"/srv/job.py\", line 2, in f\n    return 1 // 0");
  isola_error_free(err);
  /* A later unnamed script is numbered as before. */
  err = EXPECT_ERROR(isola_sandbox_eval(sandbox, "1 / 0", NULL), ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_CONTAINS(isola_error_message(err), "File \"<script-1>\", line 1");
  isola_error_free(err);
  /* A filename that is not UTF-8 is refused before anything runs. */
  err = EXPECT_ERROR(isola_sandbox_eval_named(sandbox, "1", "bad\xff.py", NULL), INVALID);
  CHECK_CONTAINS(isola_error_message(err), "UTF-8");
  isola_error_free(err);
  check_still_usable();
  teardown();
}

static void syntax_error_is_guest_exception(void) {
  setup(NULL);
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_eval(sandbox, "def broken(:\n", NULL),
                                    ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "SyntaxError");
  isola_error_free(err);
  check_still_usable();
  teardown();
}

static void custom_exception_type_is_reported(void) {
  setup("class QuotaExceeded(Exception):\n    pass\n"
        "def f():\n    raise QuotaExceeded('too many')\n");
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "f", NULL, NULL, NULL),
                                    ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_CONTAINS(isola_error_guest_type(err), "QuotaExceeded");
  CHECK_CONTAINS(isola_error_message(err), "too many");
  isola_error_free(err);
  teardown();
}

static void memory_usage_is_positive_and_grows(void) {
  setup(NULL);
  uint64_t before = 0, after = 0;
  CHECK_OK(isola_sandbox_memory_usage(sandbox, &before));
  CHECK(before > 0);
  CHECK_OK(isola_sandbox_eval(sandbox, "big = bytearray(64 * 1024 * 1024)", NULL));
  CHECK_OK(isola_sandbox_memory_usage(sandbox, &after));
  CHECK(after >= before + 64u * 1024 * 1024);
  teardown();
}

static void last_call_stats_measure_the_call(void) {
  setup("import sandbox\n"
        "def work(n):\n"
        "    print('x' * n)\n"
        "    try:\n"
        "        sandbox.hostcall_sync('nothing')\n"
        "    except Exception:\n"
        "        pass\n"
        "    data = bytearray(32 * 1024 * 1024)\n"
        "    return len(data)\n");
  isola_call_stats_t stats;
  char *result = call_json_result(sandbox, "work", "[1000]");
  CHECK_STR_EQ(result, "33554432");
  free(result);
  CHECK_OK(isola_sandbox_last_call_stats(sandbox, &stats));
  printf("wall %llu ns, cpu %llu ns, peak %llu B, output %llu B, host calls %u\n",
         (unsigned long long)stats.wall_time_ns, (unsigned long long)stats.cpu_time_ns,
         (unsigned long long)stats.peak_memory_bytes, (unsigned long long)stats.output_bytes,
         stats.host_calls);
  CHECK(stats.wall_time_ns > 0);
  CHECK(stats.cpu_time_ns > 0);
  CHECK(stats.output_bytes >= 1000);
  CHECK(stats.peak_memory_bytes >= 32u * 1024 * 1024);
  CHECK(stats.host_calls == 1);
  uint64_t usage = 0;
  CHECK_OK(isola_sandbox_memory_usage(sandbox, &usage));
  CHECK(usage >= stats.peak_memory_bytes);
  /* A small call afterwards has small figures of its own. */
  CHECK_OK(isola_sandbox_eval(sandbox, "1", NULL));
  CHECK_OK(isola_sandbox_last_call_stats(sandbox, &stats));
  CHECK(stats.host_calls == 0);
  CHECK(stats.output_bytes < 1000);
  CHECK_ERROR(isola_sandbox_last_call_stats(sandbox, NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_last_call_stats(NULL, &stats), ISOLA_ERROR_INVALID_ARGUMENT);
  teardown();
}

static void sandboxes_are_isolated(void) {
  tpl = new_template();
  isola_sandbox_t *a = new_sandbox(tpl, NULL);
  isola_sandbox_t *b = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(a, "secret = 'a'\nimport sys\nsys.shared = 1\n", NULL));
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_eval(b, "secret", NULL), ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "NameError");
  isola_error_free(err);
  CHECK_OK(isola_sandbox_eval(b, "import sys\ndef shared():\n    return hasattr(sys, 'shared')\n", NULL));
  char *result = call_json_result(b, "shared", NULL);
  CHECK_STR_EQ(result, "false");
  free(result);
  isola_sandbox_free(a);
  isola_sandbox_free(b);
  isola_template_free(tpl);
  tpl = NULL;
}

static void set_timeout_ms_zero_removes_limit(void) {
  setup("import time\ndef nap():\n    time.sleep(0.3)\n    return 'rested'\n");
  CHECK_OK(isola_sandbox_set_timeout_ms(sandbox, 100));
  CHECK_OK(isola_sandbox_set_timeout_ms(sandbox, 0));
  char *result = call_json_result(sandbox, "nap", NULL);
  CHECK_STR_EQ(result, "\"rested\"");
  free(result);
  teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(eval_defines_functions_for_later_calls),
    TEST_CASE(system_exit_reports_pythons_exit_status),
    TEST_CASE(os_exit_ends_the_sandbox_with_its_status),
    TEST_CASE(module_state_persists_between_calls),
    TEST_CASE(eval_result_is_the_last_expression_or_null),
    TEST_CASE(eval_allows_top_level_await),
    TEST_CASE(async_function_is_awaited),
    TEST_CASE(call_json_passes_kwargs),
    TEST_CASE(json_values_round_trip),
    TEST_CASE(nan_inside_container_becomes_null_element),
    TEST_CASE(big_integer_arguments_keep_precision),
    TEST_CASE(call_cbor_passes_args_and_kwargs),
    TEST_CASE(call_cbor_result_is_cbor),
    TEST_CASE(invalid_json_args_are_invalid_argument),
    TEST_CASE(invalid_cbor_args_are_invalid_argument),
    TEST_CASE(invalid_utf8_code_is_invalid_argument),
    TEST_CASE(unknown_function_is_invalid_argument),
    TEST_CASE(guest_exception_carries_type_and_traceback),
    TEST_CASE(eval_named_names_the_source_in_tracebacks),
    TEST_CASE(syntax_error_is_guest_exception),
    TEST_CASE(custom_exception_type_is_reported),
    TEST_CASE(memory_usage_is_positive_and_grows),
    TEST_CASE(sandboxes_are_isolated),
    TEST_CASE(last_call_stats_measure_the_call),
    TEST_CASE(set_timeout_ms_zero_removes_limit),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
