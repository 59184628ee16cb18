/* A sandbox's lifetime against its calls: free while a call runs (from
 * another thread or from the call's own callback) is deferred; a refused
 * call leaves its arguments intact; calls from inside callbacks are refused
 * with a message that says why. */
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static isola_cancel_outcome_t cancel_outcome(const isola_cancel_handle_t *handle) {
  isola_cancel_outcome_t outcome = ISOLA_CANCEL_REQUESTED;
  CHECK_OK(isola_cancel_handle_cancel(handle, &outcome));
  return outcome;
}

static void free_while_another_thread_calls_is_deferred_and_cancels(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sb = new_sandbox(tpl, NULL);
  isola_cancel_handle_t *handle = NULL;
  CHECK_OK(isola_sandbox_cancel_handle(sb, &handle));
  struct spin_call call = {sb, NULL};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, spin_call_run, &call) == 0);
  sleep_ms(300);
  double start = now_ms();
  isola_sandbox_free(sb); /* returns at once; the call ends, then frees */
  CHECK(now_ms() - start < 1000);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_ERROR(call.err, ISOLA_ERROR_CANCELLED);
  CHECK(cancel_outcome(handle) == ISOLA_CANCEL_GONE);
  isola_cancel_handle_free(handle);
  isola_template_free(tpl);
}

struct self_free {
  isola_sandbox_t *sandbox;
  int lines;
};

static void free_on_stdout(void *user_data, const char *text, size_t len) {
  (void)text;
  (void)len;
  struct self_free *state = user_data;
  if (state->lines++ == 0) {
    isola_sandbox_free(state->sandbox);
  }
}

static void free_from_the_sandboxs_own_callback_is_deferred(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sb = new_sandbox(tpl, NULL);
  isola_cancel_handle_t *handle = NULL;
  CHECK_OK(isola_sandbox_cancel_handle(sb, &handle));
  struct self_free state = {sb, 0};
  isola_sink_t sink = {.struct_size = sizeof(isola_sink_t)};
  sink.user_data = &state;
  sink.format = ISOLA_FORMAT_JSON;
  sink.on_stdout = free_on_stdout;
  isola_error_t *err =
      isola_sandbox_eval(sb, "for i in range(3):\n    print(i)\nwhile True:\n    pass\n", &sink);
  /* The free cancelled the call; the sandbox was destroyed as it returned. */
  CHECK_ERROR(err, ISOLA_ERROR_CANCELLED);
  CHECK(state.lines >= 1);
  CHECK(cancel_outcome(handle) == ISOLA_CANCEL_GONE);
  isola_cancel_handle_free(handle);
  isola_template_free(tpl);
}

/* A call with a stream argument the guest sums; returns the result. */
static char *sum_stream_call(isola_sandbox_t *sb, isola_args_t *args) {
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call(sb, "total", args, &sink));
  char *result = strdup(buffer_str(&cap.result));
  capture_free(&cap);
  return result;
}

static const char TOTAL[] = "def total(xs, *, scale):\n    return sum(xs) * scale\n";

static isola_args_t *stream_args(isola_stream_t **stream) {
  CHECK_OK(isola_stream_new(4, stream));
  CHECK_OK(isola_stream_push_json(*stream, "1"));
  CHECK_OK(isola_stream_push_json(*stream, "2"));
  CHECK_OK(isola_stream_close(*stream));
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_stream(args, NULL, *stream));
  CHECK_OK(isola_args_add_json(args, "scale", "10"));
  return args;
}

static void refused_call_keeps_its_arguments_and_streams(void) {
  isola_template_t *tpl = new_template();
  isola_stream_t *stream = NULL;
  isola_args_t *args = stream_args(&stream);

  /* Invalid sink: refused before anything runs. */
  isola_sandbox_t *fresh = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(fresh, TOTAL, NULL));
  isola_sink_t bad_sink = {.struct_size = sizeof(isola_sink_t)};
  bad_sink.format = 42;
  CHECK_ERROR(isola_sandbox_call(fresh, "total", args, &bad_sink), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_call(fresh, NULL, args, NULL), ISOLA_ERROR_INVALID_ARGUMENT);

  /* Busy: another thread is inside a call. */
  isola_sandbox_t *busy = new_sandbox(tpl, NULL);
  struct spin_call call = {busy, NULL};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, spin_call_run, &call) == 0);
  sleep_ms(300);
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call(busy, "total", args, NULL),
                                    ISOLA_ERROR_INVALID_STATE);
  CHECK_CONTAINS(isola_error_message(err), "another thread");
  isola_error_free(err);
  CHECK_OK(isola_sandbox_cancel(busy));
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_ERROR(call.err, ISOLA_ERROR_CANCELLED);

  /* Unusable: cancelled earlier. */
  CHECK_ERROR(isola_sandbox_call(busy, "total", args, NULL), ISOLA_ERROR_INVALID_STATE);
  isola_sandbox_free(busy);

  /* After three refusals the same list (and its stream) still works. */
  char *result = sum_stream_call(fresh, args);
  CHECK_STR_EQ(result, "30");
  free(result);
  isola_args_free(args);
  isola_stream_free(stream);
  isola_sandbox_free(fresh);
  isola_template_free(tpl);
}

struct reentry {
  isola_sandbox_t *own;
  isola_sandbox_t *other;
  isola_stream_t *stream;
  char own_message[512];
  char other_message[512];
  char push_message[512];
  isola_error_code_t own_code, other_code, push_code;
  int try_pushed;
  isola_cancel_outcome_t cancel;
};

static void keep(isola_error_t *err, isola_error_code_t *code, char *message) {
  CHECK(err != NULL);
  *code = isola_error_code(err);
  snprintf(message, 512, "%s", isola_error_message(err));
  isola_error_free(err);
}

static void reenter_on_stdout(void *user_data, const char *text, size_t len) {
  (void)text;
  (void)len;
  struct reentry *r = user_data;
  keep(isola_sandbox_eval(r->own, "1", NULL), &r->own_code, r->own_message);
  keep(isola_sandbox_eval(r->other, "1", NULL), &r->other_code, r->other_message);
  keep(isola_stream_push_json(r->stream, "1"), &r->push_code, r->push_message);
  /* Non-blocking functions are allowed inside callbacks. */
  bool pushed = false;
  CHECK_OK(isola_stream_try_push_json(r->stream, "1", &pushed));
  r->try_pushed = pushed;
  isola_cancel_handle_t *handle = NULL;
  CHECK_OK(isola_sandbox_cancel_handle(r->other, &handle));
  CHECK_OK(isola_cancel_handle_cancel(handle, &r->cancel));
  isola_cancel_handle_free(handle);
}

static void calls_from_inside_a_callback_are_refused_with_a_clear_message(void) {
  isola_template_t *tpl = new_template();
  struct reentry r;
  memset(&r, 0, sizeof r);
  r.own = new_sandbox(tpl, NULL);
  r.other = new_sandbox(tpl, NULL);
  CHECK_OK(isola_stream_new(4, &r.stream));
  isola_sink_t sink = {.struct_size = sizeof(isola_sink_t)};
  sink.user_data = &r;
  sink.format = ISOLA_FORMAT_JSON;
  sink.on_stdout = reenter_on_stdout;
  CHECK_OK(isola_sandbox_eval(r.own, "print('hi')", &sink));
  printf("own: %s\nother: %s\npush: %s\n", r.own_message, r.other_message, r.push_message);
  CHECK(r.own_code == ISOLA_ERROR_INVALID_STATE);
  CHECK_CONTAINS(r.own_message, "callback of the same sandbox");
  CHECK(r.other_code == ISOLA_ERROR_INVALID_STATE);
  CHECK_CONTAINS(r.other_message, "inside an isola callback");
  CHECK(r.push_code == ISOLA_ERROR_INVALID_STATE);
  CHECK_CONTAINS(r.push_message, "inside an isola callback");
  CHECK(r.try_pushed == 1);
  CHECK(r.cancel == ISOLA_CANCEL_IDLE);
  /* Both sandboxes are still fine. */
  CHECK_OK(isola_sandbox_eval(r.own, "1", NULL));
  CHECK_OK(isola_sandbox_eval(r.other, "1", NULL));
  isola_stream_free(r.stream);
  isola_sandbox_free(r.own);
  isola_sandbox_free(r.other);
  isola_template_free(tpl);
}

int main(int argc, char **argv) {
  static const struct test_case cases[] = {
      TEST_CASE(free_while_another_thread_calls_is_deferred_and_cancels),
      TEST_CASE(free_from_the_sandboxs_own_callback_is_deferred),
      TEST_CASE(refused_call_keeps_its_arguments_and_streams),
      TEST_CASE(calls_from_inside_a_callback_are_refused_with_a_clear_message),
  };
  return RUN_TESTS(argc, argv, cases);
}
