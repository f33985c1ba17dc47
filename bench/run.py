#!/usr/bin/env python3
"""bench/run.py -- lunik's figures beside its baselines, measured here, in
one run.

  python3 bench/run.py [--quick] [--rows boot,size,...]

Rows (bench/rows/*.py, each a run(ctx) that returns figures):
  boot     QEMU exec -> exit vs an empty PVH kernel; exec -> first HTTP 200
           vs a Linux microVM; PVH entry -> main.lua
  size     image bytes vs the Linux microVM's kernel + initramfs, with a
           per-component breakdown from the link map
  memory   the smallest --mem that serves 1,000 requests (bisection)
  http     wrk keep-alive GETs over tap and user networking, HTTPS too:
           lunik vs the Linux microVM vs nginx on the host
  tls      full TLS 1.3 and 1.2 handshakes/s vs the Linux microVM's
           nginx+OpenSSL, runs alternating between the two
  machines examples/api on q35 and pc beside microvm: exec -> first
           HTTP 200 and keep-alive req/s
  build    clean build with and without fetching, lunik build after a
           one-line change
  density  how many api instances run at once, each answering
  watch    save -> first response from the edited image under lunik
           watch vs stopping and rerunning by hand; failed requests

--quick runs a short version of every row. Medians with min and max;
ratios (lunik / baseline) come from the same run. Writes
bench/results/latest.md, latest.json and latest.png (bench/report.py). A
benchmark never fails a test: a row that cannot measure says why.
"""

import argparse
import os
import platform
import sys
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402
import report  # noqa: E402

ROWS = ["boot", "size", "memory", "http", "tls", "overhead", "machines",
        "hosted", "build", "density", "watch"]


def host_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    qemu = common.run_cmd(["qemu-system-x86_64", "--version"], timeout=10,
                          capture_output=True, text=True).stdout
    return {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "mem_gib": round(os.sysconf("SC_PAGE_SIZE") *
                             os.sysconf("SC_PHYS_PAGES") / (1 << 30), 1),
            "qemu": qemu.splitlines()[0] if qemu else "?"}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a short version of every row (make bench-quick)")
    p.add_argument("--rows", default=",".join(ROWS),
                   help="comma-separated rows to run (default: all): "
                   + ",".join(ROWS))
    p.add_argument("--out", default=os.path.join(HERE, "results"),
                   help="where latest.{md,json,png} go")
    a = p.parse_args()
    rows = [r.strip() for r in a.rows.split(",") if r.strip()]
    bad = [r for r in rows if r not in ROWS]
    if bad:
        p.error("unknown row %r: choose from %s" % (bad[0], ", ".join(ROWS)))

    accels, why = common.accels(None)
    ctx = types.SimpleNamespace(quick=a.quick, accels=accels, kvm_why=why,
                                shared={})
    if why:
        common.log("no KVM rows: %s" % why)
    t0 = time.time()
    res = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": a.quick,
           "host": host_info(), "accels": accels, "kvm_unusable": why,
           "figures": [], "rows_failed": {}, "row_seconds": {}}
    for name in rows:
        common.log("row %s" % name)
        t = time.time()
        try:
            mod = __import__("rows." + name, fromlist=["run"])
            figs = mod.run(ctx)
            res["figures"] += figs
            if figs and all(f["lunik"] is None and f["baseline"] is None
                            for f in figs):
                # every run of the row failed: say so, do not pass quietly
                res["rows_failed"][name] = ("no figure measured; the runs' "
                                            "errors are in latest.json")
        except Exception as e:  # noqa: BLE001 -- a row never stops the rest
            traceback.print_exc()
            res["rows_failed"][name] = "%s: %s" % (type(e).__name__, e)
        finally:
            common.stop_all()
        res["row_seconds"][name] = round(time.time() - t, 1)
    res["seconds"] = round(time.time() - t0, 1)
    res["extra"] = {k: v for k, v in ctx.shared.items()
                    if report.jsonable(v)}
    text = report.write(res, a.out)
    print(text)
    return 1 if res["rows_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
