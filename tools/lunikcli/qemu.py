"""qemu -- the QEMU command line for an image, and running a guest.

Guest exit statuses arrive through isa-debug-exit as (status + 1): QEMU
then exits with 2 * (status + 1) + 1, so 0 and 1 stay free for QEMU's own
outcomes (0: the guest reset itself under -no-reboot; 1: QEMU failed).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

from . import console, elf, kvm, machines, qmp
from .errors import Error, note

STATUS_ERROR = 1
STATUS_TIMEOUT = 124
STATUS_PANIC = 125
STATUS_RESET = 126
MIN_MEM = 2 << 20  # below that no image fits (they load at 1 MiB)
HEAP_MIN = 256 << 10  # what an image needs above its end to start Lua


def parse_mem(s):
    """--mem SIZE -> bytes; raises Error for a bad or too small size."""
    m = re.fullmatch(r"(\d+)([KMG]?)i?B?", s.strip(), re.I)
    if not m:
        raise Error("bad size %r: use a number with K, M or G, e.g. 128M" % s)
    n = int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20,
                           "G": 1 << 30}[m.group(2).upper()]
    if n < MIN_MEM:
        raise Error("--mem %s is too small: lunik needs at least %dM"
                    % (s, MIN_MEM >> 20))
    return n


def base_args(mem, accel, cpu, machine=None):
    """QEMU's machine (a machines.Machine; None: microvm), one vCPU, no
    default devices, an exit port."""
    machine = machine or machines.machine()
    return ["qemu-system-x86_64", "-M", machine.qemu,
            "-accel", accel, "-cpu", cpu, "-smp", "1",
            "-m", "%dM" % (mem >> 20), "-nodefaults", "-no-user-config",
            "-display", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def quote_arg(a):
    """A key=value boot argument as the kernel's command line parser
    reads it: a value with spaces is quoted."""
    if " " in a and '"' not in a:
        k, eq, v = a.partition("=")
        return '%s="%s"' % (k, v) if eq else '"%s"' % a
    return a


def check_boot_args(args):
    for a in args:
        if '"' in a and a.count('"') % 2:
            raise Error("boot argument %r has an unmatched quote" % a)


def command(image, mem, accel, args, devices=(), machine=None):
    """The QEMU command that boots image with the console on stdio, on
    machine (a machines.Machine; None: microvm)."""
    if accel == "kvm":
        cmd = base_args(mem, "kvm", kvm.state()[0], machine)
    else:
        cmd = base_args(mem, "tcg", "qemu64", machine)
    cmd += ["-chardev", "stdio,id=con,signal=on", "-serial", "chardev:con",
            "-kernel", image] + list(devices)
    if args:
        cmd += ["-append", " ".join(args)]
    return cmd


def pick_accel(accel):
    """"kvm" or "tcg" for the --kvm/--tcg choice (None: KVM where it runs
    guests natively, saying why not where /dev/kvm exists but can't)."""
    if accel == "tcg":
        return "tcg"
    cpu, why = kvm.state()
    if accel == "kvm" and not cpu:
        raise Error("--kvm: %s; use --tcg" % why)
    if accel is None and not cpu and os.path.exists("/dev/kvm"):
        note("%s: using software emulation" % why)
    return "kvm" if cpu else "tcg"


def die_with_parent():
    """In QEMU's child before exec: SIGKILL it when lunik dies, however
    lunik dies (prctl PR_SET_PDEATHSIG), so no guest outlives its
    launcher."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the prctl
        os._exit(1)


def decode_status(rc):
    """The guest's exit status from QEMU's."""
    if rc < 0:
        return 128 - rc
    if rc >= 3 and rc % 2 == 1:
        return (rc - 3) // 2
    if rc == 0:
        note("QEMU ended without the guest's exit status (the guest "
             "reset itself, or QEMU was stopped)")
        return STATUS_RESET
    return STATUS_ERROR


def stop(proc):
    """Ends QEMU: SIGTERM first (it restores the terminal), then SIGKILL."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Stop:
    """SIGINT and SIGTERM while a guest runs: the first asks the guest to
    shut down gracefully (QMP system_powerdown: the ACPI power button),
    the second stops QEMU at once."""

    def __init__(self, qmp_path):
        self.qmp_path, self.count, self.saved = qmp_path, 0, {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc):
        for sig, h in self.saved.items():
            signal.signal(sig, h)

    def handle(self, sig, frame):
        self.count += 1
        if self.count > 1:
            return
        # Said before the button is pressed, so the guest's own lines come
        # after it rather than through it (the console shares our output).
        note("shutting the guest down (%s again stops it at once)"
             % ("Ctrl-C" if sig == signal.SIGINT else "SIGTERM"))
        try:
            qmp.command(self.qmp_path, "system_powerdown")
        except qmp.QmpError as e:
            note("could not ask the guest to shut down (%s): stopping it" % e)
            self.count += 1


def check_mem(image, mem):
    """Raises Error when mem bytes of guest memory cannot hold the image
    (its code, data, stacks) and a heap to start Lua in."""
    end = elf.load_end(image)
    if end and mem < end + HEAP_MIN:
        need = -(-(end + HEAP_MIN) // (1 << 20))
        raise Error("--mem %dM is too small for %s: it takes memory up to "
                    "%.1f MiB; give it at least %dM" % (
                        mem >> 20, image, end / (1 << 20), need))


def start(image, mem=128 << 20, accel=None, args=(), devices=(),
          machine=None, pipe=True):
    """Starts QEMU booting image on machine (a machines.Machine; None:
    microvm) with the QEMU device options devices (devices.device_args)
    and a QMP socket; returns (process, QMP socket path). The console is
    the process's stdout: a pipe (console.Console reads it), or ours
    when pipe is false."""
    if not os.path.isfile(image):
        raise Error("%s: no such image" % image)
    check_mem(image, mem)
    accel = pick_accel(accel)
    check_boot_args(args)
    qmp_path = qmp.socket_path()
    cmd = command(image, mem, accel, [quote_arg(a) for a in args],
                  list(devices) + qmp.args(qmp_path), machine)
    # QEMU gets a session of its own and no stdin: the terminal's Ctrl-C
    # comes to us, and we ask the guest to stop (the console takes no
    # input: io.read sees end of file).
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE if pipe else None,
                            start_new_session=True,
                            preexec_fn=die_with_parent)
    return proc, qmp_path


def run_image(image, mem=128 << 20, accel=None, args=(), timeout=None,
              devices=(), machine=None, ports=(), on_ready=None, lines=None):
    """Boots image (see start) with the console on our stdout; returns
    its status. on_ready() runs once the guest listens on every TCP port
    in ports; lines filters the console (console.Console). Without any
    of them QEMU writes the console to our stdout itself, so nothing of
    it is in flight in lunik when lunik is killed. A first Ctrl-C or
    SIGTERM shuts the guest down gracefully, a second stops it (status
    130)."""
    read = bool(ports) or on_ready is not None or lines is not None
    proc, qmp_path = start(image, mem, accel, args, devices, machine, read)
    con = console.Console(proc.stdout, ports, on_ready, lines=lines) \
        if read else None
    try:
        with Stop(qmp_path) as stopper:
            status, rc = wait_child(proc, timeout, stopper)
            if status is not None:
                return status
    finally:
        stop(proc)
        if con:
            con.join()
        shutil.rmtree(os.path.dirname(qmp_path), ignore_errors=True)
    return decode_status(rc)


def wait_child(proc, timeout, stopper):
    """Waits for proc (QEMU, or a hosted executable) to end: (None, its
    return code); (STATUS_TIMEOUT, None) after timeout seconds (None: no
    limit), saying so; (130, None) once stopper.count (the signals a Stop
    counts) passes 1."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if stopper.count > 1:
            # QMP fails too when QEMU is already powering off (a guest
            # that shuts down at once): its own status then.
            try:
                return None, proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                return 130, None
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            print("\nlunik: timed out after %gs" % timeout, file=sys.stderr)
            return STATUS_TIMEOUT, None
        try:
            return None, proc.wait(timeout=0.2 if left is None
                                   else min(0.2, left))
        except subprocess.TimeoutExpired:
            continue
