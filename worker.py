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

from gunicorn.workers.ggevent import GeventWorker

import settings

_BODY = b'{"error": {"code": "too_many_connections", "message": "Too many connections from this host."}}'
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
           b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BODY), _BODY))


def max_per_address():
    """The cap, from MPP_MAX_CONNECTIONS_PER_ADDRESS (0 turns it off)."""
    return settings.number("MAX_CONNECTIONS_PER_ADDRESS", cast=int)


class GiliranWorker(GeventWorker):
    """GeventWorker with a per-address connection cap."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.per_address = Counter()
        self.max_per_address = max_per_address()

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
