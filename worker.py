"""The gunicorn worker (`worker:GiliranWorker`, kept outside the app's packages so that the
arbiter imports nothing of the app before gevent patches the worker): gevent's, with at most N open connections per client address.

gunicorn's own `worker_connections` (2,000) is for the whole server, so one
host could take all of them. This worker counts the connections of each
address as they are accepted and closes, at once and with a 503, those past
MPP_MAX_CONNECTIONS_PER_ADDRESS (default 200: an office behind one NAT
address, with a websocket and a few keep-alive connections per browser,
stays far below it). Behind a reverse proxy every client shares the proxy's
address: set the proxy's own limit (nginx `limit_conn`) and raise this one.
"""

import socket
from collections import Counter

from gunicorn.http import wsgi
from gunicorn.workers.ggevent import GeventWorker

import settings

_BODY = b'{"error": {"code": "too_many_connections", "message": "Too many connections from this host."}}'
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
           b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BODY), _BODY))


def max_per_address():
    """The cap, from MPP_MAX_CONNECTIONS_PER_ADDRESS (0 turns it off)."""
    return settings.number("MAX_CONNECTIONS_PER_ADDRESS", cast=int)


# The header block is held for the body's first bytes up to this size (a bigger first
# chunk, a file say, is not copied to be joined: its headers go alone, as before).
ONE_SEND_MAX = 64 * 1024


class OneSendResponse(wsgi.Response):
    """gunicorn's response, with its header block and the first body bytes in one send.

    gunicorn writes the headers with one `sendall` and the body with another: two
    system calls (and two packets) for every small answer, ~6 % of a ticket's CPU on the
    event loop. Here the headers of a plain (not chunked) answer with a body are held
    until its first bytes and sent with them; everything else (chunked answers, no body,
    HEAD, sendfile) goes as gunicorn sends it.
    """

    _hold = False
    _held = None

    def write(self, arg):
        if (not self.headers_sent and not self.chunked and not self._omits_body
                and 0 < len(arg) <= ONE_SEND_MAX
                and (self.response_length is None or self.response_length > self.sent)):
            self._hold = True  # write() reaches _emit_body with these bytes
        super().write(arg)

    def send_headers(self):
        if self._hold and not self.headers_sent:
            sock, self.sock = self.sock, _Held()
            try:
                super().send_headers()
            finally:
                self._held, self.sock = self.sock.data, sock
            return
        super().send_headers()

    def _emit_body(self, data):
        held, self._held, self._hold = self._held, None, False
        super()._emit_body(held + data if held else data)

    def close(self):
        held, self._held = self._held, None
        if held:  # never left here; sent anyway rather than lost
            self.sock.sendall(held)
        super().close()


class _Held:
    """Takes the header block gunicorn writes, instead of the socket."""

    data = b""

    def sendall(self, data):
        self.data += data


class GiliranWorker(GeventWorker):
    """GeventWorker with a per-address connection cap, answering in one send (OneSendResponse)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.per_address = Counter()
        self.max_per_address = max_per_address()

    def init_process(self):
        # gunicorn's wsgi.create() builds its Response from this module name (this worker's
        # process only; HTTP/2 passes its own class).
        wsgi.Response = OneSendResponse
        super().init_process()

    def handle(self, listener, client, addr):
        host = addr[0] if isinstance(addr, tuple) else str(addr)
        if self.max_per_address and self.per_address[host] >= self.max_per_address:
            self._refuse(client)
            return
        self.per_address[host] += 1  # counted before any byte is read
        try:
            super().handle(listener, client, addr)
        finally:
            self.per_address[host] -= 1
            if self.per_address[host] <= 0:
                del self.per_address[host]

    @staticmethod
    def _refuse(client):
        """Say 503 and hang up; read a little first, or closing with the request unread resets it."""
        try:
            client.sendall(REFUSAL)
            client.shutdown(socket.SHUT_WR)
            client.settimeout(0.5)
            for _ in range(8):  # bounded: a client streaming bytes cannot keep it here
                if not client.recv(65536):
                    break
        except OSError:
            pass
        finally:
            client.close()
