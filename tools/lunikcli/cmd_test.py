"""lunik test DIR [run options]: boots an image of DIR that runs every
*_spec.lua in it (stdlib/lunik/test_main.lua) and exits non-zero on any
failure. --tap prints TAP 13, --junit writes JUnit XML, --filter runs the
tests whose names match; when --timeout ends the run, the test that was
running is named (testreport.py)."""

import os
import sys

from . import hosted, image, launch, qemu, testreport
from .errors import Error, note
from .options import add_bundle_options, add_hosted_option, add_run_options

HELP = "run DIR's *_spec.lua in a booted image"


def register(sub):
    p = sub.add_parser("test", help=HELP, description=HELP)
    p.add_argument("dir")
    add_run_options(p)
    add_bundle_options(p)
    p.add_argument("--tap", action="store_true",
                   help="print TAP version 13 (the console as comments)")
    p.add_argument("--junit", metavar="FILE",
                   help="write a JUnit XML report to FILE")
    p.add_argument("--filter", metavar="PATTERN",
                   help="run only the tests whose full name (describe "
                   "blocks and it, space-separated) matches the Lua "
                   "pattern PATTERN")
    add_hosted_option(p, "run the specs")
    return p


def run(a):
    if not os.path.isdir(a.dir):
        raise Error("%s: not a folder" % a.dir)
    if a.hosted:
        if a.junit or a.tap or a.filter is not None:
            raise Error("--junit, --tap and --filter are for guests, not "
                        "--hosted")
        return hosted.run_app(a.dir, a, entry=image.TEST_ENTRY)
    if a.junit and not os.path.isdir(os.path.dirname(os.path.abspath(a.junit))):
        raise Error("--junit %s: no such folder" % a.junit)
    report = testreport.Report(tap=a.tap)
    # Under --tap the runner prints only its events, which become TAP.
    a.args = a.args + ["lunik.test_events=%s" % ("only" if a.tap else "on")]
    if a.filter is not None:
        a.args.append("lunik.test_filter=" + a.filter)
    with launch.Launch(a) as guest:
        path, _ = image.temp_image(a.dir, entry=image.TEST_ENTRY,
                                   lua_paths=a.lua_path, includes=a.include)
        try:
            status = guest.run(path, report.line)
        finally:
            os.unlink(path)
    if status == qemu.STATUS_TIMEOUT:
        timed_out(a, report)
    if a.junit:
        report.junit(a.junit, os.path.basename(os.path.abspath(a.dir)))
    return status


def timed_out(a, report):
    """Names the test --timeout ended and prints the summary line."""
    t = report.hung(a.timeout)
    if t:
        note("the test running then: %s (%s:%s)" % (t["name"], t["file"],
                                                   t["line"]))
    else:
        note("no test was running then")
    if a.tap:
        if t:
            sys.stdout.write(report.tap_test(t))
        sys.stdout.write(report.finish_tap())
    else:
        print(report.summary())
    sys.stdout.flush()
