"""lunik run FILE|DIR|REF [options] [-- key=value ...]: boots an image (a
folder is built first, a registry reference pulled first, its boot
defaults taken) with the console on stdout, and exits with the guest's
status."""

import os

from . import cmd_pull, gdb, hosted, image, launch, oci
from .errors import Error
from .options import add_bundle_options, add_hosted_option, add_run_options

HELP = "boot an image (or an app folder)"


def register(sub):
    p = sub.add_parser("run", help=HELP, description=HELP)
    p.add_argument("image", metavar="FILE|DIR|REF")
    add_run_options(p)
    add_bundle_options(p)
    add_hosted_option(p, "run it")
    gdb.add_option(p)
    p.add_argument("--status", nargs="?", const=5.0, type=float,
                   metavar="SECONDS",
                   help="a console line every SECONDS (default 5) with "
                   "req/s, connections, heap and tasks")
    p.add_argument("--ready-file", metavar="FILE",
                   help="write FILE once the guest listens on every -p "
                   "port (or, without -p, on its first port); it is "
                   "removed when the guest ends")
    # None: a REF's boot defaults (`lunik push`) or 128M and microvm
    p.set_defaults(mem=None, machine=None)
    return p


def run(a):
    if a.status is not None:
        if not 0.1 <= a.status <= 86400:
            raise Error("--status %g: give seconds from 0.1 to 86400"
                        % a.status)
        a.args = a.args + ["lunik.status=%g" % a.status]
    gdb.check(a)
    if a.hosted:
        a.mem = a.mem or "128M"
        return hosted.run_app(a.image, a)
    if (a.lua_path or a.include) and not os.path.isdir(a.image):
        raise Error("--lua-path and --include build an app folder; %s is "
                    "an image" % a.image)
    pulled = None
    if not os.path.exists(a.image) and oci.looks_like_ref(a.image):
        pulled, defaults = cmd_pull.to_temp(a.image)
        a.args = [str(x) for x in defaults.get("args") or []] + a.args
        a.mem = a.mem or defaults.get("mem")
        a.machine = a.machine or defaults.get("machine")
    a.mem = a.mem or "128M"
    try:
        return boot(a, pulled)
    finally:
        if pulled:
            os.unlink(pulled)


def boot(a, pulled):
    with launch.Launch(a, a.ready_file) as guest:
        path, temp = (pulled, False) if pulled else image.temp_image(
            a.image, lua_paths=a.lua_path, includes=a.include,
            debug=a.gdb is not None)
        try:
            return guest.run(path, extra=gdb.qemu_args(a, path))
        finally:
            if temp:
                os.unlink(path)
