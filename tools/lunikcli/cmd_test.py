"""lunik test DIR [run options]: boots an image of DIR that runs every
*_spec.lua in it (stdlib/lunik/test_main.lua) and exits non-zero on any
failure."""

import os

from . import image, launch
from .errors import Error
from .options import add_bundle_options, add_run_options

HELP = "run DIR's *_spec.lua in a booted image"


def register(sub):
    p = sub.add_parser("test", help=HELP, description=HELP)
    p.add_argument("dir")
    add_run_options(p)
    add_bundle_options(p)
    return p


def run(a):
    if not os.path.isdir(a.dir):
        raise Error("%s: not a folder" % a.dir)
    with launch.Launch(a) as guest:
        path, _ = image.temp_image(a.dir, entry=image.TEST_ENTRY,
                                   lua_paths=a.lua_path, includes=a.include)
        try:
            return guest.run(path)
        finally:
            os.unlink(path)
