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
OMITTED = ".lunik/omitted"
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
        # in parentheses, the string must be the whole argument
        whole = len(nxt) < 3 or nxt[2] != ("op", "..")
        if nxt[:1] and nxt[0][0] == "str":
            name = nxt[0][1]
        elif (len(nxt) >= 2 and nxt[0] == ("op", "(") and nxt[1][0] == "str"
              and whole):
            name = nxt[1][1]
        elif (len(nxt) >= 2 and nxt[0] == ("op", ",") and nxt[1][0] == "str"
              and i >= 2 and toks[i - 1] == ("op", "(")
              and toks[i - 2] == ("name", "pcall") and whole):
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

# Modules the runtime itself requires from C (runtime/shutdown.c on the
# power button, runtime/lua_start.c for the lunik.status boot argument):
# every image has them, since boot arguments come after the build.
RUNTIME_REQUIRES = ("lunik.shutdown", "lunik.status")

# Modules the stdlib requires only on a path an app opts into, and what in
# the app's own code (its files and what it bundles) opts in: a name (an
# option key such as `tls = {...}`, a method such as sslhandshake) or the
# start of a string (a URL). Without it the module is left out, and the
# image's require of it says to build with --include.
ON_DEMAND = {"tls": ({"tls", "sslhandshake"}, ("https:", "wss:"))}


class Selection:
    """What goes into an image of an app: files, the (ROM name, host
    path, origin) of the modules bundled from --lua-path folders, sorted;
    stdlib, the stdlib/ files (relative to it) the app needs; c_modules,
    the names of the C bindings it needs; omitted, the built-in modules
    left out, sorted; warnings."""

    def __init__(self):
        self.files, self.stdlib, self.c_modules = [], set(), set()
        self.omitted, self.warnings = [], []


def c_modules(root):
    """{name: opener} of the C bindings (the list `make` writes to
    build/host/modules from bindings/*.c's RT_MODULE lines)."""
    listing = os.path.join(root, "build", "host", "modules")
    out = {}
    try:
        with open(listing) as f:
            for line in f:
                name, _, opener = line.strip().partition("\t")
                if name:
                    out[name] = opener or "luaopen_" + name.replace(".", "_")
    except OSError:
        raise BundleError("%s is missing: run `make` in %s" % (listing, root))
    return out


def stdlib_modules(root):
    """{module name: path relative to stdlib/} of stdlib/'s modules."""
    out = {}
    for rel in app_files(os.path.join(root, "stdlib")):
        m = module_of(rel)
        if m:
            out[m] = rel
    return out


def builtins(root):
    """Modules an image can have without --lua-path: Lua's own libraries,
    the C bindings and stdlib/'s modules."""
    return set(LUA_STDLIBS) | set(c_modules(root)) | set(stdlib_modules(root))


def _opted_in(name, names, strings):
    want_names, prefixes = ON_DEMAND[name]
    return bool(want_names & names) or any(
        s.startswith(prefixes) for s in strings)


def bundle(app_dir, lua_paths, includes, root, entry=None):
    """The Selection for an image of app_dir: starting from the requires
    of the app's files, of --include and of the runtime, each module is
    found as the image will find it (C bindings, the app's files,
    stdlib/, then each --lua-path) and what it requires in turn. entry, a
    ROM name, is an entry script other than the app's main.lua (`lunik
    test`'s). Raises BundleError for a refused C module or an --include
    not found."""
    for lp in lua_paths:
        if not os.path.isdir(lp):
            raise BundleError("--lua-path %s: not a folder" % lp)
    lua_paths = [os.path.normpath(lp) for lp in lua_paths]
    cmods, stdmods = c_modules(root), stdlib_modules(root)
    sel = Selection()
    app, names, strings = set(), set(), set()
    queue = []  # (module, required by, origin, optional)

    def scan(path, by, origin):
        with open(path, errors="replace") as f:
            text = f.read()
        for name, opt in requires(text):
            queue.append((name, by, origin, opt))
        if origin != "stdlib":
            for kind, val in tokens(text):
                if kind == "name":
                    names.add(val)
                elif kind == "str" and val:
                    strings.add(val)

    for rel in app_files(app_dir):
        m = module_of(rel)
        if m:
            app.add(m)
        if rel.endswith(".lua"):
            scan(os.path.join(app_dir, rel), rel, "app")
    for name in includes:
        if not NAME_RE.match(name):
            raise BundleError("--include %s: not a module name" % name)
        queue.append((name, "--include", "include", False))
    queue += [(name, "lunik", "stdlib", False) for name in RUNTIME_REQUIRES]
    if entry and entry.startswith("stdlib/"):
        sel.stdlib.add(entry[len("stdlib/"):])
        scan(os.path.join(root, entry), entry, "stdlib")
    seen, deferred = set(), set()
    while queue:
        name, by, origin, optional = queue.pop(0)
        if name in ON_DEMAND and origin == "stdlib" and name not in seen:
            deferred.add(name)
        elif name not in seen and name not in LUA_STDLIBS:
            seen.add(name)
            _resolve(name, by, origin, optional, sel, app, cmods, stdmods,
                     lua_paths, root, scan)
        if not queue:  # what the app opts into, now all its code is read
            queue += [(m, "lunik (the app uses it)", "app", False)
                      for m in sorted(deferred - seen)
                      if _opted_in(m, names, strings)]
    sel.files.sort()
    sel.omitted = sorted((set(cmods) - sel.c_modules) |
                         {m for m, rel in stdmods.items()
                          if rel not in sel.stdlib})
    return sel


def _resolve(name, by, origin, optional, sel, app, cmods, stdmods,
             lua_paths, root, scan):
    """Adds module name (required by by) to sel, queueing what it
    requires through scan."""
    if name in cmods:
        sel.c_modules.add(name)
        return
    if name in app:
        return
    if name in stdmods:
        rel = stdmods[name]
        if rel not in sel.stdlib:
            sel.stdlib.add(rel)
            scan(os.path.join(root, "stdlib", rel), "stdlib/" + rel,
                 "stdlib")
        return
    found = find_lua(name, lua_paths)
    if found:
        lp, rel = found
        sel.files.append(("app/" + rel.replace(os.sep, "/"),
                          os.path.join(lp, rel), lp))
        scan(os.path.join(lp, rel), rel, "bundled")
        return
    direct = origin in ("app", "include")
    so, given = find_c(name, lua_paths)
    if so:
        msg = ("module '%s' (required by %s) is a C module (%s): lunik "
               "images cannot load C code" % (name, by, so))
        if (direct and not optional) or by == "--include":
            raise BundleError(msg + "; use a pure-Lua module or a "
                              "lunik binding instead")
        sel.warnings.append(msg + "; not bundled")
        return
    if by == "--include":
        raise BundleError("--include %s: no %s.lua or %s/init.lua in "
                          "any --lua-path" % (name, name.replace(".", "/"),
                                              name.replace(".", "/")))
    sel.warnings.append("module '%s' (required by %s) is not in the app, "
                        "lunik's stdlib or any --lua-path: require will fail "
                        "at run time unless it is optional" % (name, by))


def openers(sel, root):
    """The luaopen_ functions of sel's C bindings, for the link's -u."""
    cmods = c_modules(root)
    return sorted(cmods[m] for m in sel.c_modules)


def omitted(sel):
    """The text of .lunik/omitted: the built-in modules left out of the
    image, one a line, which its require names in the error it raises."""
    return "".join(m + "\n" for m in sel.omitted)


def manifest(files):
    """The text of .lunik/manifest: "NAME<TAB>ORIGIN" lines for the
    bundled files; every other file's origin follows from its name."""
    return "".join("%s\t%s\n" % (name, origin) for name, _, origin in files)
