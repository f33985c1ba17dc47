"""lunik pull REF -o FILE: fetches an image from an OCI registry,
checking every digest (oci.py); the file is byte-identical to the image
that was pushed."""

import os

from . import oci
from .errors import Error

HELP = "fetch an image from an OCI registry"


def register(sub):
    p = sub.add_parser("pull", help=HELP, description=HELP)
    p.add_argument("ref", metavar="REF",
                   help="HOST[:PORT]/NAME[:TAG|@sha256:DIGEST]")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="where to write the image")
    return p


def fetch(ref_text):
    """(image bytes, boot defaults, manifest digest) of REF."""
    return oci.Registry(oci.Ref(ref_text)).pull()


def to_temp(ref_text):
    """Pulls REF into a temporary file the caller removes; (path, boot
    defaults)."""
    import tempfile
    from .errors import note
    data, defaults, digest = fetch(ref_text)
    fd, path = tempfile.mkstemp(prefix="lunik-pulled-", suffix=".elf")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    note("%s@%s: %d bytes" % (ref_text, digest, len(data)))
    return path, defaults if isinstance(defaults, dict) else {}


def run(a):
    folder = os.path.dirname(os.path.abspath(a.output))
    if not os.path.isdir(folder):
        raise Error("-o %s: no such folder" % a.output)
    data, defaults, digest = fetch(a.ref)
    tmp = a.output + ".part"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, a.output)
    except OSError as e:
        raise Error("-o %s: %s" % (a.output, e.strerror or e))
    print("pulled %s@%s -> %s (image %s, %d bytes; boot defaults: %s)" % (
        a.ref, digest, a.output, oci.sha256(data), len(data),
        " ".join(defaults.get("args") or []) or "none"))
    return 0
