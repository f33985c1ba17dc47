#!/usr/bin/env python3
"""tests/run.py -- every suite of `make test`, one closing line.

  python3 tests/run.py [--tcg-only|--kvm-only] [-k PATTERN]

Host unit tests (tests/unit, C) first, then the system tests
(tests/system), which boot real images and check exit status and console
output. System tests run under KVM when /dev/kvm works and always under
software emulation (TCG). Ends with "N passed, N failed"; exits 1 on any
failure.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build", "tests")
sys.path.insert(0, os.path.join(HERE, "system"))

import harness  # noqa: E402
import suite    # noqa: E402  (registers the system tests)

# Each unit test and the sources it links with.
UNIT = {
    "test_rom": ["tools/rompack.c", "runtime/rom.c"],
    "test_path": ["runtime/path.c"],
}


class Tally:
    def __init__(self):
        self.passed = self.failed = 0
        self.failures = []

    def ok(self, name):
        self.passed += 1
        print("ok   %s" % name, flush=True)

    def fail(self, name, why):
        self.failed += 1
        self.failures.append(name)
        print("FAIL %s\n     %s" % (name, why.strip().replace("\n", "\n     ")),
              flush=True)


def run_unit(tally, pattern):
    os.makedirs(BUILD, exist_ok=True)
    for name, srcs in sorted(UNIT.items()):
        if pattern and not re.search(pattern, name):
            continue
        exe = os.path.join(BUILD, name)
        cc = ["cc", "-O1", "-g", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
              "-fsanitize=address,undefined", "-Iruntime", "-Itools",
              "-Ikernel", "-Itests/unit", "-o", exe,
              "tests/unit/%s.c" % name] + srcs
        r = subprocess.run(cc, cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            tally.fail("unit/%s (build)" % name, r.stderr)
            continue
        r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
        for line in r.stdout.splitlines():
            if line.startswith("ok - "):
                tally.ok("unit/%s: %s" % (name, line[5:]))
            elif line.startswith("FAIL - "):
                tally.fail("unit/%s: %s" % (name, line[7:]), "")
        if r.returncode and "FAIL - " not in r.stdout:
            tally.fail("unit/%s (exit %d)" % (name, r.returncode),
                       r.stderr[-2000:])


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
    run_unit(tally, a.k)
    run_system(tally, accels, a.k)
    if tally.failures:
        print("\nfailed:\n  " + "\n  ".join(tally.failures))
    print("(%.0f s)" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
