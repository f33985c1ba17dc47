"""buildreport -- `lunik build --report FILE`: a JSON account of an image
for CI: its size and sha256, the size of each loaded part (the ELF's
allocated sections: code, read-only data, data, zeroed memory, the ROM
archive, the symbol table), the ROM's files by origin (app, stdlib, a
--lua-path folder, lunik's own), the bindings and parts of mbedTLS
linked in (as lunik inspect lists them), and the versions inside."""

import hashlib
import json
import os

from . import cmd_inspect, elf, version
from .errors import Error

def report(image):
    """The report of the image at path image, as a dict."""
    with open(image, "rb") as f:
        data = f.read()
    # zeroed: memory the image reserves without bytes in the file
    sections = {name: {"bytes": size, "zeroed": zeroed}
                for name, size, zeroed in elf.alloc_sections(data)}
    bindings, mbedtls_parts = cmd_inspect.linked(image)
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
        "bindings": bindings,
        "mbedtls": mbedtls_parts,
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
