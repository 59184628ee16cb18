/* Limits on a sandbox: time limits, cancellation from another thread,
 * memory, output caps, and overlapping calls. */
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static const char SPIN[] = "while True:\n    pass\n";

static isola_sandbox_options_t *options_with(void (*fill)(isola_sandbox_options_t *)) {
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK(opts != NULL);
  fill(opts);
  return opts;
}

static void timeout_200ms(isola_sandbox_options_t *opts) {
  CHECK_OK(isola_sandbox_options_set_timeout_ms(opts, 200));
}

static void timeout_stops_infinite_loop(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(timeout_200ms);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  double start = now_ms();
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_eval(sandbox, SPIN, NULL), ISOLA_ERROR_TIMEOUT);
  double elapsed = now_ms() - start;
  printf("timed out after %.0f ms: %s\n", elapsed, isola_error_message(err));
  CHECK(elapsed >= 150 && elapsed < 5000);
  CHECK_STR_EQ(isola_error_guest_type(err), "");
  isola_error_free(err);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void timed_out_sandbox_is_invalid_state(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(timeout_200ms);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_ERROR(isola_sandbox_eval(sandbox, SPIN, NULL), ISOLA_ERROR_TIMEOUT);
  CHECK_ERROR(isola_sandbox_eval(sandbox, "x = 1", NULL), ISOLA_ERROR_INVALID_STATE);
  CHECK_ERROR(isola_sandbox_call_json(sandbox, "f", "[]", NULL, NULL), ISOLA_ERROR_INVALID_STATE);
  /* Other sandboxes of the template are unaffected. */
  isola_sandbox_t *fresh = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(fresh, "x = 1", NULL));
  isola_sandbox_free(fresh);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void set_timeout_ms_applies_to_following_calls(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandbox, "def spin():\n    while True:\n        pass\n", NULL));
  CHECK_OK(isola_sandbox_set_timeout_ms(sandbox, 200));
  CHECK_ERROR(isola_sandbox_call_json(sandbox, "spin", NULL, NULL, NULL), ISOLA_ERROR_TIMEOUT);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void timeout_covers_sleeping_guest(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(timeout_200ms);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  double start = now_ms();
  CHECK_ERROR(isola_sandbox_eval(sandbox, "import time\ntime.sleep(30)\n", NULL), ISOLA_ERROR_TIMEOUT);
  CHECK(now_ms() - start < 5000);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

struct canceller {
  const isola_sandbox_t *sandbox;
  unsigned delay_ms;
  isola_error_t *err;
};

static void *cancel_later(void *arg) {
  struct canceller *c = arg;
  sleep_ms(c->delay_ms);
  c->err = isola_sandbox_cancel(c->sandbox);
  return NULL;
}

static void cancel_from_another_thread_stops_call(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  struct canceller c = {sandbox, 300, NULL};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, cancel_later, &c) == 0);
  double start = now_ms();
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_eval(sandbox, SPIN, NULL), ISOLA_ERROR_CANCELLED);
  double elapsed = now_ms() - start;
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_OK(c.err);
  printf("cancelled after %.0f ms: %s\n", elapsed, isola_error_message(err));
  CHECK(elapsed >= 250 && elapsed < 5000);
  isola_error_free(err);
  /* A cancelled sandbox must be discarded. */
  CHECK_ERROR(isola_sandbox_eval(sandbox, "x = 1", NULL), ISOLA_ERROR_INVALID_STATE);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void cancel_before_a_call_does_not_reach_the_next_call(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_cancel(sandbox));
  CHECK_OK(isola_sandbox_eval(sandbox, "x = 1", NULL));
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

struct spinner {
  const isola_sandbox_t *sandbox;
  isola_error_t *err;
};

static void *spin_in_thread(void *arg) {
  struct spinner *s = arg;
  s->err = isola_sandbox_eval(s->sandbox, SPIN, NULL);
  return NULL;
}

static void overlapping_call_is_invalid_state(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  struct spinner s = {sandbox, NULL};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, spin_in_thread, &s) == 0);
  sleep_ms(300);
  /* The other thread is inside a call: a second call is refused at once. */
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_eval(sandbox, "x = 1", NULL), ISOLA_ERROR_INVALID_STATE);
  isola_error_free(err);
  /* Memory usage is readable while the call runs, without waiting. */
  uint64_t usage = 0;
  CHECK_OK(isola_sandbox_memory_usage(sandbox, &usage));
  CHECK(usage > 0);
  CHECK_OK(isola_sandbox_cancel(sandbox));
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK(s.err != NULL && isola_error_code(s.err) == ISOLA_ERROR_CANCELLED);
  isola_error_free(s.err);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void memory_256mib(isola_sandbox_options_t *opts) {
  CHECK_OK(isola_sandbox_options_set_max_memory(opts, 256u * 1024 * 1024));
}

static void stack_overflow_traps_and_poisons_sandbox(void) {
  /* Freeing a structure nested a million deep recurses past the native
   * stack (runaway Python recursion ends in RecursionError: the guest caps
   * the recursion limit); the overflow is a trap. */
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(memory_256mib);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  isola_error_t *err = EXPECT_ERROR(
      isola_sandbox_eval(sandbox,
                         "x = []\nfor _ in range(1_000_000):\n    x = [x]\ndel x\n",
                         NULL),
      ISOLA_ERROR_TRAP);
  CHECK_CONTAINS(isola_error_message(err), "stack overflow");
  isola_error_free(err);
  CHECK_ERROR(isola_sandbox_eval(sandbox, "x = 1", NULL), ISOLA_ERROR_INVALID_STATE);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void recursion_error_is_a_guest_exception(void) {
  /* Within Python's default recursion limit: an ordinary exception. */
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  isola_error_t *err = EXPECT_ERROR(
      isola_sandbox_eval(sandbox, "def down(n):\n    return down(n + 1)\ndown(0)\n", NULL),
      ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "RecursionError");
  isola_error_free(err);
  CHECK_OK(isola_sandbox_eval(sandbox, "x = 1", NULL));
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void memory_64mib(isola_sandbox_options_t *opts) {
  CHECK_OK(isola_sandbox_options_set_max_memory(opts, 64u * 1024 * 1024));
}

/* A limit below what the runtime needs to start fails isola_sandbox_new
 * with MEMORY_LIMIT saying both sizes in MiB (it said "memory minimum size
 * of 401 pages exceeds memory limits", in wasm pages). */
static void a_limit_below_the_runtime_says_what_it_needs(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_max_memory(opts, 1u << 20));
  isola_sandbox_t *sandbox = NULL;
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_new(tpl, opts, &sandbox), ISOLA_ERROR_MEMORY_LIMIT);
  CHECK(sandbox == NULL);
  CHECK_CONTAINS(isola_error_message(err), "MiB to start and the limit is 1.0 MiB");
  isola_error_free(err);
  isola_sandbox_options_free(opts);
  isola_template_free(tpl);
}

static void memory_limit_raises_memory_error_and_sandbox_survives(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(memory_64mib);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  isola_error_t *err = isola_sandbox_eval(sandbox, "x = bytearray(512 * 1024 * 1024)", NULL);
  CHECK(err != NULL);
  isola_error_code_t code = isola_error_code(err);
  printf("over the limit: %s (%s)\n", isola_error_code_name(code), isola_error_guest_type(err));
  CHECK(code == ISOLA_ERROR_GUEST_EXCEPTION || code == ISOLA_ERROR_MEMORY_LIMIT);
  CHECK_CONTAINS(isola_error_message(err), "MemoryError");
  if (code == ISOLA_ERROR_GUEST_EXCEPTION) {
    CHECK_STR_EQ(isola_error_guest_type(err), "MemoryError");
  }
  isola_error_free(err);
  /* The sandbox stays usable, still under the limit. */
  uint64_t usage = 0;
  CHECK_OK(isola_sandbox_memory_usage(sandbox, &usage));
  CHECK(usage <= 64u * 1024 * 1024);
  CHECK_OK(isola_sandbox_eval(sandbox, "def ok():\n    return len(bytearray(1024))\n", NULL));
  char *result = call_json_result(sandbox, "ok", NULL);
  CHECK_STR_EQ(result, "1024");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void guest_can_catch_memory_error(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(memory_64mib);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval(sandbox,
                              "def greedy():\n    try:\n        bytearray(512 * 1024 * 1024)\n"
                              "    except MemoryError:\n        return 'caught'\n    return 'allocated'\n",
                              NULL));
  char *result = call_json_result(sandbox, "greedy", NULL);
  CHECK_STR_EQ(result, "\"caught\"");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void output_cap_4kib(isola_sandbox_options_t *opts) {
  CHECK_OK(isola_sandbox_options_set_max_output_bytes(opts, 4096));
}

static void output_cap_stops_chatty_guest(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(output_cap_4kib);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sandbox, "print('small')", &sink));
  CHECK_ERROR(isola_sandbox_eval(sandbox, "for i in range(1000):\n    print('x' * 100)\n", &sink),
              ISOLA_ERROR_OUTPUT_LIMIT);
  /* Only what fits was delivered. */
  CHECK(cap.out.len <= 4096 + 6);
  capture_free(&cap);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void value_cap_1kib(isola_sandbox_options_t *opts) {
  CHECK_OK(isola_sandbox_options_set_max_value_bytes(opts, 1024));
}

static void value_cap_rejects_large_result(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = options_with(value_cap_1kib);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval(sandbox, "def big(n):\n    return 'x' * n\n", NULL));
  char *result = call_json_result(sandbox, "big", "[10]");
  CHECK_STR_EQ(result, "\"xxxxxxxxxx\"");
  free(result);
  CHECK_ERROR(isola_sandbox_call_json(sandbox, "big", "[100000]", NULL, NULL), ISOLA_ERROR_OUTPUT_LIMIT);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static const struct test_case cases[] = {
    TEST_CASE(timeout_stops_infinite_loop),
    TEST_CASE(timed_out_sandbox_is_invalid_state),
    TEST_CASE(set_timeout_ms_applies_to_following_calls),
    TEST_CASE(timeout_covers_sleeping_guest),
    TEST_CASE(cancel_from_another_thread_stops_call),
    TEST_CASE(cancel_before_a_call_does_not_reach_the_next_call),
    TEST_CASE(overlapping_call_is_invalid_state),
    TEST_CASE(stack_overflow_traps_and_poisons_sandbox),
    TEST_CASE(recursion_error_is_a_guest_exception),
    TEST_CASE(memory_limit_raises_memory_error_and_sandbox_survives),
    TEST_CASE(a_limit_below_the_runtime_says_what_it_needs),
    TEST_CASE(guest_can_catch_memory_error),
    TEST_CASE(output_cap_stops_chatty_guest),
    TEST_CASE(value_cap_rejects_large_result),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
