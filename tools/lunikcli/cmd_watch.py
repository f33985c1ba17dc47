"""lunik watch DIR [run options] [-- key=value ...]: builds DIR, boots it,
and on every saved change under DIR or a --lua-path folder rebuilds and
swaps the running guest for the new image without failing a request.

The -p TCP ports are lunik's own (proxy.py). A new image boots beside the
old one; once it is ready (it listens on every forwarded guest port) new
connections go to it, and the old guest is shut down gracefully (the
ACPI power button: in-flight requests finish, idle keep-alive
connections close, sys.on_shutdown handlers run) on a thread of its own.
A build error is printed and the old guest keeps serving; so does a new
image that does not become ready in --ready-timeout seconds (its console
is on ours), which is dropped. With a writable --disk two guests cannot
share it: the old one is shut down first, and new connections wait
until the new one is ready.
"""

import os
import sys
import time

from . import devices, guest, image, launch, machines, qemu, rom
from .errors import Error, note
from .options import add_bundle_options, add_run_options

HELP = "run DIR, rebuilding and swapping it in on every saved change"
POLL = 0.1            # seconds between scans of the watched folders
SETTLE = 0.05         # a change is built once the files stay still this long
SHUTDOWN_WAIT = 15    # seconds an old guest gets to power off


def register(sub):
    p = sub.add_parser("watch", help=HELP, description=HELP)
    p.add_argument("dir")
    add_run_options(p)
    add_bundle_options(p)
    p.add_argument("--ready-file", metavar="FILE",
                   help="write FILE once the first image is ready (as "
                   "lunik run does)")
    p.add_argument("--ready-timeout", type=float, default=30,
                   metavar="SECONDS",
                   help="drop a new image that is not ready after this "
                   "long (default 30)")
    return p


def scan(folders):
    """{path: (mtime, size)} of the files of folders an image would take."""
    snap = {}
    for folder in folders:
        for rel in rom.app_files(folder):
            path = os.path.join(folder, rel)
            try:
                st = os.stat(path)
            except OSError:
                continue
            snap[path] = (st.st_mtime_ns, st.st_size)
    return snap


def changes(old, new):
    """The paths added, removed or changed between two scans."""
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))


class Signals(qemu.Stop):
    """SIGINT and SIGTERM: the first stops the watch gracefully, the
    second at once (Watch.stop reads the count)."""

    def __init__(self):
        super().__init__(None)

    def handle(self, sig, frame):
        self.count += 1


class Watch:
    def __init__(self, a, host):
        self.a, self.host = a, host
        self.mem, self.machine = qemu.parse_mem(a.mem), machines.machine(a.machine)
        self.folders = [a.dir] + list(a.lua_path)
        self.shared_disk = any(not devices.parse_disk(d)[2] for d in a.disk)
        self.current, self.draining = None, []

    def build(self):
        """A new temporary image, or None after printing why not."""
        try:
            path, _ = image.temp_image(self.a.dir, lua_paths=self.a.lua_path,
                                       includes=self.a.include)
            return path
        except Error as e:
            note("watch: build failed, %s:\n%s" % (
                "the running image keeps serving" if self.current
                else "waiting for a change", e))
            return None

    def boot(self, path):
        px = self.host.px
        up = px.upstream() if px else None
        g = guest.Guest(path, self.mem, self.a.accel, self.a.args,
                        self.host.devices(up), self.machine,
                        px.guest_ports() if px else ())
        g.up = up
        return g

    def retire(self, g):
        """Shuts g down gracefully on a thread of its own and removes its
        image (QEMU read it at start)."""
        self.draining.append(g.shutdown_later(SHUTDOWN_WAIT))
        os.unlink(g.image)

    def swap(self, changed):
        """Builds and boots the app, and swaps it in once ready."""
        t0 = time.monotonic()
        path = self.build()
        if path is None:
            return
        built = time.monotonic()
        old = self.current
        if old and self.shared_disk:  # the disk can't be shared: old first
            if self.host.px:
                self.host.px.switch(None)
            old.shutdown(SHUTDOWN_WAIT)
        try:
            g = self.boot(path)
        except Error:
            os.unlink(path)
            raise
        if not g.wait_ready(self.a.ready_timeout):
            note("watch: the new image %s within %gs: dropped, %s" % (
                "ended" if g.proc.poll() is not None else "was not ready",
                self.a.ready_timeout, "the running image keeps serving"
                if old else "waiting for a change"))
            g.stop()
            os.unlink(path)
            if old and self.shared_disk:
                self.current = None
                self.restart(old.image)
            return
        ready = time.monotonic()
        self.host.ready(g.up, sorted(g.console.listening))
        self.current = g
        if old and self.shared_disk:
            os.unlink(old.image)  # already shut down
        elif old:
            self.retire(old)
        what = ", ".join(self.name(p) for p in changed[:3])
        if len(changed) > 3:
            what += " and %d more" % (len(changed) - 3)
        note("watch: %s: built in %d ms, ready in %d ms%s" % (
            what or "started", (built - t0) * 1000, (ready - built) * 1000,
            ", swapped" if old else ""))

    def restart(self, path):
        """Boots the image at path again (the one a failed new image was
        to replace, with a writable disk); it serves once ready."""
        g = self.boot(path)
        if g.wait_ready(self.a.ready_timeout):
            self.host.ready(g.up, sorted(g.console.listening))
            self.current = g
            note("watch: the previous image serves again")
        else:
            g.stop()
            os.unlink(path)
            note("watch: the previous image did not come back either; "
                 "waiting for a change")

    def name(self, path):
        """A changed file's name as the user knows it: relative to the
        watched folder it is in."""
        for folder in self.folders:
            rel = os.path.relpath(path, folder)
            if not rel.startswith(".."):
                return rel
        return path

    def loop(self, signals):
        deadline = None if self.a.timeout is None else \
            time.monotonic() + self.a.timeout
        snap = scan(self.folders)
        self.swap([])
        while True:
            if signals.count:
                return self.stop(signals)
            if deadline is not None and time.monotonic() > deadline:
                note("watch: timed out after %gs" % self.a.timeout)
                self.close()
                return qemu.STATUS_TIMEOUT
            cur = self.current
            if cur and cur.proc.poll() is not None:
                note("watch: the guest ended (status %d); waiting for a "
                     "change" % qemu.decode_status(cur.proc.returncode))
                if self.host.px:
                    self.host.px.switch(None)
                cur.stop()
                os.unlink(cur.image)
                self.current = None
            time.sleep(POLL)
            new = scan(self.folders)
            if new == snap:
                continue
            while True:  # an editor's save may be several writes
                time.sleep(SETTLE)
                again = scan(self.folders)
                if again == new:
                    break
                new = again
            changed, snap = changes(snap, new), new
            if not os.path.isfile(os.path.join(self.a.dir, "main.lua")):
                note("watch: %s has no main.lua now; waiting for a change"
                     % self.a.dir)
                continue
            self.swap(changed)

    def stop(self, signals):
        """The first signal: shut the guest down gracefully (a second one
        stops it at once)."""
        if self.current:
            note("watch: shutting the guest down (again to stop it at once)")
            g = self.current
            t = g.shutdown_later(SHUTDOWN_WAIT)
            while t.is_alive() and signals.count < 2:
                t.join(0.1)
        self.close()
        return 130 if signals.count > 1 else 0

    def close(self):
        """Stops every guest still running and removes their images."""
        for g in [self.current] if self.current else []:
            g.stop()
            if os.path.exists(g.image):
                os.unlink(g.image)
        self.current = None
        for t in self.draining:
            t.join(SHUTDOWN_WAIT + 5)


def run(a):
    image.check_app(a.dir)
    for p in a.lua_path:
        if not os.path.isdir(p):
            raise Error("--lua-path %s: not a folder" % p)
    if not 0 < a.ready_timeout <= 3600:
        raise Error("--ready-timeout %g: give seconds from 0 to 3600"
                    % a.ready_timeout)
    with launch.Launch(a, a.ready_file) as host, Signals() as signals:
        w = Watch(a, host)
        try:
            return w.loop(signals)
        finally:
            w.close()
            sys.stdout.flush()
