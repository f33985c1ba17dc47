"""suite_engine.py -- lunik services on an engine: `lunik domain` under a
libvirt daemon the test starts itself, the graceful shutdown (virsh
shutdown, lunik run's SIGTERM), and examples/replicated: three replicas
behind HAProxy swapped to a new image by a rolling update under load.

The libvirt daemon is Debian's libvirtd in session mode, in a temp dir of
its own (its sockets, configuration, logs and domains there), run as the
libvirt-qemu user when the tests run as root; every test stops its
domains and the daemon, by pid, even when it fails.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import (APPS, BUILD, LUNIK, ROOT, Failure, Live, build, free_port,
                     need_tool, run_cmd, skip, test, test_once)


class Libvirtd:
    """A private libvirtd (qemu:///session) in a temp dir."""

    def __init__(self):
        need_tool("libvirtd", "libvirt-daemon-system")
        need_tool("virsh", "libvirt-clients")
        self.dir = tempfile.mkdtemp(prefix="lunik-libvirt-")
        os.chmod(self.dir, 0o755)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        for name in ("home", "run", "config", "cache"):
            os.makedirs(os.path.join(self.dir, name))
        env.update(HOME=os.path.join(self.dir, "home"),
                   XDG_RUNTIME_DIR=os.path.join(self.dir, "run"),
                   XDG_CONFIG_HOME=os.path.join(self.dir, "config"),
                   XDG_CACHE_HOME=os.path.join(self.dir, "cache"))
        argv = ["libvirtd", "--timeout", "600"]
        self.user = None
        if os.geteuid() == 0:
            import pwd
            try:
                pw = pwd.getpwnam("libvirt-qemu")
            except KeyError:
                shutil.rmtree(self.dir)
                skip("no libvirt-qemu user (install libvirt-daemon-system)")
            self.user = pw
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            argv = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                    "--clear-groups"] + argv
        self.log = open(os.path.join(self.dir, "libvirtd.log"), "wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=self.dir, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.uri = "qemu+unix:///session?socket=%s/run/libvirt/libvirt-sock" % self.dir
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.virsh("version", check=False).returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        tail = self.tail()
        self.close()
        raise Failure("libvirtd did not start:\n" + tail)

    def tail(self):
        with open(os.path.join(self.dir, "libvirtd.log"), errors="replace") as f:
            return f.read()[-2000:]

    def own(self, path):
        """Lets the daemon's user read and write path."""
        if self.user:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def virsh(self, *args, check=True, timeout=120):
        r = subprocess.run(["virsh", "-q", "-c", self.uri] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise Failure("virsh %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
        return r

    def domains(self):
        r = self.virsh("list", "--all", "--name", check=False)
        return [n for n in r.stdout.split() if n]

    def close(self):
        if self.proc.poll() is None:
            for name in self.domains():
                self.virsh("destroy", name, check=False, timeout=30)
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # QEMUs the daemon started, if any outlived it
        subprocess.run(["pkill", "-KILL", "-f", "guest=lunik-t-"], capture_output=True)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def http_get(port, path, timeout=30, method="GET", body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_http(port, timeout, console=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http_get(port, "/healthz", 5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    text = ""
    if console and os.path.exists(console):
        with open(console, errors="replace") as f:
            text = f.read()[-1500:]
    raise Failure("no answer on port %d within %d s; console:\n%s" % (port, timeout, text))


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def libvirt_shutdown_keeps_acknowledged(ctx, machine):
    lv = Libvirtd()
    try:
        image = build("engine")
        disk = os.path.join(lv.dir, "engine.img")
        with open(disk, "wb") as f:
            f.truncate(16 << 20)
        lv.own(disk)
        console = os.path.join(lv.dir, "console.log")
        port = free_port(socket.SOCK_STREAM)
        name = "lunik-t-%s-%d" % (machine, os.getpid())

        def boot():
            r = run_cmd([LUNIK, "domain", image, "--machine", machine, "--name", name,
                         "--" + ctx.accel, "-p", "%d:8080" % port, "--disk", disk,
                         "--console", console])
            if r[0] != 0:
                raise Failure("lunik domain: %s" % r[1])
            xml = os.path.join(lv.dir, "domain.xml")
            with open(xml, "w") as f:
                f.write(r[1])
            lv.virsh("create", xml)
            wait_http(port, 120, console)

        boot()
        info = lv.virsh("dominfo", name).stdout
        if not re.search(r"State:\s+running", info):
            raise Failure("virsh dominfo: %s" % info)
        for i in range(20):
            st, _ = http_get(port, "/items/k%d" % i, method="PUT", body=b"v%d" % i)
            if st != 204:
                raise Failure("PUT k%d: %d" % (i, st))
        slow = {}

        def slow_request():
            try:
                slow["answer"] = http_get(port, "/slow?s=3", 30)
            except OSError as e:
                slow["answer"] = ("error", str(e))

        t = threading.Thread(target=slow_request, daemon=True)
        t.start()
        time.sleep(0.7)
        t0 = time.monotonic()
        lv.virsh("shutdown", name)
        while name in lv.domains() and time.monotonic() - t0 < 30:
            time.sleep(0.2)
        took = time.monotonic() - t0
        t.join(30)
        text = read(console)
        if name in lv.domains():
            raise Failure("the domain still runs %.0f s after virsh shutdown:\n%s"
                          % (took, text[-1500:]))
        if slow.get("answer") != (200, b"slow done"):
            raise Failure("the slow request got %r\n%s" % (slow.get("answer"), text[-1500:]))
        for line in (r"lunik: shutting down \(power button\)", r"engine: shutdown handler ran",
                     r"lunik: shut down in [\d.]+ s"):
            if not re.search(line, text):
                raise Failure("the console lacks %r:\n%s" % (line, text[-1500:]))
        # the same disk, booted again, has every acknowledged item
        os.unlink(console)
        boot()
        st, body = http_get(port, "/count")
        if st != 200 or json.loads(body) != {"items": 20}:
            raise Failure("after the reboot: %s %r" % (st, body))
        lv.virsh("destroy", name, check=False)
    except Failure as e:
        raise Failure("%s\n--- libvirtd log:\n%s" % (e, lv.tail()[-800:]))
    finally:
        lv.close()


@test
def test_libvirt_microvm_graceful_shutdown(ctx):
    """lunik domain + virsh create on microvm with a port forward and a
    disk; virsh shutdown lets a slow request finish, ends the domain, and
    a second boot on the disk reads every acknowledged item."""
    libvirt_shutdown_keeps_acknowledged(ctx, "microvm")


@test
def test_libvirt_q35_graceful_shutdown(ctx):
    """The same on q35: every device libvirt expresses natively but the
    host forward of -p."""
    libvirt_shutdown_keeps_acknowledged(ctx, "q35")


@test
def test_lunik_run_graceful_stop(ctx):
    """SIGTERM to lunik run: a slow request in flight finishes, the
    shutdown handlers run, and lunik exits with the guest's 0; a second
    signal while the shutdown waits stops it at once (130)."""
    port = free_port(socket.SOCK_STREAM)
    image = build("engine")
    argv = [LUNIK, "run", image, "--" + ctx.accel, "--timeout", "120",
            "-p", "%d:8080" % port]
    for second in (False, True):
        guest = Live(argv + ["--", "lunik.shutdown_timeout=%d" % (30 if second else 10)])
        try:
            guest.wait_for(r"engine ready", 90)
            wait_http(port, 60)
            slow = {}

            def slow_request(secs=20 if second else 2):
                try:
                    slow["answer"] = http_get(port, "/slow?s=%d" % secs, 40)
                except OSError as e:
                    slow["answer"] = ("error", str(e))
            t = threading.Thread(target=slow_request, daemon=True)
            t.start()
            time.sleep(0.5)
            guest.proc.send_signal(signal.SIGTERM)
            if second:
                guest.wait_for(r"lunik: shutting down", 30)
                guest.proc.send_signal(signal.SIGTERM)
            r = guest.finish(60)
            if second:
                if r.status != 130:
                    r.fail("a second SIGTERM: status %s, not 130" % r.status)
                continue
            t.join(30)
            r.expect_status(0).expect(r"lunik: shutting down \(power button\)",
                                      r"engine: shutdown handler ran",
                                      r"lunik: shut down in [\d.]+ s")
            if slow.get("answer") != (200, b"slow done"):
                r.fail("the slow request got %r" % slow.get("answer"))
        finally:
            guest.kill()


@test_once
def test_domain_bad_input(ctx):
    """One clear line, status 2, nothing on stdout and nothing created."""
    tmp = tempfile.mkdtemp(prefix="lunik-domain-")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        image = build("engine")
        odd = os.path.join(tmp, "odd.img")
        with open(odd, "wb") as f:
            f.write(b"x" * 1000)
        cases = [
            ([os.path.join(tmp, "missing.elf")], r"missing\.elf: no such image"),
            ([image, "-p", "%d:8080" % busy.getsockname()[1]], r"cannot forward tcp port"),
            ([image, "--disk", odd], r"not a multiple of 512"),
            ([image, "--frobnicate"], r"unrecognized arguments: --frobnicate"),
            ([odd], r"not a lunik image"),
            ([image, "--disk", os.path.join(tmp, "new.img:1000")], r"multiple of 512"),
        ]
        for argv, pattern in cases:
            p = subprocess.run([LUNIK, "domain"] + argv, capture_output=True,
                               text=True, timeout=60)
            lines = p.stderr.strip().splitlines()
            if p.returncode != 2 or p.stdout or not re.search(pattern, p.stderr):
                raise Failure("lunik domain %s: status %s, stdout %r, stderr %r"
                              % (argv, p.returncode, p.stdout[:80], p.stderr))
            if len(lines) != 1 and "usage" not in p.stderr:
                raise Failure("more than one line: %r" % p.stderr)
        if os.path.exists(os.path.join(tmp, "new.img")):
            raise Failure("a refused domain created its disk")
    finally:
        busy.close()
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_replicas_rolling_update(ctx):
    """examples/replicated: 3 replicas behind HAProxy, a rolling update to
    a new image while a bounded load runs: 0 failed requests, and every
    replica ends on the new image."""
    need_tool("haproxy", "haproxy")
    lv = Libvirtd()
    work = os.path.join(lv.dir, "work")
    os.makedirs(work)
    lv.own(work)
    script = os.path.join(ROOT, "examples", "replicated", "replicas.py")
    front = free_port(socket.SOCK_STREAM)
    v1 = build("engine")
    v2 = os.path.join(BUILD, "engine-v2.elf")
    shutil.copy(v1, v2)
    env = dict(os.environ, PATH=os.environ["PATH"])

    def replicas(*args, timeout=600):
        r = subprocess.run(["python3", script, "--dir", work, "--uri", lv.uri] + list(args),
                           capture_output=True, text=True, timeout=timeout, env=env)
        if r.returncode != 0:
            raise Failure("replicas.py %s: %s%s" % (args[0], r.stdout, r.stderr))
        return r.stdout

    stop, counts = threading.Event(), {"ok": 0, "failed": [], "versions": set()}

    def load():
        conn = None
        deadline = time.monotonic() + 600
        while not stop.is_set() and time.monotonic() < deadline and counts["ok"] < 200000:
            try:
                if conn is None or counts["ok"] % 20 == 0:  # keep-alive and new connections
                    if conn:
                        conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", front, timeout=20)
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                body = r.read()
                if r.status == 200:
                    counts["ok"] += 1
                    counts["versions"].add(json.loads(body).get("version"))
                else:
                    counts["failed"].append(r.status)
            except (OSError, http.client.HTTPException) as e:
                counts["failed"].append(repr(e))
                conn = None
            time.sleep(0.005)
        if conn:
            conn.close()

    try:
        replicas("up", v1, "-n", "3", "--port", str(front), "--prefix",
                 "lunik-t-rep%d" % os.getpid(), "--", "version=1", "log=warn")
        threads = [threading.Thread(target=load, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(2)
        replicas("update", v2, "--", "version=2", "log=warn")
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join(60)
        status = replicas("status")
        if counts["failed"]:
            raise Failure("%d failed requests during the update (of %d): %r\n%s"
                          % (len(counts["failed"]), counts["ok"], counts["failed"][:5], status))
        if counts["ok"] < 50 or counts["versions"] != {"1", "2"}:
            raise Failure("%d requests served, versions %r" % (counts["ok"], counts["versions"]))
        running = [l for l in status.splitlines() if l.strip()]
        if len(running) != 3 or not all("engine-v2.elf" in l and "UP" in l for l in running):
            raise Failure("after the update:\n" + status)
        for l in running:
            port = int(re.search(r"127\.0\.0\.1:(\d+)", l).group(1))
            st, body = http_get(port, "/healthz")
            if json.loads(body).get("version") != "2":
                raise Failure("replica on %d still answers %r" % (port, body))
    finally:
        stop.set()
        try:
            replicas("down", timeout=120)
        except Failure:
            pass
        lv.close()
