"""hosted -- the hosted platform from the command line: `lunik build
--hosted` links an app's ROM archive into a Linux executable, and `lunik
run --hosted` / `lunik test --hosted` run one as a process
(docs/hosted.md).

The executable is the runtime that `make hosted` built once for the host
(build/hosted/lunik.o, the runtime, bindings and hosted/ together, and the
third-party archives beside it) linked with the same ROM archive the guest
image gets; nothing is compiled. Its own options mirror lunik run's device
options (--mem, --disk, --net, -p), checked here first with the same
functions as for QEMU, so a bad one fails in one line before it starts.
"""

import os
import shlex
import signal
import subprocess
import types

from . import devices, paths
from .errors import Error, STATUS_FAILED, note

# fuzz: the asan variant's objects (they carry libFuzzer's coverage hooks)
# linked with libFuzzer, whose main() a fuzz target's --link object feeds.
VARIANTS = {"plain": "hosted", "asan": "hosted-asan", "fuzz": "hosted-asan"}
ROM_SECTION = "lunik_rom"  # hosted/files.c reads its bounds
LIBS = ("lunik.o", "lunik-modules.a", "libmbedtls.a", "libmbedx509.a",
        "libmbedcrypto.a", "liblua.a", "liblwip.a")


def parts(variant="plain"):
    """The objects, archives and link flags of a variant of the hosted
    runtime; raises Error with what to do when it is not built."""
    d = os.path.join(paths.BUILD, VARIANTS[variant])
    files = [os.path.join(d, n) for n in LIBS]
    flags = os.path.join(d, "ldflags")
    missing = [p for p in files + [flags] if not os.path.exists(p)]
    if missing:
        why = ""
        if not os.path.exists("/usr/include/slirp/libslirp.h"):
            why = " (it needs libslirp: apt-get install libslirp-dev pkg-config)"
        raise Error("--hosted: the hosted platform is not built (%s missing): "
                    "run `make hosted` in %s%s"
                    % (paths.rel(missing[0]), paths.ROOT, why), STATUS_FAILED)
    with open(flags) as f:
        return files, shlex.split(f.read())  # the driver, then its flags


def link(rom_bin, out, tmp, variant="plain", run_tool=None, objs=(),
         openers=()):
    """Links the ROM archive at rom_bin, and objs (built for the host),
    into the executable out, with the bindings whose luaopen_ functions
    are named in openers (bundle.openers: the guest image's selection)."""
    files, flags = parts(variant)
    rom_obj = os.path.join(tmp, "rom-hosted.o")
    run_tool(["objcopy", "-I", "binary", "-O", "elf64-x86-64",
              "-B", "i386:x86-64", "--rename-section",
              ".data=%s,alloc,load,readonly,data,contents" % ROM_SECTION,
              "--set-section-alignment", "%s=4096" % ROM_SECTION,
              os.path.basename(rom_bin), rom_obj], cwd=os.path.dirname(rom_bin))
    # A fuzz target gets libFuzzer's main(), the others start.o's.
    start = ["-fsanitize=fuzzer"] if variant == "fuzz" else [os.path.join(
        os.path.dirname(files[0]), "start.o")]
    run_tool(flags[:1] + ["-o", out, files[0], rom_obj] + start + list(objs) +
             ["-Wl,-u," + o for o in openers] + files[1:] + flags[1:])


def command(exe, a, args):
    """The executable's command line for run or test options a (the
    device options checked and disks created as for QEMU) and boot
    arguments args."""
    if a.accel:
        raise Error("--%s does not go with --hosted: the hosted platform "
                    "is a process, with no virtual machine" % a.accel)
    if a.machine not in (None, "microvm"):  # None: run's "not given"
        raise Error("--machine %s does not go with --hosted" % a.machine)
    if a.x_qemu:
        raise Error("--x-qemu does not go with --hosted")
    forwards = devices.parse_forwards(a.publish)
    kind, name = devices.parse_net(a.net, forwards)
    cmd = [exe, "--mem", str(a.mem_bytes), "--net",
           {"user": "user", "none": "none"}.get(kind, "tap:%s" % name)]
    for proto, host, _ in forwards:
        devices.check_host_port(proto, host)
    for proto, host, guest in forwards:
        cmd += ["-p", "%d:%d%s" % (host, guest,
                                   "/udp" if proto == "udp" else "")]
    for path, ro in devices.prepare_disks(a.disk):
        if not os.path.isfile(path):
            raise Error("--disk %s: not a file" % path)
        cmd += ["--disk", path + (":ro" if ro else "")]
    return cmd + ["--"] + list(args)


def run(cmd, timeout=None):
    """Runs a hosted executable with the console on our stdout; returns
    its status as lunik run returns a guest's (124 on timeout, 128 + N
    for a death by signal N). A first Ctrl-C or SIGTERM is passed on (the
    power button: a graceful shutdown), a second kills it (130)."""
    from .qemu import die_with_parent, wait_child
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            start_new_session=True,
                            preexec_fn=die_with_parent)
    stopper = types.SimpleNamespace(count=0)

    def handle(sig, frame):
        stopper.count += 1
        if stopper.count == 1:
            note("shutting down (%s again stops it at once)"
                 % ("Ctrl-C" if sig == signal.SIGINT else "SIGTERM"))
            proc.send_signal(signal.SIGTERM)

    saved = {s: signal.signal(s, handle)
             for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        status, rc = wait_child(proc, timeout, stopper)
        if status is not None:
            return status
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return 128 - rc if rc < 0 else rc


def run_app(path, a, entry=None):
    """lunik run --hosted / lunik test --hosted: runs the executable at
    path, or builds one of the folder path (entry: the test runner) into
    a temporary file first; returns the status."""
    from . import image, qemu
    a.mem_bytes = qemu.parse_mem(a.mem)
    if os.path.isdir(path):
        image.check_app(path, entry)
    elif not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise Error("%s: no such executable (lunik build --hosted makes one)"
                    % path)
    cmd = command(path, a, [qemu.quote_arg(x) for x in a.args])
    exe, temp = image.temp_image(path, entry=entry, hosted=a.hosted,
                                 lua_paths=a.lua_path, includes=a.include)
    try:
        os.chmod(exe, 0o755)
        cmd[0] = exe
        return run(cmd, a.timeout)
    finally:
        if temp:
            os.unlink(exe)
