"""image -- packing an app into a ROM archive and linking a bootable image.

Building never compiles C: the app folder, the stdlib/ modules it needs
and the modules bundled from --lua-path folders (bundle.py's selection)
are packed by build/host/lunik-pack into a ROM archive, wrapped in an ELF
object, and linked against the runtime that `make` built once
(build/lunik.o, the bindings the selection names from
build/lunik-modules.a, and the libraries: what they do not use is not
linked), once; the symbol table the kernel prints panic backtraces with
is made from that link's symbols and appended (elf.py), and the ELF's own
dropped. The same inputs give a byte-identical image.
"""

import os
import shutil
import struct
import subprocess
import tempfile

from . import bundle, elf, paths, rom
from . import hosted as hosted_mod
from .errors import Error, STATUS_FAILED, warn

# Where --ca-bundle puts the CA certificates that tls.client{ca="system"}
# trusts (bindings/tls.c reads the same ROM name).
CA_BUNDLE_ROM = ".lunik/ca-bundle.pem"
# The ROM files that hold the build's bytecode (runtime/lua_start.c).
BYTECODE_ROM = ".lunik/bytecode"
TEST_ENTRY = "stdlib/lunik/test_main.lua"


def runtime_parts():
    """The prebuilt objects and libraries every image links."""
    parts = {
        "ldscript": os.path.join(paths.ROOT, "kernel", "link.ld"),
        "core": os.path.join(paths.BUILD, "lunik.o"),
        "modules": os.path.join(paths.BUILD, "lunik-modules.a"),
        "pack": os.path.join(paths.HOST, "lunik-pack"),
        # Users before what they use: mbedTLS's TLS, X.509, crypto.
        "libs": [os.path.join(paths.SYSROOT, "lib", n)
                 for n in ("libmbedtls.a", "libmbedx509.a", "libmbedcrypto.a",
                           "liblua.a", "liblwip.a", "libm.a", "libc.a")],
    }
    missing = [p for p in [parts["core"], parts["modules"], parts["pack"]] +
               parts["libs"]
               if not os.path.exists(p)]
    if missing:
        raise Error("the runtime is not built (%s missing): run `make` in %s"
                    % (paths.rel(missing[0]), paths.ROOT), STATUS_FAILED)
    parts["libgcc"] = subprocess.run(
        ["gcc", "-print-libgcc-file-name"], check=True,
        capture_output=True, text=True).stdout.strip()
    return parts


def run_tool(argv, cwd=None):
    """Runs a build tool; its output, or Error with what it said."""
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Error("%s failed:\n%s" % (os.path.basename(argv[0]),
                                         (r.stderr or r.stdout).strip()),
                    STATUS_FAILED)
    return r.stdout


def ksyms_blob(data):
    """The symbol table the kernel prints backtraces with (kernel/ksyms.h)
    from a linked image's bytes: "KSYM", count, size, then {u32 addr, u32
    name_off, u32 size} sorted by addr, then the NUL-terminated names."""
    names, offsets = bytearray(), {}
    entries = bytearray()
    syms = [s for s in elf.code_symbols(data) if s[0] < 1 << 32]
    for addr, size, name in syms:
        if name not in offsets:  # statics of the same name share it
            offsets[name] = len(names)
            names += name.encode() + b"\0"
        entries += struct.pack("<III", addr, offsets[name], size)
    size = 12 + len(entries) + len(names)
    return b"KSYM" + struct.pack("<II", len(syms), size) + bytes(entries) + \
        bytes(names)


def link(parts, objs, openers, out, strip="--strip-debug"):
    """Links an image at out: the runtime, objs, the bindings whose
    luaopen_ functions are named in openers, and what they use of the
    libraries. strip: an ld option (--strip-debug, --strip-all) or None."""
    run_tool(["ld", "-nostdlib"] + ([strip] if strip else []) +
             ["-n", "--gc-sections", "--build-id=none",
              "-z", "max-page-size=4096", "-z", "noexecstack",
              "-T", parts["ldscript"], "-o", out, parts["core"]] + objs +
             [a for o in openers for a in ("-u", o)] +
             ["--start-group", parts["modules"]] + parts["libs"] +
             [parts["libgcc"], "--end-group"])


def blob_object(tmp, data_name, obj_name, section):
    """Wraps a file in an ELF object as a read-only section."""
    run_tool(["objcopy", "-I", "binary", "-O", "elf64-x86-64",
              "-B", "i386:x86-64", "--rename-section",
              ".data=%s,alloc,load,readonly,data,contents" % section,
              data_name, obj_name], cwd=tmp)
    return os.path.join(tmp, obj_name)


# Arguments: triples of source file, chunk name, output file. Compiles
# each source as the guest's loader would read it (a byte-order mark and a
# first "#" line skipped, the line kept) and writes its bytecode, debug
# information kept; a source that does not compile is reported on stderr,
# one "INDEX<TAB>message" line.
COMPILE_LUA = """
for i = 1, #arg, 3 do
  local f = assert(io.open(arg[i], "rb"))
  local src = f:read("a"); f:close()
  src = src:gsub("^\\239\\187\\191", ""):gsub("^#[^\\n]*", "")
  local fn, err = load(src, arg[i + 1], "t")
  if fn then
    local out = assert(io.open(arg[i + 2], "wb"))
    out:write(string.dump(fn)); out:close()
  else
    io.stderr:write((i + 2) // 3, "\\t", (err:gsub("\\n", " ")), "\\n")
  end
end
"""


def compile_lua(app_dir, sel, tmp):
    """Compiles the app's .lua files and those bundled for it (sel) to
    bytecode with the host's Lua, the same version, source and
    configuration as the guest's, so the guest never parses them: {ROM
    name: bytecode file in tmp}. A syntax error in the app's own files
    stops the build with its file and line; a bundled file that does not
    compile is packed as text (it fails when required, as it would have).
    {} when the host Lua is not built."""
    lua = os.path.join(paths.HOST, "lua")
    jobs = [("app/" + rel, os.path.join(app_dir, rel), rel, True)
            for rel in rom.app_files(app_dir) if rel.endswith(".lua")]
    jobs += [(name, path, name[len("app/"):], False)
             for name, path, _ in sel.files if name.endswith(".lua")]
    if not jobs or not os.access(lua, os.X_OK):
        return {}
    argv, out = [lua, "-"], {}
    for i, (name, path, shown, _) in enumerate(jobs):
        out[name] = os.path.join(tmp, "bc%d" % i)
        argv += [path, "@" + shown, out[name]]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run(argv, input=COMPILE_LUA, capture_output=True,
                       text=True, env=env)
    bad = []
    for line in r.stderr.splitlines():
        index, _, msg = line.partition("\t")
        if not index.isdigit():
            raise Error("the host Lua failed: " + r.stderr.strip(),
                        STATUS_FAILED)
        name, _, _, own = jobs[int(index) - 1]
        del out[name]
        if own:
            bad.append(msg)
    if r.returncode != 0 and not bad:
        raise Error("the host Lua failed: " + r.stderr.strip(), STATUS_FAILED)
    if bad:
        raise Error("syntax errors in %s:\n%s" % (app_dir, "\n".join(bad)),
                    STATUS_FAILED)
    return out


def check_ca_bundle(path):
    """A PEM file of CA certificates, as Debian's
    /etc/ssl/certs/ca-certificates.crt; raises Error otherwise."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Error("--ca-bundle %s: %s" % (path, e.strerror or e))
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise Error("--ca-bundle %s: no PEM certificate in it (expected "
                    "e.g. /etc/ssl/certs/ca-certificates.crt)" % path)


def check_app(app_dir, entry=None):
    """Raises Error unless app_dir is an app folder (with main.lua, unless
    another entry is named)."""
    if not os.path.isdir(app_dir):
        raise Error("%s: not a folder" % app_dir)
    if entry is None and not os.path.isfile(os.path.join(app_dir, "main.lua")):
        raise Error("%s has no main.lua: an app folder needs one "
                    "(`lunik new NAME` makes a start)" % app_dir)


def stdlib_bytecode(rel):
    """The bytecode `make` compiled stdlib/rel to (build/stdlib/rel);
    Error when it is missing or older than its source."""
    src = os.path.join(paths.STDLIB, rel)
    bc = os.path.join(paths.STDLIB_BYTECODE, rel)
    try:
        fresh = os.path.getmtime(bc) >= os.path.getmtime(src)
    except OSError:
        fresh = False
    if not fresh:
        raise Error("%s is %s: run `make` in %s" % (
            paths.rel(bc), "out of date" if os.path.exists(bc) else "missing",
            paths.ROOT), STATUS_FAILED)
    return bc


def rom_inputs(app_dir, sel, tmp, entry=None, ca_bundle=None, compiled=None):
    """lunik-pack's arguments for an image: (ROM name, host path) pairs of
    the app, the stdlib/ files and bundled modules of sel (a
    bundle.Selection), lunik's own metadata, written into tmp, and
    .lunik/bytecode, the ROM names that hold the build's bytecode (the
    stdlib's, and compiled, {ROM name: bytecode file} from compile_lua)
    rather than text: the guest loads no other file as bytecode."""
    compiled = dict(compiled or {})
    compiled.update(("stdlib/" + rel, stdlib_bytecode(rel))
                    for rel in sel.stdlib)
    files = [("app/" + rel, os.path.join(app_dir, rel))
             for rel in rom.app_files(app_dir)]
    files += [(name, path) for name, path, _ in sel.files]
    args = []
    for name, path in sorted(files) + sorted(
            (n, p) for n, p in compiled.items() if n.startswith("stdlib/")):
        args += ["--file", "%s=%s" % (name, compiled.get(name, path))]
    if entry:
        args += ["--entry", entry]
    meta = [(bundle.MANIFEST, bundle.manifest(sel.files)),
            (bundle.OMITTED, bundle.omitted(sel)),
            (BYTECODE_ROM, "".join(n + "\n" for n in sorted(compiled)))]
    for name, text in meta:
        if text:
            path = os.path.join(tmp, os.path.basename(name))
            with open(path, "w") as f:
                f.write(text)
            args += ["--file", "%s=%s" % (name, path)]
    if ca_bundle:
        args += ["--file", "%s=%s" % (CA_BUNDLE_ROM,
                                      os.path.abspath(ca_bundle))]
    return args


def build_image(app_dir, out, entry=None, extra_objs=(), debug=False,
                lua_paths=(), includes=(), ca_bundle=None, check=True,
                hosted=None):
    """Packs app_dir, what it needs of stdlib/ and the modules bundled
    from lua_paths into a ROM and links the image at out, with the
    bindings it needs; returns out. Its Lua files go in as bytecode
    unless check is false (then as text, unchecked: the guest reports
    syntax errors). Debug information (for
    gdb) is kept only when debug is true; panic backtraces use the image's
    own symbol table either way. ca_bundle, a PEM file, becomes the
    image's system CA certificates. hosted, a variant of hosted.VARIANTS,
    links a Linux executable instead (hosted.py)."""
    if ca_bundle:
        check_ca_bundle(ca_bundle)
    check_app(app_dir, entry)
    parts = runtime_parts()
    if hosted:
        hosted_mod.parts(hosted)  # built? (before anything is packed)
    try:
        sel = bundle.bundle(app_dir, lua_paths, includes, paths.ROOT, entry)
        openers = bundle.openers(sel, paths.ROOT)
    except bundle.BundleError as e:
        raise Error(str(e))
    for w in sel.warnings:
        warn(w)
    tmp = tempfile.mkdtemp(prefix="lunik-build-")
    try:
        compiled = compile_lua(app_dir, sel, tmp) if check else {}
        rom_bin = os.path.join(tmp, "rom.bin")
        run_tool([parts["pack"], "-o", rom_bin] +
                 rom_inputs(app_dir, sel, tmp, entry, ca_bundle, compiled))
        final = os.path.join(tmp, "image.elf")
        if hosted:
            hosted_mod.link(rom_bin, final, tmp, hosted, run_tool,
                            [os.path.abspath(o) for o in extra_objs], openers)
        else:
            link_guest(parts, tmp, extra_objs, openers, final, debug)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        shutil.move(final, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def link_guest(parts, tmp, extra_objs, openers, final, debug):
    """The guest image of tmp/rom.bin at final: one link, then the symbol
    table made from its symbols appended (elf.py)."""
    romobj = blob_object(tmp, "rom.bin", "rom.o", ".rom")
    objs = [romobj] + [os.path.abspath(o) for o in extra_objs]
    linked = os.path.join(tmp, "linked.elf")
    link(parts, objs, openers, linked, None if debug else "--strip-debug")
    with open(linked, "rb") as f:
        data = f.read()
    start = elf.symbol(data, "__ksyms_start")
    if not start:
        raise Error("the link defined no __ksyms_start (kernel/link.ld)",
                    STATUS_FAILED)
    with open(final, "wb") as f:
        f.write(elf.finish_image(data, ksyms_blob(data), start,
                                 strip=not debug))
    os.chmod(final, 0o755)


def temp_image(path, **kw):
    """(image path, is_temporary) for FILE|DIR: a folder is built into a
    temporary file the caller removes."""
    if os.path.isdir(path):
        fd, out = tempfile.mkstemp(prefix="lunik-",
                                   suffix="" if kw.get("hosted") else ".elf")
        os.close(fd)
        try:
            build_image(path, out, **kw)
        except BaseException:
            os.unlink(out)
            raise
        return out, True
    return path, False
