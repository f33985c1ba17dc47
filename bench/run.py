#!/usr/bin/env python3
"""bench/run.py -- lunik's figures, measured here and now.

  python3 bench/run.py [--runs N] [--clean]

Rows: image size of examples/hello; guest time from the PVH entry to the
first line of main.lua (the boot timeline); QEMU exec -> guest exit for
examples/hello against the floor (an empty PVH kernel that exits at once),
under KVM and TCG; `lunik build` after a one-line script change; with
--clean, a clean build from a fresh clone (fetching the dependencies).

Medians with min and max; ratios are taken from the same run. Writes
bench/results/latest.md and latest.json. A benchmark never fails a test.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")
LUNIK = os.path.join(ROOT, "tools", "lunik")
sys.path.insert(0, os.path.join(ROOT, "tools"))


def lunik_module():
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("lunik_cli", LUNIK)
    spec = importlib.util.spec_from_loader("lunik_cli", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "runs": len(xs)}


def time_qemu(cmd, runs):
    """Wall seconds from exec to exit of cmd, runs times; returns (times,
    last output)."""
    times, out = [], ""
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=120)
        times.append(time.perf_counter() - t0)
        out = r.stdout.decode(errors="replace")
        if r.returncode != 3:
            raise SystemExit("bench: %s exited %d:\n%s" % (
                cmd[-1], r.returncode, out + r.stderr.decode(errors="replace")))
    return times, out


def bench_boot(lk, image, floor, accel, runs):
    mem = 128 << 20
    # sleep=0: the figure is boot and exit, not hello's nap
    hello = lk.qemu_command(image, mem, accel, ["sleep=0"])
    bare = lk.qemu_command(floor, mem, accel, [])
    # alternate so drift on a noisy machine hits both alike
    th, tf, guest = [], [], []
    for _ in range(runs):
        t, out = time_qemu(hello, 1)
        th += t
        m = re.search(r"booted in (\d+) us", out)
        if m:
            guest.append(int(m.group(1)) / 1e6)
        t, _ = time_qemu(bare, 1)
        tf += t
    return stats(th), stats(tf), stats(guest) if guest else None


def bench_build(runs):
    tmp = tempfile.mkdtemp(prefix="lunik-bench-")
    try:
        app = os.path.join(tmp, "app")
        shutil.copytree(os.path.join(ROOT, "examples", "hello"), app)
        out = os.path.join(tmp, "app.elf")
        times = []
        for i in range(runs):
            with open(os.path.join(app, "main.lua"), "a") as f:
                f.write("-- change %d\n" % i)
            t0 = time.perf_counter()
            subprocess.run([LUNIK, "build", "-q", app, "-o", out], check=True)
            times.append(time.perf_counter() - t0)
        return stats(times)
    finally:
        shutil.rmtree(tmp)


def bench_clean():
    tmp = tempfile.mkdtemp(prefix="lunik-clean-")
    try:
        subprocess.run(["git", "clone", "-q", ROOT, tmp], check=True)
        t0 = time.perf_counter()
        subprocess.run(["make", "-C", tmp, "all"], check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp)


def fmt_ms(s):
    return "%.1f ms" % (s * 1e3)


def row(name, st, unit=fmt_ms):
    return "| %s | %s | %s | %s |" % (name, unit(st["median"]), unit(st["min"]),
                                      unit(st["max"]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--clean", action="store_true",
                   help="also time a clean build from a fresh clone")
    a = p.parse_args()

    lk = lunik_module()
    image = os.path.join(BUILD, "bench", "hello.elf")
    os.makedirs(os.path.dirname(image), exist_ok=True)
    lk.build_image(os.path.join(ROOT, "examples", "hello"), image)
    floor = os.path.join(BUILD, "floor.elf")

    res = {"date": time.strftime("%Y-%m-%d %H:%M:%S"),
           "host": {"cpus": os.cpu_count(), "kernel": platform.release()},
           "image_bytes": {"hello": os.path.getsize(image)}, "boot": {}}
    cpu, why = lk.kvm_state()
    if not cpu:
        print("bench: no KVM rows: %s" % why, flush=True)
        res["kvm_unusable"] = why
    accels = (["kvm"] if cpu else []) + ["tcg"]
    for accel in accels:
        print("bench: boot, %s, %d runs each" % (accel, a.runs), flush=True)
        h, f, g = bench_boot(lk, image, floor, accel, a.runs)
        res["boot"][accel] = {"hello_exec_to_exit": h, "floor_exec_to_exit": f,
                              "pvh_to_main": g,
                              "ratio": h["median"] / f["median"]}
    print("bench: lunik build after a one-line change", flush=True)
    res["build_script_change"] = bench_build(max(5, a.runs // 2))
    if a.clean:
        print("bench: clean build from a fresh clone", flush=True)
        res["clean_build_s"] = bench_clean()

    md = ["# lunik benchmark results", "",
          "Measured %s on %d CPUs (Linux %s), by `make bench`." % (
              res["date"], res["host"]["cpus"], res["host"]["kernel"]), "",
          "| row | median | min | max |", "| --- | --- | --- | --- |"]
    for accel, b in res["boot"].items():
        md.append(row("%s: QEMU exec -> exit, examples/hello sleep=0" % accel,
                      b["hello_exec_to_exit"]))
        md.append(row("%s: QEMU exec -> exit, floor (empty PVH kernel)" % accel,
                      b["floor_exec_to_exit"]))
        if b["pvh_to_main"]:
            md.append(row("%s: guest PVH entry -> main.lua" % accel,
                          b["pvh_to_main"], lambda s: "%.0f us" % (s * 1e6)))
    md.append(row("lunik build after a one-line change",
                  res["build_script_change"]))
    md += ["", "| figure | value |", "| --- | --- |",
           "| image size, examples/hello | %d bytes (%.0f KiB) |" % (
               res["image_bytes"]["hello"], res["image_bytes"]["hello"] / 1024)]
    for accel, b in res["boot"].items():
        md.append("| %s: hello / floor, exec -> exit | %.2fx (+%s) |" % (
            accel, b["ratio"], fmt_ms(b["hello_exec_to_exit"]["median"] -
                                      b["floor_exec_to_exit"]["median"])))
    if "kvm_unusable" in res:
        md.append("| KVM | not measured: %s |" % res["kvm_unusable"])
    if "clean_build_s" in res:
        md.append("| clean build, fresh clone, dependencies fetched | %.0f s |"
                  % res["clean_build_s"])
    text = "\n".join(md) + "\n"
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "latest.json"), "w") as f:
        json.dump(res, f, indent=2)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
