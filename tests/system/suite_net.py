"""suite_net.py -- the network from the host: echo through port forwards,
many concurrent connections, the guest connecting out to the host through
QEMU user networking's gateway, DHCP, DNS against a responder the test
runs, ping, and errors that leave the service serving. Addresses are
127.0.0.1, QEMU's user network (10.0.2.x, inside QEMU), or a network
namespace the test makes.
"""

import hashlib
import os
import re
import socket
import struct
import subprocess
import threading
import time

from harness import LUNIK, Failure, Live, build, free_port, need_root, test


def boot(ctx, app, args=(), opts=(), ready=r"serving on|echo: tcp"):
    argv = [LUNIK, "run", build(app), "--" + ctx.accel, "--timeout", "600"] + \
        list(opts) + ["--"] + list(args)
    guest = Live(argv)
    if ready:
        try:
            guest.wait_for(ready, 90)
        except BaseException:
            guest.kill()
            raise
    return guest


def echo_once(port, data, timeout=60):
    """Sends data to a TCP echo service and returns what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        got = bytearray()
        sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
        sender.start()
        while len(got) < len(data):
            b = s.recv(1 << 20)
            if not b:
                break
            got += b
        sender.join(timeout)
        return bytes(got)


@test
def test_net_echo_from_host(ctx):
    port = free_port(socket.SOCK_STREAM)
    guest = boot(ctx, "examples/echo", opts=["-p", "%d:7000" % port,
                                             "-p", "%d:7000/udp" % port])
    try:
        out = subprocess.run(["nc", "-q", "1", "127.0.0.1", str(port)],
                             input=b"hello\nworld\n", capture_output=True, timeout=30)
        if out.stdout != b"hello\nworld\n":
            guest.result().fail("nc got %r" % out.stdout)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        for attempt in range(10):  # the forward may not be up at once
            u.sendto(b"ping %d" % attempt, ("127.0.0.1", port))
            try:
                data, _ = u.recvfrom(100)
                break
            except socket.timeout:
                data = None
        u.close()
        if not data or not data.startswith(b"ping"):
            guest.result().fail("no UDP echo")
    finally:
        guest.kill()


@test
def test_net_200_connections_1mib_each(ctx):
    """200 connections open at once, each echoing 1 MiB. They connect one
    after another (QEMU user networking's forwarder listens with a backlog
    of 1 and resets what overflows it), then all transfer together."""
    port = free_port(socket.SOCK_STREAM)
    guest = boot(ctx, "examples/echo", opts=["-p", "%d:7000" % port])
    results, errors = {}, []
    socks = []
    go = threading.Event()

    def client(i, s):
        data = os.urandom(1 << 20)
        go.wait(60)
        try:
            got = bytearray()
            sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
            sender.start()
            while len(got) < len(data):
                b = s.recv(1 << 20)
                if not b:
                    break
                got += b
            sender.join(300)
            results[i] = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        except OSError as e:
            errors.append("%d: %s" % (i, e))
        finally:
            s.close()

    try:
        threads = []
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", port), 30)
            s.settimeout(300)
            s.sendall(b"x")  # an echo proves the guest accepted it
            if s.recv(1) != b"x":
                raise Failure("connection %d was not echoed" % i)
            socks.append(s)
            t = threading.Thread(target=client, args=(i, s), daemon=True)
            t.start()
            threads.append(t)
        go.set()
        t0 = time.monotonic()
        for t in threads:
            t.join(max(1, 600 - (time.monotonic() - t0)))
        bad = [i for i in range(200) if not results.get(i)]
        if errors or bad:
            guest.result().fail("%d of 200 connections failed or differed: %s"
                                % (len(bad), errors[:5]))
    finally:
        go.set()
        for s in socks:
            s.close()
        guest.kill()


@test
def test_net_guest_connects_out(ctx):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = []

    def serve():
        srv.settimeout(60)
        try:
            c, _ = srv.accept()
            with c:
                got.append(c.makefile("rb").readline())
                c.sendall(b"hello from the host\n")
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    guest = boot(ctx, "netcheck", ["what=connect", "host=10.0.2.2", "port=%d" % port],
                 ready=None)
    try:
        r = guest.finish(90)
        r.expect_status(0).expect(r"^answer: hello from the host$")
        if got != [b"hello from the guest\n"]:
            r.fail("the host got %r" % got)
    finally:
        guest.kill()
        srv.close()


@test
def test_net_dhcp(ctx):
    guest = boot(ctx, "netcheck", ["what=info"], ready=None)
    try:
        guest.finish(90).expect_status(0).expect(
            r"^config=dhcp ip=10\.0\.2\.15 netmask=255\.255\.255\.0 "
            r"gateway=10\.0\.2\.2 dns=10\.0\.2\.3 mac=52:54:00:")
    finally:
        guest.kill()


@test
def test_net_static_config(ctx):
    guest = boot(ctx, "netcheck", ["what=info", "ip=10.0.2.20/24", "gw=10.0.2.2",
                                   "dns=10.0.2.3,10.0.2.4"], ready=None)
    try:
        guest.finish(90).expect_status(0).expect(
            r"^config=static ip=10\.0\.2\.20 netmask=255\.255\.255\.0 "
            r"gateway=10\.0\.2\.2 dns=10\.0\.2\.3,10\.0\.2\.4 ")
    finally:
        guest.kill()


@test
def test_net_errors_and_still_serving(ctx):
    closed = free_port(socket.SOCK_STREAM)  # nothing listens there
    port = free_port(socket.SOCK_STREAM)
    guest = boot(ctx, "netcheck", ["what=errors", "refused_port=%d" % closed],
                 opts=["-p", "%d:7000" % port])
    try:
        r = guest.result()
        r.expect(r"^refused: nil\s+connection refused$",
                 r"^unanswered: nil timeout after 0\.[5-9] s$")
        if echo_once(port, b"still here\n", 30) != b"still here\n":
            guest.result().fail("the echo server did not answer after the errors")
    finally:
        guest.kill()


# ---- inside a network namespace: tap, DNS, ping

class Netns:
    """A network namespace with a tap device at 192.168.77.1/24; removed
    on exit, whatever happened."""

    def __init__(self):
        self.name = "lunik-t%d" % os.getpid()

    def ip(self, *args):
        r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
        if r.returncode:
            raise Failure("ip %s: %s" % (" ".join(args), r.stderr.strip()))

    def __enter__(self):
        self.ip("netns", "add", self.name)
        try:
            self.ip("-n", self.name, "link", "set", "lo", "up")
            self.ip("-n", self.name, "tuntap", "add", "dev", "ltap0", "mode", "tap")
            self.ip("-n", self.name, "addr", "add", "192.168.77.1/24", "dev", "ltap0")
            self.ip("-n", self.name, "link", "set", "ltap0", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def run(self, argv, **kw):
        return subprocess.run(["ip", "netns", "exec", self.name] + argv, **kw)

    def popen(self, argv, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + argv, **kw)


DNS_RESPONDER = r'''
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.77.1", 53))
print("ready", flush=True)
while True:
    q, addr = s.recvfrom(512)
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    question = q[12:i + 5]
    name = ".".join(labels)
    print("query", name, flush=True)
    if name == "service.test":
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([10, 9, 8, 7])
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + ans, addr)
    else:
        s.sendto(struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question, addr)
'''


@test
def test_net_tap_dns_and_ping(ctx):
    need_root("a network namespace and a tap device")
    with Netns() as ns:
        dns = ns.popen(["python3", "-c", DNS_RESPONDER], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
        try:
            if dns.stdout.readline().strip() != "ready":
                raise Failure("the DNS responder did not start")
            argv = ["ip", "netns", "exec", ns.name, LUNIK, "run", build("netcheck"),
                    "--" + ctx.accel, "--timeout", "120", "--net", "tap:ltap0", "--",
                    "what=resolve", "name=service.test", "ip=192.168.77.2/24",
                    "gw=192.168.77.1", "dns=192.168.77.1"]
            guest = Live(argv)
            try:
                r = guest.finish(120)
                r.expect_status(0).expect(r"^resolved: 10\.9\.8\.7$", r"^again: 10\.9\.8\.7$",
                                          r"^missing: nil host not found$")
            finally:
                guest.kill()
        finally:
            dns.kill()
            dns.wait()
            queries = dns.stdout.read()
        # the second lookup came from the cache: one query for the name
        if queries.count("query service.test") != 1:
            raise Failure("expected one DNS query for service.test (then the "
                          "cache), the responder saw:\n" + queries)
        expect_ping(ns, [LUNIK, "run", build("netcheck"), "--" + ctx.accel])


def expect_ping(ns, run_argv):
    """Starts netcheck's server (run_argv: the lunik run command up to its
    options) on the namespace's tap and pings it there."""
    guest = Live(["ip", "netns", "exec", ns.name] + run_argv +
                 ["--timeout", "120", "--net", "tap:ltap0", "--",
                  "what=serve", "ip=192.168.77.2/24", "gw=192.168.77.1"])
    try:
        guest.wait_for(r"serving on", 90)
        r = ns.run(["ping", "-c", "3", "-i", "0.2", "-W", "5", "192.168.77.2"],
                   capture_output=True, text=True, timeout=60)
        if r.returncode or " 0% packet loss" not in r.stdout:
            guest.result().fail("ping of the guest failed:\n" + r.stdout + r.stderr)
    finally:
        guest.kill()
