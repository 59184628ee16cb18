/* What a sandbox sees of the host: mounted directories (read-only and
 * read-write), eval_file, and environment variables. */
#define _XOPEN_SOURCE 700

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static const char FS_CODE[] =
    "import os\n"
    "def read(path):\n"
    "    with open(path) as f:\n"
    "        return f.read()\n"
    "def write(path, text):\n"
    "    with open(path, 'w') as f:\n"
    "        f.write(text)\n"
    "    return len(text)\n"
    "def listing(path):\n"
    "    return sorted(os.listdir(path))\n"
    "def env(key):\n"
    "    return os.environ.get(key)\n";

struct fs_fixture {
  char *host_dir;
  isola_template_t *tpl;
  isola_sandbox_t *sandbox;
};

static void fs_setup(struct fs_fixture *fx, uint32_t mode) {
  char path[4096];
  fx->host_dir = make_temp_dir();
  snprintf(path, sizeof path, "%s/input.txt", fx->host_dir);
  write_file(path, "host data\n");
  fx->tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_add_mount(opts, fx->host_dir, "/data", mode));
  fx->sandbox = new_sandbox(fx->tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval(fx->sandbox, FS_CODE, NULL));
}

static void fs_teardown(struct fs_fixture *fx) {
  isola_sandbox_free(fx->sandbox);
  isola_template_free(fx->tpl);
  remove_tree(fx->host_dir);
  free(fx->host_dir);
}

static void read_only_mount_is_readable(void) {
  struct fs_fixture fx;
  fs_setup(&fx, ISOLA_MOUNT_READ_ONLY);
  char *result = call_json_result(fx.sandbox, "read", "[\"/data/input.txt\"]");
  CHECK_STR_EQ(result, "\"host data\\n\"");
  free(result);
  result = call_json_result(fx.sandbox, "listing", "[\"/data\"]");
  CHECK_STR_EQ(result, "[\"input.txt\"]");
  free(result);
  fs_teardown(&fx);
}

static void read_only_mount_refuses_writes(void) {
  struct fs_fixture fx;
  fs_setup(&fx, ISOLA_MOUNT_READ_ONLY);
  isola_error_t *err = EXPECT_ERROR(
      isola_sandbox_call_json(fx.sandbox, "write", "[\"/data/new.txt\", \"x\"]", NULL, NULL),
      ISOLA_ERROR_GUEST_EXCEPTION);
  printf("write to read-only mount: %s\n", isola_error_guest_type(err));
  CHECK(strstr(isola_error_guest_type(err), "Error") != NULL);
  isola_error_free(err);
  CHECK_ERROR(isola_sandbox_call_json(fx.sandbox, "write", "[\"/data/input.txt\", \"x\"]", NULL, NULL),
              ISOLA_ERROR_GUEST_EXCEPTION);
  /* Nothing changed on the host. */
  char path[4096];
  snprintf(path, sizeof path, "%s/new.txt", fx.host_dir);
  char *contents = read_file(path);
  CHECK(contents == NULL);
  snprintf(path, sizeof path, "%s/input.txt", fx.host_dir);
  contents = read_file(path);
  CHECK_STR_EQ(contents, "host data\n");
  free(contents);
  fs_teardown(&fx);
}

static void read_write_mount_writes_to_host(void) {
  struct fs_fixture fx;
  fs_setup(&fx, ISOLA_MOUNT_READ_WRITE);
  char *result = call_json_result(fx.sandbox, "write", "[\"/data/out.txt\", \"from the guest\"]");
  CHECK_STR_EQ(result, "14");
  free(result);
  char path[4096];
  snprintf(path, sizeof path, "%s/out.txt", fx.host_dir);
  char *contents = read_file(path);
  CHECK_STR_EQ(contents, "from the guest");
  free(contents);
  fs_teardown(&fx);
}

static void read_write_mount_quota_refuses_growth_with_edquot(void) {
  char *host_dir = make_temp_dir();
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_ERROR(isola_sandbox_options_add_mount_with_quota(opts, host_dir, "out", 1000),
              ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_options_add_mount_with_quota(NULL, host_dir, "/out", 1000),
              ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_OK(isola_sandbox_options_add_mount_with_quota(opts, host_dir, "/out", 1000));
  isola_sandbox_t *sb = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval(sb,
                              "import errno, os\n"
                              "def fill(path, n):\n"
                              "    fd = os.open(path, os.O_RDWR | os.O_CREAT)\n"
                              "    try:\n"
                              "        os.pwrite(fd, b'x' * n, 0)\n"
                              "        return 'ok'\n"
                              "    except OSError as e:\n"
                              "        return 'EDQUOT' if e.errno == errno.EDQUOT else str(e)\n"
                              "    finally:\n"
                              "        os.close(fd)\n",
                              NULL));
  char *result = call_json_result(sb, "fill", "[\"/out/small\", 600]");
  CHECK_STR_EQ(result, "\"ok\"");
  free(result);
  /* 600 + 600 > 1000: the second file does not fit. */
  result = call_json_result(sb, "fill", "[\"/out/more\", 600]");
  CHECK_STR_EQ(result, "\"EDQUOT\"");
  free(result);
  /* The sandbox carries on, and the first file reached the host. */
  char path[4096];
  snprintf(path, sizeof path, "%s/small", host_dir);
  char *contents = read_file(path);
  CHECK(contents != NULL && strlen(contents) == 600);
  free(contents);
  isola_sandbox_free(sb);
  isola_template_free(tpl);
  remove_tree(host_dir);
  free(host_dir);
}

static void host_files_outside_mounts_are_invisible(void) {
  struct fs_fixture fx;
  fs_setup(&fx, ISOLA_MOUNT_READ_WRITE);
  isola_error_t *err = EXPECT_ERROR(
      isola_sandbox_call_json(fx.sandbox, "read", "[\"/etc/passwd\"]", NULL, NULL),
      ISOLA_ERROR_GUEST_EXCEPTION);
  CHECK_STR_EQ(isola_error_guest_type(err), "FileNotFoundError");
  isola_error_free(err);
  /* No escape through "..": above the mount is the sandbox's own root. */
  char *result = call_json_result(fx.sandbox, "listing", "[\"/data/../../..\"]");
  CHECK_STR_EQ(result, "[\"data\",\"dev\",\"etc\",\"home\",\"tmp\"]");
  free(result);
  fs_teardown(&fx);
}

static void eval_file_runs_script_from_mount(void) {
  char *dir = make_temp_dir();
  char path[4096];
  snprintf(path, sizeof path, "%s/script.py", dir);
  write_file(path, "FROM_FILE = 'loaded'\ndef loaded():\n    return FROM_FILE\n");
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_add_mount(opts, dir, "/app", ISOLA_MOUNT_READ_ONLY));
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval_file(sandbox, "/app/script.py", NULL));
  char *result = call_json_result(sandbox, "loaded", NULL);
  CHECK_STR_EQ(result, "\"loaded\"");
  free(result);
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_eval_file(sandbox, "/app/missing.py", NULL),
                                    ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "/app/missing.py");
  isola_error_free(err);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
  remove_tree(dir);
  free(dir);
}

static void stdin_gives_the_guest_the_host_bytes_then_eof(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  /* Binary-safe: the NUL and the last byte reach the guest. */
  static const uint8_t input[] = {'4', '2', '\n', 'a', '\0', 'b'};
  CHECK_OK(isola_sandbox_options_set_stdin(opts, input, sizeof input));
  CHECK_ERROR(isola_sandbox_options_set_stdin(opts, NULL, 3), ISOLA_ERROR_INVALID_ARGUMENT);
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval(sandbox,
                              "import sys\n"
                              "def first():\n    return int(input())\n"
                              "def rest():\n    return [ord(c) for c in sys.stdin.read()]\n",
                              NULL));
  char *result = call_json_result(sandbox, "first", NULL);
  CHECK_STR_EQ(result, "42");
  free(result);
  result = call_json_result(sandbox, "rest", NULL);
  CHECK_STR_EQ(result, "[97,0,98]");
  free(result);
  isola_sandbox_free(sandbox);

  /* Without it, standard input is at end-of-file. */
  sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandbox, "import sys\ndef rest():\n    return sys.stdin.read()\n", NULL));
  result = call_json_result(sandbox, "rest", NULL);
  CHECK_STR_EQ(result, "\"\"");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

/* A sandbox of `template` with `options` sees `expected` (JSON) as sys.argv. */
static void check_sys_argv(const isola_template_t *template, const isola_sandbox_options_t *options,
                           const char *expected) {
  isola_sandbox_t *sb = new_sandbox(template, options);
  CHECK_OK(isola_sandbox_eval(sb, "import sys\ndef argv():\n    return sys.argv\n", NULL));
  char *result = call_json_result(sb, "argv", NULL);
  CHECK_STR_EQ(result, expected);
  free(result);
  isola_sandbox_free(sb);
}

/* The guest's sys.argv: the template default, replaced whole per sandbox;
 * the strings are copied; bad lists are refused and leave the options as
 * they were. */
static void argv_is_sys_argv_per_sandbox(void) {
  isola_template_options_t *tpl_opts = isola_template_options_new();
  const char *const defaults[] = {"tool.py", "--default"};
  CHECK_OK(isola_sandbox_options_set_argv(isola_template_options_defaults(tpl_opts), defaults, 2));
  isola_template_t *argv_tpl = NULL;
  CHECK_OK(isola_template_new(tpl_opts, &argv_tpl));
  isola_template_options_free(tpl_opts);
  check_sys_argv(argv_tpl, NULL, "[\"tool.py\",\"--default\"]");

  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  char own[3][16] = {"other.py", "--name", "caf\xc3\xa9"};
  const char *own_argv[] = {own[0], own[1], own[2]};
  CHECK_OK(isola_sandbox_options_set_argv(opts, own_argv, 3));
  /* Copied: changing the caller's strings afterwards changes nothing. */
  own[1][2] = 'X';
  /* Refused lists leave the options as they were. */
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_options_set_argv(opts, own_argv, 0),
                                    ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "argv[0]");
  isola_error_free(err);
  err = EXPECT_ERROR(isola_sandbox_options_set_argv(opts, NULL, 2), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "argv is NULL");
  isola_error_free(err);
  const char *with_null[] = {"x.py", NULL};
  err = EXPECT_ERROR(isola_sandbox_options_set_argv(opts, with_null, 2), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "argv[1] is NULL");
  isola_error_free(err);
  const char *bad_utf8[] = {"x.py", "ok", "\xff"};
  err = EXPECT_ERROR(isola_sandbox_options_set_argv(opts, bad_utf8, 3), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "argv[2] is not valid UTF-8");
  isola_error_free(err);
  CHECK_ERROR(isola_sandbox_options_set_argv(NULL, own_argv, 1), ISOLA_ERROR_INVALID_ARGUMENT);
  check_sys_argv(argv_tpl, opts, "[\"other.py\",\"--name\",\"caf\xc3\xa9\"]");
  isola_sandbox_options_free(opts);
  isola_template_free(argv_tpl);

  /* Without it: a stand-in program name. */
  isola_template_t *plain = new_template();
  check_sys_argv(plain, NULL, "[\"sandbox\"]");
  isola_template_free(plain);
}

static void missing_mount_directory_fails_sandbox_creation(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  /* Accepted by the setter: the directory is opened at sandbox creation. */
  CHECK_OK(isola_sandbox_options_add_mount(opts, "/nonexistent/isola-mount", "/data",
                                           ISOLA_MOUNT_READ_ONLY));
  isola_sandbox_t *sandbox = NULL;
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_new(tpl, opts, &sandbox), ISOLA_ERROR_IO);
  CHECK_CONTAINS(isola_error_message(err), "/nonexistent/isola-mount");
  CHECK(sandbox == NULL);
  isola_error_free(err);
  isola_sandbox_options_free(opts);
  isola_template_free(tpl);
}

static void fixture_directory_mounts(void) {
  /* The checked-in fixture directory, as isola-run's tests use it. */
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_add_mount(opts, ISOLA_FIXTURES "/data", "/fixtures",
                                           ISOLA_MOUNT_READ_ONLY));
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval(sandbox, FS_CODE, NULL));
  char *result = call_json_result(sandbox, "read", "[\"/fixtures/greeting.txt\"]");
  CHECK_STR_EQ(result, "\"hello from the host\\n\"");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void env_vars_are_visible_in_os_environ(void) {
  isola_template_t *tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_env(opts, "GREETING", "hello"));
  CHECK_OK(isola_sandbox_options_set_env(opts, "REPLACED", "first"));
  CHECK_OK(isola_sandbox_options_set_env(opts, "REPLACED", "second"));
  CHECK_OK(isola_sandbox_options_set_env(opts, "UNICODE", "caf\xc3\xa9"));
  isola_sandbox_t *sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  CHECK_OK(isola_sandbox_eval(sandbox, FS_CODE, NULL));
  char *result = call_json_result(sandbox, "env", "[\"GREETING\"]");
  CHECK_STR_EQ(result, "\"hello\"");
  free(result);
  result = call_json_result(sandbox, "env", "[\"REPLACED\"]");
  CHECK_STR_EQ(result, "\"second\"");
  free(result);
  result = call_json_result(sandbox, "env", "[\"UNICODE\"]");
  CHECK_STR_EQ(result, "\"caf\xc3\xa9\"");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static void host_environment_is_not_inherited(void) {
  /* CTest sets ISOLA_CACHE_DIR in this process; the guest must not see it. */
  CHECK(getenv("PATH") != NULL);
  isola_template_t *tpl = new_template();
  isola_sandbox_t *sandbox = new_sandbox(tpl, NULL);
  CHECK_OK(isola_sandbox_eval(sandbox, FS_CODE, NULL));
  char *result = call_json_result(sandbox, "env", "[\"PATH\"]");
  CHECK_STR_EQ(result, "null");
  free(result);
  isola_sandbox_free(sandbox);
  isola_template_free(tpl);
}

static const struct test_case cases[] = {
    TEST_CASE(read_only_mount_is_readable),
    TEST_CASE(read_only_mount_refuses_writes),
    TEST_CASE(read_write_mount_writes_to_host),
    TEST_CASE(read_write_mount_quota_refuses_growth_with_edquot),
    TEST_CASE(host_files_outside_mounts_are_invisible),
    TEST_CASE(eval_file_runs_script_from_mount),
    TEST_CASE(stdin_gives_the_guest_the_host_bytes_then_eof),
    TEST_CASE(argv_is_sys_argv_per_sandbox),
    TEST_CASE(missing_mount_directory_fails_sandbox_creation),
    TEST_CASE(fixture_directory_mounts),
    TEST_CASE(env_vars_are_visible_in_os_environ),
    TEST_CASE(host_environment_is_not_inherited),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
