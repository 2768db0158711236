"""Bookings against a real gunicorn (gunicorn.conf.py, wsgi:app): races for the last seats,
and a restart in the middle of a day with bookings, on a shifted clock (MPP_CLOCK_OFFSET_S)."""

import sqlite3
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from conftest import Server, offset_to

pytestmark = pytest.mark.server

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = datetime(2026, 11, 24, tzinfo=JAKARTA)  # a Tuesday


def setup(srv, **settings):
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "DUKCAPIL", "name": "Dukcapil"}).json()
    service = admin.post(url + "/services", json={"agency_id": agency["id"], "prefix": "A",
                                                  "name": "KTP-el", "opens_at": "08:00",
                                                  "closes_at": "15:00"}).json()
    counter = admin.post(url + "/counters", json={"agency_id": agency["id"], "number": 1,
                                                  "service_ids": [service["id"]]}).json()
    kiosk = admin.post(url + "/devices", json={"kind": "kiosk", "name": "Kiosk"}).json()["token"]
    r = admin.put(url + f"/services/{service['id']}/booking", json={"enabled": True, **settings})
    assert r.status_code == 200, r.text
    return admin, service["id"], counter["id"], kiosk


def race(url, bodies):
    """POST every body at once from its own thread; the answers in order."""
    barrier = threading.Barrier(len(bodies))
    answers = [None] * len(bodies)

    def run(i):
        with requests.Session() as s:
            barrier.wait()
            r = s.post(url + "/bookings", json=bodies[i], timeout=30)
            answers[i] = (r.status_code, r.json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


@pytest.mark.parametrize("seats,taken", [(5, 2), (1, 0)], ids=["3-of-5-left", "the-only-seat"])
def test_twenty_citizens_race_for_the_last_seats(tmp_path, seats, taken):
    srv = Server(tmp_path / "mpp.db").start()
    try:
        _, service, _, _ = setup(srv, seats_per_slot=seats)
        url = srv.url + "/api/v1"
        tomorrow = (datetime.now(JAKARTA) + timedelta(days=1)).date().isoformat()
        start = f"{tomorrow}T10:00:00+07:00"
        for n in range(taken):
            r = requests.post(url + "/bookings", json={"service_id": service, "start": start,
                                                       "name": f"Awal {n}", "phone": f"0811000000{n:02d}"})
            assert r.status_code == 201, r.text
        bodies = [{"service_id": service, "start": start, "name": f"Warga {n}",
                   "phone": f"0812555500{n:02d}"} for n in range(20)]
        answers = race(url, bodies)
        won = [a for a in answers if a[0] == 201]
        assert len(won) == seats - taken
        assert {(s, b["error"]["code"]) for s, b in answers if s != 201} == {(409, "slot_full")}
        slot = [s for s in requests.get(url + f"/services/{service}/slots?date={tomorrow}").json()
                if s["start"] == start]
        assert slot[0]["left"] == 0
        db = sqlite3.connect(tmp_path / "mpp.db")
        seats_held = sorted(r[0] for r in db.execute("SELECT seat FROM bookings WHERE status = 'booked'"))
        assert seats_held == list(range(1, seats + 1))
        db.close()
    finally:
        srv.stop()


def test_one_phone_racing_for_many_slots_gets_one(tmp_path):
    srv = Server(tmp_path / "mpp.db").start()
    try:
        _, service, _, _ = setup(srv)
        url = srv.url + "/api/v1"
        tomorrow = (datetime.now(JAKARTA) + timedelta(days=1)).date().isoformat()
        forms = ["081234567890", "6281234567890", "+62 812-3456-7890", "0812 3456 7890"]
        bodies = [{"service_id": service, "start": f"{tomorrow}T{8 + n // 2:02d}:{30 * (n % 2):02d}:00+07:00",
                   "name": "Calo", "phone": forms[n % 4]} for n in range(12)]
        answers = race(url, bodies)
        assert sum(1 for s, _ in answers if s == 201) == 1
        assert {b["error"]["code"] for s, b in answers if s != 201} == {"booking_limit"}
    finally:
        srv.stop()


def test_a_restart_in_the_middle_of_a_day_with_bookings(tmp_path):
    db = tmp_path / "mpp.db"
    srv = Server(db, env={"MPP_CLOCK_OFFSET_S": offset_to(DAY.replace(hour=9))}).start()
    try:
        admin, service, counter, kiosk_token = setup(srv)
        url = srv.url + "/api/v1"
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {kiosk_token}"
        assert requests.get(url + "/health").json()["service_day"] == "2026-11-24"
        due = requests.post(url + "/bookings", json={"service_id": service, "start": "2026-11-24T09:30:00+07:00",
                                                     "name": "Siti", "phone": "081200000001"}).json()
        later = requests.post(url + "/bookings", json={"service_id": service, "start": "2026-11-24T10:30:00+07:00",
                                                       "name": "Budi", "phone": "081200000002"}).json()
        walk_in = kiosk.post(url + "/tickets", json={"service_id": service}).json()
        checked = kiosk.post(url + f"/bookings/{due['code']}/check-in")
        assert checked.status_code == 201, checked.text
        assert checked.json()["number"] == "A002" and checked.json()["booking_code"] == due["code"]

        # SIGTERM; the server comes back at 09:31, when the 09:30 slot has started.
        assert srv.stop() == 0
        srv.env["MPP_CLOCK_OFFSET_S"] = offset_to(DAY.replace(hour=9, minute=31))
        srv.start()
        assert requests.get(url + f"/bookings/{due['code']}").json()["status"] == "checked_in"
        assert requests.get(url + f"/bookings/{later['code']}").json()["status"] == "booked"
        second_walk_in = kiosk.post(url + "/tickets", json={"service_id": service}).json()
        assert second_walk_in["number"] == "A003"
        r = kiosk.post(url + f"/bookings/{later['code']}/check-in")
        assert r.status_code == 409 and r.json()["error"]["code"] == "too_early"
        assert "10:00" in r.json()["error"]["message"]
        assert admin.post(url + f"/counters/{counter}/open").status_code == 200
        order = []
        for _ in range(3):
            order.append(admin.post(url + f"/counters/{counter}/call-next",
                                    json={"finish_current": True}).json()["number"])
            # The citizen comes up: the next press may finish them (the finish guard).
            assert admin.post(url + f"/counters/{counter}/start").status_code == 200
        assert order == ["A002", walk_in["number"], "A003"]

        # Back again after the 10:30 slot's check-in window: the roll-over marks it missed.
        srv.stop()
        srv.env["MPP_CLOCK_OFFSET_S"] = offset_to(DAY.replace(hour=10, minute=46))
        srv.start()
        assert requests.get(url + f"/bookings/{later['code']}").json()["status"] == "missed"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            row = sqlite3.connect(db).execute("SELECT status FROM bookings WHERE code = ?",
                                              (later["code"],)).fetchone()
            if row[0] == "missed":
                break
            time.sleep(0.5)
        assert row[0] == "missed"
        r = kiosk.post(url + f"/bookings/{later['code']}/check-in")
        assert r.status_code == 409 and r.json()["error"]["code"] == "too_late"
        listing = admin.get(url + f"/bookings?date=2026-11-24&service_id={service}").json()
        assert [(b["code"], b["status"], b["ticket_number"]) for b in listing] == [
            (due["code"], "checked_in", "A002"), (later["code"], "missed", None)]
    finally:
        srv.stop()
