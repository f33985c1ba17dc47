"""options -- the option groups several commands share, declared once."""

import argparse

from . import machines


def add_bundle_options(p):
    """--lua-path and --include (build, run, test)."""
    p.add_argument("--lua-path", action="append", default=[],
                   metavar="PATH",
                   help="a folder of pure-Lua modules (e.g. "
                   "/usr/share/lua/5.4, lua_modules/share/lua/5.4) to "
                   "bundle the modules the app requires from (repeatable; "
                   "searched in order)")
    p.add_argument("--include", action="append", default=[],
                   metavar="MODULE",
                   help="bundle MODULE (and what it requires) even though "
                   "no literal require names it (repeatable)")


def add_device_options(p):
    """The guest's memory and devices (run, test, and engines' domains)."""
    p.add_argument("--mem", default="128M", help="guest memory (default 128M)")
    p.add_argument("--machine", choices=sorted(machines.MACHINES),
                   default=machines.DEFAULT,
                   help="the machine: microvm (virtio-mmio, the fastest "
                   "boot; default), q35 or pc (PCs booted through "
                   "SeaBIOS, virtio-pci devices)")
    p.add_argument("-p", dest="publish", action="append", default=[],
                   metavar="HOSTPORT:GUESTPORT[/udp]",
                   help="forward 127.0.0.1:HOSTPORT to the guest's "
                   "GUESTPORT (TCP unless /udp; repeatable)")
    p.add_argument("--net", metavar="user|tap:NAME|none",
                   help="the network device's backend: QEMU user "
                   "networking (default, even without -p), an existing "
                   "tap device, or no network device")
    p.add_argument("--disk", action="append", default=[],
                   metavar="FILE[:SIZE][:ro]",
                   help="a virtio block device on a raw FILE, created "
                   "(sparse) at SIZE (K, M, G) if missing; :ro makes it "
                   "read-only (repeatable: blk0, blk1, ...)")
    p.add_argument("--no-rng", action="store_true",
                   help="leave out the virtio-rng entropy device")


def add_run_options(p):
    """Everything `lunik run` and `lunik test` take."""
    add_device_options(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--kvm", dest="accel", action="store_const", const="kvm",
                   help="hardware virtualisation (default when /dev/kvm works)")
    g.add_argument("--tcg", dest="accel", action="store_const", const="tcg",
                   help="software emulation")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="stop the guest after this long (status 124)")
    # Raw QEMU arguments appended last, for the system tests only.
    p.add_argument("--x-qemu", action="append", default=[],
                   help=argparse.SUPPRESS)


def add_hosted_option(p, what):
    """--hosted and --hosted-asan (build, run, test): the hosted platform,
    a Linux process (hosted.py), plain or with the sanitizers."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--hosted", dest="hosted", action="store_const",
                   const="plain", help="%s as a Linux process instead of "
                   "a guest (the hosted platform)" % what)
    g.add_argument("--hosted-asan", dest="hosted", action="store_const",
                   const="asan", help="as --hosted, under AddressSanitizer "
                   "and UBSan")
    # libFuzzer's variant, for tests/run.py's whole-stack fuzz targets.
    g.add_argument("--hosted-fuzz", dest="hosted", action="store_const",
                   const="fuzz", help=argparse.SUPPRESS)
