"""lunik inspect FILE: lists every file of an image with its size and
origin: "app", "stdlib", the --lua-path it was bundled from, or "lunik"
(the image's own metadata, .lunik/)."""

import os

from . import bundle, rom
from .errors import Error

HELP = ("list an image's files with their sizes and origins (app, stdlib, "
        "or a --lua-path)")


def register(sub):
    p = sub.add_parser("inspect", help=HELP, description=HELP)
    p.add_argument("image", metavar="FILE")
    return p


def files(path):
    """[(name, size, origin)] for every file of the image at path."""
    entries = rom.image_entries(path)
    origins = {}
    for name, body in entries:
        if name == bundle.MANIFEST:
            for line in body.decode(errors="replace").splitlines():
                fname, _, origin = line.partition("\t")
                origins[fname] = origin
    out = []
    for name, body in entries:
        if name in origins:
            origin = origins[name]
        elif name.startswith("app/"):
            origin = "app"
        elif name.startswith("stdlib/"):
            origin = "stdlib"
        else:
            origin = "lunik"
        out.append((name, len(body), origin))
    return out


def run(a):
    if os.path.isdir(a.image):
        raise Error("%s is a folder: inspect reads an image "
                    "(lunik build %s first)" % (a.image, a.image))
    if not os.path.isfile(a.image):
        raise Error("%s: no such image" % a.image)
    listing = files(a.image)
    width = max([len(o) for _, _, o in listing] + [6])
    print("%8s  %-*s  %s" % ("SIZE", width, "ORIGIN", "FILE"))
    for name, size, origin in listing:
        print("%8d  %-*s  %s" % (size, width, origin, name))
    print("%8d  %-*s  %d files" % (sum(s for _, s, _ in listing), width,
                                   "total", len(listing)))
    return 0
