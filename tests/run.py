#!/usr/bin/env python3
"""tests/run.py -- every suite of `make test`, one closing line.

  python3 tests/run.py [--tcg-only|--kvm-only] [-k PATTERN]

Host unit tests (tests/unit, C and Lua), the lunik command's unit tests
(tests/cli, Python), the fuzz targets briefly (tests/fuzz), then the system
tests (tests/system), which boot real images and check exit status and
console output. System tests run under KVM when /dev/kvm works and always
under software emulation (TCG). A test that cannot run here (no root for a
tap device, a tool missing) is a skip, shown as one, never a pass. Ends
with "N passed, N failed, N skipped"; exits 1 on any failure.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build", "tests")
sys.path.insert(0, os.path.join(HERE, "system"))

import harness  # noqa: E402
import suite    # noqa: E402  (registers the system tests)
import suite_devices  # noqa: E402,F401  (the virtio drivers and device options)
import suite_kv  # noqa: E402,F401  (kv against power cuts)
import suite_http  # noqa: E402,F401  (the HTTP server from the host)
import suite_net  # noqa: E402,F401  (the network from the host)
import suite_crypto  # noqa: E402,F401  (mbedTLS and the crypto module)
import suite_tls  # noqa: E402,F401  (the tls module, against openssl)
import suite_compat  # noqa: E402,F401  (LuaSocket, lua-resty-redis, bundling)
import suite_bench  # noqa: E402,F401  (the benchmark harness's parsers and report)
import suite_serve  # noqa: E402,F401  (-p held by lunik, readiness, watch)
import suite_ci  # noqa: E402,F401  (JUnit, TAP, --filter, --timeout, --version, --report)
import suite_oci  # noqa: E402,F401  (push, pull, run REF through docker-registry)
import suite_metrics  # noqa: E402,F401  (app:metrics, promtool, Prometheus)
import suite_engine  # noqa: E402,F401  (libvirt, graceful shutdown, replicas behind HAProxy)
import suite_pci  # noqa: E402,F401  (q35 and pc: virtio-pci, ACPI power)
import suite_hosted  # noqa: E402,F401  (the hosted platform: the runtime as a process)
import suite_sanitize  # noqa: E402,F401  (the runtime under ASan and UBSan)
import suite_gdb  # noqa: E402,F401  (lunik run --gdb, tools/gdb/lunik.py)

class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def ok(self, name):
        self.passed += 1
        print("ok   %s" % name, flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print("skip %s (%s)" % (name, why.strip()), flush=True)

    def fail(self, name, why):
        self.failed += 1
        self.failures.append(name)
        print("FAIL %s\n     %s" % (name, why.strip().replace("\n", "\n     ")),
              flush=True)


HOST_LUA_LIB = os.path.join(ROOT, "build", "host", "liblua.a")
LUA_SRC = os.path.join(ROOT, "build", "src", "lua", "src")
FUZZ_SECONDS = 10  # per target in `make test`; `make fuzz` runs longer


def test_header(path):
    """The words of a test file's header lines "sources: a.c b.c" (what it
    links with) and "needs: lua" (the host Lua library)."""
    sources, needs = [], []
    with open(path) as f:
        head = f.read(2000)
    for m in re.finditer(r"^\s*\*?\s*(sources|needs):(.*)$", head, re.M):
        (sources if m.group(1) == "sources" else needs).extend(m.group(2).split())
    return sources, needs


def host_cc(compiler, path, exe, extra):
    """Compiles the host test or fuzz target at path into exe; returns the
    compiler's complaint or None."""
    sources, needs = test_header(path)
    cc = [compiler, "-O1", "-g", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
          "-Wno-unused-parameter", "-Iruntime", "-Itools", "-Ikernel",
          "-Ibindings", "-Itests/unit"] + extra + ["-o", exe, path] + sources
    if "lua" in needs:
        cc[1:1] = ["-I" + LUA_SRC, "-Ideps/lua"]  # luaconf.h wants Debian's multiarch header
        cc += [HOST_LUA_LIB, "-lm", "-ldl"]
    r = subprocess.run(cc, cwd=ROOT, capture_output=True, text=True)
    return r.stderr if r.returncode else None


def run_unit(tally, pattern):
    """tests/unit/test_*.c: each prints "ok - ..." / "FAIL - ..." lines
    (check.h); tests/unit/test_*.lua run on the host Lua."""
    os.makedirs(BUILD, exist_ok=True)
    unit = os.path.join(HERE, "unit")
    for fname in sorted(os.listdir(unit)):
        name, ext = os.path.splitext(fname)
        if not name.startswith("test_") or ext not in (".c", ".lua"):
            continue
        if pattern and not re.search(pattern, "unit/" + name):
            continue
        if ext == ".c":
            exe = os.path.join(BUILD, name)
            err = host_cc("cc", os.path.join(unit, fname), exe,
                          ["-fsanitize=address,undefined",
                           "-fno-sanitize-recover=undefined"])
            if err:
                tally.fail("unit/%s (build)" % name, err)
                continue
            argv = [exe]
        else:
            argv = [os.path.join(ROOT, "build", "host", "lua"),
                    os.path.join(unit, fname)]
        try:
            r = subprocess.run(argv, cwd=ROOT, capture_output=True,
                               text=True, timeout=300)
        except subprocess.TimeoutExpired:
            tally.fail("unit/%s" % name, "timed out after 300 s")
            continue
        for line in r.stdout.splitlines():
            if line.startswith("ok - "):
                tally.ok("unit/%s: %s" % (name, line[5:]))
            elif line.startswith("FAIL - "):
                tally.fail("unit/%s: %s" % (name, line[7:]), "")
            elif line.startswith("skip - "):
                what, _, why = line[7:].partition(": ")
                tally.skip("unit/%s: %s" % (name, what), why or "skipped")
        if r.returncode and "FAIL - " not in r.stdout:
            tally.fail("unit/%s (exit %d)" % (name, r.returncode),
                       (r.stderr or r.stdout)[-2000:])


def stack_header(path):
    """The app folder of a whole-stack target's "stack: apps/NAME" line
    (tests/fuzz/stack.h), or None for a target of its sources alone."""
    with open(path) as f:
        m = re.search(r"^\s*\*?\s*stack:\s*(\S+)", f.read(2000), re.M)
    return m and os.path.join(HERE, "fuzz", m.group(1))


def stack_build(path, exe, app):
    """A whole-stack target: the C file compiled against the hosted
    platform's sanitizer variant (build/hosted-asan, with libFuzzer's
    coverage), then linked by lunik build
    --hosted-fuzz with app's ROM (TLS apps get this run's certificates).
    Returns the complaint or None."""
    cflags = os.path.join(ROOT, "build", "hosted-asan", "cflags")
    if not os.path.exists(cflags):
        return "build/hosted-asan is not built (make test or make fuzz builds it)"
    with open(cflags) as f:
        flags = f.read().split()
    obj = exe + ".o"
    r = subprocess.run(["clang"] + flags + ["-Werror", "-Ihosted",
                        "-Itests/fuzz", "-c", path, "-o", obj], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode:
        return r.stderr
    tmp = exe + ".app"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(app, tmp)
    if os.path.exists(os.path.join(app, "certs.wanted")):
        import tls_certs
        shutil.copytree(tls_certs.make(os.path.join(BUILD, "fuzz-certs")),
                        os.path.join(tmp, "certs"))
    disk = os.path.join(BUILD, "fuzz", "stack_kv.img")
    with open(disk, "wb") as f:  # stack_kv's disk (its STACK_ARGS)
        f.truncate(24576)
    r = subprocess.run([os.path.join(ROOT, "tools", "lunik"), "build", "-q",
                        "--hosted-fuzz", "--link", obj, tmp, "-o", exe,
                        "--lua-path", os.path.join(HERE, "fuzz", "apps", "lib")],
                       cwd=ROOT, capture_output=True, text=True)
    return r.stderr if r.returncode else None


def run_fuzz(tally, pattern, seconds):
    """tests/fuzz/fuzz_*.c: libFuzzer targets (LLVMFuzzerTestOneInput) of
    their sources alone; tests/fuzz/stack_*.c: whole-stack targets, the
    runtime with an app (stack.h). Each runs for a bounded time from its
    corpus folder tests/fuzz/corpus/NAME/ (if any) and prints "fuzz NAME:
    N execs, N crashes". A crash fails the test and keeps the crashing
    input under build/tests/fuzz/."""
    fuzz = os.path.join(HERE, "fuzz")
    if not os.path.isdir(fuzz):
        return
    out = os.path.join(BUILD, "fuzz")
    os.makedirs(out, exist_ok=True)
    for fname in sorted(os.listdir(fuzz)):
        name, ext = os.path.splitext(fname)
        if not name.startswith(("fuzz_", "stack_")) or ext != ".c":
            continue
        full = "fuzz/%s" % name
        if pattern and not re.search(pattern, full):
            continue
        exe = os.path.join(out, name)
        app = stack_header(os.path.join(fuzz, fname))
        if app:
            err = stack_build(os.path.join(fuzz, fname), exe, app)
        else:
            err = host_cc("clang", os.path.join(fuzz, fname), exe,
                          ["-fsanitize=fuzzer,address,undefined",
                           "-fno-sanitize-recover=undefined"])
        if err:
            tally.fail("%s (build)" % full, err)
            continue
        work = os.path.join(out, name + ".corpus")
        os.makedirs(work, exist_ok=True)
        argv = [exe, "-max_total_time=%d" % seconds, "-timeout=10",
                "-rss_limit_mb=2048", "-print_final_stats=1",
                "-artifact_prefix=%s/" % out, work]
        seeds = os.path.join(fuzz, "corpus", name.split("_", 1)[1]
                             if name.startswith("fuzz_") else name)
        if os.path.isdir(seeds):
            argv.append(seeds)
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, cwd=ROOT, capture_output=True,
                               text=True, errors="replace",
                               timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            tally.fail(full, "did not stop after %d s" % seconds)
            continue
        runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
        crashes = 1 if r.returncode else 0
        print("fuzz %s: %s execs, %d crashes" % (name, runs.group(1) if runs
                                                 else "?", crashes),
              flush=True)
        if r.returncode:
            tally.fail(full, r.stderr[-3000:])
        else:
            tally.ok("%s (%s runs, %.0fs)" % (full, runs.group(1) if runs
                                              else "?", time.monotonic() - t0))


class CliResult(unittest.TestResult):
    """Reports each test of tests/cli as it ends."""

    def __init__(self, tally):
        super().__init__()
        self.tally = tally

    @staticmethod
    def name(test):
        mod, _, rest = test.id().partition(".")
        return "cli/%s: %s" % (mod.replace("test_", "", 1), rest)

    def addSuccess(self, test):
        self.tally.ok(self.name(test))

    def addFailure(self, test, err):
        self.tally.fail(self.name(test), self._exc_info_to_string(err, test))

    addError = addFailure

    def addSkip(self, test, reason):
        self.tally.skip(self.name(test), reason)


def run_cli(tally, pattern):
    """tests/cli/test_*.py: unittest modules for tools/lunikcli, one per
    module of the package."""
    cli = os.path.join(HERE, "cli")
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    sys.path.insert(0, cli)
    suite = unittest.TestSuite()
    for fname in sorted(os.listdir(cli)):
        name, ext = os.path.splitext(fname)
        if not name.startswith("test_") or ext != ".py":
            continue
        for test in iter_tests(unittest.defaultTestLoader.loadTestsFromName(name)):
            if not pattern or re.search(pattern, CliResult.name(test)):
                suite.addTest(test)
    suite.run(CliResult(tally))


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def run_system(tally, accels, pattern):
    for i, accel in enumerate(accels):
        for name, fn, once in harness.TESTS:
            if once and i > 0:
                continue
            full = "system/%s" % name if once else "system/%s [%s]" % (name, accel)
            if pattern and not re.search(pattern, full):
                continue
            t0 = time.monotonic()
            try:
                fn(harness.Ctx(accel))
            except harness.Skip as e:
                tally.skip(full, str(e))
                continue
            except harness.Failure as e:
                tally.fail(full, str(e))
                continue
            except Exception as e:  # a bug in the test itself still counts
                tally.fail(full, "%s: %s" % (type(e).__name__, e))
                continue
            tally.ok("%s (%.1fs)" % (full, time.monotonic() - t0))


def main():
    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group()
    g.add_argument("--tcg-only", action="store_true")
    g.add_argument("--kvm-only", action="store_true")
    p.add_argument("-k", metavar="PATTERN", help="only tests matching")
    p.add_argument("--fuzz-seconds", type=int, default=FUZZ_SECONDS,
                   help="time per fuzz target (default %d)" % FUZZ_SECONDS)
    p.add_argument("--fuzz-only", action="store_true",
                   help="only the fuzz targets")
    a = p.parse_args()

    accels = []
    if not a.tcg_only:
        ok, why = harness.kvm_state()
        if ok:
            accels.append("kvm")
        elif a.kvm_only:
            print("tests: --kvm-only, but KVM is not usable: %s" % why,
                  file=sys.stderr)
            return 1
        else:
            print("tests: KVM is not usable, software emulation only: %s"
                  % why)
    if not a.kvm_only:
        accels.append("tcg")

    tally = Tally()
    t0 = time.monotonic()
    if a.fuzz_only:
        run_fuzz(tally, a.k, a.fuzz_seconds)
    else:
        run_unit(tally, a.k)
        run_cli(tally, a.k)
        run_fuzz(tally, a.k, a.fuzz_seconds)
        run_system(tally, accels, a.k)
    if tally.failures:
        print("\nfailed:\n  " + "\n  ".join(tally.failures))
    print("(%.0f s)" % (time.monotonic() - t0))
    print("%d passed, %d failed, %d skipped" % (tally.passed, tally.failed,
                                               tally.skipped))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
