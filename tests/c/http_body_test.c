/*
 * Streamed HTTP replies (isola_http_reply_start / isola_http_body_t):
 * status and headers first, body chunks pushed from any thread while the
 * guest reads them, then end, fail or an abandoned body.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_support.h"

enum mode {
  PUSH_FROM_THREAD,    /* start in the callback, push from a thread */
  TRY_PUSH_IN_CALLBACK, /* everything inside the callback */
  FAIL_AFTER_CHUNK,    /* one chunk, then isola_http_body_fail */
  FREE_WITHOUT_END,    /* one chunk, then free without ending */
  KEEP_FOR_LATER,      /* start, keep the body, push nothing */
  BLOCK_UNTIL_CALL_ENDS, /* a thread fills the body and blocks */
  START_LATER,         /* start the reply itself from a thread */
  BAD_CAPACITY,        /* start with capacity 0 */
  FREE_WHILE_BLOCKED,  /* a thread blocks on a full body, another frees it */
};

struct stream_host {
  enum mode mode;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int guest_saw_first; /* set by the 'saw' host call */
  int first_seen_before_last; /* the pusher's verdict */
  isola_http_body_t *kept;  /* KEEP_FOR_LATER */
  isola_http_reply_t *reply; /* START_LATER */
  pthread_t pusher;
  int has_pusher;
  isola_error_t *blocked_push_err; /* BLOCK_UNTIL_CALL_ENDS, FREE_WHILE_BLOCKED */
  pthread_t freer;                 /* FREE_WHILE_BLOCKED */
  atomic_int pushing;              /* FREE_WHILE_BLOCKED: the push started */
};

static const char first_event[] = "data: one\n\n";
static const char last_event[] = "data: two\n\n";

static void push_str(isola_http_body_t *body, const char *text) {
  CHECK_OK(isola_http_body_push(body, (const uint8_t *)text, strlen(text)));
}

/* Inside a callback: never blocks; the body has room. */
static void try_push_str(isola_http_body_t *body, const char *text) {
  bool pushed = false;
  CHECK_OK(isola_http_body_try_push(body, (const uint8_t *)text, strlen(text), &pushed));
  CHECK(pushed);
}

/* Wait up to `seconds` for the guest to report the first chunk. */
static int wait_for_first(struct stream_host *h, int seconds) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  pthread_mutex_lock(&h->lock);
  int rc = 0;
  while (!h->guest_saw_first && rc != ETIMEDOUT) {
    rc = pthread_cond_timedwait(&h->changed, &h->lock, &deadline);
  }
  int seen = h->guest_saw_first;
  pthread_mutex_unlock(&h->lock);
  return seen;
}

struct pusher_args {
  struct stream_host *host;
  isola_http_body_t *body;
};

/* Push the first event, wait until the guest has read it, push the last
 * one and end. */
static void *push_events(void *arg) {
  struct pusher_args *a = arg;
  push_str(a->body, first_event);
  int seen = wait_for_first(a->host, 60);
  pthread_mutex_lock(&a->host->lock);
  a->host->first_seen_before_last = seen;
  pthread_mutex_unlock(&a->host->lock);
  push_str(a->body, last_event);
  CHECK_OK(isola_http_body_end(a->body));
  isola_http_body_free(a->body);
  free(a);
  return NULL;
}

/* Fill a one-chunk body, then block on the second push until the call
 * ends (the guest never reads). */
static void *push_until_the_call_ends(void *arg) {
  struct pusher_args *a = arg;
  push_str(a->body, first_event);
  a->host->blocked_push_err =
      isola_http_body_push(a->body, (const uint8_t *)last_event, strlen(last_event));
  CHECK(isola_http_body_is_abandoned(a->body));
  isola_http_body_free(a->body);
  free(a);
  return NULL;
}

/* FREE_WHILE_BLOCKED: push into the full body and block there. */
static void *push_into_full_body(void *arg) {
  struct pusher_args *a = arg;
  atomic_store(&a->host->pushing, 1);
  a->host->blocked_push_err =
      isola_http_body_push(a->body, (const uint8_t *)last_event, strlen(last_event));
  free(a);
  return NULL;
}

/* FREE_WHILE_BLOCKED: free the body once the push above is waiting. */
static void *free_body_later(void *arg) {
  struct pusher_args *a = arg;
  while (!atomic_load(&a->host->pushing)) {
    sleep_ms(5);
  }
  sleep_ms(200); /* the push is waiting for room */
  isola_http_body_free(a->body);
  free(a);
  return NULL;
}

static void start_pusher(struct stream_host *h, isola_http_body_t *body, void *(*run)(void *)) {
  struct pusher_args *a = malloc(sizeof *a);
  CHECK(a != NULL);
  a->host = h;
  a->body = body;
  CHECK(pthread_create(&h->pusher, NULL, run, a) == 0);
  h->has_pusher = 1;
}

static isola_header_t sse_headers[] = {{"Content-Type", "text/event-stream"}};

/* START_LATER: the reply itself is started on another thread. */
static void *start_from_thread(void *arg) {
  struct stream_host *h = arg;
  sleep_ms(20);
  isola_http_body_t *body = NULL;
  CHECK_OK(isola_http_reply_start(h->reply, 200, sse_headers, 1, 1, &body));
  push_str(body, first_event);
  push_str(body, last_event);
  CHECK_OK(isola_http_body_end(body));
  isola_http_body_free(body);
  return NULL;
}

static void on_http(void *user_data, const isola_http_request_t *request, isola_http_reply_t *reply) {
  struct stream_host *h = user_data;
  (void)request;
  if (h->mode == START_LATER) {
    h->reply = reply;
    CHECK(pthread_create(&h->pusher, NULL, start_from_thread, h) == 0);
    h->has_pusher = 1;
    return;
  }
  isola_http_body_t *body = NULL;
  if (h->mode == BAD_CAPACITY) {
    /* The reply is consumed anyway: the guest gets the error too. */
    isola_error_t *err = EXPECT_ERROR(isola_http_reply_start(reply, 200, NULL, 0, 0, &body),
                                      ISOLA_ERROR_INVALID_ARGUMENT);
    CHECK_CONTAINS(isola_error_message(err), "capacity");
    isola_error_free(err);
    CHECK(body == NULL);
    return;
  }
  size_t capacity = h->mode == TRY_PUSH_IN_CALLBACK ? 2 : 1;
  CHECK_OK(isola_http_reply_start(reply, 200, sse_headers, 1, capacity, &body));
  CHECK(body != NULL);
  switch (h->mode) {
    case PUSH_FROM_THREAD:
      start_pusher(h, body, push_events);
      break;
    case TRY_PUSH_IN_CALLBACK: {
      bool pushed = false;
      CHECK_OK(isola_http_body_try_push(body, (const uint8_t *)"a", 1, &pushed));
      CHECK(pushed);
      CHECK_OK(isola_http_body_try_push(body, (const uint8_t *)"b", 1, &pushed));
      CHECK(pushed);
      /* Full: nothing queued, no blocking. */
      CHECK_OK(isola_http_body_try_push(body, (const uint8_t *)"c", 1, &pushed));
      CHECK(!pushed);
      /* A blocking push inside a callback is refused, not a deadlock. */
      isola_error_t *err = EXPECT_ERROR(isola_http_body_push(body, (const uint8_t *)"c", 1),
                                        ISOLA_ERROR_INVALID_STATE);
      CHECK_CONTAINS(isola_error_message(err), "inside an isola callback");
      isola_error_free(err);
      CHECK_OK(isola_http_body_end(body));
      CHECK_ERROR(isola_http_body_end(body), ISOLA_ERROR_INVALID_STATE);
      CHECK_ERROR(isola_http_body_fail(body, "late"), ISOLA_ERROR_INVALID_STATE);
      CHECK_ERROR(isola_http_body_try_push(body, (const uint8_t *)"d", 1, &pushed),
                  ISOLA_ERROR_INVALID_STATE);
      isola_http_body_free(body);
      break;
    }
    case FAIL_AFTER_CHUNK:
      try_push_str(body, "partial");
      CHECK_OK(isola_http_body_fail(body, "upstream reset"));
      isola_http_body_free(body);
      break;
    case FREE_WITHOUT_END:
      try_push_str(body, "partial");
      isola_http_body_free(body);
      break;
    case KEEP_FOR_LATER:
      h->kept = body;
      break;
    case BLOCK_UNTIL_CALL_ENDS:
      start_pusher(h, body, push_until_the_call_ends);
      break;
    case FREE_WHILE_BLOCKED: {
      try_push_str(body, "a");
      start_pusher(h, body, push_into_full_body);
      struct pusher_args *a = malloc(sizeof *a);
      CHECK(a != NULL);
      a->host = h;
      a->body = body;
      CHECK(pthread_create(&h->freer, NULL, free_body_later, a) == 0);
      break;
    }
    case START_LATER:
    case BAD_CAPACITY:
      break;
  }
}

static void on_hostcall(void *user_data, const char *name, size_t name_len, const uint8_t *payload,
                        size_t payload_len, isola_reply_t *reply) {
  struct stream_host *h = user_data;
  (void)name_len;
  (void)payload_len;
  if (strcmp(name, "saw") == 0 && strstr((const char *)payload, "one") != NULL) {
    pthread_mutex_lock(&h->lock);
    h->guest_saw_first = 1;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
  }
  CHECK_OK(isola_reply_ok_json(reply, "null"));
}

static isola_sandbox_t *sandbox_for(isola_template_t *tpl, struct stream_host *h, enum mode mode) {
  memset(h, 0, sizeof *h);
  h->mode = mode;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->changed, NULL);
  isola_host_t host = {
      .struct_size = sizeof(isola_host_t),
      .user_data = h,
      .format = ISOLA_FORMAT_JSON,
      .on_hostcall = on_hostcall,
      .on_http_request = on_http,
  };
  isola_sandbox_options_t *options = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_host(options, &host));
  isola_sandbox_t *sb = new_sandbox(tpl, options);
  isola_sandbox_options_free(options);
  return sb;
}

static void finish(struct stream_host *h) {
  if (h->has_pusher) {
    CHECK(pthread_join(h->pusher, NULL) == 0);
  }
  pthread_cond_destroy(&h->changed);
  pthread_mutex_destroy(&h->lock);
}

/* Reads the body event by event, telling the host about each one. */
static const char read_events[] =
    "from sandbox import http\n"
    "import sandbox\n"
    "async def events():\n"
    "    r = await http.get('https://llm.test/stream')\n"
    "    yield [r.status, r.header('content-type')]\n"
    "    async for chunk in r.aiter_bytes():\n"
    "        await sandbox.hostcall('saw', chunk.decode())\n"
    "        yield chunk.decode()\n"
    "async def read_all():\n"
    "    try:\n"
    "        r = await http.get('https://llm.test/stream')\n"
    "        return ['ok', (await r.read()).decode()]\n"
    "    except http.HTTPError as e:\n"
    "        return ['error', str(e)]\n"
    "async def read_some():\n"
    "    r = await http.get('https://llm.test/stream')\n"
    "    global kept\n"
    "    kept = r\n"
    "    return r.status\n";

/* Join the host's threads; the blocked push returned INVALID_STATE. Frees
 * the sandbox and template. */
static void finish_woken_push(struct stream_host *h, isola_sandbox_t *sb, isola_template_t *tpl) {
  finish(h);
  CHECK(h->blocked_push_err != NULL);
  CHECK(isola_error_code(h->blocked_push_err) == ISOLA_ERROR_INVALID_STATE);
  isola_error_free(h->blocked_push_err);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

/* Evaluate `code`, then call `function` without arguments; its JSON
 * result (malloc'd). */
static char *call_json_result_of(isola_sandbox_t *sb, const char *code, const char *function) {
  CHECK_OK(isola_sandbox_eval(sb, code, NULL));
  return call_json_result(sb, function, NULL);
}

/* A fresh sandbox whose host answers in `mode`; returns read_all()'s JSON
 * result (malloc'd). */
static char *read_all_with(enum mode mode) {
  isola_template_t *tpl = new_template();
  struct stream_host h;
  isola_sandbox_t *sb = sandbox_for(tpl, &h, mode);
  CHECK_OK(isola_sandbox_eval(sb, read_events, NULL));
  char *result = call_json_result(sb, "read_all", NULL);
  finish(&h);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
  return result;
}

static void chunks_pushed_from_another_thread_arrive_as_they_are_pushed(void) {
  isola_template_t *tpl = new_template();
  struct stream_host h;
  isola_sandbox_t *sb = sandbox_for(tpl, &h, PUSH_FROM_THREAD);
  CHECK_OK(isola_sandbox_eval(sb, read_events, NULL));
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  CHECK_OK(isola_sandbox_call_json(sb, "events", NULL, NULL, &sink));
  CHECK_STR_EQ(buffer_str(&cap.items),
               "[200,\"text/event-stream\"]\n\"data: one\\n\\n\"\n\"data: two\\n\\n\"\n");
  finish(&h);
  /* The guest had the first event before the host pushed the last one. */
  CHECK(h.first_seen_before_last);
  capture_free(&cap);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

static void try_push_inside_the_callback_never_blocks(void) {
  char *result = read_all_with(TRY_PUSH_IN_CALLBACK);
  CHECK_STR_EQ(result, "[\"ok\",\"ab\"]");
  free(result);
}

static void failed_body_raises_http_error_after_its_chunks(void) {
  isola_template_t *tpl = new_template();
  struct stream_host h;
  isola_sandbox_t *sb = sandbox_for(tpl, &h, FAIL_AFTER_CHUNK);
  CHECK_OK(isola_sandbox_eval(sb, read_events, NULL));
  char *result = call_json_result(sb, "read_all", NULL);
  CHECK_CONTAINS(result, "\"error\"");
  CHECK_CONTAINS(result, "upstream reset");
  free(result);
  /* The chunk before the failure was delivered first. */
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_call_json(sb, "events", NULL, NULL, &sink),
                                    ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "HTTPError");
  CHECK_CONTAINS(buffer_str(&cap.items), "\"partial\"");
  isola_error_free(err);
  capture_free(&cap);
  finish(&h);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

static void body_freed_without_end_is_an_error_not_a_short_body(void) {
  char *result = read_all_with(FREE_WITHOUT_END);
  CHECK_CONTAINS(result, "\"error\"");
  CHECK_CONTAINS(result, "without ending it");
  free(result);
}

static void body_is_abandoned_once_its_call_ends(void) {
  isola_template_t *tpl = new_template();
  struct stream_host h;
  isola_sandbox_t *sb = sandbox_for(tpl, &h, KEEP_FOR_LATER);
  CHECK_OK(isola_sandbox_eval(sb, read_events, NULL));
  char *result = call_json_result(sb, "read_some", NULL);
  CHECK_STR_EQ(result, "200");
  free(result);
  CHECK(h.kept != NULL);
  CHECK(isola_http_body_is_abandoned(h.kept));
  isola_error_t *err = EXPECT_ERROR(
      isola_http_body_push(h.kept, (const uint8_t *)"x", 1), ISOLA_ERROR_INVALID_STATE);
  CHECK_CONTAINS(isola_error_message(err), "has ended");
  isola_error_free(err);
  bool pushed = true;
  CHECK_ERROR(isola_http_body_try_push(h.kept, (const uint8_t *)"x", 1, &pushed),
              ISOLA_ERROR_INVALID_STATE);
  CHECK_ERROR(isola_http_body_end(h.kept), ISOLA_ERROR_INVALID_STATE);
  isola_http_body_free(h.kept);
  /* The guest kept the response: reading it in a later call is an error,
   * never a hang or a silently short body. */
  struct capture cap = {0};
  isola_sink_t sink = capture_sink(&cap, ISOLA_FORMAT_JSON);
  isola_error_t *read_err = EXPECT_ERROR(
      isola_sandbox_eval(sb, "await kept.read()\n", &sink), ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(read_err), "HTTPError");
  isola_error_free(read_err);
  capture_free(&cap);
  finish(&h);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
}

static void push_blocked_on_a_full_body_wakes_when_the_call_ends(void) {
  isola_template_t *tpl = new_template();
  struct stream_host h;
  isola_sandbox_t *sb = sandbox_for(tpl, &h, BLOCK_UNTIL_CALL_ENDS);
  CHECK_OK(isola_sandbox_eval(sb, read_events, NULL));
  /* Give the pusher time to fill the body and block. */
  CHECK_OK(isola_sandbox_eval(
      sb, "import time\nr = await http.get('https://llm.test/stream')\ntime.sleep(0.2)\n", NULL));
  finish_woken_push(&h, sb, tpl);
}

static void reply_started_later_from_another_thread(void) {
  char *result = read_all_with(START_LATER);
  CHECK_STR_EQ(result, "[\"ok\",\"data: one\\n\\ndata: two\\n\\n\"]");
  free(result);
}

static void bad_capacity_fails_the_request_in_the_guest_too(void) {
  char *result = read_all_with(BAD_CAPACITY);
  CHECK_CONTAINS(result, "\"error\"");
  CHECK_CONTAINS(result, "capacity");
  free(result);
}

static void free_while_a_push_is_blocked_wakes_the_push(void) {
  isola_template_t *tpl = new_template();
  struct stream_host h;
  isola_sandbox_t *sb = sandbox_for(tpl, &h, FREE_WHILE_BLOCKED);
  /* The guest reads only after the free: it gets the chunk pushed before,
   * then the error of a body freed without an end. */
  char *result = call_json_result_of(sb,
                                     "import time\n"
                                     "from sandbox import http\n"
                                     "async def late_reader():\n"
                                     "    r = await http.get('https://llm.test/stream')\n"
                                     "    time.sleep(1)\n"
                                     "    parts = []\n"
                                     "    try:\n"
                                     "        async for chunk in r.aiter_bytes():\n"
                                     "            parts.append(chunk.decode())\n"
                                     "    except http.HTTPError as e:\n"
                                     "        parts.append('error: ' + str(e))\n"
                                     "    return parts\n",
                                     "late_reader");
  CHECK_CONTAINS(result, "[\"a\",\"error: ");
  CHECK_CONTAINS(result, "without ending it");
  free(result);
  CHECK(pthread_join(h.freer, NULL) == 0);
  finish_woken_push(&h, sb, tpl);
}

static void bad_arguments_are_refused_clearly(void) {
  isola_http_body_t *body = NULL;
  CHECK_ERROR(isola_http_reply_start(NULL, 200, NULL, 0, 1, &body), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK(body == NULL);
  CHECK_ERROR(isola_http_body_push(NULL, (const uint8_t *)"x", 1), ISOLA_ERROR_INVALID_ARGUMENT);
  bool pushed = false;
  CHECK_ERROR(isola_http_body_try_push(NULL, (const uint8_t *)"x", 1, &pushed),
              ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_http_body_end(NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_http_body_fail(NULL, "x"), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK(isola_http_body_is_abandoned(NULL));
  isola_http_body_free(NULL);
}

int main(int argc, char **argv) {
  static const struct test_case cases[] = {
      TEST_CASE(chunks_pushed_from_another_thread_arrive_as_they_are_pushed),
      TEST_CASE(try_push_inside_the_callback_never_blocks),
      TEST_CASE(failed_body_raises_http_error_after_its_chunks),
      TEST_CASE(body_freed_without_end_is_an_error_not_a_short_body),
      TEST_CASE(body_is_abandoned_once_its_call_ends),
      TEST_CASE(push_blocked_on_a_full_body_wakes_when_the_call_ends),
      TEST_CASE(reply_started_later_from_another_thread),
      TEST_CASE(bad_capacity_fails_the_request_in_the_guest_too),
      TEST_CASE(free_while_a_push_is_blocked_wakes_the_push),
      TEST_CASE(bad_arguments_are_refused_clearly),
  };
  return RUN_TESTS(argc, argv, cases);
}
