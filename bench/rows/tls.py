"""TLS: full handshakes per second, TLS 1.3 and TLS 1.2, lunik
(examples/https, mbedTLS 3.6) against the Linux microVM (nginx with
Debian 12's OpenSSL), alternating between the two within the run.

30 parallel `openssl s_time -new -tls1_3` (then `-tls1_2`) clients for
tls_secs each: a fresh session every connection, so each one costs the
server an ECDHE key exchange (X25519, what OpenSSL's client offers
first) and an ECDSA P-256 signature. Runs alternate lunik, Linux, lunik,
Linux (the order flipping every run), so that the load of a shared
machine falls on both alike: over user networking both VMs stay up side
by side (an idle guest costs little), over the tap only one VM can hold
the tap, so each run boots each VM in turn.

What dominates: the server's public-key arithmetic under TCG; on the user
path, slirp's connection set-up too.
"""

import traceback

import common
import rows.http as http
from common import figure, stats

VERSIONS = ("1.3", "1.2")
CLIENTS = http.HANDSHAKE_CLIENTS


def _rounds(client, hosts, secs):
    """{version: run} for one server: each version once."""
    return {v: http.handshakes(client, hosts["https"], CLIENTS, secs, v)
            for v in VERSIONS}


def _user(accel, images, info, runs, secs):
    """{"lunik": [{version: run}], "linux": [...]}, both VMs up at once."""
    client = http.Client(None)
    lcmd, lhosts = http._lunik_vm(images["https"], accel, "user", None,
                                  http.HTTPS_PORT, "https")
    xcmd, xhosts = http._linux_vm(info, accel, "user", None)
    xhosts = {"https": xhosts["https"]}
    out = {"lunik": [], "linux": []}
    lp = http._boot(lcmd, ["https://%s/healthz" % lhosts["https"]], client,
                    60, "tls-lunik-user.log")
    try:
        xp = http._boot(xcmd, ["https://%s/healthz" % xhosts["https"]],
                        client, 180, "tls-linux-user.log")
        try:
            for i in range(runs):
                order = [("lunik", lhosts), ("linux", xhosts)]
                for who, hosts in (order if i % 2 == 0 else order[::-1]):
                    out[who].append(_rounds(client, hosts, secs))
        finally:
            common.stop(xp)
    finally:
        common.stop(lp)
    return out


def _tap(accel, images, info, ns, runs, secs):
    """The same over the tap: one VM at a time, booted per run."""
    client = http.Client(ns)
    out = {"lunik": [], "linux": []}
    for i in range(runs):
        order = ["lunik", "linux"] if i % 2 == 0 else ["linux", "lunik"]
        for who in order:
            if who == "lunik":
                cmd, hosts = http._lunik_vm(images["https"], accel, "tap",
                                            ns, http.HTTPS_PORT, "https")
                timeout = 60
            else:
                cmd, hosts = http._linux_vm(info, accel, "tap", ns)
                timeout = 180
            p = http._boot(cmd, ["https://%s/healthz" % hosts["https"]],
                           client, timeout, "tls-%s-tap.log" % who)
            try:
                out[who].append(_rounds(client, hosts, secs))
            finally:
                common.stop(p)
    return out


def _figures(accel, path, res, secs):
    figs = []
    label = "%s (%s)" % (http.PATH_NAME[path], accel)
    for v in VERSIONS:
        mine = [r[v] for r in res.get("lunik", [])]
        theirs = [r[v] for r in res.get("linux", [])]
        errs = [r["error"] for r in mine + theirs if "error" in r]
        note = ("openssl s_time -new -tls%s, %d clients, %d s a run; runs "
                "alternate between lunik and the Linux microVM; %s" % (
                    v.replace(".", "_"), CLIENTS, secs, http.PATH_NOTE[path]))
        if res.get("error"):
            note += "; not measured: " + res["error"]
        if errs:
            note += "; " + errs[0]
        figs.append(figure(
            "tls", "full TLS %s handshakes/s, %d clients, %s" % (
                v, CLIENTS, label), "handshakes/s",
            stats([r.get("hps") for r in mine]),
            stats([r.get("hps") for r in theirs]),
            "Linux microVM (nginx+OpenSSL)", better="higher", note=note,
            group=accel))
    return figs


def run(ctx):
    runs, secs = (1, 3) if ctx.quick else (5, 10)
    figs = []
    try:
        images = http._images(ctx)
        if not images["https"]:
            raise RuntimeError(images["tls_why"])
        info, why = common.linux(ctx, tls=True)
        if info is None:
            raise RuntimeError(why)
    except Exception as e:  # noqa: BLE001 -- a benchmark never fails
        return [figure("tls", "full TLS handshakes/s", "handshakes/s", None,
                       note="not measured: %s" % e)]
    ns, ns_why = http._open_ns()
    try:
        for accel in ctx.accels:
            for path in ("user", "tap"):
                common.log("tls (%s): %s, %d runs" % (accel, path, runs))
                try:
                    if path == "tap":
                        if ns is None:
                            res = {"error": ns_why}
                        elif ctx.quick:
                            res = {"error": "skipped in bench-quick (a Linux "
                                   "boot a run under TCG is slow)"}
                        else:
                            res = _tap(accel, images, info, ns, runs, secs)
                    else:
                        res = _user(accel, images, info, runs, secs)
                except Exception as e:  # noqa: BLE001
                    common.log("tls: %s failed: %s\n%s" % (
                        path, e, traceback.format_exc()))
                    res = {"error": str(e)}
                figs += _figures(accel, path, res, secs)
    finally:
        if ns is not None:
            ns.close()
    return figs
