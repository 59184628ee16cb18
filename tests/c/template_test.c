/* isola_template_t: building templates, their options and defaults, and
 * sharing one template between threads. */
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_support.h"

static void template_from_null_options_runs_python(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandbox, "def f():\n    return 6 * 7\n", NULL));
  char *result = call_json_result(sandbox, "f", NULL);
  CHECK_STR_EQ(result, "42");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void template_options_are_copied(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_prelude(opts, "ANSWER = 42"));
  isola_template_t *tpl = NULL;
  CHECK_OK(isola_template_new(opts, &tpl));
  /* Changing or freeing the options afterwards does not affect the template. */
  CHECK_OK(isola_template_options_set_prelude(opts, "ANSWER = 0"));
  isola_template_options_free(opts);
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandbox, "def answer():\n    return ANSWER\n", NULL));
  char *result = call_json_result(sandbox, "answer", NULL);
  CHECK_STR_EQ(result, "42");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void prelude_runs_in_every_sandbox(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_prelude(opts, "def greet(name):\n    return 'hi ' + name\n"));
  isola_template_t *tpl = NULL;
  CHECK_OK(isola_template_new(opts, &tpl));
  isola_template_options_free(opts);
  for (int i = 0; i < 2; i++) {
    isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
    char *result = call_json_result(sandbox, "greet", "[\"ada\"]");
    CHECK_STR_EQ(result, "\"hi ada\"");
    free(result);
    isola_sandbox_free(sandbox);
  }
  isola_template_free(tpl);
}

static void failing_prelude_is_reported_as_guest_exception(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_prelude(opts, "raise KeyError('prelude broke')"));
  isola_template_t *tpl = NULL;
  isola_error_t *err = isola_template_new(opts, &tpl);
  isola_template_options_free(opts);
  if (err == NULL) {
    /* The prelude runs when a sandbox is created. */
    isola_sandbox_t *sandbox = NULL;
    err = EXPECT_ERROR(isola_sandbox_new(tpl, NULL, &sandbox), ISOLA_ERROR_GUEST_EXCEPTION);
    CHECK(sandbox == NULL);
  }
  CHECK(isola_error_code(err) == ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "KeyError");
  CHECK_CONTAINS(isola_error_message(err), "prelude broke");
  isola_error_free(err);
  isola_template_free(tpl);
}

/* With the prelude snapshotted, the prelude runs in isola_template_new, so
 * its failure fails the template build (the first build of this runtime
 * compiles it, instrumented for snapshots, once; the cache keeps it). */
static void snapshotted_failing_prelude_fails_template_new(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_prelude(opts, "import json\nraise KeyError('prelude broke')"));
  CHECK_OK(isola_template_options_set_prelude_snapshot(opts, true));
  isola_template_t *tpl = NULL;
  isola_error_t *err = EXPECT_ERROR(isola_template_new(opts, &tpl), ISOLA_ERROR_GUEST_EXCEPTION);
  isola_template_options_free(opts);
  CHECK(tpl == NULL);
  CHECK_STR_EQ(isola_error_guest_type(err), "KeyError");
  CHECK_CONTAINS(isola_error_message(err), "prelude broke");
  isola_error_free(err);
}

static void missing_runtime_file_fails_with_io_error(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_runtime_path(opts, "/nonexistent/isola-runtime.wasm"));
  isola_template_t *tpl = NULL;
  isola_error_t *err = EXPECT_ERROR(isola_template_new(opts, &tpl), ISOLA_ERROR_IO);
  CHECK_CONTAINS(isola_error_message(err), "/nonexistent/isola-runtime.wasm");
  CHECK(tpl == NULL);
  isola_error_free(err);
  isola_template_options_free(opts);
}

static void invalid_runtime_file_is_rejected(void) {
  char *dir = make_temp_dir();
  char path[4096];
  snprintf(path, sizeof path, "%s/not-a-component.wasm", dir);
  write_file(path, "this is not WebAssembly");
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_runtime_path(opts, path));
  isola_template_t *tpl = NULL;
  isola_error_t *err = isola_template_new(opts, &tpl);
  CHECK(err != NULL);
  CHECK(tpl == NULL);
  /* Reported today as INTERNAL with the parser's message. */
  printf("garbage runtime: %s\n", isola_error_code_name(isola_error_code(err)));
  CHECK_CONTAINS(isola_error_message(err), "WebAssembly");
  isola_error_free(err);
  isola_template_options_free(opts);
  remove_tree(dir);
  free(dir);
}

static void template_defaults_apply_to_every_sandbox(void) {
  isola_template_options_t *opts = isola_template_options_new();
  isola_sandbox_options_t *defaults = isola_template_options_defaults(opts);
  CHECK_OK(isola_sandbox_options_set_env(defaults, "MODE", "template"));
  isola_template_t *tpl = NULL;
  CHECK_OK(isola_template_new(opts, &tpl));
  isola_template_options_free(opts);

  const char *code = "import os\ndef mode():\n    return os.environ.get('MODE')\n";
  isola_sandbox_t *plain = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(plain, code, NULL));
  char *result = call_json_result(plain, "mode", NULL);
  CHECK_STR_EQ(result, "\"template\"");
  free(result);

  /* Sandbox options override the template's defaults. */
  isola_sandbox_options_t *override = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_env(override, "MODE", "sandbox"));
  isola_sandbox_t *custom = new_sandbox(tpl, override);
  isola_sandbox_options_free(override);
  CHECK_OK(isola_sandbox_eval(custom, code, NULL));
  result = call_json_result(custom, "mode", NULL);
  CHECK_STR_EQ(result, "\"sandbox\"");
  free(result);

  isola_sandbox_free(custom);
  isola_sandbox_free(plain);
  isola_template_free(tpl);
}

static void template_defaults_timeout_applies(void) {
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_sandbox_options_set_timeout_ms(isola_template_options_defaults(opts), 200));
  isola_template_t *tpl = NULL;
  CHECK_OK(isola_template_new(opts, &tpl));
  isola_template_options_free(opts);
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_ERROR(isola_sandbox_eval(sandbox, "while True:\n    pass\n", NULL), ISOLA_ERROR_TIMEOUT);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void sandboxes_outlive_their_template(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  isola_template_free(tpl);
  CHECK_OK(isola_sandbox_eval(sandbox, "def f(x):\n    return x + 1\n", NULL));
  char *result = call_json_result(sandbox, "f", "[41]");
  CHECK_STR_EQ(result, "42");
  free(result);
  isola_sandbox_free(sandbox);
}

static void cache_dir_is_created_and_filled(void) {
  /* A fresh cache directory: the runtime is compiled (seconds) and stored. */
  char *dir = make_temp_dir();
  char cache[4096];
  snprintf(cache, sizeof cache, "%s/nested/cache", dir);
  isola_template_options_t *opts = isola_template_options_new();
  CHECK_OK(isola_template_options_set_cache_dir(opts, cache));
  isola_template_t *tpl = NULL;
  double start = now_ms();
  CHECK_OK(isola_template_new(opts, &tpl));
  printf("cold template build: %.0f ms\n", now_ms() - start);
  struct stat st;
  CHECK(stat(cache, &st) == 0 && S_ISDIR(st.st_mode));
  isola_template_free(tpl);
  /* The second build loads the cached artifact. */
  start = now_ms();
  CHECK_OK(isola_template_new(opts, &tpl));
  printf("warm template build: %.0f ms\n", now_ms() - start);
  isola_template_free(tpl);
  isola_template_options_free(opts);
  remove_tree(dir);
  free(dir);
}

#define THREADS 4

struct worker {
  const isola_template_t *tpl;
  int index;
  char result[64];
  int ok;
};

static void *worker_main(void *arg) {
  struct worker *w = arg;
  isola_sandbox_t *sandbox = NULL;
  isola_error_t *err = isola_sandbox_new(w->tpl, NULL, &sandbox);
  if (err == NULL) {
    char code[128];
    snprintf(code, sizeof code, "ME = %d\ndef who(x):\n    return ME * 100 + x\n", w->index);
    err = isola_sandbox_eval(sandbox, code, NULL);
  }
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  if (err == NULL) {
    err = isola_sandbox_call_json(sandbox, "who", "[7]", NULL, &sink);
  }
  if (err == NULL) {
    snprintf(w->result, sizeof w->result, "%s", buffer_str(&cap.result));
    w->ok = 1;
  } else {
    snprintf(w->result, sizeof w->result, "%s", isola_error_code_name(isola_error_code(err)));
    isola_error_free(err);
  }
  capture_free(&cap);
  isola_sandbox_free(sandbox);
  return NULL;
}

static void one_template_serves_many_threads(void) {
  isola_template_t *tpl = new_template();
  pthread_t threads[THREADS];
  struct worker workers[THREADS];
  for (int i = 0; i < THREADS; i++) {
    memset(&workers[i], 0, sizeof workers[i]);
    workers[i].tpl = tpl;
    workers[i].index = i + 1;
    CHECK(pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    char expected[16];
    snprintf(expected, sizeof expected, "%d", (i + 1) * 100 + 7);
    CHECK(workers[i].ok);
    CHECK_STR_EQ(workers[i].result, expected);
  }
  isola_template_free(tpl);
}

static const struct test_case cases[] = {
    TEST_CASE(template_from_null_options_runs_python),
    TEST_CASE(template_options_are_copied),
    TEST_CASE(prelude_runs_in_every_sandbox),
    TEST_CASE(failing_prelude_is_reported_as_guest_exception),
    TEST_CASE(snapshotted_failing_prelude_fails_template_new),
    TEST_CASE(missing_runtime_file_fails_with_io_error),
    TEST_CASE(invalid_runtime_file_is_rejected),
    TEST_CASE(template_defaults_apply_to_every_sandbox),
    TEST_CASE(template_defaults_timeout_applies),
    TEST_CASE(sandboxes_outlive_their_template),
    TEST_CASE(cache_dir_is_created_and_filled),
    TEST_CASE(one_template_serves_many_threads),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
