"""The booking engine (db/bookings.py, db/checkin.py) on a real SQLite file with a controlled clock."""

from datetime import timedelta

import pytest

from db import bookings, catalog, checkin, queue, tickets
from db.errors import Conflict, Invalid
from db.identity import check_nik, mask_phone, normalise_phone
from tests.conftest import MORNING

SECRET = "test-secret"


@pytest.fixture
def bw(world):
    """The small MPP; KTP-el (08:00-12:00) and KK take bookings with the default settings."""
    world.conn.execute("UPDATE services SET opens_at = '08:00', closes_at = '12:00'")
    bookings.put_settings(world.conn, world.ktp, {"enabled": True})
    bookings.put_settings(world.conn, world.kk, {"enabled": True})
    return world


def at(hh, mm=0, ss=0, days=0):
    """An ISO time on the test's day (Tuesday 24 November 2026, WIB)."""
    return (MORNING + timedelta(days=days)).replace(hour=hh, minute=mm, second=ss).isoformat()


def ts(hh, mm=0, ss=0, days=0):
    return (MORNING + timedelta(days=days)).replace(hour=hh, minute=mm, second=ss).timestamp()


def book(w, start, phone="081234567890", service=None, nik=None, name="Siti"):
    return bookings.book(w.conn, w.clock, service or w.ktp, start, name, phone, nik=nik,
                         secret=SECRET).booking


def refused(fn, *args, **kw):
    with pytest.raises(Conflict) as exc:
        fn(*args, **kw)
    return exc.value.code


# -- phone and NIK -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "081234567890", "0812-3456-7890", "0812 3456 7890", "(0812) 3456-7890", "6281234567890",
    "62 812 3456 7890", "+6281234567890", "+62 812-3456-7890",
], ids=["08-plain", "08-dashes", "08-spaces", "08-brackets", "62-plain", "62-spaces",
        "plus62-plain", "plus62-dashes"])
def test_phone_forms_are_one_number(text):
    assert normalise_phone(text) == "+6281234567890"


@pytest.mark.parametrize("text", [
    "", "   ", "abc", "0812", "08123456789012345678", "021-5551234", "+62 21 5551234",
    "+1 650 253 0000", "+44 7911 123456", "0812-3456-789x",
], ids=["empty", "blank", "letters", "too-short", "too-long", "jakarta-landline",
        "landline-plus62", "us-number", "uk-mobile", "trailing-letter"])
def test_bad_or_non_mobile_phone_is_a_sentence(text):
    with pytest.raises(Invalid) as exc:
        normalise_phone(text)
    sentence = exc.value.fields["phone"]
    assert sentence.endswith(".") and "0812" in sentence


def test_phone_is_masked():
    assert mask_phone("+6281234565678") == "0812****5678"


@pytest.mark.parametrize("nik", [
    "3201011505900001",  # a man born 15-05-1990 in Jawa Barat
    "3201015505900002",  # a woman: day + 40
    "3171072902000003",  # 29 February 2000
    "9601010101010004",  # Papua Barat Daya (2022)
    "1101017112990005",  # a woman born 31 December (71 = 31 + 40)
], ids=["man", "woman-plus-40", "leap-day", "new-papuan-province", "woman-31-dec"])
def test_nik_of_the_right_shape(nik):
    assert check_nik(nik) == nik


@pytest.mark.parametrize("nik", [
    "320101150590001", "32010115059000011", "32010115059O0001", "2001011505900001",
    "9901011505900001", "3200011505900001", "3201003205900001", "3201011513900001",
    "3201013002900001", "3201017205900001", "3201010005900001", "3201011505900000", "",
], ids=["15-digits", "17-digits", "letter-O", "no-province-20", "no-province-99", "regency-00",
        "day-32", "month-13", "30-february", "woman-day-72", "day-00", "serial-0000", "empty"])
def test_nik_rules(nik):
    with pytest.raises(Invalid) as exc:
        check_nik(nik)
    assert exc.value.fields["nik"].endswith(".")


# -- booking ---------------------------------------------------------------------------

def test_the_nik_is_never_stored_in_clear(bw):
    b = book(bw, at(10, days=1), nik="3201011505900001")
    assert b["nik"] == "************0001"
    row = dict(bw.conn.execute("SELECT * FROM bookings").fetchone())
    assert "3201011505900001" not in repr(row)
    assert row["nik_last4"] == "0001" and len(row["nik_hash"]) == 64


@pytest.mark.parametrize("second", [
    {"phone": "0812-3456-7890"}, {"phone": "+62 812 3456 7890"},
    {"phone": "081299998888", "nik": "3201011505900001"},
], ids=["same-phone-08", "same-phone-plus62", "same-nik-other-phone"])
def test_one_live_booking_per_phone_and_nik_per_service_and_day(bw, second):
    book(bw, at(9, 30, days=1), phone="6281234567890", nik="3201011505900001")
    assert refused(book, bw, at(11, days=1), **second) == "booking_limit"
    # Another day, another service: allowed.
    book(bw, at(11, days=2), **second)
    book(bw, at(11, days=1), service=bw.kk, **second)


def test_a_cancelled_booking_frees_the_limit(bw):
    code = book(bw, at(9, 30, days=1))["code"]
    bookings.cancel(bw.conn, bw.clock, code)
    assert book(bw, at(10, days=1))["status"] == "booked"


@pytest.mark.parametrize("start,why", [
    (lambda: at(8, 30), "begun"),
    (lambda: at(9, 10, days=1), "not-a-slot-start"),
    (lambda: at(12, 0, days=1), "closing-time"),
    (lambda: at(10, days=15), "past-days-ahead"),
    (lambda: at(10, days=-1), "yesterday"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_booking_closed(bw, start, why):
    assert refused(book, bw, start()) == "booking_closed"


def test_booking_closed_when_off_or_holiday(bw):
    bookings.put_settings(bw.conn, bw.kk, {"enabled": False})
    assert refused(book, bw, at(10, days=1), service=bw.kk) == "booking_closed"
    bw.conn.execute("INSERT INTO holidays (day, name) VALUES (?, 'Libur')",
                    ((MORNING + timedelta(days=2)).date().isoformat(),))
    assert refused(book, bw, at(10, days=2)) == "booking_closed"
    assert bookings.list_slots(bw.conn, bw.clock, bw.ktp,
                               (MORNING + timedelta(days=2)).date().isoformat()) == []


def test_nik_required_by_the_service(bw):
    bookings.put_settings(bw.conn, bw.ktp, {"enabled": True, "nik_required": True})
    with pytest.raises(Invalid) as exc:
        book(bw, at(10, days=1))
    assert "NIK" in exc.value.fields["nik"]
    assert book(bw, at(10, days=1), nik="3201011505900001")["status"] == "booked"


def test_slots_follow_the_weekly_hours(bw):
    import json

    # Tuesday 08:00-09:00, Wednesday closed.
    bw.conn.execute("UPDATE services SET hours = ? WHERE id = ?",
                    (json.dumps({"2": ["08:00", "09:00"], "3": None}), bw.ktp))
    today = bookings.list_slots(bw.conn, bw.clock, bw.ktp, MORNING.date().isoformat())
    assert [(s["start"][11:16], s["open"]) for s in today] == [("08:00", False), ("08:30", False)]
    tomorrow = (MORNING + timedelta(days=1)).date().isoformat()
    assert bookings.list_slots(bw.conn, bw.clock, bw.ktp, tomorrow) == []


def test_slot_full_after_the_seats(bw):
    book(bw, at(10, days=1), phone="081200000001")
    book(bw, at(10, days=1), phone="081200000002")
    assert refused(book, bw, at(10, days=1), phone="081200000003") == "slot_full"


# -- release delay -------------------------------------------------------------------------

@pytest.mark.parametrize("wait_s,outcome", [(0, "slot_full"), (14 * 60 + 59, "slot_full"),
                                            (15 * 60, "booked")],
                         ids=["at-once", "a-second-early", "after-15-minutes"])
def test_a_cancelled_seat_comes_back_after_the_release_delay(bw, wait_s, outcome):
    bookings.put_settings(bw.conn, bw.ktp, {"enabled": True, "seats_per_slot": 1})
    day = (MORNING + timedelta(days=1)).date().isoformat()
    code = book(bw, at(10, days=1), phone="081200000001")["code"]
    bookings.cancel(bw.conn, bw.clock, code)
    bw.clock.advance(wait_s)
    left = {s["start"]: s["left"] for s in bookings.list_slots(bw.conn, bw.clock, bw.ktp, day)}
    assert left[at(10, days=1)] == (1 if outcome == "booked" else 0)
    if outcome == "booked":
        assert book(bw, at(10, days=1), phone="081200000002")["status"] == "booked"
    else:
        assert refused(book, bw, at(10, days=1), phone="081200000002") == outcome


def test_release_delay_is_an_mpp_setting(bw):
    bookings.put_mpp_settings(bw.conn, {"release_delay_minutes": 0})
    bookings.put_settings(bw.conn, bw.ktp, {"enabled": True, "seats_per_slot": 1})
    bookings.cancel(bw.conn, bw.clock, book(bw, at(10, days=1), phone="081200000001")["code"])
    assert book(bw, at(10, days=1), phone="081200000002")["status"] == "booked"


@pytest.mark.parametrize("state,code", [("checked_in", "already_checked_in"), ("missed", "booking_missed"),
                                        ("begun", "booking_past")],
                         ids=["checked-in", "missed", "slot-begun"])
def test_cancel_refused(bw, state, code):
    b = book(bw, at(10))
    if state == "checked_in":
        bw.clock.set(ts(9, 45))
        checkin.check_in(bw.conn, bw.clock, b["code"])
    elif state == "missed":
        bw.clock.set(ts(10, 16))
    else:
        bw.clock.set(ts(10, 5))
    assert refused(bookings.cancel, bw.conn, bw.clock, b["code"]) == code


def test_cancel_twice_answers_the_cancelled_booking(bw):
    code = book(bw, at(10, days=1))["code"]
    bookings.cancel(bw.conn, bw.clock, code)
    again = bookings.cancel(bw.conn, bw.clock, code)
    assert again.booking["status"] == "cancelled" and again.replayed


# -- check-in ---------------------------------------------------------------------------------

@pytest.mark.parametrize("when,outcome", [
    ((9, 29, 59), "too_early"), ((9, 30, 0), "ok"), ((10, 0, 0), "ok"),
    ((10, 15, 0), "ok"), ((10, 15, 1), "too_late"),
], ids=["a-second-before-early", "exactly-early", "at-the-slot", "exactly-late", "a-second-past-late"])
def test_check_in_window_edges(bw, when, outcome):
    code = book(bw, at(10))["code"]
    bw.clock.set(ts(*when))
    if outcome == "ok":
        ticket = checkin.check_in(bw.conn, bw.clock, code).ticket
        assert ticket["booking_code"] == code and ticket["slot_start"] == at(10)
        assert bookings.get_booking(bw.conn, bw.clock, code)["status"] == "checked_in"
    else:
        with pytest.raises(Conflict) as exc:
            checkin.check_in(bw.conn, bw.clock, code)
        assert exc.value.code == outcome
        if outcome == "too_early":
            assert "09:30" in exc.value.message
        else:
            assert "normal ticket" in exc.value.message


def test_check_in_on_another_day_is_not_today(bw):
    code = book(bw, at(10, days=1))["code"]
    with pytest.raises(Conflict) as exc:
        checkin.check_in(bw.conn, bw.clock, code)
    assert exc.value.code == "not_today" and "25-11-2026" in exc.value.message


def test_check_in_of_a_cancelled_booking(bw):
    code = book(bw, at(10))["code"]
    bookings.cancel(bw.conn, bw.clock, code)
    bw.clock.set(ts(9, 45))
    assert refused(checkin.check_in, bw.conn, bw.clock, code) == "booking_cancelled"


def test_codes_are_read_as_typed(bw):
    code = book(bw, at(10))["code"]
    bw.clock.set(ts(9, 45))
    typed = f" {code[:4].lower()}-{code[4:]} "
    assert checkin.check_in(bw.conn, bw.clock, typed).ticket["booking_code"] == code


def test_idempotent_check_in(bw):
    code = book(bw, at(10))["code"]
    bw.clock.set(ts(9, 45))
    first = checkin.check_in(bw.conn, bw.clock, code, idempotency_key="k1")
    again = checkin.check_in(bw.conn, bw.clock, code, idempotency_key="k1")
    assert again.replayed and again.ticket["id"] == first.ticket["id"]
    assert tickets.issue(bw.conn, bw.clock, bw.ktp).ticket["number"] == "A002"


def test_check_in_takes_the_service_sequence(bw):
    tickets.issue(bw.conn, bw.clock, bw.ktp)
    code = book(bw, at(9, 30))["code"]
    assert checkin.check_in(bw.conn, bw.clock, code).ticket["number"] == "A002"
    assert tickets.issue(bw.conn, bw.clock, bw.ktp).ticket["number"] == "A003"


# -- missed -----------------------------------------------------------------------------------

def test_missed_at_read_then_marked_by_the_roll_over(bw):
    code = book(bw, at(10))["code"]
    bw.clock.set(ts(10, 15, 1))
    assert bookings.get_booking(bw.conn, bw.clock, code)["status"] == "missed"
    assert bw.conn.execute("SELECT status FROM bookings").fetchone()[0] == "booked"
    change = bookings.housekeep(bw.conn, bw.clock)
    assert [(e, b["code"]) for e, b in change.booking_events] == [("booking.missed", code)]
    assert bw.conn.execute("SELECT status FROM bookings").fetchone()[0] == "missed"
    assert refused(checkin.check_in, bw.conn, bw.clock, code) == "too_late"
    assert bookings.housekeep(bw.conn, bw.clock).booking_events == []


def test_personal_data_is_purged_after_the_keeping_time(bw):
    b = book(bw, at(10))
    bw.clock.set(ts(10, 30, days=30))
    bookings.housekeep(bw.conn, bw.clock)
    assert bw.conn.execute("SELECT phone FROM bookings").fetchone()[0] is not None
    bw.clock.set(ts(10, 31, days=31))
    bookings.housekeep(bw.conn, bw.clock)
    row = bw.conn.execute("SELECT name, phone, nik_hash, status FROM bookings").fetchone()
    assert tuple(row) == (None, None, None, "missed")
    assert bookings.get_booking(bw.conn, bw.clock, b["code"])["phone"] is None


# -- quota --------------------------------------------------------------------------------------

def test_the_days_bookings_are_held_out_of_the_quota(bw):
    bw.conn.execute("UPDATE services SET daily_quota = 3 WHERE id = ?", (bw.ktp,))
    b1 = book(bw, at(10), phone="081200000001")["code"]
    b2 = book(bw, at(10, 30), phone="081200000002")["code"]
    quota_left = lambda: catalog.list_services(bw.conn, bw.clock)[0]["quota_left"]  # noqa: E731
    assert quota_left() == 1
    tickets.issue(bw.conn, bw.clock, bw.ktp)
    assert quota_left() == 0
    assert refused(tickets.issue, bw.conn, bw.clock, bw.ktp) == "quota_exhausted"
    # A check-in is never refused for the quota, and does not change what walk-ins have left.
    bw.clock.set(ts(9, 45))
    checkin.check_in(bw.conn, bw.clock, b1)
    assert quota_left() == 0
    bw.clock.set(ts(10, 5))
    checkin.check_in(bw.conn, bw.clock, b2)
    assert quota_left() == 0
    assert refused(tickets.issue, bw.conn, bw.clock, bw.ktp) == "quota_exhausted"


def test_a_missed_or_cancelled_booking_gives_its_quota_back(bw):
    bw.conn.execute("UPDATE services SET daily_quota = 2 WHERE id = ?", (bw.ktp,))
    book(bw, at(10), phone="081200000001")
    code = book(bw, at(11), phone="081200000002")["code"]
    assert refused(tickets.issue, bw.conn, bw.clock, bw.ktp) == "quota_exhausted"
    bookings.cancel(bw.conn, bw.clock, code)
    tickets.issue(bw.conn, bw.clock, bw.ktp)
    assert refused(tickets.issue, bw.conn, bw.clock, bw.ktp) == "quota_exhausted"
    bw.clock.set(ts(10, 15, 1))  # the 10:00 booking is missed now
    assert tickets.issue(bw.conn, bw.clock, bw.ktp).ticket["number"] == "A002"


# -- the calling order ------------------------------------------------------------------------------

@pytest.fixture
def line(bw):
    """Five citizens in KTP-el's line, counter 2 (KTP only) open; check-in from 90 minutes before."""
    bookings.put_settings(bw.conn, bw.ktp, {"enabled": True, "check_in_early_minutes": 90})
    due = book(bw, at(10), phone="081200000001")["code"]
    early = book(bw, at(10, 30), phone="081200000002")["code"]
    made = {}
    for when, name in [((9, 0), "walk-in-09:00"), ((9, 5), "booking-10:30"),
                       ((9, 10), "booking-10:00"), ((9, 15), "walk-in-09:15"),
                       ((9, 20), "priority-09:20")]:
        bw.clock.set(ts(*when))
        if name == "booking-10:30":
            t = checkin.check_in(bw.conn, bw.clock, early).ticket
        elif name == "booking-10:00":
            t = checkin.check_in(bw.conn, bw.clock, due).ticket
        else:
            t = tickets.issue(bw.conn, bw.clock, bw.ktp,
                              priority_kind="lansia" if name.startswith("priority") else None).ticket
        made[t["id"]] = name
    tickets.open_counter(bw.conn, bw.clock, bw.c2)
    bw.names = made
    return bw


@pytest.mark.parametrize("now,order", [
    ((9, 30), ["priority-09:20", "walk-in-09:00", "booking-10:30", "booking-10:00", "walk-in-09:15"]),
    ((10, 0), ["priority-09:20", "booking-10:00", "walk-in-09:00", "booking-10:30", "walk-in-09:15"]),
    ((10, 30), ["priority-09:20", "booking-10:00", "booking-10:30", "walk-in-09:00", "walk-in-09:15"]),
], ids=["before-any-slot", "first-slot-due", "both-slots-due"])
def test_calling_order(line, now, order):
    line.clock.set(ts(*now))
    listed = [line.names[t["id"]] for t in queue.waiting_list(line.conn, line.clock, [line.ktp])]
    assert listed == order
    places = {line.names[t["id"]]: queue.get_ticket(line.conn, line.clock, t["id"])["ahead"]
              for t in queue.waiting_list(line.conn, line.clock, [line.ktp])}
    assert [places[n] for n in order] == list(range(len(order)))
    called = []
    for _ in order:
        called.append(line.names[tickets.call_next(line.conn, line.clock, line.c2).ticket["id"]])
        tickets.start(line.conn, line.clock, line.c2)
        tickets.finish(line.conn, line.clock, line.c2)
    assert called == order


def test_a_due_booking_of_another_service_goes_before_an_earlier_walk_in(bw):
    # Counter 1 serves KTP-el and KK.
    bw.clock.set(ts(9, 0))
    walk_in = tickets.issue(bw.conn, bw.clock, bw.ktp).ticket
    code = book(bw, at(9, 30), service=bw.kk)["code"]
    bw.clock.set(ts(9, 10))
    booked = checkin.check_in(bw.conn, bw.clock, code).ticket
    tickets.open_counter(bw.conn, bw.clock, bw.c1)
    bw.clock.set(ts(9, 30))
    assert tickets.call_next(bw.conn, bw.clock, bw.c1).ticket["id"] == booked["id"]
    tickets.start(bw.conn, bw.clock, bw.c1)
    tickets.finish(bw.conn, bw.clock, bw.c1)
    assert tickets.call_next(bw.conn, bw.clock, bw.c1).ticket["id"] == walk_in["id"]


def test_recall_no_show_and_transfer_of_a_booking_ticket(bw):
    code = book(bw, at(9, 30))["code"]
    ticket = checkin.check_in(bw.conn, bw.clock, code).ticket
    tickets.open_counter(bw.conn, bw.clock, bw.c2)
    bw.clock.set(ts(9, 30))
    assert tickets.call_next(bw.conn, bw.clock, bw.c2).ticket["id"] == ticket["id"]
    assert tickets.recall(bw.conn, bw.clock, bw.c2).ticket["call_count"] == 2
    assert tickets.no_show(bw.conn, bw.clock, bw.c2).ticket["status"] == "no_show"
    again = tickets.call_ticket(bw.conn, bw.clock, bw.c2, ticket["id"]).ticket
    assert again["booking_code"] == code
    # Transferred, it is a normal ticket of its new line: behind an earlier walk-in there.
    bw.clock.set(ts(9, 31))
    kk_walk_in = tickets.issue(bw.conn, bw.clock, bw.kk).ticket
    bw.clock.advance(1)
    moved = tickets.transfer(bw.conn, bw.clock, bw.c2, bw.kk, "last").ticket
    assert moved["booking_code"] == code and moved["status"] == "waiting"
    tickets.open_counter(bw.conn, bw.clock, bw.c1)
    assert tickets.call_next(bw.conn, bw.clock, bw.c1).ticket["id"] == kk_walk_in["id"]


def test_walk_in_estimate_counts_the_bookings_due_before_it(bw):
    bw.clock.set(ts(8, 50))
    tickets.open_counter(bw.conn, bw.clock, bw.c2)
    before = catalog.list_services(bw.conn, bw.clock)[0]["estimated_wait_s"]
    for n in range(2):
        book(bw, at(9), phone=f"08120000000{n}")
    bw.clock.set(ts(8, 58))
    tickets.issue(bw.conn, bw.clock, bw.ktp)
    walk_in = tickets.issue(bw.conn, bw.clock, bw.ktp).ticket
    # One walk-in ahead, and two booked citizens due at 09:00 (before this one's call at
    # about 09:03), at 300 s each (c1 closed, c2 open).
    assert before == 0
    assert walk_in["estimated_wait_s"] == 3 * 300
    far = book(bw, at(11, 30), phone="081200000009")
    assert far and queue.get_ticket(bw.conn, bw.clock, walk_in["id"])["estimated_wait_s"] == 900


def test_an_early_booking_ticket_is_estimated_from_its_slot_behind_a_long_line(bw):
    tickets.open_counter(bw.conn, bw.clock, bw.c2)
    code = book(bw, at(10))["code"]
    bw.clock.set(ts(9, 20))
    for _ in range(10):
        tickets.issue(bw.conn, bw.clock, bw.ktp)
    bw.clock.set(ts(9, 30))
    ticket = checkin.check_in(bw.conn, bw.clock, code).ticket
    # Ten walk-ins at 300 s on one counter would take 50 minutes; the slot starts in 30.
    assert ticket["ahead"] == 10
    assert ticket["estimated_wait_s"] == 30 * 60


@pytest.mark.parametrize("zone,offset", [("Asia/Jakarta", "+07:00"), ("Asia/Makassar", "+08:00"),
                                         ("Asia/Jayapura", "+09:00")], ids=["WIB", "WITA", "WIT"])
def test_slots_and_check_in_run_on_the_mpps_zone(conn, zone, offset):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from db.clock import FixedClock

    # 22:30 UTC on the 23rd is already the morning of the 24th in every Indonesian zone.
    clock = FixedClock(zone, datetime(2026, 11, 23, 22, 30, tzinfo=ZoneInfo("UTC")).timestamp())
    agency = catalog.create_agency(conn, "D", "Dukcapil")["id"]
    service = catalog.create_service(conn, clock, agency, "A", "KTP", opens_at="08:00",
                                     closes_at="12:00")["id"]
    bookings.put_settings(conn, service, {"enabled": True})
    slots = bookings.list_slots(conn, clock, service, "2026-11-24")
    assert slots[0]["start"] == f"2026-11-24T08:00:00{offset}"
    with pytest.raises(Invalid):
        bookings.list_slots(conn, clock, service, "2026-11-23")  # yesterday there, today in UTC
    code = bookings.book(conn, clock, service, slots[1]["start"], "Siti", "081234567890",
                         secret=SECRET).booking["code"]
    clock.set(datetime.fromisoformat(f"2026-11-24T08:00:00{offset}"))  # the 08:30 slot's window opens
    assert checkin.check_in(conn, clock, code).ticket["service_day"] == "2026-11-24"
