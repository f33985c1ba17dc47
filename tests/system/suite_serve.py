"""suite_serve.py -- the host side of a service: the -p ports held by
lunik (tools/lunikcli/proxy.py), readiness and --ready-file, and
`lunik watch` swapping images under load."""

import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time

from harness import (LUNIK, ROOT, Failure, Live, free_port, run_cmd, test,
                     test_once)

BURST = 200


def get(port, path="/healthz", timeout=60):
    """One HTTP/1.1 request on a new connection; (status line, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                   % path).encode())
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(errors="replace"), body


def burst(port, n, timeout=60):
    """n clients connect at once, each sends one request; returns the
    failures as [(client, what)] and the slowest answer's seconds."""
    go, lock, bad, times = threading.Event(), threading.Lock(), [], []

    def one(i):
        go.wait()
        t0 = time.monotonic()
        try:
            status, _ = get(port, timeout=timeout)
            if status != "HTTP/1.1 200 OK":
                raise OSError("answered %r" % status)
        except OSError as e:
            with lock:
                bad.append((i, str(e)))
        with lock:
            times.append(time.monotonic() - t0)
    threads = [threading.Thread(target=one, args=(i,), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(timeout + 10)
    return bad, max(times or [0])


def wait_bound(port, guest, timeout=60):
    """Waits until something accepts on 127.0.0.1:port (lunik's listener,
    which takes connections before the guest is ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    guest.result().fail("port %d was not bound within %ds" % (port, timeout))


@test
def test_ready_file_and_burst(ctx):
    """A burst of 200 simultaneous connects to a -p port, started before
    the guest is ready, is held and then all served; --ready-file is
    written once the guest listens and removed when it ends."""
    port = free_port(socket.SOCK_STREAM)
    tmp = tempfile.mkdtemp(prefix="lunik-t-ready-")
    ready = os.path.join(tmp, "ready")
    open(ready, "w").close()  # a stale file from an earlier run goes
    guest = Live([LUNIK, "run", "tests/system/apps/engine", "--" + ctx.accel,
                  "--timeout", "300", "-p", "%d:8080" % port,
                  "--ready-file", ready])
    try:
        wait_bound(port, guest)
        early = not os.path.exists(ready)
        bad, slowest = burst(port, BURST)
        if bad:
            guest.result().fail("%d of %d clients failed (ready file absent "
                                "at the start: %s), e.g. %s"
                                % (len(bad), BURST, early, bad[:3]))
        with open(ready) as f:
            said = f.read()
        if said != "tcp 8080\n":
            raise Failure("the ready file says %r" % said)
        guest.wait_for(r"lunik: listening on tcp port 8080", 5)
        guest.proc.send_signal(signal.SIGTERM)
        r = guest.finish(60).expect_status(0)
        if os.path.exists(ready):
            r.fail("the ready file outlived the guest")
    finally:
        guest.kill()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


WATCHED_MAIN = """local http = require "http"
local version = require "version"
local app = http.app()
app:get("/v", function() return version end)
app:get("/healthz", function() return { ok = true } end)
assert(app:listen(8080))
"""


class Load:
    """A bounded loopback load on a port while `lunik watch` swaps: one
    keep-alive client and two that connect anew for every request. Every
    answer must be a 200; the bodies seen are kept. A keep-alive client
    retries a request once on a fresh connection when a reused one turns
    out closed before any byte of the answer (what curl and browsers do:
    RFC 9112 section 9.3.1; the old guest closes idle keep-alive
    connections when it drains)."""

    MAX_REQUESTS = 200000

    def __init__(self, port):
        self.port, self.stop = port, threading.Event()
        self.lock, self.failures, self.count = threading.Lock(), [], 0
        self.last = {}
        self.threads = [threading.Thread(target=self.keepalive, daemon=True)]
        self.threads += [threading.Thread(target=self.fresh, args=(i,),
                                          daemon=True) for i in (1, 2)]
        for t in self.threads:
            t.start()

    def note(self, who, status, body):
        with self.lock:
            self.count += 1
            if status != 200:
                self.failures.append((who, status, body[:200]))
            else:
                self.last[who] = body

    def fresh(self, i):
        while not self.stop.is_set() and self.count < self.MAX_REQUESTS:
            try:
                status, body = get(self.port, "/v", 30)
                self.note("fresh%d" % i, 200 if status == "HTTP/1.1 200 OK"
                          else status, body)
            except OSError as e:
                self.note("fresh%d" % i, str(e), b"")

    def keepalive(self):
        import http.client
        conn, used = None, False
        while not self.stop.is_set() and self.count < self.MAX_REQUESTS:
            for attempt in (1, 2):
                if conn is None:
                    conn, used = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=30), False
                try:
                    conn.request("GET", "/v")
                    r = conn.getresponse()
                    body = r.read()
                    self.note("keepalive", r.status, body)
                    used = not r.will_close
                    if r.will_close:
                        conn.close()
                        conn = None
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError,
                        BrokenPipeError) as e:
                    conn.close()
                    conn, retry = None, used
                    if not retry or attempt == 2:
                        self.note("keepalive", str(e), b"")
                        break
                except OSError as e:
                    conn.close()
                    conn = None
                    self.note("keepalive", str(e), b"")
                    break
            time.sleep(0.005)
        if conn:
            conn.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)


def serves(load, body, timeout):
    """Waits until every client of load has seen body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with load.lock:
            seen = list(load.last.values())
        if len(seen) == 3 and all(b == body for b in seen):
            return True
        time.sleep(0.05)
    return False


@test
def test_watch_swaps_under_load(ctx):
    """lunik watch serves each of 10 edits of a module while a load runs,
    every answer a 200; a syntax error leaves the last image serving."""
    port = free_port(socket.SOCK_STREAM)
    app = tempfile.mkdtemp(prefix="lunik-t-watch-")
    with open(os.path.join(app, "main.lua"), "w") as f:
        f.write(WATCHED_MAIN)

    def edit(text):
        with open(os.path.join(app, "version.lua"), "w") as f:
            f.write(text)
    edit('return "v0"\n')
    guest = Live([LUNIK, "watch", app, "--" + ctx.accel, "--timeout", "900",
                        "-p", "%d:8080" % port, "--", "log=warn"])
    load = None
    try:
        guest.wait_for(r"lunik: watch: started", 120)
        load = Load(port)
        if not serves(load, b"v0", 60):
            guest.result().fail("v0 was not served: %s" % load.failures[:3])
        for k in range(1, 11):
            edit('return "v%d"\n' % k)
            if not serves(load, b"v%d" % k, 120):
                guest.result().fail("edit %d was not served" % k)
        edit('return "v11" +\n')
        guest.wait_for(r"build failed, the running image keeps serving", 60)
        time.sleep(1)
        load.finish()
        if load.failures:
            guest.result().fail("%d of %d requests failed, e.g. %s" % (
                len(load.failures), load.count, load.failures[:5]))
        if set(load.last.values()) != {b"v10"}:
            guest.result().fail("after the syntax error: %s" % load.last)
        guest.proc.send_signal(signal.SIGTERM)
        r = guest.finish(60).expect_status(0)
        swaps = len(re.findall(r"lunik: watch: version\.lua: built in \d+ ms, "
                               r"ready in \d+ ms, swapped", r.out))
        if swaps < 10:
            r.fail("%d swap lines for 10 edits" % swaps)
        r.expect(r"version\.lua:\d+: ")
    finally:
        if load:
            load.finish()
        guest.kill()
        shutil.rmtree(app, ignore_errors=True)


@test_once
def test_watch_bad_input(ctx):
    """watch on a folder without main.lua: one line, status 2."""
    empty = tempfile.mkdtemp(prefix="lunik-t-watch-")
    try:
        rc, out, _, _ = run_cmd([LUNIK, "watch", empty, "-p",
                                 "%d:80" % free_port(socket.SOCK_STREAM)], 60)
        if rc != 2 or out.count("\n") != 1 or "has no main.lua" not in out:
            raise Failure("status %s, said %r" % (rc, out))
    finally:
        os.rmdir(empty)


@test
def test_watch_with_a_writable_disk(ctx):
    """With a writable --disk the old guest stops before the new one
    boots: what it stored is there for the new one, and requests made
    meanwhile wait for it instead of failing."""
    port = free_port(socket.SOCK_STREAM)
    tmp = tempfile.mkdtemp(prefix="lunik-t-watch-")
    app = os.path.join(tmp, "app")
    shutil.copytree(os.path.join(ROOT, "tests", "system", "apps", "engine"), app)
    main = os.path.join(app, "main.lua")
    guest = Live([LUNIK, "watch", app, "--" + ctx.accel, "--timeout", "600",
                  "-p", "%d:8080" % port, "--disk",
                  os.path.join(tmp, "disk.img") + ":16M", "--", "log=warn"])
    try:
        guest.wait_for(r"lunik: watch: started", 120)
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("PUT", "/items/tea", body=b"green")
        if c.getresponse().status != 204:
            guest.result().fail("PUT /items/tea failed")
        c.close()
        with open(main) as f:
            text = f.read()
        with open(main, "w") as f:
            f.write(text.replace("ok = true", 'ok = "edited"'))
        deadline = time.monotonic() + 120
        while True:  # each request waits through the swap, none fails
            status, body = get(port, "/healthz")
            if status != "HTTP/1.1 200 OK":
                guest.result().fail("during the swap: %s %r" % (status, body))
            if b"edited" in body:
                break
            if time.monotonic() > deadline:
                guest.result().fail("the edit was not served")
            time.sleep(0.05)
        status, body = get(port, "/items/tea")
        if (status, body) != ("HTTP/1.1 200 OK", b"green"):
            guest.result().fail("after the swap /items/tea: %s %r"
                                % (status, body))
        guest.proc.send_signal(signal.SIGTERM)
        r = guest.finish(60).expect_status(0)
        r.expect(r"lunik: watch: main\.lua: built in \d+ ms, ready in \d+ ms"
                 r", swapped")
    finally:
        guest.kill()
        shutil.rmtree(tmp, ignore_errors=True)
