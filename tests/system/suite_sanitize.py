"""suite_sanitize.py -- the whole runtime under AddressSanitizer and
UBSan: the hosted platform's asan variant (build/hosted-asan, `lunik ...
--hosted-asan`) runs the in-guest specs (tests/lua, tests/lua_tls), the
examples' specs, and a smoke load of HTTP (keep-alive, pipelining, bad
requests) on a kv store and of HTTPS handshakes, all from real clients on
127.0.0.1. Any finding fails its test with the sanitizer's report; a
test that links a known bug (fault.c) proves findings are reported.
"""

import http.client
import os
import re
import shutil
import signal
import socket
import ssl

import suite_tls
from harness import (APPS, LUNIK, ROOT, Failure, Live, Result, free_port,
                     run_cmd, skip, test_once)
from suite_hosted import HOSTED, hosted_build, spec_disks

FINDING = re.compile(r"^(==\d+==ERROR: \w+Sanitizer|.*: runtime error: |"
                     r"SUMMARY: \w+Sanitizer)", re.M)
STATUS_FINDING = 86  # hosted/sanitize.c
TEST_ENTRY = "stdlib/lunik/test_main.lua"
FAULT_OBJ = os.path.join(ROOT, "build", "hosted-asan", "tests", "fault.o")


def need_asan():
    if not os.path.exists(os.path.join(ROOT, "build", "hosted-asan",
                                       "lunik.o")):
        skip("build/hosted-asan is not built (make hosted)")


def expect_clean(r):
    """Fails with the sanitizer's report when there is one."""
    m = FINDING.search(r.out)
    if m or r.status == STATUS_FINDING:
        start = m.start() if m else max(0, len(r.out) - 4000)
        raise Failure("sanitizer finding (status %s):\n%s"
                      % (r.status, r.out[start:start + 6000]))
    return r


def asan_specs(app, *extra, timeout=900):
    r = Result(*run_cmd([LUNIK, "test", "--hosted-asan", app] + list(extra),
                        timeout))
    expect_clean(r)
    return r.expect_status(0).expect(r"^\d+ passed, 0 failed$").expect_not(
        r"^FAIL")


@test_once
def test_sanitizers_report_findings(ctx):
    """A heap overflow and a signed overflow (fault.c, linked in) end the
    process with status 86 and the sanitizer's report naming the line, so
    the tests below cannot pass over a finding."""
    need_asan()
    if not os.path.exists(FAULT_OBJ):
        skip("%s is not built (make test builds it)" % FAULT_OBJ)
    app = os.path.join(HOSTED, "fault-app")
    shutil.rmtree(app, ignore_errors=True)
    os.makedirs(app)
    with open(os.path.join(app, "main.lua"), "w") as f:
        f.write('local fault = require "fault"\nlocal sys = require "sys"\n'
                'fault[sys.args.what]()\nprint("survived")\n')
    exe = os.path.join(HOSTED, "fault-asan")
    Result(*run_cmd([LUNIK, "build", "-q", "--hosted-asan", "--link",
                     FAULT_OBJ, app, "-o", exe])).expect_status(0)
    for what, report in (("heap_overflow", r"AddressSanitizer: "
                          r"heap-buffer-overflow"),
                         ("int_overflow", r"fault\.c:\d+:\d+: runtime error: "
                          r"signed integer overflow")):
        r = Result(*run_cmd([exe, "--", "what=" + what], 60))
        r.expect_status(STATUS_FINDING).expect(report).expect_not("survived")
        if not FINDING.search(r.out):
            r.fail("the finding was not recognised as one")


@test_once
def test_sanitized_in_guest_specs(ctx):
    """tests/lua under ASan and UBSan, with the disks system/in_guest_specs
    gives: 0 findings."""
    need_asan()
    asan_specs(os.path.join(ROOT, "tests", "lua"), *spec_disks("asan"))


@test_once
def test_sanitized_tls_specs(ctx):
    """tests/lua_tls (client and server over the loopback, the test CA as
    the system bundle) under ASan and UBSan: 0 findings."""
    need_asan()
    spec_dir = os.path.join(ROOT, "tests", "lua_tls")
    app = suite_tls.app_with_certs({f: os.path.join(spec_dir, f)
                                    for f in os.listdir(spec_dir)
                                    if f.endswith(".lua")})
    exe = os.path.join(HOSTED, "tls-specs-asan")
    try:
        Result(*run_cmd([LUNIK, "build", "-q", "--hosted-asan", app, "-o",
                         exe, "--entry", TEST_ENTRY, "--ca-bundle",
                         suite_tls.cert("bundle.pem")])).expect_status(0)
    finally:
        shutil.rmtree(app)
    r = expect_clean(Result(*run_cmd([exe], 600)))
    r.expect_status(0).expect(r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")


@test_once
def test_sanitized_examples_specs(ctx):
    """Every example's specs under ASan and UBSan: 0 findings."""
    need_asan()
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        app = os.path.join(ROOT, "examples", name)
        if any(f.endswith("_spec.lua") for f in os.listdir(app)):
            asan_specs(app)


def listening(live, line):
    """Waits for the app's own "listening" line: slirp accepts on the host
    port from the start, before the app listens inside."""
    try:
        live.wait_for(line, 60)
    except Failure:
        expect_clean(live.result())
        raise


def http_load(port, n):
    """n items created, read and listed on keep-alive connections, a
    pipelined burst and hostile requests; returns the statuses seen."""
    seen = {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    for i in range(n):
        body = '{"name":"item%d","price":%d.5}' % (i, i)
        c.request("POST", "/items", body, {"content-type": "application/json"})
        r = c.getresponse()
        item = r.read()
        seen[r.status] = seen.get(r.status, 0) + 1
        m = re.search(rb'"id":"?(\w+)', item)
        if m:
            c.request("GET", "/items/" + m.group(1).decode())
            r = c.getresponse()
            r.read()
            seen[r.status] = seen.get(r.status, 0) + 1
    c.request("GET", "/items")
    r = c.getresponse()
    r.read()
    seen[r.status] = seen.get(r.status, 0) + 1
    c.close()
    raw = [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 20,
           b"POST /items HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: "
           b"chunked\r\n\r\n0\r\n\r\n",
           b"POST /items HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"ffffffffffffffffff\r\n",
           b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
           b"\x00\xff garbage\r\n\r\n",
           b"POST /items HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"name\":",
           b"POST /items HTTP/1.1\r\nContent-Length: 1\r\n\r\n{"]
    for data in raw:
        s = socket.create_connection(("127.0.0.1", port), 10)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            while s.recv(65536):
                pass
        except OSError:
            pass
        finally:
            s.close()
    return seen


def https_load(port, ca, n):
    ctx = ssl.create_default_context(cafile=ca)
    ok = 0
    for i in range(n):
        c = http.client.HTTPSConnection("localhost", port, timeout=20,
                                        context=ctx)
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            ok += r.status == 200
        finally:
            c.close()
    return ok


def stop(live):
    os.kill(live.proc.pid, signal.SIGTERM)
    return live.finish(60)


@test_once
def test_sanitized_smoke_load(ctx):
    """examples/api on a kv disk, then examples/https, as --hosted-asan
    processes driven from 127.0.0.1: 100 items created and read on
    keep-alive connections, pipelined and hostile requests, 30 HTTPS
    handshakes; each stops gracefully on SIGTERM. 0 findings."""
    need_asan()
    port = free_port(socket.SOCK_STREAM)
    disk = os.path.join(HOSTED, "asan-api.img")
    if os.path.exists(disk):
        os.unlink(disk)
    live = Live([LUNIK, "run", "--hosted-asan",
                 os.path.join(ROOT, "examples", "api"), "-p",
                 "%d:8080" % port, "--disk", disk + ":16M", "--timeout", "600",
                 "--", "port=8080"])
    try:
        listening(live, "api listening")
        seen = http_load(port, 100)
        r = expect_clean(stop(live))
        r.expect_status(0)
        if seen.get(201, 0) != 100 or seen.get(200, 0) < 101:
            r.fail("statuses %r: expected 100 created and 101 OK" % seen)
    finally:
        live.kill()
    app = suite_tls.app_with_certs({"main.lua": os.path.join(
        ROOT, "examples", "https", "main.lua")})
    exe = os.path.join(HOSTED, "https-asan")
    try:
        Result(*run_cmd([LUNIK, "build", "-q", "--hosted-asan", app, "-o",
                         exe, "--lua-path", os.path.join(ROOT, "examples",
                                                         "api")])
               ).expect_status(0)
    finally:
        shutil.rmtree(app)
    port = free_port(socket.SOCK_STREAM)
    live = Live([exe, "-p", "%d:8443" % port, "--", "port=8443"])
    try:
        listening(live, "https listening")
        ok = https_load(port, suite_tls.cert("ca.pem"), 30)
        r = expect_clean(stop(live))
        r.expect_status(0)
        if ok != 30:
            r.fail("%d of 30 HTTPS requests answered 200" % ok)
    finally:
        live.kill()
