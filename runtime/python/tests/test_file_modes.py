"""Permission bits added to stat results that have none (WASI reports the file type only)."""
import os
import stat
import unittest

import _path  # noqa: F401
from isola_guest import file_modes


def stat_result(mode):
    # A stat result as WASI gives it: type bits only, float and ns times kept.
    real = os.stat(__file__)
    cls, (fields, extra) = real.__reduce__()
    return cls((mode,) + tuple(fields[1:]), extra)


class FileModesTests(unittest.TestCase):
    def test_type_only_modes_get_the_permissions_of_umask_022(self):
        for kind, expected in ((stat.S_IFREG, 0o644), (stat.S_IFDIR, 0o755), (stat.S_IFLNK, 0o777),
                               (stat.S_IFCHR, 0o666)):
            result = file_modes.with_permissions(stat_result(kind))
            self.assertEqual(result.st_mode, kind | expected)
            self.assertEqual(stat.S_IFMT(result.st_mode), kind)

    def test_every_other_field_is_kept(self):
        before = stat_result(stat.S_IFREG)
        after = file_modes.with_permissions(before)
        self.assertEqual(tuple(after)[1:], tuple(before)[1:])
        for name in ("st_mtime", "st_mtime_ns", "st_atime_ns", "st_ctime"):
            self.assertEqual(getattr(after, name), getattr(before, name))

    def test_modes_with_permissions_are_left_alone(self):
        before = stat_result(stat.S_IFREG | 0o600)
        self.assertIs(file_modes.with_permissions(before), before)


    def test_access_x_ok_follows_the_reported_modes(self):
        # WASI's access() grants X_OK to every file that exists.
        calls = []

        def wasi_access(path, mode, **kwargs):
            calls.append((path, mode))
            return os.path.exists(path)

        access = file_modes._wrap_access(wasi_access)
        here = os.path.dirname(os.path.abspath(__file__))
        data = os.path.join(here, "cbor_vectors.json")
        self.assertFalse(access(data, os.X_OK))
        self.assertFalse(access(data, os.R_OK | os.X_OK))
        self.assertTrue(access(data, os.R_OK))
        self.assertTrue(access(here, os.X_OK))
        self.assertFalse(access(os.path.join(here, "missing"), os.X_OK))
        self.assertEqual(calls[0], (data, os.X_OK))


if __name__ == "__main__":
    unittest.main()
