/* Streams against their lifetime: non-blocking pushes, and free or fail
 * while another thread is blocked pushing into a full stream. */
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_support.h"

static void try_push_reports_a_full_stream_without_blocking(void) {
  isola_stream_t *stream = NULL;
  CHECK_OK(isola_stream_new(2, &stream));
  bool pushed = false;
  CHECK_OK(isola_stream_try_push_json(stream, "1", &pushed));
  CHECK(pushed);
  CHECK_OK(isola_stream_try_push_cbor(stream, (const uint8_t *)"\x02", 1, &pushed));
  CHECK(pushed);
  double start = now_ms();
  CHECK_OK(isola_stream_try_push_json(stream, "3", &pushed));
  CHECK(!pushed);
  CHECK(now_ms() - start < 500);
  CHECK_ERROR(isola_stream_try_push_json(stream, "3", NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_stream_try_push_json(stream, "not json", &pushed), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_OK(isola_stream_close(stream));
  CHECK_ERROR(isola_stream_try_push_json(stream, "4", &pushed), ISOLA_ERROR_INVALID_STATE);

  /* What was queued reaches the guest. */
  setup("def items(xs):\n    return list(xs)\n");
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_stream(args, NULL, stream));
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call(sandbox, "items", args, &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "[1,2]");
  capture_free(&cap);
  isola_args_free(args);
  isola_stream_free(stream);
  teardown();
}

struct blocked {
  isola_stream_t *stream;
  int fail; /* fail instead of push */
  isola_error_t *err;
};

static void *push_blocked(void *arg) {
  struct blocked *b = arg;
  b->err = b->fail ? isola_stream_fail(b->stream, "gave up") : isola_stream_push_json(b->stream, "2");
  return NULL;
}

/* Fill a one-slot stream, start a blocking push (or fail) on another
 * thread, then free the stream under it. */
static void free_under_a_blocked(int fail) {
  struct blocked b = {NULL, fail, NULL};
  CHECK_OK(isola_stream_new(1, &b.stream));
  CHECK_OK(isola_stream_push_json(b.stream, "1"));
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, push_blocked, &b) == 0);
  sleep_ms(200); /* the push is waiting for room */
  isola_stream_free(b.stream);
  CHECK(pthread_join(thread, NULL) == 0);
  isola_error_t *err = EXPECT_ERROR(b.err, ISOLA_ERROR_INVALID_STATE);
  printf("%s: %s\n", fail ? "fail" : "push", isola_error_message(err));
  isola_error_free(err);
}

static void free_while_a_push_is_blocked_wakes_the_push(void) {
  free_under_a_blocked(0);
}

static void free_while_a_fail_is_blocked_wakes_the_fail(void) {
  free_under_a_blocked(1);
}

int main(int argc, char **argv) {
  static const struct test_case cases[] = {
      TEST_CASE(try_push_reports_a_full_stream_without_blocking),
      TEST_CASE(free_while_a_push_is_blocked_wakes_the_push),
      TEST_CASE(free_while_a_fail_is_blocked_wakes_the_fail),
  };
  return RUN_TESTS(argc, argv, cases);
}
