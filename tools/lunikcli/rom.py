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
from .elf import section as elf_section  # noqa: F401 (callers use rom.elf_section)
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
