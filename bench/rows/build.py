"""Build: how long a developer waits.

  - `make` on a fresh clone, fetching the dependencies from Debian (apt
    lists, source packages) and building everything;
  - the same with the downloads already there (build/dl and build/apt
    copied in), so only compiling counts;
  - `lunik build` of examples/api after a one-line change to a script:
    the edit-build loop, which never compiles C (it packs the ROM and links
    against build/lunik.o).

What dominates a clean build is compiling newlib and mbedTLS (2 cores
here); `lunik build` is one link (the symbol table is appended after it)
and compiling the app's scripts to bytecode; its baseline is that one ld
run alone.
"""

import os
import shutil
import subprocess
import tempfile
import time

import common
from common import figure, stats


def _clean_build(prefetch, timeout=1800):
    """Seconds for `make all` in a fresh clone; None on failure."""
    tmp = tempfile.mkdtemp(prefix="lunik-bench-clone-")
    try:
        common.run_cmd(["git", "clone", "-q", common.ROOT, tmp], timeout=120,
                       check=True)
        if prefetch:
            for d in ("dl", "apt"):
                src = os.path.join(common.BUILD, d)
                if os.path.isdir(src):
                    shutil.copytree(src, os.path.join(tmp, "build", d),
                                    symlinks=True)
        t0 = time.perf_counter()
        r = common.run_cmd(["make", "-C", tmp, "all"], timeout=timeout,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            common.log("build: make failed: %s" % r.stderr[-500:])
            return None
        return time.perf_counter() - t0
    except (subprocess.SubprocessError, OSError) as e:
        common.log("build: clean build failed: %s" % e)
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _link_argv(app, out):
    """The ld command line of building app (its ROM object kept in a
    folder the caller removes), from an in-process build."""
    lk = common.lunik()
    real, argv = lk.image.run_tool, []

    def run_tool(cmd, cwd=None):
        if cmd and cmd[0] == "ld":
            argv[:] = cmd
        return real(cmd, cwd)

    keep = lk.image.shutil.rmtree
    lk.image.run_tool = run_tool
    lk.image.shutil.rmtree = lambda *a, **k: None  # keep rom.o for the floor
    try:
        lk.build_image(app, out)
    finally:
        lk.image.run_tool, lk.image.shutil.rmtree = real, keep
    return argv


def _script_change(runs):
    """(lunik build after a one-line change, the one ld run it makes),
    alternating, as stats in seconds."""
    tmp = tempfile.mkdtemp(prefix="lunik-bench-app-")
    argv = []
    try:
        app = os.path.join(tmp, "api")
        shutil.copytree(os.path.join(common.ROOT, "examples", "api"), app)
        out = os.path.join(tmp, "api.elf")
        common.run_cmd([common.LUNIK, "build", "-q", app, "-o", out],
                       timeout=120, check=True)  # warm the page cache
        argv = _link_argv(app, os.path.join(tmp, "floor.elf"))
        times, links = [], []
        for i in range(runs):
            with open(os.path.join(app, "items.lua"), "a") as f:
                f.write("-- change %d\n" % i)
            t0 = time.perf_counter()
            common.run_cmd([common.LUNIK, "build", "-q", app, "-o", out],
                           timeout=120, check=True)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            common.run_cmd(argv, timeout=120, check=True)
            links.append(time.perf_counter() - t0)
        return stats(times), stats(links)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if "-o" in argv:
            shutil.rmtree(os.path.dirname(argv[argv.index("-o") + 1]),
                          ignore_errors=True)


def run(ctx):
    runs = 3 if ctx.quick else 10
    common.log("build: lunik build after a one-line change, %d runs" % runs)
    build, link = _script_change(runs)
    figs = [figure("build", "lunik build examples/api after a one-line "
                   "change (target <= 150 ms)", "ms",
                   common.scaled(build, 1e3), common.scaled(link, 1e3),
                   "its one ld run alone",
                   note="the lunik command's start (Python), the require "
                   "scan, the scripts compiled to bytecode by the host's "
                   "Lua (built with the sanitizers), packing the ROM, one "
                   "link against build/lunik.o, the symbol table appended; "
                   "no C is compiled")]
    if ctx.quick:
        figs.append(figure("build", "clean build", "s", None,
                           note="not run by make bench-quick (about a "
                           "minute each); make bench runs it"))
        return figs
    common.log("build: clean build, downloads already there")
    warm = [_clean_build(True) for _ in range(2)]
    common.log("build: clean build, fetching from Debian")
    cold = _clean_build(False)
    figs.append(figure("build", "clean build, fresh clone, downloads "
                       "present", "s", stats(warm),
                       note="make all with %d cores: newlib, Lua, lwIP, "
                       "mbedTLS, the runtime and host tools"
                       % os.cpu_count()))
    figs.append(figure("build", "clean build, fresh clone, fetching the "
                       "dependencies", "s", stats([cold]),
                       note="adds apt's lists and four Debian source "
                       "packages to the above"))
    return figs
