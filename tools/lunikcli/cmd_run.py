"""lunik run FILE|DIR [options] [-- key=value ...]: boots an image (a
folder is built first) with the console on stdout, and exits with the
guest's status."""

import os

from . import devices, gdb, hosted, image, machines, qemu
from .errors import Error
from .options import add_bundle_options, add_hosted_option, add_run_options

HELP = "boot an image (or an app folder)"


def register(sub):
    p = sub.add_parser("run", help=HELP, description=HELP)
    p.add_argument("image", metavar="FILE|DIR")
    add_run_options(p)
    add_bundle_options(p)
    add_hosted_option(p, "run it")
    gdb.add_option(p)
    p.add_argument("--status", nargs="?", const=5.0, type=float,
                   metavar="SECONDS",
                   help="a console line every SECONDS (default 5) with "
                   "req/s, connections, heap and tasks")
    return p


def run(a):
    if a.status is not None:
        if not 0.1 <= a.status <= 86400:
            raise Error("--status %g: give seconds from 0.1 to 86400"
                        % a.status)
        a.args = a.args + ["lunik.status=%g" % a.status]
    gdb.check(a)
    if a.hosted:
        return hosted.run_app(a.image, a)
    mem, devs = qemu.parse_mem(a.mem), devices.device_args(a)
    machine = machines.machine(a.machine)
    if (a.lua_path or a.include) and not os.path.isdir(a.image):
        raise Error("--lua-path and --include build an app folder; %s is "
                    "an image" % a.image)
    path, temp = image.temp_image(a.image, lua_paths=a.lua_path,
                                  includes=a.include,
                                  debug=a.gdb is not None)
    try:
        return qemu.run_image(path, mem, a.accel, a.args, a.timeout,
                              devs + gdb.qemu_args(a, path), machine)
    finally:
        if temp:
            os.unlink(path)
