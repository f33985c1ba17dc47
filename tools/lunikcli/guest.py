"""guest -- one running guest that lunik manages beside others (`lunik
watch`): QEMU started by qemu.start, its console read by console.Console,
its readiness awaited, a graceful shutdown asked over QMP, and a stop
that always leaves nothing behind."""

import os
import shutil
import subprocess
import threading
import time

from . import console, qemu, qmp


class Guest:
    def __init__(self, image, mem, accel, args, devices, machine, ports=(),
                 on_ready=None):
        self.image = image
        self.proc, self.qmp_path = qemu.start(image, mem, accel, args,
                                              devices, machine)
        self.console = console.Console(self.proc.stdout, ports, on_ready)
        self.t0 = time.monotonic()

    def wait_ready(self, timeout):
        """True once the guest is ready; False when it ended first or
        timeout seconds passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.console.ready.wait(0.05):
                return True
            if self.proc.poll() is not None:
                return self.console.ready.is_set()
        return False

    def shutdown(self, timeout):
        """Asks the guest to shut down gracefully (the ACPI power button),
        waits up to timeout seconds for it to power off, then stops it."""
        try:
            qmp.command(self.qmp_path, "system_powerdown")
            self.proc.wait(timeout)
        except (qmp.QmpError, subprocess.TimeoutExpired):
            pass
        self.stop()

    def shutdown_later(self, timeout):
        """shutdown(timeout) on a thread of its own; returns the thread."""
        t = threading.Thread(target=self.shutdown, args=(timeout,),
                             daemon=True)
        t.start()
        return t

    def stop(self):
        """Stops QEMU now if it still runs, and cleans up after it."""
        qemu.stop(self.proc)
        self.console.join()
        shutil.rmtree(os.path.dirname(self.qmp_path), ignore_errors=True)
