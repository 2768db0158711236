"""The API against a real gunicorn (gunicorn.conf.py, wsgi:app) with a real Socket.IO client."""

import time

import pytest
import requests
import socketio

from conftest import Listener, Server

pytestmark = pytest.mark.server


def setup_mpp(srv):
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "DUKCAPIL", "name": "Dukcapil"}).json()
    service = admin.post(url + "/services", json={"agency_id": agency["id"], "prefix": "A", "name": "KTP-el"}).json()
    counter = admin.post(url + "/counters", json={"agency_id": agency["id"], "number": 3,
                                                   "service_ids": [service["id"]]}).json()
    kiosk = admin.post(url + "/devices", json={"kind": "kiosk", "name": "Kiosk"}).json()["token"]
    display = admin.post(url + "/devices", json={"kind": "display", "name": "TV"}).json()["token"]
    return admin, service, counter, kiosk, display


def test_empty_file_starts_and_serves_health(tmp_path):
    db = tmp_path / "fresh" / "mpp.db"
    srv = Server(db).start()
    try:
        health = requests.get(srv.url + "/api/v1/health", timeout=5).json()
        assert health["status"] == "ok" and health["schema_version"] >= 2
        assert db.exists()
        assert (db.parent / "secret_key").exists()
    finally:
        srv.stop()


def test_kiosk_issues_counter_calls_display_hears_it_and_survives_a_restart(server):
    srv = server
    admin, service, counter, kiosk_token, display_token = setup_mpp(srv)
    url = srv.url + "/api/v1"
    display = Listener(srv.url, {"token": display_token})
    try:
        snap = display.wait_for("snapshot")
        assert [c["number"] for c in snap["counters"]] == [3]

        kiosk = requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {kiosk_token}"
        tickets = [kiosk.post(url + "/tickets", json={"service_id": service["id"]}).json() for _ in range(3)]
        assert [t["number"] for t in tickets] == ["A001", "A002", "A003"]
        assert admin.post(url + f"/counters/{counter['id']}/open").status_code == 200
        t0 = time.monotonic()
        called = admin.post(url + f"/counters/{counter['id']}/call-next").json()
        call = display.wait_for("ticket_called")
        assert time.monotonic() - t0 < 1.0
        assert call["number"] == called["number"] == "A001"
        assert call["counter_id"] == counter["id"] and call["counter_number"] == 3
        display.wait_for("queue_changed", where=lambda d: d == {"service_id": service["id"], "waiting": 2})

        # SIGTERM, then a new server on the same file: the day goes on.
        assert srv.stop() == 0
        srv.start()
        snap = display.wait_for("snapshot", timeout=20)
        waiting = {s["id"]: s["waiting"] for s in snap["services"]}
        assert waiting[service["id"]] == 2
        assert snap["counters"][0]["ticket"]["number"] == "A001"
        assert snap["counters"][0]["state"] == "open"
        assert snap["recent_calls"][0]["number"] == "A001"
        # The session cookie still works: the key was kept beside the database.
        admin.post(url + f"/counters/{counter['id']}/start")
        assert admin.post(url + f"/counters/{counter['id']}/finish").json()["status"] == "done"
        assert kiosk.post(url + "/tickets", json={"service_id": service["id"]}).json()["number"] == "A004"
        nxt = admin.post(url + f"/counters/{counter['id']}/call-next").json()
        assert nxt["number"] == "A002"
        assert display.wait_for("ticket_called")["number"] == "A002"
    finally:
        display.close()


def test_tracking_client_follows_its_ticket(server):
    admin, service, counter, kiosk_token, _ = setup_mpp(server)
    url = server.url + "/api/v1"
    ticket = requests.post(url + "/tickets", json={"service_id": service["id"]},
                           headers={"Authorization": f"Bearer {kiosk_token}"}).json()
    phone = Listener(server.url, {"ticket": ticket["code"]})
    try:
        assert phone.wait_for("snapshot")["number"] == "A001"
        admin.post(url + f"/counters/{counter['id']}/open")
        admin.post(url + f"/counters/{counter['id']}/call-next")
        assert phone.wait_for("ticket_called")["counter_number"] == 3
        assert phone.wait_for("ticket_changed")["status"] == "called"
        page = requests.get(ticket["tracking_url"].replace("localhost", "127.0.0.1"), timeout=5)
        assert page.status_code == 200 and "A001" in page.text
    finally:
        phone.close()


def test_refused_socket_connection(server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={"token": "wrong"}, transports=["websocket"], wait_timeout=5)
