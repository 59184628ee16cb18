/* A program built outside the isola tree: runs one call, prints the
 * result, exits 0 only if it is right. */
#include <stdio.h>
#include <string.h>

#include <isola.h>

static char result[64];

static void on_result(void *user_data, const uint8_t *data, size_t len) {
  (void)user_data;
  snprintf(result, sizeof result, "%.*s", (int)len, (const char *)data);
}

int main(void) {
  isola_template_t *tpl = NULL;
  isola_sandbox_t *sandbox = NULL;
  isola_sink_t sink = {.struct_size = sizeof(isola_sink_t)};
  sink.format = ISOLA_FORMAT_JSON;
  sink.on_result = on_result;
  isola_error_t *err = isola_template_new(NULL, &tpl);
  if (err == NULL) {
    err = isola_sandbox_new(tpl, NULL, &sandbox);
  }
  if (err == NULL) {
    err = isola_sandbox_eval(sandbox, "def area(w, h):\n    return w * h\n", NULL);
  }
  if (err == NULL) {
    err = isola_sandbox_call_json(sandbox, "area", "[6, 7]", NULL, &sink);
  }
  int status = 0;
  if (err != NULL) {
    fprintf(stderr, "%s: %s\n", isola_error_code_name(isola_error_code(err)), isola_error_message(err));
    isola_error_free(err);
    status = 1;
  } else if (strcmp(result, "42") != 0) {
    fprintf(stderr, "area(6, 7) = %s, expected 42\n", result);
    status = 1;
  } else {
    printf("consumer: isola %s, area(6, 7) = %s\n", isola_version(), result);
  }
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
  return status;
}
