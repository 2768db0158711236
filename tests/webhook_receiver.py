"""A real HTTP receiver on loopback for the webhook tests (http.server in a thread)."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import free_port


class Receiver:
    """Records every POST (headers, raw body, time); answers `status` after `delay` s.

    `down()` closes the port (connections refused) and `up()` opens it again on
    the same port, as a gateway that restarts.
    """

    def __init__(self, status=200, delay=0.0, port=None):
        self.status = status
        self.delay = delay
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received = []
        self.lock = threading.Lock()
        self.server = None
        self.thread = None
        self.behaviour = None  # optional fn(request record) -> (status, delay)

    def up(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                          "raw": raw, "at": time.monotonic()}
                with receiver.lock:
                    receiver.received.append(record)
                status, delay = ((receiver.behaviour(record) if receiver.behaviour else None)
                                 or (receiver.status, receiver.delay))
                if delay:
                    time.sleep(delay)
                payload = b'{"ok": true}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        class Quiet(ThreadingHTTPServer):
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # a sender killed mid-request resets the connection: expected in drills

        self.server = Quiet(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def down(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self if self.server is not None else self.up()

    def __exit__(self, *exc):
        self.down()

    def bodies(self):
        with self.lock:
            return [json.loads(r["raw"]) for r in self.received]

    def wait_for(self, check, timeout=10.0):
        """Wait until check(bodies) is true; returns the bodies (fails after timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bodies = self.bodies()
            if check(bodies):
                return bodies
            time.sleep(0.02)
        raise AssertionError(f"the receiver did not see it within {timeout}s: "
                             f"{[(b['event'], b['id']) for b in self.bodies()]}")


def verify(secret, record):
    """The receiver's check: the signature header matches the raw body."""
    expected = "sha256=" + hmac.new(secret.encode(), record["raw"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, record["headers"].get("x-giliran-signature", ""))
