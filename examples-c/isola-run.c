/*
 * isola-run: run a Python script from the host file system in a fresh
 * isola sandbox and stream what happens as JSON lines on stdout.
 *
 *   isola-run [options] SCRIPT.py [ARG...]
 *   isola-run [options] -c CODE [ARG...]
 *   isola-run [options] -m MODULE [ARG...]
 *
 * The script sees sys.argv == ['SCRIPT.py', ARG...] (['-c', ...] for -c,
 * the module's file for -m), as under python: everything after SCRIPT.py,
 * CODE or MODULE belongs to the script, options included.
 *
 * One JSON object per line, flushed after each line, in event order:
 *   {"type":"stdout","data":"hi\n"}
 *   {"type":"stderr","data":"..."}
 *   {"type":"log","level":30,"logger":"root","message":"..."}
 *   {"type":"item","value":1}            (values yielded by --call NAME)
 *   {"type":"result","value":3}          (the return value of --call NAME)
 *   {"type":"error","code":"TIMEOUT","message":"...","guest_type":"..."}
 *   {"type":"exit","status":3}           (sys.exit(3): status 3, as python)
 *
 * --plain prints as python would instead: the guest's stdout and stderr
 * bytes on this process's stdout and stderr, log messages and tracebacks on
 * stderr, items and the result of --call as JSON lines on stdout; a
 * standard input that is not a terminal becomes the guest's stdin.
 *
 * Exit status, as python's: 0 success, 1 the run failed (an error line
 * was printed), N for sys.exit(N) (N & 0xff; 1 for sys.exit("message")),
 * 2 for argparse's usage errors and for isola-run's own usage errors
 * (message on stderr), including malformed --args/--kwargs JSON, which is
 * checked with isola_args_add_json_lists before the script runs.
 */
#define _XOPEN_SOURCE 700

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <isola.h>

#define EXIT_RUN_FAILED 1
#define EXIT_USAGE 2

static const char USAGE[] =
    "usage: isola-run [options] SCRIPT.py [ARG...]\n"
    "       isola-run [options] -c CODE [ARG...]\n"
    "       isola-run [options] -m MODULE [ARG...]\n"
    "\n"
    "Run SCRIPT.py (read from the host; - reads standard input), the Python\n"
    "CODE, or the guest module MODULE as __main__ (as python -m does; it is\n"
    "found on the sandbox's sys.path: the standard library, or a --mount\n"
    "listed in --env PYTHONPATH=...) in a fresh isola sandbox and print one\n"
    "JSON object per line on stdout: stdout, stderr, log, item, result,\n"
    "error and exit events, in the order they happen (or, with --plain, the\n"
    "script's output as python prints it).\n"
    "The script sees sys.argv == ['SCRIPT.py', ARG...] as under python\n"
    "(['-', ARG...] for standard input, ['-c', ARG...] for -c, [the module's\n"
    "file, ARG...] for -m): every argument after SCRIPT.py, CODE or MODULE\n"
    "is the script's, even one that looks like an option.\n"
    "A SCRIPT.py inside a --mount runs from there: __file__ is its guest\n"
    "path and its directory is first on sys.path (sibling modules import).\n"
    "When a --mount holds the current directory, the script starts in its\n"
    "guest path (relative paths work as under python; for -c and -m it is\n"
    "first on sys.path); otherwise it starts in /home/user.\n"
    "\n"
    "options:\n"
    "  --call NAME              after the script, call its function NAME and\n"
    "                           print its yielded items and its result\n"
    "  --args JSON-ARRAY        positional arguments of --call (default [])\n"
    "  --kwargs JSON-OBJECT     keyword arguments of --call (default {})\n"
    "                           (both are validated before the script runs:\n"
    "                           malformed JSON is a usage error, status 2)\n"
    "  --timeout-ms N           time limit of the script and of the call\n"
    "  --max-memory-mib N       sandbox memory limit in MiB\n"
    "  --mount HOST:GUEST[:rw]  mount host directory HOST at absolute guest\n"
    "                           path GUEST, read-only (or :ro) unless :rw;\n"
    "                           repeatable\n"
    "  --env KEY=VALUE          set a guest environment variable; repeatable\n"
    "  --runtime NAME|PATH      use this runtime component instead of the\n"
    "                           embedded one: a path (with a '/' or ending\n"
    "                           in .wasm), or a name such as 'sci' (numpy),\n"
    "                           found as isola-python-NAME.wasm in\n"
    "                           $ISOLA_RUNTIME_DIR or beside libisola\n"
    "  --stdin FILE             the guest's standard input (sys.stdin,\n"
    "                           input()): the bytes of FILE (- reads this\n"
    "                           process's stdin), then end-of-file\n"
    "  --prelude FILE           Python source run in the sandbox before the\n"
    "                           script (the template's prelude; its output\n"
    "                           is not shown, its names are the script's)\n"
    "  --prelude-snapshot       run the --prelude once and cache a snapshot\n"
    "                           taken after it: later runs with the same\n"
    "                           prelude, runtime and --mount/--env start\n"
    "                           after it (the first compiles the runtime:\n"
    "                           tens of seconds)\n"
    "  --plain                  print as python does, not JSON events: the\n"
    "                           script's stdout and stderr unchanged on\n"
    "                           stdout and stderr, log messages and an\n"
    "                           uncaught exception's traceback on stderr,\n"
    "                           the items and result of --call as JSON\n"
    "                           lines on stdout; a standard input that is\n"
    "                           not a terminal is read to its end and\n"
    "                           becomes the script's stdin (unless --stdin,\n"
    "                           the script or --prelude reads it)\n"
    "  --cache-dir DIR          compile cache directory (default\n"
    "                           $ISOLA_CACHE_DIR, $XDG_CACHE_HOME/isola or\n"
    "                           ~/.cache/isola)\n"
    "  --help                   print this help and exit\n"
    "  --version                print the version and exit\n"
    "\n"
    "Options come before SCRIPT.py, -c or -m and also accept the\n"
    "--name=VALUE form; `--` ends them (the next argument is the script).\n"
    "\n"
    "exit status, as python's: 0 success; 1 the script or call failed (an\n"
    "uncaught exception, a time or memory limit: after an error line);\n"
    "N when the script calls sys.exit(N) (N & 0xff; 1 after printing the\n"
    "message for sys.exit(\"message\"); JSON: after an exit line); 2 is also\n"
    "isola-run's own usage error (message on stderr), as it is python's and\n"
    "argparse's.\n";

/* ------------------------------------------------------------------------ */
/* JSON output                                                              */
/* ------------------------------------------------------------------------ */

/* Write `text[0..len]` as a JSON string literal. UTF-8 passes through;
 * quotes, backslashes and control characters (NUL included) are escaped. */
static void put_json_string(FILE *out, const char *text, size_t len) {
  static const char hex[] = "0123456789abcdef";
  fputc('"', out);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    switch (c) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    case '\b': fputs("\\b", out); break;
    case '\f': fputs("\\f", out); break;
    default:
      if (c < 0x20) {
        fputs("\\u00", out);
        fputc(hex[c >> 4], out);
        fputc(hex[c & 0xf], out);
      } else {
        fputc(c, out);
      }
    }
  }
  fputc('"', out);
}

static void end_line(void) {
  fputs("}\n", stdout);
  fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Sink callbacks                                                           */
/* ------------------------------------------------------------------------ */

/* JSON event lines (the default), or output as python prints it. */
enum output_mode { OUTPUT_JSON, OUTPUT_PLAIN };

struct run_state {
  enum output_mode mode;
  /* True while the --call runs: only its result is printed, not the
   * script's (always null). */
  bool print_result;
  /* Set by the first error or exit: nothing more runs but the script's
   * atexit handlers. */
  bool ended;
  /* The script or call ended by an uncaught KeyboardInterrupt: as python
   * does, isola-run ends by SIGINT (status 130 in a shell, -2 for a parent
   * in Python) after the atexit handlers. */
  bool interrupted;
};

/* Bytes written as they are, flushed so that stdout and stderr keep the
 * guest's order on a terminal. */
static void put_raw(FILE *out, const void *data, size_t len) {
  fwrite(data, 1, len, out);
  fflush(out);
}

static void on_text(const struct run_state *state, const char *type, FILE *plain_out,
                    const char *text, size_t len) {
  if (state->mode == OUTPUT_PLAIN) {
    put_raw(plain_out, text, len);
    return;
  }
  fputs("{\"type\":\"", stdout);
  fputs(type, stdout);
  fputs("\",\"data\":", stdout);
  put_json_string(stdout, text, len);
  end_line();
}

static void on_stdout(void *user_data, const char *text, size_t len) {
  on_text(user_data, "stdout", stdout, text, len);
}

static void on_stderr(void *user_data, const char *text, size_t len) {
  on_text(user_data, "stderr", stderr, text, len);
}

static void on_log(void *user_data, uint32_t level, const char *logger, size_t logger_len,
                   const char *message, size_t message_len) {
  const struct run_state *state = user_data;
  if (state->mode == OUTPUT_PLAIN) {
    /* As python's logging prints a record on stderr: the formatted message. */
    fwrite(message, 1, message_len, stderr);
    put_raw(stderr, "\n", 1);
    return;
  }
  printf("{\"type\":\"log\",\"level\":%lu,\"logger\":", (unsigned long)level);
  put_json_string(stdout, logger, logger_len);
  fputs(",\"message\":", stdout);
  put_json_string(stdout, message, message_len);
  end_line();
}

/* Values arrive as JSON text already: embed them verbatim (plain: one
 * JSON value per line). */
static void put_value(const struct run_state *state, const char *type, const uint8_t *data,
                      size_t len) {
  if (state->mode == OUTPUT_PLAIN) {
    fwrite(data, 1, len, stdout);
    put_raw(stdout, "\n", 1);
    return;
  }
  fputs("{\"type\":\"", stdout);
  fputs(type, stdout);
  fputs("\",\"value\":", stdout);
  fwrite(data, 1, len, stdout);
  end_line();
}

static void on_item(void *user_data, const uint8_t *data, size_t len) {
  put_value(user_data, "item", data, len);
}

static void on_result(void *user_data, const uint8_t *data, size_t len) {
  const struct run_state *state = user_data;
  if (state->print_result) {
    put_value(state, "result", data, len);
  }
}

/* Print `err`: an error line, or with --plain a Python traceback as python
 * prints it (any other error as an isola-run message), on stderr. */
static void print_error(const struct run_state *state, const isola_error_t *err) {
  const char *guest_type = isola_error_guest_type(err);
  const char *message = isola_error_message(err);
  if (state->mode == OUTPUT_PLAIN) {
    size_t len = strlen(message);
    if (guest_type[0] != '\0') {
      fputs(message, stderr);
      if (len == 0 || message[len - 1] != '\n') {
        fputc('\n', stderr);
      }
    } else {
      fprintf(stderr, "isola-run: %s: %s\n", isola_error_code_name(isola_error_code(err)), message);
    }
    fflush(stderr);
    return;
  }
  fputs("{\"type\":\"error\",\"code\":\"", stdout);
  fputs(isola_error_code_name(isola_error_code(err)), stdout);
  fputs("\",\"message\":", stdout);
  put_json_string(stdout, message, strlen(message));
  if (guest_type[0] != '\0') {
    fputs(",\"guest_type\":", stdout);
    put_json_string(stdout, guest_type, strlen(guest_type));
  }
  end_line();
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

struct mount {
  char *host; /* absolute (realpath), owned */
  const char *guest; /* points into argv or into `spec` */
  char *spec; /* owned copy of the argument, split in place */
  uint32_t mode;
};

struct env_var {
  char *spec; /* owned copy of KEY=VALUE, split in place at the '=' */
  const char *key;
  const char *value;
};

/* Where the script comes from, as with python: a file, -c CODE or
 * -m MODULE. */
enum script_kind { SCRIPT_FILE, SCRIPT_CODE, SCRIPT_MODULE };

struct config {
  /* The file's path, the code of -c or the module name of -m. */
  const char *script;
  enum script_kind script_kind;
  /* The script's command line: argv[0] is `script` (or "-c", "-m"), then
   * its arguments (owned array; the strings point into main's argv). */
  const char **script_argv;
  size_t script_argc;
  const char *call;
  const char *args;
  const char *kwargs;
  const char *runtime;
  const char *cache_dir;
  const char *stdin_file;
  const char *prelude_file;
  bool prelude_snapshot;
  bool plain;
  bool has_timeout;
  uint64_t timeout_ms;
  bool has_max_memory;
  uint64_t max_memory_bytes;
  struct mount *mounts;
  size_t mount_count;
  struct env_var *envs;
  size_t env_count;
};

static void config_free(struct config *cfg) {
  for (size_t i = 0; i < cfg->mount_count; i++) {
    free(cfg->mounts[i].host);
    free(cfg->mounts[i].spec);
  }
  free(cfg->mounts);
  for (size_t i = 0; i < cfg->env_count; i++) {
    free(cfg->envs[i].spec);
  }
  free(cfg->envs);
  free(cfg->script_argv);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("isola-run: ", stderr);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fputs("\nTry 'isola-run --help' for more information.\n", stderr);
  return EXIT_USAGE;
}

static char *duplicate(const char *text) {
  size_t len = strlen(text) + 1;
  char *copy = malloc(len);
  if (copy != NULL) {
    memcpy(copy, text, len);
  }
  return copy;
}

/* A decimal number without sign, spaces or trailing characters. */
static bool parse_u64(const char *text, uint64_t *out) {
  if (text[0] < '0' || text[0] > '9') {
    return false;
  }
  errno = 0;
  char *end = NULL;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') {
    return false;
  }
  *out = (uint64_t)value;
  return true;
}

/* HOST:GUEST[:rw|:ro]. The mode suffix is taken off first, then the last
 * ':' separates HOST (which may itself contain ':') from GUEST. */
static int add_mount_spec(struct config *cfg, const char *arg) {
  struct mount m = {0};
  m.mode = ISOLA_MOUNT_READ_ONLY;
  m.spec = duplicate(arg);
  if (m.spec == NULL) {
    return usage_error("out of memory");
  }
  size_t len = strlen(m.spec);
  if (len > 3 && strcmp(m.spec + len - 3, ":rw") == 0) {
    m.mode = ISOLA_MOUNT_READ_WRITE;
    m.spec[len - 3] = '\0';
  } else if (len > 3 && strcmp(m.spec + len - 3, ":ro") == 0) {
    m.spec[len - 3] = '\0';
  }
  char *colon = strrchr(m.spec, ':');
  if (colon == NULL || colon == m.spec || colon[1] == '\0') {
    free(m.spec);
    return usage_error("--mount expects HOST:GUEST[:rw], got '%s'", arg);
  }
  *colon = '\0';
  m.guest = colon + 1;
  if (m.guest[0] != '/') {
    free(m.spec);
    return usage_error("--mount: the guest path in '%s' must be absolute", arg);
  }
  m.host = realpath(m.spec, NULL);
  if (m.host == NULL) {
    int saved = errno;
    fprintf(stderr, "isola-run: --mount: cannot use host directory '%s': %s\n", m.spec,
            strerror(saved));
    free(m.spec);
    return EXIT_USAGE;
  }
  struct mount *grown = realloc(cfg->mounts, (cfg->mount_count + 1) * sizeof *grown);
  if (grown == NULL) {
    free(m.host);
    free(m.spec);
    return usage_error("out of memory");
  }
  cfg->mounts = grown;
  cfg->mounts[cfg->mount_count++] = m;
  return 0;
}

static int add_env_spec(struct config *cfg, const char *arg) {
  const char *eq = strchr(arg, '=');
  if (eq == NULL || eq == arg) {
    return usage_error("--env expects KEY=VALUE with a non-empty KEY, got '%s'", arg);
  }
  struct env_var e = {0};
  e.spec = duplicate(arg);
  if (e.spec == NULL) {
    return usage_error("out of memory");
  }
  e.spec[eq - arg] = '\0';
  e.key = e.spec;
  e.value = e.spec + (eq - arg) + 1;
  struct env_var *grown = realloc(cfg->envs, (cfg->env_count + 1) * sizeof *grown);
  if (grown == NULL) {
    free(e.spec);
    return usage_error("out of memory");
  }
  cfg->envs = grown;
  cfg->envs[cfg->env_count++] = e;
  return 0;
}

enum option_id {
  OPT_CALL,
  OPT_ARGS,
  OPT_KWARGS,
  OPT_TIMEOUT_MS,
  OPT_MAX_MEMORY_MIB,
  OPT_MOUNT,
  OPT_ENV,
  OPT_RUNTIME,
  OPT_CACHE_DIR,
  OPT_STDIN,
  OPT_PRELUDE,
};

static const struct {
  const char *name;
  enum option_id id;
} OPTIONS[] = {
    {"--call", OPT_CALL},
    {"--args", OPT_ARGS},
    {"--kwargs", OPT_KWARGS},
    {"--timeout-ms", OPT_TIMEOUT_MS},
    {"--max-memory-mib", OPT_MAX_MEMORY_MIB},
    {"--mount", OPT_MOUNT},
    {"--env", OPT_ENV},
    {"--runtime", OPT_RUNTIME},
    {"--cache-dir", OPT_CACHE_DIR},
    {"--stdin", OPT_STDIN},
    {"--prelude", OPT_PRELUDE},
};

static int apply_option(struct config *cfg, enum option_id id, const char *name,
                        const char *value) {
  uint64_t number = 0;
  switch (id) {
  case OPT_CALL:
    cfg->call = value;
    return 0;
  case OPT_ARGS:
    cfg->args = value;
    return 0;
  case OPT_KWARGS:
    cfg->kwargs = value;
    return 0;
  case OPT_TIMEOUT_MS:
    if (!parse_u64(value, &number)) {
      return usage_error("--timeout-ms expects a number of milliseconds, got '%s'", value);
    }
    cfg->has_timeout = true;
    cfg->timeout_ms = number;
    return 0;
  case OPT_MAX_MEMORY_MIB:
    if (!parse_u64(value, &number) || number == 0 || number > UINT64_MAX / (1024 * 1024)) {
      return usage_error("--max-memory-mib expects a positive number of MiB, got '%s'", value);
    }
    cfg->has_max_memory = true;
    cfg->max_memory_bytes = number * 1024 * 1024;
    return 0;
  case OPT_MOUNT:
    return add_mount_spec(cfg, value);
  case OPT_ENV:
    return add_env_spec(cfg, value);
  case OPT_RUNTIME:
    cfg->runtime = value;
    return 0;
  case OPT_CACHE_DIR:
    cfg->cache_dir = value;
    return 0;
  case OPT_STDIN:
    cfg->stdin_file = value;
    return 0;
  case OPT_PRELUDE:
    cfg->prelude_file = value;
    return 0;
  }
  return usage_error("internal error handling %s", name);
}

/* Whether `name` is a dotted Python module name (ASCII identifiers). */
static bool is_module_name(const char *name) {
  bool at_start = true;
  for (const char *c = name; *c != '\0'; c++) {
    if (*c == '.') {
      if (at_start) {
        return false;
      }
      at_start = true;
    } else if (isalpha((unsigned char)*c) || *c == '_' || (!at_start && isdigit((unsigned char)*c))) {
      at_start = false;
    } else {
      return false;
    }
  }
  return !at_start;
}

/* Returns -1 to go on, else the exit status (0 for --help/--version). */
static int parse_args(int argc, char **argv, struct config *cfg) {
  bool options_done = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    bool code = !options_done && strcmp(arg, "-c") == 0;
    bool module = !options_done && strcmp(arg, "-m") == 0;
    if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0 || code || module) {
      /* The script; the rest of the command line is its own. python's
       * sys.argv[0] is the file, "-c" or "-m" (runpy replaces "-m" with the
       * module's file); the code or module name is not in sys.argv. */
      if ((code || module) && i + 1 >= argc) {
        return usage_error("option %s needs a value", arg);
      }
      cfg->script_kind = code ? SCRIPT_CODE : module ? SCRIPT_MODULE : SCRIPT_FILE;
      cfg->script = (code || module) ? argv[i + 1] : arg;
      if (module && !is_module_name(cfg->script)) {
        return usage_error("-m expects a module name such as json.tool, got '%s'", cfg->script);
      }
      int first_arg = (code || module) ? i + 2 : i + 1;
      cfg->script_argc = (size_t)(argc - first_arg) + 1;
      cfg->script_argv = calloc(cfg->script_argc, sizeof *cfg->script_argv);
      if (cfg->script_argv == NULL) {
        fputs("isola-run: out of memory\n", stderr);
        return EXIT_RUN_FAILED;
      }
      cfg->script_argv[0] = arg;
      for (int k = first_arg; k < argc; k++) {
        cfg->script_argv[k - first_arg + 1] = argv[k];
      }
      break;
    }
    if (strcmp(arg, "--") == 0) {
      options_done = true;
      continue;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(USAGE, stdout);
      return 0;
    }
    if (strcmp(arg, "--prelude-snapshot") == 0) {
      cfg->prelude_snapshot = true;
      continue;
    }
    if (strcmp(arg, "--plain") == 0) {
      cfg->plain = true;
      continue;
    }
    if (strcmp(arg, "--version") == 0) {
      printf("isola-run %s (header %d.%d.%d)\n", isola_version(), ISOLA_VERSION_MAJOR,
             ISOLA_VERSION_MINOR, ISOLA_VERSION_PATCH);
      return 0;
    }
    bool known = false;
    for (size_t k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0]; k++) {
      size_t name_len = strlen(OPTIONS[k].name);
      if (strncmp(arg, OPTIONS[k].name, name_len) != 0) {
        continue;
      }
      const char *value = NULL;
      if (arg[name_len] == '=') {
        value = arg + name_len + 1;
      } else if (arg[name_len] == '\0') {
        if (i + 1 >= argc) {
          return usage_error("option %s needs a value", OPTIONS[k].name);
        }
        value = argv[++i];
      } else {
        continue; /* a longer option name sharing this prefix */
      }
      int status = apply_option(cfg, OPTIONS[k].id, OPTIONS[k].name, value);
      if (status != 0) {
        return status;
      }
      known = true;
      break;
    }
    if (!known) {
      return usage_error("unknown option '%s'", arg);
    }
  }
  if (cfg->script == NULL) {
    return usage_error("no script given");
  }
  bool script_from_stdin = cfg->script_kind == SCRIPT_FILE && strcmp(cfg->script, "-") == 0;
  if (cfg->stdin_file != NULL && strcmp(cfg->stdin_file, "-") == 0 && script_from_stdin) {
    return usage_error("the script and --stdin cannot both read standard input");
  }
  if (cfg->prelude_snapshot && cfg->prelude_file == NULL) {
    return usage_error("--prelude-snapshot needs --prelude");
  }
  if (cfg->prelude_file != NULL && strcmp(cfg->prelude_file, "-") == 0 &&
      (script_from_stdin || (cfg->stdin_file != NULL && strcmp(cfg->stdin_file, "-") == 0))) {
    return usage_error("only one of the script, --prelude and --stdin can read standard input");
  }
  if (cfg->call == NULL && (cfg->args != NULL || cfg->kwargs != NULL)) {
    return usage_error("--args and --kwargs need --call");
  }
  /* --plain: a piped or redirected standard input (not a terminal, not
   * closed) is the script's stdin, as under python, unless something else
   * reads it. */
  bool prelude_from_stdin = cfg->prelude_file != NULL && strcmp(cfg->prelude_file, "-") == 0;
  if (cfg->plain && cfg->stdin_file == NULL && !script_from_stdin && !prelude_from_stdin &&
      isatty(STDIN_FILENO) == 0 && errno != EBADF) {
    cfg->stdin_file = "-";
  }
  return -1;
}

/* Read a whole file ("-": standard input) into a NUL-terminated buffer;
 * `what` names it in messages. Unless `binary` (Python source), a NUL byte
 * is refused and a leading UTF-8 byte order mark dropped, as python does. */
static int read_whole_file(const char *path, const char *what, bool binary, char **out,
                           size_t *out_len) {
  FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (file == NULL) {
    int saved = errno;
    fprintf(stderr, "isola-run: cannot open %s '%s': %s\n", what, path, strerror(saved));
    return EXIT_USAGE;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  int status = 0;
  while (buf != NULL) {
    if (len + 1 >= cap) {
      char *grown = realloc(buf, cap * 2);
      if (grown == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len - 1, file);
    len += n;
    if (n == 0) {
      break;
    }
  }
  if (buf == NULL) {
    fprintf(stderr, "isola-run: out of memory reading '%s'\n", path);
    status = EXIT_USAGE;
  } else if (ferror(file)) {
    fprintf(stderr, "isola-run: cannot read %s '%s'\n", what, path);
    status = EXIT_USAGE;
  } else if (!binary && memchr(buf, '\0', len) != NULL) {
    fprintf(stderr, "isola-run: %s '%s' contains a NUL byte\n", what, path);
    status = EXIT_USAGE;
  }
  if (file != stdin) {
    fclose(file);
  }
  if (status != 0) {
    free(buf);
    return status;
  }
  if (!binary && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
    len -= 3;
    memmove(buf, buf + 3, len);
  }
  buf[len] = '\0';
  *out = buf;
  if (out_len != NULL) {
    *out_len = len;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Running                                                                  */
/* ------------------------------------------------------------------------ */

/* An option value the library rejected is a usage error. */
static int option_failed(const char *option, isola_error_t *err) {
  if (err == NULL) {
    return 0;
  }
  fprintf(stderr, "isola-run: %s: %s\n", option, isola_error_message(err));
  isola_error_free(err);
  return EXIT_USAGE;
}

static int fill_options(const struct config *cfg, isola_template_options_t *tpl_opts,
                        isola_sandbox_options_t *sandbox_opts) {
  /* Everything but the script's stdin and command line goes into the
   * template's defaults: this run makes exactly one sandbox from the
   * template. Those two are the sandbox's own: no part of what a
   * --prelude-snapshot compiles and caches. */
  isola_sandbox_options_t *opts = isola_template_options_defaults(tpl_opts);
  int status = 0;
  if (cfg->runtime != NULL) {
    /* A path names a file (it has a '/' or ends in .wasm); anything else is
     * a runtime name such as "sci", looked up beside the library. */
    size_t len = strlen(cfg->runtime);
    int is_path = strchr(cfg->runtime, '/') != NULL ||
                  (len >= 5 && strcmp(cfg->runtime + len - 5, ".wasm") == 0);
    status = option_failed("--runtime", is_path ? isola_template_options_set_runtime_path(tpl_opts, cfg->runtime)
                                                : isola_template_options_set_runtime_name(tpl_opts, cfg->runtime));
  }
  if (status == 0 && cfg->cache_dir != NULL) {
    status = option_failed("--cache-dir", isola_template_options_set_cache_dir(tpl_opts, cfg->cache_dir));
  }
  if (status == 0 && cfg->has_timeout) {
    status = option_failed("--timeout-ms", isola_sandbox_options_set_timeout_ms(opts, cfg->timeout_ms));
  }
  if (status == 0 && cfg->has_max_memory) {
    status = option_failed("--max-memory-mib",
                           isola_sandbox_options_set_max_memory(opts, cfg->max_memory_bytes));
  }
  for (size_t i = 0; status == 0 && i < cfg->mount_count; i++) {
    const struct mount *m = &cfg->mounts[i];
    status = option_failed("--mount", isola_sandbox_options_add_mount(opts, m->host, m->guest, m->mode));
  }
  for (size_t i = 0; status == 0 && i < cfg->env_count; i++) {
    const struct env_var *e = &cfg->envs[i];
    status = option_failed("--env", isola_sandbox_options_set_env(opts, e->key, e->value));
  }
  if (status == 0 && cfg->prelude_file != NULL) {
    char *prelude = NULL;
    status = read_whole_file(cfg->prelude_file, "--prelude file", false, &prelude, NULL);
    if (status == 0) {
      status = option_failed("--prelude", isola_template_options_set_prelude(tpl_opts, prelude));
      free(prelude);
    }
  }
  if (status == 0 && cfg->prelude_snapshot) {
    status = option_failed("--prelude-snapshot", isola_template_options_set_prelude_snapshot(tpl_opts, true));
  }
  if (status == 0 && cfg->stdin_file != NULL) {
    char *data = NULL;
    size_t len = 0;
    status = read_whole_file(cfg->stdin_file, "--stdin file", true, &data, &len);
    if (status == 0) {
      status = option_failed("--stdin", isola_sandbox_options_set_stdin(sandbox_opts, (const uint8_t *)data, len));
      free(data);
    }
  }
  return status;
}

/* Parse --args/--kwargs into an argument list before anything runs, so
 * that a typo does not cost a script run. */
static int build_call_args(const struct config *cfg, isola_args_t **out) {
  isola_args_t *args = isola_args_new();
  if (args == NULL) {
    fputs("isola-run: out of memory\n", stderr);
    return EXIT_USAGE;
  }
  isola_error_t *err = isola_args_add_json_lists(args, cfg->args, cfg->kwargs);
  if (err != NULL) {
    fprintf(stderr, "isola-run: --args/--kwargs: %s\n", isola_error_message(err));
    isola_error_free(err);
    isola_args_free(args);
    return EXIT_USAGE;
  }
  *out = args;
  return 0;
}

/* Report how a step of the run ended and free `err`; returns the exit
 * status (0 for NULL). A SystemExit is no error: its status is python's
 * (N & 0xff for sys.exit(N); 1 for sys.exit("message"), whose message the
 * guest printed on its stderr), reported by an exit line. Either way the
 * run ends there (`state->ended`). */
static int run_failed(struct run_state *state, isola_error_t *err) {
  if (err == NULL) {
    return 0;
  }
  state->ended = true;
  int32_t exit_status = 0;
  int status = EXIT_RUN_FAILED;
  if (isola_error_exit_status(err, &exit_status)) {
    status = (int)((uint32_t)exit_status & 0xffu);
    if (state->mode == OUTPUT_JSON) {
      printf("{\"type\":\"exit\",\"status\":%d", status);
      end_line();
    }
  } else {
    print_error(state, err);
    state->interrupted = strcmp(isola_error_guest_type(err), "KeyboardInterrupt") == 0;
  }
  isola_error_free(err);
  return status;
}

/* The guest path of the resolved host path `real` when a --mount holds it
 * (the mount with the longest host path wins), malloc'd; NULL when none
 * does. */
static char *guest_path_of(const struct config *cfg, const char *real) {
  const struct mount *best = NULL;
  size_t best_len = 0;
  for (size_t i = 0; i < cfg->mount_count; i++) {
    const struct mount *m = &cfg->mounts[i];
    size_t n = strlen(m->host);
    if (n == 1) {
      n = 0; /* the host's root: every path is below it */
    }
    if (strncmp(real, m->host, n) == 0 && (real[n] == '/' || real[n] == '\0') &&
        (best == NULL || n > best_len)) {
      best = m;
      best_len = n;
    }
  }
  if (best == NULL) {
    return NULL;
  }
  const char *rest = real + best_len; /* "" or starts with '/' */
  size_t glen = strlen(best->guest);
  while (glen > 1 && best->guest[glen - 1] == '/') {
    glen--;
  }
  if (glen == 1 && rest[0] != '\0') {
    glen = 0; /* mounted at '/' is refused by isola, but stay correct */
  }
  char *guest = malloc(glen + strlen(rest) + 1);
  if (guest != NULL) {
    memcpy(guest, best->guest, glen);
    strcpy(guest + glen, rest);
  }
  return guest;
}

/* The script's path inside the sandbox when a --mount holds it, malloc'd;
 * NULL when none does, or for -c, -m and standard input. */
static char *script_guest_path(const struct config *cfg) {
  if (cfg->script_kind != SCRIPT_FILE || strcmp(cfg->script, "-") == 0) {
    return NULL;
  }
  char *real = realpath(cfg->script, NULL);
  if (real == NULL) {
    return NULL;
  }
  char *guest = guest_path_of(cfg, real);
  free(real);
  return guest;
}

/* The current directory's path inside the sandbox when a --mount holds
 * it, malloc'd; else NULL. */
static char *cwd_guest_path(const struct config *cfg) {
  char *cwd = getcwd(NULL, 0);
  if (cwd == NULL) {
    return NULL;
  }
  char *real = realpath(cwd, NULL);
  free(cwd);
  if (real == NULL) {
    return NULL;
  }
  char *guest = guest_path_of(cfg, real);
  free(real);
  return guest;
}

/* Append to `out` (room for 4 bytes per byte of `text`) the Python str
 * expression of `text` as an escaped bytes literal decoded as the guest's
 * file system decodes names, so no byte of it can end the string. Returns
 * the end of what was written. */
static char *put_py_path(char *out, const char *text) {
  static const char TAIL[] = "'.decode('utf-8', 'surrogateescape')";
  *out++ = 'b';
  *out++ = '\'';
  for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
    if (*c >= 0x20 && *c < 0x7f && *c != '\\' && *c != '\'') {
      *out++ = (char)*c;
    } else {
      out += sprintf(out, "\\x%02x", *c);
    }
  }
  memcpy(out, TAIL, sizeof TAIL);
  return out + sizeof TAIL - 1;
}

/* The name python gives the script in tracebacks, malloc'd, or NULL: the
 * path as given, joined to the current directory when relative (python
 * does not normalise it), <string> for -c, <stdin> for a script read from
 * standard input. NULL for -m (runpy runs the module's own file). */
static char *script_traceback_name(const struct config *cfg) {
  if (cfg->script_kind == SCRIPT_MODULE) {
    return NULL;
  }
  if (cfg->script_kind == SCRIPT_CODE) {
    return strdup("<string>");
  }
  if (strcmp(cfg->script, "-") == 0) {
    return strdup("<stdin>");
  }
  if (cfg->script[0] == '/') {
    return strdup(cfg->script);
  }
  char *cwd = getcwd(NULL, 0);
  if (cwd == NULL) {
    return strdup(cfg->script);
  }
  size_t len = strlen(cwd) + 1 + strlen(cfg->script) + 1;
  char *name = malloc(len);
  if (name != NULL) {
    snprintf(name, len, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", cfg->script);
  }
  free(cwd);
  return name;
}

/* Python source setting the script up as python would, malloc'd, or NULL
 * when there is nothing to set up (or no memory): the working directory is
 * `cwd` (the current directory's guest path, may be NULL), and the first
 * entry of sys.path is the directory of `script` (its guest path) or, for
 * -c and -m, the working directory. With --plain, logging writes to stderr as python's does
 * (sandbox.log_to_stderr) instead of sending log events. */
static char *setup_source(const struct config *cfg, const char *cwd, const char *script) {
  static const char CHDIR[] = "__import__('os').chdir(";
  static const char SYS_PATH[] = "__import__('sys').path.insert(0, __import__('os').path.dirname(";
  static const char PLAIN[] = "__import__('sandbox').log_to_stderr()\n";
  const char *first = script != NULL ? script : (cfg->script_kind != SCRIPT_FILE ? cwd : NULL);
  if (cwd == NULL && first == NULL && !cfg->plain) {
    return NULL;
  }
  size_t cwd_len = cwd != NULL ? strlen(cwd) : 0;
  size_t first_len = first != NULL ? strlen(first) + 2 : 0; /* + "/." for a directory */
  char *out = malloc(sizeof CHDIR + sizeof SYS_PATH + sizeof PLAIN + 4 * (cwd_len + first_len) + 192);
  if (out == NULL) {
    return NULL;
  }
  char *w = out;
  *w = '\0';
  if (cwd != NULL) {
    w += sprintf(w, "%s", CHDIR);
    w = put_py_path(w, cwd);
    w += sprintf(w, ")\n");
  }
  if (first != NULL) {
    /* dirname() of "DIR/." is DIR itself. */
    char *path = malloc(first_len + 1);
    if (path == NULL) {
      free(out);
      return NULL;
    }
    snprintf(path, first_len + 1, "%s%s", first, first == script ? "" : "/.");
    w += sprintf(w, "%s", SYS_PATH);
    w = put_py_path(w, path);
    w += sprintf(w, "))\n");
    free(path);
  }
  if (cfg->plain) {
    w += sprintf(w, "%s", PLAIN);
  }
  return out;
}

/* The function running a -m module, and the script defining it (%s: the
 * module's name). A module that cannot be found ends the run as python's
 * does (status 1, "<program>: No module named X"), named isola-run: runpy
 * would name sys.executable, which is empty in the sandbox. The function
 * is built from C callables only (partial, any, map), so tracebacks start
 * at runpy's frame as python's do, and its result is a bool, not the
 * module's globals (which have no CBOR form). */
#define MODULE_RUNNER "_isola_run_module_as_main"
static const char MODULE_RUNNER_IMPORT[] =
    "import runpy as _isola_runpy\n"
    "try:\n"
    "    _isola_runpy._get_module_details('%s', _isola_runpy._Error)\n"
    "except _isola_runpy._Error as e:\n"
    "    raise SystemExit('isola-run: %%s' %% e) from None\n"
    MODULE_RUNNER " = __import__('functools').partial(\n"
    "    any, map(_isola_runpy._run_module_as_main, ['%s']))\n";

/* Whether `text` is valid UTF-8 as the library checks it (no overlong
 * forms, surrogates or code points past U+10FFFF). */
static bool is_utf8(const char *text) {
  const unsigned char *c = (const unsigned char *)text;
  while (*c != 0) {
    size_t n = 0;
    unsigned int cp = 0;
    if (*c < 0x80) {
      c++;
      continue;
    } else if (*c >= 0xc2 && *c <= 0xdf) {
      n = 1;
      cp = *c & 0x1fu;
    } else if (*c >= 0xe0 && *c <= 0xef) {
      n = 2;
      cp = *c & 0x0fu;
    } else if (*c >= 0xf0 && *c <= 0xf4) {
      n = 3;
      cp = *c & 0x07u;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; k++) {
      if ((c[k] & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (c[k] & 0x3fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    c += n + 1;
  }
  return true;
}

/* The script's arguments that are not UTF-8 (a file name in another
 * encoding), which python gives the script decoded with surrogateescape:
 * the library takes UTF-8 only, so main passes "" for them and this puts
 * them into sys.argv before the script runs. NULL error when all are
 * UTF-8. */
static isola_error_t *restore_arguments(isola_sandbox_t *sandbox, const struct config *cfg,
                                        const isola_sink_t *sink) {
  size_t len = 1;
  for (size_t i = 1; i < cfg->script_argc; i++) {
    if (!is_utf8(cfg->script_argv[i])) {
      len += 4 * strlen(cfg->script_argv[i]) + 96;
    }
  }
  if (len == 1) {
    return NULL;
  }
  char *code = malloc(len);
  if (code == NULL) {
    return NULL; /* the arguments stay "": nothing better to do */
  }
  char *w = code;
  for (size_t i = 1; i < cfg->script_argc; i++) {
    if (!is_utf8(cfg->script_argv[i])) {
      w += sprintf(w, "__import__('sys').argv[%zu] = ", i);
      w = put_py_path(w, cfg->script_argv[i]);
      *w++ = '\n';
    }
  }
  *w = '\0';
  isola_error_t *err = isola_sandbox_eval(sandbox, code, sink);
  free(code);
  return err;
}

/* Run the script as python would: in the current directory's guest path
 * when a --mount holds it (else in /home/user). A script that a --mount
 * holds runs from there: __file__ is its guest path and its directory is
 * first on sys.path, so it imports its sibling modules and finds data
 * beside it. Any other runs from the source read on the host; for -c and
 * -m the working directory is first on sys.path; tracebacks name the
 * script as python does (its path, <string> for -c, <stdin>). */
static isola_error_t *run_script(isola_sandbox_t *sandbox, const struct config *cfg,
                                 const char *source, const isola_sink_t *sink) {
  char *guest = script_guest_path(cfg);
  char *cwd = cwd_guest_path(cfg);
  char *name = script_traceback_name(cfg);
  char *setup = setup_source(cfg, cwd, guest);
  isola_error_t *err = restore_arguments(sandbox, cfg, sink);
  if (err == NULL && setup != NULL) {
    err = isola_sandbox_eval(sandbox, setup, sink);
  }
  if (err == NULL && cfg->script_kind == SCRIPT_MODULE) {
    /* As python -m: runpy's _run_module_as_main runs the module in
     * __main__, and a call (not a script) leaves no frame of isola-run's
     * own above runpy's in tracebacks. */
    err = isola_sandbox_eval(sandbox, source, sink);
    if (err == NULL) {
      err = isola_sandbox_call_json(sandbox, MODULE_RUNNER, NULL, NULL, sink);
    }
  } else if (err == NULL) {
    if (guest != NULL && setup != NULL) {
      err = isola_sandbox_eval_file(sandbox, guest, sink); /* named by its guest path */
    } else if (name != NULL) {
      err = isola_sandbox_eval_named(sandbox, source, name, sink);
    } else {
      err = isola_sandbox_eval(sandbox, source, sink);
    }
  }
  free(setup);
  free(name);
  free(cwd);
  free(guest);
  return err;
}

/* What python does when a program ends, after a failure or sys.exit too:
 * the atexit handlers, then the interpreter's shutdown. Of the shutdown,
 * what a program can see: the objects __main__ holds are released in the
 * order their names were bound, as python releases them, while the
 * script's modules, classes and functions stay bound for their __del__
 * methods (python runs those finalizers with the globals intact); an
 * unclosed file is flushed and closed, cycles are collected, then the
 * remaining names go. Any file object still open is then flushed, so no
 * data written to a --mount is lost with the sandbox. Runs in its own
 * namespace. */
static const char EXIT_HANDLERS[] =
    "__import__('atexit')._run_exitfuncs()\n"
    "exec('''\n"
    "import gc, io, sys\n"
    "main = getattr(sys.modules.get('__main__'), '__dict__', None)\n"
    "kinds = (type(sys), type, type(len), type(lambda: 0))\n"
    "for last in (False, True):\n"
    "    for k in [] if main is None else list(main):\n"
    "        if k != '__builtins__' and (last or not isinstance(main[k], kinds)):\n"
    "            main[k] = None\n"
    "    gc.collect()\n"
    "main = k = None\n"
    "for f in gc.get_objects():\n"
    "    if isinstance(f, (io.BufferedWriter, io.BufferedRandom, io.BufferedRWPair, io.TextIOWrapper)):\n"
    "        try:\n"
    "            f.closed or f.flush()\n"
    "        except Exception:\n"
    "            pass\n"
    "''', {})\n";

/* Run the atexit handlers and the shutdown above. A sandbox that cannot
 * run code any more (timeout, trap) fails this at once; that second error
 * is not printed. Returns the exit status. */
static int run_exit_handlers(isola_sandbox_t *sandbox, const isola_sink_t *sink,
                             struct run_state *state, int status) {
  isola_error_t *err = isola_sandbox_eval(sandbox, EXIT_HANDLERS, sink);
  if (err == NULL) {
    return status;
  }
  if (state->ended) {
    isola_error_free(err);
    return status;
  }
  return run_failed(state, err);
}

/* The encoding named by a PEP 263 coding declaration ("# -*- coding:
 * latin-1 -*-") on the first line of `src`, or on the second when the
 * first is blank or a comment, as python reads it: copied to `name`
 * (`cap` bytes), lower-cased. False when there is none. */
static bool coding_declaration(const char *src, size_t len, char *name, size_t cap) {
  const char *line = src;
  const char *end = src + len;
  for (int n = 0; n < 2 && line < end; n++) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL) {
      eol = end;
    }
    const char *c = line;
    while (c < eol && (*c == ' ' || *c == '\t' || *c == '\f')) {
      c++;
    }
    if (c < eol && *c == '#') {
      for (const char *k = c; k + 7 <= eol; k++) {
        if (memcmp(k, "coding", 6) == 0 && (k[6] == ':' || k[6] == '=')) {
          const char *v = k + 7;
          while (v < eol && (*v == ' ' || *v == '\t')) {
            v++;
          }
          size_t i = 0;
          while (v < eol && i + 1 < cap && (isalnum((unsigned char)*v) || *v == '-' || *v == '_' || *v == '.')) {
            name[i++] = (char)tolower((unsigned char)*v++);
          }
          name[i] = '\0';
          return i > 0;
        }
      }
    } else if (c < eol && *c != '\r') {
      return false; /* code on the first line: the second is not looked at */
    }
    line = eol + 1;
  }
  return false;
}

/* iconv's conversion to UTF-8 from the Python codec `name`, trying the
 * spellings the two disagree on ("latin-1", "shift_jis"/"euc-jp"). */
static iconv_t open_decoder(const char *name) {
  if (strcmp(name, "latin-1") == 0 || strcmp(name, "latin_1") == 0 || strcmp(name, "l1") == 0 ||
      strcmp(name, "iso-latin-1") == 0) {
    name = "ISO-8859-1";
  }
  static const char swaps[][2] = {{'_', '-'}, {'-', '_'}};
  iconv_t cd = iconv_open("UTF-8", name);
  for (size_t k = 0; cd == (iconv_t)-1 && k < sizeof swaps / sizeof swaps[0]; k++) {
    char alt[64];
    snprintf(alt, sizeof alt, "%s", name);
    for (char *c = alt; *c != '\0'; c++) {
      if (*c == swaps[k][0]) {
        *c = swaps[k][1];
      }
    }
    cd = iconv_open("UTF-8", alt);
  }
  return cd;
}

/* A script file declaring an encoding other than UTF-8 (PEP 263), as
 * python reads it: `*source` (`*len` bytes) is replaced by its UTF-8 text,
 * which the sandbox's eval takes (python ignores the declaration in text
 * it compiles). A script the sandbox reads itself from a --mount is decoded
 * there. An unknown encoding, or bytes it cannot decode, leave the source
 * as it is. */
static int decode_declared_encoding(char **source, size_t *len) {
  char name[64];
  if (!coding_declaration(*source, *len, name, sizeof name) || strncmp(name, "utf-8", 5) == 0 ||
      strncmp(name, "utf8", 4) == 0 || strncmp(name, "utf_8", 5) == 0) {
    return 0;
  }
  iconv_t cd = open_decoder(name);
  if (cd == (iconv_t)-1) {
    return 0;
  }
  size_t cap = 4 * *len + 1; /* a byte is at most 4 UTF-8 bytes */
  char *out = malloc(cap);
  if (out == NULL) {
    iconv_close(cd);
    fputs("isola-run: out of memory\n", stderr);
    return EXIT_RUN_FAILED;
  }
  char *in = *source, *w = out;
  size_t in_left = *len, out_left = cap - 1;
  size_t done = iconv(cd, &in, &in_left, &w, &out_left);
  iconv_close(cd);
  if (done == (size_t)-1) {
    free(out);
    return 0;
  }
  *w = '\0';
  free(*source);
  *source = out;
  *len = (size_t)(w - out);
  return 0;
}

/* What to run: the file's source, the -c code, or for -m the script
 * defining MODULE_RUNNER (run_script calls it). */
static int load_script(const struct config *cfg, char **out) {
  if (cfg->script_kind == SCRIPT_FILE) {
    size_t len = 0;
    int status = read_whole_file(cfg->script, "script", false, out, &len);
    return status != 0 ? status : decode_declared_encoding(out, &len);
  }
  size_t name_len = strlen(cfg->script);
  size_t len = cfg->script_kind == SCRIPT_CODE ? name_len + 1
                                               : sizeof MODULE_RUNNER_IMPORT + 2 * name_len;
  *out = malloc(len);
  if (*out == NULL) {
    fputs("isola-run: out of memory\n", stderr);
    return EXIT_RUN_FAILED;
  }
  if (cfg->script_kind == SCRIPT_CODE) {
    memcpy(*out, cfg->script, len);
  } else {
    /* is_module_name admitted only identifier characters and dots: the
     * name needs no escaping in a Python string literal. */
    snprintf(*out, len, MODULE_RUNNER_IMPORT, cfg->script, cfg->script);
  }
  return 0;
}

int main(int argc, char **argv) {
  struct config cfg = {0};
  char *script = NULL;
  isola_template_options_t *tpl_opts = NULL;
  isola_template_t *tpl = NULL;
  isola_sandbox_options_t *sandbox_opts = NULL;
  isola_sandbox_t *sandbox = NULL;
  isola_args_t *call_args = NULL;
  const char **passed_argv = NULL;
  struct run_state state = {OUTPUT_JSON, false, false, false};
  isola_sink_t sink = {.struct_size = sizeof(isola_sink_t)};
  sink.user_data = &state;
  sink.format = ISOLA_FORMAT_JSON;
  sink.on_item = on_item;
  sink.on_result = on_result;
  sink.on_stdout = on_stdout;
  sink.on_stderr = on_stderr;
  sink.on_log = on_log;

  int status = parse_args(argc, argv, &cfg);
  if (status >= 0) {
    goto done;
  }
  state.mode = cfg.plain ? OUTPUT_PLAIN : OUTPUT_JSON;
  if (cfg.call != NULL) {
    status = build_call_args(&cfg, &call_args);
    if (status != 0) {
      goto done;
    }
  }
  status = load_script(&cfg, &script);
  if (status != 0) {
    goto done;
  }
  tpl_opts = isola_template_options_new();
  sandbox_opts = isola_sandbox_options_new();
  if (tpl_opts == NULL || sandbox_opts == NULL) {
    fputs("isola-run: out of memory\n", stderr);
    status = EXIT_RUN_FAILED;
    goto done;
  }
  status = fill_options(&cfg, tpl_opts, sandbox_opts);
  if (status != 0) {
    goto done;
  }
  /* Arguments that are not UTF-8 go in as "" and are put into sys.argv
   * by restore_arguments (the script's own name must be UTF-8). */
  passed_argv = calloc(cfg.script_argc, sizeof *passed_argv);
  if (passed_argv == NULL) {
    fputs("isola-run: out of memory\n", stderr);
    status = EXIT_RUN_FAILED;
    goto done;
  }
  for (size_t i = 0; i < cfg.script_argc; i++) {
    passed_argv[i] = i == 0 || is_utf8(cfg.script_argv[i]) ? cfg.script_argv[i] : "";
  }
  status = option_failed("script arguments",
                         isola_sandbox_options_set_argv(sandbox_opts, passed_argv, cfg.script_argc));
  if (status != 0) {
    goto done;
  }
  status = run_failed(&state, isola_template_new(tpl_opts, &tpl));
  if (!state.ended) {
    status = run_failed(&state, isola_sandbox_new(tpl, sandbox_opts, &sandbox));
  }
  if (!state.ended) {
    status = run_failed(&state, run_script(sandbox, &cfg, script, &sink));
  }
  if (!state.ended && cfg.call != NULL) {
    state.print_result = true;
    status = run_failed(&state, isola_sandbox_call(sandbox, cfg.call, call_args, &sink));
  }
  if (sandbox != NULL) {
    state.print_result = false;
    status = run_exit_handlers(sandbox, &sink, &state, status);
  }

done:
  free(passed_argv);
  isola_args_free(call_args);
  isola_sandbox_free(sandbox);
  isola_sandbox_options_free(sandbox_opts);
  isola_template_free(tpl);
  isola_template_options_free(tpl_opts);
  free(script);
  config_free(&cfg);
  if (state.interrupted) {
    fflush(stdout);
    fflush(stderr);
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
    return 128 + SIGINT;
  }
  return status;
}
