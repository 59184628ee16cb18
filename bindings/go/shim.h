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

/* Run an isola eval/call on a worker thread of a small C thread pool and
 * wait for it. Return 0 with the call's error (or NULL) in *err, or an errno
 * value when no worker thread could be started.
 *
 * Why: the library invokes sink and host callbacks while the guest runs on a
 * wasmtime fiber stack. A Go thread (M) that made the cgo call cannot take a
 * callback on a foreign stack ("fatal error: morestack on g0"), but a thread
 * Go did not create can: the Go runtime then estimates its stack bounds at
 * every callback. */
int isola_go_eval(const isola_sandbox_t *sb, const char *code, const isola_sink_t *sink,
                  isola_error_t **err);
int isola_go_eval_file(const isola_sandbox_t *sb, const char *path, const isola_sink_t *sink,
                       isola_error_t **err);
int isola_go_call_json(const isola_sandbox_t *sb, const char *fn, const char *args,
                       const char *kwargs, const isola_sink_t *sink, isola_error_t **err);
int isola_go_call(const isola_sandbox_t *sb, const char *fn, isola_args_t *args,
                  const isola_sink_t *sink, isola_error_t **err);

#endif
