"""The PC machines: the same image on QEMU's q35 and pc, whose devices
are virtio-pci (kernel/pci.c, kernel/virtio_pci.c), beside microvm.

Each machine boots examples/api with a disk and a port forward, keeps
its items across a reboot and stops gracefully on SIGTERM (the ACPI power
button of that machine); `lunik test --machine q35` runs the example's
specs; a PCI device the kernel has no driver for is listed and left
alone, and a virtio device that offers only the legacy interface is
refused with one line naming it.
"""

import json
import os
import re
import shutil
import signal
import socket
import tempfile

from harness import LUNIK, ROOT, Live, build, free_port, test
from suite_devices import boot
from suite_http import curl, expect, wait_port

API = os.path.join(ROOT, "examples", "api")


def start_api(ctx, machine, disk):
    port = free_port(socket.SOCK_STREAM)
    argv = [LUNIK, "run", build("examples/api"), "--" + ctx.accel,
            "--timeout", "600", "--machine", machine,
            "-p", "%d:8080" % port, "--disk", disk + ":16M"]
    guest = Live(argv)
    try:
        guest.wait_for(r"api listening", 120)
        wait_port(port, 60)
    except BaseException:
        guest.kill()
        raise
    return guest, port


def keeps_items_and_stops(ctx, machine):
    tmp = tempfile.mkdtemp(prefix="lunik-pci-")
    disk = os.path.join(tmp, "api.img")
    try:
        guest, port = start_api(ctx, machine, disk)
        try:
            s, _, b = curl(port, "/items", "-d", '{"name":"on %s","price":2}'
                           % machine)
            expect(s == 201, "create on %s: %d %r" % (machine, s, b), guest)
            item = json.loads(b)["id"]
            guest.proc.send_signal(signal.SIGTERM)
            r = guest.finish(90)
            r.expect_status(0).expect(r"lunik: shutting down \(power button\)",
                                      r"lunik: shut down in [\d.]+ s")
        finally:
            guest.kill()
        guest, port = start_api(ctx, machine, disk)
        try:
            s, _, b = curl(port, "/items/%d" % item)
            expect(s == 200 and json.loads(b)["name"] == "on " + machine,
                   "after a reboot on %s: %d %r" % (machine, s, b), guest)
            s, _, b = curl(port, "/healthz")
            expect(json.loads(b)["store"] == "kv on vda", "store %r" % b, guest)
        finally:
            guest.kill()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_q35_api_keeps_items_and_stops(ctx):
    keeps_items_and_stops(ctx, "q35")


@test
def test_pc_api_keeps_items_and_stops(ctx):
    keeps_items_and_stops(ctx, "pc")


@test
def test_q35_lunik_test_examples_api(ctx):
    r = ctx.lunik("test", API, "--machine", "q35", timeout=400)
    r.expect_status(0).expect(r"^[1-9]\d* passed, 0 failed$",
                              r"items API answers /healthz").expect_not(r"^FAIL")


@test
def test_pci_unknown_and_legacy_devices(ctx):
    """A device without a driver (QEMU's pci-testdev) is listed and left
    alone; a virtio-blk that offers only the legacy interface is refused
    with one line; the modern devices beside them still work."""
    tmp = tempfile.mkdtemp(prefix="lunik-pci-")
    try:
        legacy = os.path.join(tmp, "legacy.img")
        with open(legacy, "wb") as f:
            f.truncate(1 << 20)
        q = ["-device", "pci-testdev",
             "-drive", "if=none,id=lg,format=raw,file=" + legacy,
             "-device", "virtio-blk-pci,drive=lg,disable-modern=on,"
             "disable-legacy=off"]
        r = boot(ctx, "devmisc", ["--machine", "q35", "--disk",
                                  os.path.join(tmp, "modern.img:64K")] +
                 ["--x-qemu=" + x for x in q])
        r.expect_status(0).expect(
            r"^lunik: pci [0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: device 1b36:0005 "
            r"\(class 00ff\) has no driver; left alone$",
            r"^lunik: pci [0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: virtio-blk "
            r"\(1af4:1001\) offers only the legacy virtio interface; left out",
            r"^devices: net 1 blk 1$", r"^blk0: 128 sectors$", r"^done$")
        if len(re.findall(r"legacy virtio interface", r.out)) != 1:
            r.fail("the legacy device should be named once")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
