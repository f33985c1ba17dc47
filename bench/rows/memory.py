"""Memory floor: the smallest guest memory (-m, MiB) at which an image
still does its job, found by bisection.

- examples/api: boots and serves 1,000 GET /healthz on one keep-alive
  connection without an error (no disk: the in-memory store);
- examples/https: the same over TLS (one keep-alive HTTPS connection);
- examples/hello: boots and exits 0 (sleep=0); it serves nothing;
- the Linux microVM (bench/linuxvm.py, nginx + Lua): the same 1,000
  requests over HTTP, and over HTTPS with its TLS initramfs.

Every attempt is a fresh QEMU (the devices of lunik's runs: modern
virtio-mmio, user networking with a forwarded port, virtio-rng); a boot
that fails, hangs past its deadline or drops a request counts as too
small. bench-quick sends 100 requests and stops the bisection at a
coarser step.

What dominates: for lunik, the image itself, loaded whole at 1 MiB (code,
data, the 1 MiB main stack): the floor lies just above its end, the heap
left above holding the Lua state, lwIP's buffers and, for HTTPS,
mbedTLS's; the page tables and the virtio rings and buffers (sized from
the memory: 64-entry network queues at 4 MiB) take the otherwise unused
RAM below the image. For Linux, Debian's generic kernel (its loaded
image, bss and init sections included, ends near 74 MiB as it loads at 16
MiB) and its early allocations, plus the initramfs (copied into memory by
QEMU, unpacked into the page cache, the copy freed after) before nginx,
LuaJIT and OpenSSL start; below the floor the kernel panics out of memory
while booting.
"""

import http.client
import os
import re
import ssl
import subprocess
import time

import common
from common import figure, stats

LINUX_NAME = "Linux microVM (nginx+Lua)"
LINUX_BOOT_S = 60
GUEST_PORT = 8080
TLS_PORT = 8443


def images(ctx):
    """{name: image} of hello, api and https, built once per run."""
    return {name: common.image(ctx, name) for name in ("hello", "api",
                                                         "https")}


def connect(port, tls, timeout):
    if tls:
        ctx = ssl._create_unverified_context()
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=ctx)
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def get(conn):
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    r.read()
    return r.status


def wait_ready(port, tls, deadline, proc):
    """Polls GET /healthz until a 200 (True), the deadline or QEMU's exit
    (False)."""
    while time.monotonic() < deadline and proc.poll() is None:
        conn = connect(port, tls, 2)
        try:
            if get(conn) == 200:
                return True
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
        finally:
            conn.close()
    return False


def serve(port, tls, n, deadline):
    """n GETs on one keep-alive connection; None when all answered 200,
    else what went wrong."""
    conn = connect(port, tls, 10)
    try:
        for i in range(n):
            if time.monotonic() > deadline:
                return "only %d of %d requests before the deadline" % (i, n)
            status = get(conn)
            if status != 200:
                return "request %d answered %d" % (i + 1, status)
    except (OSError, http.client.HTTPException) as e:
        return "request %d failed: %s" % (i + 1, e or type(e).__name__)
    finally:
        conn.close()
    return None


def console_reason(console):
    """The guest's last words: a panic's message, or the last line."""
    try:
        with open(console, "rb") as f:
            text = f.read()[-20000:].decode(errors="replace")
    except OSError:
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and
             not ln.startswith("qemu-system-x86_64: terminating")]
    for ln in lines:
        m = re.search(r"(Kernel panic - not syncing: .*|lunik: panic: .*)",
                      ln)
        if m:
            return m.group(1)[:160]
    return lines[-1][:160] if lines else None


def attempt(cmd, port, tls, n, boot_s, console):
    """Boots cmd (its console to the file console) and sends n requests
    to 127.0.0.1:port, or, with port None, waits for QEMU to exit with the
    guest's status 0. Returns None on success, else why not (with the
    guest's last words)."""
    why = attempt1(cmd, port, tls, n, boot_s, console)
    last = console_reason(console) if why else None
    return why + " (%s)" % last if last else why


def attempt1(cmd, port, tls, n, boot_s, console):
    with open(console, "wb") as out:
        p = common.spawn(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + boot_s
            if port is None:
                try:
                    rc = p.wait(timeout=boot_s)
                except subprocess.TimeoutExpired:
                    return "no exit within %d s" % boot_s
                # isa-debug-exit: QEMU exits 2 * (status + 1) + 1
                return None if rc == 3 else "QEMU exited %d" % rc
            if not wait_ready(port, tls, deadline, p):
                if p.poll() is not None:
                    return "QEMU exited %d before answering" % p.returncode
                return "no answer within %d s" % boot_s
            why = serve(port, tls, n, time.monotonic() + 60 + n * 0.05)
            if why is None and p.poll() is not None:
                why = "QEMU exited %d after serving" % p.returncode
            return why
        finally:
            common.stop(p)


def bisect(try_mib, lo, hi, step, budget_s, label):
    """The smallest MiB in lo..hi at which try_mib(mib) returns None,
    within step (memory needs are taken as monotonic). Returns (floor or
    None, note). Bounded by budget_s seconds and 24 attempts."""
    t_end = time.monotonic() + budget_s
    why = try_mib(hi)
    common.log("memory: %s at %d MiB: %s" % (label, hi, why or "ok"))
    if why is not None:
        return None, "fails even at %d MiB: %s" % (hi, why)
    good, bad, last_why = hi, lo - 1, None
    for _ in range(24):
        if good - bad <= step:
            break
        if time.monotonic() > t_end:
            return good, ("bisection stopped by its %d s bound: floor "
                          "between %d and %d MiB" % (budget_s, bad + 1, good))
        mid = (good + bad + 1) // 2
        why = try_mib(mid)
        common.log("memory: %s at %d MiB: %s" % (label, mid, why or "ok"))
        if why is None:
            good = mid
        else:
            bad, last_why = mid, why
    note = ""
    if good - bad > 1:
        note = "resolution %d MiB (floor in %d..%d); " % (good - bad, bad + 1,
                                                          good)
    if last_why:
        note += "at %d MiB: %s" % (bad, last_why)
    return good, note


def lunik_try(image, accel, args, guest_port, tls, n, work, name):
    lk = common.lunik()

    def try_mib(mib):
        port = common.free_port() if guest_port else None
        devices = common.lunik_devices(port, guest_port) if guest_port \
            else ["-global", "virtio-mmio.force-legacy=false",
                  "-device", "virtio-rng-device"]
        cmd = lk.qemu_command(image, mib << 20, accel, args, devices)
        return attempt(cmd, port, tls, n, 30,
                       os.path.join(work, "console-%s.log" % name))
    return try_mib


def linux_try(info, accel, guest_port, tls, n, work, name):
    import linuxvm
    end = linuxvm.elf_load_end(info["kernel"])

    def try_mib(mib):
        # Below the kernel's load end the guest hangs without a word:
        # no need to wait for the deadline to know.
        if mib << 20 < end:
            return "the kernel's image alone ends at %.1f MiB" % (end / 2**20)
        port = common.free_port()
        net = common.user_net([(port, guest_port)])
        cmd = linuxvm.qemu_command(info, mib, accel, net)
        return attempt(cmd, port, tls, n, LINUX_BOOT_S,
                       os.path.join(work, "console-%s.log" % name))
    return try_mib


def linuxvm_end(path):
    import linuxvm
    return linuxvm.elf_load_end(path)


def run(ctx):
    accel = ctx.accels[0] if ctx.accels else "tcg"
    n = 100 if ctx.quick else 1000
    step_lunik = 4 if ctx.quick else 1
    step_linux = 16 if ctx.quick else 1
    budget = 60 if ctx.quick else 600
    work = os.path.join(common.WORK, "memory")
    os.makedirs(work, exist_ok=True)
    count = "{:,}".format(n)
    base_note = "-m in MiB; %s; bisection with a fresh QEMU per attempt" % (
        accel.upper())
    try:
        imgs = images(ctx)
    except Exception as e:  # noqa: BLE001 -- a row reports, never crashes
        common.log("memory: building the images failed: %s" % e)
        return [figure("memory", "memory floor", "MiB", None,
                       note="building the images failed: %s" % e)]

    floors, notes = {}, {}
    lunik_runs = [
        ("api", imgs["api"], ["port=%d" % GUEST_PORT, "log=warn"],
         GUEST_PORT, False),
        ("https", imgs["https"], ["port=%d" % TLS_PORT, "log=warn"],
         TLS_PORT, True),
        ("hello", imgs["hello"], ["sleep=0"], None, False),
    ]
    for name, image, args, gport, tls in lunik_runs:
        try_mib = lunik_try(image, accel, args, gport, tls, n, work, name)
        floors[name], notes[name] = bisect(try_mib, 2, 256, step_lunik,
                                           budget, name)

    linux_err = None
    try:
        import linuxvm
        infos = {"linux": linuxvm.ensure(), "linux_tls":
                 linuxvm.ensure(common.certs())}
    except Exception as e:  # noqa: BLE001
        linux_err = "the Linux microVM could not be assembled: %s" % e
        common.log("memory: " + linux_err)
    if linux_err is None:
        for name, port, tls in (("linux", GUEST_PORT, False),
                                ("linux_tls", TLS_PORT, True)):
            try_mib = linux_try(infos[name], accel, port, tls, n, work, name)
            # bench-quick starts lower: an attempt at 1024 MiB takes a
            # Linux guest under TCG several seconds (struct page setup).
            floors[name], notes[name] = bisect(try_mib, 16,
                                               256 if ctx.quick else 1024,
                                               step_linux, budget, name)
    sizes = "lunik's image ends at %.1f MiB" % (
        linuxvm_end(imgs["api"]) / 2**20)
    if linux_err is None:
        sizes += ("; Linux's kernel image at %.1f MiB (loaded at 16 MiB, "
                  "bss and init sections included), its initramfs %.1f MiB"
                  % (linuxvm_end(infos["linux"]["kernel"]) / 2**20,
                     infos["linux"]["initrd_bytes"] / 2**20))
    ctx.shared["memory_floor"] = {
        "api": floors.get("api"), "linux": floors.get("linux"),
        "https": floors.get("https"), "linux_tls": floors.get("linux_tls"),
        "hello": floors.get("hello")}

    def note(lunik_key, linux_key):
        parts = [base_note]
        if notes.get(lunik_key):
            parts.append("lunik: " + notes[lunik_key])
        if linux_key and linux_err:
            parts.append(linux_err)
        elif linux_key and notes.get(linux_key):
            parts.append("Linux: " + notes[linux_key])
        return "; ".join(parts) + "; " + sizes + ". " + DOMINATES

    return [
        figure("memory", "memory floor, examples/api serving %s requests "
               "(target <= 4 MiB)" % count, "MiB", stats([floors["api"]]),
               stats([floors.get("linux")]), LINUX_NAME, better="lower",
               note=note("api", "linux")),
        figure("memory", "memory floor, examples/https serving %s HTTPS "
               "requests (target <= 6 MiB)" % count, "MiB", stats([floors["https"]]),
               stats([floors.get("linux_tls")]), LINUX_NAME + " over HTTPS",
               better="lower", note=note("https", "linux_tls")),
        figure("memory", "memory floor, examples/hello booting and exiting 0",
               "MiB", stats([floors["hello"]]), better="lower",
               note=note("hello", None) + "; hello serves no requests; no "
               "baseline"),
    ]


DOMINATES = ("lunik's floor sits just above its loaded image (code, data, "
             "bss and the 1 MiB main stack; page tables and virtio buffers, "
             "sized from the memory, take the RAM below the image): the heap "
             "above it holds the Lua state and serves the requests; Linux's is its "
             "kernel image (Debian's generic kernel, loaded at 16 MiB) and "
             "early allocations plus the initramfs, held twice while it is "
             "unpacked, before nginx, LuaJIT and OpenSSL start; below it the "
             "kernel panics out of memory while booting. A kernel configured "
             "for microVMs would need less")
