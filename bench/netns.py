"""bench/netns.py -- a network namespace with a tap device, for the rows
that load a VM over a tap rather than through QEMU's user networking.

    with netns.Tap() as ns:            # raises netns.Unavailable if it can't
        qemu = common.spawn(ns.wrap(qemu_argv + ns.netdev()))
        ns.call(common.wait_http, "http://10.77.0.2:8080/healthz", ...)
        common.run_cmd(ns.wrap(["wrk", ...]), timeout=60)

The namespace (lunikbench-<pid>) holds lo and tap0, which carries
10.77.0.1/24 (HOST_IP); the guest takes an address of that /24. QEMU is
started inside it (ip netns exec) so it opens the namespace's tap0, and
the load generator runs there too: nothing touches the host's own
interfaces or routes. One VM at a time uses the tap. The namespace is
deleted when the with block ends, on exceptions too, and at exit.
"""

import atexit
import ctypes
import os
import subprocess
import threading

PREFIX = "lunikbench-"
TAP = "tap0"
HOST_IP = "10.77.0.1"
PREFIXLEN = 24
CLONE_NEWNET = 0x40000000


class Unavailable(Exception):
    """The namespace or its tap cannot be made here (why in the message)."""


def _ip(*args, timeout=10):
    r = subprocess.run(["ip"] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise Unavailable("ip %s: %s" % (" ".join(args),
                                        (r.stderr or r.stdout).strip()))
    return r.stdout


def why_unavailable():
    """None when this host can make a namespace with a tap, else why not."""
    if os.geteuid() != 0:
        return "not root: cannot create a network namespace and a tap"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun: cannot create a tap device"
    try:
        subprocess.run(["ip", "-V"], capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "no `ip` command (iproute2)"
    return None


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale():
    """Deletes lunikbench-<pid> namespaces whose harness has died (killed
    with SIGKILL, so its atexit never ran)."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for name in names:
        pid = name[len(PREFIX):]
        if name.startswith(PREFIX) and pid.isdigit() and \
                not _pid_alive(int(pid)):
            subprocess.run(["ip", "netns", "del", name], capture_output=True,
                           timeout=10)


class Tap:
    """A namespace with tap0 at HOST_IP/PREFIXLEN and lo up; a context
    manager that deletes it at the end."""

    def __init__(self, name=None):
        self.name = name or "%s%d" % (PREFIX, os.getpid())
        self.made = False

    def __enter__(self):
        why = why_unavailable()
        if why:
            raise Unavailable(why)
        remove_stale()
        try:
            _ip("netns", "add", self.name)
            self.made = True
            atexit.register(self.close)
            self.ip("tuntap", "add", TAP, "mode", "tap")
            self.ip("addr", "add", "%s/%d" % (HOST_IP, PREFIXLEN), "dev", TAP)
            self.ip("link", "set", TAP, "up")
            self.ip("link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Deletes the namespace (and tap0 with it); idempotent."""
        if not self.made:
            return
        self.made = False
        try:
            subprocess.run(["ip", "netns", "del", self.name],
                           capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            atexit.unregister(self.close)
        except Exception:  # noqa: BLE001 -- best effort at exit
            pass

    def ip(self, *args):
        return _ip("-n", self.name, *args)

    def wrap(self, argv):
        """argv run inside the namespace (ip netns exec execs it, so the
        pid is argv's own and common.spawn's guarantees hold)."""
        return ["ip", "netns", "exec", self.name] + list(argv)

    def netdev(self, id="net0"):
        """The QEMU options for a virtio-net device on the tap."""
        return ["-netdev", "tap,id=%s,ifname=%s,script=no,downscript=no"
                % (id, TAP), "-device", "virtio-net-device,netdev=%s" % id]

    def call(self, fn, *args, **kw):
        """fn(*args, **kw) in a thread that has entered the namespace, so
        the sockets it opens (urllib, ssl) live there; returns its
        result or raises its exception."""
        out = {}

        def body():
            try:
                _setns(self.name)
                out["value"] = fn(*args, **kw)
            except BaseException as e:  # noqa: BLE001 -- handed back
                out["error"] = e

        t = threading.Thread(target=body, daemon=True)
        t.start()
        t.join()
        if "error" in out:
            raise out["error"]
        return out.get("value")


def _setns(name):
    """Moves the calling thread (only) into network namespace name."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (name, os.strerror(e)))
    finally:
        os.close(fd)
