/*
 * Host callbacks (hostcall, HTTP) with replies now or later from another
 * thread, streamed arguments pushed from another thread, argument lists.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

struct host_state {
  atomic_int calls;
  atomic_int freed;
  int defer; /* answer from a thread instead of inside the callback */
};

struct deferred {
  isola_reply_t *reply;
  char json[64];
};

static void *answer_later(void *arg) {
  struct deferred *d = arg;
  sleep_ms(50);
  CHECK_OK(isola_reply_ok_json(d->reply, d->json));
  free(d);
  return NULL;
}

static void on_hostcall(void *user_data, const char *name, size_t name_len, const uint8_t *payload,
                        size_t payload_len, isola_reply_t *reply) {
  struct host_state *state = user_data;
  atomic_fetch_add(&state->calls, 1);
  CHECK(strlen(name) == name_len);
  CHECK(((const char *)payload)[payload_len] == '\0');
  if (strcmp(name, "double") == 0) {
    long n = strtol((const char *)payload, NULL, 10);
    char json[64];
    snprintf(json, sizeof json, "%ld", n * 2);
    if (state->defer) {
      struct deferred *d = malloc(sizeof *d);
      CHECK(d != NULL);
      d->reply = reply;
      memcpy(d->json, json, sizeof json);
      pthread_t thread;
      CHECK(pthread_create(&thread, NULL, answer_later, d) == 0);
      pthread_detach(thread);
    } else {
      CHECK_OK(isola_reply_ok_json(reply, json));
    }
  } else {
    CHECK_OK(isola_reply_error(reply, "no such tool"));
  }
}

static void on_http(void *user_data, const isola_http_request_t *request, isola_http_reply_t *reply) {
  (void)user_data;
  CHECK_STR_EQ(request->method, "POST");
  CHECK_STR_EQ(request->url, "https://api.test/echo");
  CHECK(request->body_len == 5 && memcmp(request->body, "hello", 5) == 0);
  int saw_header = 0;
  for (size_t i = 0; i < request->header_count; i++) {
    if (strcmp(request->headers[i].name, "X-Key") == 0 && strcmp(request->headers[i].value, "k") == 0) {
      saw_header = 1;
    }
  }
  CHECK(saw_header);
  isola_header_t headers[] = {{"Content-Type", "text/plain"}};
  CHECK_OK(isola_http_reply_ok(reply, 201, headers, 1, (const uint8_t *)"created", 7));
}

static void free_state(void *user_data) {
  struct host_state *state = user_data;
  atomic_fetch_add(&state->freed, 1);
}

static isola_host_t host_table(struct host_state *state) {
  isola_host_t host = {
      .struct_size = sizeof(isola_host_t),
      .user_data = state,
      .user_data_free = free_state,
      .format = ISOLA_FORMAT_JSON,
      .on_hostcall = on_hostcall,
      .on_http_request = on_http,
  };
  return host;
}

static isola_sandbox_t *sandbox_with_host(isola_template_t *tpl, struct host_state *state) {
  isola_host_t host = host_table(state);
  isola_sandbox_options_t *options = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_host(options, &host));
  isola_sandbox_t *sb = new_sandbox(tpl, options);
  isola_sandbox_options_free(options);
  return sb;
}

static void eval_stdout(isola_sandbox_t *sb, const char *code, const char *expected) {
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sb, code, &sink));
  CHECK_STR_EQ(buffer_str(&cap.out), expected);
  capture_free(&cap);
}

static void hostcall_answered_inside_the_callback(void) {
  isola_template_t *tpl = new_template();
  struct host_state state = {0};
  isola_sandbox_t *sb = sandbox_with_host(tpl, &state);
  eval_stdout(sb, "import sandbox\nprint(await sandbox.hostcall('double', 21))\n", "42\n");
  CHECK(atomic_load(&state.calls) == 1);
  isola_sandbox_free(sb);
  CHECK(atomic_load(&state.freed) == 1);
  isola_template_free(tpl);
}

static void hostcalls_answered_later_from_other_threads_run_concurrently(void) {
  isola_template_t *tpl = new_template();
  struct host_state state = {.defer = 1};
  isola_sandbox_t *sb = sandbox_with_host(tpl, &state);
  double start = now_ms();
  eval_stdout(sb,
              "import asyncio, sandbox\n"
              "print(await asyncio.gather(*[sandbox.hostcall('double', i) for i in range(8)]))\n",
              "[0, 2, 4, 6, 8, 10, 12, 14]\n");
  /* Eight 50 ms answers in sequence would take 400 ms. */
  CHECK(now_ms() - start < 350);
  CHECK(atomic_load(&state.calls) == 8);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

static void error_reply_raises_host_error_in_the_guest(void) {
  isola_template_t *tpl = new_template();
  struct host_state state = {0};
  isola_sandbox_t *sb = sandbox_with_host(tpl, &state);
  eval_stdout(sb,
              "import sandbox\ntry:\n    sandbox.hostcall_sync('missing')\n"
              "except sandbox.HostError as e:\n    print('refused:', e)\n",
              "refused: no such tool\n");
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

static void http_request_reaches_the_callback_and_the_reply_the_guest(void) {
  isola_template_t *tpl = new_template();
  struct host_state state = {0};
  isola_sandbox_t *sb = sandbox_with_host(tpl, &state);
  eval_stdout(sb,
              "from sandbox import http\n"
              "r = await http.post('https://api.test/echo', body=b'hello', headers={'X-Key': 'k'})\n"
              "print(r.status, r.header('content-type'), await r.text())\n",
              "201 text/plain created\n");
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

static void without_a_host_hostcalls_are_refused_clearly(void) {
  setup(NULL);
  isola_sandbox_t *sb = sandbox;
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_eval(sb,
                              "import sandbox\ntry:\n    sandbox.hostcall_sync('x')\n"
                              "except sandbox.HostError as e:\n    print(e)\n",
                              &sink));
  CHECK_CONTAINS(buffer_str(&cap.out), "not supported");
  capture_free(&cap);
  teardown();
}

static void host_without_its_struct_size_is_refused_and_keeps_user_data(void) {
  struct host_state state = {0};
  isola_host_t host = host_table(&state);
  host.struct_size = 0;
  isola_sandbox_options_t *options = isola_sandbox_options_new();
  isola_error_t *err =
      EXPECT_ERROR(isola_sandbox_options_set_host(options, &host), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "sizeof(isola_host_t)");
  isola_error_free(err);
  host.struct_size = sizeof host + 8;
  err = EXPECT_ERROR(isola_sandbox_options_set_host(options, &host), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "newer isola.h");
  isola_error_free(err);
  isola_sandbox_options_free(options);
  CHECK(atomic_load(&state.freed) == 0);
}

static void bad_host_format_is_an_invalid_argument_and_keeps_user_data(void) {
  struct host_state state = {0};
  isola_host_t host = {.struct_size = sizeof(isola_host_t), .user_data = &state, .user_data_free = free_state, .format = 7};
  isola_sandbox_options_t *options = isola_sandbox_options_new();
  CHECK_ERROR(isola_sandbox_options_set_host(options, &host), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_options_set_host(options, NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  isola_sandbox_options_free(options);
  CHECK(atomic_load(&state.freed) == 0);
  CHECK_ERROR(isola_reply_ok_json(NULL, "1"), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_http_reply_error(NULL, "x"), ISOLA_ERROR_INVALID_ARGUMENT);
}

static void user_data_free_runs_once_however_often_a_table_is_set(void) {
  struct host_state state = {0};
  struct host_state other = {0};
  isola_host_t host = host_table(&state);
  isola_host_t replacement = host_table(&other);

  isola_template_options_t *topts = isola_template_options_new();
  CHECK_OK(isola_sandbox_options_set_host(isola_template_options_defaults(topts), &host));
  isola_sandbox_options_t *a = isola_sandbox_options_new();
  isola_sandbox_options_t *b = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_host(a, &host));
  CHECK_OK(isola_sandbox_options_set_host(a, &host)); /* twice on one object */
  CHECK_OK(isola_sandbox_options_set_host(b, &host)); /* and on another */
  isola_template_t *tpl = NULL;
  CHECK_OK(isola_template_new(topts, &tpl));
  isola_template_options_free(topts);
  isola_sandbox_t *sb = new_sandbox(tpl, a);
  isola_sandbox_options_free(a);
  /* Replacing the host on b: the other users still hold state. */
  CHECK_OK(isola_sandbox_options_set_host(b, &replacement));
  isola_sandbox_options_free(b);
  CHECK(atomic_load(&state.freed) == 0);
  CHECK(atomic_load(&other.freed) == 1);
  eval_stdout(sb, "import sandbox\nprint(sandbox.hostcall_sync('double', 21))\n", "42\n");
  isola_sandbox_t *from_defaults = new_sandbox(tpl, NULL);
  eval_stdout(from_defaults, "import sandbox\nprint(sandbox.hostcall_sync('double', 4))\n", "8\n");
  isola_sandbox_free(from_defaults);
  isola_sandbox_free(sb);
  CHECK(atomic_load(&state.freed) == 0); /* the template's defaults still use it */
  isola_template_free(tpl);
  CHECK(atomic_load(&state.freed) == 1);
  CHECK(atomic_load(&state.calls) == 2);
  /* Freed user_data may be registered again, as new. */
  isola_sandbox_options_t *c = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_host(c, &host));
  isola_sandbox_options_free(c);
  CHECK(atomic_load(&state.freed) == 2);
}

struct held_reply {
  isola_reply_t *reply;
  bool abandoned_during_call;
  void *call_data;
};

static void hold_hostcall(void *user_data, const char *name, size_t name_len,
                          const uint8_t *payload, size_t payload_len, isola_reply_t *reply) {
  (void)name;
  (void)name_len;
  (void)payload;
  (void)payload_len;
  struct held_reply *held = user_data;
  held->reply = reply; /* answered later, after the call is gone */
  held->abandoned_during_call = isola_reply_is_abandoned(reply);
  held->call_data = isola_reply_call_data(reply);
}

static void host_sees_its_call_data_and_when_its_call_was_abandoned(void) {
  struct held_reply held = {0};
  isola_host_t host = {.struct_size = sizeof(isola_host_t), .user_data = &held, .format = ISOLA_FORMAT_JSON, .on_hostcall = hold_hostcall};
  isola_sandbox_options_t *options = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_host(options, &host));
  CHECK_OK(isola_sandbox_options_set_timeout_ms(options, 300));
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sb = new_sandbox(tpl, options);
  isola_sandbox_options_free(options);
  int tenant = 7;
  CHECK_OK(isola_sandbox_set_call_data(sb, &tenant));
  bool usable = false;
  CHECK_OK(isola_sandbox_is_usable(sb, &usable));
  CHECK(usable);
  CHECK_ERROR(isola_sandbox_eval(sb, "import sandbox\nsandbox.hostcall_sync('slow')\n", NULL),
              ISOLA_ERROR_TIMEOUT);
  CHECK(held.reply != NULL);
  CHECK(!held.abandoned_during_call);
  CHECK(held.call_data == &tenant);
  /* The call timed out: the host may stop working on it. */
  CHECK(isola_reply_is_abandoned(held.reply));
  CHECK(isola_reply_call_data(held.reply) == &tenant);
  CHECK(isola_reply_is_abandoned(NULL));
  CHECK(isola_reply_call_data(NULL) == NULL);
  CHECK_OK(isola_reply_ok_json(held.reply, "1")); /* accepted and dropped */
  /* The timeout made the sandbox unusable, and it says so. */
  CHECK_OK(isola_sandbox_is_usable(sb, &usable));
  CHECK(!usable);
  CHECK_ERROR(isola_sandbox_is_usable(sb, NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_is_usable(NULL, &usable), ISOLA_ERROR_INVALID_ARGUMENT);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

struct pusher {
  isola_stream_t *stream;
  int count;
};

static void *push_values(void *arg) {
  struct pusher *p = arg;
  for (int i = 1; i <= p->count; i++) {
    char json[32];
    snprintf(json, sizeof json, "%d", i);
    CHECK_OK(isola_stream_push_json(p->stream, json));
  }
  CHECK_OK(isola_stream_close(p->stream));
  return NULL;
}

static void stream_pushed_from_another_thread_feeds_a_generator(void) {
  setup(NULL);
  isola_sandbox_t *sb = sandbox;
  CHECK_OK(isola_sandbox_eval(sb, "def running_total(xs, *, scale):\n    t = 0\n    for x in xs:\n"
                                  "        t += x * scale\n        yield t\n    return 'end'\n",
                              NULL));
  isola_stream_t *stream = NULL;
  CHECK_OK(isola_stream_new(2, &stream)); /* small: the pusher must wait for the guest */
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_stream(args, NULL, stream));
  CHECK_OK(isola_args_add_json(args, "scale", "10"));
  /* a stream feeds one argument only (named here: a positional one after
   * a keyword would be refused for its place first) */
  CHECK_ERROR(isola_args_add_stream(args, "again", stream), ISOLA_ERROR_INVALID_STATE);
  struct pusher p = {stream, 100};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, push_values, &p) == 0);
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call(sb, "running_total", args, &sink));
  pthread_join(thread, NULL);
  CHECK(cap.item_count == 100);
  CHECK_STR_EQ(buffer_str(&cap.result), "\"end\"");
  CHECK_CONTAINS(buffer_str(&cap.items), "50500\n");
  CHECK_ERROR(isola_stream_push_json(stream, "1"), ISOLA_ERROR_INVALID_STATE);
  capture_free(&cap);
  isola_args_free(args);
  isola_stream_free(stream);
  teardown();
}

static void stream_push_after_the_call_ended_fails_cleanly(void) {
  setup(NULL);
  isola_sandbox_t *sb = sandbox;
  CHECK_OK(isola_sandbox_eval(sb, "def first(xs):\n    return next(iter(xs))\n", NULL));
  isola_stream_t *stream = NULL;
  CHECK_OK(isola_stream_new(4, &stream));
  CHECK_OK(isola_stream_push_json(stream, "\"a\""));
  CHECK_OK(isola_stream_push_cbor(stream, (const uint8_t *)"\x61\x62", 2));
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_stream(args, "xs", stream));
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call(sb, "first", args, &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "\"a\"");
  /* The call is over and dropped its end: pushing reports it, never blocks. */
  CHECK_ERROR(isola_stream_push_json(stream, "3"), ISOLA_ERROR_INVALID_STATE);
  CHECK_ERROR(isola_stream_push_json(stream, "not json"), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_stream_new(0, &stream), ISOLA_ERROR_INVALID_ARGUMENT);
  capture_free(&cap);
  isola_args_free(args);
  isola_stream_free(stream);
  teardown();
}

static void failed_stream_raises_stream_error_after_its_values(void) {
  setup(NULL);
  isola_sandbox_t *sb = sandbox;
  CHECK_OK(isola_sandbox_eval(sb, "import sandbox\ndef drain(xs):\n    seen = []\n    try:\n"
                                  "        for x in xs:\n            seen.append(x)\n"
                                  "    except sandbox.StreamError as e:\n        return [seen, 'failed' in str(e) and 'disk on fire' in str(e)]\n"
                                  "    return [seen, False]\n",
                              NULL));
  isola_stream_t *stream = NULL;
  CHECK_OK(isola_stream_new(8, &stream));
  CHECK_OK(isola_stream_push_json(stream, "1"));
  CHECK_OK(isola_stream_fail(stream, "disk on fire"));
  CHECK_ERROR(isola_stream_push_json(stream, "2"), ISOLA_ERROR_INVALID_STATE);
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_stream(args, NULL, stream));
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call(sb, "drain", args, &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "[[1],true]");
  capture_free(&cap);
  isola_args_free(args);
  isola_stream_free(stream);
  teardown();
}

static void args_list_mixes_json_and_cbor(void) {
  setup(NULL);
  isola_sandbox_t *sb = sandbox;
  CHECK_OK(isola_sandbox_eval(sb, "def f(a, b, *, c):\n    return [a, b, c]\n", NULL));
  isola_args_t *args = isola_args_new();
  CHECK_OK(isola_args_add_json(args, NULL, "1"));
  CHECK_OK(isola_args_add_cbor(args, NULL, (const uint8_t *)"\x82\x01\x02", 3));
  CHECK_OK(isola_args_add_json(args, "c", "{\"k\": null}"));
  CHECK_ERROR(isola_args_add_cbor(args, NULL, (const uint8_t *)"\x82\x01", 2), ISOLA_ERROR_INVALID_ARGUMENT);
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call(sb, "f", args, &sink));
  CHECK_STR_EQ(buffer_str(&cap.result), "[1,[1,2],{\"k\":null}]");
  capture_free(&cap);
  isola_args_free(args);
  teardown();
}

int main(int argc, char **argv) {
  static const struct test_case cases[] = {
      TEST_CASE(hostcall_answered_inside_the_callback),
      TEST_CASE(hostcalls_answered_later_from_other_threads_run_concurrently),
      TEST_CASE(error_reply_raises_host_error_in_the_guest),
      TEST_CASE(http_request_reaches_the_callback_and_the_reply_the_guest),
      TEST_CASE(without_a_host_hostcalls_are_refused_clearly),
      TEST_CASE(host_without_its_struct_size_is_refused_and_keeps_user_data),
      TEST_CASE(bad_host_format_is_an_invalid_argument_and_keeps_user_data),
      TEST_CASE(user_data_free_runs_once_however_often_a_table_is_set),
      TEST_CASE(host_sees_its_call_data_and_when_its_call_was_abandoned),
      TEST_CASE(stream_pushed_from_another_thread_feeds_a_generator),
      TEST_CASE(stream_push_after_the_call_ended_fails_cleanly),
      TEST_CASE(failed_stream_raises_stream_error_after_its_values),
      TEST_CASE(args_list_mixes_json_and_cbor),
  };
  return RUN_TESTS(argc, argv, cases);
}
