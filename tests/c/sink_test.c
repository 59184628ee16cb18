/* isola_sink_t: what the callbacks receive, in which order, on which
 * thread, and in which format. */
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"


static void stdout_and_stderr_reach_their_callbacks(void) {
  setup(NULL);
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sandbox,
                              "import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n"
                              "print('caf\\u00e9', end='')\n",
                              &sink));
  CHECK_STR_EQ(buffer_str(&cap.out), "hello\ncaf\xc3\xa9");
  CHECK_STR_EQ(buffer_str(&cap.err), "oops\n");
  CHECK(cap.nul_terminated);
  capture_free(&cap);
  teardown();
}

static void text_with_nul_keeps_its_length(void) {
  setup(NULL);
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sandbox, "print('a\\x00b', end='')", &sink));
  CHECK(cap.out.len == 3);
  CHECK(memcmp(cap.out.data, "a\0b", 3) == 0);
  capture_free(&cap);
  teardown();
}

static void generator_items_stream_before_result(void) {
  setup("def gen(n):\n    for i in range(n):\n        print(f'making {i}')\n        yield {'i': i}\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_json(sandbox, "gen", "[3]", NULL, &sink));
  CHECK(cap.item_count == 3);
  CHECK_STR_EQ(buffer_str(&cap.items), "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
  CHECK(cap.result_count == 1);
  CHECK_STR_EQ(buffer_str(&cap.result), "null");
  /* Every callback in the order the guest produced it. */
  CHECK_STR_EQ(buffer_str(&cap.events),
               "stdout:making 0\n|item:{\"i\":0}|stdout:making 1\n|item:{\"i\":1}|"
               "stdout:making 2\n|item:{\"i\":2}|result:null|");
  capture_free(&cap);
  teardown();
}

static void async_generator_items_stream(void) {
  setup("import asyncio\nasync def agen():\n    for i in range(2):\n"
        "        await asyncio.sleep(0)\n        yield i\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_json(sandbox, "agen", NULL, NULL, &sink));
  CHECK_STR_EQ(buffer_str(&cap.events), "item:0|item:1|result:null|");
  capture_free(&cap);
  teardown();
}

static void items_before_a_failure_are_delivered(void) {
  setup("def gen():\n    yield 1\n    raise RuntimeError('midway')\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "gen", NULL, NULL, &sink),
                                    ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "RuntimeError");
  isola_error_free(err);
  CHECK(cap.item_count == 1);
  CHECK(cap.result_count == 0);
  capture_free(&cap);
  teardown();
}

static void logging_records_reach_on_log(void) {
  setup(NULL);
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sandbox,
                              "import logging\nlogging.warning('careful: %d left', 3)\n"
                              "logging.getLogger('app.db').error('lost')\n",
                              &sink));
  CHECK_CONTAINS(buffer_str(&cap.logs), "30 root ");
  CHECK_CONTAINS(buffer_str(&cap.logs), "careful: 3 left");
  CHECK_CONTAINS(buffer_str(&cap.logs), "40 app.db ");
  CHECK_CONTAINS(buffer_str(&cap.logs), "lost");
  CHECK(cap.nul_terminated);
  capture_free(&cap);
  teardown();
}

static void json_values_are_nul_terminated(void) {
  setup("def gen():\n    yield 'item'\n    return None\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_json(sandbox, "gen", NULL, NULL, &sink));
  CHECK(cap.item_count == 1);
  CHECK(cap.nul_terminated);
  capture_free(&cap);
  teardown();
}

static void cbor_format_delivers_cbor_items(void) {
  setup("def gen():\n    yield 1\n    yield 'a'\n    yield [True, None]\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_CBOR);
  CHECK_OK(isola_sandbox_call_json(sandbox, "gen", NULL, NULL, &sink));
  CHECK(cap.item_count == 3);
  /* 1, "a", [true, null] back to back. */
  const uint8_t expected[] = {0x01, 0x61, 'a', 0x82, 0xf5, 0xf6};
  CHECK(cap.items.len == sizeof expected);
  CHECK(memcmp(cap.items.data, expected, sizeof expected) == 0);
  CHECK(cap.result.len == 1 && (uint8_t)cap.result.data[0] == 0xf6); /* null */
  capture_free(&cap);
  teardown();
}

static void unknown_sink_format_is_invalid_argument(void) {
  setup("def f():\n    print('should not run')\n    return 1\n");
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, 2);
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "f", NULL, NULL, &sink),
                                    ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "format");
  isola_error_free(err);
  CHECK_ERROR(isola_sandbox_eval(sandbox, "x = 1", &sink), ISOLA_ERROR_INVALID_ARGUMENT);
  /* Rejected before running anything. */
  CHECK(cap.out.len == 0 && cap.result_count == 0);
  capture_free(&cap);
  teardown();
}

static void sink_without_its_struct_size_is_refused_before_anything_runs(void) {
  setup("def f():\n    print('ran')\n    return 1\n");
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  sink.struct_size = 0;
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "f", NULL, NULL, &sink),
                                    ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "sizeof(isola_sink_t)");
  isola_error_free(err);
  /* A table from a newer header (larger) is refused as well. */
  struct {
    isola_sink_t sink;
    void *newer_field;
  } newer = {sink, NULL};
  newer.sink.struct_size = sizeof newer;
  err = EXPECT_ERROR(isola_sandbox_call_json(sandbox, "f", NULL, NULL, &newer.sink),
                     ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "newer isola.h");
  isola_error_free(err);
  CHECK(cap.result_count == 0);
  CHECK_STR_EQ(buffer_str(&cap.out), "");
  /* With its size the same table works. */
  sink.struct_size = sizeof sink;
  CHECK_OK(isola_sandbox_call_json(sandbox, "f", NULL, NULL, &sink));
  CHECK_STR_EQ(buffer_str(&cap.out), "ran\n");
  capture_free(&cap);
  teardown();
}

static void null_callbacks_drop_output(void) {
  setup("def f():\n    print('dropped')\n    yield 1\n    return 2\n");
  isola_sink_t sink;
  memset(&sink, 0, sizeof sink);
  sink.struct_size = sizeof sink;
  sink.format = ISOLA_FORMAT_JSON;
  CHECK_OK(isola_sandbox_call_json(sandbox, "f", NULL, NULL, &sink));
  CHECK_OK(isola_sandbox_call_json(sandbox, "f", NULL, NULL, NULL));
  teardown();
}

static pthread_t main_thread;
static int callbacks_on_other_thread;
static int callbacks_seen;

static void on_stdout_check_thread(void *user_data, const char *text, size_t len) {
  (void)user_data;
  (void)text;
  (void)len;
  callbacks_seen++;
  if (!pthread_equal(pthread_self(), main_thread)) {
    callbacks_on_other_thread++;
  }
}

static void callbacks_run_on_the_calling_thread(void) {
  setup(NULL);
  main_thread = pthread_self();
  isola_sink_t sink;
  memset(&sink, 0, sizeof sink);
  sink.struct_size = sizeof sink;
  sink.format = ISOLA_FORMAT_JSON;
  sink.on_stdout = on_stdout_check_thread;
  CHECK_OK(isola_sandbox_eval(sandbox,
                              "import asyncio\nfor i in range(3):\n    print(i)\n"
                              "    await asyncio.sleep(0.01)\n",
                              &sink));
  CHECK(callbacks_seen == 3);
  CHECK(callbacks_on_other_thread == 0);
  teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(stdout_and_stderr_reach_their_callbacks),
    TEST_CASE(text_with_nul_keeps_its_length),
    TEST_CASE(generator_items_stream_before_result),
    TEST_CASE(async_generator_items_stream),
    TEST_CASE(items_before_a_failure_are_delivered),
    TEST_CASE(logging_records_reach_on_log),
    TEST_CASE(json_values_are_nul_terminated),
    TEST_CASE(cbor_format_delivers_cbor_items),
    TEST_CASE(unknown_sink_format_is_invalid_argument),
    TEST_CASE(sink_without_its_struct_size_is_refused_before_anything_runs),
    TEST_CASE(null_callbacks_drop_output),
    TEST_CASE(callbacks_run_on_the_calling_thread),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
