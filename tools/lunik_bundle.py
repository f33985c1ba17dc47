"""lunik_bundle -- which pure-Lua modules from --lua-path folders an image
needs, for `lunik build DIR --lua-path PATH --include MODULE`, and the
image's manifest that `lunik inspect` reads.

The app's .lua files are scanned for `require "literal"` calls (also
`require("literal")` and `pcall(require, "literal")`); each module is
looked up as the image will look it up: the app's own files first, then
lunik's built-ins (stdlib/ and the C bindings), then each --lua-path in
order (?.lua, ?/init.lua). A module found there is bundled and scanned in
turn. A C module (.so) is refused: the build fails when the app itself or
--include asks for it, and warns when only a bundled library does (they
often try optional C accelerators). A module found nowhere gets a warning:
apps often require optional modules inside pcall.
"""

import glob
import os
import re
import struct

MANIFEST = ".lunik/manifest"
LUA_STDLIBS = {"_G", "coroutine", "debug", "io", "math", "os", "package",
               "string", "table", "utf8"}
NAME_RE = re.compile(r"[A-Za-z_][\w\-]*(\.[A-Za-z_][\w\-]*)*$")


class BundleError(Exception):
    pass


# ---------------------------------------------------------------- scanning

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>--(?:\[(?P<ceq>=*)\[.*?\](?P=ceq)\]|[^\n]*))
  | (?P<long>\[(?P<leq>=*)\[.*?\](?P=leq)\])
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_]\w*)
  | (?P<num>\d[\w.]*)
  | (?P<op>\.\.\.|\.\.|[^\s\w])
""", re.S | re.X)


def tokens(text):
    """Lua tokens as (kind, value): "name", "str" (the literal's text, or
    None when it has escapes), "op"; comments and numbers are dropped."""
    pos = 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:  # an unterminated string or comment: stop scanning
            return
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "comment", "ceq", "num"):
            continue
        if kind in ("long", "leq"):
            body = m.group("long")
            eq = len(m.group("leq"))
            yield "str", body[eq + 2:len(body) - eq - 2].lstrip("\n")
        elif kind == "str":
            s = m.group("str")[1:-1]
            yield "str", None if "\\" in s else s
        else:
            yield kind, m.group(kind)


def requires(text):
    """The modules a Lua chunk requires with literal names: a list of
    (name, optional), optional for `pcall(require, "name")`."""
    out, toks = [], list(tokens(text))
    for i, (kind, val) in enumerate(toks):
        if kind != "name" or val != "require":
            continue
        if i > 0 and toks[i - 1] in (("op", "."), ("op", ":")):
            continue  # a field or method that happens to be called require
        nxt = toks[i + 1:i + 4]
        name, optional = None, False
        if nxt[:1] and nxt[0][0] == "str":
            name = nxt[0][1]
        elif len(nxt) >= 2 and nxt[0] == ("op", "(") and nxt[1][0] == "str":
            name = nxt[1][1]
        elif (len(nxt) >= 2 and nxt[0] == ("op", ",") and nxt[1][0] == "str"
              and i >= 2 and toks[i - 1] == ("op", "(")
              and toks[i - 2] == ("name", "pcall")):
            name, optional = nxt[1][1], True
        if name and NAME_RE.match(name):
            out.append((name, optional))
    return out


# ---------------------------------------------------------------- lookups


def rom_files(folder):
    """Relative paths of the files the packer takes from folder (it skips
    names starting with '.' and ending in '~')."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and not d.endswith("~"))
        for f in sorted(filenames):
            if f.startswith(".") or f.endswith("~"):
                continue
            path = os.path.join(dirpath, f)
            if os.path.isfile(path):
                out.append(os.path.relpath(path, folder))
    return out


def module_of(relpath):
    """The module name a file answers to on package.path, or None."""
    if not relpath.endswith(".lua"):
        return None
    parts = relpath[:-4].split(os.sep)
    if parts[-1] == "init" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def builtins(root):
    """Modules every image has: Lua's own libraries, the C bindings
    (RT_MODULE in bindings/*.c) and stdlib/'s modules."""
    names = set(LUA_STDLIBS)
    for src in glob.glob(os.path.join(root, "bindings", "*.c")):
        with open(src, errors="replace") as f:
            names.update(re.findall(r'RT_MODULE\(\s*"([^"]+)"', f.read()))
    for rel in rom_files(os.path.join(root, "stdlib")):
        m = module_of(rel)
        if m:
            names.add(m)
    return names


def c_dirs(lua_path):
    """Where the C modules that go with a Lua folder live: the folder
    itself, and for .../share/lua/V the matching .../lib/lua/V and
    .../lib/<multiarch>/lua/V (Debian, LuaRocks)."""
    dirs = [lua_path]
    m = re.match(r"(.*)/share/lua/([\d.]+)/?$", lua_path)
    if m:
        dirs.append(os.path.join(m.group(1), "lib", "lua", m.group(2)))
        dirs += sorted(glob.glob(os.path.join(m.group(1), "lib", "*", "lua",
                                              m.group(2))))
    return dirs


def find_lua(name, lua_paths):
    """(lua_path, relpath) of module name's Lua file, or None."""
    base = name.replace(".", os.sep)
    for lp in lua_paths:
        for rel in (base + ".lua", os.path.join(base, "init.lua")):
            if os.path.isfile(os.path.join(lp, rel)):
                return lp, rel
    return None


def find_c(name, lua_paths):
    """The path of a C module for name, and whether it is in a --lua-path
    folder itself (rather than its C sibling), or (None, False)."""
    rel = name.replace(".", os.sep) + ".so"
    for lp in lua_paths:
        for i, d in enumerate(c_dirs(lp)):
            if os.path.isfile(os.path.join(d, rel)):
                return os.path.join(d, rel), i == 0
    return None, False


# ---------------------------------------------------------------- bundling


def bundle(app_dir, lua_paths, includes, root):
    """What to add to the image of app_dir: (files, warnings), files a
    list of (rom name, host path, origin) sorted by name. Raises
    BundleError for a refused C module or an --include not found."""
    for lp in lua_paths:
        if not os.path.isdir(lp):
            raise BundleError("--lua-path %s: not a folder" % lp)
    lua_paths = [os.path.normpath(lp) for lp in lua_paths]
    app = set()
    queue = []  # (module, required by, direct, optional)
    for rel in rom_files(app_dir):
        m = module_of(rel)
        if m:
            app.add(m)
        if rel.endswith(".lua"):
            with open(os.path.join(app_dir, rel), errors="replace") as f:
                for name, opt in requires(f.read()):
                    queue.append((name, rel, True, opt))
    for name in includes:
        if not NAME_RE.match(name):
            raise BundleError("--include %s: not a module name" % name)
        queue.append((name, "--include", True, False))
    known = builtins(root)
    files, warnings, seen = [], [], set()
    while queue:
        name, by, direct, optional = queue.pop(0)
        if name in seen or name in app or name in known:
            continue
        seen.add(name)
        found = find_lua(name, lua_paths)
        if found:
            lp, rel = found
            files.append(("app/" + rel.replace(os.sep, "/"),
                          os.path.join(lp, rel), lp))
            with open(os.path.join(lp, rel), errors="replace") as f:
                for sub, opt in requires(f.read()):
                    queue.append((sub, rel, False, opt))
            continue
        so, given = find_c(name, lua_paths)
        if so:
            msg = ("module '%s' (required by %s) is a C module (%s): lunik "
                   "images cannot load C code" % (name, by, so))
            if (direct and not optional) or by == "--include":
                raise BundleError(msg + "; use a pure-Lua module or a "
                                  "lunik binding instead")
            warnings.append(msg + "; not bundled")
            continue
        if by == "--include":
            raise BundleError("--include %s: no %s.lua or %s/init.lua in "
                              "any --lua-path" % (name, name.replace(".", "/"),
                                                  name.replace(".", "/")))
        warnings.append("module '%s' (required by %s) is not in the app, "
                        "lunik's stdlib or any --lua-path: require will fail "
                        "at run time unless it is optional" % (name, by))
    files.sort()
    return files, warnings


def manifest(files):
    """The text of .lunik/manifest: "NAME<TAB>ORIGIN" lines for the
    bundled files; every other file's origin follows from its name."""
    return "".join("%s\t%s\n" % (name, origin) for name, _, origin in files)


# ---------------------------------------------------------------- reading


def elf_section(data, wanted):
    """The bytes of ELF64 section (wanted), or None."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise BundleError("not an ELF64 image")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)

    def header(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)

    strtab = header(shstrndx)
    for i in range(shnum):
        h = header(i)
        off = strtab[4] + h[0]
        name = data[off:data.index(b"\0", off)].decode()
        if name == wanted:
            return data[h[4]:h[4] + h[5]]
    return None


def rom_entries(rom):
    """[(name, data)] of a ROM archive (format: runtime/rom.h)."""
    if rom[:8] != b"LUNIKROM":
        raise BundleError("the image's ROM is not a LUNIKROM archive")
    count, names_off = struct.unpack_from("<II", rom, 12)
    out = []
    for i in range(count):
        noff, nlen, off, size = struct.unpack_from("<IIII", rom, 32 + 16 * i)
        start = names_off + noff
        out.append((rom[start:start + nlen].decode(errors="replace"),
                    rom[off:off + size]))
    return out


def inspect(image):
    """[(name, size, origin)] for every file of an image: "app",
    "stdlib", the --lua-path it was bundled from, or "lunik" for the
    image's own metadata (.lunik/)."""
    with open(image, "rb") as f:
        data = f.read()
    rom = elf_section(data, ".rom")
    if rom is None:
        raise BundleError("%s has no .rom section: not a lunik image" % image)
    entries = rom_entries(rom)
    origins = {}
    for name, body in entries:
        if name == MANIFEST:
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
