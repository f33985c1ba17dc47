"""suite_compat.py -- existing Lua code unmodified in lunik images:
LuaSocket's Lua layer from Debian's lua-socket over lunik's socket.core
(socket.http against an HTTP server on the host), lua-resty-redis from
Debian's lua-nginx-redis over the ngx cosockets against a redis-server
the test runs, dkjson and inspect bundled with --lua-path, `lunik
inspect`, and C modules refused. The guest reaches the host's 127.0.0.1
through QEMU user networking's gateway, 10.0.2.2. Makefile's
HOST_PACKAGES installs the Debian packages these need.
"""

import hashlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from harness import skip, need_tool, APPS, BUILD, LUNIK, ROOT, Failure, free_port, run_cmd, \
    test, test_once

LUA54 = "/usr/share/lua/5.4"
LUA53 = "/usr/share/lua/5.3"
LUA51 = "/usr/share/lua/5.1"


def need(path, package):
    if not os.path.exists(path):
        skip("%s is missing: install Debian's %s (make test does as "
             "root)" % (path, package))


def build_app(app, *opts, expect_rc=0):
    """Builds tests/system/apps/APP with lunik build OPTS; returns the
    image and what the build printed."""
    os.makedirs(BUILD, exist_ok=True)
    image = os.path.join(BUILD, "%s.elf" % app)
    rc, out, _, _ = run_cmd([LUNIK, "build", os.path.join(APPS, app), "-o",
                             image] + list(opts))
    if rc != expect_rc:
        raise Failure("lunik build %s %s: exit %s, expected %s:\n%s"
                      % (app, " ".join(opts), rc, expect_rc, out))
    return image, out


# ---------------------------------------------------------------- HTTP


def page_bytes():
    """200 KB the host serves at /page, the same every time."""
    return b"".join(b"line %06d of the page served to lunik\n" % i
                    for i in range(5000))


class Handler(http.server.BaseHTTPRequestHandler):
    page = page_bytes()

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/page":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
        elif self.path == "/chunked":
            if self.headers.get("X-Test") != "lunik":
                self.send_error(400, "no X-Test header")
                return
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, len(self.page), 7777):
                piece = self.page[i:i + 7777]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
        else:
            self.send_error(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@test
def test_compat_luasocket_http(ctx):
    """socket.http (simple and generic forms, a POST from a source) from
    Debian's lua-socket against python's http.server on the host, and
    socket.bind + socket.select in the guest."""
    need(os.path.join(LUA54, "socket", "http.lua"), "lua-socket")
    image, out = build_app("compat_http", "--lua-path", LUA54)
    if "ssl.https" not in out:
        raise Failure("no warning about socket.http's optional ssl.https:\n"
                      + out)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = "http://10.0.2.2:%d" % server.server_address[1]
        r = ctx.run_image(image, ["base=" + base])
    finally:
        server.shutdown()
        server.server_close()
    sha = hashlib.sha256(Handler.page).hexdigest()
    r.expect_status(0).expect(
        r"^simple: 200 HTTP/1\.0 200 OK len=%d sha=%s type=text/plain$"
        % (len(Handler.page), sha),
        r"^generic: 1 200 chunks=chunked len=%d sha=%s$"
        % (len(Handler.page), sha),
        r"^post: 1 200 same=true$",
        r"^refused: nil connection refused$",
        r"^select: first,third$", r"^writable: 3$", r"^done$")


@test
def test_compat_url_and_mime_specs(ctx):
    """socket.url round trips and mime's RFC 4648 vectors, as specs run by
    `lunik test --lua-path`."""
    need(os.path.join(LUA54, "socket", "url.lua"), "lua-socket")
    r = ctx.lunik("test", os.path.join(APPS, "compat_specs"),
                  "--lua-path", LUA54)
    r.expect_status(0).expect(r"^6 passed, 0 failed$").expect_not(r"^FAIL")


# ---------------------------------------------------------------- Redis


class Redis:
    """redis-server on 127.0.0.1 and a free port, with its own config in
    a temporary folder; stop() ends it, even on failure."""

    def __init__(self):
        self.port = free_port(socket.SOCK_STREAM)
        self.dir = tempfile.mkdtemp(prefix="lunik-redis-")
        conf = os.path.join(self.dir, "redis.conf")
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\nsave \"\"\nappendonly no\n"
                    "dir %s\ndaemonize no\nlogfile \"\"\n" % (self.port,
                                                             self.dir))
        self.proc = subprocess.Popen(["redis-server", conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while self.cli("PING") != "PONG":
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise Failure("redis-server did not start on port %d"
                              % self.port)
            time.sleep(0.05)

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def connections(self):
        m = re.search(r"total_connections_received:(\d+)",
                      self.cli("INFO", "stats"))
        return int(m.group(1)) if m else -1

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def test_compat_resty_redis(ctx):
    """lua-resty-redis, unmodified, against a real Redis: set, get, incr,
    a pipeline, ngx.null, and a keep-alive pool that carries 1000
    requests on one connection; Redis itself is checked with redis-cli."""
    need(os.path.join(LUA51, "nginx", "redis.lua"), "lua-nginx-redis")
    need_tool("redis-server", "redis-server")
    image, out = build_app("compat_redis", "--lua-path", LUA51)
    if not re.search(r"warning: module 'table\.new' \(required by "
                     r"nginx/redis\.lua\)", out):
        raise Failure("no warning about lua-resty-redis's optional "
                      "table.new:\n" + out)
    redis = Redis()
    try:
        before = redis.connections()
        r = ctx.run_image(image, ["host=10.0.2.2", "port=%d" % redis.port])
        guest_conns = redis.connections() - before - 1  # INFO's own
        values = {k: redis.cli("GET", k) for k in
                  ("lunik:greeting", "lunik:counter", "lunik:piped",
                   "lunik:piped-count")}
        hash_field = redis.cli("HGET", "lunik:hash", "field")
        listed = redis.cli("LRANGE", "lunik:list", "0", "-1").split()
    finally:
        redis.stop()
    r.expect_status(0).expect(
        r"^set: OK$", r"^get: hello$", r"^missing is ngx\.null: true$",
        r"^incr: 1$", r"^hset: 1$", r"^pipeline: OK 5 p 3$",
        r"^error reply: false ERR value is not an integer",
        r"^pool: 1000 requests in [\d.]+ s, last reused 1000 times$",
        r"^counter: 1001$", r"^done$")
    want = {"lunik:greeting": "hello", "lunik:counter": "1001",
            "lunik:piped": "p", "lunik:piped-count": "5"}
    if values != want or hash_field != "value" or listed != ["c", "b", "a"]:
        r.fail("Redis holds %r, hash %r, list %r; expected %r"
               % (values, hash_field, listed, want))
    if guest_conns != 1:
        r.fail("the guest opened %d connections to Redis, expected 1 (the "
               "pool should carry every request)" % guest_conns)


# ---------------------------------------------------------------- bundling


@test
def test_compat_dkjson_inspect_bundled(ctx):
    """dkjson (lua-dkjson) and inspect (lua-inspect, shipped for Lua 5.3)
    bundled from two --lua-path folders by `lunik run DIR`."""
    need(os.path.join(LUA54, "dkjson.lua"), "lua-dkjson")
    need(os.path.join(LUA53, "inspect.lua"), "lua-inspect")
    r = ctx.lunik("run", os.path.join(APPS, "compat_json"),
                  "--lua-path", LUA54, "--lua-path", LUA53)
    r.expect_status(0).expect(
        r'^dkjson encode: \{"name":"lunik","n":3,"ok":true,'
        r'"tags":\["lua","unikernel"\]\}$',
        r"^dkjson decode: 2 true \xe9 nil$", r"^dkjson version: dkjson 2\.",
        r'^inspect: \{ 1, 2, key = "v", nested = \{ x = true \} \}$',
        r"^inspect version: inspect\.lua")


@test_once
def test_compat_inspect_lists_origins(ctx):
    """lunik inspect: every file with its size and origin (app, stdlib
    as the build's bytecode, the --lua-path it came from, lunik's own
    metadata), then the bindings linked; --include."""
    need(os.path.join(LUA54, "dkjson.lua"), "lua-dkjson")
    image, _ = build_app("compat_json", "--lua-path", LUA54,
                         "--lua-path", LUA53, "--include", "socket.url")
    rc, out, _, _ = run_cmd([LUNIK, "inspect", image])
    rows = {}
    lines = out.splitlines()
    end = next((i for i, l in enumerate(lines) if " total " in l), -1)
    for line in lines[1:end]:
        m = re.match(r"^\s*(\d+)  (\S+)\s+(\S+)$", line)
        if not m:
            raise Failure("lunik inspect: bad line %r in:\n%s" % (line, out))
        rows[m.group(3)] = (int(m.group(1)), m.group(2))
    want = {
        "app/main.lua": ("app", os.path.join(APPS, "compat_json", "main.lua")),
        "app/dkjson.lua": (LUA54, os.path.join(LUA54, "dkjson.lua")),
        "app/inspect.lua": (LUA53, os.path.join(LUA53, "inspect.lua")),
        "app/socket/url.lua": (LUA54, os.path.join(LUA54, "socket", "url.lua")),
        "app/socket.lua": (LUA54, os.path.join(LUA54, "socket.lua")),
        "stdlib/socket/core.lua": ("stdlib", os.path.join(
            ROOT, "build", "stdlib", "socket", "core.lua")),
    }
    for name, (origin, path) in want.items():  # .lua files as bytecode
        if rows.get(name, (0, ""))[1] != origin or not rows[name][0]:
            raise Failure("lunik inspect: %s is %r, expected from %r:\n%s"
                          % (name, rows.get(name), origin, out))
    if rows.get(".lunik/manifest", (0, ""))[1] != "lunik":
        raise Failure("lunik inspect: no .lunik/manifest row:\n" + out)
    if ("app/ltn12.lua" in rows or "app/socket/http.lua" in rows or
            "stdlib/ngx.lua" in rows or "stdlib/http/init.lua" in rows):
        raise Failure("lunik inspect: modules nobody required were "
                      "bundled:\n" + out)
    total = re.search(r"^\s*(\d+)  total\s+(\d+) files$", out, re.M)
    if rc != 0 or not total or int(total.group(2)) != len(rows):
        raise Failure("lunik inspect: exit %s or a bad total line:\n%s"
                      % (rc, out))
    if not re.search(r"^bindings: net netpoll sys task timer$", out, re.M):
        raise Failure("lunik inspect: not the bindings socket.core "
                      "needs:\n" + out)


@test_once
def test_compat_refusals(ctx):
    """A C module is refused, naming it and its file, whether it sits in a
    --lua-path folder or in the C folder beside it (share/lua/5.4 and
    lib/lua/5.4, as LuaRocks and Debian lay them out); an --include that
    is nowhere, or a --lua-path that is no folder, fails the build; a
    module found nowhere is a warning."""
    tree = tempfile.mkdtemp(prefix="lunik-rocks-")
    try:
        share = os.path.join(tree, "share", "lua", "5.4")
        lib = os.path.join(tree, "lib", "lua", "5.4")
        os.makedirs(share)
        os.makedirs(lib)
        with open(os.path.join(lib, "cjson.so"), "wb") as f:
            f.write(b"\x7fELF not really")
        for where in (lib, share):
            _, out = build_app("compat_cmod", "--lua-path", where,
                               expect_rc=2)
            if not re.search(r"module 'cjson' \(required by main\.lua\) is "
                             r"a C module \(%s/cjson\.so\): lunik images "
                             r"cannot load C code" % re.escape(lib), out):
                raise Failure("--lua-path %s: no clear refusal of "
                              "cjson.so:\n%s" % (where, out))
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    _, out = build_app("compat_json", "--lua-path", LUA54, "--lua-path",
                       LUA53, "--include", "no.such.module", expect_rc=2)
    if "--include no.such.module: no no/such/module.lua" not in out:
        raise Failure("a missing --include was not named:\n" + out)
    _, out = build_app("compat_json", "--lua-path", "/nonexistent",
                       expect_rc=2)
    if "--lua-path /nonexistent: not a folder" not in out:
        raise Failure("a bad --lua-path was not named:\n" + out)
    # without --lua-path, dkjson is simply missing: a warning, not an error
    _, out = build_app("compat_json")
    if "warning: module 'dkjson' (required by main.lua)" not in out:
        raise Failure("no warning for a module found nowhere:\n" + out)


# ---------------------------------------------------------------- examples


@test
def test_examples_fetch(ctx):
    """examples/fetch, bundled from Debian's lua-socket, fetches a page
    from the host and prints it; a refused URL fails with status 1."""
    need(os.path.join(LUA54, "socket", "http.lua"), "lua-socket")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "url=http://10.0.2.2:%d/page" % server.server_address[1]
        r = ctx.lunik("run", os.path.join(ROOT, "examples", "fetch"),
                      "--lua-path", LUA54, "--", url, "headers")
    finally:
        server.shutdown()
        server.server_close()
    r.expect_status(0).expect(r"^HTTP/1\.0 200 OK$", r"^content-type: text/plain$",
                              r"^line 000000 of the page served to lunik$",
                              r"^line 004999 of the page served to lunik$")
    r = ctx.lunik("run", os.path.join(ROOT, "examples", "fetch"),
                  "--lua-path", LUA54, "--", "url=http://10.0.2.2:1/")
    r.expect_status(1).expect(r"^fetch: http://10\.0\.2\.2:1/: connection refused$")


def http_call(method, url, body=None):
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@test
def test_examples_redis_counter(ctx):
    """examples/redis-counter: its HTTP API driven from the host, its
    state checked in Redis with redis-cli, and 503 once Redis is gone."""
    import json
    from harness import Live
    need(os.path.join(LUA51, "nginx", "redis.lua"), "lua-nginx-redis")
    redis = Redis()
    guest = None
    try:
        port = free_port(socket.SOCK_STREAM)
        guest = Live([LUNIK, "run", os.path.join(ROOT, "examples",
                                                 "redis-counter"),
                      "--" + ctx.accel, "--lua-path", LUA51, "--timeout",
                      "300", "-p", "%d:8080" % port, "--",
                      "redis=10.0.2.2:%d" % redis.port])
        guest.wait_for(r"^redis-counter on port 8080", 90)
        base = "http://127.0.0.1:%d" % port
        calls = [("POST", "/counters/visits", None),
                 ("POST", "/counters/visits", b'{"by": 41}'),
                 ("GET", "/counters/visits", None),
                 ("GET", "/counters/never", None),
                 ("POST", "/counters/visits", b'{"by": "x"}'),
                 ("GET", "/counters/b%20d", None),
                 ("GET", "/health", None)]
        got = []
        for method, path, body in calls:
            status, text = http_call(method, base + path, body)
            got.append((status, json.loads(text) if text else None))
        in_redis = redis.cli("GET", "counter:visits")
        status_del, _ = http_call("DELETE", base + "/counters/visits")
        after_delete = redis.cli("EXISTS", "counter:visits")
        redis.stop()
        status_down, down = http_call("GET", base + "/counters/visits")
    finally:
        if guest:
            guest.kill()
        redis.stop()
    want = [(200, {"name": "visits", "value": 1}),
            (200, {"name": "visits", "value": 42}),
            (200, {"name": "visits", "value": 42}),
            (200, {"name": "never", "value": 0}),
            (422, {"error": "by must be an integer", "status": 422})]
    if got[:5] != want or got[5][0] != 400 or got[6] != (200, {"redis": "PONG"}):
        guest.result().fail("the API answered %r" % got)
    if in_redis != "42" or status_del != 204 or after_delete != "0":
        guest.result().fail("Redis held %r, DELETE gave %s, then EXISTS %r"
                            % (in_redis, status_del, after_delete))
    if status_down != 503 or "redis unavailable" not in down:
        guest.result().fail("with Redis gone: %s %s" % (status_down, down))
