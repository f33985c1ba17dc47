"""Watch: the edit loop of a running service.

  - save -> first response from the new image under `lunik watch` (it
    rebuilds, boots the new image beside the old one and swaps the -p
    port to it once it listens), against the loop by hand: stop `lunik
    run` (SIGTERM, a graceful shutdown) and start it again on the edited
    folder, until the edit is served; with nothing else running, then
    under a load of two clients that connect anew for each request;
  - requests that failed under that load, in both loops.

Software emulation; KVM too where it runs guests natively.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import common
from common import figure, stats

MAIN = """local http = require "http"
local version = require "version"
local app = http.app()
app:get("/v", function() return version end)
assert(app:listen(8080))
"""


class Load:
    """Two clients, each a new connection per GET /v, until stop()."""

    def __init__(self, port):
        self.url = "http://127.0.0.1:%d/v" % port
        self.halt, self.ok, self.failed = threading.Event(), 0, 0
        self.threads = [threading.Thread(target=self.client, daemon=True)
                        for _ in range(2)]
        for t in self.threads:
            t.start()

    def client(self):
        n = 0
        while not self.halt.is_set() and n < 100000:
            n += 1
            status, _ = common.http_get(self.url, timeout=30)
            if status == 200:
                self.ok += 1
            else:
                self.failed += 1
            time.sleep(0.01)

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(40)


def serves(port, body, deadline, proc=None):
    """Polls GET /v until it answers body; perf_counter() then, or None."""
    url = "http://127.0.0.1:%d/v" % port
    while time.perf_counter() < deadline:
        if proc is not None and proc.poll() is not None:
            return None
        status, got = common.http_get(url, timeout=2)
        if status == 200 and got == body:
            return time.perf_counter()
        time.sleep(0.005)
    return None


def edit(app, k):
    with open(os.path.join(app, "version.lua"), "w") as f:
        f.write('return "v%d"\n' % k)


def launch(argv):
    return common.spawn(argv, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)


def measure(accel, runs, by_hand, loaded):
    """(save -> served seconds per edit, failed requests or None) for one
    loop, under load or not."""
    tmp = tempfile.mkdtemp(prefix="lunik-bench-watch-")
    port = common.free_port()
    app = os.path.join(tmp, "app")
    os.mkdir(app)
    with open(os.path.join(app, "main.lua"), "w") as f:
        f.write(MAIN)
    edit(app, 0)
    cmd = "run" if by_hand else "watch"
    argv = [common.LUNIK, cmd, app, "--" + accel, "-p", "%d:8080" % port,
            "--", "log=warn"]
    proc, load, times = launch(argv), None, []
    try:
        if serves(port, b"v0", time.perf_counter() + 120, proc) is None:
            common.log("watch: %s never served" % cmd)
            return None, None
        load = Load(port) if loaded else None
        for k in range(1, runs + 1):
            time.sleep(0.3)
            edit(app, k)
            t0 = time.perf_counter()
            if by_hand:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
                common.stop(proc)
                proc = launch(argv)
            t1 = serves(port, b"v%d" % k, t0 + 60, proc)
            if t1 is None:
                common.log("watch: edit %d was not served (%s)" % (k, cmd))
                return None, None
            times.append(t1 - t0)
        time.sleep(0.3)
        if not load:
            return times, None
        load.stop()
        return times, load.failed
    finally:
        if load:
            load.stop()
        common.stop(proc, grace=20)
        shutil.rmtree(tmp, ignore_errors=True)


def run(ctx):
    runs = 3 if ctx.quick else 10
    figs = []
    accels, _ = common.accels(ctx)
    base = "stop and lunik run again"
    for accel in accels:
        for loaded in (False, True):
            common.log("watch: %d edits under lunik watch and by hand (%s%s)"
                       % (runs, accel, ", loaded" if loaded else ""))
            w, w_failed = measure(accel, runs, False, loaded)
            h, h_failed = measure(accel, runs, True, loaded)
            figs.append(figure(
                "watch", "save -> first response from the edited image "
                "(%s%s)" % (accel, ", under load" if loaded else ""), "ms",
                common.scaled(stats(w) if w else None, 1e3),
                common.scaled(stats(h) if h else None, 1e3), base,
                note="watch: build, boot beside the old image, swap the "
                "port once the new one listens" if not loaded else
                "the load's clients share the 2 cores with the builds"))
            if loaded:
                figs.append(figure(
                    "watch", "failed requests during %d edits under load (%s)"
                    % (runs, accel), "requests",
                    stats([w_failed]) if w_failed is not None else None,
                    stats([h_failed]) if h_failed is not None else None, base,
                    note="two clients, a new connection per request"))
    return figs
