/* C glue between isola's callback tables and the Go callbacks of this
 * package. The Go side never stores Go pointers in C memory: user_data
 * carries a runtime/cgo.Handle (an integer). */
#ifndef ISOLA_GO_SHIM_H
#define ISOLA_GO_SHIM_H

#include <stdint.h>
#include "isola.h"

/* Fill a JSON sink whose callbacks forward to the Go sink behind handle. */
void isola_go_sink_init(isola_sink_t *sink, uintptr_t handle);

/* Fill a JSON host table whose callbacks forward to the Go host behind
 * handle; user_data_free deletes the handle. */
void isola_go_host_init(isola_host_t *host, uintptr_t handle);

#endif
