"""The worker answers a small request in one send: headers and body together (worker.py
OneSendResponse), and every other kind of answer still arrives whole."""

import socket

import pytest
import requests

from conftest import Server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("one-send") / "mpp.db").start()
    yield srv
    srv.stop()


def _read_answer(sock):
    """(bytes of the first recv, the whole answer) of one HTTP/1.1 answer with Content-Length."""
    first = data = sock.recv(1 << 20)
    while b"\r\n\r\n" not in data:
        data += sock.recv(1 << 20)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(1 << 20)
    return first, head, body


def test_small_answers_come_in_one_piece_over_keep_alive(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for _ in range(20):
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first, head, body = _read_answer(sock)
            assert head.startswith(b"HTTP/1.1 200")
            assert b'"ok"' in body or b"ok" in body
            # Headers and body left in one send: the first read holds the whole answer.
            assert first == head + b"\r\n\r\n" + body


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/kiosk", 200),                          # a page (compressed or not)
    ("GET", "/static/giliran.js", 200),              # a static file
    ("GET", "/api/v1/openapi.json", 200),            # > 64 KiB: headers sent alone, as before
    ("GET", "/no-such-page", 404),
    ("HEAD", "/kiosk", 200),                         # no body at all
    ("GET", "/socket.io/?EIO=4&transport=polling", 200),  # Engine.IO's own answer
], ids=["page", "static", "big", "not-found", "head", "engine-io"])
def test_every_kind_of_answer_arrives_whole(server, method, path, status):
    r = requests.request(method, server.url + path, timeout=10)
    assert r.status_code == status
    if method == "HEAD":
        assert r.content == b""
    else:
        assert r.content
        if "Content-Length" in r.headers and "Content-Encoding" not in r.headers:
            assert len(r.content) == int(r.headers["Content-Length"])
    # The connection is still good for the next request.
    assert requests.get(server.url + "/api/v1/health", timeout=10).status_code == 200
