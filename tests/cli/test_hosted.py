"""hosted.py and gdb.py: the hosted executable's command line from run
options (checked as for QEMU), the refusals, the variants' parts, and
--gdb=PORT's parsing."""

import os
import socket
import types
import unittest

from clitest import TempDir
from lunikcli import gdb, hosted, main
from lunikcli.errors import Error


def opts(**kw):
    a = dict(accel=None, machine="microvm", x_qemu=[], net=None, publish=[],
             disk=[], mem_bytes=64 << 20, hosted="plain", gdb=None)
    a.update(kw)
    return types.SimpleNamespace(**a)


class Command(unittest.TestCase):
    def test_devices_become_options(self):
        with TempDir() as d:
            disk = os.path.join(d, "a.img")
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            cmd = hosted.command("/x/app", opts(
                publish=["%d:80" % port, "%d:53/udp" % port],
                disk=[disk + ":1M", disk.replace("a.img", "b.img") + ":1M:ro"]),
                ["k=v"])
            self.assertEqual(cmd[:5], ["/x/app", "--mem", str(64 << 20),
                                       "--net", "user"])
            self.assertIn("%d:80" % port, cmd)
            self.assertIn("%d:53/udp" % port, cmd)
            self.assertIn(disk, cmd)  # created, sparse, at 1M
            self.assertEqual(os.path.getsize(disk), 1 << 20)
            self.assertTrue(cmd[cmd.index("--", 1) - 1].endswith("b.img:ro"))
            self.assertEqual(cmd[-2:], ["--", "k=v"])

    def test_no_network(self):
        cmd = hosted.command("/x/app", opts(net="none"), [])
        self.assertEqual(cmd[cmd.index("--net") + 1], "none")

    def test_refusals(self):
        for kw, what in ((dict(accel="kvm"), "--kvm does not go"),
                         (dict(machine="q35"), "--machine q35"),
                         (dict(x_qemu=["-s"]), "--x-qemu"),
                         (dict(net="tap:nosuchtap7"), "no network interface"),
                         (dict(disk=["/nonexistent/x.img"]), "no such file")):
            with self.assertRaisesRegex(Error, what):
                hosted.command("/x/app", opts(**kw), [])


class Parts(unittest.TestCase):
    def test_missing_variant_says_make_hosted(self):
        saved = hosted.VARIANTS["plain"]
        hosted.VARIANTS["plain"] = "no-such-variant"
        try:
            with self.assertRaisesRegex(Error, "make hosted"):
                hosted.parts("plain")
        finally:
            hosted.VARIANTS["plain"] = saved


class Gdb(unittest.TestCase):
    def test_port_forms(self):
        p = main.parser()
        a = p.parse_args(gdb.normalize(["run", "--gdb", "app"]))
        self.assertEqual((a.gdb, a.image), (gdb.DEFAULT_PORT, "app"))
        a = p.parse_args(gdb.normalize(["run", "--gdb=4321", "app"]))
        self.assertEqual((a.gdb, a.image), (4321, "app"))
        a = p.parse_args(gdb.normalize(["run", "app"]))
        self.assertIsNone(a.gdb)

    def test_refusals(self):
        with self.assertRaisesRegex(Error, "for guests"):
            gdb.check(opts(gdb=1234))
        with self.assertRaisesRegex(Error, "out of 1..65535"):
            gdb.check(opts(gdb=70000, hosted=None))


if __name__ == "__main__":
    unittest.main()
