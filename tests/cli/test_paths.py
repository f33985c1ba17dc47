"""paths.py: the tree the command runs from, checkout or install."""

import os
import unittest
from unittest import mock

from clitest import ROOT, TempDir
from lunikcli import paths


class Paths(unittest.TestCase):
    def test_root_holds_the_runtime_layout(self):
        self.assertEqual(os.path.realpath(paths.ROOT), os.path.realpath(ROOT))
        self.assertTrue(os.path.isfile(os.path.join(paths.ROOT, "kernel",
                                                    "link.ld")))
        self.assertTrue(os.path.isdir(paths.STDLIB))
        self.assertTrue(os.path.isdir(os.path.join(paths.TEMPLATES, "http")))

    def test_cache_dir_when_the_tree_is_read_only(self):
        with TempDir() as d, mock.patch.object(paths, "HOST", "/proc/x"), \
                mock.patch.dict(os.environ, {"XDG_CACHE_HOME": d}):
            self.assertEqual(paths.cache_dir(), os.path.join(d, "lunik"))
            self.assertTrue(os.path.isdir(os.path.join(d, "lunik")))

    def test_rel(self):
        self.assertEqual(paths.rel(os.path.join(paths.ROOT, "build", "x")),
                         os.path.join("build", "x"))
        self.assertEqual(paths.rel("/elsewhere/x"), "/elsewhere/x")


if __name__ == "__main__":
    unittest.main()
