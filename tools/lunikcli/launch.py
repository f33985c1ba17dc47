"""launch -- booting an image with a run's options (lunik run and test):
the devices, the -p TCP ports held by lunik (proxy.py) and passed on once
the guest is ready, and the --ready-file."""

import argparse
import os

from . import devices, machines, qemu
from .errors import Error


def split_publish(publish):
    """The -p options -> ([(hostport, guestport)] of the TCP ones, the UDP
    ones as given: QEMU keeps forwarding those)."""
    tcp, other = [], []
    for spec, (proto, host, guest) in zip(publish, devices.parse_forwards(publish)):
        if proto == "tcp":
            tcp.append((host, guest))
        else:
            other.append(spec)
    return tcp, other


def guest_options(a, up):
    """A copy of the parsed options a whose -p keeps QEMU's own forwards
    (UDP) and forwards up's private ports (an Upstream, or None)."""
    b = argparse.Namespace(**vars(a))
    b.publish = split_publish(a.publish)[1] + (up.publish if up else [])
    return b


def write_ready_file(path, ports):
    """Writes the --ready-file (the guest ports listening, one a line)
    through a temporary name, so a reader sees all of it or nothing."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join("tcp %d\n" % p for p in sorted(ports)))
    os.replace(tmp, path)


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def check_ready_file(path):
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise Error("--ready-file %s: no folder %s" % (path, folder))
    remove(path)


class Launch:
    """The host side of a run with options a: binds the -p TCP ports at
    once (so clients that come while the image builds and boots are held,
    not refused) and removes the ready_file; closes them at the end. Use
    as a context manager around building the image and run()."""

    def __init__(self, a, ready_file=None):
        self.a, self.ready_file = a, ready_file
        qemu.parse_mem(a.mem)
        devices.device_args(guest_options(a, None))  # bad options: now
        tcp, _ = split_publish(a.publish)
        check_ready_file(ready_file)
        self.px = None
        if tcp:  # asyncio takes a while to import: only when needed
            from . import proxy
            self.px = proxy.Proxy(tcp)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.px:
            self.px.close()
        if self.ready_file:
            remove(self.ready_file)

    def devices(self, up):
        """The QEMU device options for a guest behind up (an Upstream of
        the proxy, or None)."""
        return devices.device_args(guest_options(self.a, up))

    def ready(self, up, ports):
        """A guest behind up listens on ports: connections go to it and
        the ready file is written."""
        if self.px:
            self.px.switch(up)
        if self.ready_file:
            write_ready_file(self.ready_file, ports)

    def run(self, image, lines=None, extra=()):
        """Boots image; returns the guest's status. The ready file is
        written once the guest listens on every forwarded port (or, with
        none, on its first port). lines filters the console (see
        console.Console); extra: more QEMU options (--gdb's)."""
        a, px = self.a, self.px
        up = px.upstream() if px else None
        return qemu.run_image(image, qemu.parse_mem(a.mem), a.accel, a.args,
                              a.timeout, self.devices(up) + list(extra),
                              machines.machine(a.machine),
                              px.guest_ports() if px else (),
                              (lambda ports: self.ready(up, ports))
                              if px or self.ready_file else None, lines)
