"""qmp -- a client of QEMU's machine protocol (QMP), for the few commands
lunik sends a running guest: system_powerdown (the ACPI power button, the
start of a graceful shutdown), and the profiler's register reads
(bench/profile.py)."""

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


class Session:
    """One QMP connection to QEMU's socket at path, negotiated, for
    several commands (a profiler's samples); close() ends it."""

    def __init__(self, path, timeout=5):
        try:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        except OSError as e:
            self.sock.close()
            raise QmpError("QMP socket %s: %s" % (path, e.strerror or e))
        self.f = self.sock.makefile("rwb")
        try:
            self._reply()  # the greeting
            self.send("qmp_capabilities")
        except QmpError:
            self.close()
            raise

    def _reply(self):
        try:
            while True:
                line = self.f.readline()
                if not line:
                    raise QmpError("QEMU closed its QMP socket")
                msg = json.loads(line)
                if "event" in msg:
                    continue
                if "error" in msg:
                    raise QmpError(msg["error"].get("desc", str(msg["error"])))
                return msg
        except (OSError, ValueError) as e:
            raise QmpError("QMP: %s" % e)

    def send(self, name, arguments=None):
        """Runs command name; its "return" value, or QmpError."""
        req = {"execute": name}
        if arguments:
            req["arguments"] = arguments
        try:
            self.f.write(json.dumps(req).encode() + b"\n")
            self.f.flush()
        except OSError as e:
            raise QmpError("QMP: %s" % e)
        return self._reply().get("return")

    def close(self):
        for x in (self.f, self.sock):
            try:
                x.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def command(path, name, arguments=None, timeout=5):
    """Connects to QEMU's QMP socket at path, negotiates, runs command
    name and returns its "return" value; raises QmpError."""
    with Session(path, timeout) as s:
        return s.send(name, arguments)
