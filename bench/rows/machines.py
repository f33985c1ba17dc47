"""Machines: the same examples/api image on QEMU's q35 and pc (virtio-pci
devices, booted through SeaBIOS's PVH path) beside microvm (virtio-mmio,
no firmware), the default.

Two figures per machine, microvm as the baseline, in the same run:
  - QEMU exec -> first HTTP 200 from examples/api (user networking, a
    host client polling the forwarded port), runs alternating between the
    machines so drift of a shared machine falls on all alike;
  - keep-alive GET /healthz, 30 connections, wrk on the host through the
    user-networking forward (bench-quick: 1 run of 3 s; else 3 of 10 s).

What dominates: on q35 and pc the firmware (SeaBIOS, its option ROM
scan and the PCI set-up) before the PVH entry; in the guest, TCG's
emulation, which does not care which transport carries the frames.
"""

import subprocess
import time
import types

import common
import rows.boot as boot
import rows.http as http
from common import figure, stats

MEM = 128 << 20
MACHINES = ("q35", "pc")


def _machine(name):
    common.lunik()  # puts tools/ on the path
    from lunikcli import machines
    return machines.machine(name)


def _command(api, accel, machine, port):
    lk = common.lunik()
    m = _machine(machine)
    devices = lk.device_args(types.SimpleNamespace(
        net="user", publish=["%d:8080" % port], disk=[], no_rng=False,
        x_qemu=[]), m)
    return lk.qemu_command(api, MEM, accel, ["port=8080", "log=warn"],
                           devices, m)


def _keepalive(cmd, port, plan_runs, secs):
    p = common.spawn(cmd, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    try:
        url = "http://127.0.0.1:%d/healthz" % port
        if common.wait_http(url, time.perf_counter() + 90, proc=p) is None:
            return [{"error": "never answered"}]
        client = http.Client()
        http.wrk(client, url, 30, 1)  # warm-up
        return [http.wrk(client, url, 30, secs) for _ in range(plan_runs)]
    finally:
        common.stop(p)


def run(ctx):
    api = common.image(ctx, "api")
    boots = 3 if ctx.quick else 10
    runs, secs = (1, 3) if ctx.quick else (3, 10)
    figs = []
    for accel in ctx.accels:
        names = ("microvm",) + MACHINES
        t = {m: [] for m in names}
        common.log("machines (%s): exec -> first 200, %d runs each"
                   % (accel, boots))
        for _ in range(boots):
            for m in names:
                port = common.free_port()
                t[m].append(boot.exec_to_200(_command(api, accel, m, port),
                                              port, 90))
        rps = {}
        for m in names:
            common.log("machines (%s): keep-alive on %s" % (accel, m))
            port = common.free_port()
            rps[m] = _keepalive(_command(api, accel, m, port), port, runs,
                                secs)
        base_boot = common.scaled(stats(t["microvm"]), 1e3)
        base_rps = stats([r.get("rps") for r in rps["microvm"]])
        for m in MACHINES:
            lost = sum(1 for x in t[m] if x is None)
            figs.append(figure(
                "machines", "QEMU exec -> first HTTP 200, examples/api, "
                "%s (%s)" % (m, accel), "ms", common.scaled(stats(t[m]), 1e3),
                base_boot, "microvm", note="the firmware (SeaBIOS) runs "
                "before the PVH entry on %s; microvm has none%s" % (
                    m, "; %d boots never answered" % lost if lost else ""),
                group=accel))
            errs = [r["error"] for r in rps[m] if "error" in r]
            figs.append(figure(
                "machines", "GET /healthz keep-alive, 30 conns, user-net, "
                "%s (%s)" % (m, accel), "req/s",
                stats([r.get("rps") for r in rps[m]]), base_rps, "microvm",
                better="higher", note="virtio-pci beside virtio-mmio; wrk "
                "on the host%s" % ("; " + errs[0] if errs else ""),
                group=accel))
    return figs
