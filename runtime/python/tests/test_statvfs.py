"""The guest's os.statvfs / shutil.disk_usage (isola_guest.statvfs) from the
host's answer (a stand-in here), checked against the result shapes of a
native CPython."""
import errno
import os
import tempfile
import types
import unittest

import _path  # noqa: F401
from isola_guest import hostapi, statvfs


class StatvfsTests(unittest.TestCase):
    def setUp(self):
        self.asked = []
        self.answer = None
        self._saved = hostapi.stat_fs

        def stat_fs(path):
            self.asked.append(path)
            return self.answer

        hostapi.stat_fs = stat_fs
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        hostapi.stat_fs = self._saved
        os.rmdir(self.dir)

    def test_caps_and_use_become_blocks_and_files(self):
        self.answer = types.SimpleNamespace(max_bytes=64 << 20, used_bytes=5000, max_files=4096, used_files=7,
                                            read_only=False)
        st = statvfs.statvfs(self.dir)
        self.assertEqual(self.asked, [self.dir])
        self.assertEqual((st.f_bsize, st.f_frsize, st.f_blocks, st.f_bfree, st.f_bavail),
                         (4096, 4096, 16384, 16382, 16382))
        self.assertEqual((st.f_files, st.f_ffree, st.f_favail, st.f_flag, st.f_namemax), (4096, 4089, 4089, 0, 255))
        self.assertEqual(len(st), len(os.statvfs(self.dir)) if hasattr(os, "statvfs") else 10)
        # shutil.disk_usage's arithmetic, on this answer.
        saved = os.statvfs if hasattr(os, "statvfs") else None
        os.statvfs = statvfs.statvfs
        try:
            self.assertEqual(statvfs.disk_usage(self.dir), (64 << 20, 8192, (64 << 20) - 8192))
        finally:
            if saved is None:
                del os.statvfs
            else:
                os.statvfs = saved
        # Relative paths are asked for absolutely.
        statvfs.statvfs(os.path.relpath(self.dir))
        self.assertEqual(self.asked[-1], self.dir)

    def test_no_cap_read_only_and_unknown(self):
        self.answer = types.SimpleNamespace(max_bytes=0, used_bytes=0, max_files=0, used_files=0, read_only=True)
        st = statvfs.statvfs(self.dir)
        self.assertEqual((st.f_blocks, st.f_bfree, st.f_files, st.f_ffree, st.f_flag), (1 << 20, 0, 1 << 32, 0, 1))
        self.answer = None
        with self.assertRaises(OSError) as caught:
            statvfs.statvfs(self.dir)
        self.assertEqual(caught.exception.errno, errno.ENOSYS)
        with self.assertRaises(FileNotFoundError):
            statvfs.statvfs(os.path.join(self.dir, "missing"))
        with self.assertRaises(OSError):
            statvfs.statvfs(0)


if __name__ == "__main__":
    unittest.main()
