/*
 * isola-bench: isola's side of `make bench`, measured through the C ABI.
 *
 *   isola-bench first              one process: template load (warm cache)
 *                                  and the first result of a fresh sandbox
 *   isola-bench measure [options]  fresh sandboxes, warm calls, throughput
 *                                  on 1 and 2 threads, memory, live count
 *   isola-bench compute FILE REPS [NAMES]
 *                                  evaluate FILE (benches/compute/kernels.py)
 *                                  and print bench_run(REPS), every kernel or
 *                                  the comma-separated NAMES
 *   isola-bench runtime NAME|PATH|default [N [FILE REPS]]
 *                                  template load, median sandbox create and
 *                                  first eval over N (30) sandboxes; with
 *                                  FILE, bench_run(REPS) of it in a sandbox
 *                                  (benches/compute/sci_kernels.py)
 *   isola-bench smoke              a few iterations of `measure` (CTest)
 *   isola-bench version            the library's version
 *
 * Every mode prints one JSON object on stdout; benches/run.py reads them
 * and prints the table. Nothing here judges the figures.
 *
 * measure options: --fresh N (fresh sandboxes timed, default 200),
 * --calls N (warm calls per batch, default 500), --batches N (default 30),
 * --seconds S (per throughput run, default 2), --memory-sandboxes N
 * (sandboxes whose private memory is averaged, default 200), --live-max N
 * (stop the live count there, default 10000; 0 skips it), --min-available-mib N
 * (also stop it when the machine has less than N MiB available, default 4096,
 * so the count never starves the rest of the machine).
 */
#define _POSIX_C_SOURCE 200809L

#include <isola.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEF_F "def f(x):\n    return x + 1\n"


static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the whole process (every thread), in ms: unlike wall time,
 * barely moved by other work on the machine. */
static double process_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void fail(const char *what, isola_error_t *err) {
    fprintf(stderr, "isola-bench: %s: %s: %s\n", what,
            isola_error_code_name(isola_error_code(err)), isola_error_message(err));
    isola_error_free(err);
    exit(1);
}

static void check(const char *what, isola_error_t *err) {
    if (err) fail(what, err);
}

/* The result of one call, copied out of the sink (truncated past cap). */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} result_buf_t;

static void on_result(void *ud, const uint8_t *data, size_t len) {
    result_buf_t *buf = ud;
    if (len + 1 > buf->cap) {
        char *grown = realloc(buf->data, len + 1);
        if (!grown) {
            fprintf(stderr, "isola-bench: out of memory\n");
            exit(1);
        }
        buf->data = grown;
        buf->cap = len + 1;
    }
    memcpy(buf->data, data, len);
    buf->data[len] = '\0';
    buf->len = len;
}

static isola_sink_t result_sink(result_buf_t *buf) {
    isola_sink_t sink;
    memset(&sink, 0, sizeof sink);
    sink.struct_size = sizeof sink;
    sink.user_data = buf;
    sink.format = ISOLA_FORMAT_JSON;
    sink.on_result = on_result;
    return sink;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Sum of the Private_* lines of /proc/self/smaps_rollup, in KiB: memory
 * only this process holds (shared image pages mapped by many sandboxes are
 * counted once, unlike VmRSS). */
static long long private_kib(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) return -1;
    char line[256];
    long long total = 0, kib;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Private_", 8) == 0) {
            const char *colon = strchr(line, ':');
            if (colon && sscanf(colon + 1, "%lld", &kib) == 1) total += kib;
        }
    }
    fclose(f);
    return total;
}

/* A field of /proc/meminfo or /proc/self/status in KiB; -1 if missing. */
static long long proc_kib(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long long value = -1;
    size_t key_len = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
            sscanf(line + key_len + 1, "%lld", &value);
            break;
        }
    }
    fclose(f);
    return value;
}

/* Memory mappings of this process (lines of /proc/self/maps); the kernel
 * caps them at vm.max_map_count. */
static long long count_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    long long lines = 0;
    int c;
    if (!f) return -1;
    while ((c = fgetc(f)) != EOF) lines += c == '\n';
    fclose(f);
    return lines;
}

static long long read_number_file(const char *path) {
    FILE *f = fopen(path, "r");
    long long value = -1;
    if (f) {
        if (fscanf(f, "%lld", &value) != 1) value = -1;
        fclose(f);
    }
    return value;
}

/* Print a string as a JSON string literal. */
static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

/* One unit of work: create a sandbox, define f, call f(1), free it. */
typedef struct {
    double create, eval, call, free_;
} fresh_times_t;

static fresh_times_t fresh_sandbox(const isola_template_t *tpl, result_buf_t *buf) {
    fresh_times_t t;
    isola_sink_t sink = result_sink(buf);
    isola_sandbox_t *sb = NULL;
    double t0 = now_ms();
    check("sandbox_new", isola_sandbox_new(tpl, NULL, &sb));
    double t1 = now_ms();
    check("eval", isola_sandbox_eval(sb, DEF_F, NULL));
    double t2 = now_ms();
    check("call", isola_sandbox_call_json(sb, "f", "[1]", NULL, &sink));
    double t3 = now_ms();
    isola_sandbox_free(sb);
    double t4 = now_ms();
    t.create = t1 - t0;
    t.eval = t2 - t1;
    t.call = t3 - t2;
    t.free_ = t4 - t3;
    return t;
}

static int mode_first(void) {
    double t0 = now_ms();
    isola_template_t *tpl = NULL;
    check("template_new", isola_template_new(NULL, &tpl));
    double t1 = now_ms();
    result_buf_t buf = {0};
    isola_sink_t sink = result_sink(&buf);
    isola_sandbox_t *sb = NULL;
    check("sandbox_new", isola_sandbox_new(tpl, NULL, &sb));
    check("eval", isola_sandbox_eval(sb, DEF_F, NULL));
    check("call", isola_sandbox_call_json(sb, "f", "[1]", NULL, &sink));
    double t2 = now_ms();
    printf("{\"template_load_ms\": %.3f, \"first_sandbox_ms\": %.3f, \"result\": ",
           t1 - t0, t2 - t1);
    print_json_string(buf.data ? buf.data : "");
    printf("}\n");
    fflush(stdout);
    isola_sandbox_free(sb);
    isola_template_free(tpl);
    free(buf.data);
    return 0;
}

/* The whole of the file at `path`, NUL-terminated (free it); exits on error. */
static char *read_source(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "isola-bench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *source = size < 0 ? NULL : malloc((size_t)size + 1);
    if (!source || fread(source, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "isola-bench: cannot read %s\n", path);
        exit(1);
    }
    source[size] = '\0';
    fclose(f);
    return source;
}

/* `runtime NAME|PATH|default [N [FILE REPS]]`: the cost of choosing a
 * runtime. Template load (warm compile cache), then median create / first
 * eval of `x = 1` / free over `n` fresh sandboxes; with FILE
 * (benches/compute/sci_kernels.py), one more sandbox evaluates it and
 * prints bench_run(REPS) as "workloads". */
static int mode_runtime(const char *which, long n, const char *file, long reps) {
    isola_template_options_t *opts = isola_template_options_new();
    if (strcmp(which, "default") != 0) {
        check("runtime", strchr(which, '/') ? isola_template_options_set_runtime_path(opts, which)
                                            : isola_template_options_set_runtime_name(opts, which));
    }
    double t0 = now_ms();
    isola_template_t *tpl = NULL;
    check("template_new", isola_template_new(opts, &tpl));
    double t1 = now_ms();
    isola_template_options_free(opts);
    double *create = calloc((size_t)n, sizeof(double));
    double *eval = calloc((size_t)n, sizeof(double));
    if (!create || !eval) {
        fprintf(stderr, "isola-bench: out of memory\n");
        return 1;
    }
    double cpu_start = process_cpu_ms();
    for (long i = 0; i < n; i++) {
        isola_sandbox_t *sb = NULL;
        double a = now_ms();
        check("sandbox_new", isola_sandbox_new(tpl, NULL, &sb));
        double b = now_ms();
        check("eval", isola_sandbox_eval(sb, "x = 1", NULL));
        double c = now_ms();
        isola_sandbox_free(sb);
        create[i] = b - a;
        eval[i] = c - b;
    }
    double cpu_ms = (process_cpu_ms() - cpu_start) / (double)n;
    result_buf_t buf = {0};
    if (file) {
        char *source = read_source(file);
        char args[32];
        snprintf(args, sizeof args, "[%ld]", reps);
        isola_sink_t sink = result_sink(&buf);
        isola_sandbox_t *sb = NULL;
        check("sandbox_new", isola_sandbox_new(tpl, NULL, &sb));
        check("eval workloads", isola_sandbox_eval(sb, source, NULL));
        check("bench_run", isola_sandbox_call_json(sb, "bench_run", args, NULL, &sink));
        isola_sandbox_free(sb);
        free(source);
    }
    printf("{\"template_load_ms\": %.3f, \"create_ms\": %.4f, \"first_eval_ms\": %.4f, "
           "\"cycle_cpu_ms\": %.4f, \"workloads\": %s}\n",
           t1 - t0, median(create, (size_t)n), median(eval, (size_t)n), cpu_ms,
           buf.data ? buf.data : "null");
    fflush(stdout);
    isola_template_free(tpl);
    free(buf.data);
    free(create);
    free(eval);
    return 0;
}

typedef struct {
    const isola_template_t *tpl;
    double deadline;
    long done;
} worker_t;

static void *throughput_worker(void *arg) {
    worker_t *w = arg;
    result_buf_t buf = {0};
    while (now_ms() < w->deadline) {
        fresh_sandbox(w->tpl, &buf);
        w->done++;
    }
    free(buf.data);
    return NULL;
}

/* create + def f + f(1) + free per second over `seconds`, on `threads`. */
static double throughput(const isola_template_t *tpl, int threads, double seconds) {
    pthread_t ids[16];
    worker_t workers[16];
    double start = now_ms();
    for (int i = 0; i < threads; i++) {
        workers[i].tpl = tpl;
        workers[i].deadline = start + seconds * 1e3;
        workers[i].done = 0;
        if (pthread_create(&ids[i], NULL, throughput_worker, &workers[i]) != 0) {
            fprintf(stderr, "isola-bench: pthread_create failed\n");
            exit(1);
        }
    }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        total += workers[i].done;
    }
    return (double)total / ((now_ms() - start) / 1e3);
}

typedef struct {
    long fresh, calls, batches, memory_sandboxes, live_max, min_available_mib;
    double seconds;
} measure_opts_t;

static int mode_measure(measure_opts_t o) {
    double t0 = now_ms();
    isola_template_t *tpl = NULL;
    check("template_new", isola_template_new(NULL, &tpl));
    double template_ms = now_ms() - t0;
    result_buf_t buf = {0};

    /* The first sandboxes of a template build its memory images. */
    double first_fresh_ms = 0;
    for (int i = 0; i < 5; i++) {
        fresh_times_t t = fresh_sandbox(tpl, &buf);
        if (i == 0) first_fresh_ms = t.create + t.eval + t.call + t.free_;
    }
    if (strcmp(buf.data ? buf.data : "", "2") != 0) {
        fprintf(stderr, "isola-bench: f(1) returned %s, expected 2\n", buf.data);
        return 1;
    }

    /* Fresh sandbox: create, def f, f(1), free. */
    double *total = calloc((size_t)o.fresh, sizeof(double));
    double *create = calloc((size_t)o.fresh, sizeof(double));
    double *eval = calloc((size_t)o.fresh, sizeof(double));
    double *call = calloc((size_t)o.fresh, sizeof(double));
    double *free_ = calloc((size_t)o.fresh, sizeof(double));
    double fresh_cpu_start = process_cpu_ms();
    for (long i = 0; i < o.fresh; i++) {
        fresh_times_t t = fresh_sandbox(tpl, &buf);
        create[i] = t.create;
        eval[i] = t.eval;
        call[i] = t.call;
        free_[i] = t.free_;
        total[i] = t.create + t.eval + t.call + t.free_;
    }
    double fresh_cpu_ms = (process_cpu_ms() - fresh_cpu_start) / (double)o.fresh;

    /* Warm call: f(1) with JSON in and out on one sandbox. */
    isola_sandbox_t *sb = NULL;
    isola_sink_t sink = result_sink(&buf);
    check("sandbox_new", isola_sandbox_new(tpl, NULL, &sb));
    check("eval", isola_sandbox_eval(sb, DEF_F, NULL));
    for (long i = 0; i < o.calls; i++)
        check("call", isola_sandbox_call_json(sb, "f", "[1]", NULL, &sink));
    double *per_call = calloc((size_t)o.batches, sizeof(double));
    double warm_cpu_start = process_cpu_ms();
    for (long b = 0; b < o.batches; b++) {
        double s = now_ms();
        for (long i = 0; i < o.calls; i++)
            check("call", isola_sandbox_call_json(sb, "f", "[1]", NULL, &sink));
        per_call[b] = (now_ms() - s) * 1e3 / (double)o.calls; /* µs */
    }
    double warm_cpu_us = (process_cpu_ms() - warm_cpu_start) * 1e3 / (double)(o.calls * o.batches);
    isola_sandbox_free(sb);

    double rate1 = throughput(tpl, 1, o.seconds);
    double rate2 = throughput(tpl, 2, o.seconds);

    /* Live sandboxes after one call each; private memory over the first
     * memory_sandboxes of them. */
    long cap = o.live_max > o.memory_sandboxes ? o.live_max : o.memory_sandboxes;
    isola_sandbox_t **live = calloc((size_t)cap, sizeof *live);
    long long maps_before = count_maps();
    long long private_before = private_kib();
    long long rss_before = proc_kib("/proc/self/status", "VmRSS");
    long long private_at_m = -1, rss_at_m = -1;
    long count = 0;
    char stop[512] = "reached the bench's cap (--live-max)";
    double live_start = now_ms();
    while (count < cap) {
        isola_sandbox_t *s = NULL;
        isola_error_t *err = isola_sandbox_new(tpl, NULL, &s);
        if (!err) err = isola_sandbox_eval(s, DEF_F, NULL);
        if (!err) err = isola_sandbox_call_json(s, "f", "[1]", NULL, &sink);
        if (err) {
            snprintf(stop, sizeof stop, "%s: %s", isola_error_code_name(isola_error_code(err)),
                     isola_error_message(err));
            isola_error_free(err);
            isola_sandbox_free(s);
            break;
        }
        live[count++] = s;
        if (count == o.memory_sandboxes) {
            private_at_m = private_kib();
            rss_at_m = proc_kib("/proc/self/status", "VmRSS");
        }
        if (count % 100 == 0 && proc_kib("/proc/meminfo", "MemAvailable") < o.min_available_mib * 1024LL) {
            snprintf(stop, sizeof stop, "memory guard: stopped with %ld MiB left available on the machine",
                     o.min_available_mib);
            break;
        }
    }
    double live_ms = now_ms() - live_start;
    long long map_count = count_maps();
    for (long i = 0; i < count; i++) isola_sandbox_free(live[i]);
    free(live);
    if (o.live_max == 0 && count >= o.memory_sandboxes) snprintf(stop, sizeof stop, "not measured");

    printf("{\n");
    printf("  \"template_load_in_process_ms\": %.3f,\n", template_ms);
    printf("  \"first_fresh_sandbox_ms\": %.3f,\n", first_fresh_ms);
    printf("  \"fresh_ms\": %.4f,\n", median(total, (size_t)o.fresh));
    printf("  \"fresh_create_ms\": %.4f,\n", median(create, (size_t)o.fresh));
    printf("  \"fresh_eval_ms\": %.4f,\n", median(eval, (size_t)o.fresh));
    printf("  \"fresh_call_ms\": %.4f,\n", median(call, (size_t)o.fresh));
    printf("  \"fresh_free_ms\": %.4f,\n", median(free_, (size_t)o.fresh));
    printf("  \"fresh_cpu_ms\": %.4f,\n", fresh_cpu_ms);
    printf("  \"warm_call_us\": %.3f,\n", median(per_call, (size_t)o.batches));
    printf("  \"warm_call_cpu_us\": %.3f,\n", warm_cpu_us);
    printf("  \"per_second_1_thread\": %.1f,\n", rate1);
    printf("  \"per_second_2_threads\": %.1f,\n", rate2);
    printf("  \"memory_sandboxes\": %ld,\n", o.memory_sandboxes);
    printf("  \"private_mib_per_sandbox\": %.4f,\n",
           private_at_m < 0 ? -1.0
                            : (double)(private_at_m - private_before) / 1024.0 / (double)o.memory_sandboxes);
    printf("  \"rss_mib_per_sandbox\": %.4f,\n",
           rss_at_m < 0 ? -1.0 : (double)(rss_at_m - rss_before) / 1024.0 / (double)o.memory_sandboxes);
    printf("  \"live_sandboxes\": %ld,\n", o.live_max == 0 ? -1 : count);
    printf("  \"live_cap\": %ld,\n", o.live_max);
    printf("  \"live_seconds\": %.2f,\n", live_ms / 1e3);
    printf("  \"maps_per_sandbox\": %.2f,\n", count ? (double)(map_count - maps_before) / (double)count : -1.0);
    printf("  \"max_map_count\": %lld,\n", read_number_file("/proc/sys/vm/max_map_count"));
    printf("  \"live_stop\": ");
    print_json_string(stop);
    printf("\n}\n");

    free(total);
    free(create);
    free(eval);
    free(call);
    free(free_);
    free(per_call);
    free(buf.data);
    isola_template_free(tpl);
    return 0;
}

/* Evaluate the kernels file and print bench_run(reps, only): `only` is a
 * comma-separated list of kernel names, or NULL for every kernel. */
static int mode_compute(const char *path, const char *reps, const char *only) {
    if (only && strlen(only) > 200) {
        fprintf(stderr, "isola-bench: kernel list too long\n");
        return 2;
    }
    char *source = read_source(path);

    /* [reps] or [reps, ["name", ...]]; names keep letters, digits and _,
     * so each input character adds at most 4 to the JSON text. */
    char args[1024];
    size_t n = (size_t)snprintf(args, sizeof args, "[%d", atoi(reps));
    if (only) {
        n += (size_t)snprintf(args + n, sizeof args - n, ", [\"");
        for (const char *c = only; *c; c++) {
            if (*c == ',') n += (size_t)snprintf(args + n, sizeof args - n, "\", \"");
            else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_') args[n++] = *c;
        }
        n += (size_t)snprintf(args + n, sizeof args - n, "\"]");
    }
    snprintf(args + n, sizeof args - n, "]");
    isola_template_t *tpl = NULL;
    isola_sandbox_t *sb = NULL;
    result_buf_t buf = {0};
    isola_sink_t sink = result_sink(&buf);
    check("template_new", isola_template_new(NULL, &tpl));
    check("sandbox_new", isola_sandbox_new(tpl, NULL, &sb));
    check("eval kernels", isola_sandbox_eval(sb, source, NULL));
    check("bench_run", isola_sandbox_call_json(sb, "bench_run", args, NULL, &sink));
    printf("%s\n", buf.data);
    isola_sandbox_free(sb);
    isola_template_free(tpl);
    free(buf.data);
    free(source);
    return 0;
}

static long arg_long(int argc, char **argv, const char *name, long fallback) {
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return atol(argv[i + 1]);
    return fallback;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: isola-bench first | measure [options] | compute FILE REPS [NAMES] | runtime NAME|PATH|default [N [FILE REPS]] | smoke | version\n");
        return 2;
    }
    if (strcmp(argv[1], "first") == 0) return mode_first();
    if (strcmp(argv[1], "version") == 0) {
        printf("%s\n", isola_version());
        return 0;
    }
    if (strcmp(argv[1], "measure") == 0) {
        measure_opts_t o;
        o.fresh = arg_long(argc, argv, "--fresh", 200);
        o.calls = arg_long(argc, argv, "--calls", 500);
        o.batches = arg_long(argc, argv, "--batches", 30);
        o.memory_sandboxes = arg_long(argc, argv, "--memory-sandboxes", 200);
        o.live_max = arg_long(argc, argv, "--live-max", 10000);
        o.seconds = (double)arg_long(argc, argv, "--seconds", 2);
        o.min_available_mib = arg_long(argc, argv, "--min-available-mib", 4096);
        if (o.fresh < 1 || o.calls < 1 || o.batches < 1 || o.memory_sandboxes < 1 || o.live_max < 0 ||
            o.seconds <= 0) {
            fprintf(stderr, "isola-bench: every count must be positive\n");
            return 2;
        }
        return mode_measure(o);
    }
    if (strcmp(argv[1], "smoke") == 0) {
        measure_opts_t o = {.fresh = 3, .calls = 5, .batches = 3, .memory_sandboxes = 3, .live_max = 5,
                            .seconds = 0.2, .min_available_mib = 0};
        return mode_measure(o);
    }
    if (strcmp(argv[1], "runtime") == 0 && (argc == 3 || argc == 4 || argc == 6)) {
        long n = argc >= 4 ? atol(argv[3]) : 30;
        return mode_runtime(argv[2], n > 0 ? n : 1, argc == 6 ? argv[4] : NULL,
                            argc == 6 && atol(argv[5]) > 0 ? atol(argv[5]) : 1);
    }
    if (strcmp(argv[1], "compute") == 0 && (argc == 4 || argc == 5))
        return mode_compute(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    fprintf(stderr, "isola-bench: unknown mode %s\n", argv[1]);
    return 2;
}
