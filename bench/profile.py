#!/usr/bin/env python3
"""profile.py -- where a guest's instructions go while it serves HTTP.

  python3 bench/profile.py [--app examples/api] [--conns 30] [--secs 10]
                           [--tcg|--kvm] [--top 25]

Boots the app (as `lunik run` would, user networking with a forwarded
port, a QMP socket), drives it with wrk's keep-alive GET /healthz, and
meanwhile samples the vCPU's instruction pointer through QMP ("info
registers", as often as QEMU answers). Each sample is named with the
image's own symbol table (.ksyms, the one panics use) and counted by
function and by component (the object it comes from, from the link map,
as the size row attributes bytes): kernel, runtime, bindings, Lua, lwIP,
mbedTLS, newlib. Under TCG a sample is where the vCPU's last
translated block started, so it names the function, not the instruction.
Prints the tables (Markdown) and the requests served; writes nothing.
"""

import argparse
import bisect
import collections
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402

RIP_RE = re.compile(r"RIP=([0-9a-f]{16})")

def components(mapfile):
    """(sorted start addresses, [(end, component)]) of the image's code,
    from the link map size.breakdown wrote (each function is an input
    section of its own: -ffunction-sections)."""
    from rows import size
    with open(mapfile) as f:
        secs = sorted((addr, addr + n, comp) for name, addr, n, comp
                      in size.map_sections(f.read())
                      if name.startswith(".text"))
    return [a for a, _, _ in secs], [(e, c) for _, e, c in secs]


def ksyms(image):
    """(sorted addresses, names) of the image's .ksyms table."""
    lk = common.lunik()
    with open(image, "rb") as f:
        blob = lk.elf_section(f.read(), ".ksyms") or b""
    if blob[:4] != b"KSYM":
        raise SystemExit("profile: %s has no symbol table" % image)
    count, = struct.unpack_from("<I", blob, 4)
    names = blob[12 + 12 * count:]
    addrs, out = [], []
    for i in range(count):
        addr, off, _ = struct.unpack_from("<III", blob, 12 + 12 * i)
        addrs.append(addr)
        out.append(names[off:names.index(b"\0", off)].decode())
    return addrs, out


def lookup(starts, values, addr):
    i = bisect.bisect_right(starts, addr) - 1
    return values[i] if i >= 0 else None


def sample(qmp_path, until, qmp):
    """RIPs sampled through QMP until the perf_counter deadline."""
    rips = []
    with qmp.Session(qmp_path) as s:
        while time.perf_counter() < until:
            out = s.send("human-monitor-command",
                         {"command-line": "info registers"})
            m = RIP_RE.search(out or "")
            if m:
                rips.append(int(m.group(1), 16))
    return rips


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--app", default=os.path.join(common.ROOT, "examples",
                                                 "api"))
    p.add_argument("--conns", type=int, default=30)
    p.add_argument("--secs", type=int, default=10)
    p.add_argument("--top", type=int, default=25)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--kvm", dest="accel", action="store_const", const="kvm")
    g.add_argument("--tcg", dest="accel", action="store_const", const="tcg")
    a = p.parse_args()
    lk = common.lunik()
    from lunikcli import qmp  # noqa: E402 (common put tools/ on the path)
    accel = a.accel or ("kvm" if lk.kvm_state()[0] else "tcg")
    tmp = tempfile.mkdtemp(prefix="lunik-profile-")
    image = os.path.join(tmp, "app.elf")
    from rows import size
    size.breakdown(lk, a.app, image, {})  # the image, and its link map
    addrs, names = ksyms(image)
    starts, ends = components(image + ".map")
    port = common.free_port()
    qmp_path = os.path.join(tmp, "qmp.sock")
    cmd = lk.qemu_command(image, 128 << 20, accel, ["port=8080", "log=warn"],
                          common.lunik_devices(port, 8080) + qmp.args(qmp_path))
    guest = common.spawn(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        url = "http://127.0.0.1:%d/healthz" % port
        if not common.wait_http(url, time.perf_counter() + 60, guest):
            raise SystemExit("profile: the guest never answered %s" % url)
        wrk = common.spawn(["wrk", "-t1", "-c%d" % a.conns, "-d%ds" % a.secs,
                            url], stdout=subprocess.PIPE, text=True)
        time.sleep(1)  # past wrk's connection set-up
        rips = sample(qmp_path, time.perf_counter() + a.secs - 2, qmp)
        out, _ = wrk.communicate(timeout=a.secs + 60)
    finally:
        common.stop(guest)
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    by_fn, by_comp = collections.Counter(), collections.Counter()
    comp_of = {}
    for rip in rips:
        name = lookup(addrs, names, rip) or "?"
        end_comp = lookup(starts, ends, rip)
        comp = end_comp[1] if end_comp and rip < end_comp[0] else "?"
        comp_of[name] = comp
        by_fn[name] += 1
        by_comp[comp] += 1
    n = max(len(rips), 1)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out or "")
    print("%s, %s, wrk -c%d %ds: %s req/s; %d samples of the vCPU's RIP\n"
          % (os.path.relpath(a.app, common.ROOT), accel, a.conns, a.secs,
             m.group(1) if m else "?", len(rips)))
    print("| component | share |\n| --- | --- |")
    for comp, c in by_comp.most_common():
        print("| %s | %.1f %% |" % (comp, 100.0 * c / n))
    print("\n| function | share | component |\n| --- | --- | --- |")
    for name, c in by_fn.most_common(a.top):
        print("| `%s` | %.1f %% | %s |" % (name, 100.0 * c / n,
                                          comp_of[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
