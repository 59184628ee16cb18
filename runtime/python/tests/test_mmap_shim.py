"""The guest's emulated mmap (isola_guest.mmap_shim) writing back to its
file, run natively: what happens once the mapped file's descriptor is
closed, and a map that writes back through the file's path."""
import gc
import os
import tempfile
import unittest

import _path  # noqa: F401
from isola_guest import mmap_shim


def write_through_buffer(m, start, data):
    """Write as numpy does over a map: into the buffer it exports (what
    ``memoryview(m)`` does on 3.12+, called directly for older pythons)."""
    view = m.__buffer__(0)
    view[start:start + len(data)] = data
    m.__release_buffer__(view)


class WriteBackTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "data.bin")
        self.other = os.path.join(self.dir, "other.bin")
        for path in (self.path, self.other):
            with open(path, "wb") as f:
                f.write(b"\0" * 8)

    def tearDown(self):
        for path in (self.path, self.other):
            os.remove(path)
        os.rmdir(self.dir)

    def contents(self, path):
        with open(path, "rb") as f:
            return f.read()

    def test_a_closed_descriptor_reused_by_another_file_is_never_written(self):
        with open(self.path, "r+b") as f:
            m = mmap_shim.mmap(f.fileno(), 8)
        with open(self.other, "r+b") as g:  # very likely the same descriptor number
            write_through_buffer(m, 0, b"abc")
            with self.assertRaises(OSError):
                m.flush()
        self.assertEqual(self.contents(self.other), b"\0" * 8)
        self.assertEqual(self.contents(self.path), b"\0" * 8)
        del m

    def test_a_map_told_its_path_writes_back_after_the_file_is_closed(self):
        with open(self.path, "r+b") as f:
            m = mmap_shim.mmap(f.fileno(), 8)
            m._write_back_by_path(self.path)
        with open(self.other, "r+b"):
            write_through_buffer(m, 0, b"abc")
            m.flush()
            m[7] = 0x7a  # a method write reaches the file at once
        self.assertEqual(self.contents(self.path), b"abc\0\0\0\0z")
        self.assertEqual(self.contents(self.other), b"\0" * 8)
        self.assertEqual(m.size(), 8)
        m.close()

    def test_a_shared_map_writes_back_when_collected(self):
        with open(self.path, "r+b") as f:
            m = mmap_shim.mmap(f.fileno(), 8)
            m._write_back_by_path(self.path)
        write_through_buffer(m, 4, b"hi")
        del m
        gc.collect()
        self.assertEqual(self.contents(self.path), b"\0\0\0\0hi\0\0")

    def test_a_private_map_never_writes_back(self):
        with open(self.path, "r+b") as f:
            m = mmap_shim.mmap(f.fileno(), 8, access=mmap_shim.ACCESS_COPY)
            m._write_back_by_path(self.path)
            m[0] = 1
            m.flush()
            del m
        self.assertEqual(self.contents(self.path), b"\0" * 8)

    def test_the_path_of_another_file_is_refused(self):
        with open(self.path, "r+b") as f:
            m = mmap_shim.mmap(f.fileno(), 8)
            m._write_back_by_path(self.other)
            m[0] = 0x41
        self.assertEqual(self.contents(self.path), b"A" + b"\0" * 7)
        self.assertEqual(self.contents(self.other), b"\0" * 8)
        m.close()


if __name__ == "__main__":
    unittest.main()
