"""Boot: how long from QEMU's exec to something useful.

  - QEMU exec -> guest exit, examples/hello (sleep=0) against the floor, an
    empty PVH kernel that exits at once (bench/floor.S): the difference is
    what lunik's boot costs on top of the VMM.
  - QEMU exec -> first HTTP 200 from examples/api, a host client polling
    the forwarded port, against the Linux microVM (nginx + Lua) on the same
    QEMU, memory and network path.
  - Guest PVH entry -> first line of main.lua, from the boot timeline
    (sys.boot_timeline()), with its biggest phases.

Each under KVM (when it runs guests natively here) and TCG; runs alternate
between lunik and its baseline so drift on a noisy machine hits both alike.
What dominates: the QEMU process start (the floor) for hello; for the first
200, the polling client and user networking's port forward, then the boot.
"""

import os
import re
import subprocess
import time

import common
from common import figure, stats

MEM = 128 << 20


def _exec_to_exit(cmd):
    """Wall seconds from exec to exit, and the console output; None when
    the guest did not exit 0 (QEMU status 3)."""
    t0 = time.perf_counter()
    try:
        r = common.run_cmd(cmd, timeout=120, capture_output=True)
    except subprocess.TimeoutExpired:
        return None, ""
    t = time.perf_counter() - t0
    out = r.stdout.decode(errors="replace")
    if r.returncode != 3:
        common.log("boot: %s exited %d: %s" % (cmd[-1], r.returncode,
                                               out[-300:]))
        return None, out
    return t, out


def _timeline(out):
    """{phase: us} from the timeline app's output (lines "name<TAB>us")."""
    phases = {}
    for line in out.splitlines():
        m = re.fullmatch(r"([\w.]+)\t([\d.]+)", line.strip())
        if m:
            phases[m.group(1)] = float(m.group(2))
    return phases


TIMELINE_APP = """\
-- bench: the boot timeline, one phase a line, then exit
local sys = require "sys"
for _, p in ipairs(sys.boot_timeline()) do print(p.name .. "\\t" .. p.us) end
"""


def _images(ctx):
    lk = common.lunik()
    os.makedirs(common.WORK, exist_ok=True)
    hello = os.path.join(common.WORK, "hello.elf")
    lk.build_image(os.path.join(common.ROOT, "examples", "hello"), hello)
    tl_dir = os.path.join(common.WORK, "timeline")
    os.makedirs(tl_dir, exist_ok=True)
    with open(os.path.join(tl_dir, "main.lua"), "w") as f:
        f.write(TIMELINE_APP)
    timeline = os.path.join(common.WORK, "timeline.elf")
    lk.build_image(tl_dir, timeline)
    return hello, timeline, common.image(ctx, "api")


def exec_to_200(cmd, port, deadline_s):
    """Seconds from exec to the first 200 on 127.0.0.1:port/healthz."""
    url = "http://127.0.0.1:%d/healthz" % port
    t0 = time.perf_counter()
    p = common.spawn(cmd, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    try:
        t = common.wait_http(url, t0 + deadline_s, proc=p)
        return None if t is None else t - t0
    finally:
        common.stop(p)






def _hello_vs_floor(ctx, accel, runs):
    lk = common.lunik()
    hello, timeline, _ = _images(ctx)
    floor = os.path.join(common.BUILD, "floor.elf")
    h_cmd = lk.qemu_command(hello, MEM, accel, ["sleep=0"])
    f_cmd = lk.qemu_command(floor, MEM, accel, [])
    t_cmd = lk.qemu_command(timeline, MEM, accel, [])
    th, tf, main, phases = [], [], [], []
    for _ in range(runs):
        th.append(_exec_to_exit(h_cmd)[0])
        tf.append(_exec_to_exit(f_cmd)[0])
        _, out = _exec_to_exit(t_cmd)
        tl = _timeline(out)
        if "main.lua" in tl:
            main.append(tl["main.lua"] / 1e3)
            phases.append(tl)
    h, f = stats(th), stats(tf)
    figs = [figure("boot", "QEMU exec -> exit, examples/hello (%s; target "
                   "<= 1.25x)" % accel,
                   "ms", common.scaled(h, 1e3), common.scaled(f, 1e3),
                   "floor: empty PVH kernel",
                   note="the floor is what the VMM alone costs (QEMU start, "
                   "microvm set-up, PVH load); lunik adds the difference",
                   group=accel)]
    figs.append(figure("boot", "guest PVH entry -> main.lua (%s; target "
                       "<= 5 ms)" % accel,
                       "ms", stats(main), note=_phase_note(phases),
                       group=accel))
    return figs




def _phase_note(timelines):
    """The three longest phases of the median timeline, for the note."""
    if not timelines:
        return "no timeline: the timeline image did not run"
    names = list(timelines[0].keys())
    deltas = {}
    for i in range(1, len(names)):
        ds = [t[names[i]] - t[names[i - 1]] for t in timelines
              if names[i] in t and names[i - 1] in t]
        if ds:
            deltas[names[i]] = stats(ds)["median"] / 1e3
    top = sorted(deltas.items(), key=lambda kv: -kv[1])[:3]
    return "longest phases (to the end of each): " + ", ".join(
        "%s %.1f ms" % kv for kv in top)


def _api_vs_linux(ctx, accel, runs, linux_runs):
    lk = common.lunik()
    _, _, api = _images(ctx)
    info, why = common.linux(ctx)
    tl, tx, tf = [], [], []
    floor = lk.qemu_command(os.path.join(common.BUILD, "floor.elf"), MEM,
                            accel, [])
    port = common.free_port()
    devices = common.lunik_devices(port, 8080)
    l_cmd = lk.qemu_command(api, MEM, accel, ["port=8080", "log=warn"],
                            devices)
    x_cmd = None
    if info:
        import linuxvm
        xport = common.free_port()
        x_cmd = (xport, linuxvm.qemu_command(
            info, MEM >> 20, accel,
            common.user_net([(xport, linuxvm.GUEST_HTTP_PORT)])))
    for i in range(runs):
        tl.append(exec_to_200(l_cmd, port, 60))
        tf.append(_exec_to_exit(floor)[0])
        if x_cmd and i < linux_runs:
            tx.append(exec_to_200(x_cmd[1], x_cmd[0], 180))
    lost = [n for n, ts in (("lunik", tl), ("Linux", tx))
            if any(t is None for t in ts)]
    note = ("a client polls the forwarded port every 2 ms; both VMs use "
            "user networking, 128 MiB, 1 vCPU")
    if x_cmd and linux_runs < runs:
        note += "; Linux runs: %d" % linux_runs
    if lost:
        note += "; some boots never answered (%s)" % ", ".join(lost)
    if why:
        note += "; " + why
    return [figure("boot", "QEMU exec -> first HTTP 200, examples/api (%s)"
                   % accel, "ms", common.scaled(stats(tl), 1e3),
                   common.scaled(stats(tx), 1e3),
                   "Linux microVM (nginx+Lua)", note=note, group=accel),
            figure("boot", "QEMU exec -> first HTTP 200, examples/api, "
                   "against the floor's exec -> exit (%s; target <= 1.5x)"
                   % accel, "ms", common.scaled(stats(tl), 1e3),
                   common.scaled(stats(tf), 1e3), "floor: empty PVH kernel",
                   note="the floor's runs alternate with lunik's",
                   group=accel)]


def run(ctx):
    runs = 5 if ctx.quick else 20
    figs = []
    for accel in ctx.accels:
        common.log("boot (%s): hello vs floor, %d runs" % (accel, runs))
        figs += _hello_vs_floor(ctx, accel, runs)
        # Linux boots take seconds under TCG; the quick run keeps to two
        linux_runs = 2 if ctx.quick else runs
        common.log("boot (%s): api vs Linux microVM, first 200, %d runs"
                   % (accel, runs))
        figs += _api_vs_linux(ctx, accel, 3 if ctx.quick else runs,
                              linux_runs)
    if ctx.kvm_why:
        figs.append(figure("boot", "KVM rows", "", None,
                           note="not measured: " + ctx.kvm_why))
    return figs
