"""suite_tls.py -- system tests of the tls module: the in-guest specs
(tests/lua_tls), a guest TLS echo server driven by the host's openssl and
Python's ssl through `lunik run -p` forwards on 127.0.0.1, and a guest
client fetching from a host `openssl s_server` through QEMU's gateway.

Certificates are made by tls_certs.py with the host's openssl for each
run; nothing secret is committed.
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import tls_certs
from harness import (APPS, BUILD, LUNIK, ROOT, Failure, Live, Result,
                     free_port, run_cmd, test)

TEST_ENTRY = "stdlib/lunik/test_main.lua"
_certs = []


def certs():
    """The folder of this run's test certificates (made once per run)."""
    if not _certs:
        _certs.append(tls_certs.make(os.path.join(BUILD, "tls-certs")))
    return _certs[0]


def cert(name):
    return os.path.join(certs(), name)


def app_with_certs(files):
    """A temp app folder: files {name: source path} and certs/."""
    tmp = tempfile.mkdtemp(prefix="lunik-tls-")
    for name, src in files.items():
        shutil.copy(src, os.path.join(tmp, name))
    shutil.copytree(certs(), os.path.join(tmp, "certs"))
    return tmp


def build_image(name, files, entry=None, bundle=None):
    app = app_with_certs(files)
    image = os.path.join(BUILD, name + ".elf")
    argv = [LUNIK, "build", "-q", app, "-o", image]
    if entry:
        argv += ["--entry", entry]
    if bundle:
        argv += ["--ca-bundle", bundle]
    try:
        rc, out, _, _ = run_cmd(argv)
    finally:
        shutil.rmtree(app)
    if rc != 0:
        raise Failure("lunik build %s failed:\n%s" % (name, out))
    return image


def timeout_for(ctx):
    return 30 if ctx.accel == "kvm" else 90


@test
def test_tls_specs(ctx):
    """tests/lua_tls: client and server in one guest, over its loopback,
    with the test CA packed as the image's "system" bundle."""
    spec_dir = os.path.join(ROOT, "tests", "lua_tls")
    files = {f: os.path.join(spec_dir, f) for f in os.listdir(spec_dir)
             if f.endswith(".lua")}
    image = build_image("tls-specs", files, TEST_ENTRY, cert("bundle.pem"))
    t = timeout_for(ctx)
    r = Result(*run_cmd([LUNIK, "run", image, "--" + ctx.accel,
                         "--timeout", str(t)], t + 30))
    r.expect_status(0).expect(r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")


class EchoGuest:
    """The tls_echo app booted with a forward from a free host port."""

    def __init__(self, ctx, hs=5):
        self.port = free_port(socket.SOCK_STREAM)
        image = build_image("tls-echo", {
            "main.lua": os.path.join(APPS, "tls_echo", "main.lua")})
        self.timeout = timeout_for(ctx)
        self.live = Live([LUNIK, "run", image, "--" + ctx.accel,
                          "--timeout", str(self.timeout),
                          "-p", "%d:8443" % self.port, "--",
                          "port=8443", "hs=%g" % hs])

    def __enter__(self):
        try:
            self.live.wait_for(r"^tls_echo: ready", self.timeout)
        except BaseException:
            self.live.kill()
            raise
        return self

    def __exit__(self, *exc):
        self.live.kill()

    def fail(self, why):
        self.live.result().fail(why)

    def wait_for(self, pattern, timeout=None):
        self.live.wait_for(pattern, timeout or self.timeout)

    def count(self, pattern):
        return len(re.findall(pattern, self.live.result().out, re.M))


def s_client(port, *opts, stdin=b"hello\nbye\n", timeout=60):
    """Runs openssl s_client against the guest; returns (rc, output)."""
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
            "-servername", "localhost", "-CAfile", cert("ca.pem"),
            "-verify_return_error", "-ign_eof"] + list(opts)
    r = subprocess.run(argv, input=stdin, capture_output=True,
                       timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def s_client_session(g, conn, version, opts, sess):
    """An s_client of (version) (its -tls1_N option in opts) against the
    echo guest, new then resumed from (sess); the guest's connections
    (conn) and (conn + 1)."""
    if os.path.exists(sess):
        os.unlink(sess)
    v = re.escape(version)
    rc, out = s_client(g.port, *(opts + ("-alpn", "echo/1", "-sess_out", sess)))
    if rc != 0:
        g.fail("s_client %s failed (%d):\n%s" % (" ".join(opts), rc, out))
    suite = (r"TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)"
             if version == "TLSv1.3" else
             r"ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)")
    for p in (r"Protocol\s*: " + v, r"Cipher\s*: " + suite,
              r"Verify return code: 0 \(ok\)",
              r"ALPN protocol: echo/1", r"^hello$", r"^bye$", r"^New, " + v):
        if not re.search(p, out, re.M):
            g.fail("s_client %s output lacks %r:\n%s" % (" ".join(opts), p, out))
    g.wait_for(r"^conn %d: %s TLS\S+ reused=false alpn=echo/1 sni=localhost$"
               % (conn, v))
    g.wait_for(r"^conn %d: bye$" % conn)
    rc, out = s_client(g.port, *(opts + ("-sess_in", sess)))
    if rc != 0 or not re.search(r"^Reused, " + v, out, re.M):
        g.fail("s_client %s -sess_in did not resume (%d):\n%s"
               % (" ".join(opts), rc, out))
    g.wait_for(r"^conn %d: %s \S+ reused=true" % (conn + 1, v))


@test
def test_tls_openssl_client(ctx):
    """openssl s_client negotiates TLS 1.3 by default and TLS 1.2 when
    asked, each with an AEAD suite (ECDHE for 1.2), a verified certificate
    and ALPN, and resumes with the ticket it got; it is refused TLS 1.0,
    1.1, a CBC suite, a group lunik lacks, and a downgrade (a TLS 1.2
    hello with the fallback SCSV meets the TLS 1.3 server's downgrade
    sentinel, RFC 8446 4.1.3). Each refusal is logged once."""
    sess = os.path.join(BUILD, "tls-s_client.sess")
    with EchoGuest(ctx) as g:
        s_client_session(g, 1, "TLSv1.3", (), sess)
        s_client_session(g, 3, "TLSv1.3", ("-tls1_3",), sess)
        s_client_session(g, 5, "TLSv1.2", ("-tls1_2",), sess)
        old = ("-cipher", "DEFAULT@SECLEVEL=0")
        refusals = [
            (("-tls1",) + old, "unsupported protocol version"),
            (("-tls1_1",) + old, "unsupported protocol version"),
            (("-tls1_2", "-cipher",
              "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:"
              "ECDHE-RSA-AES128-SHA256:AES128-SHA256"),
             "no cipher suite or group in common"),
            (("-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"),
             "no cipher suite or group in common"),
            (("-tls1_3", "-groups", "X448"),
             "no cipher suite or group in common"),
            (("-tls1_2", "-fallback_scsv"),
             r"the peer sent alert 47 \(illegal_parameter\)"),
        ]
        for i, (opts, why) in enumerate(refusals, 7):
            rc, out = s_client(g.port, *opts)
            if rc == 0 or re.search(r"Cipher is [A-Z]|^hello$", out, re.M):
                g.fail("s_client %s was not refused:\n%s" % (" ".join(opts), out))
            g.wait_for(r"^conn %d: handshake: handshake failed: %s$" % (i, why))
        for i in range(7, 7 + len(refusals)):
            if g.count(r"^conn %d: " % i) != 1:
                g.fail("refusal %d was not logged exactly once" % i)


def client_hello(version):
    """The bytes of a real ClientHello from Python's ssl offering at most
    (version), an ssl.TLSVersion."""
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.maximum_version = version
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    s = c.wrap_bio(inc, out, server_hostname="localhost")
    try:
        s.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def echo_once(port, line, timeout, version=ssl.TLSVersion.TLSv1_3):
    """A verified TLS client from Python, at most (version): line in,
    line out."""
    c = ssl.create_default_context(cafile=cert("ca.pem"))
    c.maximum_version = version
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with c.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(line + b"\n")
            got = b""
            while not got.endswith(b"\n"):
                chunk = t.recv(4096)
                if not chunk:
                    break
                got += chunk
            return got


@test
def test_tls_bad_clients(ctx):
    """Garbage, a truncated ClientHello, a client that stalls before its
    hello or after it (mid-handshake), of both versions, each cost only
    their own connection and are logged once: good TLS 1.3 and 1.2 clients
    are served meanwhile, and the stalled ones time out on their own."""
    v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    with EchoGuest(ctx, hs=4) as g:
        socks = []

        def raw(data):
            s = socket.create_connection(("127.0.0.1", g.port), 10)
            if data:
                s.sendall(data)
            socks.append(s)
            return s
        try:
            garbage = raw(b"\x16\x03\x03\x00\x10" + b"\xff" * 16 +
                          b"GARBAGE" * 64)
            g.wait_for(r"^conn 1: handshake: handshake failed: ")
            stalled = []  # the guest's connection numbers
            for hello in (client_hello(v12), client_hello(v13)):
                raw(hello[:len(hello) // 2])  # truncated
                raw(hello)  # complete, then the client stalls
                stalled += [len(socks) - 1, len(socks)]
            raw(b"")  # stalls before its hello
            stalled.append(len(socks))
            time.sleep(0.5)
            t0 = time.monotonic()
            got = [echo_once(g.port, b"still served", 30, v) for v in (v13, v12)]
            took = time.monotonic() - t0
            if got != [b"still served\n"] * 2:
                g.fail("the good clients got %r" % got)
            if g.count(r"handshake: timeout$"):
                g.fail("the stalled clients timed out before the good ones "
                       "were served (%.1f s)" % took)
            good = len(socks) + 1
            g.wait_for(r"^conn %d: TLSv1\.3 " % good)
            g.wait_for(r"^conn %d: TLSv1\.2 " % (good + 1))
            # each stalled one ends alone, at its own handshake timeout
            for n in stalled:
                g.wait_for(r"^conn %d: handshake: timeout$" % n, 30)
            for n in [1] + stalled:
                if g.count(r"^conn %d: " % n) != 1:
                    g.fail("conn %d was not logged exactly once" % n)
            garbage.settimeout(10)
            try:
                rest = garbage.recv(4096)
                while rest:
                    rest = garbage.recv(4096)
            except ConnectionResetError:
                pass
            # and the server still serves
            for v in (v13, v12):
                if echo_once(g.port, b"after", 30, v) != b"after\n":
                    g.fail("no echo after the bad clients")
        finally:
            for s in socks:
                s.close()


@test
def test_tls_guest_client(ctx):
    """A guest client (tls.connect) talks TLS 1.3 to a host `openssl
    s_server -tls1_3` through QEMU's gateway, verifying its certificate
    against the test CA, resumes with the ticket it got, and refuses a
    wrong name and an unknown CA; a TLS 1.2-only client is refused."""
    port = free_port(socket.SOCK_STREAM)
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
         "-cert", cert("server.pem"), "-key", cert("server.key"), "-www",
         "-tls1_3"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:  # until s_server listens
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise Failure("openssl s_server did not start")
                time.sleep(0.1)
        image = build_image("tls-fetch", {
            "main.lua": os.path.join(APPS, "tls_fetch", "main.lua")})
        t = timeout_for(ctx)
        r = Result(*run_cmd([LUNIK, "run", image, "--" + ctx.accel,
                             "--timeout", str(t), "--", "port=%d" % port],
                            t + 30))
    finally:
        server.kill()
        server.wait()
        server.stdout.close()
    r.expect_status(0).expect(
        r'^system ca: ca = "system": this image has no CA bundle',
        r"^fetch: TLS1-3-\S+ TLSv1\.3 reused=false$",
        r"^fetch status: HTTP/1\.0 200 ok$",
        r"^fetch again: TLS1-3-\S+ TLSv1\.3 reused=true$",
        r"^fetch again status: HTTP/1\.0 200 ok$",
        r"^wrong name: certificate verify failed: CN mismatch$",
        r"^wrong ca: certificate verify failed: not trusted$",
        r"^tls 1\.2 only: handshake failed: the peer sent alert 70 "
        r"\(protocol_version\)$",
        r"^done$")


def s_time(port, mode, seconds):
    """Handshakes per second of `openssl s_time` (-new or -reuse)."""
    r = subprocess.run(["openssl", "s_time", "-connect",
                        "127.0.0.1:%d" % port, mode, "-time", str(seconds)],
                       capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"(\d+) connections in (\d+) real seconds", r.stdout)
    if not m:
        raise Failure("s_time %s printed no figures:\n%s%s"
                      % (mode, r.stdout, r.stderr))
    return int(m.group(1)) / max(1, int(m.group(2))), r.stdout


@test
def test_tls_handshake_rate(ctx):
    """Full and resumed handshakes per second of the guest server, from
    openssl s_time (figures printed); resumption must be the cheaper."""
    with EchoGuest(ctx) as g:
        full, out_full = s_time(g.port, "-new", 3)
        resumed, out_resumed = s_time(g.port, "-reuse", 3)
    print("     tls handshakes/s [%s]: %.0f full, %.0f resumed"
          % (ctx.accel, full, resumed), flush=True)
    if full < 2:
        raise Failure("only %.1f full handshakes/s:\n%s" % (full, out_full))
    if resumed <= full:
        raise Failure("resumed handshakes (%.1f/s) are no faster than full "
                      "ones (%.1f/s):\n%s" % (resumed, full, out_resumed))


@test
def test_tls_no_entropy(ctx):
    """Without an entropy source (TCG's qemu64 has no RDRAND; --no-rng
    leaves out virtio-rng) no context is made, with rt_random's reason."""
    if ctx.accel != "tcg":
        return  # KVM's CPU has RDRAND: there is always a source
    image = build_image("tls-echo", {
        "main.lua": os.path.join(APPS, "tls_echo", "main.lua")})
    t = timeout_for(ctx)
    r = Result(*run_cmd([LUNIK, "run", image, "--tcg", "--no-rng",
                         "--timeout", str(t)], t + 30))
    r.expect_status(1).expect(
        r"^lunik: main\.lua:\d+: no entropy source: the machine has no "
        r"RDSEED/RDRAND and no virtio-rng device$").expect_not(r"ready")


@test
def test_tls_examples_https(ctx):
    """examples/https as its README says: certificates from make-cert.sh,
    the API's modules bundled with --lua-path, curl --cacert; curl and
    openssl s_client get the page over TLS 1.3 (s_client resuming with
    its ticket), curl --tls-max 1.2 over TLS 1.2, and TLS 1.1 is refused
    while the service goes on."""
    app = tempfile.mkdtemp(prefix="lunik-https-")
    try:
        shutil.copytree(os.path.join(ROOT, "examples", "https"), app,
                        dirs_exist_ok=True)
        r = subprocess.run([os.path.join(app, "make-cert.sh")],
                           capture_output=True, text=True, timeout=60)
        if r.returncode:
            raise Failure("make-cert.sh failed: " + r.stderr)
        image = os.path.join(BUILD, "https-example.elf")
        rc, out, _, _ = run_cmd([LUNIK, "build", "-q", app, "-o", image,
                                 "--lua-path", os.path.join(ROOT, "examples", "api")])
        if rc:
            raise Failure("lunik build failed:\n" + out)
        port = free_port(socket.SOCK_STREAM)
        guest = Live([LUNIK, "run", image, "--" + ctx.accel, "--timeout", "300",
                      "-p", "%d:8443" % port])
        try:
            guest.wait_for(r"https listening", timeout_for(ctx))
            ca = os.path.join(app, "certs", "ca.pem")
            url = "https://localhost:%d" % port

            def curl(path, *args, version=None):
                r = subprocess.run(["curl", "-s", "-S", "-v", "--max-time", "30",
                                    "--cacert", ca, "-w", "\n%{http_code}"] +
                                   list(args) + [url + path],
                                   capture_output=True, text=True, timeout=60)
                if r.returncode:
                    guest.result().fail("curl %s: %s" % (path, r.stderr))
                if version and not re.search(
                        r"SSL connection using %s " % re.escape(version), r.stderr):
                    guest.result().fail("curl %s %s did not use %s:\n%s"
                                        % (" ".join(args), path, version, r.stderr))
                body, _, code = r.stdout.rpartition("\n")
                return int(code), body

            def s_client_get(*opts):
                r = subprocess.run(
                    ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                     "-servername", "localhost", "-CAfile", ca,
                     "-verify_return_error", "-ign_eof"] + list(opts),
                    input=b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n",
                    capture_output=True, timeout=60)
                out = (r.stdout + r.stderr).decode(errors="replace")
                if r.returncode or '"status":"ok"' not in out:
                    guest.result().fail("s_client %s: no page (%d):\n%s"
                                        % (" ".join(opts), r.returncode, out))
                return out

            for attempt in range(3):  # keep-alive and fresh connections
                code, body = curl("/healthz")
                if code != 200 or '"status":"ok"' not in body:
                    guest.result().fail("healthz over TLS: %d %r" % (code, body))
            code, body = curl("/items", "-d", '{"name":"tls tea","price":2}')
            if code != 201:
                guest.result().fail("create over TLS: %d %r" % (code, body))
            for args, version in ((("--tlsv1.3",), "TLSv1.3"),
                                  (("--tls-max", "1.2"), "TLSv1.2")):
                code, body = curl("/healthz", *args, version=version)
                if code != 200 or '"status":"ok"' not in body:
                    guest.result().fail("curl %s: %d %r" % (args, code, body))
            sess = os.path.join(app, "s_client.sess")
            out = s_client_get("-tls1_3", "-sess_out", sess)
            if not re.search(r"^New, TLSv1\.3", out, re.M):
                guest.result().fail("s_client -tls1_3 did not use TLSv1.3:\n" + out)
            out = s_client_get("-tls1_3", "-sess_in", sess)
            if not re.search(r"^Reused, TLSv1\.3", out, re.M):
                guest.result().fail("s_client -sess_in did not resume:\n" + out)
            r = subprocess.run(["curl", "-s", "--max-time", "30", "--cacert", ca,
                                "--tlsv1.1", "--tls-max", "1.1",
                                "--ciphers", "DEFAULT@SECLEVEL=0",
                                url + "/healthz"], capture_output=True, timeout=60)
            if r.returncode != 35:
                guest.result().fail("curl over TLS 1.1 exited %d, not 35 "
                                    "(the handshake refused)" % r.returncode)
            code, body = curl("/healthz")  # and the service goes on
            if code != 200:
                guest.result().fail("healthz after the refusal: %d" % code)
            # without the CA, curl must refuse the server
            r = subprocess.run(["curl", "-s", "--max-time", "30", url + "/healthz"],
                               capture_output=True, timeout=60)
            if r.returncode != 60:
                guest.result().fail("curl without the CA exited %d, not 60 "
                                    "(certificate problem)" % r.returncode)
        finally:
            guest.kill()
    finally:
        shutil.rmtree(app, ignore_errors=True)
