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
    host->user_data = (void *)handle;
    host->user_data_free = go_host_free;
    host->format = ISOLA_FORMAT_JSON;
    host->on_hostcall = go_host_call;
    host->on_http_request = go_host_http;
}

/* ---- worker thread pool for calls (see shim.h) ---- */

#include <errno.h>
#include <pthread.h>
#include <time.h>

enum { OP_EVAL, OP_EVAL_FILE, OP_CALL_JSON, OP_CALL };

typedef struct job {
    int op;
    const isola_sandbox_t *sb;
    const char *s1, *s2, *s3;
    isola_args_t *args;
    const isola_sink_t *sink;
    isola_error_t *result;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *next;
} job_t;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static job_t *queue_head, *queue_tail;
static int queued; /* jobs in the queue */
static int idle;   /* workers waiting for a job */

/* Idle workers exit after this many seconds without work. */
#define IDLE_SECONDS 30

static void run_job(job_t *j) {
    switch (j->op) {
    case OP_EVAL:
        j->result = isola_sandbox_eval(j->sb, j->s1, j->sink);
        break;
    case OP_EVAL_FILE:
        j->result = isola_sandbox_eval_file(j->sb, j->s1, j->sink);
        break;
    case OP_CALL_JSON:
        j->result = isola_sandbox_call_json(j->sb, j->s1, j->s2, j->s3, j->sink);
        break;
    case OP_CALL:
        j->result = isola_sandbox_call(j->sb, j->s1, j->args, j->sink);
        break;
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&pool_mu);
    for (;;) {
        while (queue_head == NULL) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += IDLE_SECONDS;
            idle++;
            int rc = pthread_cond_timedwait(&pool_cv, &pool_mu, &deadline);
            idle--;
            if (rc == ETIMEDOUT && queue_head == NULL) {
                pthread_mutex_unlock(&pool_mu);
                return NULL;
            }
        }
        job_t *j = queue_head;
        queue_head = j->next;
        if (queue_head == NULL) {
            queue_tail = NULL;
        }
        queued--;
        pthread_mutex_unlock(&pool_mu);

        run_job(j);

        pthread_mutex_lock(&j->mu);
        j->done = 1;
        pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&j->mu);

        pthread_mutex_lock(&pool_mu);
    }
}

static int submit(job_t *j, isola_error_t **err) {
    j->result = NULL;
    j->done = 0;
    j->next = NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);

    pthread_mutex_lock(&pool_mu);
    if (queue_tail) {
        queue_tail->next = j;
    } else {
        queue_head = j;
    }
    queue_tail = j;
    queued++;
    if (idle >= queued) {
        pthread_cond_signal(&pool_cv);
    } else {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &attr, worker_main, NULL);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            /* Take the job back out unless an idle worker can run it. */
            if (idle == 0) {
                job_t **pp = &queue_head;
                job_t *prev = NULL;
                while (*pp != j) {
                    prev = *pp;
                    pp = &(*pp)->next;
                }
                *pp = j->next;
                if (queue_tail == j) {
                    queue_tail = prev;
                }
                queued--;
                pthread_mutex_unlock(&pool_mu);
                pthread_cond_destroy(&j->cv);
                pthread_mutex_destroy(&j->mu);
                return rc;
            }
            pthread_cond_signal(&pool_cv);
        }
    }
    pthread_mutex_unlock(&pool_mu);

    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        pthread_cond_wait(&j->cv, &j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    *err = j->result;
    return 0;
}

int isola_go_eval(const isola_sandbox_t *sb, const char *code, const isola_sink_t *sink,
                  isola_error_t **err) {
    job_t j = {0};
    j.op = OP_EVAL;
    j.sb = sb;
    j.s1 = code;
    j.sink = sink;
    return submit(&j, err);
}

int isola_go_eval_file(const isola_sandbox_t *sb, const char *path, const isola_sink_t *sink,
                       isola_error_t **err) {
    job_t j = {0};
    j.op = OP_EVAL_FILE;
    j.sb = sb;
    j.s1 = path;
    j.sink = sink;
    return submit(&j, err);
}

int isola_go_call_json(const isola_sandbox_t *sb, const char *fn, const char *args,
                       const char *kwargs, const isola_sink_t *sink, isola_error_t **err) {
    job_t j = {0};
    j.op = OP_CALL_JSON;
    j.sb = sb;
    j.s1 = fn;
    j.s2 = args;
    j.s3 = kwargs;
    j.sink = sink;
    return submit(&j, err);
}

int isola_go_call(const isola_sandbox_t *sb, const char *fn, isola_args_t *args,
                  const isola_sink_t *sink, isola_error_t **err) {
    job_t j = {0};
    j.op = OP_CALL;
    j.sb = sb;
    j.s1 = fn;
    j.args = args;
    j.sink = sink;
    return submit(&j, err);
}
