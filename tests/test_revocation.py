"""Revocation reaches the sockets (issue 12, point 5): a revoked device token, a deactivated
person, an ended session → its open Socket.IO connections close within a second or two, and
the kiosk, the display and the console then show their pairing or login screen."""

import json
import threading
import time

import pytest
import requests
import socketio
from playwright.sync_api import expect

from conftest import PASSWORD, Server, screenshot

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("revocation")
    server = Server(tmp / "mpp.db", env={"MPP_DEMO": "1"}).start(timeout=60)
    server.tokens = json.loads((tmp / "demo-devices.json").read_text())
    server.admin = server.session("admin")
    yield server
    server.stop()


class Watched:
    """A python-socketio client that notes when the server drops it (no reconnection)."""

    def __init__(self, url, auth=None, cookie=None):
        self.dropped = threading.Event()
        self.events = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("disconnect", lambda *a: self.dropped.set())
        self.client.on("*", lambda name, data: self.events.append(name))
        headers = {"Cookie": f"giliran_session={cookie}"} if cookie else None
        self.client.connect(url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=10)
        deadline = time.monotonic() + 10
        while "snapshot" not in self.events and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "snapshot" in self.events

    def close(self):
        if self.client.connected:
            self.client.disconnect()


def new_device(srv, kind):
    return srv.admin.post(srv.url + "/api/v1/devices", json={"kind": kind, "name": f"{kind} uji"}).json()


def new_person(srv, name):
    agency = srv.admin.get(srv.url + "/api/v1/agencies").json()[0]["id"]
    user = srv.admin.post(srv.url + "/api/v1/users", json={"username": name, "password": PASSWORD,
                                                           "role": "officer", "agency_id": agency}).json()
    s = requests.Session()
    s.headers["Origin"] = srv.url
    assert s.post(srv.url + "/api/v1/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    return user, s


def revoke_device(srv, kind):
    device = new_device(srv, kind)
    watched = Watched(srv.url, auth={"token": device["token"]})
    return watched, lambda: srv.admin.post(srv.url + f"/api/v1/devices/{device['id']}/revoke")


def person_ended_by(how):
    def setup(srv, name):
        user, s = new_person(srv, name)
        watched = Watched(srv.url, cookie=s.cookies["giliran_session"])
        actions = {
            "logout": lambda: s.post(srv.url + "/api/v1/auth/logout"),
            "deactivate": lambda: srv.admin.patch(srv.url + f"/api/v1/users/{user['id']}", json={"active": False}),
            "password_reset": lambda: srv.admin.post(srv.url + f"/api/v1/users/{user['id']}/password",
                                                     json={"password": "sandi-baru-99"}),
        }
        return watched, actions[how]
    return setup


CASES = {
    "display_revoked": lambda srv, name: revoke_device(srv, "display"),
    "kiosk_revoked": lambda srv, name: revoke_device(srv, "kiosk"),
    "logout": person_ended_by("logout"),
    "deactivated": person_ended_by("deactivate"),
    "password_reset": person_ended_by("password_reset"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_revocation_closes_the_socket_within_two_seconds(srv, case):
    watched, revoke = CASES[case](srv, f"uji_{case}"[:40])
    bystander = Watched(srv.url, auth={"token": srv.tokens["display"]})
    try:
        t0 = time.monotonic()
        r = revoke()
        assert r.status_code in (200, 204), r.text
        assert watched.dropped.wait(2), "the socket stayed open"
        took = time.monotonic() - t0
        assert took < 2
        # It cannot come back, and the others stay connected.
        with pytest.raises(socketio.exceptions.ConnectionError):
            again = socketio.Client(reconnection=False)
            auth = watched.client.connection_auth
            headers = watched.client.connection_headers
            again.connect(srv.url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=5)
        assert bystander.client.connected and not bystander.dropped.is_set()
    finally:
        watched.close()
        bystander.close()


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["kiosk", "display"])
def test_a_revoked_kiosk_or_display_shows_its_pairing_screen(srv, page_at, kind):
    device = new_device(srv, kind)
    page = page_at("kiosk" if kind == "kiosk" else "tv")
    page.goto(f"{srv.url}/{kind}?token={device['token']}")
    page.wait_for_function("window.Giliran && Giliran.online === true")
    t0 = time.monotonic()
    srv.admin.post(srv.url + f"/api/v1/devices/{device['id']}/revoke")
    expect(page.locator("#screen-pair" if kind == "kiosk" else "#pair")).to_be_visible(timeout=8000)
    took = time.monotonic() - t0
    screenshot(page, f"revoked-{kind}-pairing")
    assert took < 8


@pytest.mark.browser
def test_the_console_goes_to_the_login_when_the_password_is_reset(srv, page_at):
    user, s = new_person(srv, "uji_console")
    counters = [c for c in srv.admin.get(srv.url + "/api/v1/counters").json() if c["agency_id"] == user["agency_id"]]
    page = page_at("counter")
    page.context.add_cookies([{"name": "giliran_session", "value": s.cookies["giliran_session"],
                               "url": srv.url}])
    page.goto(f"{srv.url}/counter/{counters[0]['id']}")
    page.wait_for_function("window.Giliran && Giliran.online === true")
    srv.admin.post(srv.url + f"/api/v1/users/{user['id']}/password", json={"password": "sandi-baru-99"})
    page.wait_for_url("**/counter?next=*", timeout=8000)
    expect(page.locator("input[type=password]")).to_be_visible()
    screenshot(page, "revoked-counter-login")


@pytest.mark.parametrize("what", ["session", "device"])
def test_an_end_made_elsewhere_reaches_the_socket_within_the_sweep(srv, what):
    """Another instance or the CLI ended it in the database: the 5 s sweep closes the socket."""
    import sqlite3

    if what == "session":
        _user, s = new_person(srv, "uji_sweep")
        watched = Watched(srv.url, cookie=s.cookies["giliran_session"])
        sql = "UPDATE sessions SET ended_ts = 1, end_reason = 'cli' WHERE user_id = ?"
        arg = _user["id"]
    else:
        device = new_device(srv, "display")
        watched = Watched(srv.url, auth={"token": device["token"]})
        sql, arg = "UPDATE devices SET active = 0 WHERE id = ?", device["id"]
    try:
        with sqlite3.connect(srv.db_path, timeout=10) as db:
            db.execute(sql, (arg,))
        assert watched.dropped.wait(8), "the sweep did not close the socket"
    finally:
        watched.close()
