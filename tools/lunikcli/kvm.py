"""kvm -- whether KVM runs lunik guests natively on this host.

Some hosts expose a /dev/kvm without hardware virtualization (Linux's PVM,
kvm_pvm): KVM there emulates every guest instruction and stops at the
first SSE one. A tiny probe kernel (tools/kvm-probe.S) is booted once per
host boot and QEMU binary to find out; the answer is cached.
"""

import os
import selectors
import shutil
import subprocess
import time

from . import paths
from .errors import Error, STATUS_FAILED

KVM_EMULATES = ("this host's KVM emulates guest instructions instead of "
                "running them (no hardware virtualization: kvm_pvm or "
                "similar)")


def openable():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def probe_cpu(probe, cpu):
    """Boots the probe kernel under KVM with -cpu cpu. Returns None when it
    ran natively, else why not."""
    from . import qemu
    proc = subprocess.Popen(qemu.base_args(32 << 20, "kvm", cpu) +
                            ["-kernel", probe], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    err = b""
    deadline = time.monotonic() + 5
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    try:
        # An emulating KVM stops the guest at the first SSE instruction
        # and QEMU waits, having said so on stderr; a slow loop times out.
        while time.monotonic() < deadline:
            if sel.select(timeout=0.05):
                chunk = os.read(proc.stderr.fileno(), 4096)
                err += chunk
                if not chunk:
                    break
                if b"internal error" in err or b"emulation failure" in err:
                    return KVM_EMULATES
        else:
            return KVM_EMULATES
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return KVM_EMULATES
    finally:
        sel.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    if proc.returncode == 3:
        return None
    err = err.decode(errors="replace").strip()
    return "qemu -accel kvm -cpu %s failed: %s" % (
        cpu, err.splitlines()[0] if err else "exit %d" % proc.returncode)


def state():
    """(cpu, None) when KVM runs lunik guests natively here, with the -cpu
    model it accepts; else (None, why). `-cpu host` aborts on some hosts
    ("failed to set MSR 0x10a"), so each candidate is tried."""
    if not openable():
        return None, "/dev/kvm is missing or not usable"
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise Error("qemu-system-x86_64 not found: "
                    "apt-get install qemu-system-x86", STATUS_FAILED)
    probe = os.path.join(paths.HOST, "kvm-probe.elf")
    if not os.path.exists(probe):
        raise Error("%s is not built: run `make` in %s"
                    % (paths.rel(probe), paths.ROOT), STATUS_FAILED)
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = "?"
    key = "%s %d %s %d" % (qemu, int(os.stat(qemu).st_mtime), boot,
                           int(os.stat(probe).st_mtime))
    cache = os.path.join(paths.cache_dir(), "kvm-state")
    try:
        with open(cache) as f:
            k, cpu, why = f.read().rstrip("\n").split("\t")
            if k == key:
                return cpu or None, why or None
    except (OSError, ValueError):
        pass
    why = None
    for cpu in ("host,-arch-capabilities", "host", "qemu64"):
        why = probe_cpu(probe, cpu)
        if why is None or why == KVM_EMULATES:
            break
    cpu = None if why else cpu
    with open(cache, "w") as f:
        f.write("%s\t%s\t%s\n" % (key, cpu or "", why or ""))
    return cpu, why
