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
        guest.wait_for(r"httpd ready|api listening", 90)
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
    stop = threading.Event()
    served, failures = [0], []

    def good_client():
        while not stop.is_set():
            try:
                s, _, b = curl(port, "/small")
                if s != 200:
                    failures.append(s)
                served[0] += 1
            except Failure as e:
                failures.append(str(e))
            time.sleep(0.05)

    t = threading.Thread(target=good_client, daemon=True)
    t.start()
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
        stop.set()
        t.join(30)
        expect(not failures, "the good client failed: %r" % failures[:3], guest)
        expect(served[0] >= 5, "the good client was served %d times" % served[0], guest)
        guest.result().expect(r"ERROR handler failed .*secret internal detail")
    finally:
        stop.set()
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
