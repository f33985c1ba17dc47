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
"""

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


def _boot(image, accel, ns, extra):
    args = ["port=%d" % PORT, "log=warn",
            "ip=%s/24" % http.LUNIK_IP, "gw=%s" % netns.HOST_IP] + extra
    devices = (["-global", "virtio-mmio.force-legacy=false"] + ns.netdev() +
               ["-device", "virtio-rng-device"])
    cmd = ns.wrap(common.lunik().qemu_command(image, http.MEM, accel, args,
                                              devices))
    url = "http://%s:%d%s" % (http.LUNIK_IP, PORT, http.HEALTH)
    return http._boot(cmd, [url], http.Client(ns), 60, "overhead.log"), url


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
                vals = {k: [r["rps"] for r in v if "rps" in r]
                        for k, v in res.items()}
                figs.append(figure(
                    "overhead", label + ("" if accel == "tcg" else " [kvm]"),
                    "req/s", stats(vals["on"]), stats(vals["off"]),
                    "%s off" % name, better="higher",
                    note="the same image with %s turned off (%s), runs "
                    "alternating" % (name, " ".join(off))))
    finally:
        ns.close()
    return figs
