#define _XOPEN_SOURCE 700

#include "test_support.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- assertions ------------------------------------------------------- */

void test_fail(const char *file, int line, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "%s:%d: ", file, line);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
  fflush(stderr);
  exit(EXIT_FAILURE);
}

void test_check_ok(const char *file, int line, const char *expr, isola_error_t *err) {
  if (err != NULL) {
    test_fail(file, line, "%s failed: %s: %s", expr,
              isola_error_code_name(isola_error_code(err)), isola_error_message(err));
  }
}

isola_error_t *test_expect_error(const char *file, int line, const char *expr,
                                 isola_error_t *err, isola_error_code_t code) {
  if (err == NULL) {
    test_fail(file, line, "%s succeeded, expected %s", expr, isola_error_code_name(code));
  }
  if (isola_error_code(err) != code) {
    test_fail(file, line, "%s failed with %s (%s), expected %s", expr,
              isola_error_code_name(isola_error_code(err)), isola_error_message(err),
              isola_error_code_name(code));
  }
  const char *message = isola_error_message(err);
  if (message == NULL || message[0] == '\0') {
    test_fail(file, line, "%s: the %s error has an empty message", expr,
              isola_error_code_name(code));
  }
  return err;
}

void test_check_str_eq(const char *file, int line, const char *expr, const char *actual,
                       const char *expected) {
  if (actual == NULL || strcmp(actual, expected) != 0) {
    test_fail(file, line, "%s is \"%s\", expected \"%s\"", expr, actual ? actual : "(NULL)",
              expected);
  }
}

void test_check_contains(const char *file, int line, const char *expr, const char *haystack,
                         const char *needle) {
  if (haystack == NULL || strstr(haystack, needle) == NULL) {
    test_fail(file, line, "%s does not contain \"%s\"; it is:\n%s", expr, needle,
              haystack ? haystack : "(NULL)");
  }
}

/* ---- buffer ------------------------------------------------------------ */

void buffer_append(struct buffer *buf, const void *data, size_t len) {
  if (buf->len + len + 1 > buf->cap) {
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < buf->len + len + 1) {
      cap *= 2;
    }
    char *grown = realloc(buf->data, cap);
    if (grown == NULL) {
      test_fail(__FILE__, __LINE__, "out of memory");
    }
    buf->data = grown;
    buf->cap = cap;
  }
  if (len > 0) {
    memcpy(buf->data + buf->len, data, len);
  }
  buf->len += len;
  buf->data[buf->len] = '\0';
}

void buffer_append_str(struct buffer *buf, const char *text) {
  buffer_append(buf, text, strlen(text));
}

void buffer_free(struct buffer *buf) {
  free(buf->data);
  buf->data = NULL;
  buf->len = buf->cap = 0;
}

const char *buffer_str(const struct buffer *buf) {
  return buf->data ? buf->data : "";
}

/* ---- capture sink ------------------------------------------------------ */

static void note_terminator(struct capture *cap, const char *data, size_t len) {
  if (data[len] != '\0') {
    cap->nul_terminated = false;
  }
}

static void event(struct capture *cap, const char *kind, const void *data, size_t len) {
  buffer_append_str(&cap->events, kind);
  buffer_append_str(&cap->events, ":");
  buffer_append(&cap->events, data, len);
  buffer_append_str(&cap->events, "|");
}

static void on_item(void *user_data, const uint8_t *data, size_t len) {
  struct capture *cap = user_data;
  if (cap->format == ISOLA_FORMAT_JSON) {
    note_terminator(cap, (const char *)data, len);
    event(cap, "item", data, len);
  }
  buffer_append(&cap->items, data, len);
  if (cap->format == ISOLA_FORMAT_JSON) {
    buffer_append_str(&cap->items, "\n");
  }
  cap->item_count++;
}

static void on_result(void *user_data, const uint8_t *data, size_t len) {
  struct capture *cap = user_data;
  if (cap->format == ISOLA_FORMAT_JSON) {
    note_terminator(cap, (const char *)data, len);
    event(cap, "result", data, len);
  }
  cap->result.len = 0;
  buffer_append(&cap->result, data, len);
  cap->result_count++;
}

static void on_stdout(void *user_data, const char *text, size_t len) {
  struct capture *cap = user_data;
  note_terminator(cap, text, len);
  event(cap, "stdout", text, len);
  buffer_append(&cap->out, text, len);
}

static void on_stderr(void *user_data, const char *text, size_t len) {
  struct capture *cap = user_data;
  note_terminator(cap, text, len);
  event(cap, "stderr", text, len);
  buffer_append(&cap->err, text, len);
}

static void on_log(void *user_data, uint32_t level, const char *logger, size_t logger_len,
                   const char *message, size_t message_len) {
  struct capture *cap = user_data;
  char level_text[16];
  note_terminator(cap, logger, logger_len);
  note_terminator(cap, message, message_len);
  snprintf(level_text, sizeof level_text, "%u ", (unsigned)level);
  buffer_append_str(&cap->logs, level_text);
  buffer_append(&cap->logs, logger, logger_len);
  buffer_append_str(&cap->logs, " ");
  buffer_append(&cap->logs, message, message_len);
  buffer_append_str(&cap->logs, "\n");
  event(cap, "log", message, message_len);
}

isola_sink_t capture_sink(struct capture *cap, uint32_t format) {
  isola_sink_t sink = {.struct_size = sizeof(isola_sink_t)};
  memset(cap, 0, sizeof *cap);
  cap->nul_terminated = true;
  cap->format = format;
  sink.user_data = cap;
  sink.format = format;
  sink.on_item = on_item;
  sink.on_result = on_result;
  sink.on_stdout = on_stdout;
  sink.on_stderr = on_stderr;
  sink.on_log = on_log;
  return sink;
}

void capture_free(struct capture *cap) {
  buffer_free(&cap->out);
  buffer_free(&cap->err);
  buffer_free(&cap->items);
  buffer_free(&cap->result);
  buffer_free(&cap->logs);
  buffer_free(&cap->events);
}

/* ---- fixtures ---------------------------------------------------------- */

isola_template_t *new_template(void) {
  isola_template_t *tpl = NULL;
  CHECK_OK(isola_template_new(NULL, &tpl));
  CHECK(tpl != NULL);
  return tpl;
}

isola_sandbox_t *new_sandbox(const isola_template_t *tpl, const isola_sandbox_options_t *options) {
  isola_sandbox_t *sandbox = NULL;
  CHECK_OK(isola_sandbox_new(tpl, options, &sandbox));
  CHECK(sandbox != NULL);
  return sandbox;
}

char *call_json_result(const isola_sandbox_t *sandbox, const char *function, const char *args) {
  struct capture cap;
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_json(sandbox, function, args, NULL, &sink));
  CHECK(cap.result_count == 1);
  char *result = malloc(cap.result.len + 1);
  CHECK(result != NULL);
  memcpy(result, buffer_str(&cap.result), cap.result.len + 1);
  capture_free(&cap);
  return result;
}

double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void sleep_ms(unsigned ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

char *make_temp_dir(void) {
  const char *base = getenv("TMPDIR");
  char pattern[4096];
  snprintf(pattern, sizeof pattern, "%s/isola-c-test-XXXXXX", base && base[0] ? base : "/tmp");
  CHECK(mkdtemp(pattern) != NULL);
  size_t len = strlen(pattern) + 1;
  char *path = malloc(len);
  CHECK(path != NULL);
  memcpy(path, pattern, len);
  return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

void remove_tree(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void write_file(const char *path, const char *contents) {
  FILE *file = fopen(path, "wb");
  CHECK(file != NULL);
  CHECK(fputs(contents, file) >= 0);
  CHECK(fclose(file) == 0);
}

char *read_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) {
    return NULL;
  }
  struct buffer buf = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, file)) > 0) {
    buffer_append(&buf, chunk, n);
  }
  fclose(file);
  if (buf.data == NULL) {
    buffer_append(&buf, "", 0);
  }
  return buf.data;
}

/* ---- runner ------------------------------------------------------------ */

int run_tests(int argc, char **argv, const struct test_case *cases, size_t count) {
  if (argc > 2) {
    fprintf(stderr, "usage: %s [CASE]\n", argv[0]);
    return EXIT_FAILURE;
  }
  /* Unbuffered so that output before a crash is not lost. */
  setvbuf(stdout, NULL, _IONBF, 0);
  int ran = 0;
  for (size_t i = 0; i < count; i++) {
    if (argc == 2 && strcmp(argv[1], cases[i].name) != 0) {
      continue;
    }
    double start = now_ms();
    cases[i].run();
    printf("ok %s (%.0f ms)\n", cases[i].name, now_ms() - start);
    ran++;
  }
  if (ran == 0) {
    fprintf(stderr, "%s: no test case named '%s'\n", argv[0], argc == 2 ? argv[1] : "");
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

void *spin_call_run(void *arg) {
  struct spin_call *call = arg;
  call->err = isola_sandbox_eval(call->sandbox, "while True:\n    pass\n", NULL);
  return NULL;
}

isola_template_t *tpl;
isola_sandbox_t *sandbox;

void setup(const char *code) {
  tpl = new_template();
  sandbox = new_sandbox(tpl, NULL);
  if (code != NULL) {
    CHECK_OK(isola_sandbox_eval(sandbox, code, NULL));
  }
}

void teardown(void) {
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
  sandbox = NULL;
  tpl = NULL;
}
