"""lunik push FILE|DIR REF [--mem SIZE] [--machine M] [-- key=value ...]:
puts an image (a folder is built first) into an OCI registry, with its
boot defaults as the manifest's config (oci.py)."""

import os

from . import image, machines, oci, qemu
from .errors import Error
from .options import add_bundle_options

HELP = "push an image (or an app folder) to an OCI registry"


def register(sub):
    p = sub.add_parser("push", help=HELP, description=HELP,
                       epilog="boot arguments after -- become the image's "
                       "defaults, which `lunik run REF` starts with")
    p.add_argument("image", metavar="FILE|DIR")
    p.add_argument("ref", metavar="REF",
                   help="HOST[:PORT]/NAME[:TAG] (TAG: latest)")
    p.add_argument("--mem", default="128M",
                   help="the guest memory `lunik run REF` gives it "
                   "(default 128M)")
    p.add_argument("--machine", choices=sorted(machines.MACHINES),
                   default=machines.DEFAULT,
                   help="the machine `lunik run REF` boots it on")
    add_bundle_options(p)
    return p


def run(a):
    ref = oci.Ref(a.ref)
    if ref.digest:
        raise Error("%s: push to a tag, not a digest" % a.ref)
    qemu.parse_mem(a.mem)
    qemu.check_boot_args(a.args)
    if not os.path.exists(a.image):
        raise Error("%s: no such image or folder" % a.image)
    path, temp = image.temp_image(a.image, lua_paths=a.lua_path,
                                  includes=a.include)
    try:
        with open(path, "rb") as f:
            data = f.read()
    finally:
        if temp:
            os.unlink(path)
    title = os.path.basename(os.path.abspath(a.image))
    if temp:
        title += ".elf"
    config = oci.config_blob(a.args, a.mem, a.machine)
    digest = oci.Registry(ref).push(data, config, title)
    print("pushed %s@%s (image %s, %d bytes)" % (
        a.ref, digest, oci.sha256(data), len(data)))
    return 0
