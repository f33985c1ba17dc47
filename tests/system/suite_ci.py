"""suite_ci.py -- what CI reads of lunik: `lunik test --junit` parsed by
Python's xml, `--tap` through Perl's prove, --filter, --timeout naming
the hung spec, `lunik --version`, `lunik build --report`."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from harness import LUNIK, ROOT, Failure, need_tool, run_cmd, test, test_once

SPECS = os.path.join(ROOT, "tests", "system", "apps", "specs")
BUSTED = os.path.join(ROOT, "tests", "system", "apps", "busted")
HANG = """local timer = require "timer"
describe("slow", function()
  it("hangs forever", function() timer.sleep(1000) end)
end)
"""


def prove(tap_file):
    """Runs Perl's TAP harness on a TAP file; (status, output)."""
    r = subprocess.run(["prove", "-v", "-e", "cat", tap_file],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


@test
def test_lunik_test_junit_and_tap(ctx):
    """--junit: one testcase per spec with the failure's message and
    file:line; --tap: TAP 13 that prove accepts, failing on the failure
    and passing with --filter on the passing spec alone."""
    need_tool("prove", "perl")
    tmp = tempfile.mkdtemp(prefix="lunik-t-ci-")
    try:
        junit, tap = os.path.join(tmp, "j.xml"), os.path.join(tmp, "t.tap")
        r = ctx.lunik("test", SPECS, "--junit", junit)
        if r.status != 1:
            r.fail("status %s with a failing spec, not 1" % r.status)
        r.expect(r"^1 passed, 1 failed$").expect_not(r"lunik-test:")
        root = ET.parse(junit).getroot()
        got = {k: root.get(k) for k in ("tests", "failures", "skipped")}
        if got != {"tests": "2", "failures": "1", "skipped": "0"}:
            r.fail("JUnit counts %s" % got)
        cases = {c.get("name"): c for c in root.iter("testcase")}
        if set(cases) != {"arithmetic adds", "wrong fails on purpose"}:
            r.fail("JUnit testcases %s" % sorted(cases))
        bad = cases["wrong fails on purpose"].find("failure")
        if bad is None or "expected: 1" not in bad.get("message", "") or \
                "fail_spec.lua:3" not in (bad.text or ""):
            r.fail("the failure reads %r" % (bad is not None and
                                             ET.tostring(bad)))
        if cases["arithmetic adds"].find("failure") is not None or \
                cases["arithmetic adds"].get("file") != "pass_spec.lua":
            r.fail("the passing case: %s" % ET.tostring(cases["arithmetic adds"]))

        r = ctx.lunik("test", SPECS, "--tap")
        with open(tap, "w") as f:
            f.write(r.out)
        status, said = prove(tap)
        if status == 0 or "Failed 1/2 subtests" not in said:
            r.fail("prove on the failing run: status %d\n%s" % (status, said))
        r = ctx.lunik("test", SPECS, "--tap", "--filter", "^arith")
        r.expect_status(0)
        with open(tap, "w") as f:
            f.write(r.out)
        status, said = prove(tap)
        if status != 0 or "Result: PASS" not in said or "Tests=1" not in said:
            r.fail("prove on the filtered run: status %d\n%s" % (status, said))
        r = ctx.lunik("test", SPECS, "--filter", "no such test")
        if r.status != 1:
            r.fail("a filter matching nothing: status %s" % r.status)
        r.expect(r"no test matches --filter no such test")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_lunik_test_timeout_names_the_hung_spec(ctx):
    """--timeout ends a run whose spec hangs: the spec is named with
    its file:line, the summary line follows, and --junit counts it."""
    tmp = tempfile.mkdtemp(prefix="lunik-t-ci-")
    try:
        app = os.path.join(tmp, "app")
        shutil.copytree(SPECS, app)
        with open(os.path.join(app, "hang_spec.lua"), "w") as f:
            f.write(HANG)
        junit = os.path.join(tmp, "j.xml")
        r = ctx.lunik("test", app, "--timeout", "20", "--junit", junit)
        r.expect_status(124).expect(
            r"lunik: timed out after 20s",
            r"lunik: the test running then: slow hangs forever "
            r"\(hang_spec\.lua:3\)", r"^0 passed, 2 failed$")
        root = ET.parse(junit).getroot()
        if (root.get("tests"), root.get("failures")) != ("2", "2"):
            r.fail("JUnit counts %s" % root.attrib)
        hung = [c for c in root.iter("testcase")
                if c.get("name") == "slow hangs forever"]
        if not hung or "timed out" not in hung[0].find("failure").get("message"):
            r.fail("the hung spec in JUnit: %s" % ET.tostring(root))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test_once
def test_version_and_build_report(ctx):
    """lunik --version names the libraries inside; build --report gives
    the image's sha256 and its parts."""
    rc, out, _, _ = run_cmd([LUNIK, "--version"], 60)
    if rc != 0 or not re.search(
            r"^lunik \S+.*\nLua 5\.4\.\d+, lwIP \d+\.\d+\.\d+, mbedTLS "
            r"\d+\.\d+\.\d+, newlib \d+\.\d+", out):
        raise Failure("lunik --version: status %s, %r" % (rc, out))
    tmp = tempfile.mkdtemp(prefix="lunik-t-ci-")
    try:
        img, rep = os.path.join(tmp, "api.elf"), os.path.join(tmp, "r.json")
        rc, out, _, _ = run_cmd([LUNIK, "build", "-q", os.path.join(
            ROOT, "examples", "api"), "-o", img, "--report", rep], 120)
        if rc != 0:
            raise Failure("lunik build --report: %s" % out)
        with open(rep) as f:
            r = json.load(f)
        with open(img, "rb") as f:
            data = f.read()
        if r["sha256"] != hashlib.sha256(data).hexdigest() or \
                r["bytes"] != len(data):
            raise Failure("the report's sha256 or size is wrong: %s" % r)
        for part in (".text", ".rodata", ".rom", ".ksyms", ".bss"):
            if part not in r["sections"]:
                raise Failure("no %s in the report: %s" % (part, r["sections"]))
        napp = sum(len(fs) for _, _, fs in os.walk(os.path.join(
            ROOT, "examples", "api")))
        if r["rom"]["by_origin"]["app"]["files"] != napp or \
                r["versions"]["Lua"] != "5.4.7":
            raise Failure("the report: %s" % r)
        rc, out, _, _ = run_cmd([LUNIK, "build", "-q", os.path.join(
            ROOT, "examples", "api"), "-o", img, "--report",
            os.path.join(tmp, "no", "r.json")], 120)
        if rc != 2 or "--report" not in out:
            raise Failure("a report into a missing folder: %s %r" % (rc, out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_lunik_test_pending_finally_setup(ctx):
    """busted's pending (declared and inside a test), finally after a
    failure and a failing setup, counted on the console, in JUnit (pending
    as skipped) and in TAP (# SKIP)."""
    need_tool("prove", "perl")
    tmp = tempfile.mkdtemp(prefix="lunik-t-ci-")
    try:
        junit, tap = os.path.join(tmp, "j.xml"), os.path.join(tmp, "t.tap")
        r = ctx.lunik("test", BUSTED, "--junit", junit)
        r.expect(r"^1 passed, 2 failed, 2 pending$",
                 r"^PEND \d+ - pending not written yet$",
                 r"^PEND \d+ - pending ends as pending inside \(waits for a fix\)$",
                 r"^ok   \d+ - finally after a failure saw the finally run",
                 r"^FAIL \d+ - a setup that fails fails with it$",
                 r"setup failed: .*no database")
        if r.status != 1:
            r.fail("status %s, not 1" % r.status)
        root = ET.parse(junit).getroot()
        got = {k: root.get(k) for k in ("tests", "failures", "skipped")}
        if got != {"tests": "5", "failures": "2", "skipped": "2"}:
            r.fail("JUnit counts %s" % got)
        r = ctx.lunik("test", BUSTED, "--tap")
        with open(tap, "w") as f:
            f.write(r.out)
        status, said = prove(tap)
        if status == 0 or "Failed 2/5 subtests" not in said or \
                "(less 2 skipped subtests: 1 okay)" not in said:
            r.fail("prove: status %d\n%s" % (status, said))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
