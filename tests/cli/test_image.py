"""image.py and cmd_inspect.py: an image links from the app, stdlib and
bundled modules, byte-identically, and lists what it holds."""

import filecmp
import os
import struct
import unittest

from clitest import ROOT, TempDir, needs_runtime, write
from lunikcli import cmd_inspect, elf, image, qemu, rom
from lunikcli.errors import Error, STATUS_FAILED


class Checks(unittest.TestCase):
    def test_not_an_app(self):
        with TempDir() as d:
            with self.assertRaisesRegex(Error, "not a folder"):
                image.check_app(os.path.join(d, "none"))
            with self.assertRaisesRegex(Error, "has no main.lua"):
                image.check_app(d)
            image.check_app(d, entry="stdlib/lunik/test_main.lua")

    def test_ca_bundle(self):
        with TempDir() as d:
            with self.assertRaisesRegex(Error, "no PEM certificate"):
                image.check_ca_bundle(write(os.path.join(d, "x.pem"), "hi"))
            with self.assertRaisesRegex(Error, "No such file"):
                image.check_ca_bundle(os.path.join(d, "gone.pem"))

    def test_ksyms_layout(self):
        """kernel/ksyms.h's layout: magic, count, size, 12-byte entries
        by address, names; equal names shared."""
        with open("/bin/true", "rb") as f:
            blob = image.ksyms_blob(f.read())
        self.assertEqual(blob[:4], b"KSYM")
        count, size = struct.unpack_from("<II", blob, 4)
        self.assertEqual(size, len(blob))
        addrs = [struct.unpack_from("<I", blob, 12 + 12 * i)[0]
                 for i in range(count)]
        self.assertEqual(addrs, sorted(addrs))


class Build(unittest.TestCase):
    @needs_runtime
    def test_build_is_reproducible_and_inspectable(self):
        with TempDir() as d:
            app = os.path.join(d, "app")
            write(os.path.join(app, "main.lua"),
                  'print(require "m".x, require "kv")\n')
            write(os.path.join(app, "m.lua"), "return { x = 1 }\n")
            write(os.path.join(app, ".secret"), "never packed")
            a = image.build_image(app, os.path.join(d, "a.elf"))
            b = image.build_image(app, os.path.join(d, "b.elf"))
            self.assertTrue(filecmp.cmp(a, b, shallow=False))
            listing = cmd_inspect.files(a)
            names = [n for n, _, _ in listing]
            self.assertIn("app/main.lua", names)
            self.assertIn("stdlib/kv.lua", names)
            self.assertNotIn("stdlib/http/server.lua", names)  # not required
            self.assertIn(".lunik/omitted", names)
            self.assertNotIn("app/.secret", names)
            self.assertIn("kernel_main", cmd_inspect.functions(a))
            with open(a, "rb") as f:
                self.assertIsNone(rom.elf_section(f.read(), ".symtab"))
            end = elf.load_end(a)  # the appended symbol table included
            self.assertGreater(end, 2 << 20)
            with self.assertRaisesRegex(Error, "too small.*at least"):
                qemu.check_mem(a, 2 << 20)
            qemu.check_mem(a, 128 << 20)
            g = image.build_image(app, os.path.join(d, "g.elf"), debug=True)
            with open(g, "rb") as f:  # -g: the same image, symbols kept
                data = f.read()
            self.assertIsNotNone(rom.elf_section(data, ".symtab"))
            self.assertEqual(elf.load_end(g), end)
            self.assertEqual(cmd_inspect.functions(g), cmd_inspect.functions(a))
            mods, mbedtls = cmd_inspect.linked(a)
            self.assertIn("kvcodec", mods)
            self.assertNotIn("net", mods)
            self.assertEqual(mbedtls, [])
            origins = {n: o for n, _, o in listing}
            self.assertEqual(origins["app/m.lua"], "app")
            self.assertEqual(origins["stdlib/kv.lua"], "stdlib")
            ents = dict(rom.image_entries(a))
            self.assertTrue(ents["app/m.lua"].startswith(b"\x1bLua"))
            self.assertEqual(ents[image.BYTECODE_ROM].decode().split(), [
                "app/m.lua", "app/main.lua", "stdlib/kv.lua",
                "stdlib/kv/disk.lua", "stdlib/lunik/shutdown.lua",
                "stdlib/lunik/status.lua"])
            c = image.build_image(app, os.path.join(d, "c.elf"), check=False)
            ents = dict(rom.image_entries(c))  # unchecked: text
            self.assertEqual(ents["app/m.lua"], b"return { x = 1 }\n")
            self.assertNotIn("app/m.lua", ents[image.BYTECODE_ROM].decode())

    @needs_runtime
    def test_syntax_errors_stop_the_build(self):
        if not os.access(os.path.join(ROOT, "build", "host", "lua"), os.X_OK):
            self.skipTest("the host Lua is not built (make)")
        with TempDir() as d:
            app = os.path.join(d, "app")
            write(os.path.join(app, "main.lua"), "local x = = 1\n")
            with self.assertRaises(Error) as e:
                image.build_image(app, os.path.join(d, "x.elf"))
            self.assertEqual(e.exception.status, STATUS_FAILED)
            self.assertRegex(str(e.exception), r"main\.lua:1: unexpected symbol")
            self.assertFalse(os.path.exists(os.path.join(d, "x.elf")))

    def test_inspect_refuses_other_files(self):
        with TempDir() as d:
            with self.assertRaisesRegex(Error, "not a lunik image"):
                cmd_inspect.files(write(os.path.join(d, "t.txt"), "text"))


if __name__ == "__main__":
    unittest.main()
