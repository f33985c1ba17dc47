"""harness.py -- what the system tests stand on: building test images,
booting them through `tools/lunik run` with a deadline, and checks that
fail with the console output attached.

Every QEMU a test starts runs under `lunik run --timeout` in a session of
its own; the harness kills that whole session when it returns, whatever
happened, so no QEMU outlives its test.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
APPS = os.path.join(HERE, "apps")
BUILD = os.path.join(ROOT, "build", "tests")
LUNIK = os.path.join(ROOT, "tools", "lunik")

TESTS = []


def test(fn, once=False):
    """Registers a system test, run under each accelerator: fn(ctx) raises
    Failure to fail."""
    TESTS.append((fn.__name__.replace("test_", "", 1), fn, once))
    return fn


def test_once(fn):
    """Registers a test that boots nothing: run once, not per accelerator."""
    return test(fn, once=True)


class Failure(Exception):
    pass


class Skip(Exception):
    """A test that cannot run here (no root, a tool missing): reported as
    skipped with the reason, never as passed."""


def skip(why):
    raise Skip(why)


def need_root(what):
    """Skips unless running as root, which (what) needs."""
    if os.geteuid() != 0:
        skip("needs root for %s" % what)


def need_tool(tool, package):
    """Skips unless (tool) is on the PATH; (package) is Debian's."""
    import shutil
    if not shutil.which(tool):
        skip("%s is missing (apt-get install %s)" % (tool, package))


def kvm_state():
    """(True, "kvm -cpu ...") when KVM runs guests natively here, else
    (False, why): `lunik accel` probes and caches the answer."""
    r = subprocess.run([LUNIK, "accel"], capture_output=True, text=True,
                       timeout=120)
    return r.returncode == 0, (r.stdout or r.stderr).strip()


class Result:
    def __init__(self, status, out, cpu, wall):
        self.status, self.out, self.cpu, self.wall = status, out, cpu, wall

    def fail(self, why):
        tail = self.out[-3000:]
        raise Failure("%s\n--- status %s, console:\n%s" % (why, self.status, tail))

    def expect_status(self, status):
        if self.status != status:
            self.fail("expected exit status %d" % status)
        return self

    def expect(self, *patterns):
        for p in patterns:
            if not re.search(p, self.out, re.M):
                self.fail("expected output matching %r" % p)
        return self

    def expect_not(self, *patterns):
        for p in patterns:
            if re.search(p, self.out, re.M):
                self.fail("unexpected output matching %r" % p)
        return self

    def find(self, pattern):
        m = re.search(pattern, self.out, re.M)
        if not m:
            self.fail("expected output matching %r" % pattern)
        return m


_images = {}


def run_cmd(argv, timeout=120):
    """Runs a host command in its own session; returns (rc, output, cpu)
    and kills the session when done, even on a timeout."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out = b"(harness: timed out after %ds)" % timeout
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.returncode is None:
            proc.wait()
    ru = _child_cpu()
    return proc.returncode, out.decode(errors="replace"), ru, time.monotonic() - t0


_last_cpu = [0.0]


def _child_cpu():
    """CPU seconds used by waited-for children since the previous call."""
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = r.ru_utime + r.ru_stime
    delta = total - _last_cpu[0]
    _last_cpu[0] = total
    return delta


def build(app, link=(), entry=None, out=None, check=True):
    key = (app, tuple(link), entry, check)
    if out is None and key in _images:
        return _images[key]
    os.makedirs(BUILD, exist_ok=True)
    src = app if os.path.isabs(app) else os.path.join(APPS, app)
    if not os.path.isdir(src):
        src = os.path.join(ROOT, app)
    image = out or os.path.join(BUILD, "%s%s.elf" % (
        os.path.basename(app.rstrip("/")), "-link" if link else ""))
    argv = [LUNIK, "build", "-q", src, "-o", image]
    for obj in link:
        argv += ["--link", obj]
    if entry:
        argv += ["--entry", entry]
    if not check:
        argv += ["--no-check"]
    rc, text, _, _ = run_cmd(argv)
    if rc != 0:
        raise Failure("lunik build %s failed:\n%s" % (app, text))
    if out is None:
        _images[key] = image
    return image


class Ctx:
    def __init__(self, accel):
        self.accel = accel

    def boot(self, app, args=(), mem="128M", timeout=None, link=()):
        """Builds (once) and boots app; returns its Result."""
        image = build(app, link)
        return self.run_image(image, args, mem, timeout)

    def run_image(self, image, args=(), mem="128M", timeout=None):
        timeout = timeout or (30 if self.accel == "kvm" else 90)
        argv = [LUNIK, "run", image, "--" + self.accel, "--mem", mem,
                "--timeout", str(timeout)]
        if args:
            argv += ["--"] + list(args)
        rc, out, cpu, wall = run_cmd(argv, timeout + 30)
        return Result(rc, out, cpu, wall)

    def lunik(self, *argv, timeout=None):
        """Runs the lunik command itself; returns its Result."""
        timeout = timeout or (60 if self.accel == "kvm" else 180)
        extra = ["--" + self.accel] if argv and argv[0] in ("run", "test") else []
        rc, out, cpu, wall = run_cmd([LUNIK] + list(argv[:2]) + extra +
                                     list(argv[2:]), timeout)
        return Result(rc, out, cpu, wall)


class Live:
    """A guest whose console is read while it runs, so the test can act
    on what it says. kill() ends its whole session."""

    def __init__(self, argv):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.lines, self.eof = [], False
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.cv:
                self.lines.append(raw.decode(errors="replace"))
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def result(self):
        with self.cv:
            out = "".join(self.lines)
        return Result(self.proc.poll(), out, 0, time.monotonic() - self.t0)

    def wait_for(self, pattern, timeout, context=None):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not any(re.search(pattern, l) for l in self.lines):
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    self.result().fail("%sexpected output matching %r (%s)"
                                       % (context + ": " if context else "",
                                          pattern, "the guest ended" if self.eof
                                          else "timed out after %gs" % timeout))
                self.cv.wait(left)

    def finish(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.result().fail("the guest did not finish in %ds" % timeout)
        self.reader.join(5)
        return self.result()

    def kill(self):
        """SIGKILLs the launcher's session; QEMU dies with its launcher
        (tools/lunik sets PR_SET_PDEATHSIG). Returns once the console pipe
        is closed, i.e. once QEMU has exited and released its files."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.reader.join(30)
        if self.reader.is_alive():
            raise Failure("QEMU did not exit within 30 s of its launcher")
        self.proc.stdout.close()


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()
