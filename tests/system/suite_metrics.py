"""suite_metrics.py -- app:metrics() from the host: exact counts after
known traffic, promtool's check of the exposition, the cardinality bound
against random paths and methods, request ids, and a real Prometheus
(Debian's) scraping the guest and answering a query.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from harness import Failure, build, free_port, need_tool, test
from suite_http import curl, expect, raw, start


def scrape(port):
    s, h, body = curl(port, "/metrics")
    if s != 200:
        raise Failure("/metrics answered %s" % s)
    return h, body.decode()


def sample(text, name, **labels):
    """The value of the sample name{labels} in an exposition, or None."""
    want = ",".join('%s="%s"' % kv for kv in labels.items())
    line = "%s{%s} " % (name, want) if labels else name + " "
    for l in text.splitlines():
        if l.startswith(line):
            return float(l[len(line):])
    return None


def promtool(text, guest):
    need_tool("promtool", "prometheus")
    r = subprocess.run(["promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=60)
    expect(r.returncode == 0, "promtool check metrics: %s%s"
           % (r.stdout, r.stderr), guest)


@test
def test_metrics_exact_counts(ctx):
    guest, port = start(ctx, "metrics", [])
    try:
        for path, n in (("/ok", 3), ("/items/1", 1), ("/items/2", 1),
                        ("/nope", 2), ("/also/nope", 2), ("/boom", 1)):
            for _ in range(n):
                curl(port, path)
        for kind in ("tea", "tea", "cake"):
            curl(port, "/orders/" + kind, "-X", "POST", "-d", "{}")
        h, text = scrape(port)
        expect(h.get("content-type", "").startswith("text/plain; version=0.0.4"),
               "content type %r" % h.get("content-type"), guest)
        want = [
            (("http_requests_total",), dict(method="GET", route="/ok", status="200"), 3),
            (("http_requests_total",), dict(method="GET", route="/items/:id", status="200"), 2),
            # 4, and the harness's readiness probe (GET /healthz)
            (("http_requests_total",), dict(method="GET", route="unmatched", status="404"), 5),
            (("http_requests_total",), dict(method="GET", route="/boom", status="500"), 1),
            (("http_requests_total",), dict(method="POST", route="/orders/:kind", status="201"), 3),
            (("http_request_duration_seconds_count",), dict(method="GET", route="/ok"), 3),
            (("shop_orders_total",), dict(kind="tea"), 2),
            (("shop_orders_total",), dict(kind="cake"), 1),
            (("http_requests_in_flight",), {}, 1),  # the scrape itself
        ]
        for (name,), labels, value in want:
            got = sample(text, name, **labels)
            expect(got == value, "%s%r: %s, expected %s" % (name, labels, got, value), guest)
        cpu, up = (sample(text, "process_cpu_seconds_total"),
                   sample(text, "lunik_uptime_seconds"))
        expect(cpu is not None and 0 < cpu <= up,
               "process_cpu_seconds_total %s, uptime %s" % (cpu, up), guest)
        for name in ("lunik_heap_bytes", "lunik_tcp_connections", "lunik_net_frames_total",
                     "process_start_time_seconds", "lunik_uptime_seconds",
                     "http_connections_open", "lunik_tasks"):
            expect(re.search(r"^# TYPE %s " % name, text, re.M), "no %s" % name, guest)
        expect(sample(text, "lunik_tcp_connections", state="listen") >= 1,
               "no listening TCP connection", guest)
        promtool(text, guest)
        # a scrape is counted as a request once it is answered
        _, again = scrape(port)
        expect(sample(again, "http_requests_total", method="GET", route="/metrics",
                      status="200") == 1, "the first scrape is counted", guest)
    finally:
        guest.kill()


STATUS = re.compile(r"^status: up (\d+)s, cpu (\d+)% \(([\d.]+)s\), ([\d.]+) req/s "
                    r"\((\d+) requests\), (\d+) connections, heap ([\d.]+)/([\d.]+) MiB, "
                    r"(\d+) tasks$", re.M)


@test
def test_status_line(ctx):
    """lunik run --status 0.5: lines every half second whose request count
    follows the traffic sent and whose CPU share and total are sane."""
    guest, port = start(ctx, "metrics", [], ["--status", "0.5"])
    try:
        for _ in range(7):
            curl(port, "/ok")
        deadline, lines = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            lines = STATUS.findall(guest.result().out)
            if len(lines) >= 2 and int(lines[-1][4]) >= 8:
                break
            time.sleep(0.2)
        expect(len(lines) >= 2, "status lines: %r" % lines, guest)
        cpus = [float(l[2]) for l in lines]
        expect(cpus == sorted(cpus), "cpu totals go up: %r" % cpus, guest)
        for l in lines:
            up, share, cpu = int(l[0]), int(l[1]), float(l[2])
            expect(0 <= share <= 100 and cpu <= up + 1, "status line %r" % (l,), guest)
        # 7 GETs and the harness's readiness probe
        expect(int(lines[-1][4]) >= 8, "requests in %r" % (lines[-1],), guest)
    finally:
        guest.kill()


@test
def test_metrics_cardinality_bound(ctx):
    """10,000 requests with random paths and random methods: the route
    label stays "unmatched" and the method "other", so the exposition
    does not grow with them."""
    guest, port = start(ctx, "metrics", ["log=warn"])
    try:
        curl(port, "/ok")
        _, before = scrape(port)
        rnd = os.urandom(10000 * 8)
        with socket.create_connection(("127.0.0.1", port), 30) as s:
            s.settimeout(60)
            f = s.makefile("rb")
            for start_at in range(0, 10000, 500):
                batch = b""
                for i in range(start_at, start_at + 500):
                    token = rnd[i * 8:i * 8 + 8].hex()
                    method = b"GET" if i % 2 else b"M" + token[:6].upper().encode()
                    batch += b"%s /r/%s HTTP/1.1\r\nHost: x\r\n\r\n" % (method, token.encode())
                s.sendall(batch)
                for _ in range(500):
                    status = f.readline()
                    expect(status.startswith(b"HTTP/1.1 "), "answer %r" % status, guest)
                    length = 0
                    while True:
                        line = f.readline()
                        if line in (b"\r\n", b""):
                            break
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    f.read(length)
        _, after = scrape(port)
        series = [l for l in after.splitlines() if l.startswith("http_requests_total{")]
        expect(len(series) <= 6, "%d http_requests_total series: %s" % (
            len(series), series[:8]), guest)
        expect(len(after) < len(before) + 8000, "the exposition grew from %d to %d "
               "bytes" % (len(before), len(after)), guest)
        expect((sample(after, "http_requests_total", method="other",
                       route="unmatched", status="404") or 0) +
               (sample(after, "http_requests_total", method="other",
                       route="unmatched", status="405") or 0) +
               (sample(after, "http_requests_total", method="other",
                       route="unmatched", status="501") or 0) == 5000,
               "random methods counted under other:\n" + "\n".join(series), guest)
        promtool(after, guest)
    finally:
        guest.kill()


@test
def test_request_ids_and_access_lines(ctx):
    guest, port = start(ctx, "metrics", [])
    try:
        s, h, _ = curl(port, "/orders/tea", "-X", "POST", "-d", "{}",
                       "-H", "X-Request-Id: client-id-42")
        expect(h.get("x-request-id") == "client-id-42", "echoed id %r" % h, guest)
        ids = set()
        for _ in range(3):
            _, h, _ = curl(port, "/ok")
            ids.add(h.get("x-request-id"))
        expect(len(ids) == 3 and all(i and re.fullmatch(r"[0-9a-f]{16}", i) for i in ids),
               "made ids %r" % ids, guest)
        _, h, _ = curl(port, "/ok", "-H", "X-Request-Id: bad id with spaces")
        expect(re.fullmatch(r"[0-9a-f]{16}", h.get("x-request-id", "")),
               "a bad client id was replaced: %r" % h.get("x-request-id"), guest)
        time.sleep(0.5)
        r = guest.result()
        r.expect(r"INFO order id=client-id-42 kind=tea",
                 r"INFO http .*id=client-id-42 .*peer=10\.0\.2\.2 .*route=/orders/:kind")
    finally:
        guest.kill()


@test
def test_prometheus_scrapes_the_guest(ctx):
    """A real Prometheus (Debian's), its own configuration and storage in
    a temp dir, listening on loopback, scrapes the guest every second;
    http_requests_total comes back through its HTTP API."""
    need_tool("prometheus", "prometheus")
    guest, port = start(ctx, "metrics", ["log=warn"])
    tmp = tempfile.mkdtemp(prefix="lunik-prom-")
    prom = None
    try:
        for _ in range(7):
            curl(port, "/ok")
        web = free_port(socket.SOCK_STREAM)
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: lunik\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % port)
        with open(os.path.join(tmp, "prometheus.log"), "wb") as log:
            prom = subprocess.Popen(
                ["prometheus", "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                 "--web.listen-address=127.0.0.1:%d" % web],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        query = ("http://127.0.0.1:%d/api/v1/query?query=" % web +
                 "http_requests_total%7Broute%3D%22%2Fok%22%7D")
        value, deadline = None, time.monotonic() + 90
        while time.monotonic() < deadline and prom.poll() is None:
            try:
                with urllib.request.urlopen(query, timeout=5) as r:
                    res = json.load(r)["data"]["result"]
                if res:
                    value = float(res[0]["value"][1])
                    if value == 7:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        if value != 7:
            with open(os.path.join(tmp, "prometheus.log"), errors="replace") as f:
                tail = f.read()[-1500:]
            raise Failure("Prometheus read http_requests_total{route=\"/ok\"} = %r, "
                          "expected 7; its log:\n%s" % (value, tail))
    finally:
        if prom and prom.poll() is None:
            os.killpg(prom.pid, signal.SIGTERM)
            try:
                prom.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(prom.pid, signal.SIGKILL)
                prom.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        guest.kill()
