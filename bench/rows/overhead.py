"""Overhead: what lunik's safety and visibility features cost in
keep-alive throughput, each measured on and off in the same run.

examples/api is booted twice over the tap path (bench/netns.py; wrk runs
inside the namespace), once as it ships and once with the feature turned
off by a boot argument, and wrk's keep-alive GETs of /healthz alternate
between the two (on, off, on, off, ...) so that drift of a shared machine
falls on both alike. The figure is req/s with the feature, beside req/s
without it: a ratio of 1.0 costs nothing.

Features: the watchdog (lunik.watchdog=0 turns it off; it costs one clock read
per task resume and an alarm at most once per limit); the metrics of
app:metrics() (examples/api's metrics=off leaves them out: per request, a
counter, a histogram observation and two gauge moves).

What dominates: TCG's emulation of the guest's CPU, as in the http row;
the difference between the two is the feature's own instructions.

req/s moves with whatever else the machine does, more than the 2 % and
5 % these features may cost. So each feature is also measured where load
cannot reach: the guest's instructions per request. The VM runs under
QEMU's -icount shift=0, where the guest's clock advances one nanosecond
per instruction it executes, and prints its status line
(lunik.status=1: requests so far and sys.cpu(), the time it did not
spend halted); instructions per request = the growth of the one over the
growth of the other across a wrk run. The same inputs give the same
figure on a busy machine and an idle one.
"""

import os
import re
import time
import traceback

import common
import netns
from common import figure, stats
import rows.http as http

PORT = 8080
FEATURES = [
    # (name, boot arguments that turn it off)
    ("watchdog", ["lunik.watchdog=0"]),
    ("metrics", ["metrics=off"]),
]


def _boot(image, accel, ns, extra, qemu_extra=()):
    args = ["port=%d" % PORT, "log=warn",
            "ip=%s/24" % http.LUNIK_IP, "gw=%s" % netns.HOST_IP] + extra
    devices = (["-global", "virtio-mmio.force-legacy=false"] + ns.netdev() +
               ["-device", "virtio-rng-device"] + list(qemu_extra))
    cmd = ns.wrap(common.lunik().qemu_command(image, http.MEM, accel, args,
                                              devices))
    url = "http://%s:%d%s" % (http.LUNIK_IP, PORT, http.HEALTH)
    return http._boot(cmd, [url], http.Client(ns), 60, LOG), url


STATUS = re.compile(rb"^status: up \d+s, cpu \d+% \(([\d.]+)s\), [\d.]+ req/s "
                    rb"\((\d+) requests\)", re.M)
LOG = "overhead.log"


def _status():
    """(cpu_seconds, requests) of the console's last status line."""
    with open(os.path.join(common.WORK, LOG), "rb") as f:
        lines = STATUS.findall(f.read())
    if not lines:
        raise RuntimeError("no status line on the console")
    return float(lines[-1][0]), int(lines[-1][1])


def _next_status(after, timeout=10):
    """The first status line whose request count passed after's."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cur = _status()
        if cur[1] > after[1]:
            return cur
        time.sleep(0.2)
    raise RuntimeError("no status line counting the run within %d s" % timeout)


def _insns(image, accel, ns, extra, plan):
    """One VM under -icount shift=0: guest instructions per keep-alive
    request over one wrk run, or {"error": why}."""
    p, url = _boot(image, accel, ns, extra + ["lunik.status=1"],
                   ["-icount", "shift=0,sleep=on"])
    try:
        client = http.Client(ns)
        http.wrk(client, url, 30, plan.warmup)
        time.sleep(1.2)
        before = _status()
        run = http.wrk(client, url, 30, plan.secs)
        if "error" in run:
            return run
        time.sleep(1.2)
        after = _next_status(before)
        n = after[1] - before[1]
        return {"insns_per_req": (after[0] - before[0]) * 1e9 / n,
                "requests": n}
    except (OSError, RuntimeError) as e:
        return {"error": str(e)}
    finally:
        common.stop(p)


def _series(image, accel, ns, off_args, plan):
    """{"on": [run], "off": [run]}, runs alternating, one VM at a time on
    the one tap (they share its address)."""
    client = http.Client(ns)
    out = {"on": [], "off": []}
    for _ in range(plan.runs):
        for which, extra in (("on", []), ("off", off_args)):
            p, url = _boot(image, accel, ns, extra)
            try:
                http.wrk(client, url, 30, plan.warmup)
                out[which].append(http.wrk(client, url, 30, plan.secs))
            finally:
                common.stop(p)
            if accel == "tcg":  # -icount is TCG's
                out.setdefault(which + "_insns", []).append(
                    _insns(image, accel, ns, extra, plan))
    return out


def run(ctx):
    plan = http.Plan(ctx.quick)
    figs = []
    try:
        ns = netns.Tap().__enter__()
    except Exception as e:  # noqa: BLE001 -- reported in the figures
        return [figure("overhead", name, "req/s", None,
                       note="not measured: no tap path: %s" % e)
                for name, _ in FEATURES]
    try:
        image = common.image(ctx, "api")
        raw = ctx.shared.setdefault("overhead_runs", {})
        for accel in ctx.accels:
            for name, off in FEATURES:
                label = "GET /healthz keep-alive, 30 conns, tap, %s on vs off" % name
                try:
                    res = _series(image, accel, ns, off, plan)
                except Exception as e:  # noqa: BLE001 -- a benchmark never fails
                    common.log("overhead: %s failed: %s\n%s" % (
                        name, e, traceback.format_exc()))
                    figs.append(figure("overhead", label, "req/s", None,
                                       note="not measured: %s" % e))
                    continue
                raw.setdefault(accel, {})[name] = res
                vals = {k: [r["rps"] for r in res[k] if "rps" in r]
                        for k in ("on", "off")}
                figs.append(figure(
                    "overhead", label + ("" if accel == "tcg" else " [kvm]"),
                    "req/s", stats(vals["on"]), stats(vals["off"]),
                    "%s off" % name, better="higher",
                    note="the same image with %s turned off (%s), runs "
                    "alternating" % (name, " ".join(off))))
                if accel != "tcg":
                    continue
                ins = {k: [r["insns_per_req"] for r in res.get(k + "_insns", [])
                           if "insns_per_req" in r] for k in ("on", "off")}
                figs.append(figure(
                    "overhead", "guest instructions per keep-alive GET /healthz, "
                    "%s on vs off (-icount)" % name, "insns",
                    stats(ins["on"]), stats(ins["off"]), "%s off" % name,
                    better="lower",
                    note="instructions the guest executed per request "
                    "(-icount shift=0, sys.cpu() over the status line's "
                    "request count); independent of the host's load"))
    finally:
        ns.close()
    return figs
