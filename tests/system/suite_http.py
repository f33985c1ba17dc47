"""suite_http.py -- the HTTP server from the host with real clients
(curl, wrk, raw sockets) through QEMU user networking's port forwards on
127.0.0.1: examples/api route by route, keep-alive and pipelining, big
chunked uploads, hostile clients, and a load run.
"""

import hashlib
import json
import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from harness import (LUNIK, ROOT, Failure, Live, build, free_port, need_tool,
                     test)


def start(ctx, app, args=(), opts=()):
    """Boots app with a forward of a free host port to the guest's 8080;
    returns (guest, port) once it says it is ready."""
    port = free_port(socket.SOCK_STREAM)
    image = build(app)
    argv = [LUNIK, "run", image, "--" + ctx.accel, "--timeout", "600",
            "-p", "%d:8080" % port] + list(opts) + ["--"] + list(args)
    guest = Live(argv)
    try:
        guest.wait_for(r"httpd ready|api listening|metrics app ready", 90)
        wait_port(port)
    except BaseException:
        guest.kill()
        raise
    return guest, port


def wait_port(port, timeout=30):
    """QEMU's forward accepts before the guest listens: wait for an
    answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 2) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise Failure("port %d never answered HTTP" % port)


def curl(port, path, *args):
    """Runs curl; returns (status, headers dict, body)."""
    r = subprocess.run(["curl", "-s", "-S", "-i", "--max-time", "20"] + list(args) +
                       ["http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise Failure("curl %s failed: %s" % (path, r.stderr.decode()))
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def expect(cond, why, guest):
    if not cond:
        guest.result().fail(why)


class Poller:
    """A client that GETs path every interval seconds in a thread of its
    own until stop(); .answers holds each status (or the failure)."""

    def __init__(self, port, path, interval):
        self.answers, self.done = [], threading.Event()

        def loop():
            while not self.done.is_set():
                try:
                    self.answers.append(curl(port, path)[0])
                except Failure as e:
                    self.answers.append(str(e))
                time.sleep(interval)
        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join(30)
        return self.answers


def raw(port, data, timeout=10):
    """Sends data, returns what comes back until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except socket.timeout:
            pass
        return out


@test
def test_http_api_routes(ctx):
    guest, port = start(ctx, "examples/api")
    try:
        s, h, b = curl(port, "/healthz")
        expect(s == 200 and json.loads(b)["status"] == "ok", "healthz", guest)
        expect(h.get("content-type") == "application/json", "healthz type", guest)
        expect(h.get("server") == "lunik" and "date" in h, "server, date", guest)
        s, h, b = curl(port, "/items", "-d", '{"name":"tea","price":3.5}')
        item = json.loads(b)
        expect(s == 201 and item["name"] == "tea", "create: %d %r" % (s, b), guest)
        expect(h.get("location") == "/items/%d" % item["id"], "location", guest)
        s, h, b = curl(port, "/items/%d" % item["id"])
        expect(s == 200 and json.loads(b)["price"] == 3.5, "get", guest)
        s, h, b = curl(port, "/items/%d" % item["id"], "-X", "PUT", "-d",
                       '{"name":"green tea","price":4}')
        expect(s == 200 and json.loads(b)["name"] == "green tea", "put", guest)
        s, h, b = curl(port, "/items/%d" % item["id"], "-X", "PATCH", "-d", '{"price":5}')
        expect(s == 200 and json.loads(b)["price"] == 5, "patch", guest)
        s, h, b = curl(port, "/items")
        expect(s == 200 and len(json.loads(b)) == 1, "list: %r" % b, guest)
        s, h, b = curl(port, "/items", "-d", '{"price":1}')
        expect(s == 422 and "name" in json.loads(b)["error"], "validation", guest)
        s, h, b = curl(port, "/items", "-d", '{nope')
        expect(s == 400, "bad json", guest)
        s, h, b = curl(port, "/items/%d" % item["id"], "-X", "DELETE")
        expect(s == 204 and b == b"", "delete", guest)
        s, h, b = curl(port, "/items/%d" % item["id"])
        expect(s == 404 and json.loads(b)["error"] == "no such item", "gone", guest)
        s, h, b = curl(port, "/items", "-X", "DELETE")
        expect(s == 405 and "GET" in h.get("allow", ""), "405 + Allow", guest)
        s, h, b = curl(port, "/healthz", "-I")
        expect(s == 200 and b == b"" and int(h["content-length"]) > 0, "HEAD", guest)
    finally:
        guest.kill()


@test
def test_http_keepalive_and_pipelining(ctx):
    guest, port = start(ctx, "httpd", ["quiet"])
    try:
        with socket.create_connection(("127.0.0.1", port), 20) as s:
            f = s.makefile("rb")
            for i in range(1000):
                s.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
                status = f.readline()
                expect(status == b"HTTP/1.1 200 OK\r\n", "request %d: %r" % (i, status), guest)
                length = None
                while True:
                    line = f.readline()
                    if line == b"\r\n":
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = f.read(length)
                expect(json.loads(body)["n"] == 42, "body %d" % i, guest)
        pipelined = b"".join(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(20))
        out = raw(port, pipelined + b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        expect(out.count(b"HTTP/1.1 200 OK") == 21, "21 pipelined answers", guest)
    finally:
        guest.kill()


@test
def test_http_chunked_upload(ctx):
    guest, port = start(ctx, "httpd", ["quiet"])
    try:
        data = os.urandom(10 * 1024 * 1024)
        r = subprocess.run(["curl", "-s", "-S", "--max-time", "120",
                            "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                            "http://127.0.0.1:%d/upload" % port],
                           input=data, capture_output=True, timeout=180)
        expect(r.returncode == 0, "curl: %s" % r.stderr.decode(), guest)
        got = json.loads(r.stdout)
        expect(got["bytes"] == len(data), "bytes %r" % got, guest)
        expect(got["sha256"] == hashlib.sha256(data).hexdigest(), "checksum", guest)
    finally:
        guest.kill()


@test
def test_http_hostile_clients(ctx):
    guest, port = start(ctx, "httpd", ["header_timeout=1"])
    good = Poller(port, "/small", 0.05)
    try:
        cases = [
            (b"GARBAGE\r\n\r\n", b"HTTP/1.1 400"),
            (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", b"HTTP/1.1 505"),
            (b"GET /small HTTP/1.1\r\nHost: x\r\n" + b"X-Flood: y\r\n" * 200 + b"\r\n",
             b"HTTP/1.1 431"),
            (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 414"),
            (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
             b"HTTP/1.1 413"),
            (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n", b"HTTP/1.1 400"),
            (b"GET /small HTTP/1.1\r\nHost : x\r\n\r\n", b"HTTP/1.1 400"),
            (b"GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"HTTP/1.1 500"),
        ]
        for req, want in cases:
            out = raw(port, req)
            expect(out.startswith(want), "%r... answered %r" % (req[:40], out[:60]), guest)
            expect(b"secret internal detail" not in out, "500 leaked the error", guest)
        # the next request after a 500 is served
        s, _, _ = curl(port, "/small")
        expect(s == 200, "after a 500", guest)
        # slowloris: a head trickled byte by byte gets 408 and a close
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.settimeout(10)
            t0 = time.monotonic()
            for ch in b"GET /small HTTP/1.1\r\nHost: x\r\n":
                if select.select([s], [], [], 0)[0]:
                    break  # the server answered: stop before a reset
                try:
                    s.sendall(bytes([ch]))
                except OSError:
                    break
                time.sleep(0.2)
                if time.monotonic() - t0 > 5:
                    break
            try:
                closed = s.recv(1024)
            except socket.timeout:
                closed = b"(no answer in 10 s)"
            except OSError as e:
                closed = ("(%s)" % e).encode()
            expect(closed.startswith(b"HTTP/1.1 408"),
                   "slowloris got %r, not 408" % closed[:40], guest)
        answers = good.stop()
        failures = [a for a in answers if a != 200]
        expect(not failures, "the good client failed: %r" % failures[:3], guest)
        expect(len(answers) >= 5, "the good client was served %d times" % len(answers), guest)
        guest.result().expect(r"ERROR handler failed .*secret internal detail")
    finally:
        good.stop()
        guest.kill()


@test
def test_http_wrk_load(ctx):
    need_tool("wrk", "wrk")
    guest, port = start(ctx, "httpd", ["quiet"])
    try:
        r = subprocess.run(["wrk", "-t", "2", "-c", "100", "-d", "10s", "--timeout", "10s",
                            "http://127.0.0.1:%d/small" % port],
                           capture_output=True, text=True, timeout=120)
        out = r.stdout
        m = re.search(r"(\d+) requests in", out)
        expect(r.returncode == 0 and m and int(m.group(1)) > 0, "wrk: %s %s" % (out, r.stderr), guest)
        expect("Socket errors" not in out, "wrk saw socket errors:\n" + out, guest)
        expect("Non-2xx" not in out, "wrk saw non-2xx answers:\n" + out, guest)
    finally:
        guest.kill()


@test
def test_examples_api_specs(ctx):
    """examples/api's own specs, as a user runs them: lunik test."""
    r = ctx.lunik("test", os.path.join(ROOT, "examples", "api"))
    r.expect_status(0).expect(r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")


@test
def test_examples_api_keeps_items_across_reboots(ctx):
    disk = os.path.join(ROOT, "build", "tests", "api-%s.img" % ctx.accel)
    if os.path.exists(disk):
        os.unlink(disk)
    guest, port = start(ctx, "examples/api", opts=["--disk", disk + ":16M"])
    try:
        s, _, b = curl(port, "/items", "-d", '{"name":"kept","price":1}')
        expect(s == 201, "create", guest)
        item_id = json.loads(b)["id"]
    finally:
        guest.kill()
    guest, port = start(ctx, "examples/api", opts=["--disk", disk + ":16M"])
    try:
        s, _, b = curl(port, "/items/%d" % item_id)
        expect(s == 200 and json.loads(b)["name"] == "kept", "after a reboot: %d %r" % (s, b), guest)
        s, _, b = curl(port, "/healthz")
        expect(json.loads(b)["store"] == "kv on vda", "store %r" % b, guest)
    finally:
        guest.kill()


def read_until_close(s, limit):
    """What comes back on socket s until the server closes it: (data,
    closed, seconds). closed is False when (limit) seconds passed first."""
    t0, out = time.monotonic(), b""
    while time.monotonic() - t0 < limit:
        s.settimeout(max(0.1, limit - (time.monotonic() - t0)))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            return out, True, time.monotonic() - t0  # reset: closed too
        if not b:
            return out, True, time.monotonic() - t0
        out += b
    return out, False, time.monotonic() - t0


@test
def test_http10_keepalive(ctx):
    """HTTP/1.0 clients: keep-alive answered with the header (ab -k counts
    every request as kept alive), and a streamed body without a length
    ends with the close, not the idle timeout."""
    need_tool("ab", "apache2-utils")
    guest, port = start(ctx, "httpd", ["quiet"])
    try:
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            f = s.makefile("rb")
            for i in range(3):
                s.sendall(b"GET /small HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    head += f.readline()
                expect(b"\r\nConnection: keep-alive\r\n" in head,
                       "1.0 keep-alive answer %d lacks the header: %r" % (i, head), guest)
                m = re.search(rb"Content-Length: (\d+)", head)
                expect(m, "no length: %r" % head, guest)
                f.read(int(m.group(1)))
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.sendall(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            out, closed, took = read_until_close(s, 20)
        expect(closed, "a streamed 1.0 answer left the connection open for "
               "%.0f s: %r" % (took, out[-80:]), guest)
        expect(out.endswith(b"piece 1\npiece 2\npiece 3\n") and
               b"Transfer-Encoding" not in out and b"Connection: close" in out,
               "the streamed 1.0 answer: %r" % out, guest)
        r = subprocess.run(["ab", "-k", "-n", "2000", "-c", "10", "-s", "30",
                            "http://127.0.0.1:%d/small" % port],
                           capture_output=True, text=True, timeout=300)
        out = r.stdout
        complete = re.search(r"Complete requests:\s+(\d+)", out)
        failed = re.search(r"Failed requests:\s+(\d+)", out)
        kept = re.search(r"Keep-Alive requests:\s+(\d+)", out)
        expect(r.returncode == 0 and complete and failed and kept,
               "ab: %s %s" % (out, r.stderr), guest)
        expect((int(complete.group(1)), int(failed.group(1)), int(kept.group(1)))
               == (2000, 0, 2000), "ab -k: %s complete, %s failed, %s kept "
               "alive" % (complete.group(1), failed.group(1), kept.group(1)), guest)
    finally:
        guest.kill()


@test
def test_http_unread_and_large_bodies(ctx):
    """A handler that ignores a body still coming answers at once and the
    connection closes; a body larger than the guest's memory gets 413
    before it is read, with and without Expect: 100-continue; one that
    fits is read whole."""
    big_port = free_port(socket.SOCK_STREAM)
    guest, port = start(ctx, "httpd", [], ["-p", "%d:8081" % big_port])
    try:
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.sendall(b"GET /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
            out, closed, took = read_until_close(s, 20)
        expect(out.startswith(b"HTTP/1.1 200") and out.endswith(b"ignored"),
               "the handler's answer: %r" % out, guest)
        expect(closed and took < 15, "closed %s after %.1f s (the body "
               "timeout is 30 s)" % (closed, took), guest)
        tmp = tempfile.mkdtemp(prefix="lunik-big-")
        try:
            body = os.path.join(tmp, "body")
            with open(body, "wb") as f:
                f.truncate(60 << 20)
            t0 = time.monotonic()
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--max-time", "60", "-X", "PUT", "--data-binary",
                                "@" + body, "http://127.0.0.1:%d/big" % big_port],
                               capture_output=True, text=True, timeout=120)
            took = time.monotonic() - t0
        finally:
            shutil.rmtree(tmp)
        expect(r.stdout == "413", "a 60 MB PUT in a 128M guest: %r %s"
               % (r.stdout, r.stderr), guest)
        expect(took < 20, "the 413 took %.1f s" % took, guest)
        # one that fits is read whole (40 MB ones waited 60 s for a 400)
        t0 = time.monotonic()
        r = subprocess.run(["curl", "-s", "-S", "--max-time", "120", "-X", "PUT",
                            "--data-binary", "@-", "http://127.0.0.1:%d/big" % big_port],
                           input=b"\0" * (20 << 20), capture_output=True, timeout=180)
        expect(r.returncode == 0 and json.loads(r.stdout or b"{}").get("bytes") == 20 << 20,
               "a 40 MB PUT: %r %s (%.1f s)" % (r.stdout[:200], r.stderr,
                                               time.monotonic() - t0), guest)
        # without Expect: the body is already on its way
        with socket.create_connection(("127.0.0.1", big_port), 10) as s:
            s.sendall(b"PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                      % (60 << 20))
            stop = threading.Event()

            def pour():
                chunk = b"\0" * 65536
                try:
                    for _ in range(960):
                        if stop.is_set():
                            break
                        s.sendall(chunk)
                except OSError:
                    pass
            t = threading.Thread(target=pour, daemon=True)
            t.start()
            out, closed, took = read_until_close(s, 20)
            stop.set()
            t.join(10)
        expect(out.startswith(b"HTTP/1.1 413"), "a 60 MB body poured in: "
               "%r" % out[:80], guest)
        # the service goes on
        s, _, _ = curl(port, "/small")
        expect(s == 200, "after the big bodies", guest)
        guest.result().expect(r"request body too large for this guest's memory")
    finally:
        guest.kill()


@test
def test_http_watchdog(ctx):
    """A handler that never yields is stopped by the watchdog: its client
    gets 500, the console names the route and the limit, and a health
    check meanwhile keeps getting 200."""
    guest, port = start(ctx, "httpd", ["lunik.watchdog=1"])
    checker = Poller(port, "/healthz", 0.1)
    try:
        for _ in range(2):
            s, _, body = curl(port, "/busy")
            expect(s == 500, "the busy handler answered %s %r" % (s, body), guest)
        time.sleep(0.5)
        health = checker.stop()
        expect(health and all(h == 200 for h in health),
               "health checks: %r" % health[-10:], guest)
        guest.result().expect(
            r"ERROR handler failed .*route=/busy",
            r"stopped by the watchdog: the task ran for more than 1(\.0)? s")
    finally:
        checker.stop()
        guest.kill()


@test
def test_http_refusals_counted_and_logged(ctx):
    """Requests refused at the head stage are counted by status and
    logged, at most 10 lines per 10 s however many come."""
    guest, port = start(ctx, "httpd", [])
    try:
        for _ in range(30):
            out = raw(port, b"GARBAGE\r\n\r\n")
            expect(out.startswith(b"HTTP/1.1 400"), "garbage got %r" % out[:40], guest)
        out = raw(port, b"GET / HTTP/9.9\r\nHost: x\r\n\r\n")
        expect(out.startswith(b"HTTP/1.1 505"), "9.9 got %r" % out[:40], guest)
        s, _, body = curl(port, "/refused")
        got = json.loads(body)
        expect(got.get("400") == 30 and got.get("505") == 1,
               "refusals counted: %r" % got, guest)
        r = guest.result()
        lines = re.findall(r"WARN request refused", r.out)
        expect(1 <= len(lines) <= 10, "%d refusal lines logged" % len(lines), guest)
        r.expect(r"WARN request refused .*status=400")
    finally:
        guest.kill()
