"""Booking events in the outbox, each in the write of its change: created, cancelled by the
citizen or by a holiday (with the reason), checked in, missed; the reminder at the MPP's lead
time and ticket.near, once each, on a controlled clock; and a reminder delivered to a real
receiver by the worker's scheduler."""

import json
from datetime import timedelta

import pytest

from db import admin as admin_db
from db import bookings, checkin, tickets
from db import webhooks as store
from db.errors import Conflict
from tests.conftest import MORNING
from webhook_receiver import Receiver, verify
from webhooks.worker import Deliverer

SECRET = "test-secret"
HOOK_SECRET = "rahasia-webhook-uji"
PHONE = "+6281234567890"


@pytest.fixture
def bw(world):
    """The small MPP; KTP-el (08:00-12:00) takes bookings; a webhook listens to everything."""
    world.conn.execute("UPDATE services SET opens_at = '08:00', closes_at = '12:00'")
    bookings.put_settings(world.conn, world.ktp, {"enabled": True})
    world.hook = store.create(world.conn, "http://192.0.2.10/wa", list(store.EVENTS), HOOK_SECRET)
    return world


def at(hh, mm=0, days=0):
    return (MORNING + timedelta(days=days)).replace(hour=hh, minute=mm).isoformat()


def ts(hh, mm=0, days=0):
    return (MORNING + timedelta(days=days)).replace(hour=hh, minute=mm).timestamp()


def book(w, start, phone="081234567890", name="Siti Aminah"):
    return bookings.book(w.conn, w.clock, w.ktp, start, name, phone, secret=SECRET).booking


def events(conn, name=None):
    rows = conn.execute("SELECT event, data FROM outbox ORDER BY id").fetchall()
    return [(r["event"], json.loads(r["data"])) for r in rows if name in (None, r["event"])]


def test_booking_created_carries_the_name_and_the_full_phone(bw):
    made = book(bw, at(10, 0, days=1))
    ((event, data),) = events(bw.conn)
    assert event == "booking.created"
    assert data["code"] == made["code"] and data["name"] == "Siti Aminah"
    assert data["phone"] == PHONE  # the full number: a WhatsApp gateway needs it
    assert made["phone"] != PHONE  # while the citizen's own answer stays masked
    assert data["start"] == at(10, 0, days=1) and data["status"] == "booked"


def test_cancelled_by_the_citizen_says_citizen(bw):
    made = book(bw, at(10, 0, days=1))
    bookings.cancel(bw.conn, bw.clock, made["code"])
    bookings.cancel(bw.conn, bw.clock, made["code"])  # a retried tap: nothing new
    cancelled = events(bw.conn, "booking.cancelled")
    assert len(cancelled) == 1
    assert cancelled[0][1]["reason"] == "citizen" and cancelled[0][1]["status"] == "cancelled"
    assert "cancel_reason" not in cancelled[0][1]


def test_a_holiday_set_later_cancels_each_booking_with_the_reason_holiday(bw):
    a = book(bw, at(10, 0, days=1))
    b = book(bw, at(10, 30, days=1), phone="081298765432", name="Budi")
    book(bw, at(10, 0, days=2), phone="081211112222", name="Citra")  # another day: untouched
    admin_db.set_holiday_and_cancel_bookings(bw.conn, bw.clock, (MORNING + timedelta(days=1)).date().isoformat(),
                                             "Cuti bersama")
    cancelled = events(bw.conn, "booking.cancelled")
    assert sorted(d["code"] for _, d in cancelled) == sorted([a["code"], b["code"]])
    assert {d["reason"] for _, d in cancelled} == {"holiday"}
    assert {d["phone"] for _, d in cancelled} == {PHONE, "+6281298765432"}


def test_check_in_queues_checked_in_and_the_ticket_with_the_phone(bw):
    made = book(bw, at(9, 30))
    change = checkin.check_in(bw.conn, bw.clock, made["code"])
    names = [e for e, _ in events(bw.conn)]
    assert names == ["booking.created", "ticket.issued", "booking.checked_in"]
    issued = events(bw.conn, "ticket.issued")[0][1]
    assert issued["phone"] == PHONE and issued["number"] == change.ticket["number"]
    checked = events(bw.conn, "booking.checked_in")[0][1]
    assert checked["ticket_id"] == change.ticket["id"] and checked["status"] == "checked_in"


def test_a_refused_booking_or_check_in_writes_no_outbox_row(bw):
    made = book(bw, at(10, 0, days=1))
    before = events(bw.conn)
    with pytest.raises(Conflict):
        book(bw, at(10, 30, days=1))  # the same phone, the same day: booking_limit
    with pytest.raises(Conflict):
        checkin.check_in(bw.conn, bw.clock, made["code"])  # not today
    assert events(bw.conn) == before


def test_a_booking_not_checked_in_is_missed_once(bw):
    made = book(bw, at(9, 30))
    bw.clock.set(ts(9, 46))  # the check-in window (15 minutes late) has closed
    bookings.housekeep(bw.conn, bw.clock)
    bookings.housekeep(bw.conn, bw.clock)
    missed = events(bw.conn, "booking.missed")
    assert [d["code"] for _, d in missed] == [made["code"]]
    assert missed[0][1]["status"] == "missed" and missed[0][1]["phone"] == PHONE


def test_reminder_at_the_lead_time_once_on_a_controlled_clock(bw):
    made = book(bw, at(10, 0, days=1))
    book(bw, at(9, 30), phone="081299990000", name="Dewi")  # booked 30 min ahead: no reminder
    bw.clock.set(ts(8, 58, days=1))
    assert store.queue_reminders(bw.conn, bw.clock) == 0  # 62 minutes before
    bw.clock.set(ts(9, 0, days=1))
    assert store.queue_reminders(bw.conn, bw.clock) == 1  # 60 minutes before
    bw.clock.advance(300)
    assert store.queue_reminders(bw.conn, bw.clock) == 0  # once
    ((_, data),) = events(bw.conn, "booking.reminder")
    assert data["code"] == made["code"] and data["phone"] == PHONE and data["name"] == "Siti Aminah"
    assert data["minutes_before"] == 60


def test_the_lead_time_is_the_mpps_and_a_slot_begun_gets_none(bw):
    store.set_settings(bw.conn, reminder_minutes=120)
    early = book(bw, at(11, 0, days=1))
    late = book(bw, at(10, 0, days=1), phone="081298765432")
    bw.clock.set(ts(9, 0, days=1))
    assert store.queue_reminders(bw.conn, bw.clock) == 2  # both within 120 minutes
    assert sorted(d["code"] for _, d in events(bw.conn, "booking.reminder")) == sorted(
        [early["code"], late["code"]])
    third = None
    bw.clock.set(ts(8, 0, days=2))
    third = book(bw, at(8, 30, days=2), phone="081211112222")
    bw.clock.set(ts(9, 0, days=2))  # the server was down at the lead time; the slot has begun
    assert store.queue_reminders(bw.conn, bw.clock) == 0
    assert third["code"] not in [d["code"] for _, d in events(bw.conn, "booking.reminder")]


def test_ticket_near_once_when_a_booked_ticket_has_3_ahead(bw):
    tickets.open_counter(bw.conn, bw.clock, bw.c2)
    for _ in range(5):
        tickets.issue(bw.conn, bw.clock, bw.ktp)  # walk-ins first
    bw.clock.set(ts(9, 50))
    made = book(bw, at(10, 0))
    mine = checkin.check_in(bw.conn, bw.clock, made["code"]).ticket  # before its slot: in issue order
    assert mine["ahead"] == 5
    calls = []
    for _ in range(4):
        tickets.call_next(bw.conn, bw.clock, bw.c2, finish_current=True)
        tickets.start(bw.conn, bw.clock, bw.c2)  # the citizen came up (the finish guard)
        calls.append(len(events(bw.conn, "ticket.near")))
    assert calls == [0, 1, 1, 1]  # 4 ahead, then 3 ahead after the second call: told once
    ((_, data),) = events(bw.conn, "ticket.near")
    assert data["number"] == mine["number"] and data["ahead"] == 3 and data["phone"] == PHONE


def test_walk_in_tickets_without_a_phone_get_no_near(bw):
    tickets.open_counter(bw.conn, bw.clock, bw.c2)
    for _ in range(6):
        tickets.issue(bw.conn, bw.clock, bw.ktp)
    for _ in range(5):
        tickets.call_next(bw.conn, bw.clock, bw.c2, finish_current=True)
        tickets.start(bw.conn, bw.clock, bw.c2)  # the citizen came up (the finish guard)
    assert events(bw.conn, "ticket.near") == []


def test_the_workers_scheduler_delivers_the_reminder_to_a_real_receiver(app, db_path, clock):
    from db.connection import connect
    from tests.conftest import World

    conn = connect(db_path)
    w = World(conn, clock)
    conn.execute("UPDATE services SET opens_at = '08:00', closes_at = '12:00'")
    bookings.put_settings(conn, w.ktp, {"enabled": True})
    with Receiver() as rx:
        store.create(conn, rx.url, ["booking.reminder"], HOOK_SECRET)
        made = bookings.book(conn, clock, w.ktp, at(11, 0), "Siti Aminah", "081234567890",
                             secret=SECRET).booking
        worker = Deliverer(app)
        assert worker.run_schedule(conn) == 0 and worker.run_once() == 0
        clock.set(ts(10, 0))  # the app's clock reaches the lead time
        assert worker.run_schedule(conn) == 1
        assert worker.run_once() == 1
        (body,) = rx.bodies()
        assert body["event"] == "booking.reminder" and body["data"]["code"] == made["code"]
        assert body["created_at"] == clock.iso(ts(10, 0))
        assert verify(HOOK_SECRET, rx.received[0])
    conn.close()
