"""proxy.py and console.py: -p connections held until a guest is ready,
spliced to the current upstream, swapped; readiness from console lines."""

import io
import os
import socket
import threading
import unittest

from lunikcli import console, launch, proxy
from lunikcli.errors import Error


class Echo:
    """A loopback server standing in for QEMU's forward: answers each
    connection's first bytes with its tag and them, then closes."""

    def __init__(self, port, tag):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", port))
        self.s.listen(1)
        self.tag = tag
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            with c:
                data = c.recv(100)
                c.sendall(self.tag + data)

    def close(self):
        self.s.shutdown(socket.SHUT_RDWR)
        self.s.close()


def ask(port, data=b"hi"):
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            d = s.recv(100)
            if not d:
                return out
            out += d


class Proxy(unittest.TestCase):
    def test_split_publish(self):
        self.assertEqual(launch.split_publish(["80:8080", "53:53/udp"]),
                         ([(80, 8080)], ["53:53/udp"]))

    def test_taken_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            with self.assertRaisesRegex(Error, "cannot forward tcp port"):
                proxy.Proxy([(s.getsockname()[1], 80)])
        finally:
            s.close()

    def test_hold_then_swap(self):
        host = proxy.free_port()
        px = proxy.Proxy([(host, 80)])
        servers = []
        try:
            got = {}
            early = threading.Thread(
                target=lambda: got.setdefault("early", ask(host, b"early")))
            early.start()  # held: no upstream yet
            early.join(0.3)
            self.assertTrue(early.is_alive())
            a = px.upstream()
            servers.append(Echo(a.ports[80], b"A:"))
            self.assertEqual(proxy.accept_queue(a.ports[80]), 0)
            px.switch(a)
            early.join(10)
            self.assertEqual(got["early"], b"A:early")
            b = px.upstream()
            self.assertNotEqual(a.ports, b.ports)
            servers.append(Echo(b.ports[80], b"B:"))
            px.switch(b)
            self.assertEqual(ask(host), b"B:hi")
            self.assertEqual(px.wait_idle(a, 5), 0)
        finally:
            px.close()
            for s in servers:
                s.close()

    def test_accept_queue_absent(self):
        self.assertIsNone(proxy.accept_queue(proxy.free_port()))


class Console(unittest.TestCase):
    def run_console(self, text, ports):
        r, w = os.pipe()
        seen, out = [], io.BytesIO()
        con = console.Console(os.fdopen(r, "rb"), ports, seen.append, out)
        os.write(w, text)
        os.close(w)
        con.join()
        self.assertEqual(out.getvalue(), text)
        return seen, con

    def test_ready_on_every_port(self):
        seen, con = self.run_console(
            b"boot\r\nlunik: listening on tcp port 80\r\nx"
            b"lunik: listening on tcp port 443\n", [80, 443])
        self.assertEqual(seen, [[80, 443]])
        self.assertTrue(con.ready.is_set())

    def test_not_ready(self):
        seen, con = self.run_console(
            b"lunik: listening on tcp port 80\n", [80, 443])
        self.assertEqual(seen, [])
        self.assertIn("port 80", con.text())

    def test_first_port_without_forwards(self):
        seen, _ = self.run_console(
            b"lunik: listening on tcp port 9\nlunik: listening on tcp "
            b"port 10\n", [])
        self.assertEqual(seen, [[9]])
