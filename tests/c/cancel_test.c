/* Cancel handles: call-scoped cancellation from any thread, handles that
 * outlive their sandbox, and a watchdog racing calls, cancels and frees. */
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_support.h"

static isola_cancel_handle_t *cancel_handle_of(const isola_sandbox_t *sb) {
  isola_cancel_handle_t *handle = NULL;
  CHECK_OK(isola_sandbox_cancel_handle(sb, &handle));
  CHECK(handle != NULL);
  return handle;
}

static isola_cancel_outcome_t cancel_now(const isola_cancel_handle_t *handle) {
  isola_cancel_outcome_t outcome = (isola_cancel_outcome_t)99;
  CHECK_OK(isola_cancel_handle_cancel(handle, &outcome));
  CHECK(outcome == ISOLA_CANCEL_REQUESTED || outcome == ISOLA_CANCEL_IDLE ||
        outcome == ISOLA_CANCEL_GONE);
  return outcome;
}

/* Cancel until a call is running (the thread may not have started it yet). */
static void cancel_until_requested(const isola_cancel_handle_t *handle) {
  for (int i = 0; i < 10000; i++) {
    if (cancel_now(handle) == ISOLA_CANCEL_REQUESTED) {
      return;
    }
    sleep_ms(1);
  }
  test_fail(__FILE__, __LINE__, "no call ever started");
}

static void cancel_handle_stops_the_running_call(void) {
  setup(NULL);
  isola_cancel_handle_t *handle = cancel_handle_of(sandbox);
  struct spin_call call = {sandbox, NULL};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, spin_call_run, &call) == 0);
  sleep_ms(100);
  cancel_until_requested(handle);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_ERROR(call.err, ISOLA_ERROR_CANCELLED);
  /* The cancelled sandbox must be discarded. */
  CHECK_ERROR(isola_sandbox_eval(sandbox, "x = 1", NULL), ISOLA_ERROR_INVALID_STATE);
  isola_cancel_handle_free(handle);
  teardown();
}

static void cancel_while_idle_is_a_noop_and_says_so(void) {
  setup("def f():\n    return 7\n");
  isola_cancel_handle_t *handle = cancel_handle_of(sandbox);
  CHECK(cancel_now(handle) == ISOLA_CANCEL_IDLE);
  /* The outcome pointer is optional. */
  CHECK_OK(isola_cancel_handle_cancel(handle, NULL));
  CHECK_OK(isola_sandbox_cancel(sandbox));
  /* None of these reaches the next call. */
  char *result = call_json_result(sandbox, "f", NULL);
  CHECK_STR_EQ(result, "7");
  free(result);
  result = call_json_result(sandbox, "f", NULL);
  CHECK_STR_EQ(result, "7");
  free(result);
  isola_cancel_handle_free(handle);
  teardown();
}

static void cancel_after_a_call_ended_does_not_reach_the_next_call(void) {
  setup("def f(x):\n    return x + 1\n");
  isola_cancel_handle_t *handle = cancel_handle_of(sandbox);
  for (int i = 0; i < 50; i++) {
    char *result = call_json_result(sandbox, "f", "[1]");
    CHECK_STR_EQ(result, "2");
    free(result);
    CHECK(cancel_now(handle) == ISOLA_CANCEL_IDLE);
  }
  isola_cancel_handle_free(handle);
  teardown();
}

static void cancel_handle_outlives_its_sandbox(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sb = new_sandbox(tpl, NULL);
  isola_cancel_handle_t *first = cancel_handle_of(sb);
  isola_cancel_handle_t *second = cancel_handle_of(sb);
  isola_sandbox_free(sb);
  CHECK(cancel_now(first) == ISOLA_CANCEL_GONE);
  isola_cancel_handle_free(first);
  CHECK(cancel_now(second) == ISOLA_CANCEL_GONE);
  isola_cancel_handle_free(second);
  isola_template_free(tpl);
}

static void cancel_handle_arguments_are_checked(void) {
  isola_cancel_handle_t *handle = NULL;
  CHECK_ERROR(isola_sandbox_cancel_handle(NULL, &handle), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK(handle == NULL);
  isola_cancel_outcome_t outcome;
  CHECK_ERROR(isola_cancel_handle_cancel(NULL, &outcome), ISOLA_ERROR_INVALID_ARGUMENT);
  setup(NULL);
  CHECK_ERROR(isola_sandbox_cancel_handle(sandbox, NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  teardown();
  isola_cancel_handle_free(NULL);
}

/* ---- watchdog stress ---------------------------------------------------
 * One thread creates a sandbox, publishes its cancel handle, calls, frees
 * the sandbox, then withdraws and frees the handle; another cancels the
 * published handle at random moments (before, during and after calls, and
 * after the sandbox was freed). Nothing may crash or trip a sanitizer; each
 * call either succeeds with the right result or is cancelled. */

#ifndef STRESS_ITERATIONS
#define STRESS_ITERATIONS 10000
#endif

struct watchdog {
  pthread_mutex_t lock;
  isola_cancel_handle_t *current; /* guarded by lock */
  atomic_bool done;
  atomic_int requested, idle, gone;
  unsigned seed;
};

static void *watchdog_thread(void *arg) {
  struct watchdog *w = arg;
  while (!atomic_load(&w->done)) {
    unsigned pause = (unsigned)rand_r(&w->seed) % 3000u;
    struct timespec ts = {0, (long)pause * 1000L};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&w->lock);
    if (w->current != NULL) {
      switch (cancel_now(w->current)) {
        case ISOLA_CANCEL_REQUESTED:
          atomic_fetch_add(&w->requested, 1);
          break;
        case ISOLA_CANCEL_IDLE:
          atomic_fetch_add(&w->idle, 1);
          break;
        case ISOLA_CANCEL_GONE:
          atomic_fetch_add(&w->gone, 1);
          break;
      }
    }
    pthread_mutex_unlock(&w->lock);
  }
  return NULL;
}

static void watchdog_stress_cancel_races_calls_and_frees(void) {
  isola_template_t *tpl = new_template();
  struct watchdog w = {.lock = PTHREAD_MUTEX_INITIALIZER, .seed = 12345u};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, watchdog_thread, &w) == 0);
  int ok = 0, cancelled = 0;
  for (int i = 0; i < STRESS_ITERATIONS; i++) {
    isola_sandbox_t *sb = new_sandbox(tpl, NULL);
    isola_cancel_handle_t *handle = cancel_handle_of(sb);
    pthread_mutex_lock(&w.lock);
    w.current = handle;
    pthread_mutex_unlock(&w.lock);
    struct capture cap;
    isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
    isola_error_t *err = isola_sandbox_eval(sb, "21 * 2", &sink);
    if (err == NULL) {
      CHECK_STR_EQ(buffer_str(&cap.result), "42");
      ok++;
    } else {
      CHECK_ERROR(err, ISOLA_ERROR_CANCELLED);
      cancelled++;
    }
    capture_free(&cap);
    isola_sandbox_free(sb);
    /* The watchdog may still cancel through the handle here. */
    if (i % 2 == 0) {
      sched_yield();
    }
    pthread_mutex_lock(&w.lock);
    w.current = NULL;
    pthread_mutex_unlock(&w.lock);
    isola_cancel_handle_free(handle);
  }
  atomic_store(&w.done, true);
  CHECK(pthread_join(thread, NULL) == 0);
  printf("%d calls: %d ok, %d cancelled; cancels: %d requested, %d idle, %d gone\n",
         STRESS_ITERATIONS, ok, cancelled, atomic_load(&w.requested), atomic_load(&w.idle),
         atomic_load(&w.gone));
  CHECK(ok + cancelled == STRESS_ITERATIONS);
  /* A cancel never outlives its call: only requested cancels fail calls. */
  CHECK(cancelled <= atomic_load(&w.requested));
  isola_template_free(tpl);
}

int main(int argc, char **argv) {
  static const struct test_case cases[] = {
      TEST_CASE(cancel_handle_stops_the_running_call),
      TEST_CASE(cancel_while_idle_is_a_noop_and_says_so),
      TEST_CASE(cancel_after_a_call_ended_does_not_reach_the_next_call),
      TEST_CASE(cancel_handle_outlives_its_sandbox),
      TEST_CASE(cancel_handle_arguments_are_checked),
      TEST_CASE(watchdog_stress_cancel_races_calls_and_frees),
  };
  return RUN_TESTS(argc, argv, cases);
}
