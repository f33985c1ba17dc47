"""console -- a guest's console as lunik reads it: copied to our stdout
as it comes, and watched for the guest's readiness.

A guest reports each TCP listener it opens with one console line,
"lunik: listening on tcp port N" (bindings/net_tcp_setup.c). The guest is
ready once it listens on every port in ports (the guest ports of the -p
forwards), or, when there are none, once it listens at all. on_ready()
then runs once, on the reader's thread.
"""

import os
import re
import sys
import threading

LISTENING = re.compile(rb"lunik: listening on tcp port (\d+)")
TAIL = 16 << 10  # console bytes kept for error reports


class Console:
    def __init__(self, pipe, ports=(), on_ready=None, out=None, lines=None):
        self.pipe, self.waiting, self.lines = pipe, set(ports), lines
        self.on_ready, self.out = on_ready, out
        self.listening, self.tail = set(), b""
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        out = self.out or sys.stdout.buffer
        partial = b""
        fd = self.pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.tail = (self.tail + chunk)[-TAIL:]
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()[-(1 << 20):]
            for line in lines:
                self._line(line)
            if self.lines:
                chunk = b"".join(self.lines(line) for line in lines)
            write(out, chunk)
        if self.lines and partial:
            write(out, self.lines(partial))
        self.pipe.close()

    def _line(self, line):
        m = LISTENING.search(line)
        if not m or self.ready.is_set():
            return
        self.listening.add(int(m.group(1)))
        if self.waiting <= self.listening:
            self.ready.set()
            if self.on_ready:
                self.on_ready(sorted(self.listening))

    def text(self):
        """The console's last bytes, as text."""
        return self.tail.decode(errors="replace")

    def join(self, timeout=5):
        """Waits until the guest's console is closed and copied."""
        self.thread.join(timeout)


def write(out, data):
    try:
        out.write(data)
        out.flush()
    except (OSError, ValueError):
        pass  # our stdout went away; keep draining the guest's
