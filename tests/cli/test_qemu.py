"""qemu.py: memory sizes, boot arguments, the command line and statuses."""

import contextlib
import io
import unittest

from lunikcli import qemu
from lunikcli.errors import Error


class Qemu(unittest.TestCase):
    def test_mem(self):
        self.assertEqual(qemu.parse_mem("128M"), 128 << 20)
        self.assertEqual(qemu.parse_mem("1G"), 1 << 30)
        self.assertEqual(qemu.parse_mem("16MiB"), 16 << 20)
        with self.assertRaisesRegex(Error, "bad size 'lots'"):
            qemu.parse_mem("lots")
        with self.assertRaisesRegex(Error, "too small"):
            qemu.parse_mem("1M")

    def test_boot_args(self):
        self.assertEqual(qemu.quote_arg("name=a b"), 'name="a b"')
        self.assertEqual(qemu.quote_arg("k=v"), "k=v")
        with self.assertRaisesRegex(Error, "unmatched quote"):
            qemu.check_boot_args(['x="open'])

    def test_command(self):
        cmd = qemu.command("/img.elf", 64 << 20, "tcg", ["a=1", "b=2"],
                           ["-device", "x"])
        self.assertEqual(cmd[:3], ["qemu-system-x86_64", "-M",
                                   "microvm,x-option-roms=off"])
        self.assertIn("isa-debug-exit,iobase=0xf4,iosize=4", cmd)
        self.assertEqual(cmd[cmd.index("-m") + 1], "64M")
        self.assertEqual(cmd[cmd.index("-kernel") + 1], "/img.elf")
        self.assertEqual(cmd[-2:], ["-append", "a=1 b=2"])
        self.assertIn("-device", cmd[cmd.index("-kernel"):])

    def test_statuses(self):
        self.assertEqual(qemu.decode_status(3), 0)     # guest exit 0
        self.assertEqual(qemu.decode_status(17), 7)
        self.assertEqual(qemu.decode_status(253), 125)  # panic
        self.assertEqual(qemu.decode_status(1), qemu.STATUS_ERROR)
        self.assertEqual(qemu.decode_status(-9), 137)
        with contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(qemu.decode_status(0), qemu.STATUS_RESET)
        self.assertIn("without the guest's exit status", err.getvalue())

    def test_missing_image(self):
        with self.assertRaisesRegex(Error, "no such image"):
            qemu.run_image("/nonexistent/image.elf", accel="tcg")


if __name__ == "__main__":
    unittest.main()
