"""suite_bench.py -- the benchmark harness's own parts, so `make bench`
does not rot between runs: wrk's output parsed from a real wrk run, the
report rendered from figures, and the size row's link-map breakdown adding
up to the image. Nothing here times anything or boots a VM: a benchmark
never fails a test (bench/run.py).
"""

import http.server
import json
import os
import shutil
import sys
import tempfile
import threading

from harness import ROOT, Failure, run_cmd, test_once

sys.path.insert(0, os.path.join(ROOT, "bench"))


class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@test_once
def test_bench_wrk_parse(ctx):
    from rows import http as row
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://127.0.0.1:%d/healthz" % server.server_address[1]
        rc, out = run_cmd(["wrk", "-t1", "-c2", "-d1s", "--latency", url],
                          timeout=30)[:2]
    finally:
        server.shutdown()
        server.server_close()
    run = row.parse_wrk(out)
    if rc != 0 or not run:
        raise Failure("wrk exited %d; parse_wrk found %r in:\n%s"
                      % (rc, run, out))
    if not (run["rps"] > 0 and run["requests"] > 0):
        raise Failure("wrk ran no requests: %r" % run)
    if run["p50_ms"] is None or run["p99_ms"] is None or \
            not 0 < run["p50_ms"] <= run["p99_ms"]:
        raise Failure("latency percentiles not parsed: %r" % run)
    if row.parse_wrk("unable to connect to 127.0.0.1:1") is not None:
        raise Failure("parse_wrk took a failed run for a result")


def _res(figures):
    return {"date": "2026-12-06 00:00:00", "quick": False,
            "host": {"cpus": 2, "cpu": "test", "kernel": "6", "mem_gib": 1,
                     "qemu": "QEMU"},
            "accels": ["tcg"], "kvm_unusable": None, "figures": figures,
            "rows_failed": {"density": "RuntimeError: no room"},
            "row_seconds": {"boot": 1.0}, "seconds": 1.0}


@test_once
def test_bench_report(ctx):
    import common
    import report
    figs = [common.figure("boot", "exec -> exit", "ms",
                          common.stats([10.0, 12.0, 11.0]),
                          common.stats([20.0, 22.0]), "floor",
                          note="QEMU dominates; one clause"),
            common.figure("boot", "req rate", "req/s", common.one(300.0),
                          common.one(100.0), "Linux", better="higher",
                          note="QEMU dominates (shared; clause)"),
            common.figure("size", "image", "B", common.one(1048576))]
    tmp = tempfile.mkdtemp(prefix="lunik-test-report-")
    try:
        text = report.write(_res(figs), tmp)
        with open(os.path.join(tmp, "latest.json")) as f:
            back = json.load(f)
        png = os.path.join(tmp, "latest.png")
        chart = os.path.exists(png)
        if chart:
            with open(png, "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    raise Failure("latest.png is not a PNG")
    finally:
        shutil.rmtree(tmp)
    want = ["| exec -> exit [1,2] | 11.0 ms (10.0-12.0) | floor | "
            "21.0 ms (20.0-22.0) | 0.52x (better) |",
            "| req rate [3] | 300 req/s | Linux | 100 req/s | "
            "3.00x (better) |",
            "| image | 1,048,576 B | - | - | - |",
            "1. QEMU dominates", "2. one clause",
            "3. QEMU dominates (shared; clause)",
            "Row density did not finish: RuntimeError: no room"]
    for line in want:
        if line not in text:
            raise Failure("latest.md lacks %r:\n%s" % (line, text))
    if back["figures"][0]["ratio"] != 11.0 / 21.0:
        raise Failure("latest.json's ratio: %r" % back["figures"][0])
    if chart != bool(shutil.which("gnuplot")):
        raise Failure("the chart is %s though gnuplot is %s" % (
            "there" if chart else "missing",
            "installed" if shutil.which("gnuplot") else "not"))


@test_once
def test_bench_size_breakdown(ctx):
    import common
    from rows import size
    lk = common.lunik()
    tmp = tempfile.mkdtemp(prefix="lunik-test-size-")
    try:
        app = os.path.join(ROOT, "examples", "hello")
        plain = os.path.join(tmp, "hello.elf")
        lk.build_image(app, plain)
        plain_bytes = os.path.getsize(plain)
        parts, total = size.breakdown(lk, app, os.path.join(tmp, "map.elf"),
                                      {})
    finally:
        shutil.rmtree(tmp)
    if total != plain_bytes:
        raise Failure("the link with a map made %d bytes, the image is %d"
                      % (total, plain_bytes))
    if sum(parts.values()) != total:
        raise Failure("components add up to %d, the image is %d: %r"
                      % (sum(parts.values()), total, parts))
    for comp in ("kernel", "runtime", "bindings", "Lua", "lwIP",
                 "newlib", "stdlib", "app", "ksyms"):
        if parts.get(comp, 0) <= 0:
            raise Failure("no bytes for %s: %r" % (comp, parts))
    if parts.get("mbedTLS", 0) != 0:  # hello requires no tls nor crypto
        raise Failure("mbedTLS in examples/hello: %r" % parts)
    if parts["ELF"] < 0:
        raise Failure("more bytes attributed than the image has: %r" % parts)
