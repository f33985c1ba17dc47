"""kvm.py: the probe's answer is cached per host boot and QEMU binary."""

import os
import unittest
from unittest import mock

from clitest import TempDir
from lunikcli import kvm, paths


class Kvm(unittest.TestCase):
    def test_no_device(self):
        with mock.patch.object(kvm, "openable", return_value=False):
            self.assertEqual(kvm.state(),
                             (None, "/dev/kvm is missing or not usable"))

    def test_cache_is_used_and_keyed(self):
        probe_calls = []

        def probe(p, cpu):
            probe_calls.append(cpu)
            return kvm.KVM_EMULATES

        with TempDir() as d, \
                mock.patch.object(kvm, "openable", return_value=True), \
                mock.patch.object(paths, "cache_dir", return_value=d), \
                mock.patch.object(kvm, "probe_cpu", probe), \
                mock.patch.object(paths, "HOST", d):
            with open(os.path.join(d, "kvm-probe.elf"), "w"):
                pass
            self.assertEqual(kvm.state(), (None, kvm.KVM_EMULATES))
            self.assertEqual(kvm.state(), (None, kvm.KVM_EMULATES))
            self.assertEqual(probe_calls, ["host,-arch-capabilities"])
            os.utime(os.path.join(d, "kvm-probe.elf"), (1, 1))
            kvm.state()
            self.assertEqual(len(probe_calls), 2)


if __name__ == "__main__":
    unittest.main()
