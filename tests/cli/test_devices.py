"""devices.py: -p, --net and --disk checked and turned into QEMU options."""

import os
import socket
import types
import unittest

from clitest import TempDir
from lunikcli import devices
from lunikcli.errors import Error


def opts(**kw):
    a = dict(net=None, publish=[], disk=[], no_rng=False, x_qemu=[])
    a.update(kw)
    return types.SimpleNamespace(**a)


class Publish(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(devices.parse_publish("8080:80"), ("tcp", 8080, 80))
        self.assertEqual(devices.parse_publish("53:53/udp"), ("udp", 53, 53))
        for bad in ("8080", "a:b", "0:80", "8080:70000", "1:2/sctp"):
            with self.assertRaises(Error):
                devices.parse_publish(bad)

    def test_twice_and_taken(self):
        with self.assertRaisesRegex(Error, "forwarded twice"):
            devices.parse_forwards(["9000:1", "9000:2"])
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            port = s.getsockname()[1]
            with self.assertRaisesRegex(Error, "cannot forward tcp port %d"
                                        % port):
                devices.net_args(None, ["%d:80" % port])
        finally:
            s.close()

    def test_user_networking_forwards(self):
        args = devices.net_args(None, [])
        self.assertEqual(args, ["-netdev", "user,id=net0", "-device",
                                "virtio-net-device,netdev=net0"])
        self.assertEqual(devices.net_args("none", []), [])


class Net(unittest.TestCase):
    def test_bad_backends(self):
        with self.assertRaisesRegex(Error, "expected user, tap:NAME or none"):
            devices.parse_net("bridge", [])
        with self.assertRaisesRegex(Error, "no network interface"):
            devices.parse_net("tap:lunik-no-such-tap", [])
        with self.assertRaisesRegex(Error, "does not go with --net none"):
            devices.parse_net("none", [("tcp", 1, 2)])
        if os.path.isdir("/sys/class/net/lo"):
            with self.assertRaisesRegex(Error, "not a tap device"):
                devices.parse_net("tap:lo", [])


class Disks(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(devices.parse_disk("a.img"), ("a.img", None, False))
        self.assertEqual(devices.parse_disk("a.img:64M:ro"),
                         ("a.img", 64 << 20, True))
        self.assertEqual(devices.parse_disk("c:/x:1K"), ("c:/x", 1024, False))
        with self.assertRaisesRegex(Error, "bad size '12Q'"):
            devices.parse_disk("a.img:12Q")
        with self.assertRaisesRegex(Error, "multiple of 512"):
            devices.parse_disk("a.img:1000")

    def test_create_and_refuse(self):
        with TempDir() as d:
            new = os.path.join(d, "new.img")
            args = devices.disk_args([new + ":1M", ])
            self.assertEqual(os.path.getsize(new), 1 << 20)
            self.assertIn("virtio-blk-device,drive=disk0", args)
            with self.assertRaisesRegex(Error, "no such file"):
                devices.disk_args([os.path.join(d, "missing.img")])
            with self.assertRaisesRegex(Error, "already a disk"):
                devices.disk_args([new, new + ":ro"])
            with self.assertRaisesRegex(Error, "is a folder"):
                devices.disk_args([d])
            odd = os.path.join(d, "odd.img")
            with open(odd, "wb") as f:
                f.write(b"x" * 1000)
            with self.assertRaisesRegex(Error, "not a multiple of 512"):
                devices.disk_args([odd])
            ro = devices.disk_args([new + ":ro"])
            self.assertTrue(any(x.endswith(",readonly=on") for x in ro))

    def test_prepare_without_creating(self):
        with TempDir() as d:
            new = os.path.join(d, "later.img")
            self.assertEqual(devices.prepare_disks([new + ":1M"], create=False),
                             [(new, False)])
            self.assertFalse(os.path.exists(new))


class DeviceArgs(unittest.TestCase):
    def test_rng_and_modern_virtio(self):
        a = devices.device_args(opts(net="none"))
        self.assertEqual(a, ["-global", "virtio-mmio.force-legacy=false",
                             "-device", "virtio-rng-device"])
        self.assertNotIn("virtio-rng-device",
                         devices.device_args(opts(net="none", no_rng=True)))


if __name__ == "__main__":
    unittest.main()
