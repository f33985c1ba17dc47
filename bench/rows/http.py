"""HTTP: requests per second and latency of a Lua handler under load.

wrk sends keep-alive GETs of /healthz (a small JSON body from a Lua
handler) to examples/api booted by lunik, to nginx + Lua in a Linux
microVM (bench/linuxvm.py) and to the same nginx on the host (no VM).
Both VMs get 1 vCPU and 128 MiB, and are reached two ways: over a tap
device in a network namespace the harness makes (bench/netns.py; wrk
runs inside it), and through QEMU's user networking (slirp, a port
forwarded on 127.0.0.1). Per target and path: 5 back-to-back runs of
20 s at 30 and at 200 connections (bench-quick: one 3 s run at 30), each
after one unmeasured warm-up run; req/s, p50 and p99 latency, median with
the spread across runs.

HTTPS (examples/https, the same routes over TLS 1.3), 5 runs of 10 s
each: keep-alive GETs at 30 connections; and,
outside bench-quick, a new connection per request (wrk -H "Connection:
close"), which wrk resumes with the previous session's ticket, so it
measures abbreviated handshakes. Full handshakes per second are the tls
row's (bench/rows/tls.py), measured alternating between the servers.

What dominates: without KVM, TCG's emulation of the guest (QEMU's vCPU
thread keeps one of the host's two cores busy, and wrk, QEMU's I/O thread
and the host's network stack share the other); on the user path, slirp
terminating every TCP connection in QEMU's main loop and copying each
byte between the guest and a host socket; for TLS handshakes, the guest's
public-key arithmetic (X25519 ECDHE and ECDSA on P-256).
"""

import os
import re
import subprocess
import tempfile
import time
import traceback

import common
import netns
from common import figure, stats

MEM = 128 << 20
HTTP_PORT = 8080
HTTPS_PORT = 8443
HEALTH = "/healthz"
LUNIK_IP = "10.77.0.2"
LINUX_IP = "10.77.0.3"
LINUX_NAME = "Linux microVM (nginx+Lua)"
HOST_NAME = "host nginx+Lua (no VM)"
# wrk runs one thread (-t1) against every target. The host has 2 cores;
# under TCG QEMU's vCPU thread keeps one busy, so a second wrk thread would
# only take time from QEMU's I/O thread and the host's TCP stack on the
# other. One thread drives 200 connections with epoll, and the same client
# for every target keeps the comparison fair (host nginx included).
WRK_THREADS = 1
# Requests slower than wrk's default 2 s would be counted as timeouts and
# left out of the latency percentiles; 10 s keeps slow ones in the p99.
WRK_TIMEOUT = "10s"
TLS_CONNS = 30
# Concurrent s_time clients for full handshakes: each opens one connection
# at a time, so this is the number of handshakes in flight.
HANDSHAKE_CLIENTS = 30


class Plan:
    """How long and how often: the issue's numbers, or bench-quick's."""

    def __init__(self, quick):
        self.quick = quick
        self.runs = 1 if quick else 5
        self.secs = 3 if quick else 20
        self.tls_secs = 3 if quick else 10
        self.warmup = 1 if quick else 2
        self.conns = (30,) if quick else (30, 200)
        self.linux_paths = ("user",) if quick else ("user", "tap")
        self.resumed = not quick


class Client:
    """Where the load generator runs: on the host, or inside the netns."""

    def __init__(self, ns=None):
        self.ns = ns

    def wrap(self, argv):
        return self.ns.wrap(argv) if self.ns else list(argv)

    def call(self, fn, *args):
        return self.ns.call(fn, *args) if self.ns else fn(*args)


# ---------------------------------------------------------------- processes


def _run(argv, timeout):
    """Runs argv through common.spawn; (returncode, stdout, stderr) as
    text; raises RuntimeError when it outlives timeout."""
    p = common.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        name = argv[4] if argv[:3] == ["ip", "netns", "exec"] else argv[0]
        raise RuntimeError("%s: not done within %d s" % (name, timeout))
    finally:
        common.stop(p)
    return p.returncode, out.decode(errors="replace"), \
        err.decode(errors="replace")






def _boot(cmd, urls, client, timeout, logname):
    """Starts a VM (cmd) and waits until every url answers; returns the
    process, or raises RuntimeError with the console's tail."""
    path = os.path.join(common.WORK, logname)
    with open(path, "wb") as logf:
        p = common.spawn(cmd, stdout=logf, stderr=subprocess.STDOUT)
    deadline = time.perf_counter() + timeout
    for url in urls:
        if client.call(common.wait_http, url, deadline, p) is None:
            common.stop(p)
            with open(path, "rb") as f:
                tail = f.read()[-600:].decode(errors="replace")
            raise RuntimeError("%s did not answer within %d s; console: %s"
                               % (url, timeout, tail.strip()))
    return p


# ---------------------------------------------------------------- clients


def _ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4,
                           "h": 3.6e6}[unit]


def parse_wrk(text):
    """wrk --latency output -> {rps, p50_ms, p99_ms, requests, errors,
    non2xx}; None when there is no Requests/sec line."""
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not m:
        return None
    run = {"rps": float(m.group(1)), "p50_ms": None, "p99_ms": None,
           "requests": 0, "errors": 0, "non2xx": 0}
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m|h)\s*$" % pct, text,
                      re.M)
        if m:
            run[key] = _ms(m.group(1), m.group(2))
    m = re.search(r"(\d+) requests in", text)
    if m:
        run["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    if m:
        run["errors"] = sum(int(g) for g in m.groups())
        run["socket_errors"] = m.group(0)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        run["non2xx"] = int(m.group(1))
    return run


def wrk(client, url, conns, secs, extra=()):
    """One wrk run; its parse_wrk() dict, or {"error": why}."""
    argv = ["wrk", "-t%d" % WRK_THREADS, "-c%d" % conns, "-d%ds" % secs,
            "--timeout", WRK_TIMEOUT, "--latency"] + list(extra) + [url]
    try:
        rc, out, err = _run(client.wrap(argv), secs + 60)
    except (OSError, RuntimeError) as e:
        return {"error": str(e)}
    run = parse_wrk(out)
    if run is None:
        why = (err or out).strip()[-300:]
        return {"error": "wrk exited %d: %s" % (rc, why)}
    if not run["requests"]:
        return {"error": "no request answered in %d s (%s)" % (
            secs, run.get("socket_errors", "no socket errors"))}
    return run


def handshakes(client, hostport, clients, secs, version):
    """Full TLS handshakes per second at version ("1.2" or "1.3"):
    clients parallel `openssl s_time -new` loops for secs; each one's
    connections over its own wall time, summed. {"hps": ...,
    "connections": ...} or {"error": why}."""
    argv = client.wrap(["openssl", "s_time", "-connect", hostport, "-new",
                        "-tls" + version.replace(".", "_"),
                        "-time", str(secs)])
    procs = []
    try:
        for _ in range(clients):
            out = tempfile.TemporaryFile()
            procs.append((common.spawn(argv, stdout=out,
                                       stderr=subprocess.STDOUT), out))
        t0 = time.perf_counter()
        ends = {}
        while len(ends) < len(procs) and time.perf_counter() < t0 + secs + 60:
            for p, _ in procs:
                if p not in ends and p.poll() is not None:
                    ends[p] = time.perf_counter()
            time.sleep(0.02)
        hps, total, bad = 0.0, 0, []
        for p, out in procs:
            out.seek(0)
            text = out.read().decode(errors="replace")
            m = re.search(r"(\d+) connections in \d+ real seconds", text)
            if p not in ends or not m:
                bad.append(text.strip()[-200:] or "no output")
                continue
            total += int(m.group(1))
            hps += int(m.group(1)) / max(ends[p] - t0, 1e-3)
        if bad and not total:
            return {"error": "openssl s_time: " + bad[0]}
        run = {"hps": hps, "connections": total}
        if bad:
            run["failed_clients"] = len(bad)
        return run
    finally:
        for p, out in procs:
            common.stop(p, grace=1)
            out.close()


# ---------------------------------------------------------------- series


def http_series(client, url, plan):
    """{conns: [run]} for plan.conns, after a warm-up run."""
    wrk(client, url, min(plan.conns), plan.warmup)
    return {str(c): [wrk(client, url, c, plan.secs) for _ in range(plan.runs)]
            for c in plan.conns}


def https_series(client, url, hostport, plan):
    """{"keepalive": [run], "resumed": [run]} (full handshakes are the
    tls row's, measured alternating between the servers)."""
    wrk(client, url, TLS_CONNS, plan.warmup)
    out = {"keepalive": [wrk(client, url, TLS_CONNS, plan.tls_secs)
                         for _ in range(plan.runs)]}
    if plan.resumed:
        out["resumed"] = [wrk(client, url, TLS_CONNS, plan.tls_secs,
                              ["-H", "Connection: close"])
                          for _ in range(plan.runs)]
    return out


# ---------------------------------------------------------------- targets


def _images(ctx):
    """{"api": path, "https": path or None, "certs": (pem, key) or None,
    "tls_why": why HTTPS is missing}."""
    out = {"api": common.image(ctx, "api"), "https": None, "certs": None,
           "tls_why": None}
    try:
        out["certs"] = common.certs()
        out["https"] = common.image(ctx, "https")
    except Exception as e:  # noqa: BLE001 -- reported in the figures
        out["tls_why"] = "examples/https not built: %s" % e
        common.log("http: " + out["tls_why"])
    return out


def _lunik_vm(image, accel, path, ns, port, scheme):
    """(argv, {scheme: "host:port"}) for lunik serving image on port."""
    args = ["port=%d" % port, "log=warn"]
    if path == "tap":
        args += ["ip=%s/24" % LUNIK_IP, "gw=%s" % netns.HOST_IP]
        net, where = ns.netdev(), "%s:%d" % (LUNIK_IP, port)
    else:
        hport = common.free_port()
        net, where = common.user_net([(hport, port)]), "127.0.0.1:%d" % hport
    devices = (["-global", "virtio-mmio.force-legacy=false"] + net +
               ["-device", "virtio-rng-device"])
    cmd = common.lunik().qemu_command(image, MEM, accel, args, devices)
    return (ns.wrap(cmd) if path == "tap" else cmd), {scheme: where}


def _linux_vm(info, accel, path, ns):
    """(argv, {scheme: "host:port"}) for the Linux microVM (HTTPS too when
    its initramfs has certificates)."""
    import linuxvm
    ports = {"http": linuxvm.GUEST_HTTP_PORT}
    if info.get("tls"):
        ports["https"] = linuxvm.GUEST_HTTPS_PORT
    if path == "tap":
        cmd = ns.wrap(linuxvm.qemu_command(
            info, MEM >> 20, accel, ns.netdev(), ip="%s/24" % LINUX_IP,
            gw=netns.HOST_IP))
        return cmd, {s: "%s:%d" % (LINUX_IP, p) for s, p in ports.items()}
    fwd = {s: (common.free_port(), p) for s, p in ports.items()}
    cmd = linuxvm.qemu_command(info, MEM >> 20, accel,
                               common.user_net(list(fwd.values())))
    return cmd, {s: "127.0.0.1:%d" % f[0] for s, f in fwd.items()}


def _measure(client, hosts, plan):
    """The series for each scheme in hosts against a running server."""
    out = {}
    if "http" in hosts:
        out["http"] = http_series(client, "http://%s%s" % (hosts["http"],
                                                           HEALTH), plan)
    if "https" in hosts:
        out["https"] = https_series(client, "https://%s%s" % (
            hosts["https"], HEALTH), hosts["https"], plan)
    return out


def _vm(cmd, hosts, client, plan, timeout, logname):
    """Boots a VM, measures it, stops it."""
    urls = ["%s://%s%s" % (s, h, HEALTH) for s, h in hosts.items()]
    try:
        p = _boot(cmd, urls, client, timeout, logname)
    except RuntimeError as e:
        # once more: a shared machine can starve one boot
        common.log("http: %s; booting once more" % e)
        p = _boot(cmd, urls, client, timeout, logname)
    try:
        return _measure(client, hosts, plan)
    finally:
        common.stop(p)


def _guarded(what, fn, kinds):
    """fn()'s {kind: series}; on failure {kind: {"error": why}} for each
    of kinds, logged with its traceback."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 -- a benchmark never fails
        common.log("http: %s failed: %s\n%s" % (what, e,
                                                traceback.format_exc()))
        return {k: {"error": "%s: %s" % (what, e)} for k in kinds}


def _lunik_path(accel, path, ns, images, plan):
    """{"http": series, "https": series} for lunik on path."""
    client = Client(ns if path == "tap" else None)
    out = {}
    cmd, hosts = _lunik_vm(images["api"], accel, path, ns, HTTP_PORT, "http")
    common.log("http (%s): lunik, %s, HTTP" % (accel, path))
    out.update(_guarded("lunik %s" % path, lambda: _vm(
        cmd, hosts, client, plan, 60, "http-lunik-%s.log" % path), ["http"]))
    if not images["https"]:
        out["https"] = {"error": images["tls_why"]}
        return out
    cmd, hosts = _lunik_vm(images["https"], accel, path, ns, HTTPS_PORT,
                           "https")
    common.log("http (%s): lunik, %s, HTTPS" % (accel, path))
    out.update(_guarded("lunik https %s" % path, lambda: _vm(
        cmd, hosts, client, plan, 60, "http-lunik-tls-%s.log" % path),
        ["https"]))
    return out


def _linux_path(accel, path, ns, info, plan):
    client = Client(ns if path == "tap" else None)
    cmd, hosts = _linux_vm(info, accel, path, ns)
    common.log("http (%s): Linux microVM, %s" % (accel, path))
    # a Linux boot under TCG takes seconds to tens of seconds
    return _guarded("Linux microVM %s" % path, lambda: _vm(
        cmd, hosts, client, plan, 180, "http-linux-%s.log" % path),
        list(hosts))


def _host(images, plan):
    """The host nginx's series (no VM, 127.0.0.1)."""
    import linuxvm
    certs = images["certs"]
    port = common.free_port()
    tport = common.free_port() if certs else None
    hosts = {"http": "127.0.0.1:%d" % port}
    if tport:
        hosts["https"] = "127.0.0.1:%d" % tport
    common.log("http: host nginx")
    with linuxvm.host_nginx(port, tport, certs):
        return _measure(Client(None), hosts, plan)


# ---------------------------------------------------------------- figures


PATH_NAME = {"tap": "tap", "user": "user-net", "local": "127.0.0.1"}
PATH_NOTE = {
    "tap": "wrk inside the harness's network namespace, to the guest over "
           "a tap device (each packet crosses /dev/net/tun and QEMU's I/O "
           "thread)",
    "user": "wrk on the host, to a port forwarded by QEMU's user "
            "networking: slirp ends each TCP connection in QEMU's main "
            "loop and copies every byte between the guest and a host socket",
}
ACCEL_NOTE = {
    "tcg": "TCG emulates every guest instruction, so the guest's CPU is the "
           "limit: QEMU's vCPU thread keeps one of the host's 2 cores busy; "
           "wrk, QEMU's I/O and the host's TCP stack share the other",
    "kvm": "KVM runs the guest natively; wrk, the vCPU thread and QEMU's "
           "I/O share the host's 2 cores",
}
HOST_NOTE = ("host nginx (1 worker) runs natively on 127.0.0.1: no VM, no "
             "emulation, loopback TCP; the gap is what the VM, its "
             "emulation and its network path cost")


def _runs(series):
    """The list of runs in a series entry, [] when it failed."""
    return series if isinstance(series, list) else []


def _pick(series, *keys):
    """series[k1][k2]...: the runs, or the error string."""
    for k in keys:
        if not isinstance(series, dict):
            return None
        if "error" in series:
            return series["error"]
        series = series.get(k)
    return series


def _values(runs, key):
    return [r[key] for r in _runs(runs) if r.get(key) is not None]


def _problems(who, runs):
    """What went wrong in runs, for a note ("" when nothing)."""
    if runs is None:
        return "%s: not measured" % who
    if isinstance(runs, str):
        return "%s: not measured (%s)" % (who, runs)
    bits = []
    failed = [r["error"] for r in runs if "error" in r]
    if failed:
        bits.append("%d of %d runs failed (%s)" % (len(failed), len(runs),
                                                    failed[0][:200]))
    errs = sum(r.get("errors", 0) for r in runs)
    non2xx = sum(r.get("non2xx", 0) for r in runs)
    lost = sum(r.get("failed_clients", 0) for r in runs)
    if errs or non2xx:
        bits.append("%d socket errors and %d non-2xx responses over %d "
                    "requests (those runs still count)" % (
                        errs, non2xx, sum(r.get("requests", 0) for r in runs)))
    if lost:
        bits.append("%d s_time clients gave no count" % lost)
    return "%s: %s" % (who, "; ".join(bits)) if bits else ""


METRICS = [("rps", "req/s", "higher", ""), ("p50_ms", "ms", "lower", " p50"),
           ("p99_ms", "ms", "lower", " p99")]


def _trio(name, group, mine, theirs, base_name, note):
    """req/s, p50 and p99 figures for one configuration."""
    extra = "; ".join(x for x in (_problems("lunik", mine),
                                  _problems(base_name, theirs)) if x)
    full = note + ("; " + extra if extra else "")
    return [figure("http", name + suffix, unit, stats(_values(mine, key)),
                   stats(_values(theirs, key)), base_name, better=better,
                   note=full, group=group)
            for key, unit, better, suffix in METRICS]


def _one(name, group, key, unit, mine, theirs, base_name, note):
    extra = "; ".join(x for x in (_problems("lunik", mine),
                                  _problems(base_name, theirs)) if x)
    return figure("http", name, unit, stats(_values(mine, key)),
                  stats(_values(theirs, key)), base_name, better="higher",
                  note=note + ("; " + extra if extra else ""), group=group)


def _tls_figures(group, label, mine, theirs, base_name, note, plan):
    figs = _trio("GET /healthz over TLS keep-alive, %d conns, %s" % (
        TLS_CONNS, label), group, _pick(mine, "https", "keepalive"),
        _pick(theirs, "https", "keepalive"), base_name,
        note + "; each %d s run opens its %d connections afresh, so it "
        "starts with %d full handshakes (about a second of guest CPU under "
        "TCG)" % (plan.tls_secs, TLS_CONNS, TLS_CONNS))
    if plan.resumed:
        figs.append(_one(
            "GET /healthz over TLS, new connection per request, %d conns, "
            "%s" % (TLS_CONNS, label), group, "rps", "req/s",
            _pick(mine, "https", "resumed"), _pick(theirs, "https", "resumed"),
            base_name, note + "; wrk -H 'Connection: close' resumes each "
            "connection with the last session ticket: abbreviated "
            "handshakes, a TCP connect and close per request"))
    return figs


def _figures(accel, res, host, plan):
    """Figures for one accelerator: lunik vs Linux per path, then lunik
    (tap when measured, else user-net) vs the host nginx."""
    figs = []
    for path in ("tap", "user"):
        mine, theirs = res["lunik"].get(path), res["linux"].get(path)
        label = "%s (%s)" % (PATH_NAME[path], accel)
        if path == "tap" and "error" in mine:
            figs.append(figure("http", "GET /healthz, %s" % label, "req/s",
                               None, note="tap rows skipped: " +
                               mine["error"], group=accel))
            continue
        note = "%s; %s" % (PATH_NOTE[path], ACCEL_NOTE.get(accel, accel))
        for c in plan.conns:
            figs += _trio("GET /healthz keep-alive, %d conns, %s" % (c, label),
                          accel, _pick(mine, "http", str(c)),
                          _pick(theirs, "http", str(c)), LINUX_NAME, note)
        figs += _tls_figures(accel, label, mine, theirs, LINUX_NAME, note,
                             plan)
    path = "tap" if _runs(_pick(res["lunik"].get("tap"), "http",
                                str(plan.conns[0]))) else "user"
    mine = res["lunik"].get(path)
    label = "lunik %s (%s) vs host" % (PATH_NAME[path], accel)
    note = "%s; lunik: %s; %s" % (HOST_NOTE, PATH_NOTE[path],
                                  ACCEL_NOTE.get(accel, accel))
    for c in plan.conns:
        figs += _trio("GET /healthz keep-alive, %d conns, %s" % (c, label),
                      accel, _pick(mine, "http", str(c)),
                      _pick(host, "http", str(c)), HOST_NAME, note)
    figs += _tls_figures(accel, label, mine, host, HOST_NAME, note, plan)
    return figs


# ---------------------------------------------------------------- run


def _measure_accel(accel, ns, ns_why, images, linux, linux_why, plan):
    """{"lunik": {path: {kind: series}}, "linux": {...}} for accel."""
    res = {"lunik": {}, "linux": {}}
    for path in ("tap", "user"):
        if path == "tap" and ns is None:
            res["lunik"][path] = res["linux"][path] = {"error": ns_why}
            continue
        res["lunik"][path] = _lunik_path(accel, path, ns, images, plan)
        if linux is None:
            res["linux"][path] = {"error": linux_why}
        elif path not in plan.linux_paths:
            res["linux"][path] = {"error": "skipped in bench-quick (a "
                                  "Linux boot under TCG is slow)"}
        else:
            res["linux"][path] = _linux_path(accel, path, ns, linux, plan)
    return res


def _open_ns():
    """(netns.Tap entered, None) or (None, why the tap rows are skipped)."""
    ns = netns.Tap()
    try:
        return ns.__enter__(), None
    except Exception as e:  # noqa: BLE001 -- reported in the figures
        why = "no tap path: %s" % e
        common.log("http: " + why)
        return None, why


def run(ctx):
    try:
        return _run_row(ctx)
    except Exception as e:  # noqa: BLE001 -- a benchmark never fails
        common.log("http: row failed: %s\n%s" % (e, traceback.format_exc()))
        return [figure("http", "GET /healthz", "req/s", None,
                       note="not measured: %s" % e)]


def _run_row(ctx):
    plan = Plan(ctx.quick)
    images = _images(ctx)
    linux, linux_why = common.linux(ctx, tls=bool(images["certs"]))
    if linux is None and images["certs"]:
        # without HTTPS, the plain HTTP baseline may still be had
        linux, linux_why = common.linux(ctx)
    raw = ctx.shared.setdefault("http_runs", {})
    raw["plan"] = {"runs": plan.runs, "secs": plan.secs,
                   "tls_secs": plan.tls_secs, "conns": list(plan.conns),
                   "wrk_threads": WRK_THREADS, "tls_conns": TLS_CONNS,
                   "handshake_clients": HANDSHAKE_CLIENTS}
    try:
        raw["host"] = _host(images, plan) if linux else {"error": linux_why}
    except Exception as e:  # noqa: BLE001 -- a benchmark never fails
        common.log("http: host nginx failed: %s\n%s" % (
            e, traceback.format_exc()))
        raw["host"] = {"error": "host nginx: %s" % e}
    figs = []
    ns, ns_why = _open_ns()
    try:
        for accel in ctx.accels:
            raw[accel] = _measure_accel(accel, ns, ns_why, images, linux,
                                        linux_why, plan)
            figs += _figures(accel, raw[accel], raw["host"], plan)
    finally:
        if ns:
            ns.close()
    return figs
