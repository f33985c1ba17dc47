"""lunik.py -- gdb commands for lunik, guest or hosted process.

    gdb -x tools/gdb/lunik.py ...       (lunik run --gdb prints the line)

lua-bt   the stack of the Lua coroutine running now (runtime/sched.c's
         rt_running_L: the task's, or a coroutine nested in it), newest
         call first: "file:line in function <file:linedefined>" for Lua
         functions, the C function's symbol for C ones, as Lua's own
         traceback writes them. Needs the image's debug information (lunik
         run --gdb and lunik build -g keep it; hosted builds always do).

It reads Lua 5.4's structures (lstate.h, lobject.h) as they are in
memory, so it works on a stopped guest as on a live or crashed process.
"""

import gdb

CIST_C = 1 << 1           # lstate.h: the CallInfo is of a C function
CIST_TAIL = 1 << 5        # it was tail called
MAXIWTHABS = 128          # ldebug.c
LUA_VLCL = 0x06           # lobject.h: Lua closure
LUA_VLCF = 0x16           # light C function
LUA_VCCL = 0x26           # C closure
BIT_ISCOLLECTABLE = 1 << 6


def stk(rel):
    """A StkIdRel's pointer (Lua 5.4.6 on), or a StkId as it is."""
    try:
        return rel["p"]
    except gdb.error:
        return rel


def cstring(ts):
    return ts["contents"].address.cast(
        gdb.lookup_type("char").pointer()).string(errors="replace")


def funcline(p, pc):
    """luaG_getfuncline: the source line of instruction pc of Proto p."""
    if int(p["lineinfo"]) == 0:
        return -1
    nabs = int(p["sizeabslineinfo"])
    absinfo = p["abslineinfo"]
    if nabs == 0 or pc < int(absinfo[0]["pc"]):
        basepc, line = -1, int(p["linedefined"])
    else:
        i = pc // MAXIWTHABS - 1
        while i + 1 < nabs and pc >= int(absinfo[i + 1]["pc"]):
            i += 1
        basepc, line = int(absinfo[i]["pc"]), int(absinfo[i]["line"])
    info = p["lineinfo"]
    while basepc < pc:
        basepc += 1
        line += int(info[basepc])
    return line


def short_source(p):
    src = cstring(p["source"]) if int(p["source"]) else "?"
    return src[1:] if src[:1] in "@=" else "[string]"


def describe(ci):
    tv = stk(ci["func"])["val"]
    tag = int(tv["tt_"]) & ~BIT_ISCOLLECTABLE
    if tag == LUA_VLCL and not int(ci["callstatus"]) & CIST_C:
        cl = tv["value_"]["gc"].cast(gdb.lookup_type("LClosure").pointer())
        p = cl["p"]
        code = p["code"]
        pc = int((ci["u"]["l"]["savedpc"] - code)) - 1
        src = short_source(p)
        where = "%s:%d" % (src, funcline(p, max(pc, 0)))
        if int(p["linedefined"]) == 0:
            return "%s: in main chunk" % where
        return "%s: in function <%s:%d>" % (where, src, int(p["linedefined"]))
    if tag == LUA_VLCF:
        fn = tv["value_"]["f"]
    elif tag == LUA_VCCL:
        fn = tv["value_"]["gc"].cast(
            gdb.lookup_type("CClosure").pointer())["f"]
    else:
        return "?: (a value of tag 0x%x)" % tag
    sym = gdb.execute("info symbol 0x%x" % int(fn), to_string=True).strip()
    return "[C]: in function %s" % sym.split(" in section")[0]


class LuaBacktrace(gdb.Command):
    """Prints the running Lua coroutine's stack, newest call first."""

    def __init__(self):
        super().__init__("lua-bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        try:
            L = gdb.parse_and_eval("rt_running_L")
        except gdb.error as e:
            raise gdb.GdbError("no lunik symbols (%s): load an image built "
                               "with -g, or a hosted executable" % e)
        if int(L) == 0:
            print("no Lua task is running (the event loop, or boot)")
            return
        try:
            task = gdb.parse_and_eval("'sched.c'::current")
            tid = int(task["id"]) if int(task) else None
        except gdb.error:
            tid = None
        print("Lua stack of %s (lua_State %s):" % (
            "task %d" % tid if tid else "the running coroutine", L))
        ci, base, n = L["ci"], L["base_ci"].address, 0
        while int(ci) and int(ci) != int(base) and n < 200:
            print("  #%d %s" % (n, describe(ci)))
            if int(ci["callstatus"]) & CIST_TAIL:
                print("  (...tail calls...)")
            ci, n = ci["previous"], n + 1


LuaBacktrace()
