"""rom.py: the one choice of an app's files, and the ROM read through the
guest's own reader (lunik-pack --ls, runtime/rom.c)."""

import os
import subprocess
import unittest

from clitest import TempDir, needs_runtime, write
from lunikcli import paths, rom
from lunikcli.errors import Error


class AppFiles(unittest.TestCase):
    def test_skips_hidden_and_backups(self):
        with TempDir() as d:
            for n in ("main.lua", "lib/util.lua", "data/a.txt", ".hidden",
                      "main.lua~", ".git/config", "lib/.swp", "old~/x.lua"):
                write(os.path.join(d, n), "x")
            self.assertEqual(rom.app_files(d),
                             ["data/a.txt", "lib/util.lua", "main.lua"])

    def test_follows_links_and_leaves_out_fifos(self):
        with TempDir() as d:
            write(os.path.join(d, "real", "m.lua"), "x")
            os.symlink(os.path.join(d, "real"), os.path.join(d, "linked"))
            os.mkfifo(os.path.join(d, "pipe"))
            self.assertEqual(rom.app_files(d), ["linked/m.lua", "real/m.lua"])


class Reading(unittest.TestCase):
    def pack(self, d, files):
        argv = [os.path.join(paths.HOST, "lunik-pack"), "-o",
                os.path.join(d, "rom.bin")]
        for name, text in files.items():
            argv += ["--file", "%s=%s" % (name, write(os.path.join(
                d, "src", name.replace("/", "_")), text))]
        subprocess.run(argv, check=True)
        with open(os.path.join(d, "rom.bin"), "rb") as f:
            return f.read()

    @needs_runtime
    def test_reads_what_the_c_writer_wrote(self):
        with TempDir() as d:
            files = {"app/main.lua": "print(1)\n", "stdlib/x.lua": "",
                     "app/data/b.bin": "\0\1\2" * 1000}
            data = self.pack(d, files)
            got = rom.entries(data)
            self.assertEqual([n for n, _ in got], sorted(files))
            self.assertEqual({n: b.decode() for n, b in got}, files)

    @needs_runtime
    def test_refuses_damage_and_other_versions(self):
        with TempDir() as d:
            data = bytearray(self.pack(d, {"app/main.lua": "x"}))
            bad = bytearray(data)
            bad[-1] ^= 0xff
            with self.assertRaisesRegex(Error, "checksum"):
                rom.entries(bytes(bad))
            other = bytearray(data)
            other[8] = 2  # the format version
            with self.assertRaisesRegex(Error, "version"):
                rom.entries(bytes(other))
            with self.assertRaisesRegex(Error, "magic"):
                rom.entries(b"NOTAROM!" + bytes(data[8:]))

    def test_elf_section_refuses_non_elf(self):
        with self.assertRaisesRegex(Error, "not an ELF64 file"):
            rom.elf_section(b"#!/bin/sh\n" * 10, ".rom")
        with self.assertRaisesRegex(Error, "damaged"):
            rom.elf_section(b"\x7fELF\x02" + b"\xff" * 100, ".rom")


if __name__ == "__main__":
    unittest.main()
