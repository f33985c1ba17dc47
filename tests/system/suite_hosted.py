"""suite_hosted.py -- the hosted platform (hosted/, docs/hosted.md): the
same runtime as a Linux process. The executable is an ordinary Linux ELF;
the specs that pass in the guest pass in it (the examples', tests/lua with
the same disks); `lunik run --hosted` with -p answers curl on loopback
through libslirp and stops gracefully on SIGTERM; a tap device in a
network namespace carries DNS and ping; exit statuses are the guest's;
bad devices fail in one line before anything starts, from lunik and from
the executable itself.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

from harness import (APPS, BUILD, LUNIK, ROOT, Failure, Live, Result,
                     free_port, need_tool, run_cmd, skip, test_once)

HOSTED = os.path.join(BUILD, "hosted")


def need_hosted(variant="hosted"):
    if not os.path.exists(os.path.join(ROOT, "build", variant, "lunik.o")):
        skip("build/%s is not built (make hosted)" % variant)


def hosted_build(app, name=None, flag="--hosted"):
    """lunik build --hosted of app (a tests/system/apps name or a path
    under the repository); returns the executable's path."""
    os.makedirs(HOSTED, exist_ok=True)
    src = os.path.join(APPS, app)
    if not os.path.isdir(src):
        src = os.path.join(ROOT, app)
    exe = os.path.join(HOSTED, name or os.path.basename(app.rstrip("/")))
    r = Result(*run_cmd([LUNIK, "build", "-q", flag, src, "-o", exe]))
    r.expect_status(0)
    return exe


def spec_disks(tag):
    """The disks tests/lua's specs want (as system/in_guest_specs gives
    them): 64 MiB, a read-only one and a small one, fresh."""
    d = os.path.join(BUILD, "specs-%s" % tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    ro = os.path.join(d, "ro.img")
    with open(ro, "wb") as f:
        f.truncate(1 << 20)
    return ["--disk", os.path.join(d, "vda.img") + ":64M",
            "--disk", ro + ":ro", "--disk", os.path.join(d, "small.img") + ":1M"]


def expect_one_line(r, pattern):
    """A refusal: status 2 or 1, one line on the console matching
    pattern, nothing started."""
    lines = [l for l in r.out.splitlines() if l.strip()]
    if r.status not in (1, 2) or len(lines) != 1:
        r.fail("expected one line of refusal and status 1 or 2")
    r.expect(pattern)


@test_once
def test_hosted_executable(ctx):
    """lunik build --hosted makes an ordinary Linux executable (ELF,
    x86-64, run directly) that prints what the guest prints."""
    need_hosted()
    exe = hosted_build("examples/hello", "hello")
    with open(exe, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF" or head[18] != 62:  # EM_X86_64
        raise Failure("%s is not an x86-64 ELF" % exe)
    r = Result(*run_cmd([exe, "--", "who=hosted"], 60))
    r.expect_status(0).expect(r"^hello, world, from lunik on Lua 5\.4$",
                              r"who=hosted")


@test_once
def test_hosted_exit_statuses(ctx):
    """os.exit(7), an error escaping main.lua, a timeout: the guest's
    statuses (7, 1, 124)."""
    need_hosted()
    r = Result(*run_cmd([LUNIK, "run", "--hosted",
                         os.path.join(APPS, "exit7")], 120))
    r.expect_status(7).expect(r"^exiting with 7$").expect_not("never printed")
    r = Result(*run_cmd([LUNIK, "run", "--hosted",
                         os.path.join(APPS, "error")], 120))
    r.expect_status(1)
    r = Result(*run_cmd([LUNIK, "run", "--hosted", "--timeout", "2",
                         os.path.join(APPS, "sleep"), "--", "n=1000"], 120))
    r.expect_status(124).expect(r"timed out after 2s")


@test_once
def test_hosted_out_of_memory(ctx):
    """--mem bounds the heap: running out is a Lua error, as in the
    guest, and the program goes on."""
    need_hosted()
    r = Result(*run_cmd([LUNIK, "run", "--hosted", "--mem", "16M",
                         os.path.join(APPS, "oom")], 120))
    r.expect_status(0).expect(r"^caught: false not enough memory$",
                              r"printing still works")


@test_once
def test_hosted_examples_specs(ctx):
    """lunik test --hosted passes every example's specs."""
    need_hosted()
    ran = 0
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        app = os.path.join(ROOT, "examples", name)
        if not any(f.endswith("_spec.lua") for f in os.listdir(app)):
            continue
        r = Result(*run_cmd([LUNIK, "test", "--hosted", app], 300))
        r.expect_status(0).expect(r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")
        ran += 1
    if not ran:
        raise Failure("no example has specs")


@test_once
def test_hosted_in_guest_specs(ctx):
    """tests/lua, the in-guest specs, pass as a process with the same
    disks."""
    need_hosted()
    r = Result(*run_cmd([LUNIK, "test", "--hosted",
                         os.path.join(ROOT, "tests", "lua")] +
                        spec_disks("hosted"), 600))
    r.expect_status(0).expect(r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")


def curl(*argv):
    r = subprocess.run(["curl", "-s", "-m", "10"] + list(argv),
                       capture_output=True, text=True, timeout=30)
    return r.stdout


@test_once
def test_hosted_run_answers_curl(ctx):
    """lunik run --hosted examples/api -p PORT:8080 answers curl on
    127.0.0.1 (libslirp's forward into lwIP), keeps items on its disk,
    and SIGTERM stops it gracefully with status 0."""
    need_hosted()
    need_tool("curl", "curl")
    port = free_port(socket.SOCK_STREAM)
    disk = os.path.join(HOSTED, "api.img")
    if os.path.exists(disk):
        os.unlink(disk)
    live = Live([LUNIK, "run", "--hosted", os.path.join(ROOT, "examples/api"),
                 "-p", "%d:8080" % port, "--disk", disk + ":16M",
                 "--timeout", "300", "--", "port=8080"])
    try:
        live.wait_for(r"api listening", 60)
        url = "http://127.0.0.1:%d" % port
        made = curl(url + "/items", "-d", '{"name":"tea","price":3.5}')
        if '"name":"tea"' not in made:
            live.result().fail("POST /items answered %r" % made)
        got = curl(url + "/items")
        if '"tea"' not in got:
            live.result().fail("GET /items answered %r" % got)
        os.kill(live.proc.pid, signal.SIGTERM)
        r = live.finish(30)
        r.expect_status(0).expect(r"shut down in")
    finally:
        live.kill()


@test_once
def test_hosted_bad_devices(ctx):
    """A tap that does not exist, a disk that can't be opened, a port
    that is taken: one line, before anything starts, from lunik run
    --hosted and from the executable run by hand."""
    need_hosted()
    exe = hosted_build("examples/hello", "hello")
    hello = os.path.join(ROOT, "examples", "hello")
    r = Result(*run_cmd([LUNIK, "run", "--hosted", hello,
                         "--net", "tap:nosuchtap9"], 60))
    expect_one_line(r, r"^lunik: --net tap:nosuchtap9: there is no network "
                       r"interface")
    r = Result(*run_cmd([exe, "--net", "tap:nosuchtap9"], 60))
    expect_one_line(r, r"^lunik: --net tap:nosuchtap9: ")
    missing = os.path.join(HOSTED, "no-such-dir", "x.img")
    r = Result(*run_cmd([LUNIK, "run", "--hosted", hello, "--disk", missing], 60))
    expect_one_line(r, r"^lunik: --disk .*x\.img: no such file")
    r = Result(*run_cmd([exe, "--disk", missing], 60))
    expect_one_line(r, r"^lunik: --disk .*x\.img: cannot open .*No such file")
    odd = os.path.join(HOSTED, "odd.img")
    with open(odd, "wb") as f:
        f.write(b"x" * 1000)
    r = Result(*run_cmd([exe, "--disk", odd], 60))
    expect_one_line(r, r"^lunik: --disk .*odd\.img: .* 1000 bytes, not a "
                       r"multiple of 512")
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = Result(*run_cmd([LUNIK, "run", "--hosted", hello,
                             "-p", "%d:80" % port], 60))
        expect_one_line(r, r"^lunik: -p: cannot forward tcp port %d of "
                           r"127\.0\.0\.1" % port)
        r = Result(*run_cmd([exe, "-p", "%d:80" % port], 60))
        expect_one_line(r, r"^lunik: -p: cannot forward tcp port %d of "
                           r"127\.0\.0\.1" % port)
    finally:
        taken.close()


@test_once
def test_hosted_tap_dns_and_ping(ctx):
    """--net tap:NAME: an existing tap device in a network namespace the
    test makes; DNS through it to a responder there, then ping of the
    process's lwIP (suite_net's guest test, as a process)."""
    need_hosted()
    from harness import need_root
    from suite_net import DNS_RESPONDER, Netns, expect_ping
    need_root("a network namespace and a tap device")
    netcheck = os.path.join(APPS, "netcheck")
    with Netns() as ns:
        dns = ns.popen(["python3", "-c", DNS_RESPONDER], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
        try:
            if dns.stdout.readline().strip() != "ready":
                raise Failure("the DNS responder did not start")
            live = Live(["ip", "netns", "exec", ns.name, LUNIK, "run",
                         "--hosted", netcheck, "--timeout", "120", "--net",
                         "tap:ltap0", "--", "what=resolve", "name=service.test",
                         "ip=192.168.77.2/24", "gw=192.168.77.1",
                         "dns=192.168.77.1"])
            try:
                live.finish(120).expect_status(0).expect(
                    r"^resolved: 10\.9\.8\.7$", r"^missing: nil host not found$")
            finally:
                live.kill()
        finally:
            dns.kill()
            dns.wait()
        expect_ping(ns, [LUNIK, "run", "--hosted", netcheck])
