"""The booking API of shared/API.md "Bookings", through the app (Flask test client, real SQLite)."""

from datetime import timedelta

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


def test_bad_phone_is_400_with_a_sentence_and_nothing_booked(booking_api):
    c = booking_api.app.test_client()
    r = book(c, booking_api.ktp, f"{TOMORROW}T09:00:00+07:00", phone="021-5551234")
    assert r.status_code == 400
    assert r.json["error"]["code"] == "validation_error"
    assert "mobile" in r.json["error"]["fields"]["phone"]
    slots = c.get(f"/api/v1/services/{booking_api.ktp}/slots?date={TOMORROW}").json
    assert {s["left"] for s in slots} == {2}


@pytest.mark.parametrize("body,status,code", [
    ({"start": "besok pagi"}, 400, "validation_error"),
    ({"name": ""}, 400, "validation_error"),
    ({"nik": "1234"}, 400, "validation_error"),
    ({"service_id": 99999}, 404, "service_not_found"),
    ({"start": f"{TOMORROW}T09:10:00+07:00"}, 409, "booking_closed"),
], ids=["start-not-a-time", "no-name", "short-nik", "unknown-service", "not-a-slot"])
def test_booking_refusals(booking_api, body, status, code):
    full = {"service_id": booking_api.ktp, "start": f"{TOMORROW}T09:00:00+07:00",
            "name": "Budi", "phone": PHONE, **body}
    r = booking_api.app.test_client().post("/api/v1/bookings", json=full)
    assert r.status_code == status and r.json["error"]["code"] == code, r.json


def test_second_booking_of_the_same_phone_is_booking_limit(booking_api):
    c = booking_api.app.test_client()
    assert book(c, booking_api.ktp, f"{TOMORROW}T09:00:00+07:00", phone="+62 812-3456-7890").status_code == 201
    r = book(c, booking_api.ktp, f"{TOMORROW}T10:00:00+07:00", phone="6281234567890")
    assert r.status_code == 409 and r.json["error"]["code"] == "booking_limit"


def test_services_quota_left_holds_the_bookings(booking_api):
    booking_api.admin.patch(f"/api/v1/services/{booking_api.ktp}", json={"daily_quota": 5})
    c = booking_api.app.test_client()
    for n in range(2):
        assert book(c, booking_api.ktp, MORNING.replace(hour=10).isoformat(),
                    phone=f"08120000000{n}").status_code == 201
    services = {s["id"]: s for s in booking_api.admin.get("/api/v1/services").json}
    assert services[booking_api.ktp]["quota_left"] == 3
    assert services[booking_api.ktp]["booked_today"] == 2


def test_the_ticket_of_a_booking_carries_it(booking_api):
    c = booking_api.app.test_client()
    start = MORNING.replace(hour=9, minute=30).isoformat()
    code = book(c, booking_api.ktp, start).json["code"]
    ticket = c.post(f"/api/v1/bookings/{code}/check-in", headers=booking_api.kiosk).json
    public = c.get(f"/api/v1/tickets/{ticket['code']}").json
    assert public["booking_code"] == code and public["slot_start"] == start
    b = c.get(f"/api/v1/bookings/{code}").json
    assert b["status"] == "checked_in" and b["ticket_id"] == ticket["id"]


def test_idempotent_check_in_by_header(booking_api):
    c = booking_api.app.test_client()
    code = book(c, booking_api.ktp, MORNING.replace(hour=9, minute=30).isoformat()).json["code"]
    headers = {**booking_api.kiosk, "Idempotency-Key": "tap-1"}
    first = c.post(f"/api/v1/bookings/{code}/check-in", headers=headers)
    again = c.post(f"/api/v1/bookings/{code}/check-in", headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"] and first.json["number"] == again.json["number"]


@pytest.mark.parametrize("who,status", [("anonymous", 401), ("display", 403), ("officer", 201),
                                        ("other", 403)],
                         ids=["anonymous", "display", "officer-of-its-agency", "officer-of-another"])
def test_who_may_check_in(booking_api, who, status):
    c = booking_api.app.test_client()
    code = book(c, booking_api.ktp, MORNING.replace(hour=9, minute=30).isoformat()).json["code"]
    headers = {}
    if who == "display":
        headers = {"Authorization": f"Bearer {booking_api.people.display_token}"}
    elif who != "anonymous":
        c = login(booking_api.app, who)
    assert c.post(f"/api/v1/bookings/{code}/check-in", headers=headers).status_code == status


def test_check_in_refusal_says_when_to_come_back(booking_api):
    c = booking_api.app.test_client()
    code = book(c, booking_api.ktp, MORNING.replace(hour=11).isoformat()).json["code"]
    r = c.post(f"/api/v1/bookings/{code}/check-in", headers=booking_api.kiosk)
    assert r.status_code == 409 and r.json["error"]["code"] == "too_early"
    assert "10:30" in r.json["error"]["message"]


def test_unknown_codes_are_rate_limited_per_address(booking_api):
    booking_api.app.config["BOOKING_LOOKUP_MISSES"] = "3 per 10 minutes"
    c = booking_api.app.test_client()
    code = book(c, booking_api.ktp, f"{TOMORROW}T09:00:00+07:00").json["code"]
    for _ in range(3):
        assert c.get("/api/v1/bookings/ZZZZZZZZ").status_code == 404
    r = c.get("/api/v1/bookings/ZZZZZZZZ")
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_lookups"
    assert int(r.headers["Retry-After"]) >= 1
    assert c.get(f"/api/v1/bookings/{code}").status_code == 429
    # Another address is not affected; a kiosk never is.
    assert c.get(f"/api/v1/bookings/{code}",
                 environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    assert c.post("/api/v1/bookings/ZZZZZZZZ/check-in", headers=booking_api.kiosk).status_code == 404


def test_a_holiday_cancels_the_days_bookings_and_lists_them(booking_api):
    c = booking_api.app.test_client()
    code = book(c, booking_api.ktp, f"{TOMORROW}T09:00:00+07:00").json["code"]
    r = booking_api.admin.post("/api/v1/holidays", json={"day": TOMORROW, "name": "Cuti bersama"})
    assert r.status_code == 201, r.json
    affected = r.json["affected_bookings"]
    assert [b["code"] for b in affected] == [code] and affected[0]["phone"] == "0812****7890"
    assert c.get(f"/api/v1/bookings/{code}").json["status"] == "cancelled"
    assert c.get(f"/api/v1/services/{booking_api.ktp}/slots?date={TOMORROW}").json == []


def test_mpp_booking_settings(booking_api):
    r = booking_api.admin.put("/api/v1/booking-settings", json={"release_delay_minutes": 30})
    assert r.status_code == 200 and r.json == {"release_delay_minutes": 30, "purge_after_days": 30}
    officer = login(booking_api.app, "officer")
    assert officer.put("/api/v1/booking-settings", json={"release_delay_minutes": 0}).status_code == 403


def test_booking_routes_are_in_the_openapi_document(booking_api):
    spec = booking_api.app.test_client().get("/api/v1/openapi.json").json
    for path, method in [("/api/v1/services/{service_id}/booking", "put"),
                         ("/api/v1/services/{service_id}/slots", "get"),
                         ("/api/v1/bookings", "post"), ("/api/v1/bookings", "get"),
                         ("/api/v1/bookings/{code}", "get"), ("/api/v1/bookings/{code}/cancel", "post"),
                         ("/api/v1/bookings/{code}/check-in", "post")]:
        assert method in spec["paths"][path], path
    assert "booking_code" in spec["components"]["schemas"]["TicketOut"]["properties"]


@pytest.mark.parametrize("limited_to,status", [("dukcapil", 201), ("samsat", 403)],
                         ids=["kiosk-of-the-agency", "kiosk-of-another-agency"])
def test_a_kiosk_limited_to_agencies_checks_in_only_theirs(booking_api, limited_to, status):
    device = booking_api.admin.post("/api/v1/devices", json={"kind": "kiosk", "name": "Kiosk 2"}).json
    agency = booking_api.dukcapil if limited_to == "dukcapil" else booking_api.samsat
    r = booking_api.admin.patch(f"/api/v1/devices/{device['id']}", json={"agency_ids": [agency]})
    assert r.status_code == 200, r.json
    c = booking_api.app.test_client()
    code = book(c, booking_api.ktp, MORNING.replace(hour=9, minute=30).isoformat()).json["code"]
    r = c.post(f"/api/v1/bookings/{code}/check-in", headers={"Authorization": f"Bearer {device['token']}"})
    assert r.status_code == status, r.json


def test_staff_hear_booking_changes_with_the_phone_masked(booking_api):
    from web.events import socketio

    admin = login(booking_api.app, "admin")
    sio = socketio.test_client(booking_api.app, flask_test_client=admin)
    sio.get_received()
    c = booking_api.app.test_client()
    code = book(c, booking_api.ktp, f"{TOMORROW}T09:00:00+07:00").json["code"]
    c.post(f"/api/v1/bookings/{code}/cancel")
    events = [e["args"][0] for e in sio.get_received() if e["name"] == "booking_changed"]
    assert [(e["event"], e["booking"]["code"]) for e in events] == [
        ("booking.created", code), ("booking.cancelled", code)]
    assert {e["booking"]["phone"] for e in events} == {"0812****7890"}
    assert events[1]["reason"] == "holder"
    sio.disconnect()


@pytest.mark.parametrize("path", ["card.png", "booking.ics", "qr.svg"])
def test_an_unknown_codes_card_files_are_a_plain_404(api, path):
    r = api.app.test_client().get(f"/b/ZZZZZZZZ/{path}")
    assert r.status_code == 404
    assert r.mimetype == "text/plain" and r.get_data(as_text=True) == "not found"
