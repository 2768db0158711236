"""The booking API of shared/API.md "Bookings", through the app (Flask test client, real SQLite)."""

from datetime import datetime, timedelta

import pytest

from tests.conftest import MORNING, login

PHONE = "0812-3456-7890"
TOMORROW = (MORNING + timedelta(days=1)).date().isoformat()


@pytest.fixture
def booking_api(api):
    """The small MPP with KTP-el taking bookings, 08:00-12:00 every day."""
    admin = login(api.app, "admin")
    r = admin.patch(f"/api/v1/services/{api.ktp}", json={"opens_at": "08:00", "closes_at": "12:00"})
    assert r.status_code == 200, r.json
    r = admin.put(f"/api/v1/services/{api.ktp}/booking", json={"enabled": True})
    assert r.status_code == 200, r.json
    api.admin = admin
    api.kiosk = {"Authorization": f"Bearer {api.people.kiosk_token}"}
    return api


def book(client, service_id, start, phone=PHONE, name="Siti Aminah", **extra):
    return client.post("/api/v1/bookings", json={"service_id": service_id, "start": start,
                                                 "name": name, "phone": phone, **extra})


def test_settings_take_the_contract_defaults(api):
    admin = login(api.app, "admin")
    r = admin.put(f"/api/v1/services/{api.ktp}/booking", json={"enabled": True})
    assert r.status_code == 200
    assert {k: r.json[k] for k in ("enabled", "slot_minutes", "seats_per_slot", "days_ahead",
                                   "check_in_early_minutes", "check_in_late_minutes")} == {
        "enabled": True, "slot_minutes": 30, "seats_per_slot": 2, "days_ahead": 14,
        "check_in_early_minutes": 30, "check_in_late_minutes": 15}


def test_settings_are_for_admins_only(api):
    officer = login(api.app, "officer")
    assert officer.put(f"/api/v1/services/{api.ktp}/booking", json={"enabled": True}).status_code == 403
    assert api.app.test_client().put(f"/api/v1/services/{api.ktp}/booking",
                                     json={"enabled": True}).status_code == 401


def test_slots_are_cut_from_the_hours(booking_api):
    c = booking_api.app.test_client()
    r = c.get(f"/api/v1/services/{booking_api.ktp}/slots?date={TOMORROW}")
    assert r.status_code == 200
    assert len(r.json) == 8  # 08:00-12:00 in 30-minute slots
    assert r.json[0]["start"] == f"{TOMORROW}T08:00:00+07:00"
    assert r.json[0]["end"] == f"{TOMORROW}T08:30:00+07:00"
    assert r.json[-1]["end"] == f"{TOMORROW}T12:00:00+07:00"
    assert {(s["seats"], s["left"]) for s in r.json} == {(2, 2)}


@pytest.mark.parametrize("offset,status", [(-1, 400), (0, 200), (14, 200), (15, 400)],
                         ids=["yesterday", "today", "last-day-ahead", "past-days-ahead"])
def test_slots_days_range(booking_api, offset, status):
    day = (MORNING + timedelta(days=offset)).date().isoformat()
    r = booking_api.app.test_client().get(f"/api/v1/services/{booking_api.ktp}/slots?date={day}")
    assert r.status_code == status, r.json


def test_slots_404_when_the_service_takes_no_bookings(booking_api):
    r = booking_api.app.test_client().get(f"/api/v1/services/{booking_api.kk}/slots?date={TOMORROW}")
    assert r.status_code == 404


def test_book_get_cancel(booking_api):
    c = booking_api.app.test_client()
    start = f"{TOMORROW}T09:00:00+07:00"
    r = book(c, booking_api.ktp, start)
    assert r.status_code == 201, r.json
    b = r.json
    assert b["status"] == "booked" and b["start"] == start and b["end"] == f"{TOMORROW}T09:30:00+07:00"
    assert len(b["code"]) == 8 and not set(b["code"]) & set("0O1IL")
    assert b["phone"] == "0812****7890"
    assert b["booking_url"].endswith(f"/b/{b['code']}")
    assert c.get(f"/api/v1/bookings/{b['code']}").json["status"] == "booked"
    slots = c.get(f"/api/v1/services/{booking_api.ktp}/slots?date={TOMORROW}").json
    assert [s["left"] for s in slots if s["start"] == start] == [1]
    r = c.post(f"/api/v1/bookings/{b['code']}/cancel")
    assert r.status_code == 200 and r.json["status"] == "cancelled"


def test_check_in_issues_a_ticket_with_the_booking(booking_api):
    c = booking_api.app.test_client()
    start = MORNING.replace(hour=9, minute=30).isoformat()
    code = book(c, booking_api.ktp, start).json["code"]
    r = c.post(f"/api/v1/bookings/{code}/check-in", headers=booking_api.kiosk)
    assert r.status_code == 201, r.json
    assert r.json["booking_code"] == code and r.json["number"] == "A001"
    assert r.json["slot_start"] == start
    r = c.post(f"/api/v1/bookings/{code}/check-in", headers=booking_api.kiosk)
    assert r.status_code == 409 and r.json["error"]["code"] == "already_checked_in"


def test_staff_list_their_agency_bookings(booking_api):
    c = booking_api.app.test_client()
    book(c, booking_api.ktp, f"{TOMORROW}T09:00:00+07:00")
    officer = login(booking_api.app, "officer")
    r = officer.get(f"/api/v1/bookings?date={TOMORROW}&service_id={booking_api.ktp}")
    assert r.status_code == 200 and len(r.json) == 1 and r.json[0]["phone"] == "0812****7890"
    other = login(booking_api.app, "other")
    assert other.get(f"/api/v1/bookings?date={TOMORROW}&service_id={booking_api.ktp}").status_code == 403
