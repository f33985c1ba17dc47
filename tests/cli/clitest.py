"""clitest -- what the tests of tools/lunikcli share: the package on the
path, temporary folders, and whether the runtime is built."""

import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from lunikcli import paths  # noqa: E402


class TempDir:
    """A temporary folder removed afterwards: `with TempDir() as d:`."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="lunik-cli-test-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def needs_runtime(test):
    """Skips a test that links images unless `make` has built the runtime."""
    built = os.path.exists(os.path.join(paths.BUILD, "lunik.o")) and \
        os.access(os.path.join(paths.HOST, "lunik-pack"), os.X_OK)
    return unittest.skipUnless(built, "the runtime is not built (make)")(test)
