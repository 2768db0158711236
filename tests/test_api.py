"""The HTTP contract of API.md: happy paths, every error status, who may call what."""

import pytest

from conftest import login

ROLES = ["anonymous", "kiosk", "display", "officer", "other_officer", "supervisor", "admin"]


class Caller:
    """A test client acting as one role."""

    def __init__(self, api, role):
        self.api = api
        self.role = role
        names = {"officer": "officer", "other_officer": "other", "supervisor": "super", "admin": "admin"}
        self.client = login(api.app, names[role]) if role in names else api.app.test_client()
        self.headers = {}
        if role == "kiosk":
            self.headers = {"Authorization": f"Bearer {api.people.kiosk_token}"}
        elif role == "display":
            self.headers = {"Authorization": f"Bearer {api.people.display_token}"}

    def request(self, method, path, **kw):
        return self.client.open(path, method=method, headers=self.headers, **kw)


def _ticket(api):
    return Caller(api, "admin").request("POST", "/api/v1/tickets", json={"service_id": api.ktp}).json


def _device_id(api):
    return Caller(api, "admin").request("GET", "/api/v1/devices").json[0]["id"]


# (name, method, path or f(api), body or f(api), allowed roles, success status)
ADMIN = {"admin"}
AUTHENTICATED = set(ROLES) - {"anonymous"}
STAFF = {"officer", "other_officer", "supervisor", "admin"}
OWN_STAFF = {"officer", "supervisor", "admin"}

ENDPOINTS = [
    ("create agency", "POST", "/api/v1/agencies", {"code": "PDAM", "name": "PDAM"}, ADMIN, 201),
    ("list agencies", "GET", "/api/v1/agencies", None, AUTHENTICATED, 200),
    ("create service", "POST", "/api/v1/services", lambda a: {"agency_id": a.dukcapil, "prefix": "C", "name": "Akta"}, ADMIN, 201),
    ("list services", "GET", "/api/v1/services", None, AUTHENTICATED, 200),
    ("create counter", "POST", "/api/v1/counters", lambda a: {"agency_id": a.dukcapil, "number": 9, "service_ids": [a.ktp]}, ADMIN, 201),
    ("list counters", "GET", "/api/v1/counters", None, AUTHENTICATED, 200),
    ("create user", "POST", "/api/v1/users", lambda a: {"username": "baru", "password": "panjang-sekali", "role": "officer", "agency_id": a.dukcapil}, ADMIN, 201),
    ("create device", "POST", "/api/v1/devices", {"kind": "kiosk", "name": "Kiosk 2"}, ADMIN, 201),
    ("update device", "PATCH", lambda a: f"/api/v1/devices/{_device_id(a)}", {"name": "Kiosk A"}, ADMIN, 200),
    ("create printer", "POST", "/api/v1/printers", {"name": "P1", "transport": "file", "path": "/tmp/giliran-test.bin"}, ADMIN, 201),
    ("issue ticket", "POST", "/api/v1/tickets", lambda a: {"service_id": a.ktp}, {"kiosk"} | STAFF, 201),
    ("read ticket", "GET", lambda a: f"/api/v1/tickets/{_ticket(a)['code']}", None, set(ROLES), 200),
    ("print jobs", "GET", lambda a: f"/api/v1/print-jobs?ticket_id={_ticket(a)['id']}", None, STAFF, 200),
    ("open counter", "POST", lambda a: f"/api/v1/counters/{a.c1}/open", None, OWN_STAFF, 200),
    ("close counter", "POST", lambda a: f"/api/v1/counters/{a.c1}/close", None, OWN_STAFF, 200),
    ("pause counter", "POST", lambda a: f"/api/v1/counters/{a.c1}/pause", {"reason": "istirahat"}, OWN_STAFF, 200),
    ("call next", "POST", lambda a: f"/api/v1/counters/{a.c1}/call-next", {}, OWN_STAFF, 200),
    ("call out of turn", "POST", lambda a: f"/api/v1/counters/{a.c1}/call", lambda a: {"ticket_id": a.waiting_id}, OWN_STAFF, 200),
    ("recall", "POST", lambda a: f"/api/v1/counters/{a.c2}/recall", None, OWN_STAFF, 200),
    ("start", "POST", lambda a: f"/api/v1/counters/{a.c2}/start", None, OWN_STAFF, 200),
    ("finish", "POST", lambda a: f"/api/v1/counters/{a.c2}/finish", None, OWN_STAFF, 200),
    ("no-show", "POST", lambda a: f"/api/v1/counters/{a.c2}/no-show", None, OWN_STAFF, 200),
    ("transfer", "POST", lambda a: f"/api/v1/counters/{a.c2}/transfer", lambda a: {"service_id": a.kk, "position": "first"}, OWN_STAFF, 200),
    ("cancel a waiting ticket", "POST", lambda a: f"/api/v1/counters/{a.c1}/cancel", lambda a: {"ticket_id": a.waiting_id}, OWN_STAFF, 200),
    ("waiting list", "GET", lambda a: f"/api/v1/counters/{a.c1}/waiting", None, OWN_STAFF, 200),
    ("logout", "POST", "/api/v1/auth/logout", None, STAFF, 204),
]


def _arrange(api):
    """Counter 1 open and free with one waiting ticket; counter 2 holding a ticket called 10 s ago."""
    admin = Caller(api, "admin")
    admin.request("POST", f"/api/v1/counters/{api.c1}/open")
    admin.request("POST", f"/api/v1/counters/{api.c2}/open")
    admin.request("POST", "/api/v1/tickets", json={"service_id": api.ktp})
    assert admin.request("POST", f"/api/v1/counters/{api.c2}/call-next").status_code == 200
    api.clock.advance(10)  # held past the finish guard (db/tickets.py)
    api.waiting_id = admin.request("POST", "/api/v1/tickets", json={"service_id": api.ktp}).json["id"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, method, path, body, allowed, ok", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_who_may_call_what(api, role, name, method, path, body, allowed, ok):
    _arrange(api)
    path = path(api) if callable(path) else path
    body = body(api) if callable(body) else body
    caller = Caller(api, role)
    r = caller.request(method, path, json=body)
    if role in allowed:
        assert r.status_code == ok, r.json
    else:
        expected = 401 if role == "anonymous" else 403
        assert r.status_code == expected, r.json
        assert set(r.json["error"]) >= {"code", "message"}


# -- happy paths and their answers ---------------------------------------------------


def test_login_answers_the_user_without_password(api):
    c = api.app.test_client()
    r = c.post("/api/v1/auth/login", json={"username": "officer", "password": "rahasia-123"})
    assert r.status_code == 200
    assert r.json["user"]["username"] == "officer" and r.json["user"]["role"] == "officer"
    assert r.json["user"]["agency_id"] == api.dukcapil
    assert "password" not in str(r.json)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert c.get("/api/v1/auth/me").json["user"]["username"] == "officer"
    assert c.post("/api/v1/auth/logout").status_code == 204
    assert c.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("username, password", [("officer", "salah-sandi"), ("nobody", "rahasia-123")])
def test_bad_credentials_are_401(api, username, password):
    r = api.app.test_client().post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 401 and r.json["error"]["code"] == "bad_credentials"


def test_logins_are_rate_limited(api):
    c = api.app.test_client()
    codes = [c.post("/api/v1/auth/login", json={"username": "super", "password": "x"}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    # Even the right password is refused while the limit holds.
    r = c.post("/api/v1/auth/login", json={"username": "super", "password": "rahasia-123"})
    assert r.status_code == 429


def test_ticket_shape(api):
    t = Caller(api, "kiosk").request("POST", "/api/v1/tickets", json={"service_id": api.ktp}).json
    for key in ("id", "code", "number", "service_id", "status", "priority", "issued_at", "called_at",
                "counter_id", "call_count", "ahead", "estimated_wait_s", "tracking_url", "print_status"):
        assert key in t
    assert t["number"] == "A001" and t["status"] == "waiting" and t["priority"] is False
    assert t["issued_at"].endswith("+07:00")
    assert t["tracking_url"].endswith(f"/t/{t['code']}")
    assert len(t["code"]) >= 16
    assert t["print_status"] == "none"


def test_priority_ticket_is_called_first(api):
    kiosk = Caller(api, "kiosk")
    kiosk.request("POST", "/api/v1/tickets", json={"service_id": api.ktp})
    p = kiosk.request("POST", "/api/v1/tickets", json={"service_id": api.ktp, "priority": "lansia"}).json
    assert p["priority"] is True and p["priority_kind"] == "lansia"
    q = kiosk.request("POST", "/api/v1/tickets", json={"service_id": api.ktp, "priority": True}).json
    assert q["priority"] is True
    officer = Caller(api, "officer")
    officer.request("POST", f"/api/v1/counters/{api.c1}/open")
    assert officer.request("POST", f"/api/v1/counters/{api.c1}/call-next").json["number"] == p["number"]


def test_call_next_with_nothing_waiting_is_204(api):
    officer = Caller(api, "officer")
    officer.request("POST", f"/api/v1/counters/{api.c1}/open")
    r = officer.request("POST", f"/api/v1/counters/{api.c1}/call-next")
    assert r.status_code == 204 and r.data == b""


def test_idempotency_key_makes_a_retry_safe(api):
    kiosk = Caller(api, "kiosk")
    headers = {**kiosk.headers, "Idempotency-Key": "tap-123"}
    a = kiosk.client.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=headers)
    b = kiosk.client.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json["id"] == b.json["id"]
    services = kiosk.request("GET", "/api/v1/services").json
    assert next(s for s in services if s["id"] == api.ktp)["waiting"] == 1


def test_device_token_is_shown_once_and_works(api):
    admin = Caller(api, "admin")
    created = admin.request("POST", "/api/v1/devices", json={"kind": "display", "name": "TV 2"}).json
    assert len(created["token"]) >= 32
    listed = admin.request("GET", "/api/v1/devices").json
    assert all("token" not in d for d in listed)
    r = api.app.test_client().get("/api/v1/services", headers={"Authorization": f"Bearer {created['token']}"})
    assert r.status_code == 200


def test_unknown_token_is_401(api):
    r = api.app.test_client().get("/api/v1/services", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_token"
    r = api.app.test_client().get("/api/v1/services", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


# -- every error status with its code ---------------------------------------------------


def _closed_service(api):
    api.app.extensions["giliran"]  # the app's own database
    from db.connection import connect

    c = connect(api.app.config["DATABASE"])
    c.execute("UPDATE services SET closes_at = '08:00' WHERE id = ?", (api.kk,))
    c.close()


ERRORS = [
    ("closed service", "admin", "POST", "/api/v1/tickets", lambda a: {"service_id": a.kk}, 409, "service_closed", _closed_service),
    ("unknown service", "kiosk", "POST", "/api/v1/tickets", {"service_id": 999}, 404, "service_not_found", None),
    ("service id wrong type", "kiosk", "POST", "/api/v1/tickets", {"service_id": "1"}, 400, "validation_error", None),
    ("service id missing", "kiosk", "POST", "/api/v1/tickets", {}, 400, "validation_error", None),
    ("bad priority", "kiosk", "POST", "/api/v1/tickets", lambda a: {"service_id": a.ktp, "priority": "vip"}, 400, "validation_error", None),
    ("unknown ticket code", "anonymous", "GET", "/api/v1/tickets/nope", None, 404, "ticket_not_found", None),
    ("unknown counter", "admin", "POST", "/api/v1/counters/999/open", None, 404, "counter_not_found", None),
    ("huge counter id", "admin", "POST", "/api/v1/counters/99999999999999999999999/open", None, 404, "not_found", None),
    ("call at a closed counter", "officer", "POST", lambda a: f"/api/v1/counters/{a.c3_own}/call-next", None, 409, "counter_closed", None),
    ("duplicate agency code", "admin", "POST", "/api/v1/agencies", {"code": "DUKCAPIL", "name": "x"}, 409, "code_taken", None),
    ("service prefix with digits", "admin", "POST", "/api/v1/services", lambda a: {"agency_id": a.dukcapil, "prefix": "A1", "name": "x"}, 400, "validation_error", None),
    ("service of unknown agency", "admin", "POST", "/api/v1/services", {"agency_id": 999, "prefix": "Z", "name": "x"}, 404, "agency_not_found", None),
    ("bad hours", "admin", "POST", "/api/v1/services", lambda a: {"agency_id": a.dukcapil, "prefix": "Z", "name": "x", "opens_at": "25:00"}, 400, "validation_error", None),
    ("counter number taken", "admin", "POST", "/api/v1/counters", lambda a: {"agency_id": a.dukcapil, "number": 1, "service_ids": [a.ktp]}, 409, "counter_number_taken", None),
    ("counter with another agency's service", "admin", "POST", "/api/v1/counters", lambda a: {"agency_id": a.dukcapil, "number": 7, "service_ids": [a.pajak]}, 400, "validation_error", None),
    ("short password", "admin", "POST", "/api/v1/users", {"username": "abc", "password": "short", "role": "admin"}, 400, "validation_error", None),
    ("username taken", "admin", "POST", "/api/v1/users", {"username": "officer", "password": "long-enough", "role": "admin"}, 409, "username_taken", None),
    ("officer without agency", "admin", "POST", "/api/v1/users", {"username": "x12", "password": "long-enough", "role": "officer"}, 400, "validation_error", None),
    ("bad role", "admin", "POST", "/api/v1/users", {"username": "x12", "password": "long-enough", "role": "boss"}, 400, "validation_error", None),
    ("bad device kind", "admin", "POST", "/api/v1/devices", {"kind": "printer", "name": "x"}, 400, "validation_error", None),
    ("device with unknown printer", "admin", "POST", "/api/v1/devices", {"kind": "kiosk", "name": "x", "printer_id": 99}, 404, "printer_not_found", None),
    ("unknown device", "admin", "PATCH", "/api/v1/devices/999", {"name": "x"}, 404, "device_not_found", None),
    ("network printer without host", "admin", "POST", "/api/v1/printers", {"name": "P", "transport": "network"}, 400, "validation_error", None),
    ("bad transport", "admin", "POST", "/api/v1/printers", {"name": "P", "transport": "fax"}, 400, "validation_error", None),
    ("file printer outside the allowed folders", "admin", "POST", "/api/v1/printers", {"name": "P", "transport": "file", "path": "/etc/cron.d/x"}, 400, "validation_error", None),
    ("file printer with a relative path", "admin", "POST", "/api/v1/printers", {"name": "P", "transport": "file", "path": "tickets.bin"}, 400, "validation_error", None),
    ("print jobs without ticket id", "admin", "GET", "/api/v1/print-jobs", None, 400, "validation_error", None),
    ("transfer to unknown service", "officer", "POST", lambda a: f"/api/v1/counters/{a.c2}/transfer", {"service_id": 999, "position": "first"}, 404, "service_not_found", None),
    ("transfer bad position", "officer", "POST", lambda a: f"/api/v1/counters/{a.c2}/transfer", lambda a: {"service_id": a.kk, "position": "middle"}, 400, "validation_error", None),
    ("pause without reason", "officer", "POST", lambda a: f"/api/v1/counters/{a.c1}/pause", {}, 400, "validation_error", None),
    ("close while holding", "officer", "POST", lambda a: f"/api/v1/counters/{a.c2}/close", None, 409, "counter_busy", None),
    ("call next while holding", "officer", "POST", lambda a: f"/api/v1/counters/{a.c2}/call-next", None, 409, "counter_busy", None),
    ("recall with nothing held", "officer", "POST", lambda a: f"/api/v1/counters/{a.c1}/recall", None, 409, "no_ticket", None),
    ("start a serving ticket", "officer", "POST", lambda a: f"/api/v1/counters/{a.c2}/start", None, 409, "invalid_transition", "start_c2"),
    ("call a done ticket", "officer", "POST", lambda a: f"/api/v1/counters/{a.c1}/call", lambda a: {"ticket_id": a.done_id}, 409, "invalid_transition", "done"),
    ("method not allowed", "admin", "DELETE", "/api/v1/agencies", None, 405, "method_not_allowed", None),
    ("unknown path", "admin", "GET", "/api/v1/nothing", None, 404, "not_found", None),
]


@pytest.mark.parametrize("name, role, method, path, body, status, code, prep", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_have_status_code_and_message(api, name, role, method, path, body, status, code, prep):
    _arrange(api)
    api.c3_own = api.c1
    caller = Caller(api, role)
    if name == "call at a closed counter":
        caller.request("POST", f"/api/v1/counters/{api.c1}/close")
    if prep == "start_c2":
        caller.request("POST", f"/api/v1/counters/{api.c2}/start")
    elif prep == "done":
        api.done_id = caller.request("POST", f"/api/v1/counters/{api.c2}/finish").json["id"]
    elif callable(prep):
        prep(api)
    path = path(api) if callable(path) else path
    body = body(api) if callable(body) else body
    before = _state(api)
    r = caller.request(method, path, json=body)
    assert r.status_code == status, r.json
    assert r.json["error"]["code"] == code
    assert r.json["error"]["message"]
    if status == 400 and code == "validation_error":
        assert r.json["error"]["fields"]
    assert _state(api) == before, "a refused request changed the database"


def _state(api):
    from db.connection import connect

    c = connect(api.app.config["DATABASE"])
    try:
        return [c.execute(f"SELECT count(*), max(rowid) FROM {t}").fetchone()[:]
                for t in ("tickets", "ticket_events", "agencies", "services", "counters", "users",
                          "devices", "printers", "audit_log")] + \
            [tuple(r) for r in c.execute("SELECT id, status, counter_id, call_count FROM tickets")]
    finally:
        c.close()


@pytest.mark.parametrize("body, content_type, code", [
    (b"{not json", "application/json", "malformed_json"),
    (b"[1, 2]", "application/json", "malformed_body"),
    (b"\xff\xfe", "application/json", "malformed_json"),
    (b'"text"', "application/json", "malformed_body"),
])
def test_malformed_bodies_are_400(api, body, content_type, code):
    kiosk = Caller(api, "kiosk")
    r = kiosk.client.post("/api/v1/tickets", data=body, headers={**kiosk.headers, "Content-Type": content_type})
    assert r.status_code == 400, r.data
    assert r.json["error"]["code"] == code


def test_oversized_body_is_413(api):
    kiosk = Caller(api, "kiosk")
    r = kiosk.client.post("/api/v1/tickets", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                          headers={**kiosk.headers, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json["error"]["code"] == "body_too_large"


def test_cross_site_write_is_refused(api):
    admin = Caller(api, "admin")
    r = admin.client.post("/api/v1/agencies", json={"code": "X", "name": "X"},
                          headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf_refused"


def test_openapi_document_lists_every_endpoint(api):
    spec = api.app.test_client().get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, method in [("/api/v1/auth/login", "post"), ("/api/v1/auth/logout", "post"),
                         ("/api/v1/agencies", "post"), ("/api/v1/agencies", "get"),
                         ("/api/v1/services", "post"), ("/api/v1/services", "get"),
                         ("/api/v1/counters", "post"), ("/api/v1/counters", "get"),
                         ("/api/v1/users", "post"), ("/api/v1/devices", "post"),
                         ("/api/v1/devices/{device_id}", "patch"), ("/api/v1/printers", "post"),
                         ("/api/v1/tickets", "post"), ("/api/v1/tickets/{code}", "get"),
                         ("/api/v1/print-jobs", "get")] + [
            (f"/api/v1/counters/{{counter_id}}/{a}", "post")
            for a in ("open", "close", "call-next", "call", "recall", "start", "finish", "no-show", "transfer", "cancel")]:
        assert method in paths[path], (path, method)
