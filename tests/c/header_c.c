/* isola.h must compile as strict ISO C99 (-std=c99 -pedantic -Werror) and
 * agree with the library it is linked to. */
#include <isola.h>
#include <isola.h> /* include guard */

#include <stdio.h>
#include <string.h>

int main(void) {
  char expected[32];
  isola_sink_t sink = {.struct_size = sizeof(isola_sink_t)};
  isola_error_code_t code = ISOLA_ERROR_INTERNAL;
  sink.format = ISOLA_FORMAT_CBOR;
  snprintf(expected, sizeof expected, "%d.%d.%d", ISOLA_VERSION_MAJOR, ISOLA_VERSION_MINOR,
           ISOLA_VERSION_PATCH);
  if (strcmp(isola_version(), expected) != 0) {
    fprintf(stderr, "header %s, library %s\n", expected, isola_version());
    return 1;
  }
  if (code != 10 || sink.format != 1 || ISOLA_MOUNT_READ_WRITE != 1) {
    fprintf(stderr, "unexpected constant values\n");
    return 1;
  }
  printf("C99 header check ok: isola %s\n", isola_version());
  return 0;
}
