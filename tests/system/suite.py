"""suite.py -- system tests: real images booted on QEMU microvm, checked on
exit status and console output. Apps live in tests/system/apps/."""

import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from harness import (APPS, BUILD, LUNIK, ROOT, Failure, build, run_cmd, test,
                     test_once)

FAULT_OBJ = os.path.join(ROOT, "build", "tests", "fault.o")


@test
def test_hello(ctx):
    r = ctx.boot("examples/hello").expect_status(0)
    r.expect(r"^hello, world, from lunik on Lua 5\.4$",
             r"^booted in \d+ us \(PVH entry to main\.lua\)$",
             r"^args: \(none\)$", r"^slept 0\.1\d\d s$")


@test
def test_hello_args(ctx):
    ctx.boot("examples/hello", ["name=tester"]).expect_status(0).expect(
        r"^hello, tester, from lunik", r"^args: name=tester$")


@test
def test_require(ctx):
    ctx.boot("modules").expect_status(0).expect(
        r"^util: 42$", r"^deep: lib/deep/init\.lua$",
        r"^stdlib test: function$", r"^same module twice: true$",
        r"^missing: false module 'no\.such\.module' not found:$")


@test
def test_require_left_out(ctx):
    """A module the build left out (named only at run time) raises the
    documented error naming --include, and is there when --include asks."""
    r = ctx.boot("lean").expect_status(0)
    r.expect(r"^dynamic: false module 'crypto' is not in this image: lunik "
             r"build left it out, as nothing in the app's code names it "
             r"\(build with --include crypto\)$",
             r"^unknown: false module 'no\.such' not found:$",
             r"^tls: false .*module 'tls' is not in this image.*--include tls\)$")
    image = os.path.join(BUILD, "lean-include.elf")
    rc, out, _, _ = run_cmd([LUNIK, "build", "-q", os.path.join(APPS, "lean"),
                             "-o", image, "--include", "crypto"])
    if rc:
        raise Failure("lunik build --include crypto failed:\n" + out)
    ctx.run_image(image).expect_status(0).expect(
        r"^dynamic: true table: ", r"^crypto\.hex: 6869$")


@test_once
def test_lean_images_link_what_they_use(ctx):
    """lunik inspect of examples/api (no TLS) lists no tls binding and no
    mbedTLS; examples/https (api's modules over TLS) has both."""
    want = {"api": ([], "none"),
            "https": (["--lua-path", os.path.join(ROOT, "examples", "api")],
                      "TLS, X.509, crypto")}
    for name, (opts, mbedtls) in want.items():
        image = os.path.join(BUILD, "lean-%s.elf" % name)
        rc, out, _, _ = run_cmd([LUNIK, "build", "-q", os.path.join(
            ROOT, "examples", name), "-o", image] + opts)
        if rc:
            raise Failure("lunik build examples/%s failed:\n%s" % (name, out))
        rc, out, _, _ = run_cmd([LUNIK, "inspect", image])
        m = re.search(r"^bindings: (.*)$", out, re.M)
        if rc or not m or not re.search(r"^mbedTLS: ", out, re.M):
            raise Failure("lunik inspect %s:\n%s" % (image, out))
        bindings = m.group(1).split()
        if ("tls" in bindings) != (name == "https") or "net" not in bindings:
            raise Failure("examples/%s links the bindings %s" % (name, bindings))
        if not re.search(r"^mbedTLS: %s$" % re.escape(mbedtls), out, re.M):
            raise Failure("examples/%s: want mbedTLS: %s, inspect says:\n%s"
                          % (name, mbedtls, out))


@test
def test_require_app_first(ctx):
    ctx.boot("shadow").expect_status(0).expect(
        r"^shadowed: the app's own test\.lua$")


@test
def test_rom_files(ctx):
    ctx.boot("files").expect_status(0).expect(
        r"^read: hello from the ROM$", r"^size: 31$", r"^lines: 2$",
        r"^missing: nil\|nope\.txt: No such file or directory\|2$",
        r"^write err: nil \| data/greeting\.txt: Read-only file system$",
        r"^dir: nil \| data: Is a directory$",
        r"^escape: \.\./\.\./etc/passwd: No such file or directory$")


@test
def test_uncaught_error(ctx):
    r = ctx.boot("error").expect_status(1)
    r.expect(r"^before the error$",
             r"^lunik: lib/bad\.lua:3: boom from a module$",
             r"^stack traceback:$",
             r"lib/bad\.lua:3: in function 'lib\.bad\.go'|lib/bad\.lua:3: in (upvalue|field|function) '?go'?",
             r"main\.lua:3: in main chunk")
    r.expect_not(r"never printed")


@test
def test_syntax_error(ctx):
    """Caught by lunik build; and, in an image built without that check,
    at boot."""
    r = ctx.lunik("build", os.path.join(APPS, "syntax"), "-o",
                  os.path.join(BUILD, "syntax-checked.elf"))
    r.expect_status(1).expect(r"syntax errors in .*syntax",
                              r"^main\.lua:2: unexpected symbol near '='$")
    image = build("syntax", check=False)
    ctx.run_image(image).expect_status(1).expect(
        r"^lunik: main\.lua:2: unexpected symbol near '='$").expect_not(r"^fine$")


@test
def test_os_exit(ctx):
    ctx.boot("exit7").expect_status(7).expect(r"^exiting with 7$").expect_not(
        r"never printed")


@test
def test_args(ctx):
    r = ctx.boot("args", ["port=8080", "debug", "msg=hello world", "empty="])
    r.expect_status(0).expect(
        r"^arg debug=true$", r"^arg empty=$", r"^arg msg=hello world$",
        r"^arg port=8080$", r'^cmdline: port=8080 debug msg="hello world" empty=$',
        r"^getenv port: 8080$", r"^getenv none: nil$")


@test
def test_sleep_halts(ctx):
    base = ctx.boot("sleep", ["n=0"]).expect_status(0)
    r = ctx.boot("sleep", ["n=5"]).expect_status(0).expect(r"^done$")
    r.expect(r"^false\s+.*bad argument #1 to '(timer\.)?sleep'")
    import re
    for s in re.findall(r"^slept (\S+)$", r.out, re.M):
        if abs(float(s) - 0.2) > 0.05:
            r.fail("timer.sleep(0.2) lasted %s s" % s)
    # One second asleep must cost the host little CPU beyond the boot.
    extra = r.cpu - base.cpu
    if extra > 0.5:
        r.fail("sleeping 1 s cost %.2f s more host CPU than not sleeping "
               "(%.2f vs %.2f): the guest is spinning" % (extra, r.cpu, base.cpu))


@test
def test_clocks_and_timeline(ctx):
    t0 = time.time()
    r = ctx.boot("clock").expect_status(0)
    t1 = time.time()
    guest = float(r.find(r"^time (\S+)$").group(1))
    if not (t0 - 2 <= guest <= t1 + 2):
        r.fail("sys.time() %.3f is not within 2 s of the host (%.3f..%.3f)"
               % (guest, t0, t1))
    r.expect(r"^phase pvh_entry 0\.0$", r"^phase main\.lua \d+",
             r"^monotonic steps: true$", r"^mem total=\d+ used=\d+ lua=\d+$",
             r"^date 20\d\d-\d\d-\d\d$")


@test
def test_out_of_memory(ctx):
    ctx.boot("oom", mem="16M").expect_status(0).expect(
        r"^caught: false not enough memory$",
        r"^after: \d+ chunks were allocated, and printing still works$")


@test
def test_sandbox(ctx):
    ctx.boot("sandbox").expect_status(0).expect(
        r"^os\.execute nil$", r"^io\.popen nil$", r"^os\.remove nil$",
        r"^package\.loadlib nil$",
        r"^binary load: attempt to load a binary chunk \(mode is 't'\)$",
        r"^mode b: binary chunks are not supported$", r"^text load: 2$",
        r"^env load: from env$", r"^dofile: chunk ran$",
        r"^loadfile: chunk ran$",
        r"^loadfile missing: cannot open nope\.lua: no such file in the image$",
        r"^stdin: nil$")


def fault_case(ctx, what, *patterns):
    if not os.path.exists(FAULT_OBJ):
        raise Failure("%s is missing: `make test` builds it" % FAULT_OBJ)
    r = ctx.boot("faults", ["what=" + what], link=[FAULT_OBJ])
    r.expect_status(125).expect(r"^fault: %s$" % what, *patterns)
    r.expect_not(r"survived")


@test
def test_panic_write_text(ctx):
    fault_case(ctx, "write_text", r"(?i)page fault", r"(?i)write",
               r"(?i)read-only", r"m_write_text")


@test
def test_panic_exec_heap(ctx):
    fault_case(ctx, "exec_heap", r"(?i)page fault", r"(?i)no-execute",
               r"m_exec_heap")


@test
def test_panic_null(ctx):
    fault_case(ctx, "null", r"(?i)page fault", r"(?i)null|unmapped", r"m_null")


@test
def test_panic_stack_overflow(ctx):
    fault_case(ctx, "stack_overflow", r"(?i)stack overflow")


@test
def test_plat_panic(ctx):
    fault_case(ctx, "panic", r"test panic", r"fault\.c:\d+", r"m_panic")


@test_once
def test_reproducible_build(ctx):
    a = os.path.join(BUILD, "repro-a.elf")
    b = os.path.join(BUILD, "repro-b.elf")
    build("examples/hello", out=a)
    build("examples/hello", out=b)
    if not filecmp.cmp(a, b, shallow=False):
        raise Failure("two builds of examples/hello differ")


@test
def test_lunik_test_counts(ctx):
    r = ctx.lunik("test", os.path.join(ROOT, "tests/system/apps/specs"))
    r.expect(r"^ok   \d+ - arithmetic adds", r"^FAIL \d+ - wrong fails on purpose$",
             r"expected: 1", r"^1 passed, 1 failed$")
    if r.status == 0:
        r.fail("lunik test exited 0 with a failing spec")


@test
def test_new_scaffold_passes(ctx):
    tmp = tempfile.mkdtemp(prefix="lunik-new-")
    try:
        app = os.path.join(tmp, "myapp")
        ctx.lunik("new", app).expect_status(0)
        ctx.lunik("test", app).expect_status(0).expect(r"^1 passed, 0 failed$")
        ctx.lunik("run", app, "--", "name=scaffold").expect_status(0).expect(
            r"^hello, scaffold$")
        r = ctx.lunik("new", app)
        if r.status == 0:
            r.fail("lunik new over an existing app succeeded")
        r.expect(r"already exists")
        api = os.path.join(tmp, "myapi")
        ctx.lunik("new", api, "--http").expect_status(0).expect(r"-p 8080:8080")
        ctx.lunik("test", api).expect_status(0).expect(r"^2 passed, 0 failed$")
    finally:
        shutil.rmtree(tmp)


@test_once
def test_cli_errors(ctx):
    r = ctx.lunik("build", "/nonexistent/app")
    if r.status == 0:
        r.fail("building a missing folder succeeded")
    r.expect(r"^lunik: /nonexistent/app: not a folder$")
    r = ctx.lunik("run", os.path.join(ROOT, "examples/hello"), "--mem", "lots")
    r.expect(r"bad size 'lots'")
    if r.status == 0:
        r.fail("a bad --mem was accepted")
    r = ctx.lunik("run", "--frobnicate")
    if r.status != 2:
        r.fail("an unknown flag gave status %s, not 2" % r.status)
    r = ctx.lunik("build", os.path.join(ROOT, "tests/system/apps/specs"))
    r.expect(r"has no main\.lua")


@test
def test_in_guest_specs(ctx):
    """tests/lua: the in-guest specs, run by `lunik test`, with two fresh
    scratch disks: vda (64 MiB) and vdb (read-only)."""
    disks = os.path.join(BUILD, "specs-%s" % ctx.accel)
    shutil.rmtree(disks, ignore_errors=True)
    os.makedirs(disks)
    ro = os.path.join(disks, "ro.img")
    with open(ro, "wb") as f:
        f.truncate(1 << 20)
    r = ctx.lunik("test", os.path.join(ROOT, "tests", "lua"),
                  "--disk", os.path.join(disks, "vda.img") + ":64M",
                  "--disk", ro + ":ro",
                  "--disk", os.path.join(disks, "small.img") + ":1M")
    r.expect_status(0).expect(r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")


@test_once
def test_make_install(ctx):
    """`make install PREFIX=...` gives a lunik that builds and boots an app
    from any folder, from its own tree (PREFIX/lib/lunik), not this one."""
    prefix = tempfile.mkdtemp(prefix="lunik-install-")
    try:
        rc, out, _, _ = run_cmd(["make", "-s", "install", "PREFIX=" + prefix],
                                timeout=300)
        if rc != 0:
            raise Failure("make install failed:\n" + out)
        lunik = os.path.join(prefix, "bin", "lunik")
        r = subprocess.run([sys.executable, "-c",
                            "import sys; sys.path.insert(0, %r); "
                            "from lunikcli import paths; print(paths.ROOT)"
                            % os.path.join(prefix, "lib", "lunik", "tools")],
                           capture_output=True, text=True)
        if r.stdout.strip() != os.path.join(prefix, "lib", "lunik"):
            raise Failure("the installed lunik runs from %r" % r.stdout)
        app = os.path.join(prefix, "app")
        image = os.path.join(prefix, "app.elf")
        p = subprocess.run([lunik, "new", app], cwd="/", capture_output=True,
                           text=True, timeout=60)
        p = p.returncode == 0 and subprocess.run(
            [lunik, "build", app, "-o", image], cwd="/", capture_output=True,
            text=True, timeout=120)
        if not p or p.returncode != 0:
            raise Failure("the installed lunik could not build an app: %s"
                          % (p and (p.stderr or p.stdout)))
        rc, out, _, _ = run_cmd([lunik, "run", image, "--tcg", "--timeout",
                                 "60", "--", "name=installed"], timeout=90)
        if rc != 0 or not re.search(r"^hello, installed$", out, re.M):
            raise Failure("the installed image did not boot (status %s):\n%s"
                          % (rc, out))
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


# The reference Lua: the same Debian source as the guest's, built for the
# host by `make` (build/host/lua), so versions always agree.
HOST_LUA = os.path.join(ROOT, "build", "host", "lua")


@test
def test_lua_conformance(ctx):
    """apps/conformance/main.lua prints coroutine, loading, random and date
    behaviour; the guest must print what stock Lua prints, line for line
    (main.lua starts with a #! line, as a script for lua5.4 would)."""
    app = os.path.join(APPS, "conformance")
    ref = subprocess.run([HOST_LUA, "main.lua"], cwd=app, capture_output=True,
                         text=True, timeout=60,
                         env=dict(os.environ, TZ="UTC", LUA_PATH="./?.lua",
                                  ASAN_OPTIONS="detect_leaks=0"))
    if ref.returncode != 0:
        raise Failure("the reference Lua failed:\n" + ref.stdout + ref.stderr)
    r = ctx.boot("conformance").expect_status(0)
    want = ref.stdout.splitlines()
    got = r.out.replace("\r", "").splitlines()
    diff = [(w, g) for w, g in zip(want, got) if w != g]
    if diff or len(want) != len(got):
        r.fail("the guest differs from stock Lua (%d lines vs %d); first "
               "differences (stock, guest): %r" % (len(want), len(got),
                                                   diff[:5]))


@test
def test_math_random_seeded_per_boot(ctx):
    a = ctx.boot("seeded").expect_status(0)
    b = ctx.boot("seeded").expect_status(0)
    ua, ub = a.find(r"^unseeded: (.*)$"), b.find(r"^unseeded: (.*)$")
    if ua.group(1) == ub.group(1):
        b.fail("two boots drew the same numbers: %s" % ua.group(1))
    ref = subprocess.run([HOST_LUA, "-e", "math.randomseed(42) print("
                          "'seed 42: ' .. math.random(1, 1000000) .. ' ' .. "
                          "math.random(1, 1000000))"], capture_output=True,
                         text=True, env=dict(os.environ,
                                             ASAN_OPTIONS="detect_leaks=0"))
    for r in (a, b):
        r.expect("^" + re.escape(ref.stdout.strip()) + "\r?$")


@test_once
def test_specs_name_their_errors(ctx):
    """Every assert.error in the repository's specs names the error it
    expects (a bare one passes on any error, the wrong one included)."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from lunikcli import bundle, rom
    bare = []
    for top in ("tests", "examples"):
        for rel in rom.app_files(os.path.join(ROOT, top)):
            if not rel.endswith(".lua"):
                continue
            with open(os.path.join(ROOT, top, rel), errors="replace") as f:
                toks = list(bundle.tokens(f.read()))
            for i in range(len(toks) - 3):
                if toks[i] == ("name", "assert") and toks[i + 1] == ("op", ".") \
                        and toks[i + 2] in (("name", "error"), ("name", "has_error")) \
                        and toks[i + 3] == ("op", "("):
                    depth, args = 0, 1
                    for kind, val in toks[i + 3:]:
                        if kind == "op" and val in "([{":
                            depth += 1
                        elif kind == "op" and val in ")]}":
                            depth -= 1
                            if depth == 0:
                                break
                        elif kind == "op" and val == "," and depth == 1:
                            args += 1
                    if args < 2:
                        bare.append(os.path.join(top, rel))
    if bare:
        raise Failure("assert.error without the expected error in: %s"
                      % ", ".join(sorted(set(bare))))


@test_once
def test_build_asks_only_for_build_tools(ctx):
    """`make` and `make run` check for what building and running need;
    the tools only tests and benchmarks use are asked for by make test,
    make fuzz and make bench alone; make hosted asks for libslirp."""
    tmp = tempfile.mkdtemp(prefix="lunik-hostcheck-")
    try:
        check = os.path.join(tmp, "check")
        with open(check, "w") as f:
            f.write('#!/bin/sh\necho "$@" >> %s/asked\n' % tmp)
        os.chmod(check, 0o755)

        def asked(goal):
            open(os.path.join(tmp, "asked"), "w").close()
            subprocess.run(["make", "-n", goal, "HOST_CHECK=" + check], cwd=ROOT,
                           capture_output=True, timeout=120)
            with open(os.path.join(tmp, "asked")) as f:
                return set(f.read().split())
        build_only = {"gcc", "make", "binutils", "qemu-system-x86", "apt",
                      "dpkg-dev"}
        test_tools = {"redis-server", "wrk", "clang", "libclang-rt-14-dev",
                      "apache2-utils", "lua-nginx-redis", "libslirp-dev", "gdb"}
        for goal in ("all", "run"):
            got = asked(goal)
            if not build_only <= got or got & test_tools:
                raise Failure("make %s asks for %s" % (goal, sorted(got)))
        got = asked("test")
        if not test_tools <= got:
            raise Failure("make test does not ask for %s"
                          % sorted(test_tools - got))
        if "gnuplot-nox" not in asked("bench") or "clang" not in asked("fuzz"):
            raise Failure("make bench / make fuzz miss their tools")
        got = asked("hosted")  # the hosted platform: libslirp, no test tools
        if "libslirp-dev" not in got or got & (test_tools - {"libslirp-dev"}):
            raise Failure("make hosted asks for %s" % sorted(got))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
