"""lunik inspect FILE: lists every file of an image with its size and
origin: "app", "stdlib", the --lua-path it was bundled from, or "lunik"
(the image's own metadata, .lunik/); then the C bindings linked into it
and which parts of mbedTLS, read from the image's symbol table (.ksyms,
kernel/ksyms.h), so it says what the link really took."""

import os
import struct

from . import bundle, paths, rom
from .errors import Error

HELP = ("list an image's files with their sizes and origins (app, stdlib, "
        "or a --lua-path), its bindings and libraries")

# mbedTLS's parts, by the prefixes of their functions, in the order shown.
MBEDTLS_PARTS = [("TLS", ("mbedtls_ssl_",)), ("X.509", ("mbedtls_x509",)),
                 ("crypto", ("mbedtls_", "psa_"))]
# Lua's own libraries' openers (lualib.h), which are not bindings.
LUA_OPENERS = {"luaopen_" + n for n in ("base", "coroutine", "table", "io",
                                        "os", "string", "utf8", "math",
                                        "debug", "package")}


def register(sub):
    p = sub.add_parser("inspect", help=HELP, description=HELP)
    p.add_argument("image", metavar="FILE")
    return p


def files(path):
    """[(name, size, origin)] for every file of the image at path."""
    entries = rom.image_entries(path)
    origins = {}
    for name, body in entries:
        if name == bundle.MANIFEST:
            for line in body.decode(errors="replace").splitlines():
                fname, _, origin = line.partition("\t")
                origins[fname] = origin
    out = []
    for name, body in entries:
        if name in origins:
            origin = origins[name]
        elif name.startswith("app/"):
            origin = "app"
        elif name.startswith("stdlib/"):
            origin = "stdlib"
        else:
            origin = "lunik"
        out.append((name, len(body), origin))
    return out


def functions(path):
    """The names of the functions linked into the image at path, from its
    .ksyms table; [] when it has none."""
    with open(path, "rb") as f:
        blob = rom.elf_section(f.read(), ".ksyms") or b""
    if blob[:4] != b"KSYM" or len(blob) < 12:
        return []
    count, = struct.unpack_from("<I", blob, 4)
    names = blob[12 + 12 * count:]
    out = []
    for i in range(count):
        _, off, _ = struct.unpack_from("<III", blob, 12 + 12 * i)
        out.append(names[off:names.index(b"\0", off)].decode(errors="replace"))
    return out


def linked(path):
    """(bindings, mbedTLS parts) linked into the image at path: the Lua
    names of its C modules (their luaopen_ functions) and which of
    MBEDTLS_PARTS it holds code of."""
    try:
        by_opener = {v: k for k, v in bundle.c_modules(paths.ROOT).items()}
    except bundle.BundleError:
        by_opener = {}
    fns = functions(path)
    mods = sorted(by_opener.get(f, f[len("luaopen_"):]) for f in fns
                  if f.startswith("luaopen_") and f not in LUA_OPENERS)
    parts, left = [], [f for f in fns if f.startswith(("mbedtls_", "psa_"))]
    for part, prefixes in MBEDTLS_PARTS:
        if any(f.startswith(prefixes) for f in left):
            parts.append(part)
        left = [f for f in left if not f.startswith(prefixes)]
    return mods, parts



def run(a):
    if os.path.isdir(a.image):
        raise Error("%s is a folder: inspect reads an image "
                    "(lunik build %s first)" % (a.image, a.image))
    if not os.path.isfile(a.image):
        raise Error("%s: no such image" % a.image)
    listing = files(a.image)
    width = max([len(o) for _, _, o in listing] + [6])
    print("%8s  %-*s  %s" % ("SIZE", width, "ORIGIN", "FILE"))
    for name, size, origin in listing:
        print("%8d  %-*s  %s" % (size, width, origin, name))
    print("%8d  %-*s  %d files" % (sum(s for _, s, _ in listing), width,
                                   "total", len(listing)))
    mods, parts = linked(a.image)
    print("bindings: %s" % (" ".join(mods) or "none"))
    print("mbedTLS: %s" % (", ".join(parts) or "none"))
    return 0
