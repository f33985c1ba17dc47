"""lunik test DIR [run options]: boots an image of DIR that runs every
*_spec.lua in it (stdlib/lunik/test_main.lua) and exits non-zero on any
failure."""

import os

from . import devices, hosted, image, machines, qemu
from .errors import Error
from .options import add_bundle_options, add_hosted_option, add_run_options

HELP = "run DIR's *_spec.lua in a booted image"


def register(sub):
    p = sub.add_parser("test", help=HELP, description=HELP)
    p.add_argument("dir")
    add_run_options(p)
    add_bundle_options(p)
    add_hosted_option(p, "run the specs")
    return p


def run(a):
    if not os.path.isdir(a.dir):
        raise Error("%s: not a folder" % a.dir)
    if a.hosted:
        return hosted.run_app(a.dir, a, entry=image.TEST_ENTRY)
    mem, devs = qemu.parse_mem(a.mem), devices.device_args(a)
    machine = machines.machine(a.machine)
    path, _ = image.temp_image(a.dir, entry=image.TEST_ENTRY,
                               lua_paths=a.lua_path, includes=a.include)
    try:
        return qemu.run_image(path, mem, a.accel, a.args, a.timeout, devs,
                              machine)
    finally:
        os.unlink(path)
