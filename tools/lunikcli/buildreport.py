"""buildreport -- `lunik build --report FILE`: a JSON account of an image
for CI: its size and sha256, the size of each loaded part (the ELF's
allocated sections: code, read-only data, data, zeroed memory, the ROM
archive, the symbol table) and the ROM's files by origin (app, stdlib, a
--lua-path folder, lunik's own), and the versions inside."""

import hashlib
import json
import os

from . import cmd_inspect, rom, version
from .errors import Error

SHF_ALLOC = 0x2


def report(image):
    """The report of the image at path image, as a dict."""
    with open(image, "rb") as f:
        data = f.read()
    # zeroed: memory the image reserves without bytes in the file
    sections = {name: {"bytes": size, "zeroed": not body}
                for name, flags, size, body in rom.elf_sections(data)
                if flags & SHF_ALLOC and size}
    origins = {}
    files = cmd_inspect.files(image)
    for _, size, origin in files:
        o = origins.setdefault(origin, {"files": 0, "bytes": 0})
        o["files"] += 1
        o["bytes"] += size
    return {
        "image": os.path.basename(image),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sections": sections,
        "rom": {"files": len(files), "bytes": sum(s for _, s, _ in files),
                "by_origin": origins},
        "versions": dict([("lunik", version.VERSION)] + version.libraries()),
    }


def write(image, path):
    """Writes the report of image to path; raises Error when it can't."""
    text = json.dumps(report(image), indent=2, sort_keys=True) + "\n"
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as e:
        raise Error("--report %s: %s" % (path, e.strerror or e))
