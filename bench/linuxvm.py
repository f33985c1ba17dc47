"""bench/linuxvm.py -- the baselines lunik is compared with: nginx + Lua
in a Linux microVM, and the same nginx as a plain host process.

"Linux microVM": the same QEMU microvm as lunik (1 vCPU, the memory of the
lunik run it is compared with, virtio-net over user networking or a tap)
booting Debian's kernel with an initramfs assembled here: busybox-static,
nginx with Debian's Lua module (libnginx-mod-http-lua, OpenResty's
lua-resty-core) and the shared libraries they load. A Lua handler
(content_by_lua_block) answers GET /healthz with the JSON examples/api
answers, on port 8080, and on 8443 over TLS when certificates are given.

"Host": the very same files (the initramfs tree) and configuration run as
a host process on 127.0.0.1, through the tree's own dynamic loader.

Everything comes from Debian's archive (apt-get download, dpkg-deb -x)
into build/bench/linuxvm/; nothing is installed on the host. The kernel
boots the way lunik does, as a PVH ELF (the vmlinux inside Debian's
bzImage, decompressed here, as Firecracker boots), so QEMU's command line
stays lunik's. Debian's bzImage boots on the same command line too
(x-option-roms=off included) but inflates itself in the guest: under TCG
exec -> first 200 takes about 5 s with it against 2 s with the vmlinux.
The price: QEMU keeps the 60 MiB vmlinux file mapped, about 40 MiB more
RSS per VM than with the bzImage, shared among VMs by the page cache.

What dominates a Linux microVM's figures: the kernel's boot (decompression
is done ahead of time, but the kernel still probes ACPI, initializes its
subsystems, unpacks the initramfs and loads the virtio modules), then
nginx's start (dynamic linking, LuaJIT, resty.core).
"""

import contextlib
import hashlib
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

GUEST_HTTP_PORT = 8080
GUEST_HTTPS_PORT = 8443
HEALTH_PATH = "/healthz"

DIR = os.path.join(common.WORK, "linuxvm")
DEBS = os.path.join(DIR, "debs")
HERE = os.path.dirname(os.path.abspath(__file__))

# The kernel is whatever linux-image-amd64 depends on; the rest by name.
# libluajit2 is OpenResty's LuaJIT, the one the Lua module prefers.
USER_PACKAGES = [
    "busybox-static", "nginx", "libnginx-mod-http-lua",
    "libnginx-mod-http-ndk", "lua-resty-core", "lua-resty-lrucache",
    "libluajit2-5.1-2", "libpcre3", "libpcre2-8-0", "libssl3", "zlib1g",
    "libcrypt1", "libc6", "libgcc-s1",
]

# Kernel modules the guest loads (with what they depend on): Debian builds
# virtio as modules. virtio_rng because lunik's runs have virtio-rng too.
MODULES = ["virtio_mmio", "virtio_net", "virtio_rng"]

# Kernel command line of a tuned microVM (after Firecracker's defaults):
# quiet serial console, no PCI probe (microvm has no PCI bus), no i8042
# probe, a trusted TSC, panic -> exit (with QEMU's -no-reboot) so the VM
# ends when nginx does. mitigations=off: a single-service guest's only
# isolation boundary is the VM itself (lunik has no guest user/kernel
# split to protect either), so the speculative-execution mitigations
# inside the guest protect nothing here and would only slow it.
CMDLINE = ("console=ttyS0 quiet loglevel=3 panic=-1 reboot=t pci=off "
           "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd "
           "tsc=reliable no_timer_check cryptomgr.notests mitigations=off "
           "rdinit=/init")

LIBDIR = "lib/x86_64-linux-gnu"


# ---------------------------------------------------------------- fetching


APT_DIR = os.path.join(common.BUILD, "apt-host")
_apt_ready = []


def apt_options():
    """apt's options: a private configuration under build/apt-host that
    deps/dep.sh makes as it makes the build's own, but for the machine's
    own Debian release (the build's sources come from Debian 13; the
    baseline stays the Debian 12 nginx and OpenSSL it always was),
    Debian's archive only and the machine's apt state untouched."""
    conf = os.path.join(APT_DIR, "apt.conf")
    if not _apt_ready:
        env = dict(os.environ, BUILD=common.BUILD, DEPS_SUITE="host",
                   DEPS_APT_DIR=APT_DIR)
        r = common.run_cmd([os.path.join(common.ROOT, "deps", "dep.sh"),
                            "apt-setup"], 600, env=env, capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError("linuxvm: deps/dep.sh apt-setup failed: %s"
                               % (r.stderr or r.stdout).strip()[-600:])
        _apt_ready.append(conf)
    opts = ["-o", "APT::Sandbox::User=root"] if os.getuid() == 0 else []
    return ["-c", conf] + opts


def apt(cmd, args, cwd=None, timeout=600):
    r = common.run_cmd([cmd] + apt_options() + args, timeout, cwd=cwd,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("linuxvm: %s %s failed: %s" % (
            cmd, " ".join(args), (r.stderr or r.stdout).strip()[-600:]))
    return r.stdout


def kernel_package():
    """linux-image-6.1.0-N-amd64, the package linux-image-amd64 names."""
    out = apt("apt-cache", ["depends", "linux-image-amd64"])
    for line in out.splitlines():
        w = line.split()
        if len(w) == 2 and w[0] == "Depends:" and w[1].startswith(
                "linux-image-"):
            return w[1]
    raise RuntimeError("linuxvm: apt-cache finds no kernel behind "
                       "linux-image-amd64 (run `make` or apt-get update)")


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], check=True,
                          capture_output=True, text=True).stdout.strip()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(packages):
    """Downloads the .debs not yet in DEBS; returns {name: path}."""
    os.makedirs(DEBS, exist_ok=True)

    def have():
        got = {}
        for n in sorted(os.listdir(DEBS)):
            if n.endswith(".deb"):
                got[n.split("_")[0]] = os.path.join(DEBS, n)
        return got

    missing = [p for p in packages if p not in have()]
    if missing:
        common.log("linuxvm: fetching %s" % " ".join(missing))
        apt("apt-get", ["download"] + missing, cwd=DEBS)
    got = have()
    lost = [p for p in packages if p not in got]
    if lost:
        raise RuntimeError("linuxvm: apt-get download brought no %s"
                           % " ".join(lost))
    return {p: got[p] for p in packages}


# ---------------------------------------------------------------- kernel


def vmlinux_from_bzimage(bz, out):
    """Decompresses the kernel inside a bzImage (boot protocol 2.08+:
    payload_offset/payload_length in the setup header) to out, an ELF
    with the PVH entry note QEMU boots directly, as it boots lunik."""
    with open(bz, "rb") as f:
        data = f.read()
    setup_sects = data[0x1f1] or 4
    off, length = struct.unpack_from("<II", data, 0x248)
    payload = data[(setup_sects + 1) * 512 + off:][:length]
    if payload.startswith(b"\xfd7zXZ\0"):
        elf = lzma.LZMADecompressor().decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        import zlib
        elf = zlib.decompressobj(31).decompress(payload)
    else:
        raise RuntimeError("linuxvm: %s: kernel compressed with an "
                           "unsupported method (%r)" % (bz, payload[:4]))
    if not elf.startswith(b"\x7fELF"):
        raise RuntimeError("linuxvm: %s: payload is not an ELF" % bz)
    with open(out + ".tmp", "wb") as f:
        f.write(elf)
    os.replace(out + ".tmp", out)


def elf_section(path, name):
    """The bytes of ELF64 section name in path (None when absent)."""
    with open(path, "rb") as f:
        return common.lunik().elf_section(f.read(), name)


def elf_load_end(path):
    """The physical address where an ELF's loaded image ends (its PT_LOAD
    segments, bss included). For the Linux kernel: below it the guest
    cannot boot at all (QEMU loads the part that fits and the guest
    hangs)."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    end = 0
    for i in range(phnum):
        typ, _, _, _, paddr, _, memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if typ == 1:  # PT_LOAD
            end = max(end, paddr + memsz)
    return end


def module_order(moddir, wanted):
    """The .ko files for wanted (and what they depend on, from each
    module's .modinfo "depends="), dependencies first."""
    paths = {}
    for root, _, names in os.walk(moddir):
        for n in names:
            if n.endswith(".ko"):
                paths[n[:-3].replace("-", "_")] = os.path.join(root, n)
    order = []

    def visit(name, depth=0):
        name = name.replace("-", "_")
        if name in order:
            return
        if name not in paths or depth > 20:
            raise RuntimeError("linuxvm: kernel module %s not found" % name)
        info = elf_section(paths[name], ".modinfo") or b""
        for field in info.split(b"\0"):
            if field.startswith(b"depends="):
                for dep in field[8:].decode().split(","):
                    if dep:
                        visit(dep, depth + 1)
        order.append(name)

    for w in wanted:
        visit(w)
    return [(n, paths[n]) for n in order]


# ---------------------------------------------------------------- rootfs


def needed(path):
    """DT_NEEDED names and the PT_INTERP of an ELF (readelf)."""
    out = subprocess.run(["readelf", "-dlW", path], check=True,
                         capture_output=True, text=True).stdout
    names, interp = [], None
    for line in out.splitlines():
        if "(NEEDED)" in line:
            names.append(line.split("[", 1)[1].split("]", 1)[0])
        elif "Requesting program interpreter:" in line:
            interp = line.split(":", 1)[1].strip(" ]")
    return names, interp


def copy_libs(x, root, elves):
    """Copies into root the shared libraries elves need, recursively,
    from the extracted packages x (the real files, under their sonames)."""
    search = [os.path.join(x, d) for d in (LIBDIR, "usr/" + LIBDIR)]
    todo, done = list(elves), set()
    while todo:
        names, interp = needed(todo.pop())
        if interp:
            dst = os.path.join(root, interp.lstrip("/"))
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy(os.path.realpath(os.path.join(
                    x, interp.lstrip("/"))), dst)
        for n in names:
            if n in done:
                continue
            done.add(n)
            src = next((os.path.join(d, n) for d in search
                        if os.path.exists(os.path.join(d, n))), None)
            if src is None:
                raise RuntimeError("linuxvm: no package brought %s" % n)
            dst = os.path.join(root, LIBDIR, n)
            shutil.copy(os.path.realpath(src), dst)
            todo.append(dst)
    return sorted(done)


def nginx_conf(prefix, http, https=None, certs=None, lua_root=""):
    """nginx.conf for the guest (prefix "/") or the host. http, https:
    listen specs ("8080", "127.0.0.1:8080"); certs: (pem, key) paths as
    nginx sees them; lua_root: where usr/share/lua/5.1 lies."""
    with open(os.path.join(HERE, "linuxvm", "nginx.conf")) as f:
        text = f.read()
    tls = ""
    if https:
        # Debian 12's nginx 1.22 offers TLS 1.0-1.2 unless told: TLS 1.2
        # and 1.3, as lunik offers them
        tls = ("        listen %s ssl;\n"
               "        ssl_protocols TLSv1.2 TLSv1.3;\n"
               "        ssl_certificate %s;\n"
               "        ssl_certificate_key %s;\n" % (https, certs[0],
                                                      certs[1]))
    return (text.replace("@MODULES@", os.path.join(prefix,
                                                   "usr/lib/nginx/modules"))
            .replace("@LUA@", os.path.join(lua_root, "usr/share/lua/5.1"))
            .replace("@TMP@", os.path.join(prefix, "tmp"))
            .replace("@PID@", os.path.join(prefix, "tmp", "nginx.pid"))
            .replace("@HTTP@", http).replace("@TLS@", tls))


def assemble(x, root, certs):
    """The initramfs tree at root from the extracted packages x; returns
    the kernel modules loaded, in order."""
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "etc/nginx",
              LIBDIR, "lib/modules", "usr/sbin", "usr/lib/nginx/modules",
              "usr/share/lua"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy(os.path.join(x, "bin/busybox"), os.path.join(root, "bin"))
    shutil.copy(os.path.join(x, "usr/sbin/nginx"),
                os.path.join(root, "usr/sbin"))
    mods = []
    for n in ("ndk_http_module.so", "ngx_http_lua_module.so"):
        dst = os.path.join(root, "usr/lib/nginx/modules", n)
        shutil.copy(os.path.join(x, "usr/lib/nginx/modules", n), dst)
        mods.append(dst)
    shutil.copytree(os.path.join(x, "usr/share/lua/5.1"),
                    os.path.join(root, "usr/share/lua/5.1"), symlinks=False)
    copy_libs(x, root, [os.path.join(root, "usr/sbin/nginx")] + mods)
    kver = os.listdir(os.path.join(x, "lib/modules"))[0]
    kos = module_order(os.path.join(x, "lib/modules", kver), MODULES)
    for name, path in kos:
        shutil.copy(path, os.path.join(root, "lib/modules", name + ".ko"))
    with open(os.path.join(HERE, "linuxvm", "init")) as f:
        init = f.read().replace("@MODULES@", " ".join(n for n, _ in kos))
    with open(os.path.join(root, "init"), "w") as f:
        f.write(init)
    os.chmod(os.path.join(root, "init"), 0o755)
    # nginx's workers run as nobody (it is root in the guest).
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/:/bin/false\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    guest_certs = None
    if certs:
        guest_certs = ("/etc/nginx/server.pem", "/etc/nginx/server.key")
        for src, dst in zip(certs, guest_certs):
            shutil.copy(src, os.path.join(root, dst.lstrip("/")))
    with open(os.path.join(root, "etc/nginx/nginx.conf"), "w") as f:
        f.write(nginx_conf("/", str(GUEST_HTTP_PORT),
                           str(GUEST_HTTPS_PORT) if certs else None,
                           guest_certs, "/"))
    return [n for n, _ in kos]


def cpio_newc(root, out):
    """Writes root as an uncompressed newc cpio archive (the initramfs
    format; uncompressed so the guest spends no time inflating it)."""
    ino = [1]

    def entry(f, name, mode, data=b"", nlink=1):
        hdr = "070701" + "".join("%08X" % v for v in (
            ino[0], mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
            len(name) + 1, 0))
        ino[0] += 1
        f.write(hdr.encode() + name.encode() + b"\0")
        f.write(b"\0" * (-(110 + len(name) + 1) % 4))
        f.write(data)
        f.write(b"\0" * (-len(data) % 4))

    with open(out + ".tmp", "wb") as f:
        for d, dirs, files in os.walk(root):
            dirs.sort()
            rel = os.path.relpath(d, root)
            if rel != ".":
                entry(f, rel, 0o040755, nlink=2)
            for n in sorted(files):
                p = os.path.join(d, n)
                name = os.path.normpath(os.path.join(rel, n))
                with open(p, "rb") as g:
                    entry(f, name, 0o100000 | (os.stat(p).st_mode & 0o777),
                          g.read())
        # busybox applets as symlinks (busybox runs the one named argv[0])
        for applet in ("sh", "mount", "ip", "insmod", "cat", "sleep", "ls",
                       "echo", "mkdir", "ps", "free", "dmesg"):
            entry(f, "bin/" + applet, 0o120777, b"busybox")
        entry(f, "TRAILER!!!", 0)
    os.replace(out + ".tmp", out)


# ---------------------------------------------------------------- ensure


def inputs_key(certs):
    """What the assembled files depend on: this code, the init script and
    nginx.conf template, the certificates."""
    h = hashlib.sha256()
    for p in (__file__, os.path.join(HERE, "linuxvm", "init"),
              os.path.join(HERE, "linuxvm", "nginx.conf")) + tuple(
                  certs or ()):
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def ensure(certs=None):
    """Fetches, extracts and assembles the kernel and initramfs (with the
    certificates (pem, key) baked in when given: HTTPS on 8443 too).
    Idempotent; fast when nothing changed. Returns the info dict (paths,
    sizes, versions); raises RuntimeError when something can't be had."""
    tag = "tls" if certs else "http"
    stamp = os.path.join(DIR, "info-%s.json" % tag)
    key = inputs_key(certs)
    try:
        with open(stamp) as f:
            info = json.load(f)
        if info.get("key") == key and all(
                os.path.exists(info[k]) for k in ("kernel", "initrd", "root")):
            return info
    except (OSError, ValueError, KeyError):
        pass
    t0 = time.monotonic()
    kpkg = kernel_package()
    debs = fetch([kpkg] + USER_PACKAGES)
    x = os.path.join(DIR, "extract")
    shutil.rmtree(x, ignore_errors=True)
    os.makedirs(x)
    packages, sums = {}, {}
    for name, deb in debs.items():
        subprocess.run(["dpkg-deb", "-x", deb, x], check=True)
        packages[name] = deb_field(deb, "Version")
        sums[name] = sha256(deb)
    kver = kpkg[len("linux-image-"):]
    vmlinuz = os.path.join(x, "boot", "vmlinuz-" + kver)
    kernel = os.path.join(DIR, "vmlinux-" + kver)
    if not os.path.exists(kernel):
        vmlinux_from_bzimage(vmlinuz, kernel)
    vmlinuz_bytes = os.path.getsize(vmlinuz)
    root = os.path.join(DIR, "root-" + tag)
    mods = assemble(x, root, certs)
    initrd = os.path.join(DIR, "initrd-%s.cpio" % tag)
    cpio_newc(root, initrd)
    shutil.rmtree(x, ignore_errors=True)
    info = {
        "kernel": kernel, "initrd": initrd, "root": root,
        "kernel_bytes": os.path.getsize(kernel),
        "vmlinuz_bytes": vmlinuz_bytes,
        "initrd_bytes": os.path.getsize(initrd),
        "version": kver, "kernel_package": kpkg,
        "packages": packages, "sha256": sums, "modules": mods,
        "cmdline": CMDLINE, "tls": bool(certs), "key": key,
    }
    with open(stamp + ".tmp", "w") as f:
        json.dump(info, f, indent=1)
    os.replace(stamp + ".tmp", stamp)
    common.log("linuxvm: assembled %s + initramfs (%d KiB) in %.1f s" % (
        kpkg, info["initrd_bytes"] >> 10, time.monotonic() - t0))
    return info


# ---------------------------------------------------------------- running

_tsc_khz = []


def host_tsc_khz():
    """The host's TSC frequency in kHz, or None. Under TCG the guest reads
    the host's TSC, and Linux's calibration of it against the PIT fails
    now and then under emulation (no HPET or ACPI PM timer on microvm to
    fall back on): the guest then marks the TSC unstable and hangs. Giving
    the frequency (tsc_early_khz=) skips that calibration."""
    if _tsc_khz:
        return _tsc_khz[0]
    khz = None
    try:
        out = common.run_cmd(["dmesg"], 10, capture_output=True,
                             text=True).stdout
        for pat in (r"Refined TSC clocksource calibration: ([\d.]+) MHz",
                    r"tsc: Detected ([\d.]+) MHz processor"):
            m = re.search(pat, out)
            if m:
                khz = int(float(m.group(1)) * 1000)
                break
    except (OSError, subprocess.SubprocessError):
        pass
    if khz is None:
        # A CPU whose TSC ticks at a constant rate: cpuinfo's MHz is the
        # TSC's on a VM, an approximation on bare metal.
        with open("/proc/cpuinfo") as f:
            text = f.read()
        m = re.search(r"cpu MHz\s*:\s*([\d.]+)", text)
        if m and "constant_tsc" in text:
            khz = int(float(m.group(1)) * 1000)
    _tsc_khz.append(khz)
    return khz



def qemu_command(info, mem_mib, accel, net_args, ip="10.0.2.15/24",
                 gw="10.0.2.2"):
    """QEMU's argv for the Linux microVM: lunik's qemu_command (machine,
    CPU model, memory, serial console on stdout) with Debian's kernel, the
    initramfs and the devices of lunik's runs (modern virtio-mmio,
    net_args, virtio-rng)."""
    args = [CMDLINE, "bench_ip=" + ip, "bench_gw=" + gw]
    if accel == "tcg" and host_tsc_khz():
        args.append("tsc_early_khz=%d" % host_tsc_khz())
    devices = (["-global", "virtio-mmio.force-legacy=false"] +
               list(net_args) + ["-device", "virtio-rng-device",
                                 "-initrd", info["initrd"]])
    return common.lunik().qemu_command(info["kernel"], mem_mib << 20, accel,
                                       args, devices)


@contextlib.contextmanager
def host_nginx(port, tls_port=None, certs=None):
    """Runs the host baseline (the initramfs tree's nginx, through its own
    dynamic loader so no host library is used) on 127.0.0.1:port, and
    tls_port with certs; stops it on exit. Raises RuntimeError when it does
    not answer."""
    if tls_port and not certs:
        raise RuntimeError("linuxvm: host_nginx: tls_port needs certs")
    info = ensure(certs if tls_port else None)
    root = info["root"]
    prefix = os.path.join(DIR, "host-%d" % port)
    shutil.rmtree(prefix, ignore_errors=True)
    os.makedirs(os.path.join(prefix, "tmp"))
    # The host's workers, when started as root, run as nobody: it must be
    # able to write the temporary folders nginx makes there.
    os.chmod(os.path.join(prefix, "tmp"), 0o1777)
    conf = os.path.join(prefix, "nginx.conf")
    text = nginx_conf(prefix, "127.0.0.1:%d" % port,
                      "127.0.0.1:%d" % tls_port if tls_port else None,
                      [os.path.abspath(c) for c in certs] if tls_port
                      else None, root)
    text = text.replace(os.path.join(prefix, "usr/lib/nginx/modules"),
                        os.path.join(root, "usr/lib/nginx/modules"))
    with open(conf, "w") as f:
        f.write(text)
    loader = os.path.join(root, "lib64", "ld-linux-x86-64.so.2")
    cmd = [loader, "--library-path", os.path.join(root, LIBDIR),
           os.path.join(root, "usr/sbin/nginx"), "-p", prefix + "/",
           "-e", "stderr", "-c", conf, "-g", "daemon off;"]
    log = open(os.path.join(prefix, "nginx.log"), "wb")
    p = common.spawn(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = "http://127.0.0.1:%d%s" % (port, HEALTH_PATH)
        if common.wait_http(url, time.perf_counter() + 10, p) is None:
            common.stop(p)
            with open(os.path.join(prefix, "nginx.log"), "rb") as f:
                tail = f.read()[-800:].decode(errors="replace")
            raise RuntimeError("linuxvm: host nginx did not answer on port "
                               "%d:\n%s" % (port, tail))
        yield p
    finally:
        common.stop(p)
        log.close()
