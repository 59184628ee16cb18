/*
 * Minimal test support for the isola C tests: assertions that print
 * file:line and exit non-zero, a sink that records everything it receives,
 * and a runner that executes one named test case per process.
 */
#ifndef ISOLA_TEST_SUPPORT_H
#define ISOLA_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <isola.h>

/* ---- assertions ------------------------------------------------------- */

void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);              \
    }                                                                        \
  } while (0)

/* The expression returns an isola_error_t *; it must be NULL. */
#define CHECK_OK(expr) test_check_ok(__FILE__, __LINE__, #expr, (expr))

/* The expression returns an isola_error_t *; it must carry `code`. The
 * error is returned (the caller frees it). */
#define EXPECT_ERROR(expr, code) test_expect_error(__FILE__, __LINE__, #expr, (expr), (code))

/* As EXPECT_ERROR, and free the error. */
#define CHECK_ERROR(expr, code) isola_error_free(EXPECT_ERROR(expr, code))

#define CHECK_STR_EQ(actual, expected) \
  test_check_str_eq(__FILE__, __LINE__, #actual, (actual), (expected))

#define CHECK_CONTAINS(haystack, needle) \
  test_check_contains(__FILE__, __LINE__, #haystack, (haystack), (needle))

void test_check_ok(const char *file, int line, const char *expr, isola_error_t *err);
isola_error_t *test_expect_error(const char *file, int line, const char *expr,
                                 isola_error_t *err, isola_error_code_t code);
void test_check_str_eq(const char *file, int line, const char *expr, const char *actual,
                       const char *expected);
void test_check_contains(const char *file, int line, const char *expr, const char *haystack,
                         const char *needle);

/* ---- a growable byte buffer, always NUL-terminated -------------------- */

struct buffer {
  char *data;
  size_t len;
  size_t cap;
};

void buffer_append(struct buffer *buf, const void *data, size_t len);
void buffer_append_str(struct buffer *buf, const char *text);
void buffer_free(struct buffer *buf);
/* The contents, "" when empty (never NULL). */
const char *buffer_str(const struct buffer *buf);

/* ---- a sink that records everything ----------------------------------- */

struct capture {
  uint32_t format;       /* the sink format: JSON payloads are also events */
  struct buffer out;     /* concatenated stdout text */
  struct buffer err;     /* concatenated stderr text */
  struct buffer items;   /* each item's data followed by '\n' (JSON) */
  struct buffer result;  /* the last result's data */
  struct buffer logs;    /* "LEVEL LOGGER MESSAGE\n" per record */
  struct buffer events;  /* "kind:payload|" per callback, in order */
  int item_count;
  int result_count;
  bool nul_terminated;   /* every text/JSON payload had data[len] == 0 */
};

/* A sink with all five callbacks recording into `cap`. */
isola_sink_t capture_sink(struct capture *cap, uint32_t format);
void capture_free(struct capture *cap);

/* ---- fixtures ---------------------------------------------------------- */

/* A template from the embedded runtime (NULL options); fails the test on
 * error. */
isola_template_t *new_template(void);
/* A sandbox from `tpl` with `options` (may be NULL). */
isola_sandbox_t *new_sandbox(const isola_template_t *tpl, const isola_sandbox_options_t *options);
/* Call `function` with JSON args; returns the JSON result (malloc'd) or
 * fails the test. */
char *call_json_result(const isola_sandbox_t *sandbox, const char *function, const char *args);
/* Milliseconds from a monotonic clock. */
double now_ms(void);
void sleep_ms(unsigned ms);
/* A fresh temporary directory (malloc'd path). */
char *make_temp_dir(void);
/* Remove a directory tree made by a test (best effort). */
void remove_tree(const char *path);
void write_file(const char *path, const char *contents);
/* The contents of a file (malloc'd), or NULL when it does not exist. */
char *read_file(const char *path);

/* An endless loop evaluated in `sandbox` on a thread of its own:
 * pthread_create(&t, NULL, spin_call_run, &call); `err` receives the
 * eval's error once something stops it. */
struct spin_call {
  const isola_sandbox_t *sandbox;
  isola_error_t *err;
};
void *spin_call_run(void *arg);

/* The shared fixture of the sandbox tests: a template and a sandbox made
 * by setup() (which evaluates `code` when it is not NULL) and freed by
 * teardown(). */
extern isola_template_t *tpl;
extern isola_sandbox_t *sandbox;
void setup(const char *code);
void teardown(void);

/* ---- runner ------------------------------------------------------------ */

struct test_case {
  const char *name;
  void (*run)(void);
};

#define TEST_CASE(name) {#name, name}

/* With one argument run that case, without run them all; unknown names
 * fail so that CTest registrations cannot silently drift. */
int run_tests(int argc, char **argv, const struct test_case *cases, size_t count);

#define RUN_TESTS(argc, argv, cases) \
  run_tests((argc), (argv), (cases), sizeof(cases) / sizeof((cases)[0]))

#endif
