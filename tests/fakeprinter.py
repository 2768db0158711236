"""Fake ESC/POS printers for tests: a raw TCP one and a serial one on a pty.

Both record every byte they get and answer DLE EOT n status requests with
configurable bytes. They run in daemon threads that stop by themselves
after `lifetime` seconds, and only ever listen on 127.0.0.1.
"""

import os
import re
import select
import socket
import threading
import time
import tty

# Answers to DLE EOT 1, 2, 3, 4 (see printer/transports.py for the bits).
STATUS_BYTES = {
    "online": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
    "offline": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},  # cover open
    "error": {1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12},  # cutter error
}


class StatusReplier:
    """Finds DLE EOT n in a byte stream, even split across reads, and makes the answers."""

    def __init__(self, printer):
        self.printer = printer
        self.tail = b""

    def feed(self, chunk: bytes) -> bytes:
        """Return the answers owed for this chunk of received bytes."""
        if not self.printer.answer_status:
            return b""
        data = self.tail + chunk
        answers = []
        start = 0
        while True:
            at = data.find(b"\x10\x04", start)
            if at < 0 or at + 2 >= len(data):
                break
            n = data[at + 2]
            if n in (1, 2, 3, 4):
                answers.append(self.printer.status_bytes()[n])
            start = at + 2
        # Keep a possible half-received request for the next read.
        self.tail = data[-2:] if data.endswith((b"\x10", b"\x10\x04")) else b""
        return bytes(answers)


class _FakeBase:
    def __init__(self, status="online", answer_status=True, lifetime=10.0):
        self.status = status  # a STATUS_BYTES name or a {n: byte} dict; may change live
        self.answer_status = answer_status
        self.lifetime = lifetime
        self.connections = []  # bytes received, one entry per connection
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    def status_bytes(self) -> dict:
        """The current answers to DLE EOT n."""
        return STATUS_BYTES[self.status] if isinstance(self.status, str) else self.status

    @property
    def received(self) -> bytes:
        """Every byte received so far, all connections joined."""
        with self._lock:
            return b"".join(self.connections)

    def jobs(self) -> list:
        """Received bytes per connection, without the bare status queries."""
        with self._lock:
            return [c for c in self.connections if re.sub(rb"\x10\x04[\x01-\x04]", b"", c)]

    def wait_for(self, needle: bytes, timeout: float = 3.0) -> bool:
        """Wait until needle has been received; False after timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.received:
                return True
            time.sleep(0.01)
        return needle in self.received

    def _record(self, index: int, chunk: bytes) -> None:
        with self._lock:
            self.connections[index] += chunk

    def _new_connection(self) -> int:
        with self._lock:
            self.connections.append(b"")
            return len(self.connections) - 1

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _alive(self, deadline: float) -> bool:
        return not self._stop.is_set() and time.monotonic() < deadline

    def stop(self) -> None:
        """Stop serving and wait briefly for the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=1.0)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class FakeNetworkPrinter(_FakeBase):
    """A raw TCP (port 9100 style) printer on a free 127.0.0.1 port."""

    MAX_CONNECTIONS = 100

    def __init__(self, *args, port=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.port = port  # 0: a free one; a fixed one: a printer switched on again

    def start(self):
        """Bind, listen and serve in the background; returns self."""
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", self.port))
        self._server.listen(8)
        self._server.settimeout(0.05)
        self.host, self.port = self._server.getsockname()
        self._spawn(self._accept_loop, time.monotonic() + self.lifetime)
        return self

    @property
    def config(self) -> dict:
        """Settings for printer.transports with transport "network"."""
        return {"host": self.host, "port": self.port}

    def _accept_loop(self, deadline: float) -> None:
        try:
            for _ in range(self.MAX_CONNECTIONS):
                conn = None
                while conn is None and self._alive(deadline):
                    try:
                        conn, _ = self._server.accept()
                    except (TimeoutError, socket.timeout):
                        continue
                if conn is None:
                    return
                self._spawn(self._serve, conn, self._new_connection(), deadline)
        finally:
            self._server.close()

    def _serve(self, conn: socket.socket, index: int, deadline: float) -> None:
        replier = StatusReplier(self)
        conn.settimeout(0.05)
        with conn:
            while self._alive(deadline):
                try:
                    chunk = conn.recv(65536)
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    return
                if not chunk:
                    return  # the sender closed its side: hang up too
                self._record(index, chunk)
                answers = replier.feed(chunk)
                if answers:
                    try:
                        conn.sendall(answers)
                    except OSError:
                        return


class FakeSerialPrinter(_FakeBase):
    """A serial printer behind a pseudo-terminal; `device` is the path to open."""

    def start(self):
        """Open the pty pair and serve in the background; returns self."""
        self._master, self._slave = os.openpty()
        # Raw mode: no echo and no newline translation of binary data.
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self._spawn(self._serve, self._new_connection(), time.monotonic() + self.lifetime)
        return self

    @property
    def config(self) -> dict:
        """Settings for printer.transports with transport "serial"."""
        return {"device": self.device, "baudrate": 9600}

    def _serve(self, index: int, deadline: float) -> None:
        replier = StatusReplier(self)
        try:
            while self._alive(deadline):
                ready, _, _ = select.select([self._master], [], [], 0.05)
                if not ready:
                    continue
                try:
                    chunk = os.read(self._master, 65536)
                except OSError:
                    continue  # EIO while no one holds the other end open
                self._record(index, chunk)
                answers = replier.feed(chunk)
                if answers:
                    os.write(self._master, answers)
        finally:
            # Our own slave fd stays open until here so that reads never hit EOF.
            os.close(self._master)
            os.close(self._slave)


def closed_port() -> int:
    """A 127.0.0.1 port on which nothing listens: a printer that is switched off."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
