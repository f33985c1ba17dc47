"""bench/common.py -- what every row of the benchmark shares.

A row module (bench/rows/*.py) has one function, run(ctx), that returns a
list of figures (figure() below). The harness (bench/run.py) collects them
and writes the report (bench/report.py). Nothing here fails a test: a row
that cannot measure something says so in a figure's note.

Every process a row starts goes through spawn(), so that it dies with the
harness (PR_SET_PDEATHSIG) and is stopped at exit (stop_all()) even when a
row raises.
"""

import atexit
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")
WORK = os.path.join(BUILD, "bench")       # images, initramfs, scratch
LUNIK = os.path.join(ROOT, "tools", "lunik")


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


_lunik = None


def lunik():
    """The lunik command's modules (tools/lunikcli) as one namespace:
    build_image, qemu_command, kvm_state, device_args, run_tool,
    elf_section, bundle."""
    global _lunik
    if _lunik is None:
        import types
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        from lunikcli import bundle, devices, image, kvm, qemu, rom
        _lunik = types.SimpleNamespace(
            build_image=image.build_image, run_tool=image.run_tool,
            qemu_command=qemu.command, kvm_state=kvm.state,
            device_args=devices.device_args, elf_section=rom.elf_section,
            image=image, bundle=bundle)
    return _lunik


# ---------------------------------------------------------------- figures


def stats(xs):
    """Median, min and max of a list of samples (None when empty)."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "runs": len(xs)}


def one(x):
    """A single measurement as stats()."""
    return None if x is None else stats([x])


def figure(row, name, unit, lunik, base=None, base_name=None, better="lower",
           note=None, group=None):
    """One line of the report: lunik's stats beside a baseline's, and the
    ratio of their medians (lunik / baseline), both from this run.

    row: "boot", "size", ... ; name: what was measured; unit: "ms", "B",
    "MiB", "req/s", ... ; lunik, base: stats() or None; better: "lower" or
    "higher" (which way is good, for the reader and the chart); note: what
    dominates the figure, or why it is missing."""
    ratio = None
    if lunik and base and base["median"]:
        ratio = lunik["median"] / base["median"]
    return {"row": row, "name": name, "unit": unit, "lunik": lunik,
            "baseline": base, "baseline_name": base_name, "ratio": ratio,
            "better": better, "note": note, "group": group}


# ---------------------------------------------------------------- processes

_procs = []


def _die_with_parent():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(1)


def spawn(cmd, **kw):
    """Popen with the harness's guarantees: the child dies with us, has no
    stdin, and is stopped by stop_all() if the caller forgets."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("start_new_session", True)
    p = subprocess.Popen(cmd, preexec_fn=_die_with_parent, **kw)
    _procs.append(p)
    return p


def stop(p, grace=3):
    """SIGTERM, then SIGKILL after grace seconds; reaps p."""
    if p.poll() is None:
        try:
            p.terminate()
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for f in (p.stdout, p.stderr):
        if f:
            try:
                f.close()
            except OSError:
                pass
    if p in _procs:
        _procs.remove(p)


def stop_all():
    for p in list(_procs):
        stop(p, grace=1)


atexit.register(stop_all)


def run_cmd(cmd, timeout, **kw):
    """subprocess.run with a bound on time; returns CompletedProcess."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(cmd, timeout=timeout, **kw)


# ---------------------------------------------------------------- network


def free_port():
    """A TCP port on 127.0.0.1 that is free now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Probes go straight to 127.0.0.1 or the namespace, never through a proxy
# the environment names; certificates are not checked (ours are made here).
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))


def http_get(url, timeout=2.0):
    """(status, body) of one GET, or (None, error) on failure."""
    try:
        with _opener.open(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception as e:  # noqa: BLE001 -- any failure is "not yet"
        return None, str(e)


def wait_http(url, deadline, proc=None, interval=0.002):
    """Polls url until it answers 200; returns the time.perf_counter() of
    that answer, or None at the deadline (perf_counter) or when proc
    exits.

    Each try gets a short timeout that grows (50 ms, then x1.5 after each
    timeout, up to 1 s):
    through QEMU's user networking the host side of a forwarded port
    accepts at once, and a SYN sent on to a guest that is not listening
    yet is only retried after a second, so one long try would measure the
    retry, not the boot."""
    n = 0
    while time.perf_counter() < deadline:
        if proc is not None and proc.poll() is not None:
            return None
        status, err = http_get(url, timeout=min(1.0, 0.05 * 1.5 ** n))
        if status == 200:
            return time.perf_counter()
        if status is None and "timed out" in str(err):
            n += 1
        time.sleep(interval)
    return None


def user_net(forwards):
    """QEMU user networking with TCP forwards [(host port, guest port)]
    from 127.0.0.1."""
    fwd = "".join(",hostfwd=tcp:127.0.0.1:%d-:%d" % f for f in forwards)
    return ["-netdev", "user,id=net0" + fwd,
            "-device", "virtio-net-device,netdev=net0"]


def lunik_devices(port, guest_port):
    """The devices `lunik run -p port:guest_port` gives a lunik guest
    (tools/lunik's device_args)."""
    import types
    return lunik().device_args(types.SimpleNamespace(
        net="user", publish=["%d:%d" % (port, guest_port)], disk=[],
        no_rng=False, x_qemu=[]))


def certs():
    """examples/https's (server.pem, server.key), made by its
    make-cert.sh when missing."""
    d = os.path.join(ROOT, "examples", "https")
    pem = os.path.join(d, "certs", "server.pem")
    key = os.path.join(d, "certs", "server.key")
    if not (os.path.exists(pem) and os.path.exists(key)):
        r = run_cmd(["sh", os.path.join(d, "make-cert.sh")], 60,
                    capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("make-cert.sh: " + (r.stderr or r.stdout))
    return pem, key


def image(ctx, name):
    """examples/NAME built into WORK, once per run (https with examples/api's
    modules and its certificate)."""
    key = "image_" + name
    if key not in ctx.shared:
        kw = {}
        if name == "https":
            certs()
            kw["lua_paths"] = [os.path.join(ROOT, "examples", "api")]
        os.makedirs(WORK, exist_ok=True)
        ctx.shared[key] = lunik().build_image(
            os.path.join(ROOT, "examples", name),
            os.path.join(WORK, name + ".elf"), **kw)
    return ctx.shared[key]


def linux(ctx, tls=False):
    """(bench/linuxvm.ensure()'s info, None), HTTPS too when tls, or
    (None, why it is unavailable); assembled once per run."""
    key = "linuxvm_tls" if tls else "linuxvm"
    if key not in ctx.shared:
        info, why = None, None
        try:
            import linuxvm
            info = linuxvm.ensure(certs() if tls else None)
        except Exception as e:  # noqa: BLE001 -- reported, not fatal
            why = "Linux microVM unavailable: %s" % e
            log(why)
        ctx.shared[key], ctx.shared[key + "_why"] = info, why
    return ctx.shared[key], ctx.shared[key + "_why"]


def scaled(st, k):
    """stats() with every figure multiplied by k (s -> ms: 1e3)."""
    return st and {n: (v * k if n != "runs" else v) for n, v in st.items()}


def accels(ctx):
    """The accelerators the boot rows run under: KVM when it runs guests
    natively here, and TCG always. Returns (list, why KVM is missing)."""
    cpu, why = lunik().kvm_state()
    return (["kvm"] if cpu else []) + ["tcg"], why


def _proc_kib(path, key):
    """The "key: N kB" line of a /proc file as N (0 when it is gone)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid):
    """Resident set size of pid in KiB (0 when it is gone)."""
    return _proc_kib("/proc/%d/status" % pid, "VmRSS")


def pss_kib(pid):
    """Proportional set size of pid in KiB: RSS with the pages shared among
    processes (image files QEMU maps, QEMU's own code) split among them."""
    return _proc_kib("/proc/%d/smaps_rollup" % pid, "Pss")


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0
