"""suite_devices.py -- system tests of the virtio drivers (kernel/virtio*.c,
kernel/entropy.c) through the raw device seam, and of the `lunik run`
options that attach devices (-p, --net, --disk, --no-rng).

The apps (tests/system/apps/dev*) are linked with devices.o, the test-only
"devtest" Lua module that exposes plat_net_*, plat_blk_* and plat_random.
Network traffic stays on QEMU user networking (its gateway 10.0.2.2 and
forwards bound to 127.0.0.1) or inside a network namespace a test makes.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import (need_root, need_tool, LUNIK, ROOT, Failure, Live, Result, build, free_port,
                     run_cmd, test, test_once)

DEVICES_OBJ = os.path.join(ROOT, "build", "tests", "devices.o")


def image(app):
    if not os.path.exists(DEVICES_OBJ):
        raise Failure("%s is missing: `make test` builds it" % DEVICES_OBJ)
    return build(app, [DEVICES_OBJ])


def run_argv(ctx, app, opts, args, timeout):
    argv = [LUNIK, "run", image(app), "--" + ctx.accel,
            "--timeout", str(timeout)] + list(opts)
    return argv + (["--"] + list(args) if args else [])


def boot(ctx, app, opts=(), args=(), timeout=None):
    """Boots app with the launcher options opts; returns its Result."""
    timeout = timeout or (30 if ctx.accel == "kvm" else 90)
    rc, out, cpu, wall = run_cmd(run_argv(ctx, app, opts, args, timeout),
                                 timeout + 30)
    return Result(rc, out, cpu, wall)


def listeners(table, port):
    """The local addresses (hex, as /proc/net shows them) bound to port."""
    out = []
    with open("/proc/net/" + table) as f:
        for line in f.readlines()[1:]:
            local = line.split()[1]
            addr, p = local.split(":")
            if int(p, 16) == port:
                out.append(addr)
    return out


# ---------------------------------------------------------------- network


def check_wakeups(r):
    """Each exchange waits 10 s at most: a receive path that failed to
    wake the halted CPU gets its frame only when that wait times out."""
    ms = int(r.find(r"^slowest exchange: (\d+) ms$").group(1))
    if ms > 3000:
        r.fail("an exchange took %d ms: a frame did not wake the guest" % ms)


@test
def test_net_arp_icmp(ctx):
    r = boot(ctx, "devnet", args=["what=basic"]).expect_status(0)
    r.expect(r"^mac 52:54:00:12:34:56 mtu 1500$",
             r"^second device: ENODEV$",
             r"^arp reply: 10\.0\.2\.2 is at 52:55:0a:00:02:02$",
             r"^icmp reply from 10\.0\.2\.2: lunik ping 1$",
             r"^burst replies: 64/64$",
             r"^oversize send: EMSGSIZE$",
             r"^small buffer: EMSGSIZE$",
             r"^after the drop: gone$", r"^done$")
    r.expect_not(r"FAILED")
    check_wakeups(r)


@test
def test_net_transmit_flood(ctx):
    r = boot(ctx, "devnet", args=["what=flood"]).expect_status(0)
    r.expect(r"^flood sent 2000 eagain \d+$", r"^arp after flood: ok$",
             r"^done$")
    ms = int(r.find(r"^flood took (\d+) ms$").group(1))
    if ms > 5000:
        r.fail("2000 frames took %d ms: a full ring did not wake the "
               "sender when it drained" % ms)


@test
def test_net_port_forwards(ctx):
    tcp_host = free_port(socket.SOCK_STREAM)
    udp_host = free_port(socket.SOCK_DGRAM)
    timeout = 30 if ctx.accel == "kvm" else 90
    live = Live(run_argv(ctx, "devnet",
                         ["-p", "%d:7777" % tcp_host,
                          "-p", "%d:5353/udp" % udp_host],
                         ["what=fwd", "tcp=7777", "udp=5353"], timeout))
    conn = None
    try:
        live.wait_for(r"^ready$", timeout)
        # QEMU listens on the loopback address only.
        tcp = listeners("tcp", tcp_host)
        udp = listeners("udp", udp_host)
        if tcp != ["0100007F"] or udp != ["0100007F"]:
            live.result().fail("forwards bound to %s (tcp) and %s (udp), "
                               "not 127.0.0.1 alone" % (tcp, udp))
        t0 = time.monotonic()
        conn = socket.create_connection(("127.0.0.1", tcp_host), timeout=10)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(1, 6):
            time.sleep(0.1)
            u.sendto(b"hello over udp %d" % i, ("127.0.0.1", udp_host))
        u.close()
        r = live.finish(timeout)
        host_ms = (time.monotonic() - t0) * 1000
    finally:
        if conn:
            conn.close()
        live.kill()
    r.expect_status(0).expect(r"^tcp syn to port 7777$",
                              r"^udp to port 5353: hello over udp 5$",
                              r"^done$")
    if len(re.findall(r"^udp to port 5353: hello over udp \d$", r.out, re.M)) != 5:
        r.fail("expected the five datagrams")
    # Halted between datagrams, the guest must be woken by each frame.
    ms = int(r.find(r"^forwards seen in (\d+) ms$").group(1))
    if ms > host_ms + 3000:
        r.fail("the guest took %d ms to see what the host sent in %d ms: "
               "a frame did not wake it" % (ms, host_ms))


@test
def test_net_none_and_no_rng(ctx):
    r = boot(ctx, "devnet", ["--net", "none", "--no-rng"], ["what=none"])
    r.expect_status(0).expect(r"^net_info: ENODEV$", r"^send: ENODEV$",
                              r"^recv: ENODEV$")
    r = boot(ctx, "devmisc", ["--net", "none", "--no-rng"])
    r.expect_status(0).expect(r"^devices: net 0 blk 0$", r"^done$")
    if ctx.accel == "tcg":  # qemu64 has no RDRAND: no source at all
        r.expect(r"^random ENODEV$", r"^random 4096: ENODEV$")
    else:
        r.expect(r"^random [0-9a-f]{64}$")


@test
def test_net_tap(ctx):
    """--net tap:NAME, inside a network namespace this test makes, with
    the host kernel as the guest's 10.0.2.2."""
    need_root("a network namespace and a tap device")
    need_tool("ip", "iproute2")
    ns = "lunik-virtio-%d" % os.getpid()

    def ip(*a):
        r = subprocess.run(["ip"] + list(a), capture_output=True, text=True)
        if r.returncode:
            raise Failure("ip %s: %s" % (" ".join(a), r.stderr.strip()))

    ip("netns", "add", ns)
    try:
        # No IPv6 chatter (router solicitations, MLD) to confuse the count.
        ip("netns", "exec", ns, "sysctl", "-qw",
           "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1")
        ip("-n", ns, "tuntap", "add", "dev", "ltap0", "mode", "tap")
        ip("-n", ns, "addr", "add", "10.0.2.2/24", "dev", "ltap0")
        ip("-n", ns, "link", "set", "ltap0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        timeout = 30 if ctx.accel == "kvm" else 90
        argv = ["ip", "netns", "exec", ns] + run_argv(
            ctx, "devnet", ["--net", "tap:ltap0"], ["what=basic"], timeout)
        rc, out, cpu, wall = run_cmd(argv, timeout + 30)
        r = Result(rc, out, cpu, wall).expect_status(0)
        r.expect(r"^arp reply: 10\.0\.2\.2 is at ([0-9a-f]{2}:){5}[0-9a-f]{2}$",
                 r"^icmp reply from 10\.0\.2\.2: lunik ping 1$",
                 r"^burst replies: 64/64$", r"^small buffer: EMSGSIZE$",
                 r"^after the drop: gone$", r"^done$")
        check_wakeups(r)
        # The tap exists only in the namespace: from here it is missing.
        r = ctx.lunik("run", image("devnet"), "--net", "tap:ltap0")
        r.expect(r"no network interface 'ltap0'")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# ---------------------------------------------------------------- blocks


def sector(text, size=512):
    return text.encode().ljust(size, b".")


def read_at(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


@test
def test_blk_disks(ctx):
    tmp = tempfile.mkdtemp(prefix="lunik-disks-")
    try:
        a = os.path.join(tmp, "a.img")  # created by the launcher
        b = os.path.join(tmp, "b.img")  # written by the host
        c = os.path.join(tmp, "c.img")  # read-only
        with open(b, "wb") as f:
            f.truncate(1 << 20)
            f.seek(3 * 512)
            f.write(sector("host sector 3"))
        with open(c, "wb") as f:
            f.write(sector("read-only disk"))
            f.truncate(1 << 20)
        with open(c, "rb") as f:
            c_before = f.read()
        r = boot(ctx, "devblk", ["--disk", a + ":8M", "--disk", b,
                                 "--disk", c + ":ro"])
        r.expect_status(0).expect_not(r"FAILED")
        r.expect(r"^blk0 sectors=16384 sector_size=512 readonly=false$",
                 r"^blk1 sectors=2048 sector_size=512 readonly=false$",
                 r"^blk2 sectors=2048 sector_size=512 readonly=true$",
                 r"^blk3 ENODEV$", r"^flush: true$",
                 r"^host wrote: host sector 3$",
                 r"^read back: lunik sector 101$", r"^1 MiB request: ok$",
                 r"^largest read: 4194304 bytes$",
                 r"^over the largest: EINVAL$", r"^past the end: EINVAL$",
                 r"^across the end: EINVAL$", r"^last sector: ok$",
                 r"^count 0: EINVAL$", r"^bad op: EINVAL$",
                 r"^read-only write: EROFS$",
                 r"^read-only read: read-only disk$",
                 r"^read-only flush: true$", r"^no such disk: ENODEV$",
                 r"^two disks: true$", r"^done$")
        m = r.find(r"^many: inflight=(\d+) eagain=(\d+) dup=0 unknown=0 "
                   r"errors=0 mismatches=0$")
        if int(m.group(1)) < 16:
            r.fail("only %s requests were in flight at once" % m.group(1))
        # What the guest wrote, seen from the host.
        if os.path.getsize(a) != 8 << 20:
            r.fail("--disk a.img:8M made a file of %d bytes"
                   % os.path.getsize(a))
        checks = [
            (a, 0, sector("lunik sector 0")),
            (a, 100 * 512, sector("lunik sector 100") + sector("lunik sector 101")),
            (a, 2048 * 512, b"".join(b"%8d" % i + b"m" * 503 + b"\n"
                                     for i in range(1, 2049))),
            (a, 200 * 512, sector("both disks")),
            (b, 200 * 512, sector("both disks")),
            (b, 3 * 512, sector("host sector 3")),
        ]
        for path, off, want in checks:
            if read_at(path, off, len(want)) != want:
                r.fail("%s at byte %d does not hold what the guest wrote"
                       % (os.path.basename(path), off))
        with open(c, "rb") as f:
            if f.read() != c_before:
                r.fail("the read-only disk changed")
    finally:
        shutil.rmtree(tmp)


@test
def test_blk_4k_sectors_without_flush(ctx):
    """A write-through disk (no VIRTIO_BLK_F_FLUSH: QEMU's config-wce=off
    with cache=writethrough) with 4 KiB logical blocks."""
    tmp = tempfile.mkdtemp(prefix="lunik-disks-")
    try:
        w = os.path.join(tmp, "w.img")
        with open(w, "wb") as f:
            f.truncate(8 << 20)
        q = ["-drive", "if=none,id=wt,format=raw,cache=writethrough,file=" + w,
             "-device", "virtio-blk-device,drive=wt,config-wce=off,"
             "logical_block_size=4096,physical_block_size=4096"]
        r = boot(ctx, "devblk", ["--x-qemu=" + x for x in q], ["what=wt"])
        r.expect_status(0).expect(
            r"^blk0 sectors=2048 sector_size=4096 readonly=false$",
            r"^flush: true$", r"^read back: four KiB sector one$",
            r"^past the end: EINVAL$", r"^done$")
        if read_at(w, 4096, 4096) != sector("four KiB sector one", 4096):
            r.fail("sector 1 of 4 KiB is not at byte 4096 of the file")
    finally:
        shutil.rmtree(tmp)


@test
def test_blk_one_too_many(ctx):
    tmp = tempfile.mkdtemp(prefix="lunik-disks-")
    try:
        opts = []
        for i in range(9):
            opts += ["--disk", os.path.join(tmp, "d%d.img:64K" % i)]
        r = boot(ctx, "devmisc", opts).expect_status(0)
        r.expect(r"^devices: net 1 blk 8$", r"^done$",
                 r"^lunik: virtio blk8 at 0x[0-9a-f]+: one block device too "
                 r"many; left out$")
    finally:
        shutil.rmtree(tmp)


# ---------------------------------------------------------------- misc


@test
def test_random_bytes(ctx):
    seen = []
    for _ in range(2):
        r = boot(ctx, "devmisc").expect_status(0)
        r.expect(r"^random 4096: 4096$")
        seen += re.findall(r"^random ([0-9a-f]{64})$", r.out, re.M)
        distinct = int(r.find(r"^distinct byte values: (\d+)$").group(1))
        if distinct < 200:
            r.fail("4096 random bytes took only %d distinct values" % distinct)
    if len(seen) != 4 or len(set(seen)) != 4:
        raise Failure("random draws repeat across calls or boots: %s" % seen)


@test
def test_devices_phase_and_probe(ctx):
    """With ACPI on (the default), devices are found by probing, and the
    boot timeline has a devices phase after the timer's."""
    tmp = tempfile.mkdtemp(prefix="lunik-disks-")
    try:
        empty = os.path.join(tmp, "empty.img")
        open(empty, "wb").close()
        r = boot(ctx, "devmisc", ["--disk", empty + ":ro"])
    finally:
        shutil.rmtree(tmp)
    r.expect_status(0).expect(r"^devices: net 1 blk 1$",
                              r"^net0: 52:54:00:12:34:56$",
                              r"^blk0: 0 sectors$")
    phases = re.findall(r"^phase (\S+) ", r.out, re.M)
    if "devices" not in phases or \
            phases.index("devices") != phases.index("acpi") + 1:
        r.fail("no devices phase right after the acpi one: %s" % phases)


@test
def test_cmdline_words_hidden(ctx):
    """ACPI off: QEMU names the transports in virtio_mmio.device= words,
    which the kernel follows and sys.args and os.getenv leave out."""
    tmp = tempfile.mkdtemp(prefix="lunik-disks-")
    try:
        r = boot(ctx, "devmisc",
                 ["--disk", os.path.join(tmp, "a.img:1M"),
                  "--x-qemu=-M", "--x-qemu=acpi=off"],
                 ["what=args", "a=1", "flag"])
        r.expect_status(0).expect(
            r"^args: a=1 flag=true what=args$", r"^getenv: nil$",
            r"^cmdline has words: true$", r"^devices: net 1 blk 1$",
            r"^net0: 52:54:00:12:34:56$", r"^blk0: 2048 sectors$")
    finally:
        shutil.rmtree(tmp)


@test
def test_legacy_transport_refused(ctx):
    r = boot(ctx, "devmisc", ["--x-qemu=-global",
                              "--x-qemu=virtio-mmio.force-legacy=true"])
    r.expect_status(0).expect(r"^devices: net 0 blk 0$", r"^done$")
    lines = re.findall(r"^lunik: virtio-mmio at 0x[0-9a-f]+: legacy interface "
                       r"\(version 1\) not supported", r.out, re.M)
    if len(lines) != 2:  # the network device and the entropy device
        r.fail("expected one line per legacy transport, got %d" % len(lines))


# ---------------------------------------------------------------- launcher


@test_once
def test_device_option_errors(ctx):
    img = image("devmisc")
    tmp = tempfile.mkdtemp(prefix="lunik-disks-")
    busy = socket.socket()
    try:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        some = os.path.join(tmp, "some.img")
        with open(some, "wb") as f:
            f.truncate(4096)
        cases = [
            (["-p", "80"], r"-p 80: expected HOSTPORT:GUESTPORT"),
            (["-p", "8080:80/sctp"], r"expected HOSTPORT:GUESTPORT"),
            (["-p", "0:80"], r"port 0 is out of 1\.\.65535"),
            (["-p", "70000:80"], r"port 70000 is out of 1\.\.65535"),
            (["-p", "20000:80", "-p", "20000:81"], r"forwarded twice"),
            (["-p", "%d:80" % port], r"cannot forward tcp port %d" % port),
            (["-p", "20001:80", "--net", "none"], r"does not go with --net none"),
            (["--net", "bogus"], r"expected user, tap:NAME or none"),
            (["--net", "tap:nosuchtap9"], r"no network interface 'nosuchtap9'"),
            (["--net", "tap:lo"], r"lo is not a tap device"),
            (["--disk", os.path.join(tmp, "missing.img")],
             r"no such file; give a size to create it"),
            (["--disk", os.path.join(tmp, "x.img:12Q")], r"bad size '12Q'"),
            (["--disk", os.path.join(tmp, "x.img:1000")],
             r"positive multiple of 512"),
            (["--disk", tmp + ":1M"], r"is a folder"),
            (["--disk", some, "--disk", some + ":ro"], r"is already a disk"),
        ]
        for opts, pattern in cases:
            t0 = time.monotonic()
            r = ctx.lunik("run", img, *opts)
            if r.status != 2:
                r.fail("lunik run %s: status %s, not 2" % (" ".join(opts), r.status))
            r.expect(r"^lunik: .*" + pattern).expect_not(r"^devices:")
            if time.monotonic() - t0 > 5:
                r.fail("lunik run %s took %.1fs to refuse" % (opts, time.monotonic() - t0))
        if os.path.exists(os.path.join(tmp, "x.img")):
            raise Failure("a refused --disk created its file")
        r = ctx.lunik("test", os.path.join(ROOT, "tests/system/apps/specs"),
                      "--disk", os.path.join(tmp, "missing.img"))
        if r.status != 2:
            r.fail("lunik test with a missing disk: status %s" % r.status)
        r.expect(r"no such file; give a size")
    finally:
        busy.close()
        shutil.rmtree(tmp)
