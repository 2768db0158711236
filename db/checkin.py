"""Checking a booking in at the MPP: the kiosk (or a staff member) turns it into a ticket.

One write transaction: the booking is checked against its day and its check-in
window, and within the window a ticket is issued in the service's own sequence
(numbers stay unique on the lobby TV), carrying the booking and its slot so
that call-next takes it at the slot's time. The quota never refuses a
check-in: the booking's seat was held out of it from the start.
"""

from db import catalog, webhooks
from db.bookings import booking_dict, booking_row, full_booking, get_settings
from db.connection import write
from db.errors import Conflict

DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def _hhmm(clock, ts):
    return clock.local(ts).strftime("%H:%M")


def _check_in(conn, clock, code, device_id, user_id, idempotency_key, printer_id, job_payload):
    from db import queue, tickets

    tickets.ensure_day(conn, clock)
    if idempotency_key:
        row = conn.execute("SELECT * FROM tickets WHERE idempotency_key = ?",
                           (idempotency_key,)).fetchone()
        if row is not None:  # a retried tap: the ticket of the first one
            return tickets.Change(ticket=queue.ticket_dict(conn, clock, row), replayed=True)
    row = booking_row(conn, code)
    settings = get_settings(conn, row["service_id"])
    now = clock.ts()
    start = row["slot_start_ts"]
    opens = start - 60 * settings["check_in_early_minutes"]
    closes = start + 60 * settings["check_in_late_minutes"]
    if row["status"] == "cancelled":
        raise Conflict("booking_cancelled",
                       "This booking was cancelled. Take a normal ticket at the kiosk.")
    if row["status"] == "checked_in":
        number = conn.execute("SELECT number FROM tickets WHERE id = ?",
                              (row["ticket_id"],)).fetchone()
        raise Conflict("already_checked_in",
                       f"This booking is already checked in: ticket {number[0] if number else ''}. "
                       "Follow that ticket's number on the screen.")
    today = clock.service_day(now)
    if row["service_day"] != today:
        day = clock.local(start)
        when = f"{DAYS_ID[day.weekday()]} {day.strftime('%d-%m-%Y')} {_hhmm(clock, start)}"
        if row["service_day"] > today:
            raise Conflict("not_today", f"This booking is for {when}; come back on that day.")
        raise Conflict("not_today", f"This booking was for {when}. Take a normal ticket at the kiosk.")
    if row["status"] == "missed" or now > closes:
        raise Conflict("too_late",
                       f"Check-in for the {_hhmm(clock, start)} slot closed at {_hhmm(clock, closes)}. "
                       "Take a normal ticket at the kiosk.")
    if now < opens:
        raise Conflict("too_early",
                       f"Too early: check-in for the {_hhmm(clock, start)} slot opens at "
                       f"{_hhmm(clock, opens)}. Come back at {_hhmm(clock, opens)}.")
    service = catalog.get_service(conn, row["service_id"])
    if not service["active"] or catalog.is_holiday(conn, today):
        raise Conflict("service_closed", f"The service {service['name']} is closed today.")
    seq = tickets.next_seq(conn, service["id"], today)
    change = tickets.insert_ticket(
        conn, clock, service, today, seq, now, device_id=device_id, user_id=user_id,
        idempotency_key=idempotency_key, printer_id=printer_id, job_payload=job_payload,
        booking_id=row["id"], slot_ts=start)
    row = conn.execute(
        "UPDATE bookings SET status = 'checked_in', checked_in_ts = ?, ticket_id = ? "
        "WHERE id = ? RETURNING *", (now, change.ticket["id"], row["id"]),
    ).fetchone()
    change.booking = booking_dict(clock, row, settings, now)
    change.booking_events.append(("booking.checked_in", full_booking(clock, row, settings)))
    webhooks.enqueue_booking_events(conn, change.booking_events, now)
    return change


def check_in(conn, clock, code, *, device_id=None, user_id=None, idempotency_key=None,
             printer_id=None, job_payload=None):
    """Check a booking in within its window and issue its ticket (Change with `.ticket`).

    409 `booking_cancelled`, `already_checked_in`, `not_today`, `too_late`, `too_early`
    (each with a sentence the kiosk shows). A repeated `idempotency_key` returns the
    first ticket unchanged.
    """
    return write(conn, _check_in, clock, code, device_id, user_id, idempotency_key,
                 printer_id, job_payload)

