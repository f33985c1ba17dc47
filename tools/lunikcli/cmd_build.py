"""lunik build DIR [-o FILE] [-g]: packs DIR and links an image (image.py)."""

import argparse
import os

from . import buildreport, image
from .options import add_bundle_options, add_hosted_option

HELP = "pack DIR and link an image"


def register(sub):
    p = sub.add_parser("build", help=HELP, description=HELP)
    p.add_argument("dir")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="image path (default: DIR's name + .elf)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-g", "--debug", action="store_true",
                   help="keep debug information (for gdb)")
    add_bundle_options(p)
    add_hosted_option(p, "link a Linux executable")
    p.add_argument("--ca-bundle", metavar="FILE",
                   help="PEM CA certificates the image trusts as "
                   "tls.client{ca=\"system\"}, e.g. "
                   "/etc/ssl/certs/ca-certificates.crt")
    p.add_argument("--report", metavar="FILE",
                   help="write a JSON report of the image to FILE: its "
                   "size and sha256, the size of each part, the ROM's "
                   "files by origin, the versions inside")
    p.add_argument("--entry", help=argparse.SUPPRESS)
    p.add_argument("--no-check", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--link", action="append", help=argparse.SUPPRESS)
    return p


def run(a):
    out = a.output or os.path.basename(os.path.abspath(a.dir)) + (
        "" if a.hosted else ".elf")
    image.build_image(a.dir, out, entry=a.entry, extra_objs=a.link or (),
                      debug=a.debug, lua_paths=a.lua_path,
                      includes=a.include, ca_bundle=a.ca_bundle,
                      check=not a.no_check, hosted=a.hosted)
    if a.report:
        buildreport.write(out, a.report)
    if not a.quiet:
        print("%s: %d bytes" % (out, os.path.getsize(out)))
    return 0
