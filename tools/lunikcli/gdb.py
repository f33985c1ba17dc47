"""gdb -- `lunik run --gdb[=PORT]`: the guest starts halted with QEMU's gdb
stub on 127.0.0.1:PORT (default 1234), the image built with debug
information, and lunik prints the gdb command that attaches to it with
tools/gdb/lunik.py loaded (its `lua-bt` prints the running Lua task's
stack). A hosted executable runs under plain `gdb --args` instead
(docs/debugging.md).
"""

import argparse
import os
import shlex
import sys

from . import devices, paths
from .errors import Error

DEFAULT_PORT = 1234
SCRIPT = os.path.join(paths.ROOT, "tools", "gdb", "lunik.py")


def add_option(p):
    p.add_argument("--gdb", action="store_const", const=DEFAULT_PORT,
                   help="(also --gdb=PORT) start the guest halted with "
                   "QEMU's gdb stub on 127.0.0.1:PORT (default %d) and print "
                   "the gdb command (the image keeps its debug information)"
                   % DEFAULT_PORT)
    p.add_argument("--x-gdb-port", dest="gdb", type=int,
                   help=argparse.SUPPRESS)


def normalize(argv):
    """argv with --gdb=PORT as --x-gdb-port PORT: argparse cannot give an
    option an optional value without taking the next positional for it."""
    out = []
    for a in argv:
        if a.startswith("--gdb="):
            out += ["--x-gdb-port", a[len("--gdb="):]]
        else:
            out.append(a)
    return out


def check(a):
    """Raises Error for a --gdb that cannot work; the port must be free."""
    if a.gdb is None:
        return
    if getattr(a, "hosted", None):
        raise Error("--gdb is for guests; run a hosted executable under gdb "
                    "itself: lunik build --hosted DIR -o FILE, then "
                    "gdb -x %s --args FILE [options] -- [key=value ...]"
                    % paths.rel(SCRIPT))
    if not 1 <= a.gdb <= 65535:
        raise Error("--gdb %d: port out of 1..65535" % a.gdb)
    try:
        devices.check_host_port("tcp", a.gdb)
    except Error:
        raise Error("--gdb: port %d of 127.0.0.1 is taken; give another "
                    "(--gdb=PORT)" % a.gdb)


def qemu_args(a, image):
    """QEMU's options for --gdb, after printing how to attach."""
    if a.gdb is None:
        return []
    cmd = ["gdb", "-q", "-x", SCRIPT, "-ex",
           "target remote 127.0.0.1:%d" % a.gdb, os.path.abspath(image)]
    print("lunik: the guest is halted at its entry; attach with:\n  %s\n"
          "lunik: then `continue`; `lua-bt` prints the Lua task's stack"
          % " ".join(shlex.quote(c) for c in cmd), file=sys.stderr,
          flush=True)
    return ["-gdb", "tcp:127.0.0.1:%d" % a.gdb, "-S"]
