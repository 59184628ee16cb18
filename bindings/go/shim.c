#include <stddef.h>
#include <stdint.h>

#include "shim.h"
#include "_cgo_export.h"

/* Trampolines: isola's callbacks take const pointers and a void* user_data;
 * the exported Go functions take plain pointers and the handle as an
 * integer. The casts only drop const; Go never writes through them. */

static void go_sink_item(void *ud, const uint8_t *data, size_t len) {
    isolaGoSinkValue((uintptr_t)ud, 0, (uint8_t *)data, len);
}

static void go_sink_result(void *ud, const uint8_t *data, size_t len) {
    isolaGoSinkValue((uintptr_t)ud, 1, (uint8_t *)data, len);
}

static void go_sink_stdout(void *ud, const char *text, size_t len) {
    isolaGoSinkText((uintptr_t)ud, 0, (char *)text, len);
}

static void go_sink_stderr(void *ud, const char *text, size_t len) {
    isolaGoSinkText((uintptr_t)ud, 1, (char *)text, len);
}

static void go_sink_log(void *ud, uint32_t level, const char *logger, size_t logger_len,
                        const char *message, size_t message_len) {
    isolaGoSinkLog((uintptr_t)ud, level, (char *)logger, logger_len, (char *)message,
                   message_len);
}

void isola_go_sink_init(isola_sink_t *sink, uintptr_t handle) {
    sink->struct_size = sizeof *sink;
    sink->user_data = (void *)handle;
    sink->format = ISOLA_FORMAT_JSON;
    sink->on_item = go_sink_item;
    sink->on_result = go_sink_result;
    sink->on_stdout = go_sink_stdout;
    sink->on_stderr = go_sink_stderr;
    sink->on_log = go_sink_log;
}

static void go_host_call(void *ud, const char *name, size_t name_len, const uint8_t *payload,
                         size_t payload_len, isola_reply_t *reply) {
    isolaGoHostCall((uintptr_t)ud, (char *)name, name_len, (uint8_t *)payload, payload_len,
                    reply);
}

static void go_host_http(void *ud, const isola_http_request_t *request,
                         isola_http_reply_t *reply) {
    isolaGoHostHTTP((uintptr_t)ud, (isola_http_request_t *)request, reply);
}

static void go_host_free(void *ud) {
    isolaGoHostFree((uintptr_t)ud);
}

void isola_go_host_init(isola_host_t *host, uintptr_t handle) {
    host->struct_size = sizeof *host;
    host->user_data = (void *)handle;
    host->user_data_free = go_host_free;
    host->format = ISOLA_FORMAT_JSON;
    host->on_hostcall = go_host_call;
    host->on_http_request = go_host_http;
}
