"""lunik domain IMAGE|DIR [device options] [--name NAME] [--console FILE]
[-- key=value ...]: prints a libvirt domain XML that boots the image with
the devices `lunik run` would give it (domain.py). `virsh create` (or
`virsh define` and `virsh start`) runs it; `virsh shutdown` stops it
gracefully. Everything is checked first: a bad option, a missing image, a
taken port or a bad disk is one line and status 2, with nothing written.
"""

import os
import re

from . import devices, domain, image, kvm, machines, qemu
from .errors import Error
from .options import add_bundle_options, add_device_options

HELP = "print a libvirt domain XML that boots an image"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


def register(sub):
    p = sub.add_parser("domain", help=HELP, description=HELP)
    p.add_argument("image", metavar="IMAGE|DIR")
    add_device_options(p)
    add_bundle_options(p)
    p.add_argument("--name", help="the domain's name (default: lunik-IMAGE)")
    p.add_argument("--console", metavar="FILE",
                   help="where the serial console goes (default: next to "
                   "the image, IMAGE.console.log)")
    p.add_argument("--image-out", metavar="FILE",
                   help="where a DIR's image is built (default: DIR's name "
                   "+ .elf in this folder)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--kvm", dest="accel", action="store_const", const="kvm",
                   help="a KVM domain (default when KVM runs guests here)")
    g.add_argument("--tcg", dest="accel", action="store_const", const="tcg",
                   help="a software-emulated domain (type qemu)")
    return p


def check_image(path):
    """Raises Error unless path is a readable ELF file."""
    if not os.path.isfile(path):
        raise Error("%s: no such image" % path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise Error("%s: cannot read it: %s" % (path, e.strerror or e))
    if magic != b"\x7fELF":
        raise Error("%s: not a lunik image (not an ELF file)" % path)


def run(a):
    mem = qemu.parse_mem(a.mem)
    machine = machines.machine(a.machine)
    qemu.check_boot_args(a.args)
    forwards = devices.parse_forwards(a.publish)
    net = devices.parse_net(a.net, forwards)
    for proto, host, _ in forwards:
        devices.check_host_port(proto, host)
    disks = devices.prepare_disks(a.disk, create=False)
    if (a.lua_path or a.include or a.image_out) and not os.path.isdir(a.image):
        raise Error("--lua-path, --include and --image-out build an app "
                    "folder; %s is an image" % a.image)
    if os.path.isdir(a.image):
        image.check_app(a.image)
        out = a.image_out or os.path.basename(os.path.abspath(a.image)) + ".elf"
    else:
        check_image(a.image)
        out = a.image
    base = os.path.basename(out)[:-4] if out.endswith(".elf") else \
        os.path.basename(out)
    name = a.name or "lunik-" + base
    if not NAME_RE.fullmatch(name):
        raise Error("--name %s: use letters, digits and _.+- (up to 64)" % name)
    accel = a.accel
    if accel is None:
        accel = "kvm" if kvm.state()[0] else "tcg"
    elif accel == "kvm" and not kvm.state()[0]:
        raise Error("--kvm: %s" % kvm.state()[1])
    if os.path.isdir(a.image):
        image.build_image(a.image, out, lua_paths=a.lua_path,
                          includes=a.include)
    qemu.check_mem(out, mem)
    devices.prepare_disks(a.disk, create=True)
    path = os.path.abspath(out)
    console = os.path.abspath(a.console) if a.console else \
        domain.default_console(path)
    print(domain.xml(name, path, mem, disks, net, forwards, not a.no_rng,
                     [qemu.quote_arg(x) for x in a.args], console, machine,
                     accel=accel), end="")
    return 0
