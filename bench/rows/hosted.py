"""Hosted: `lunik test examples/api` as a Linux process (the hosted
platform, docs/hosted.md) beside the same specs in a guest under software
emulation (TCG), the baseline, in the same run, runs alternating so drift
of a shared machine falls on both alike.

Two figures:
  - the command as a developer types it: `lunik test --hosted
    examples/api` against `lunik test --tcg examples/api`; each builds
    its image first (pack and link, about the same for both), which
    dominates the hosted figure;
  - the run alone, the images built beforehand: the hosted executable
    against `lunik run --tcg` of the test image (QEMU's start, the boot
    and the specs under emulation).
"""

import os
import subprocess
import time

import common
from common import figure, stats

API = os.path.join(common.ROOT, "examples", "api")
TEST_ENTRY = "stdlib/lunik/test_main.lua"


def _timed(cmd):
    """Seconds for cmd, which must exit 0 and say "0 failed"; None if not."""
    t0 = time.perf_counter()
    r = common.run_cmd(cmd, timeout=300, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0 or " 0 failed" not in r.stdout:
        common.log("hosted: %s failed: %s" % (" ".join(cmd), r.stdout[-300:]))
        return None
    return dt


def _pairs(cmd_a, cmd_b, runs):
    a, b = [], []
    for _ in range(runs):
        a.append(_timed(cmd_a))
        b.append(_timed(cmd_b))
    return ([x for x in a if x is not None] or None,
            [x for x in b if x is not None] or None)


def _ms(xs):
    return xs and common.scaled(stats(xs), 1e3)


def run(ctx):
    runs = 3 if ctx.quick else 10
    if not os.path.exists(os.path.join(common.BUILD, "hosted", "lunik.o")):
        why = "build/hosted is not built (make hosted)"
        return [figure("hosted", "lunik test examples/api", "ms", None,
                       note=why)]
    lk = common.LUNIK
    common.log("hosted: lunik test examples/api, hosted and TCG, %d runs"
               % runs)
    hosted, tcg = _pairs([lk, "test", "--hosted", API],
                         [lk, "test", "--tcg", API], runs)
    os.makedirs(common.WORK, exist_ok=True)
    exe = os.path.join(common.WORK, "api-specs")
    elf = os.path.join(common.WORK, "api-specs.elf")
    for out, extra in ((exe, ["--hosted"]), (elf, [])):
        common.run_cmd([lk, "build", "-q", "--entry", TEST_ENTRY, API, "-o",
                        out] + extra, timeout=120, check=True)
    common.log("hosted: the specs' run alone, %d runs" % runs)
    run_h, run_t = _pairs([exe, "--"], [lk, "run", "--tcg", elf], runs)
    return [
        figure("hosted", "lunik test examples/api (build + run)", "ms",
               _ms(hosted), _ms(tcg), "lunik test --tcg (guest)",
               note="both build their image first (pack, syntax check, "
               "link: about 0.3-0.6 s), which the hosted figure is mostly"),
        figure("hosted", "examples/api's specs, image prebuilt", "ms",
               _ms(run_h), _ms(run_t), "lunik run --tcg (guest)",
               note="the process starts and runs the specs natively; the "
               "guest pays QEMU's start and TCG's emulation"),
    ]
