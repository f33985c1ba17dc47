"""proxy -- lunik holds the -p host ports itself and passes connections on
to the guest.

QEMU's user-mode forward listens with a backlog of 1 and is open before
the guest listens: a burst of clients overflows it (their SYNs are
dropped and retried for seconds), and a client that comes early is reset.
So each TCP -p HOSTPORT:GUESTPORT is a listener of ours on 127.0.0.1 with
a real backlog, and QEMU forwards a private loopback port instead
(Upstream). A connection is accepted at once and held until a guest is
ready (switch), then spliced to that guest's forward; connections are
dialled there one at a time, each once QEMU has taken the one before off
its queue, so its backlog never overflows. switch() to another guest
sends new connections there while those already spliced finish on the
old one (active() counts them): `lunik watch` swaps guests this way.

Everything runs on an asyncio loop in a thread of its own.
"""

import asyncio
import socket
import threading
import time

from .errors import Error

BACKLOG = 4096
DIAL_TIMEOUT = 10   # seconds for QEMU's forward to take a connection
QUEUE_WAIT = 2      # seconds to wait for QEMU to accept a dialled one
REPLAY = 64 << 10   # client bytes kept for passing a refused connection on


def free_port():
    """A loopback TCP port nothing listens on now, for QEMU to bind."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def accept_queue(port):
    """How many connections wait in the accept queue of the listener on
    127.0.0.1:port (/proc/net/tcp's rx_queue of a LISTEN socket); None
    when there is no such listener."""
    want = ":%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1].endswith(want) and fields[3] == "0A":
                    return int(fields[4].split(":")[1], 16)
    except OSError:
        return None
    return None


class Upstream:
    """One guest's side: a private loopback port per forwarded guest port.
    publish is the -p options that make QEMU forward them."""

    def __init__(self, guest_ports):
        self.ports = {g: free_port() for g in guest_ports}
        self.publish = ["%d:%d" % (p, g) for g, p in self.ports.items()]
        self.active = 0
        self.lock = None  # the dialling lock, made on the proxy's loop


class Proxy:
    def __init__(self, forwards):
        """Binds 127.0.0.1:HOSTPORT for each (hostport, guestport); raises
        Error when one is taken."""
        self.forwards, self.socks = forwards, []
        try:
            for host, _ in forwards:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", host))
                except OSError as e:
                    s.close()
                    raise Error("-p: cannot forward tcp port %d of "
                                "127.0.0.1: %s" % (host, e.strerror or e))
                s.listen(BACKLOG)
                s.setblocking(False)
                self.socks.append(s)
        except BaseException:
            for s in self.socks:
                s.close()
            raise
        self.target, self.conns = None, set()
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        self.started.wait()

    def guest_ports(self):
        return [g for _, g in self.forwards]

    def upstream(self):
        """A new Upstream for a guest that serves our forwards."""
        return Upstream(self.guest_ports())

    def switch(self, up):
        """New connections go to up (an Upstream; None holds them until
        the next switch). Connections already passed on stay where they
        are. Thread-safe."""
        def do():
            self.target = up
            if up is None:
                self.ready.clear()
            else:
                up.lock = up.lock or asyncio.Lock()
                self.ready.set()
        self.loop.call_soon_threadsafe(do)

    def wait_idle(self, up, timeout):
        """Waits until no connection is spliced to up, or timeout seconds;
        returns the number still open."""
        deadline = time.monotonic() + timeout
        while up.active and time.monotonic() < deadline:
            time.sleep(0.05)
        return up.active

    def close(self):
        """Closes the listeners and every connection."""
        def stop():
            for w in list(self.conns):
                w.transport.abort()
            self.loop.stop()
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(stop)
        self.thread.join(5)
        for s in self.socks:
            s.close()

    # On the proxy's loop from here on.

    def _main(self):
        asyncio.set_event_loop(self.loop)
        self.ready = asyncio.Event()
        for s, (_, guest) in zip(self.socks, self.forwards):
            self.loop.run_until_complete(asyncio.start_server(
                lambda r, w, g=guest: self._serve(r, w, g), sock=s,
                backlog=BACKLOG))
        self.loop.call_soon(self.started.set)
        self.loop.run_forever()
        tasks = asyncio.all_tasks(self.loop)
        for t in tasks:
            t.cancel()
        self.loop.run_until_complete(
            asyncio.gather(*tasks, return_exceptions=True))
        self.loop.close()

    async def _dial(self, up, guest):
        """Connects to up's forward of guest, one dial at a time, leaving
        QEMU's one-place queue empty for the next."""
        port = up.ports[guest]
        async with up.lock:
            r, w = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), DIAL_TIMEOUT)
            deadline = time.monotonic() + QUEUE_WAIT
            while accept_queue(port) and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            return r, w

    async def _upstream(self, guest):
        """Waits for a target, dials it; (Upstream, reader, writer), or
        None when the dial failed."""
        while True:
            await self.ready.wait()
            if self.target is not None:
                break
        up = self.target
        up.active += 1
        try:
            r, w = await self._dial(up, guest)
        except (OSError, asyncio.TimeoutError):
            up.active -= 1
            return None
        self.conns.add(w)
        return up, r, w

    async def _serve(self, cr, cw, guest):
        """One client connection, spliced to the current target. While the
        guest has sent nothing back, what the client sent is kept (up to
        REPLAY bytes): when a guest that has been swapped out closes the
        connection without a byte of answer (it was shutting down and
        never took it: the drain refuses what is still queued), the
        connection is passed to the current guest with those bytes."""
        self.conns.add(cw)
        sp = Splice()
        try:
            await self._splice(sp, cr, cw, guest)
        except asyncio.CancelledError:
            pass  # closing: a cancelled task would be logged as an error
        finally:
            self.conns.discard(cw)
            cw.close()
            if sp.link is not None:
                self._release(sp.link)

    async def _splice(self, sp, cr, cw, guest):
        sp.link = await self._upstream(guest)
        if sp.link is None:
            return
        to_guest = asyncio.ensure_future(sp.client_side(cr))
        while True:
            answered = await pipe_back(sp.link[1], cw)
            if (answered or self.target is sp.link[0]
                    or len(sp.sent) > REPLAY):
                break
            old, sp.link = sp.link, await self._upstream(guest)
            self._release(old)
            if sp.link is None:
                to_guest.cancel()
                return
            sp.replay()
        if not answered and cw.can_write_eof():
            cw.write_eof()  # the guest closed without a word: so do we
        await to_guest

    def _release(self, link):
        up, _, w = link
        if w in self.conns:
            self.conns.discard(w)
            w.close()
            up.active -= 1


class Splice:
    """A client's side of a spliced connection: link is the current
    (Upstream, reader, writer) of the guest; sent what the client has
    sent while it may be replayed."""

    def __init__(self):
        self.link, self.sent, self.client_done = None, bytearray(), False

    async def client_side(self, cr):
        try:
            while True:
                data = await cr.read(65536)
                if not data:
                    break
                if len(self.sent) <= REPLAY:
                    self.sent += data
                w = self.link[2]
                w.write(data)
                await w.drain()
            self.client_done = True
            if self.link[2].can_write_eof():
                self.link[2].write_eof()
        except (OSError, RuntimeError):
            self.link[2].transport.abort()

    def replay(self):
        """Sends what the client sent to the new link."""
        w = self.link[2]
        w.write(bytes(self.sent))
        if self.client_done:
            w.write_eof()


async def pipe_back(r, w):
    """Copies the guest's bytes (r) to the client (w) until r ends, then
    half-closes w; whether any byte came."""
    answered = False
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            answered = True
            w.write(data)
            await w.drain()
        if answered and w.can_write_eof():
            w.write_eof()
    except (OSError, RuntimeError):
        if answered:
            w.transport.abort()
    return answered
