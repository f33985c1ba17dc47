"""scaffold -- the app folders `lunik new` makes, from templates/.

Each kind of app is a folder of templates/ holding real Lua files; the
only substitution is @name@, the new app's folder name.
"""

import os

from . import paths
from .errors import Error

KINDS = ("script", "http")


def template_files(kind):
    """The template files of kind, in a stable order: main.lua first."""
    d = os.path.join(paths.TEMPLATES, kind)
    names = sorted(os.listdir(d), key=lambda n: (n != "main.lua", n))
    return [(n, os.path.join(d, n)) for n in names]


def render(path, name):
    with open(path) as f:
        return f.read().replace("@name@", name)


def create(folder, kind):
    """Makes app folder (folder) of kind; returns the files' names. An
    existing folder must be empty."""
    if kind not in KINDS:
        raise Error("no such app kind %r (expected one of %s)"
                    % (kind, ", ".join(KINDS)))
    folder = folder.rstrip("/") or folder
    if os.path.exists(folder) and (not os.path.isdir(folder)
                                   or os.listdir(folder)):
        raise Error("%s already exists and is not empty" % folder)
    files = template_files(kind)
    base = os.path.basename(os.path.abspath(folder))
    try:
        os.makedirs(folder, exist_ok=True)
        for fname, path in files:
            with open(os.path.join(folder, fname), "w") as f:
                f.write(render(path, base))
    except OSError as e:
        raise Error("%s: %s" % (folder, e.strerror or e))
    return [f for f, _ in files]
