"""bundle -- which pure-Lua modules from --lua-path folders an image
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

from .rom import app_files

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


def module_of(relpath):
    """The module name a file answers to on package.path, or None."""
    if not relpath.endswith(".lua"):
        return None
    parts = relpath[:-4].split("/")
    if parts[-1] == "init" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def builtins(root):
    """Modules every image has: Lua's own libraries, the C bindings (the
    list `make` writes to build/host/modules from bindings/*.c's
    RT_MODULE lines) and stdlib/'s modules."""
    names = set(LUA_STDLIBS)
    listing = os.path.join(root, "build", "host", "modules")
    try:
        with open(listing) as f:
            names.update(line.strip() for line in f if line.strip())
    except OSError:
        raise BundleError("%s is missing: run `make` in %s" % (listing, root))
    for rel in app_files(os.path.join(root, "stdlib")):
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
    for rel in app_files(app_dir):
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
