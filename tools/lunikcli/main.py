"""main -- the lunik command's argument parsing and dispatch.

Each command is a module (cmd_*.py) with register(sub), which declares its
parser and options, and run(args) -> exit status. Boot arguments (key=value
words for the guest) follow "--" and are given to the commands that boot.
"""

import argparse
import signal
import sys

from . import (cmd_accel, cmd_build, cmd_domain, cmd_inspect, cmd_new,
               cmd_pull, cmd_push, cmd_run, cmd_test, cmd_watch, gdb,
               version)
from .errors import Error

COMMANDS = (cmd_new, cmd_build, cmd_run, cmd_test, cmd_watch, cmd_domain,
            cmd_push, cmd_pull, cmd_inspect, cmd_accel)
# The commands that boot a guest take boot arguments after "--".
BOOTING = {"run", "test", "watch", "domain", "push"}

DESCRIPTION = """lunik: build, run and test lunik images.

Building never compiles C: it packs the app into a ROM archive and links
it against the runtime that `make` built once (build/lunik.o and the
libraries). build, run and test take --lua-path PATH (repeatable) to
bundle the pure-Lua modules the app requires from those folders, and
--include MODULE to bundle a module no literal require names."""


class VersionAction(argparse.Action):
    """--version, computed only when asked (it runs git)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(version.text())
        parser.exit()


def parser():
    p = argparse.ArgumentParser(
        prog="lunik", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="run and test take boot arguments after --: key=value words")
    p.add_argument("--version", action=VersionAction, nargs=0,
                   help="print lunik's version and those of Lua, lwIP, "
                   "mbedTLS and newlib inside its images")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True
    for mod in COMMANDS:
        mod.register(sub).set_defaults(fn=mod.run)
    return p


def split_boot_args(argv):
    """(options, boot arguments): what follows the first "--" is for the
    guest; argparse would mix it with positionals."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def main(argv):
    p = parser()
    argv, boot_args = split_boot_args(argv)
    argv = gdb.normalize(argv)
    a = p.parse_args(argv)
    a.args = boot_args
    if boot_args and a.cmd not in BOOTING:
        p.error("boot arguments after -- are only for %s"
                % ", ".join(sorted(BOOTING)))
    try:
        return a.fn(a)
    except Error as e:
        print("lunik: " + str(e), file=sys.stderr)
        return e.status


def entry():
    """tools/lunik's and the installed command's entry point."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
