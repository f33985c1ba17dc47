"""paths -- where the lunik command finds what it needs.

ROOT is the tree that holds tools/, stdlib/, kernel/link.ld and build/:
the source checkout, or PREFIX/lib/lunik after `make install` (which keeps
the same layout, so nothing else needs to know which it is).
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__))))
BUILD = os.path.join(ROOT, "build")
SYSROOT = os.path.join(BUILD, "sysroot")
HOST = os.path.join(BUILD, "host")
STDLIB = os.path.join(ROOT, "stdlib")
STDLIB_BYTECODE = os.path.join(BUILD, "stdlib")  # `make` compiles stdlib/
TEMPLATES = os.path.join(os.path.dirname(os.path.realpath(__file__)),
                         "templates")


def cache_dir():
    """A writable folder for per-host caches (the KVM probe's answer):
    build/host in a checkout, else $XDG_CACHE_HOME/lunik (~/.cache/lunik)
    when the installed tree is read-only."""
    if os.access(HOST, os.W_OK):
        return HOST
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    d = os.path.join(base, "lunik")
    os.makedirs(d, exist_ok=True)
    return d


def rel(path):
    """path relative to ROOT when it is inside it, for messages."""
    r = os.path.relpath(path, ROOT)
    return path if r.startswith("..") else r
