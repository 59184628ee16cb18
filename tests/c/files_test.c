/* Files in and out of a sandbox's scratch file system from C:
 * isola_sandbox_write_file, isola_sandbox_read_file, isola_sandbox_list_dir. */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static const char GUEST_CODE[] =
    "import os\n"
    "def size(path):\n"
    "    with open(path, 'rb') as f:\n"
    "        return len(f.read())\n"
    "def first_byte(path):\n"
    "    with open(path, 'rb') as f:\n"
    "        return f.read()[0]\n"
    "def make_artifact():\n"
    "    os.makedirs('/tmp/out', exist_ok=True)\n"
    "    with open('/tmp/out/report.csv', 'w') as f:\n"
    "        f.write('a,b\\n1,2\\n')\n"
    "    with open('/tmp/out/image.bin', 'wb') as f:\n"
    "        f.write(bytes(range(256)))\n"
    "    os.mkdir('/tmp/out/sub')\n"
    "    return 'ok'\n";

static void uploaded_bytes_reach_the_guest(void) {
  setup(GUEST_CODE);
  unsigned char data[300];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(255 - i % 256);
  CHECK_OK(isola_sandbox_write_file(sandbox, "/tmp/in/data.bin", data, sizeof data));
  char *result = call_json_result(sandbox, "size", "[\"/tmp/in/data.bin\"]");
  CHECK_STR_EQ(result, "300");
  free(result);
  result = call_json_result(sandbox, "first_byte", "[\"/tmp/in/data.bin\"]");
  CHECK_STR_EQ(result, "255");
  free(result);
  /* A relative path is relative to the home directory, the guest's cwd. */
  CHECK_OK(isola_sandbox_write_file(sandbox, "notes.txt", (const uint8_t *)"hi", 2));
  result = call_json_result(sandbox, "size", "[\"notes.txt\"]");
  CHECK_STR_EQ(result, "2");
  free(result);
  /* An empty file with a NULL pointer is fine. */
  CHECK_OK(isola_sandbox_write_file(sandbox, "/tmp/empty", NULL, 0));
  result = call_json_result(sandbox, "size", "[\"/tmp/empty\"]");
  CHECK_STR_EQ(result, "0");
  free(result);
  teardown();
}

static void guest_artifacts_come_back_as_bytes_and_listings(void) {
  setup(GUEST_CODE);
  char *result = call_json_result(sandbox, "make_artifact", "[]");
  CHECK_STR_EQ(result, "\"ok\"");
  free(result);

  isola_buffer_t *buf = NULL;
  CHECK_OK(isola_sandbox_read_file(sandbox, "/tmp/out/image.bin", &buf));
  CHECK(isola_buffer_len(buf) == 256);
  const uint8_t *bytes = isola_buffer_data(buf);
  for (size_t i = 0; i < 256; i++) CHECK(bytes[i] == (uint8_t)i);
  isola_buffer_free(buf);

  buf = NULL;
  CHECK_OK(isola_sandbox_read_file(sandbox, "/tmp/out/report.csv", &buf));
  CHECK(isola_buffer_len(buf) == 8);
  CHECK(memcmp(isola_buffer_data(buf), "a,b\n1,2\n", 8) == 0);
  isola_buffer_free(buf);

  isola_dir_listing_t *listing = NULL;
  CHECK_OK(isola_sandbox_list_dir(sandbox, "/tmp/out", &listing));
  CHECK(isola_dir_listing_len(listing) == 3);
  CHECK_STR_EQ(isola_dir_listing_name(listing, 0), "image.bin");
  CHECK(isola_dir_listing_kind(listing, 0) == ISOLA_FILE_KIND_FILE);
  CHECK_STR_EQ(isola_dir_listing_name(listing, 1), "report.csv");
  CHECK_STR_EQ(isola_dir_listing_name(listing, 2), "sub");
  CHECK(isola_dir_listing_kind(listing, 2) == ISOLA_FILE_KIND_DIRECTORY);
  CHECK(isola_dir_listing_name(listing, 3) == NULL);
  CHECK(isola_dir_listing_kind(listing, 3) == ISOLA_FILE_KIND_OTHER);
  isola_dir_listing_free(listing);
  teardown();
}

static void bad_paths_and_arguments_are_clear_errors(void) {
  setup(NULL);
  isola_buffer_t *buf = NULL;
  isola_error_t *err = EXPECT_ERROR(isola_sandbox_read_file(sandbox, "/tmp/missing", &buf),
                                    ISOLA_ERROR_IO);
  CHECK_CONTAINS(isola_error_message(err), "no such file");
  isola_error_free(err);
  CHECK(buf == NULL);
  /* Outside the scratch file system: the root, devices, the host. */
  CHECK_ERROR(isola_sandbox_write_file(sandbox, "/etc/passwd", (const uint8_t *)"x", 1),
              ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_read_file(sandbox, "/dev/null", &buf), ISOLA_ERROR_INVALID_ARGUMENT);
  /* The scratch roots themselves are no files; a directory below them is IO. */
  CHECK_ERROR(isola_sandbox_read_file(sandbox, "/tmp", &buf), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_OK(isola_sandbox_write_file(sandbox, "/tmp/dir/f", (const uint8_t *)"x", 1));
  CHECK_ERROR(isola_sandbox_read_file(sandbox, "/tmp/dir", &buf), ISOLA_ERROR_IO);
  /* Listing outside it names the path given. */
  isola_dir_listing_t *root = NULL;
  err = EXPECT_ERROR(isola_sandbox_list_dir(sandbox, "/", &root), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(isola_error_message(err), "/: not below /tmp or /home/user");
  isola_error_free(err);
  CHECK(root == NULL);
  CHECK_ERROR(isola_sandbox_write_file(sandbox, "/tmp/../etc/x", (const uint8_t *)"x", 1),
              ISOLA_ERROR_INVALID_ARGUMENT);
  isola_dir_listing_t *listing = NULL;
  CHECK_ERROR(isola_sandbox_list_dir(sandbox, "/tmp/nope", &listing), ISOLA_ERROR_IO);
  CHECK(listing == NULL);
  /* NULLs and invalid UTF-8. */
  CHECK_ERROR(isola_sandbox_write_file(NULL, "/tmp/x", NULL, 0), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_write_file(sandbox, NULL, NULL, 0), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_write_file(sandbox, "/tmp/x", NULL, 3), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_write_file(sandbox, "/tmp/\xff", (const uint8_t *)"x", 1),
              ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_read_file(sandbox, "/tmp/x", NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR(isola_sandbox_list_dir(sandbox, "/tmp", NULL), ISOLA_ERROR_INVALID_ARGUMENT);
  /* NULL objects are safe to query and free. */
  CHECK(isola_buffer_len(NULL) == 0);
  CHECK(isola_buffer_data(NULL) == NULL);
  CHECK(isola_dir_listing_len(NULL) == 0);
  CHECK(isola_dir_listing_name(NULL, 0) == NULL);
  isola_buffer_free(NULL);
  isola_dir_listing_free(NULL);
  teardown();
}

static void scratch_cap_refuses_an_oversized_upload(void) {
  tpl = new_template();
  isola_sandbox_options_t *opts = isola_sandbox_options_new();
  CHECK_OK(isola_sandbox_options_set_max_scratch_bytes(opts, 1024));
  sandbox = new_sandbox(tpl, opts);
  isola_sandbox_options_free(opts);
  uint8_t *big = calloc(1, 4096);
  CHECK_ERROR(isola_sandbox_write_file(sandbox, "/tmp/big", big, 4096), ISOLA_ERROR_IO);
  CHECK_OK(isola_sandbox_write_file(sandbox, "/tmp/small", big, 512));
  free(big);
  teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(uploaded_bytes_reach_the_guest),
    TEST_CASE(guest_artifacts_come_back_as_bytes_and_listings),
    TEST_CASE(bad_paths_and_arguments_are_clear_errors),
    TEST_CASE(scratch_cap_refuses_an_oversized_upload),
};

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, cases); }
