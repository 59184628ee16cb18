/*
 * hello: the smallest complete isola program.
 *
 * Builds a template from the embedded Python runtime, creates a sandbox,
 * defines a function in it and calls it with JSON arguments; the result
 * arrives through a sink callback as JSON text.
 *
 * Output: isola 0.1.0: add(1, 2) = 3
 */
#include <stdio.h>
#include <stdlib.h>

#include <isola.h>

/* Print an error (code name and message), free it and report failure. */
static int failed(const char *what, isola_error_t *err) {
  if (err == NULL) {
    return 0;
  }
  fprintf(stderr, "hello: %s failed: %s: %s\n", what,
          isola_error_code_name(isola_error_code(err)), isola_error_message(err));
  isola_error_free(err);
  return 1;
}

/* The sink's on_result: `data` is the JSON text of the return value. */
static void print_result(void *user_data, const uint8_t *data, size_t len) {
  (void)user_data;
  printf("isola %s: add(1, 2) = %.*s\n", isola_version(), (int)len, (const char *)data);
}

int main(void) {
  int status = EXIT_FAILURE;
  isola_template_t *tpl = NULL;
  isola_sandbox_t *sandbox = NULL;
  isola_sink_t sink = {.struct_size = sizeof(isola_sink_t)};
  sink.format = ISOLA_FORMAT_JSON;
  sink.on_result = print_result;

  /* NULL options: embedded runtime, default compile cache, no limits. */
  if (failed("creating the template", isola_template_new(NULL, &tpl))) {
    goto done;
  }
  if (failed("creating the sandbox", isola_sandbox_new(tpl, NULL, &sandbox))) {
    goto done;
  }
  /* The script's own result (None) is not interesting: no sink. */
  if (failed("eval", isola_sandbox_eval(sandbox, "def add(a, b):\n    return a + b\n", NULL))) {
    goto done;
  }
  if (failed("calling add", isola_sandbox_call_json(sandbox, "add", "[1, 2]", NULL, &sink))) {
    goto done;
  }
  status = EXIT_SUCCESS;

done:
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
  return status;
}
