"""The kiosk's own endpoints and pages, without a browser: device info, tracking view, QR, rooms."""

import re

import pytest

from conftest import login
from web.events import socketio


@pytest.fixture
def kiosk(api):
    return {"Authorization": f"Bearer {api.people.kiosk_token}"}


def take(api, kiosk, service_id):
    r = api.app.test_client().post("/api/v1/tickets", json={"service_id": service_id}, headers=kiosk)
    assert r.status_code == 201, r.json
    return r.json


def test_me_device_tells_the_kiosk_its_printer(api, kiosk):
    c = api.app.test_client()
    assert c.get("/api/v1/me/device").status_code == 401
    assert login(api.app, "admin").get("/api/v1/me/device").status_code == 403
    me = c.get("/api/v1/me/device", headers=kiosk).json
    assert me["kind"] == "kiosk" and me["name"] == "Kiosk 1" and me["printer"] is None
    admin = login(api.app, "admin")
    printer = admin.post("/api/v1/printers", json={"name": "P1", "transport": "file",
                                                   "path": "/tmp/giliran-kiosk-test.bin"}).json
    admin.patch(f"/api/v1/devices/{me['id']}", json={"printer_id": printer["id"], "agency_ids": [api.samsat]})
    me = c.get("/api/v1/me/device", headers=kiosk).json
    assert me["printer"] == {"id": printer["id"], "name": "P1", "status": printer["status"]}
    assert me["agency_ids"] == [api.samsat]


def test_tracking_view_and_qr(api, kiosk):
    ticket = take(api, kiosk, api.ktp)
    c = api.app.test_client()
    view = c.get(f"/api/v1/tickets/{ticket['code']}/track").json
    assert view["ticket"]["number"] == "A001" and view["service_name"] == "KTP-el"
    assert view["agency_name"] == "Dukcapil" and view["counter"] is None
    assert view["counter_numbers"] == [1, 2]
    missing = c.get("/api/v1/tickets/nope/track")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "ticket_not_found"

    qr = c.get(f"/t/{ticket['code']}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert c.get("/t/nope/qr.svg").status_code == 404

    page = c.get(f"/t/{ticket['code']}")
    assert page.status_code == 200 and "A001" in page.text and "Menunggu" in page.text
    assert "Waiting" in c.get(f"/t/{ticket['code']}?lang=en").text
    assert c.get("/t/nope").status_code == 404


def test_kiosk_page_never_carries_a_token(api):
    page = api.app.test_client().get("/kiosk")
    assert page.status_code == 200
    assert api.people.kiosk_token not in page.text and '"token"' not in page.text
    assert 'lang="id"' in page.text and "Kios ini belum dipasangkan" in page.text
    # Everything it loads comes from this server.
    assert not re.search(r'(src|href)="(https?:)?//', page.text)


def test_tracking_page_hears_its_service_queue(api, kiosk):
    mine = take(api, kiosk, api.ktp)
    phone = socketio.test_client(api.app, auth={"ticket": mine["code"]})
    assert phone.is_connected()
    phone.get_received()
    take(api, kiosk, api.kk)  # another service: not this page's business
    assert [e["name"] for e in phone.get_received()] == []
    take(api, kiosk, api.ktp)
    got = phone.get_received()
    assert [e["name"] for e in got] == ["queue_changed"]
    assert got[0]["args"][0] == {"service_id": api.ktp, "waiting": 2}
