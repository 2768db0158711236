"""deploy/nginx/giliran-public.conf for real: Debian's nginx in front of the public
instance (MPP_SURFACE=public), the building's instance beside it on the same database.
Through the public name the citizens' pages and API work; no staff page, API or socket does."""

import json
import time

import pytest
import requests
import socketio

from conftest import PASSWORD, Listener, Server
from deploy_helpers import Nginx

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx-public")
    building = Server(tmp / "mpp.db", env={"MPP_DEMO": "1"}).start(timeout=60)
    public = Server(tmp / "mpp.db", env={"MPP_SURFACE": "public"}).start(timeout=60)
    nginx = Nginx(tmp, "giliran-public.conf", {
        "listen 80;": "listen 127.0.0.1:{port};",
        "server 127.0.0.1:8001;": f"server 127.0.0.1:{public.port};",
    }).start(timeout=60)
    building.tokens = json.loads((tmp / "demo-devices.json").read_text())
    building.admin = building.session("admin")
    building.services = {s["prefix"]: s for s in building.admin.get(building.url + "/api/v1/services").json()}
    r = building.admin.put(f"{building.url}/api/v1/services/{building.services['N']['id']}/booking",
                           json={"enabled": True})
    assert r.status_code == 200, r.text
    try:
        yield building, public, nginx
    finally:
        nginx.stop()
        public.stop()
        building.stop()


def _ticket(building, prefix="G"):
    r = requests.post(building.url + "/api/v1/tickets", json={"service_id": building.services[prefix]["id"]},
                      headers={"Authorization": f"Bearer {building.tokens['kiosk']}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_booking_and_its_api_work_through_nginx(site):
    building, _, nginx = site
    page = requests.get(nginx.url + "/booking", timeout=10)
    assert page.status_code == 200 and "Ambil antrean dari rumah" in page.text
    services = requests.get(nginx.url + "/api/v1/booking/services", timeout=10).json()
    sid = building.services["N"]["id"]
    assert [s["id"] for s in services] == [sid]
    day = requests.get(nginx.url + "/api/v1/health", timeout=10).json()["service_day"]
    slots = [s for s in requests.get(f"{nginx.url}/api/v1/services/{sid}/slots?date={day}", timeout=10).json()
             if s["open"] and s["left"]]
    if not slots:  # late in the evening: tomorrow
        from datetime import date, timedelta
        day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        slots = requests.get(f"{nginx.url}/api/v1/services/{sid}/slots?date={day}", timeout=10).json()
    r = requests.post(nginx.url + "/api/v1/bookings", timeout=10, json={
        "service_id": sid, "start": slots[0]["start"], "name": "Ani", "phone": "081299990000"})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    for path in (f"/b/{code}", f"/b/{code}/qr.svg", f"/b/{code}/card.png", f"/b/{code}/booking.ics",
                 f"/api/v1/bookings/{code}", "/booking/static/booking.js"):
        assert requests.get(nginx.url + path, timeout=10).status_code == 200, path
    r = requests.post(f"{nginx.url}/api/v1/bookings/{code}/cancel", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


@pytest.mark.parametrize("path", ["/t/{code}", "/api/v1/tickets/{code}", "/api/v1/tickets/{code}/track",
                                  "/survey/{code}", "/static/giliran.js", "/favicon.ico", "/api/v1/health"])
def test_citizen_pages_and_api_work_through_nginx(site, path):
    building, _, nginx = site
    code = _ticket(building)["code"]
    r = requests.get(nginx.url + path.format(code=code), timeout=10)
    assert r.status_code == 200, r.text[:200]
    assert r.headers["Server"] == "nginx"  # server_tokens off: no version


@pytest.mark.parametrize("method,path", [
    ("GET", "/admin"), ("GET", "/admin/board"), ("GET", "/counter"), ("GET", "/kiosk"), ("GET", "/display"),
    ("GET", "/api/v1/counters"), ("POST", "/api/v1/auth/login"), ("GET", "/api/v1/services"),
    ("POST", "/api/v1/tickets"), ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/backup"),
    ("GET", "/api/v1/reports"), ("GET", "/api/v1/bookings"), ("PUT", "/api/v1/services/1/booking"),
    ("GET", "/"),
])
def test_staff_surfaces_are_absent_through_nginx(site, method, path):
    _, _, nginx = site
    body = {"username": "admin", "password": PASSWORD} if path.endswith("login") else {}
    r = requests.request(method, nginx.url + path, json=body if method == "POST" else None,
                         allow_redirects=False, timeout=10)
    if path == "/":
        assert r.status_code == 302 and r.headers["Location"].endswith("/booking")
    else:
        assert r.status_code == 404, (method, path, r.status_code)
    assert "giliran_session" not in r.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("how", ["display_token", "staff_cookie", "nothing"])
def test_staff_sockets_are_refused_through_nginx(site, how):
    building, _, nginx = site
    auth = {"token": building.tokens["display"]} if how == "display_token" else None
    headers = ({"Cookie": f"giliran_session={building.admin.cookies['giliran_session']}"}
               if how == "staff_cookie" else {})
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(nginx.url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=5)


def test_a_tracking_page_through_nginx_hears_the_buildings_call(site):
    building, _, nginx = site
    ticket = _ticket(building, "S")
    counter = [c for c in building.admin.get(building.url + "/api/v1/counters").json()
               if building.services["S"]["id"] in c["service_ids"]][-1]
    phone = Listener(nginx.url, {"ticket": ticket["code"]})
    try:
        assert phone.wait_for("snapshot")["id"] == ticket["id"]
        url = f"{building.url}/api/v1/counters/{counter['id']}"
        building.admin.post(url + "/open")
        t0 = time.monotonic()
        called = building.admin.post(url + "/call-next").json()
        assert called["id"] == ticket["id"]
        assert phone.wait_for("ticket_called", timeout=5)["ticket_id"] == ticket["id"]
        assert time.monotonic() - t0 < 2.0
    finally:
        phone.close()


def test_bodies_over_the_limit_are_refused_by_nginx(site):
    building, _, nginx = site
    code = _ticket(building)["code"]
    r = requests.post(f"{nginx.url}/api/v1/tickets/{code}/survey", data="x" * 40_000,
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413


def test_a_flood_of_writes_from_one_address_is_limited(site):
    building, _, nginx = site
    code = _ticket(building)["code"]
    with requests.Session() as s:
        statuses = [s.post(f"{nginx.url}/api/v1/tickets/{code}/survey", json={}, timeout=10).status_code
                    for _ in range(30)]
    assert 429 in statuses, statuses
    assert statuses[0] != 429  # the first ones pass (the app answers them)
    # Reads are not counted against the write budget.
    assert requests.get(f"{nginx.url}/api/v1/tickets/{code}", timeout=10).status_code == 200
