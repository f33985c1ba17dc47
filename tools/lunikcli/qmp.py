"""qmp -- a client of QEMU's machine protocol (QMP), for the few commands
lunik sends a running guest: system_powerdown (the ACPI power button, the
start of a graceful shutdown)."""

import json
import os
import socket
import tempfile


class QmpError(Exception):
    pass


def socket_path():
    """A fresh path for a QMP socket, in a temporary folder of its own
    (the caller removes both)."""
    return os.path.join(tempfile.mkdtemp(prefix="lunik-qmp-"), "qmp.sock")


def args(path):
    """QEMU's options for a QMP server on the unix socket at path."""
    return ["-qmp", "unix:%s,server=on,wait=off" % path]


def command(path, name, arguments=None, timeout=5):
    """Connects to QEMU's QMP socket at path, negotiates, runs command
    name and returns its "return" value; raises QmpError."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
    except OSError as e:
        raise QmpError("QMP socket %s: %s" % (path, e.strerror or e))
    with s:
        f = s.makefile("rwb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise QmpError("QEMU closed its QMP socket")
                msg = json.loads(line)
                if "event" in msg:
                    continue
                if "error" in msg:
                    raise QmpError(msg["error"].get("desc", str(msg["error"])))
                return msg

        def send(cmd, a=None):
            req = {"execute": cmd}
            if a:
                req["arguments"] = a
            f.write(json.dumps(req).encode() + b"\n")
            f.flush()
            return reply().get("return")

        try:
            reply()  # the greeting
            send("qmp_capabilities")
            return send(name, arguments)
        except (OSError, ValueError) as e:
            raise QmpError("QMP: %s" % e)
