"""image -- packing an app into a ROM archive and linking a bootable image.

Building never compiles C: the app folder, stdlib/ and the modules bundled
from --lua-path folders (bundle.py) are packed by build/host/lunik-pack into
a ROM archive, wrapped in an ELF object, and linked against the runtime
that `make` built once (build/lunik.o and the libraries). A second link
adds the symbol table the kernel prints panic backtraces with. The same
inputs give a byte-identical image.
"""

import os
import shutil
import struct
import subprocess
import tempfile

from . import bundle, paths, rom
from . import hosted as hosted_mod
from .errors import Error, STATUS_FAILED, warn

# Where --ca-bundle puts the CA certificates that tls.client{ca="system"}
# trusts (bindings/tls.c reads the same ROM name).
CA_BUNDLE_ROM = ".lunik/ca-bundle.pem"
TEST_ENTRY = "stdlib/lunik/test_main.lua"


def runtime_parts():
    """The prebuilt objects and libraries every image links."""
    parts = {
        "ldscript": os.path.join(paths.ROOT, "kernel", "link.ld"),
        "core": os.path.join(paths.BUILD, "lunik.o"),
        "pack": os.path.join(paths.HOST, "lunik-pack"),
        # Users before what they use: mbedTLS's TLS, X.509, crypto.
        "libs": [os.path.join(paths.SYSROOT, "lib", n)
                 for n in ("libmbedtls.a", "libmbedx509.a", "libmbedcrypto.a",
                           "liblua.a", "liblwip.a", "libm.a", "libc.a")],
    }
    missing = [p for p in [parts["core"], parts["pack"]] + parts["libs"]
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


def ksyms_blob(elf):
    """The symbol table the kernel prints backtraces with (kernel/ksyms.h):
    "KSYM", count, then {u64 addr, u32 name_off, u32 size} sorted by addr,
    then the NUL-terminated names."""
    out = run_tool(["nm", "-n", "-S", "--defined-only", elf])
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4:
            addr, size, kind, name = int(f[0], 16), int(f[1], 16), f[2], f[3]
        elif len(f) == 3:
            addr, size, kind, name = int(f[0], 16), 0, f[1], f[2]
        else:
            continue
        if kind in "tTwW" and addr:
            syms.append((addr, size, name))
    syms.sort()
    names = bytearray()
    entries = bytearray()
    for addr, size, name in syms:
        entries += struct.pack("<QII", addr, len(names), size)
        names += name.encode() + b"\0"
    return b"KSYM" + struct.pack("<I", len(syms)) + bytes(entries) + bytes(names)


def link(parts, objs, out, debug=False):
    strip = [] if debug else ["--strip-debug"]
    run_tool(["ld", "-nostdlib"] + strip +
             ["-n", "--gc-sections", "--build-id=none",
              "-z", "max-page-size=4096", "-z", "noexecstack",
              "-T", parts["ldscript"], "-o", out, parts["core"]] + objs +
             ["--start-group"] + parts["libs"] + [parts["libgcc"],
                                                  "--end-group"])


def blob_object(tmp, data_name, obj_name, section):
    """Wraps a file in an ELF object as a read-only section."""
    run_tool(["objcopy", "-I", "binary", "-O", "elf64-x86-64",
              "-B", "i386:x86-64", "--rename-section",
              ".data=%s,alloc,load,readonly,data,contents" % section,
              data_name, obj_name], cwd=tmp)
    return os.path.join(tmp, obj_name)


CHECK_LUA = """
local bad = 0
for i = 1, #arg do
  local f, err = loadfile(arg[i], "t")
  if not f then io.stderr:write(err, "\\n"); bad = bad + 1 end
end
os.exit(bad == 0 and 0 or 1)
"""


def check_syntax(app_dir, names):
    """Compiles the app's .lua files (names, relative to app_dir) with the
    host's Lua (the same version and source as the guest's), so a syntax
    error stops the build with its file and line instead of surfacing at
    boot. Skipped when the host Lua is not built."""
    lua = os.path.join(paths.HOST, "lua")
    lua_files = [n for n in names if n.endswith(".lua")]
    if not lua_files or not os.access(lua, os.X_OK):
        return
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run([lua, "-"] + lua_files, input=CHECK_LUA, cwd=app_dir,
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise Error("syntax errors in %s:\n%s" % (app_dir, r.stderr.strip()),
                    STATUS_FAILED)


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


def rom_inputs(app_dir, files, entry=None, ca_bundle=None, tmp=None):
    """lunik-pack's arguments for an image: (ROM name, host path) pairs of
    the app, stdlib/, the bundled modules (files, from bundle.bundle) and
    lunik's own metadata."""
    args = []
    for rel in rom.app_files(app_dir):
        args += ["--file", "app/%s=%s" % (rel, os.path.join(app_dir, rel))]
    for rel in rom.app_files(paths.STDLIB):
        args += ["--file", "stdlib/%s=%s" % (rel, os.path.join(paths.STDLIB,
                                                                rel))]
    if entry:
        args += ["--entry", entry]
    for name, path, _ in files:
        args += ["--file", "%s=%s" % (name, path)]
    if files:
        man = os.path.join(tmp, "manifest")
        with open(man, "w") as f:
            f.write(bundle.manifest(files))
        args += ["--file", "%s=%s" % (bundle.MANIFEST, man)]
    if ca_bundle:
        args += ["--file", "%s=%s" % (CA_BUNDLE_ROM,
                                      os.path.abspath(ca_bundle))]
    return args


def build_image(app_dir, out, entry=None, extra_objs=(), debug=False,
                lua_paths=(), includes=(), ca_bundle=None, check=True,
                hosted=None):
    """Packs app_dir, stdlib/ and the modules bundled from lua_paths into a
    ROM and links the image at out; returns out. Debug information (for
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
    if check:
        check_syntax(app_dir, rom.app_files(app_dir))
    try:
        files, warnings = bundle.bundle(app_dir, lua_paths, includes,
                                        paths.ROOT)
    except bundle.BundleError as e:
        raise Error(str(e))
    for w in warnings:
        warn(w)
    tmp = tempfile.mkdtemp(prefix="lunik-build-")
    try:
        rom_bin = os.path.join(tmp, "rom.bin")
        run_tool([parts["pack"], "-o", rom_bin] +
                 rom_inputs(app_dir, files, entry, ca_bundle, tmp))
        final = os.path.join(tmp, "image.elf")
        if hosted:
            hosted_mod.link(rom_bin, final, tmp, hosted, run_tool,
                            [os.path.abspath(o) for o in extra_objs])
        else:
            link_guest(parts, tmp, extra_objs, final, debug)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        shutil.move(final, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def link_guest(parts, tmp, extra_objs, final, debug):
    """The guest image of tmp/rom.bin at final: a first link for the
    symbol table, then the image with it."""
    romobj = blob_object(tmp, "rom.bin", "rom.o", ".rom")
    objs = [romobj] + [os.path.abspath(o) for o in extra_objs]
    first = os.path.join(tmp, "pass1.elf")
    link(parts, objs, first)
    with open(os.path.join(tmp, "ksyms.bin"), "wb") as f:
        f.write(ksyms_blob(first))
    ksyms = blob_object(tmp, "ksyms.bin", "ksyms.o", ".ksyms")
    link(parts, objs + [ksyms], final, debug)


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
