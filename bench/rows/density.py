"""Density: how many examples/api instances this machine runs at once,
each answering GET /healthz, against Linux microVMs (nginx + Lua,
bench/linuxvm.py) given the same memory.

Each instance is its own QEMU (1 vCPU, -m 128 MiB for both systems, user
networking with a port forwarded on 127.0.0.1). Instances start one after
another, each answering 200 before the next starts; a system stops at the
cap (200 instances; bench-quick: 8), when the QEMU processes' summed RSS
would pass 16 GiB, when the host's MemAvailable falls under 2 GiB (a
safety stop for the machine, not a property of the system measured), when
an instance fails (the reason is kept), or at its time bound. Then every
instance still running is asked again. Reported: instances reached, RSS per
QEMU process, the time to start them all.

What dominates (the notes give one instance's RSS by kind): for lunik,
QEMU itself (its code, heap and slirp, some 36 MiB) far above the guest
memory lunik touches (a few MiB) and TCG's translated code; for Linux,
the guest memory the kernel touches (most of the 128 MiB: kernel, page
cache of the initramfs, nginx), TCG's translated code for a whole kernel,
and the kernel and initramfs files QEMU keeps mapped (RSS counts them in
every process; they are shared through the page cache, which the PSS
figure accounts for; the uncompressed vmlinux, chosen for a 2 s boot
rather than the bzImage's 5 s under TCG, is 40 MiB of that RSS). Under TCG, idle guests cost little CPU, so memory,
not CPU, bounds the count.
"""

import os
import statistics
import subprocess
import time

import common
from common import figure, one, stats

MEM_MIB = 128
GUEST_PORT = 8080
CAP = 200
QUICK_CAP = 8
RSS_CAP_KIB = 16 << 20
MIN_AVAILABLE_KIB = 2 << 20
LINUX_NAME = "Linux microVM (nginx+Lua)"


def lunik_cmd(image, accel):
    lk = common.lunik()

    def cmd(port):
        devices = common.lunik_devices(port, GUEST_PORT)
        return lk.qemu_command(image, MEM_MIB << 20, accel,
                               ["port=%d" % GUEST_PORT, "log=warn"], devices)
    return cmd


def linux_cmd(info, accel):
    import linuxvm

    def cmd(port):
        net = common.user_net([(port, linuxvm.GUEST_HTTP_PORT)])
        return linuxvm.qemu_command(info, MEM_MIB, accel, net)
    return cmd


def start_one(make_cmd, deadline_s, console):
    """Starts one instance; returns (proc, port, seconds to the first 200)
    or (None, None, why not). A forward that lost its port to a race is
    retried once on another."""
    why = None
    for _ in range(2):
        port = common.free_port()
        out = open(console, "wb")
        t0 = time.perf_counter()
        p = common.spawn(make_cmd(port), stdout=out,
                         stderr=subprocess.STDOUT)
        out.close()
        url = "http://127.0.0.1:%d/healthz" % port
        t = common.wait_http(url, t0 + deadline_s, p, interval=0.05)
        if t is not None:
            return p, port, t - t0
        rc = p.poll()
        common.stop(p)
        why = ("QEMU exited %d before answering" % rc if rc is not None
               else "no answer within %d s" % deadline_s)
        with open(console, "rb") as f:
            if b"hostfwd" not in f.read()[-2000:]:
                break
    return None, None, why


def breakdown(pid):
    """Where one QEMU's RSS lies, in MiB: the guest's RAM (the anonymous
    mapping of -m's size), TCG's translated code (the rwx mapping), the
    image files QEMU keeps mapped (under build/), and QEMU itself."""
    parts = {"guest RAM": 0, "TCG code": 0, "mapped images": 0, "QEMU": 0}
    kind, size = "QEMU", 0
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                w = line.split()
                if not w[0].endswith(":") or "-" in w[0]:
                    perms = w[1]
                    path = w[5] if len(w) > 5 else ""
                    kind = ("TCG code" if "x" in perms and "w" in perms
                            else "mapped images" if path.startswith(
                                common.BUILD) else "anon" if not path
                            else "QEMU")
                elif w[0] == "Size:":
                    size = int(w[1])
                elif w[0] == "Rss:":
                    k = kind
                    if k == "anon":
                        k = "guest RAM" if size == MEM_MIB << 10 else "QEMU"
                    parts[k] += int(w[1]) / 1024
    except OSError:
        pass
    return parts


def recheck(running):
    """How many of running [(proc, port)] still answer 200."""
    ok = 0
    for p, port in running:
        for _ in range(3):
            status, _ = common.http_get("http://127.0.0.1:%d/healthz" % port,
                                        timeout=10)
            if status == 200:
                ok += 1
                break
            time.sleep(0.5)
    return ok


def run_system(label, make_cmd, cap, deadline_s, bound_s, work):
    """Starts instances of one system until a limit; returns what it
    reached, then stops them all."""
    running, starts, reason = [], [], "reached the cap of %d" % cap
    t_begin = time.monotonic()
    t_all = None
    try:
        for i in range(cap):
            if time.monotonic() - t_begin > bound_s:
                reason = "stopped by the row's time bound (%d s)" % bound_s
                break
            avail = common.mem_available_kib()
            if avail < MIN_AVAILABLE_KIB:
                reason = ("safety stop: MemAvailable %d MiB < 2 GiB"
                          % (avail >> 10))
                break
            rss = [common.rss_kib(p.pid) for p, _ in running]
            if rss and sum(rss) + max(rss) > RSS_CAP_KIB:
                reason = ("the next instance would take the QEMU RSS sum "
                          "(%d MiB) past 16 GiB" % (sum(rss) >> 10))
                break
            console = os.path.join(work, "console-%s-%d.log" % (label, i))
            p, port, t = start_one(make_cmd, deadline_s, console)
            if p is None:
                reason = "instance %d failed: %s" % (i + 1, t)
                common.log("density: %s %s" % (label, reason))
                break
            running.append((p, port))
            starts.append(t)
            t_all = time.monotonic() - t_begin
            if (i + 1) % 10 == 0:
                common.log("density: %s: %d instances, %d MiB RSS in all" % (
                    label, i + 1, sum(common.rss_kib(q.pid)
                                      for q, _ in running) >> 10))
        answering = recheck(running)
        rss = [common.rss_kib(p.pid) / 1024 for p, _ in running]
        pss = [common.pss_kib(p.pid) / 1024 for p, _ in running]
        parts = breakdown(running[0][0].pid) if running else None
    finally:
        for p, _ in running:
            common.stop(p, grace=2)
    common.log("density: %s: %d started, %d answering at the end; %s" % (
        label, len(running), answering, reason))
    return {"started": len(running), "answering": answering,
            "rss_mib": rss, "pss_mib": pss, "parts": parts, "starts": starts, "all_s": t_all,
            "reason": reason}


def run(ctx):
    accel = ctx.accels[0] if ctx.accels else "tcg"
    cap = QUICK_CAP if ctx.quick else CAP
    bound = 180 if ctx.quick else 900
    work = os.path.join(common.WORK, "density")
    os.makedirs(work, exist_ok=True)
    res, errs = {}, {}
    try:
        image = common.image(ctx, "api")
        res["lunik"] = run_system("lunik", lunik_cmd(image, accel), cap, 30,
                                  bound, work)
    except Exception as e:  # noqa: BLE001 -- a row reports, never crashes
        errs["lunik"] = "lunik failed: %s" % e
        common.log("density: " + errs["lunik"])
    try:
        import linuxvm
        info = linuxvm.ensure()
        res["linux"] = run_system("linux", linux_cmd(info, accel), cap, 120,
                                  bound, work)
    except Exception as e:  # noqa: BLE001
        errs["linux"] = "the Linux microVM failed: %s" % e
        common.log("density: " + errs["linux"])
    ctx.shared["density"] = {k: {"started": v["started"],
                                 "answering": v["answering"],
                                 "reason": v["reason"]}
                             for k, v in res.items()}
    return figures(res, errs, accel, cap)


def figures(res, errs, accel, cap):
    lk, lx = res.get("lunik"), res.get("linux")

    def why(key, r):
        if r is None:
            return errs.get(key, "not measured")
        return "%d started, %d still answering at the end; %s" % (
            r["started"], r["answering"], r["reason"])

    base = ("-m %d MiB each for both, 1 vCPU, %s, user networking; "
            "cap %d instances or 16 GiB of QEMU RSS; lunik: %s; Linux: %s"
            % (MEM_MIB, accel.upper(), cap, why("lunik", lk),
               why("linux", lx)))
    for key, r in (("lunik", lk), ("Linux", lx)):
        if r and r["rss_mib"] and r["reason"].startswith("reached the cap"):
            base += ("; %s stopped at the cap, not at a limit: at its median "
                     "RSS about %d would fit in 16 GiB" % (
                         key, (16 << 10) / statistics.median(r["rss_mib"])))
    count = figure("density", "instances running at once, each answering "
                   "GET /healthz", "instances",
                   one(lk and lk["answering"]), one(lx and lx["answering"]),
                   LINUX_NAME, better="higher", note=base + ". " + DOMINATES)
    rss = figure("density", "RSS per QEMU process with all instances up",
                 "MiB", stats(lk["rss_mib"]) if lk else None,
                 stats(lx["rss_mib"]) if lx else None, LINUX_NAME,
                 better="lower", note="median over the instances, min and "
                 "max; " + where(lk, lx) + "; " + base)
    pss = figure("density", "PSS per QEMU process (shared pages split)",
                 "MiB", stats(lk["pss_mib"]) if lk else None,
                 stats(lx["pss_mib"]) if lx else None, LINUX_NAME,
                 better="lower", note="the memory an instance really adds: "
                 "the image files QEMU maps and its own code are shared "
                 "among instances through the page cache; " + where(lk, lx))
    each = figure("density", "exec -> first 200 per instance, started "
                  "one after another", "s",
                  stats(lk["starts"]) if lk else None,
                  stats(lx["starts"]) if lx else None, LINUX_NAME,
                  better="lower", note="later instances start beside the "
                  "ones already running; " + base)
    total = figure("density", "time to start all instances", "s",
                   one(lk and lk["all_s"]), one(lx and lx["all_s"]),
                   LINUX_NAME, better="lower",
                   note="not the same number of instances when the counts "
                   "differ (see above); " + base)
    return [count, rss, pss, each, total]


def where(lk, lx):
    """One instance's RSS by kind, for the notes."""
    out = []
    for name, r in (("lunik", lk), ("Linux", lx)):
        if r and r["parts"]:
            out.append("%s: %s" % (name, ", ".join(
                "%s %.0f" % (k, v) for k, v in r["parts"].items())))
    return "RSS of one instance by kind, MiB: " + "; ".join(out)


DOMINATES = ("What bounds it: memory per instance (RSS by kind in the RSS "
             "figure's note), not CPU: idle guests cost little under TCG")
