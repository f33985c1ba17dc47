"""Size: image bytes of examples/hello, api and https against the Linux
microVM's kernel + initramfs and against the same app linked with every
binding and the whole stdlib (what every image held before images were
lean: --include of every built-in module), and where an image's bytes go.
Issue 19's targets: hello <= 600,000 B, api <= 700,000 B, https <=
1,300,000 B.

The breakdown comes from the link map of a second link of the same image
in which build/lunik.o is replaced by the objects it was made from (so the
map can name them), attributed by input file:

  kernel    build/kernel/*.o          runtime   build/runtime/*.o
  bindings  build/lunik-modules.a     Lua       liblua.a
  lwIP      liblwip.a                 mbedTLS   libmbed{tls,x509,crypto}.a
  newlib    libc.a, libm.a, libgcc    stdlib    the ROM's stdlib/ files
  app       the ROM's other files     ksyms     the symbol table for
                                                panic backtraces
  ELF       headers, the ELF symbol table, page alignment (the rest)

An image links only the bindings its app requires (and mbedTLS only with
tls or crypto) and packs only the stdlib modules it requires, as bytecode.
"""

import glob
import gzip
import os
import re

import common
from common import figure, one

IMAGES = [("hello", "examples/hello", {}, 600000),
          ("api", "examples/api", {}, 700000),
          ("https", "examples/https", {"lua_paths": ["examples/api"]}, 1300000)]

ORDER = ["kernel", "runtime", "bindings", "Lua", "lwIP", "mbedTLS",
         "newlib", "stdlib", "app", "ksyms", "ELF"]
# Output sections with no bytes in the file.
NOLOAD = (".bss", ".noinit", ".tbss", ".comment", ".debug", ".symtab",
          ".strtab", ".shstrtab")


def _component(path):
    base = os.path.basename(path.split("(")[0])
    if "/build/kernel/" in path or path.startswith("build/kernel/"):
        return "kernel"
    if "/build/runtime/" in path:
        return "runtime"
    if "/build/bindings/" in path or "lunik-modules.a(" in path:
        return "bindings"
    table = {"liblua.a": "Lua", "liblwip.a": "lwIP",
             "libmbedtls.a": "mbedTLS", "libmbedx509.a": "mbedTLS",
             "libmbedcrypto.a": "mbedTLS", "libc.a": "newlib",
             "libm.a": "newlib", "libgcc.a": "newlib",
             "rom.o": "rom"}
    return table.get(base, "ELF")


def map_sections(text):
    """(name, addr, size, component) of each loaded input section in a
    GNU ld map; component "ELF" for fill and linker-made bytes."""
    start = text.find("Linker script and memory map")
    out_sec, pending = None, None
    for line in text[start:].splitlines():
        if line and not line[0].isspace():
            out_sec = line.split()[0]
            continue
        if out_sec is None or out_sec.startswith(NOLOAD):
            continue
        m = re.match(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)(?:\s+(\S.*))?$",
                     line)
        if not m:
            s = line.strip()
            pending = s if s and " " not in s else None
            continue
        name = m.group(1) or pending
        pending = None
        size, path = int(m.group(3), 16), m.group(4)
        if not size or name is None:
            continue
        comp = "ELF" if name == "*fill*" or not path else _component(path)
        yield name, int(m.group(2), 16), size, comp


def parse_map(text):
    """{component: bytes} of the loaded sections in a GNU ld map."""
    sizes = {}
    for _, _, size, comp in map_sections(text):
        sizes[comp] = sizes.get(comp, 0) + size
    return sizes


def _rom_split(lk, image):
    """(stdlib bytes, other bytes) of the ROM's files, from lunik inspect."""
    std = other = 0
    r = common.run_cmd([common.LUNIK, "inspect", image], timeout=60,
                       capture_output=True, text=True)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0].isdigit():
            if f[1] == "stdlib":
                std += int(f[0])
            else:
                other += int(f[0])
    return std, other


def breakdown(lk, app, out, kw):
    """Links app again with a map; returns {component: bytes} summing to
    the image's file size."""
    # the objects of today's sources only: a build/ from before a source
    # was removed still holds its object
    objs = sorted(o for d in ("kernel", "runtime")
                  for o in glob.glob(os.path.join(common.BUILD, d, "*.o"))
                  if os.path.exists(os.path.join(common.ROOT, d, os.path.basename(o)[:-2] + ".c"))
                  or os.path.exists(os.path.join(common.ROOT, d, os.path.basename(o)[:-2] + ".S")))
    mapfile = out + ".map"
    core = os.path.join(common.BUILD, "lunik.o")
    real = lk.image.run_tool

    def run_tool(argv, cwd=None):
        if argv and argv[0] == "ld" and core in argv:
            i = argv.index(core)
            argv = argv[:i] + objs + argv[i + 1:] + ["-Map=" + mapfile]
        return real(argv, cwd)

    lk.image.run_tool = run_tool  # what build_image links with
    try:
        lk.build_image(app, out, **kw)
    finally:
        lk.image.run_tool = real
    with open(mapfile) as f:
        sizes = parse_map(f.read())
    rom = sizes.pop("rom", 0)
    with open(out, "rb") as f:  # appended after the link (tools/lunikcli/elf.py)
        sizes["ksyms"] = len(lk.elf_section(f.read(), ".ksyms") or b"")
    std, other = _rom_split(lk, out)
    sizes["stdlib"] = std
    sizes["app"] = rom - std  # the app's files and the ROM's index
    total = os.path.getsize(out)
    sizes["ELF"] = total - sum(v for k, v in sizes.items() if k != "ELF")
    return sizes, total




def _gzip_bytes(path):
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), 9))


def run(ctx):
    lk = common.lunik()
    os.makedirs(common.WORK, exist_ok=True)
    common.certs()  # examples/https's image carries them
    info, why = common.linux(ctx)
    linux = linux_gz = None
    if info:
        # As booted: the kernel ELF QEMU loads (the vmlinux inside Debian's
        # bzImage, booted by PVH as lunik is) and the uncompressed cpio.
        linux = one(info["kernel_bytes"] + info["initrd_bytes"])
        # As shipped: Debian's compressed vmlinuz and a gzipped initramfs.
        linux_gz = one(info["vmlinuz_bytes"] + _gzip_bytes(info["initrd"]))
    figs, parts = [], {}
    everything = sorted(lk.bundle.builtins(common.ROOT) -
                        lk.bundle.LUA_STDLIBS)
    for name, path, kw, target in IMAGES:
        kw = {k: [os.path.join(common.ROOT, p) for p in v]
              for k, v in kw.items()}
        app = os.path.join(common.ROOT, path)
        image = os.path.join(common.WORK, name + ".elf")
        lk.build_image(app, image, **kw)
        size = os.path.getsize(image)
        full = os.path.join(common.WORK, name + "-full.elf")
        lk.build_image(app, full, includes=everything, **kw)
        figs.append(figure(
            "size", "image, %s (target <= %s)" % (path, format(target, ",")),
            "B", one(size), one(os.path.getsize(full)),
            "every binding and the whole stdlib",
            note="%s the target" % ("within" if size <= target
                                    else "OVER")))
        sizes, total = breakdown(lk, app, os.path.join(
            common.WORK, name + "-map.elf"), kw)
        parts[name] = {"bytes": size, "gzip_bytes": _gzip_bytes(image),
                       "map_link_bytes": total, "components": sizes}
        note = None
        if name == "hello":
            note = ("as booted. Linux microVM: Debian's kernel %s as the ELF "
                    "QEMU boots (%s bytes) + an initramfs of busybox, nginx, "
                    "its Lua module, LuaJIT and their libraries (cpio, %s "
                    "bytes)" % (
                        info["version"], format(info["kernel_bytes"], ","),
                        format(info["initrd_bytes"], ","))) if info else why
        figs.append(figure("size", "image, %s" % path, "B", one(size), linux,
                           "Linux microVM kernel + initramfs" if linux
                           else None, note=note))
    figs.append(figure(
        "size", "image, examples/api, gzip -9 (as shipped)", "B",
        one(parts["api"]["gzip_bytes"]), linux_gz,
        "Linux: Debian's vmlinuz + gzipped initramfs" if linux_gz else None,
        note="compressed both ways: what a registry or a CI cache stores"))
    api = parts["api"]["components"]
    total = sum(api.values())
    top = sorted(api.items(), key=lambda kv: -kv[1])[:3]
    for comp in ORDER:
        figs.append(figure("size", "examples/api: %s" % comp, "B",
                           one(api.get(comp, 0))))
    figs[-1]["note"] = (
        "breakdown of examples/api from the link map (a second link with "
        "lunik.o's objects named); largest: %s. Only the bindings and "
        "stdlib modules the app requires are in it (no tls, no mbedTLS); "
        "ELF is the headers and page alignment (no ELF symbol table: "
        ".ksyms symbolises backtraces)"
        % ", ".join("%s %.0f%%" % (k, 100.0 * v / total) for k, v in top))
    ctx.shared["size"] = parts
    return figs
