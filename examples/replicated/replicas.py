#!/usr/bin/env python3
"""replicas.py -- N replicas of one lunik image as libvirt domains behind
HAProxy, and a rolling update that swaps each for a new image without a
failed request. See README.md next to this file.

  replicas.py --dir WORK [--uri URI] up IMAGE [-n 3] [--port 8080]
              [--disk SIZE] [--guest-port 8080] [-- key=value ...]
  replicas.py --dir WORK [--uri URI] update IMAGE [-- key=value ...]
  replicas.py --dir WORK [--uri URI] status
  replicas.py --dir WORK [--uri URI] down

WORK holds the state (state.json), HAProxy's configuration, socket and
log, the replicas' consoles and disks. URI is the libvirt connection
(default: virsh's own default), so the domains may live on another host
(README.md says what that needs). Each replica is `lunik domain IMAGE -p
PORT:GUESTPORT`; HAProxy health-checks GET /healthz on each.

A rolling update, replica by replica: the new image boots in the other
slot of the pair, and once it answers /healthz HAProxy sends it requests;
the old one is set to drain (no new requests), then shut down gracefully
(`virsh shutdown`: its in-flight requests and keep-alive answers finish)
and taken out. A replica with a disk cannot run twice at once: its old
image is drained and shut down first, and the new one boots on the same
disk while the others serve.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
LUNIK = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tools", "lunik")
if not os.path.exists(LUNIK):
    LUNIK = shutil.which("lunik") or "lunik"
BACKEND = "replicas"
READY_S = 120
STOP_S = 30


class Failed(Exception):
    pass


def say(msg):
    print("replicas: " + msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Work:
    """The state in WORK/state.json, and the tools: virsh, lunik, the
    HAProxy runtime API."""

    def __init__(self, a):
        self.dir = os.path.abspath(a.dir)
        self.uri = a.uri
        self.path = os.path.join(self.dir, "state.json")
        self.state = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.state = json.load(f)

    def save(self):
        with open(self.path + ".tmp", "w") as f:
            json.dump(self.state, f, indent=2)
        os.replace(self.path + ".tmp", self.path)

    def virsh(self, *args, check=True):
        argv = ["virsh", "-q"] + (["-c", self.uri] if self.uri else []) + list(args)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise Failed("virsh %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
        return r

    def haproxy(self, cmd):
        """One command on HAProxy's runtime API (its stats socket)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(os.path.join(self.dir, "haproxy.sock"))
        with s:
            s.sendall(cmd.encode() + b"\n")
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        return out.decode()

    def server_state(self, slot):
        """HAProxy's view of a slot's server: (status, current sessions)."""
        for line in self.haproxy("show stat").splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == BACKEND and f[1] == "s%d" % slot:
                return f[17], int(f[4] or 0)
        return None, 0


def haproxy_cfg(work, port, slots):
    lines = [
        "global",
        "    stats socket %s/haproxy.sock mode 600 level admin" % work.dir,
        "    pidfile %s/haproxy.pid" % work.dir,
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on all-retryable-errors",
        "    http-reuse safe",
        "frontend front",
        "    bind 127.0.0.1:%d" % port,
        "    default_backend %s" % BACKEND,
        "backend %s" % BACKEND,
        "    balance roundrobin",
        "    option httpchk GET /healthz",
        "    default-server inter 300ms fall 2 rise 1",
    ]
    for slot in slots:
        lines.append("    server s%d 127.0.0.1:%d check%s" % (
            slot["slot"], slot["port"], "" if slot.get("name") else " disabled"))
    return "\n".join(lines) + "\n"


def wait_healthy(port, what):
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                        timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise Failed("%s did not answer /healthz within %d s" % (what, READY_S))


def start_replica(work, slot, image, args):
    """Defines and starts the domain of a slot; waits until it is healthy."""
    name = "%s-%d" % (work.state["prefix"], slot["slot"])
    argv = [LUNIK, "domain", image, "--name", name, "-p",
            "%d:%d" % (slot["port"], work.state["guest_port"]),
            "--console", os.path.join(work.dir, name + ".console.log")]
    if slot.get("disk"):
        argv += ["--disk", slot["disk"]]
    argv += ["--"] + args
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise Failed("lunik domain: %s" % r.stderr.strip())
    xml = os.path.join(work.dir, name + ".xml")
    with open(xml, "w") as f:
        f.write(r.stdout)
    work.virsh("create", xml)
    slot["name"], slot["image"] = name, image
    work.save()
    wait_healthy(slot["port"], name)
    say("%s up on 127.0.0.1:%d (%s)" % (name, slot["port"], os.path.basename(image)))


def stop_replica(work, slot):
    """Drains a slot in HAProxy, shuts its domain down gracefully and
    waits until it is gone."""
    name = slot["name"]
    work.haproxy("set server %s/s%d state drain" % (BACKEND, slot["slot"]))
    deadline = time.monotonic() + STOP_S
    while time.monotonic() < deadline and work.server_state(slot["slot"])[1] > 0:
        time.sleep(0.1)
    work.virsh("shutdown", name, check=False)
    deadline = time.monotonic() + STOP_S
    while time.monotonic() < deadline:
        if work.virsh("domstate", name, check=False).returncode != 0:
            break
        time.sleep(0.2)
    else:
        say("%s did not stop within %d s: destroying it" % (name, STOP_S))
        work.virsh("destroy", name, check=False)
    work.haproxy("set server %s/s%d state maint" % (BACKEND, slot["slot"]))
    slot["name"] = slot["image"] = None
    work.save()
    say("%s drained and shut down" % name)


def enable(work, slot):
    work.haproxy("set server %s/s%d state ready" % (BACKEND, slot["slot"]))
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if work.server_state(slot["slot"])[0] == "UP":
            return
        time.sleep(0.1)
    raise Failed("HAProxy never saw s%d up" % slot["slot"])


def cmd_up(work, a):
    if work.state.get("slots"):
        raise Failed("%s already holds replicas (replicas.py down first)" % work.dir)
    if not shutil.which("haproxy"):
        raise Failed("haproxy is missing (apt-get install haproxy)")
    os.makedirs(work.dir, exist_ok=True)
    image = os.path.abspath(a.image)
    work.state = {"prefix": a.prefix, "guest_port": a.guest_port,
                  "port": a.port, "args": a.args, "slots": []}
    for i in range(a.n):
        for twin in (0, 1):
            slot = {"slot": 2 * i + twin, "pair": i, "port": free_port(),
                    "name": None, "image": None, "disk": None}
            if a.disk:
                slot["disk"] = "%s:%s" % (os.path.join(work.dir, "disk-%d.img" % i),
                                          a.disk)
            work.state["slots"].append(slot)
    work.save()
    for slot in work.state["slots"]:
        if slot["slot"] % 2 == 0:
            start_replica(work, slot, image, a.args)
    with open(os.path.join(work.dir, "haproxy.cfg"), "w") as f:
        f.write(haproxy_cfg(work, a.port, work.state["slots"]))
    log = open(os.path.join(work.dir, "haproxy.log"), "ab")
    r = subprocess.run(["haproxy", "-D", "-f", os.path.join(work.dir, "haproxy.cfg")],
                       stdout=log, stderr=subprocess.STDOUT, timeout=30)
    if r.returncode != 0:
        raise Failed("haproxy did not start (see %s/haproxy.log)" % work.dir)
    with open(os.path.join(work.dir, "haproxy.pid")) as f:
        work.state["haproxy_pid"] = int(f.read().split()[0])
    work.save()
    for slot in work.state["slots"]:
        if slot["name"]:
            enable(work, slot)
    say("%d replicas behind http://127.0.0.1:%d" % (a.n, a.port))


def cmd_update(work, a):
    image = os.path.abspath(a.image)
    args = a.args or work.state.get("args", [])
    slots = work.state.get("slots") or []
    if not slots:
        raise Failed("no replicas in %s (replicas.py up first)" % work.dir)
    for pair in sorted({s["pair"] for s in slots}):
        old, new = sorted((s for s in slots if s["pair"] == pair),
                          key=lambda s: s["name"] is None)
        if not old["name"]:
            continue
        if old.get("disk"):  # one disk: one image at a time
            stop_replica(work, old)
            start_replica(work, new, image, args)
            enable(work, new)
        else:
            start_replica(work, new, image, args)
            enable(work, new)
            stop_replica(work, old)
    work.state["args"] = args
    work.save()
    say("every replica runs %s" % os.path.basename(image))


def cmd_status(work, a):
    for slot in work.state.get("slots", []):
        if slot["name"]:
            st, cur = work.server_state(slot["slot"])
            print("%s  127.0.0.1:%d  %s  haproxy: %s, %d sessions" % (
                slot["name"], slot["port"], os.path.basename(slot["image"]), st, cur))


def cmd_down(work, a):
    for slot in work.state.get("slots", []):
        if slot["name"]:
            work.virsh("destroy", slot["name"], check=False)
            slot["name"] = None
    pid = work.state.get("haproxy_pid")
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    work.state = {}
    work.save()
    say("down")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True, help="the working folder")
    p.add_argument("--uri", help="libvirt's connection URI")
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up")
    u.add_argument("image")
    u.add_argument("-n", type=int, default=3)
    u.add_argument("--port", type=int, default=8080, help="HAProxy's port")
    u.add_argument("--guest-port", type=int, default=8080)
    u.add_argument("--disk", metavar="SIZE", help="a disk of SIZE per replica")
    u.add_argument("--prefix", default="replica")
    d = sub.add_parser("update")
    d.add_argument("image")
    sub.add_parser("status")
    sub.add_parser("down")
    args = []
    if "--" in argv:
        i = argv.index("--")
        argv, args = argv[:i], argv[i + 1:]
    a = p.parse_args(argv)
    a.args = args
    work = Work(a)
    try:
        {"up": cmd_up, "update": cmd_update, "status": cmd_status,
         "down": cmd_down}[a.cmd](work, a)
    except (Failed, OSError) as e:
        print("replicas: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
