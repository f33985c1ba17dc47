"""suite_serve.py -- the host side of a service: the -p ports held by
lunik (tools/lunikcli/proxy.py), readiness and --ready-file, and
`lunik watch` swapping images under load."""

import os
import signal
import socket
import tempfile
import threading
import time

from harness import LUNIK, Failure, Live, free_port, test

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
