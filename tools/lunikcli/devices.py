"""devices -- a run's device options as QEMU options.

Each device is a virtio device of the machine's bus (machines.py):
virtio-mmio on microvm, virtio-pci on q35 and pc. The kernel numbers
devices of a kind in the order of these options: net0, then blk0, blk1,
... in --disk order. Everything is checked before QEMU starts, so a bad
option is one line from lunik, not a QEMU error later.
"""

import os
import re
import socket

from . import machines
from .errors import Error

SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_bytes(text):
    """"64M" -> 67108864; None when text is not a size."""
    m = re.fullmatch(r"(\d+)([KMG]?)", text, re.I)
    if not m:
        return None
    return int(m.group(1)) * SIZE_UNITS[m.group(2).upper()]


def parse_publish(spec):
    """-p HOSTPORT:GUESTPORT[/udp|/tcp] -> (proto, hostport, guestport)."""
    m = re.fullmatch(r"(\d{1,5}):(\d{1,5})(?:/(tcp|udp))?", spec)
    if not m:
        raise Error("-p %s: expected HOSTPORT:GUESTPORT or "
                    "HOSTPORT:GUESTPORT/udp, e.g. -p 8080:80" % spec)
    host, guest = int(m.group(1)), int(m.group(2))
    for port in (host, guest):
        if not 1 <= port <= 65535:
            raise Error("-p %s: port %d is out of 1..65535" % (spec, port))
    return m.group(3) or "tcp", host, guest


def check_host_port(proto, port):
    """Fails now, not in QEMU, when 127.0.0.1:port is taken."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    try:
        if proto == "tcp":  # as QEMU's listener will: TIME_WAIT is no bar
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    except OSError as e:
        raise Error("-p: cannot forward %s port %d of 127.0.0.1: %s"
                    % (proto, port, e.strerror or e))
    finally:
        s.close()


def parse_forwards(publish):
    """The -p options as (proto, hostport, guestport), each host port once."""
    forwards = [parse_publish(p) for p in publish]
    seen = set()
    for proto, host, _ in forwards:
        if (proto, host) in seen:
            raise Error("-p: host %s port %d is forwarded twice"
                        % (proto, host))
        seen.add((proto, host))
    return forwards


def check_tap(net, name):
    """Raises Error unless name is an existing tap device."""
    sysfs = os.path.join("/sys/class/net", name)
    if "/" in name or "," in name or not os.path.isdir(sysfs):
        raise Error("--net %s: there is no network interface %r "
                    "(create it first: ip tuntap add %s mode tap)"
                    % (net, name, name))
    try:
        with open(os.path.join(sysfs, "tun_flags")) as f:
            tap = int(f.read(), 16) & 0x0002  # IFF_TAP
    except (OSError, ValueError):
        tap = False
    if not tap:
        raise Error("--net %s: %s is not a tap device" % (net, name))


def parse_net(net, forwards):
    """--net user|tap:NAME|none -> ("user", None) / ("tap", NAME) /
    ("none", None), checked against the -p forwards."""
    net = net or "user"
    if forwards and net != "user":
        raise Error("-p forwards ports through user networking; it does "
                    "not go with --net %s" % net)
    if net in ("user", "none"):
        return net, None
    if net.startswith("tap:") and len(net) > 4:
        check_tap(net, net[4:])
        return "tap", net[4:]
    raise Error("--net %s: expected user, tap:NAME or none" % net)


def net_args(net, publish, machine=None):
    """--net and the -p forwards -> QEMU options, for machine (None:
    microvm)."""
    machine = machine or machines.machine()
    forwards = parse_forwards(publish)
    kind, name = parse_net(net, forwards)
    if kind == "none":
        return []
    if kind == "user":
        for proto, host, _ in forwards:
            check_host_port(proto, host)
        netdev = "user,id=net0" + "".join(
            ",hostfwd=%s:127.0.0.1:%d-:%d" % f for f in forwards)
    else:
        netdev = "tap,id=net0,ifname=%s,script=no,downscript=no" % name
    return ["-netdev", netdev, "-device", "%s,netdev=net0" % machine.net]


def parse_disk(spec):
    """--disk FILE[:SIZE][:ro] -> (path, size or None, readonly)."""
    path, ro, size = spec, False, None
    if path.endswith(":ro"):
        path, ro = path[:-3], True
    m = re.fullmatch(r"(.*):(\w+)", path)
    if m and parse_bytes(m.group(2)) is not None:
        path, size = m.group(1), parse_bytes(m.group(2))
    elif m and re.fullmatch(r"\d\w*", m.group(2)):
        raise Error("--disk %s: bad size %r: use a number with K, M or G, "
                    "e.g. %s:64M" % (spec, m.group(2), m.group(1)))
    if not path:
        raise Error("--disk %s: no file named" % spec)
    if size is not None and (size == 0 or size % 512):
        raise Error("--disk %s: the size must be a positive multiple of "
                    "512 bytes" % spec)
    return path, size, ro


def prepare_disks(disks, create=True):
    """The --disk options checked, as [(absolute path, readonly)]; missing
    files that have a size are created (sparse, zero-filled) when create
    is true, else they are an error."""
    out, seen = [], set()
    for spec in disks:
        path, size, ro = parse_disk(spec)
        if os.path.isdir(path):
            raise Error("--disk %s: %s is a folder" % (spec, path))
        if not os.path.exists(path):
            if size is None:
                raise Error("--disk %s: no such file; give a size to "
                            "create it (--disk %s:64M)" % (spec, path))
            if create:
                try:
                    with open(path, "xb") as f:
                        f.truncate(size)
                except OSError as e:
                    raise Error("--disk %s: cannot create %s: %s"
                                % (spec, path, e.strerror or e))
        elif os.path.getsize(path) % 512:
            raise Error("--disk %s: %s is %d bytes, not a multiple of 512"
                        % (spec, path, os.path.getsize(path)))
        if os.path.exists(path) and not os.access(
                path, os.R_OK if ro else os.R_OK | os.W_OK):
            raise Error("--disk %s: %s is not %s" % (
                spec, path, "readable" if ro else "readable and writable"))
        real = os.path.realpath(path)
        if real in seen:
            raise Error("--disk %s: %s is already a disk" % (spec, path))
        seen.add(real)
        out.append((os.path.abspath(path), ro))
    return out


def disk_args(disks, machine=None):
    """--disk options -> QEMU options, for machine (None: microvm)."""
    machine = machine or machines.machine()
    out = []
    for i, (path, ro) in enumerate(prepare_disks(disks)):
        drive = "if=none,id=disk%d,format=raw,cache=writeback,file=%s" % (
            i, path.replace(",", ",,"))
        out += ["-drive", drive + (",readonly=on" if ro else ""),
                "-device", "%s,drive=disk%d" % (machine.blk, i)]
    return out


def device_args(a, machine=None):
    """The QEMU options for the devices a run asks for (a: parsed run or
    test options) on machine (None: a.machine's); raises Error on bad
    ones, before anything starts."""
    machine = machine or machines.machine(getattr(a, "machine", None))
    out = list(machine.globals)
    out += net_args(a.net, a.publish, machine)
    out += disk_args(a.disk, machine)
    if not a.no_rng:
        out += ["-device", machine.rng]
    return out + a.x_qemu
