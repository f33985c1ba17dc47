"""domain -- a libvirt domain (its XML) that boots a lunik image.

What libvirt 9.0 (Debian 12) can express is expressed natively: the
machine, memory, the kernel and its command line, ACPI (the power button
`virsh shutdown` presses), the disks and the entropy device on virtio-mmio,
the serial console to a file. What it cannot goes through the domain's QEMU
namespace (<qemu:commandline>), and nothing else: on microvm a network
device (libvirt places NICs on PCI only: "No PCI buses available") and
modern-only virtio-mmio; user networking's host forwards (-p) on any
machine (<portForward> needs the passt backend, libvirt 9.2 and later).
docs/deploy.md says the same for operators.
"""

import os
import xml.etree.ElementTree as ET

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
ET.register_namespace("qemu", QEMU_NS)


def _sub(parent, tag, text=None, **attrs):
    e = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        e.text = text
    return e


def xml(name, image, mem, disks, net, forwards, rng, args, console,
        machine, accel="tcg", cpu="qemu64"):
    """The domain XML (a string) for image (absolute path), mem bytes,
    disks [(absolute path, readonly)], net ("user", None) / ("tap", NAME)
    / ("none", None), forwards [(proto, hostport, guestport)], rng (bool),
    boot args (words), console (absolute path of the serial log), on
    machine (a machines.Machine)."""
    dom = ET.Element("domain", {"type": "kvm" if accel == "kvm" else "qemu"})
    _sub(dom, "name", name)
    _sub(dom, "memory", str(mem >> 10), unit="KiB")
    _sub(dom, "vcpu", "1")
    os_ = _sub(dom, "os")
    _sub(os_, "type", "hvm", arch="x86_64", machine=machine.qemu.split(",")[0])
    _sub(os_, "kernel", image)
    if args:
        _sub(os_, "cmdline", " ".join(args))
    feats = _sub(dom, "features")
    _sub(feats, "acpi")
    if accel == "kvm":
        _sub(dom, "cpu", mode="host-passthrough")
    else:
        c = _sub(dom, "cpu", mode="custom", match="exact")
        _sub(c, "model", cpu, fallback="allow")
    _sub(dom, "clock", offset="utc")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "destroy")
    _sub(dom, "on_crash", "destroy")
    devs = _sub(dom, "devices")
    _sub(devs, "emulator", "/usr/bin/qemu-system-x86_64")
    mmio = machine.bus == "virtio-mmio"
    for i, (path, ro) in enumerate(disks):
        d = _sub(devs, "disk", type="file", device="disk")
        _sub(d, "driver", name="qemu", type="raw", cache="writeback")
        _sub(d, "source", file=path)
        _sub(d, "target", dev="vd" + chr(ord("a") + i), bus="virtio")
        if ro:
            _sub(d, "readonly")
        if mmio:
            _sub(d, "address", type="virtio-mmio")
    s = _sub(devs, "serial", type="file")
    _sub(s, "source", path=console)
    _sub(s, "target", port="0")
    if rng:
        r = _sub(devs, "rng", model="virtio")
        _sub(r, "backend", "/dev/urandom", model="random")
        if mmio:
            _sub(r, "address", type="virtio-mmio")
    _sub(devs, "controller", type="usb", model="none")
    _sub(devs, "memballoon", model="none")
    qargs = list(machine.globals)
    kind, tap = net
    nic_model = machine.net
    if not mmio:
        # Out of the slots libvirt hands out itself (from 1 up on the root
        # bus, 0x1f for q35's LPC), so the two never collide.
        nic_model += ",bus=%s,addr=0x10" % (
            "pcie.0" if machine.name == "q35" else "pci.0")
    if kind == "user" and (forwards or mmio):
        qargs += ["-netdev", "user,id=net0" + "".join(
            ",hostfwd=%s:127.0.0.1:%d-:%d" % f for f in forwards),
            "-device", "%s,netdev=net0" % nic_model]
    elif kind == "user":
        i = _sub(devs, "interface", type="user")
        _sub(i, "model", type="virtio")
    elif kind == "tap" and mmio:
        qargs += ["-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no"
                  % tap, "-device", "%s,netdev=net0" % nic_model]
    elif kind == "tap":
        i = _sub(devs, "interface", type="ethernet")
        _sub(i, "target", dev=tap, managed="no")
        _sub(i, "model", type="virtio")
    if qargs:
        cl = ET.SubElement(dom, "{%s}commandline" % QEMU_NS)
        for a in qargs:
            ET.SubElement(cl, "{%s}arg" % QEMU_NS, {"value": a})
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode") + "\n"


def default_console(image):
    """Where the console goes unless --console says: next to the image."""
    base = image[:-4] if image.endswith(".elf") else image
    return os.path.abspath(base + ".console.log")
