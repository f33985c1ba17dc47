"""rom -- the one place that decides which files of a folder go into an
image, and the one way to read an image's ROM archive (runtime/rom.h).

Reading goes through the guest's own reader: build/host/lunik-pack --ls
runs runtime/rom.c's rom_open (magic, format version, checksum, bounds,
order) on the archive and prints its index; this module only slices the
files out of the bytes it was given, so the host never trusts an archive
the guest would refuse.
"""

import os
import struct
import subprocess

from . import paths
from .errors import Error


def skipped(name):
    """Whether a file or folder name is left out of images: hidden files
    and folders (".git", ".lunik"), and editors' backups ("main.lua~")."""
    return name.startswith(".") or name.endswith("~")


def app_files(folder):
    """The relative paths ('/' separated, sorted) of the files of folder
    that an image takes: regular files, symbolic links followed, without
    the skipped() names. Sockets, fifos and devices are not app files."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not skipped(d))
        for f in sorted(filenames):
            if skipped(f):
                continue
            path = os.path.join(dirpath, f)
            if os.path.isfile(path):
                out.append(os.path.relpath(path, folder).replace(os.sep, "/"))
    return sorted(out)


def elf_section(data, wanted):
    """The bytes of ELF64 section (wanted) of an ELF file's bytes, or None;
    raises Error when data is not an ELF64 file."""
    if data[:4] != b"\x7fELF" or len(data) < 64 or data[4] != 2:
        raise Error("not an ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    try:
        def header(i):
            return struct.unpack_from("<IIQQQQIIQQ", data,
                                      shoff + i * shentsize)

        strtab = header(shstrndx)
        for i in range(shnum):
            h = header(i)
            off = strtab[4] + h[0]
            name = data[off:data.index(b"\0", off)].decode()
            if name == wanted:
                return data[h[4]:h[4] + h[5]]
    except (struct.error, ValueError, OverflowError, UnicodeDecodeError):
        raise Error("a damaged ELF file (its section table is cut short)")
    return None


def load_end(path):
    """The address just past the highest PT_LOAD segment of the ELF64
    image at path (where its bss and stacks end), or None if unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 16)
        if data[:4] != b"\x7fELF" or data[4] != 2:
            return None
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        end = 0
        for i in range(phnum):
            p_type, _, _, _, paddr, _, memsz, _ = struct.unpack_from(
                "<IIQQQQQQ", data, phoff + i * phentsize)
            if p_type == 1:  # PT_LOAD
                end = max(end, paddr + memsz)
        return end or None
    except (OSError, struct.error):
        return None


def entries(rom):
    """[(name, data)] of a ROM archive's bytes, in name order, as the
    guest's reader sees them; raises Error naming what is wrong with it."""
    pack = os.path.join(paths.HOST, "lunik-pack")
    if not os.access(pack, os.X_OK):
        raise Error("%s is not built: run `make` in %s"
                    % (paths.rel(pack), paths.ROOT))
    r = subprocess.run([pack, "--ls", "-"], input=rom, capture_output=True)
    if r.returncode != 0:
        raise Error(r.stderr.decode(errors="replace").strip()
                    .replace("lunik-pack: ", "") or "unreadable ROM archive")
    out = []
    for line in r.stdout.decode(errors="replace").splitlines():
        off, size, name = line.split("\t", 2)
        off, size = int(off), int(size)
        out.append((name, rom[off:off + size]))
    return out


def image_entries(image):
    """[(name, data)] of the ROM inside the image file at path image."""
    try:
        with open(image, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Error("%s: %s" % (image, e.strerror or e))
    try:
        rom = elf_section(data, ".rom")
    except Error as e:
        raise Error("%s: %s: not a lunik image" % (image, e))
    if rom is None:
        raise Error("%s has no .rom section: not a lunik image" % image)
    try:
        return entries(rom)
    except Error as e:
        raise Error("%s: its ROM archive: %s" % (image, e))
