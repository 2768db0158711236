"""MPP_SURFACE=public: only the citizens' routes exist, every credential is refused,
and a call made on the building's instance reaches a tracking page on the public one."""

import json
import tempfile
import time
from pathlib import Path

import pytest
import requests
import socketio

from conftest import PASSWORD, Listener, Server, login
from web.surface import PUBLIC_ENDPOINTS

SAMPLE = {"id": "1", "int": "1", "path": "x.js", "string": "ABCDEFGH", "default": "ABCDEFGH"}


def _building_rules():
    """(endpoint, method, url) for every route of the whole building's app."""
    from web import create_app

    tmp = Path(tempfile.mkdtemp(prefix="giliran-rules-"))
    app = create_app({"DATABASE": str(tmp / "mpp.db"), "SECRET_KEY": "x",
                      "SOCKETIO_ASYNC_MODE": "threading"})
    out = []
    for rule in app.url_map.iter_rules():
        values = {}
        for name, conv in rule._converters.items():
            kind = type(conv).__name__.replace("Converter", "").lower()
            values[name] = "board" if name == "section" else SAMPLE.get(kind, "ABCDEFGH")
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


BUILDING_ROUTES = _building_rules()
# "/" is the public instance's own: a redirect to /booking (tested below), not the staff links.
ABSENT = [r for r in BUILDING_ROUTES if r[0] not in PUBLIC_ENDPOINTS and r[2] != "/"]


@pytest.fixture
def public(db_path, clock, api):
    """The public app on the same database as `api`'s building app."""
    from web import create_app

    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "TESTING": True,
                      "SOCKETIO_ASYNC_MODE": "threading", "SURFACE": "public"})
    app.extensions["giliran"].clock = clock
    return app


def test_the_building_has_routes_the_public_instance_lacks():
    """Guards the list below: absent routes exist and include every staff surface."""
    endpoints = {r[0] for r in ABSENT}
    for needed in ("auth.login", "admin_pages.admin", "counter_pages.start", "kiosk_pages.kiosk",
                   "display_pages.display", "counter_api.list_counters", "kiosk_api.issue_ticket",
                   "kiosk_api.list_services", "openapi.spec", "printer_api.ticket_preview"):
        assert needed in endpoints


@pytest.mark.parametrize("endpoint,method,url", ABSENT, ids=[f"{m} {e}" for e, m, _ in ABSENT])
def test_every_other_route_is_absent(public, endpoint, method, url):
    r = public.test_client().open(url, method=method, json={} if method != "GET" else None)
    assert r.status_code == 404, (method, url, r.status_code, r.data[:200])


def test_only_listed_endpoints_are_routed(public):
    routed = {rule.endpoint for rule in public.url_map.iter_rules()}
    assert routed <= set(PUBLIC_ENDPOINTS)
    assert "kiosk_pages.track" in routed and "static" in routed


@pytest.mark.parametrize("url,status", [
    ("/static/giliran.js", 200),
    ("/static/vendor/socket.io-4.8.4.min.js", 200),
    ("/favicon.ico", 200),
    ("/kiosk/static/track.js", 200),
    ("/kiosk/static/track.css", 200),
    ("/kiosk/static/kiosk.js", 404),
    ("/admin/static/survey.js", 200),
    ("/admin/static/admin.js", 404),
    ("/api/v1/health", 200),
    ("/admin", 404),
    ("/kiosk", 404),
    ("/api/v1/openapi.json", 404),
], ids=lambda v: str(v))
def test_public_files(public, url, status):
    assert public.test_client().get(url).status_code == status


def _ticket(api):
    r = api.app.test_client().post("/api/v1/tickets", json={"service_id": api.ktp},
                                   headers={"Authorization": f"Bearer {api.people.kiosk_token}"})
    assert r.status_code == 201, r.json
    return r.json


def test_citizen_routes_work_without_credentials(api, public):
    ticket = _ticket(api)
    c = public.test_client()
    assert c.get(f"/t/{ticket['code']}").status_code == 200
    assert c.get(f"/api/v1/tickets/{ticket['code']}").json["number"] == "A001"
    assert c.get(f"/api/v1/tickets/{ticket['code']}/track").json["ticket"]["number"] == "A001"
    assert c.get(f"/survey/{ticket['code']}").status_code == 200
    assert c.get(f"/api/v1/tickets/{ticket['code']}/survey").status_code == 200
    assert c.get("/", follow_redirects=False).headers["Location"].endswith("/booking")


@pytest.mark.parametrize("header", ["kiosk", "display", "Bearer nonsense", "Basic YWRtaW46eA=="])
def test_every_authorization_header_is_refused(api, public, header):
    ticket = _ticket(api)
    value = {"kiosk": f"Bearer {api.people.kiosk_token}",
             "display": f"Bearer {api.people.display_token}"}.get(header, header)
    r = public.test_client().get(f"/api/v1/tickets/{ticket['code']}", headers={"Authorization": value})
    assert r.status_code == 401
    assert r.json["error"]["code"] == "credentials_refused"


def test_a_session_cookie_is_never_read_nor_set(api, public):
    ticket = _ticket(api)
    staff = login(api.app, "admin")  # a real session cookie of the building's instance
    cookie = staff.get_cookie("giliran_session")
    assert cookie is not None
    c = public.test_client()
    c.set_cookie("giliran_session", cookie.value)
    r = c.get(f"/api/v1/tickets/{ticket['code']}")
    assert r.status_code == 200 and "giliran_session" not in r.headers.get("Set-Cookie", "")
    assert c.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).status_code == 404
    # The same cookie still opens the building's staff API, where it belongs.
    assert staff.get("/api/v1/counters").status_code == 200
    assert c.get("/api/v1/counters").status_code == 404


# -- two real gunicorns on one database file -------------------------------------------


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """The demo MPP on the building's instance, and the public instance on the same file."""
    tmp = tmp_path_factory.mktemp("public")
    building = Server(tmp / "mpp.db", env={"MPP_DEMO": "1"}).start(timeout=60)
    public = Server(tmp / "mpp.db", env={"MPP_SURFACE": "public"}).start(timeout=60)
    building.tokens = json.loads((tmp / "demo-devices.json").read_text())
    building.admin = building.session("admin")
    building.services = {s["prefix"]: s for s in building.admin.get(building.url + "/api/v1/services").json()}
    yield building, public
    public.stop()
    building.stop()


def _issue(building, prefix):
    r = requests.post(building.url + "/api/v1/tickets", json={"service_id": building.services[prefix]["id"]},
                      headers={"Authorization": f"Bearer {building.tokens['kiosk']}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def _counter_for(building, prefix):
    sid = building.services[prefix]["id"]
    counter = [c for c in building.admin.get(building.url + "/api/v1/counters").json()
               if sid in c["service_ids"]][0]
    r = building.admin.post(f"{building.url}/api/v1/counters/{counter['id']}/open")
    assert r.status_code == 200, r.text
    return counter


def _refused(url, auth=None, headers=None):
    client = socketio.Client(reconnection=False)
    try:
        client.connect(url, auth=auth, headers=headers or {}, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError as e:
        return str(e)
    client.disconnect()
    return None


@pytest.mark.server
@pytest.mark.parametrize("how", ["display_token", "kiosk_token", "staff_cookie", "cookie_and_ticket",
                                 "token_and_ticket", "bad_ticket", "nothing", "ticket_not_a_string"])
def test_public_socket_takes_only_a_ticket(instances, how):
    building, public = instances
    code = _issue(building, "A")["code"]
    cookie = {"Cookie": f"giliran_session={building.admin.cookies['giliran_session']}"}
    auth, headers = {
        "display_token": ({"token": building.tokens["display"]}, None),
        "kiosk_token": ({"token": building.tokens["kiosk"]}, None),
        "staff_cookie": (None, cookie),
        "cookie_and_ticket": ({"ticket": "nope"}, cookie),
        "token_and_ticket": ({"ticket": code, "token": building.tokens["display"]}, None),
        "bad_ticket": ({"ticket": "NOSUCHCODE"}, None),
        "nothing": (None, None),
        "ticket_not_a_string": ({"ticket": 12}, None),
    }[how]
    assert _refused(public.url, auth, headers) is not None
    # The building's own instance takes the staff ways in (so the refusal is the surface's).
    if how in ("display_token", "kiosk_token", "staff_cookie"):
        assert _refused(building.url, auth, headers) is None


@pytest.mark.server
def test_a_call_on_the_building_reaches_a_tracking_page_on_the_public_instance(instances):
    building, public = instances
    counter = _counter_for(building, "F")
    first = _issue(building, "F")
    mine = _issue(building, "F")
    phone = Listener(public.url, {"ticket": mine["code"]})
    try:
        snap = phone.wait_for("snapshot")
        assert snap["number"] == mine["number"] and snap["ahead"] == 1
        url = f"{building.url}/api/v1/counters/{counter['id']}"
        assert building.admin.post(url + "/call-next").json()["number"] == first["number"]
        assert building.admin.post(url + "/start").status_code == 200  # the first citizen came up
        moved = phone.wait_for("queue_changed", timeout=5)  # someone ahead was called
        assert moved["service_id"] == mine["service_id"]

        t0 = time.monotonic()
        assert building.admin.post(url + "/call-next", json={"finish_current": True}).json()["id"] == mine["id"]
        call = phone.wait_for("ticket_called", timeout=5)
        took = time.monotonic() - t0
        assert call["ticket_id"] == mine["id"] and call["counter_number"] == counter["number"]
        assert call["recall"] is False
        assert took < 2.0, f"the call took {took:.2f}s to cross instances"
        changed = phone.wait_for("ticket_changed", timeout=5)
        assert changed["status"] == "called" and changed["counter_id"] == counter["id"]

        building.admin.post(url + "/recall")
        assert phone.wait_for("ticket_called", timeout=5)["recall"] is True
        building.admin.post(url + "/start")
        assert phone.wait_for("ticket_changed", timeout=5, where=lambda d: d["status"] == "serving")
    finally:
        phone.close()


def test_the_public_instance_runs_no_building_work(public):
    """No print spool (a job prints once, from the building), no roll-over, no voice pack:
    only the follower of the database."""
    giliran = public.extensions["giliran"]
    giliran.start_background()
    try:
        assert "giliran_spool" not in public.extensions
        assert len(giliran.background) == 1
        assert public.extensions["giliran_follower"] is not None
    finally:
        giliran.stopping = True
