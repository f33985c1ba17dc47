"""version -- `lunik --version`: lunik's own version and those of the
third-party code inside every image, read from the tarballs pinned in
deps/sources.sha256 (which decide what the build compiles)."""

import os
import re
import subprocess

from . import paths

VERSION = "0.1"
SOURCES = os.path.join(paths.ROOT, "deps", "sources.sha256")
# Tarball names of Debian's source packages -> (library, version).
TARBALLS = [
    ("Lua", re.compile(r"^lua5\.4_([\d.]+)\.orig\.")),
    ("lwIP", re.compile(r"^lwip_([\d.]+)(?:\+\w+)?\.orig\.")),
    ("mbedTLS", re.compile(r"^mbedtls_([\d.]+)\.orig\.")),
    ("newlib", re.compile(r"^newlib-([\d.]+)\.tar\.")),
]


def libraries(sources=SOURCES):
    """[(library, version)] in TARBALLS' order; "?" for one not found."""
    try:
        with open(sources) as f:
            names = [line.split()[-1] for line in f if line.strip()]
    except OSError:
        names = []
    out = []
    for lib, pattern in TARBALLS:
        found = [m.group(1) for m in map(pattern.match, names) if m]
        out.append((lib, found[0] if found else "?"))
    return out


def commit():
    """The checkout's commit, or None outside a git checkout."""
    if not os.path.isdir(os.path.join(paths.ROOT, ".git")) and \
            not os.path.isfile(os.path.join(paths.ROOT, ".git")):
        return None
    try:
        r = subprocess.run(["git", "-C", paths.ROOT, "rev-parse", "--short",
                            "HEAD"], capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None


def text():
    c = commit()
    return "lunik %s%s\n%s" % (VERSION, " (%s)" % c if c else "", ", ".join(
        "%s %s" % lv for lv in libraries()))
