"""suite_gdb.py -- debugging with gdb (docs/debugging.md): `lunik run
--gdb=PORT` halts a guest at its entry behind QEMU's gdb stub and prints
the gdb command; gdb attaches with tools/gdb/lunik.py, stops at a
breakpoint in a binding (json.encode's C function) and `lua-bt` prints
the Lua task's stack at that point. The same on a hosted executable under
plain gdb --args. A taken port and --gdb with --hosted are refused in one
line.
"""

import os
import re
import shlex
import socket
import subprocess

from harness import (APPS, LUNIK, Failure, Live, Result, free_port,
                     need_tool, run_cmd, test, test_once)
from suite_hosted import hosted_build, need_hosted

APP = os.path.join(APPS, "debugme")
LUA_STACK = [r"Lua stack of task 1 ",
             r"#0 \[C\]: in function m_encode",
             r"#1 main\.lua:6: in function <main\.lua:5>",
             r"\(\.\.\.tail calls\.\.\.\)",
             r"#2 main\.lua:13: in main chunk"]


def gdb_batch(argv, timeout=300):
    """gdb -batch with a breakpoint on m_encode, lua-bt there, continue."""
    need_tool("gdb", "gdb")
    ours = ["-batch", "-ex", "break m_encode", "-ex",
            "continue" if "target remote" in " ".join(argv) else "run",
            "-ex", "lua-bt", "-ex", "delete", "-ex", "continue"]
    # after the script (-x, -ex run in order), before --args
    i = argv.index("--args") if "--args" in argv else len(argv)
    cmd = argv[:i] + ours + argv[i:]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return Result(r.returncode, r.stdout + r.stderr, 0, 0)


@test
def test_gdb_guest_lua_stack(ctx):
    """lunik run --gdb=PORT: the printed command attaches, the breakpoint
    in json.encode's binding is hit, lua-bt names main.lua's lines, and
    the guest then runs to its end (status 0, its output)."""
    need_tool("gdb", "gdb")
    port = free_port(socket.SOCK_STREAM)
    live = Live([LUNIK, "run", "--" + ctx.accel, "--gdb=%d" % port,
                 "--timeout", "600", APP])
    try:
        live.wait_for(r"^  gdb .*target remote 127\.0\.0\.1:%d" % port, 120)
        line = next(l for l in live.result().out.splitlines()
                    if l.startswith("  gdb "))
        g = gdb_batch(shlex.split(line))
        g.expect(r"Breakpoint 1(\.\d+)?, m_encode", *LUA_STACK)
        r = live.finish(120)
        r.expect_status(0).expect(r'^\{"n":42\}$')
    finally:
        live.kill()


@test_once
def test_gdb_hosted_lua_stack(ctx):
    """A hosted executable under gdb --args with tools/gdb/lunik.py: the
    same breakpoint and Lua stack, then the program's own output."""
    need_hosted()
    exe = hosted_build(APP, "debugme")
    script = os.path.join(os.path.dirname(LUNIK), "gdb", "lunik.py")
    g = gdb_batch(["gdb", "-x", script, "--args", exe])
    g.expect(r"Breakpoint 1(\.\d+)?, m_encode", *LUA_STACK).expect(r'^\{"n":42\}$')


@test_once
def test_gdb_refusals(ctx):
    """--gdb on a taken port, and with --hosted: one line each, nothing
    started."""
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = Result(*run_cmd([LUNIK, "run", "--tcg", "--gdb=%d" % port, APP],
                            60))
        r.expect_status(2).expect(r"^lunik: --gdb: port %d of 127\.0\.0\.1 "
                                  r"is taken" % port)
    finally:
        taken.close()
    r = Result(*run_cmd([LUNIK, "run", "--hosted", "--gdb", APP], 60))
    r.expect_status(2).expect(r"^lunik: --gdb is for guests; .*gdb -x .*"
                              r"--args FILE")
    if len(r.out.strip().splitlines()) != 1:
        r.fail("expected one line")
