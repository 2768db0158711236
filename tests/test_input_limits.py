"""No 5xx from any input: hostile JSON bodies, query strings, paths, headers and Socket.IO
packets are refused with 400 and the error shape (web/input.py), and change nothing."""

import json
import socket
import time

import pytest

from conftest import PASSWORD, login, shared_demo_mpp

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000

# (id, raw JSON of one field's value, expected error code)
VALUES = [
    ("nested-100000-deep-array", DEEP, "json_too_deep"),
    ("nested-50000-deep-object", DEEP_OBJECT, "json_too_deep"),
    ("nested-33-deep", "[" * 33 + "]" * 33, "json_too_deep"),
    ("integer-5000-digits", "9" * 5000, "number_too_large"),
    ("integer-2^63", str(2**63), "number_too_large"),
    ("integer-minus-2^63-1", str(-(2**63) - 1), "number_too_large"),
    ("float-1e999", "1e999", "number_too_large"),
    ("nan", "NaN", "malformed_json"),
    ("lone-high-surrogate", '"\\ud800"', "invalid_text"),
    ("lone-low-surrogate", '"x\\udfffy"', "invalid_text"),
    ("surrogate-in-a-key", '{"\\ud800": 1}', "invalid_text"),
]

# (id, method, path, the body's other fields; the hostile value goes in `field`)
ENDPOINTS = [
    ("login", "POST", "/api/v1/auth/login", {"password": "x"}, "username"),
    ("issue-ticket", "POST", "/api/v1/tickets", {}, "service_id"),
    ("ticket-priority", "POST", "/api/v1/tickets", {"service_id": "SVC"}, "priority"),
    ("agency-name", "POST", "/api/v1/agencies", {"code": "PDAM"}, "name"),
    ("service-prefix", "POST", "/api/v1/services", {"agency_id": "AG", "name": "Akta"}, "prefix"),
    ("counter-services", "POST", "/api/v1/counters", {"agency_id": "AG", "number": 9}, "service_ids"),
    ("user-name", "POST", "/api/v1/users", {"password": "panjang-sekali", "role": "admin"}, "username"),
    ("printer-path", "POST", "/api/v1/printers", {"name": "P", "transport": "file"}, "path"),
    ("call-next", "POST", "/api/v1/counters/C1/call-next", {}, "finish_current"),
    ("display-settings", "PUT", "/api/v1/settings/display", {}, "running_text"),
]


def _body(api, extra, field, raw):
    fixed = {k: {"SVC": api.ktp, "AG": api.dukcapil}.get(v, v) for k, v in extra.items()}
    text = json.dumps(fixed)
    return text[:-1] + (", " if fixed else "") + f'"{field}": {raw}}}'


def _counts(api):
    conn = api.conn
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("agencies", "services", "counters", "users", "printers", "tickets", "audit_log")}


@pytest.mark.parametrize("value_id, raw, code", VALUES, ids=[v[0] for v in VALUES])
@pytest.mark.parametrize("name, method, path, extra, field", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_hostile_json_is_400_with_the_error_shape_and_changes_nothing(
        api, name, method, path, extra, field, value_id, raw, code):
    admin = login(api.app, "admin")
    before = _counts(api)
    r = admin.open(path.replace("C1", str(api.c1)), method=method,
                   data=_body(api, extra, field, raw), content_type="application/json")
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert r.json["error"]["code"] == code
    assert r.json["error"]["message"]
    assert _counts(api) == before


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a": "\\ud800', "9" * 5000],
                         ids=["unclosed-deep", "unclosed-surrogate", "bare-huge-integer"])
def test_hostile_body_that_is_not_even_valid_json_is_400(api, raw):
    r = login(api.app, "admin").post("/api/v1/agencies", data=raw, content_type="application/json")
    assert r.status_code == 400
    assert r.json["error"]["code"] in ("malformed_json", "json_too_deep", "number_too_large")


def test_fine_text_still_passes(api):
    """Emoji (a valid surrogate pair in JSON), big but legal ids, and 32 levels are all served."""
    admin = login(api.app, "admin")
    r = admin.post("/api/v1/agencies", data='{"code": "E", "name": "Dinas \\ud83d\\ude00 ✓"}',
                   content_type="application/json")
    assert r.status_code == 201 and r.json["name"] == "Dinas 😀 ✓"
    r = admin.post("/api/v1/tickets", data=json.dumps({"service_id": 2**62}), content_type="application/json")
    assert r.status_code in (400, 404) and r.json["error"]["code"] != "number_too_large"
    nested = '{"code": "F", "name": "F", "x": ' + "[" * 30 + "]" * 30 + "}"
    assert admin.post("/api/v1/agencies", data=nested, content_type="application/json").status_code == 201


# (id, path with query or path parameter)
URLS = [
    ("query-invalid-utf8-surrogate", "/api/v1/print-jobs?ticket_id=%ED%A0%80"),
    ("query-5000-digits", "/api/v1/print-jobs?ticket_id=" + "9" * 5000),
    ("query-2^63", f"/api/v1/print-jobs?ticket_id={2**63}"),
    ("query-report-date-garbage", "/api/v1/reports?from=%ED%A0%80&to=" + "9" * 5000),
    ("query-audit-limit-huge", "/api/v1/audit?limit=" + "9" * 5000),
    ("path-ticket-code-surrogate", "/api/v1/tickets/%ED%A0%80"),
    ("path-ticket-code-long", "/api/v1/tickets/" + "x" * 5000),
    ("path-counter-id-huge", "/api/v1/counters/" + "9" * 5000 + "/open"),
    ("page-tracking-surrogate", "/t/%ED%A0%80"),
    ("page-lang-garbage", "/kiosk?lang=%ED%A0%80"),
]


@pytest.mark.parametrize("name, url", URLS, ids=[u[0] for u in URLS])
def test_hostile_urls_are_4xx_not_5xx(api, name, url):
    admin = login(api.app, "admin")
    method = "POST" if url.endswith("/open") else "GET"
    r = admin.open(url, method=method)
    assert r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:300])
    if url.startswith("/api/"):
        assert 400 <= r.status_code < 500 and r.json["error"]["code"]


# (id, headers)
HEADERS = [
    ("bearer-garbage", {"Authorization": "Bearer \xff\xfe" + "x" * 3000}),
    ("bearer-empty", {"Authorization": "Bearer "}),
    ("basic-auth", {"Authorization": "Basic Zm9vOmJhcg=="}),
    ("idempotency-key-long", {"Idempotency-Key": "k" * 5000}),
    ("accept-language-garbage", {"Accept-Language": "\xff;q=abc, *;q=99999999999999999999"}),
    ("cookie-garbage", {"Cookie": "giliran_session=\xff\xfe.not.signed; lang=\xff"}),
]


@pytest.mark.parametrize("name, headers", HEADERS, ids=[h[0] for h in HEADERS])
def test_hostile_headers_are_4xx_not_5xx(api, name, headers):
    c = api.app.test_client()
    r = c.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=headers)
    assert 400 <= r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.json["error"]["code"]
    assert c.get("/kiosk", headers=headers).status_code < 500


# -- against the real gunicorn ---------------------------------------------------------


def _raw_request(srv, body: bytes, path="/api/v1/auth/login"):
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(rest)


live = shared_demo_mpp("live")  # one real gunicorn for this module's server cases


@pytest.mark.server
@pytest.mark.parametrize("value_id, raw, code", VALUES[:5] + VALUES[8:9], ids=[v[0] for v in VALUES[:5] + VALUES[8:9]])
def test_hostile_json_through_gunicorn(live, value_id, raw, code):
    server = live
    seen = len(server.log.read_text())
    status, body = _raw_request(server, f'{{"username": {raw}, "password": "x"}}'.encode())
    assert (status, body["error"]["code"]) == (400, code)
    assert "Traceback" not in server.log.read_text()[seen:]


def _socket_packets(srv, packets, token=None):
    """Open a raw Engine.IO websocket, send Socket.IO packets; the answers until it closes."""
    import websocket

    ws = websocket.create_connection(f"ws://127.0.0.1:{srv.port}/socket.io/?EIO=4&transport=websocket",
                                     timeout=5)
    answers = [ws.recv()]  # the Engine.IO open packet
    try:
        for p in packets:
            ws.send(p)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            msg = ws.recv()
            if not msg:
                break
            answers.append(msg)
    except (websocket.WebSocketConnectionClosedException, websocket.WebSocketTimeoutException, OSError):
        pass
    finally:
        ws.close()
    return answers


# (id, the Socket.IO packets sent after the Engine.IO handshake)
SOCKET_PACKETS = [
    ("connect-auth-deep", ["40" + '{"token":' + "[" * 50_000 + "]" * 50_000 + "}"]),
    ("connect-auth-surrogate-token", ['40{"token":"\\ud800"}']),
    ("connect-auth-surrogate-ticket", ['40{"ticket":"\\udfff"}']),
    ("connect-auth-huge-int", ['40{"token":' + "9" * 5000 + "}"]),
    ("event-deep", ['40{"token":"TOKEN"}', '42["agent_hello",' + "[" * 50_000 + "]" * 50_000 + "]"]),
    ("event-huge-id", ['40{"token":"TOKEN"}', '42["print_ack",{"id":' + str(2**64) + "}]"]),
    ("event-surrogate-name", ['40{"token":"TOKEN"}', '42["\\ud800",{}]']),
    ("event-not-json", ['40{"token":"TOKEN"}', '42["agent_hello",{']),
    ("unknown-packet-type", ["49garbage"]),
]


@pytest.mark.server
@pytest.mark.parametrize("name, packets", SOCKET_PACKETS, ids=[s[0] for s in SOCKET_PACKETS])
def test_hostile_socketio_packets_close_that_connection_only(live, name, packets):
    srv = live
    seen = len(srv.log.read_text())
    token = srv.tokens["display"]
    answers = _socket_packets(srv, [p.replace("TOKEN", token) for p in packets])
    assert answers[0].startswith("0")  # Engine.IO opened
    # Never a snapshot for a hostile connect; the server stays up and well.
    if name.startswith("connect"):
        assert not any(a.startswith("42") for a in answers[1:]), answers[:3]
    import requests

    assert requests.get(srv.url + "/api/v1/health", timeout=5).status_code == 200
    assert "Traceback" not in srv.log.read_text()[seen:]
    # A well-behaved client still connects and gets its snapshot.
    good = _socket_packets(srv, ['40{"token":"%s"}' % token])
    assert any(a.startswith('42["snapshot"') for a in good)


def test_login_with_the_right_password_still_works(api):
    c = api.app.test_client()
    assert c.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).status_code == 200
