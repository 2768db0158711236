"""Connection limits against the real gunicorn, with raw sockets: a body that does not arrive
is dropped, an Engine.IO connection that never connects to Socket.IO is closed, and one
address cannot take more than its share of connections."""

import json
import socket
import time

import pytest
import requests
import websocket

from conftest import Server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    s = Server(folder / "mpp.db", env={"MPP_BODY_TIMEOUT_S": "2", "MPP_SOCKET_CONNECT_TIMEOUT_S": "2",
                                       "MPP_MAX_CONNECTIONS_PER_ADDRESS": "6"}).start()
    yield s
    s.stop()


def _read_all(sock, timeout=15):
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, socket.timeout):
        pass
    return data


def _status_and_json(data):
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body or b"{}"), head.decode("latin-1")


def _polling_sid(srv):
    r = requests.get(srv.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    return json.loads(r.text[1:])["sid"]


# (id, the request's path given the server, its declared length, the part of the body sent)
SLOW_BODIES = [
    ("api-login", lambda s: "/api/v1/auth/login", 100, b'{"username": "adm'),
    ("api-nothing-of-the-body", lambda s: "/api/v1/tickets", 40, b""),
    ("engineio-polling-post", lambda s: f"/socket.io/?EIO=4&transport=polling&sid={_polling_sid(s)}", 50, b"40"),
]


@pytest.mark.parametrize("name, path, length, part", SLOW_BODIES, ids=[b[0] for b in SLOW_BODIES])
def test_a_body_that_does_not_arrive_is_dropped(srv, name, path, length, part):
    seen = len(srv.log.read_text())
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        started = time.monotonic()
        s.sendall(f"POST {path(srv)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {length}\r\n\r\n".encode() + part)
        data = _read_all(s)
        took = time.monotonic() - started
    assert data, "no answer"
    status, body, _ = _status_and_json(data)
    assert status == 408 and body["error"]["code"] == "body_timeout"
    # Answered after the deadline, and the connection closed (EOF) right after.
    assert 1.5 <= took < 10, took  # MPP_BODY_TIMEOUT_S=2 here (5 s by default)
    assert requests.get(srv.url + "/api/v1/health", timeout=5).status_code == 200
    assert "Traceback" not in srv.log.read_text()[seen:]


def test_a_body_that_arrives_in_pieces_in_time_is_served(srv):
    body = json.dumps({"username": "admin", "password": "salah-sekali"}).encode()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(f"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        for i in range(0, len(body), 10):
            s.sendall(body[i:i + 10])
            time.sleep(0.1)
        status, answer, _ = _status_and_json(_read_all(s))
    assert status == 401 and answer["error"]["code"]


def _engineio_websocket(srv, source="127.0.0.1"):
    ws = websocket.WebSocket()
    ws.connect(f"ws://127.0.0.1:{srv.port}/socket.io/?EIO=4&transport=websocket", timeout=10,
               source_address=(source, 0))
    assert ws.recv().startswith("0")  # Engine.IO open
    return ws


def test_an_engineio_websocket_that_never_connects_is_closed(srv):
    ws = _engineio_websocket(srv)
    started = time.monotonic()
    try:
        while time.monotonic() - started < 10:
            if ws.recv() in ("", "1"):  # closed, or Engine.IO close packet
                break
    except (websocket.WebSocketConnectionClosedException, websocket.WebSocketTimeoutException, OSError):
        pass
    took = time.monotonic() - started
    ws.close()
    assert took < 6, took  # MPP_SOCKET_CONNECT_TIMEOUT_S=2 here (10 s by default)


def test_a_socket_that_connects_stays_open(srv):
    ws = _engineio_websocket(srv)
    ws.send("40")  # Socket.IO CONNECT without auth: refused by the app, but it did connect
    answer = ws.recv()
    assert answer.startswith("44")  # connect_error (not_authenticated): the app answered
    ws.close()
    # A client that connects properly is still there after the deadline.
    import socketio

    admin = srv.session()
    client = socketio.Client(reconnection=False)
    client.connect(srv.url, headers={"Cookie": f"giliran_session={admin.cookies['giliran_session']}"},
                   transports=["websocket"], wait_timeout=10)
    time.sleep(3)
    assert client.connected
    client.disconnect()


def _request(source, port):
    s = socket.socket()
    s.settimeout(10)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = _read_all(s, timeout=10)
    s.close()
    return _status_and_json(data)


def test_one_address_cannot_take_every_connection(srv):
    held = [_engineio_websocket(srv) for _ in range(6)]  # the cap is 6 here (200 by default)
    try:
        status, body, _ = _request("127.0.0.1", srv.port)
        assert status == 503 and body["error"]["code"] == "too_many_connections"
        # Another address is served meanwhile.
        assert _request("127.0.0.2", srv.port)[0] == 200
    finally:
        for ws in held:
            ws.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _request("127.0.0.1", srv.port)[0] == 200:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the address was not served again after its connections closed")
