"""Online booking: seats in time slots, cancelling, and the rules around them.

A booking holds one seat of one slot of a service. Slots are cut from the
service's opening hours on that day. Every write here is one `BEGIN IMMEDIATE`
transaction through `db.connection.write` (the server's one Writer), so the
last seat goes to exactly one citizen, whatever the number of phones pressing
at once; a unique index on (service, slot, seat) is the last guard. Check-in
(which issues the ticket) lives in db/checkin.py.

All times come from the MPP's clock in its own zone, never the server's date.
"""

import json
import secrets
from datetime import date, datetime, timedelta

from db import catalog, webhooks
from db.clock import parse_hhmm
from db.connection import write
from db.errors import Conflict, Invalid, NotFound, check_fields
from db.identity import check_nik, keyed_hash, mask_phone, normalise_phone

# The settings per service, with the contract's defaults.
DEFAULTS = {"enabled": False, "slot_minutes": 30, "seats_per_slot": 2, "days_ahead": 14,
            "check_in_early_minutes": 30, "check_in_late_minutes": 15, "nik_required": False}
LIMITS = {"slot_minutes": (5, 480), "seats_per_slot": (1, 1000), "days_ahead": (0, 365),
          "check_in_early_minutes": (0, 240), "check_in_late_minutes": (0, 240)}
# The MPP-wide rules.
MPP_DEFAULTS = {"release_delay_minutes": 15, "purge_after_days": 30}
MPP_LIMITS = {"release_delay_minutes": (0, 1440), "purge_after_days": (1, 3650)}

STATUSES = ("booked", "cancelled", "checked_in", "missed")
LIVE = ("booked", "checked_in")
# No look-alikes: no 0/O, no 1/I/L. 31 symbols, 8 of them: ~8.5e11 codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_code():
    """An unguessable booking code, short enough to type on a kiosk."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(text):
    """A typed or scanned code as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in str(text or "") if ch not in " -\t\r\n").upper()[:20]


# -- settings ------------------------------------------------------------------


def get_settings(conn, service_id):
    """The booking settings of a service (the defaults, switched off, if never set)."""
    row = conn.execute("SELECT * FROM booking_settings WHERE service_id = ?", (service_id,)).fetchone()
    if row is None:
        return {"service_id": service_id, **DEFAULTS}
    return {"service_id": service_id, "enabled": bool(row["enabled"]),
            **{k: row[k] for k in LIMITS}, "nik_required": bool(row["nik_required"])}


def _check_limits(values, limits):
    fields = {}
    for key, (low, high) in limits.items():
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fields[key] = f"A whole number from {low} to {high}."
    check_fields(fields)


def _put_settings(conn, service_id, values, actor_id):
    catalog.get_service(conn, service_id)
    _check_limits(values, LIMITS)
    current = get_settings(conn, service_id)
    new = {k: (values[k] if values.get(k) is not None else current[k]) for k in DEFAULTS}
    conn.execute(
        """INSERT INTO booking_settings (service_id, enabled, slot_minutes, seats_per_slot,
               days_ahead, check_in_early_minutes, check_in_late_minutes, nik_required, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, datetime('now'))
           ON CONFLICT (service_id) DO UPDATE SET enabled = excluded.enabled,
               slot_minutes = excluded.slot_minutes, seats_per_slot = excluded.seats_per_slot,
               days_ahead = excluded.days_ahead,
               check_in_early_minutes = excluded.check_in_early_minutes,
               check_in_late_minutes = excluded.check_in_late_minutes,
               nik_required = excluded.nik_required, updated_at = excluded.updated_at""",
        (service_id, int(bool(new["enabled"])), new["slot_minutes"], new["seats_per_slot"],
         new["days_ahead"], new["check_in_early_minutes"], new["check_in_late_minutes"],
         int(bool(new["nik_required"]))),
    )
    catalog.audit(conn, "booking.settings", f"service:{service_id}", new, user_id=actor_id)
    return get_settings(conn, service_id)


def put_settings(conn, service_id, values, *, actor_id=None):
    """Switch booking on or off for a service and set its slots; omitted values are kept."""
    return write(conn, _put_settings, service_id, values, actor_id)


def mpp_settings(conn):
    """The MPP-wide booking rules: release delay of a cancelled seat, days personal data is kept."""
    row = conn.execute("SELECT value FROM settings WHERE key = 'booking'").fetchone()
    stored = json.loads(row[0]) if row else {}
    return {k: stored.get(k, v) for k, v in MPP_DEFAULTS.items()}


def _put_mpp_settings(conn, values, actor_id):
    _check_limits(values, MPP_LIMITS)
    new = {k: (values[k] if values.get(k) is not None else v) for k, v in mpp_settings(conn).items()}
    conn.execute("INSERT INTO settings (key, value) VALUES ('booking', ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (json.dumps(new),))
    catalog.audit(conn, "booking.mpp_settings", "settings:booking", new, user_id=actor_id)
    return new


def put_mpp_settings(conn, values, *, actor_id=None):
    """Change the MPP-wide booking rules; omitted values are kept."""
    return write(conn, _put_mpp_settings, values, actor_id)


# -- slots ---------------------------------------------------------------------


def _hours_on(service, day):
    """(opens, closes) in minutes on a date, or None when the service is closed that weekday."""
    opens, closes = service["opens_at"], service["closes_at"]
    if service["hours"]:
        today = json.loads(service["hours"]).get(str(day.isoweekday()))
        if not today:
            return None
        opens, closes = today
    return (parse_hhmm(opens) if opens else 0), (parse_hhmm(closes) if closes else 24 * 60)


def cut_slots(clock, service, settings, day, holiday=False):
    """The day's slots as [(start_ts, end_ts)]: from opening, `slot_minutes` each, none
    ending after closing; none on a holiday, a closed weekday or for an inactive service."""
    if holiday or not service["active"]:
        return []
    hours = _hours_on(service, day)
    if hours is None:
        return []
    opens, closes = hours
    midnight = datetime(day.year, day.month, day.day, tzinfo=clock.tz)
    step = settings["slot_minutes"]
    slots = []
    minute = opens
    while minute + step <= closes:
        start = midnight + timedelta(minutes=minute)
        slots.append((start.timestamp(), (start + timedelta(minutes=step)).timestamp()))
        minute += step
    return slots


def _taken(conn, service_id, day_text, now):
    """{slot_start_ts: seats held}: live bookings and cancelled seats still in their release delay."""
    rows = conn.execute(
        """SELECT slot_start_ts, count(*) FROM bookings
           WHERE service_id = ? AND service_day = ? AND seat IS NOT NULL
             AND (status IN ('booked', 'checked_in') OR (status = 'cancelled' AND release_ts > ?))
           GROUP BY slot_start_ts""",
        (service_id, day_text, now),
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _bookable_service(conn, service_id):
    service = catalog.get_service(conn, service_id)
    settings = get_settings(conn, service_id)
    return service, settings


def _day_in_range(clock, settings, day, now):
    today = clock.local(now).date()
    return today <= day <= today + timedelta(days=settings["days_ahead"])


def list_slots(conn, clock, service_id, day_text):
    """The slots of a service on a day with seats left; [] when the service is closed then.

    404 when the service takes no bookings; 400 for a day before today or past `days_ahead`.
    """
    service, settings = _bookable_service(conn, service_id)
    if not settings["enabled"]:
        raise NotFound("booking_not_offered", f"The service {service['name']} takes no bookings.")
    try:
        day = date.fromisoformat(day_text)
    except (TypeError, ValueError):
        raise Invalid("validation_error", "Some fields are not valid.", {"date": "A date as YYYY-MM-DD."})
    now = clock.ts()
    if not _day_in_range(clock, settings, day, now):
        raise Invalid("date_out_of_range",
                      f"Bookings are taken from today up to {settings['days_ahead']} days ahead.",
                      {"date": f"From today up to {settings['days_ahead']} days ahead."})
    slots = cut_slots(clock, service, settings, day, catalog.is_holiday(conn, day.isoformat()))
    taken = _taken(conn, service_id, day.isoformat(), now)
    seats = settings["seats_per_slot"]
    return [{"start": clock.iso(s), "end": clock.iso(e), "seats": seats,
             "left": max(0, seats - taken.get(s, 0)), "open": s > now}
            for s, e in slots]


# -- booking -------------------------------------------------------------------


def bookable_services(conn):
    """The active services that take bookings, with their agency and booking settings."""
    rows = conn.execute(
        """SELECT s.*, a.name AS agency_name, b.slot_minutes, b.days_ahead, b.nik_required
           FROM services s JOIN agencies a ON a.id = s.agency_id
           JOIN booking_settings b ON b.service_id = s.id
           WHERE b.enabled = 1 AND s.active = 1 AND a.active = 1
           ORDER BY a.sort, a.name, s.sort, s.prefix, s.id""").fetchall()
    return [{"id": r["id"], "agency_id": r["agency_id"], "agency_name": r["agency_name"],
             "prefix": r["prefix"], "name": r["name"], "requirements": r["requirements"] or "",
             "slot_minutes": r["slot_minutes"], "days_ahead": r["days_ahead"],
             "nik_required": bool(r["nik_required"])} for r in rows]


def parse_start(clock, text):
    """An ISO 8601 time (with offset; without one, the MPP's zone) -> Unix seconds; 400 otherwise."""
    try:
        when = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"start": "An ISO 8601 time, e.g. 2026-11-24T09:00:00+07:00."})
    if not 2000 <= when.year <= 2999:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"start": "A slot's start time, e.g. 2026-11-24T09:00:00+07:00."})
    if when.tzinfo is None:
        when = when.replace(tzinfo=clock.tz)
    return when.timestamp()


def _mark_missed(conn, clock, now, service_id=None):
    """Bookings whose check-in window has ended unchecked become `missed` (returns their rows)."""
    where = "AND b.service_id = :sid" if service_id is not None else ""
    return conn.execute(
        f"""UPDATE bookings AS b SET status = 'missed', missed_ts = :now
            WHERE b.status = 'booked' AND b.slot_start_ts < :now {where}
              AND b.slot_start_ts + 60 * coalesce((SELECT check_in_late_minutes FROM booking_settings s
                                                   WHERE s.service_id = b.service_id), :late) < :now
            RETURNING *""",
        {"now": now, "sid": service_id, "late": DEFAULTS["check_in_late_minutes"]},
    ).fetchall()


def _missed_events(conn, clock, rows):
    cache = {}
    return [("booking.missed", full_booking(clock, r, settings_of(conn, r["service_id"], cache)))
            for r in rows]


def _book(conn, clock, service_id, start_ts, name, phone, nik_hash, nik_last4, nik_given):
    from db.tickets import Change

    service, settings = _bookable_service(conn, service_id)
    if not settings["enabled"]:
        raise Conflict("booking_closed", f"The service {service['name']} takes no bookings.")
    if settings["nik_required"] and not nik_given:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"nik": f"{service['name']} needs the NIK (16 digits, on the KTP or KK)."})
    now = clock.ts()
    day = clock.local(start_ts).date()
    day_text = day.isoformat()
    if not _day_in_range(clock, settings, day, now):
        raise Conflict("booking_closed",
                       f"Bookings are taken from today up to {settings['days_ahead']} days ahead.")
    slot = next(((s, e) for s, e in cut_slots(clock, service, settings, day,
                                              catalog.is_holiday(conn, day_text))
                 if abs(s - start_ts) < 0.5), None)
    if slot is None:
        raise Conflict("booking_closed", f"{clock.iso(start_ts)} is not a slot of {service['name']}.")
    if slot[0] <= now:
        raise Conflict("booking_closed", "This slot has begun; choose a later one.")
    missed = _mark_missed(conn, clock, now, service_id)
    webhooks.enqueue_booking_events(conn, _missed_events(conn, clock, missed), now)
    held = conn.execute(
        """SELECT 1 FROM bookings WHERE service_id = ? AND service_day = ?
             AND status IN ('booked', 'checked_in') AND (phone = ? OR nik_hash = ?)""",
        (service_id, day_text, phone, nik_hash),
    ).fetchone()
    if held:
        raise Conflict("booking_limit",
                       f"This phone number or NIK already holds a booking for {service['name']} "
                       "on that day; cancel it first to book another time.")
    # Seats whose release delay has passed are free again.
    conn.execute(
        """UPDATE bookings SET seat = NULL WHERE service_id = ? AND slot_start_ts = ?
             AND status = 'cancelled' AND seat IS NOT NULL AND release_ts <= ?""",
        (service_id, slot[0], now),
    )
    used = {r[0] for r in conn.execute(
        "SELECT seat FROM bookings WHERE service_id = ? AND slot_start_ts = ? AND seat IS NOT NULL",
        (service_id, slot[0]),
    )}
    seat = next((n for n in range(1, settings["seats_per_slot"] + 1) if n not in used), None)
    if seat is None:
        raise Conflict("slot_full", "Every seat of this slot is taken; choose another time.")
    code = new_code()
    while conn.execute("SELECT 1 FROM bookings WHERE code = ?", (code,)).fetchone():
        code = new_code()
    row = conn.execute(
        """INSERT INTO bookings (code, service_id, service_day, slot_start_ts, slot_end_ts, seat,
               status, name, phone, nik_hash, nik_last4, created_ts)
           VALUES (?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?, ?, ?) RETURNING *""",
        (code, service_id, day_text, slot[0], slot[1], seat, name, phone, nik_hash, nik_last4, now),
    ).fetchone()
    booking = booking_dict(clock, row, settings)
    events = [("booking.created", full_booking(clock, row, settings))]
    webhooks.enqueue_booking_events(conn, events, now)
    return Change(booking=booking, booking_events=events)


def book(conn, clock, service_id, start, name, phone, *, nik=None, secret):
    """Book a seat of a slot for a citizen; returns a Change with `.booking`.

    400 for a bad name, phone or NIK; 409 `booking_closed`, `booking_limit` or `slot_full`.
    `secret` keys the NIK's hash (the app's secret key).
    """
    fields = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        fields["name"] = "Give the name of the person who comes (1 to 100 characters)."
    try:
        phone = normalise_phone(phone)
    except Invalid as exc:
        fields.update(exc.fields)
    nik_hash = nik_last4 = None
    nik_given = nik not in (None, "")
    if nik_given:
        try:
            digits = check_nik(nik)
            nik_hash, nik_last4 = keyed_hash(secret, "nik:" + digits), digits[-4:]
        except Invalid as exc:
            fields.update(exc.fields)
    try:
        start_ts = parse_start(clock, start)
    except Invalid as exc:
        fields.update(exc.fields)
    check_fields(fields)
    return write(conn, _book, clock, service_id, start_ts, name, phone, nik_hash, nik_last4, nik_given)


# -- reading -------------------------------------------------------------------


def settings_of(conn, service_id, cache=None):
    """A service's booking settings (cached per call in `cache` when given)."""
    if cache is None:
        return get_settings(conn, service_id)
    if service_id not in cache:
        cache[service_id] = get_settings(conn, service_id)
    return cache[service_id]


def booking_dict(clock, row, settings, now=None):
    """A booking as its holder sees it (without `booking_url`, which the web adds).

    A booking past its check-in window reads `missed` even before the roll-over marks it.
    """
    status = row["status"]
    until = row["slot_start_ts"] + 60 * settings["check_in_late_minutes"]
    if status == "booked" and (clock.ts() if now is None else now) > until:
        status = "missed"
    return {
        "code": row["code"],
        "service_id": row["service_id"],
        "start": clock.iso(row["slot_start_ts"]),
        "end": clock.iso(row["slot_end_ts"]),
        "status": status,
        "ticket_id": row["ticket_id"],
        "service_day": row["service_day"],
        "name": row["name"],
        "phone": mask_phone(row["phone"]),
        "nik": ("*" * 12 + row["nik_last4"]) if row["nik_last4"] else None,
        "check_in_from": clock.iso(row["slot_start_ts"] - 60 * settings["check_in_early_minutes"]),
        "check_in_until": clock.iso(until),
        "created_at": clock.iso(row["created_ts"]),
        "cancelled_at": clock.iso(row["cancelled_ts"]),
        "checked_in_at": clock.iso(row["checked_in_ts"]),
    }


def full_booking(clock, row, settings):
    """A booking with the full phone: only for the messages to the citizen (webhooks)."""
    return {**booking_dict(clock, row, settings), "phone": row["phone"],
            "cancel_reason": row["cancel_reason"]}


def booking_row(conn, code):
    """The stored row of a code (typed or scanned); 404 if none."""
    row = conn.execute("SELECT * FROM bookings WHERE code = ?", (clean_code(code),)).fetchone()
    if row is None:
        raise NotFound("booking_not_found", "No booking with that code; check the letters and digits.")
    return row


def get_booking(conn, clock, code):
    """One booking, for whoever holds its code."""
    row = booking_row(conn, code)
    return booking_dict(clock, row, get_settings(conn, row["service_id"]))


def list_bookings(conn, clock, day_text, service_ids):
    """The bookings of some services on a day, by slot: the staff's view."""
    if not service_ids:
        return []
    marks = ",".join("?" * len(service_ids))
    rows = conn.execute(
        f"""SELECT b.*, t.number AS ticket_number FROM bookings b
            LEFT JOIN tickets t ON t.id = b.ticket_id
            WHERE b.service_day = ? AND b.service_id IN ({marks})
            ORDER BY b.slot_start_ts, b.service_id, b.id""",
        (day_text, *service_ids),
    ).fetchall()
    cache, now = {}, clock.ts()
    return [{**booking_dict(clock, r, settings_of(conn, r["service_id"], cache), now),
             "ticket_number": r["ticket_number"]} for r in rows]


def live_bookings_left(conn, clock, service_id, day_text, now=None):
    """The day's bookings not yet checked in and still able to (held out of the walk-in quota)."""
    now = clock.ts() if now is None else now
    late = get_settings(conn, service_id)["check_in_late_minutes"]
    return conn.execute(
        """SELECT count(*) FROM bookings WHERE service_id = ? AND service_day = ?
             AND status = 'booked' AND slot_start_ts + ? >= ?""",
        (service_id, day_text, 60 * late, now),
    ).fetchone()[0]


def live_bookings_by_service(conn, clock, day_text, now=None):
    """{service_id: bookings of the day not yet checked in and still able to}."""
    now = clock.ts() if now is None else now
    rows = conn.execute(
        """SELECT b.service_id, count(*) FROM bookings b
           LEFT JOIN booking_settings s ON s.service_id = b.service_id
           WHERE b.service_day = ? AND b.status = 'booked'
             AND b.slot_start_ts + 60 * coalesce(s.check_in_late_minutes, ?) >= ?
           GROUP BY b.service_id""",
        (day_text, DEFAULTS["check_in_late_minutes"], now),
    ).fetchall()
    return {r[0]: r[1] for r in rows}


# -- cancelling ------------------------------------------------------------------


def _cancel(conn, clock, code):
    from db.tickets import Change

    row = booking_row(conn, code)
    settings = get_settings(conn, row["service_id"])
    now = clock.ts()
    current = booking_dict(clock, row, settings, now)
    if current["status"] == "cancelled":
        return Change(booking=current, replayed=True)  # a retried tap: nothing new
    if current["status"] == "checked_in":
        raise Conflict("already_checked_in", "This booking is already checked in; it cannot be cancelled.")
    if current["status"] == "missed":
        raise Conflict("booking_missed", "This booking was missed; there is nothing to cancel.")
    if row["slot_start_ts"] <= now:
        raise Conflict("booking_past", "This booking's slot has begun; it can no longer be cancelled.")
    delay = mpp_settings(conn)["release_delay_minutes"]
    row = conn.execute(
        """UPDATE bookings SET status = 'cancelled', cancelled_ts = ?, release_ts = ?,
               cancel_reason = 'holder' WHERE id = ? RETURNING *""",
        (now, now + 60 * delay, row["id"]),
    ).fetchone()
    events = [("booking.cancelled", full_booking(clock, row, settings))]
    webhooks.enqueue_booking_events(conn, events, now)
    return Change(booking=booking_dict(clock, row, settings, now), booking_events=events)


def cancel(conn, clock, code):
    """Cancel by the holder; its seat is offered again after the MPP's release delay.

    409 once checked in, missed, or once the slot has begun.
    """
    return write(conn, _cancel, clock, code)


def cancel_for_holiday(conn, clock, day_text):
    """Inside a holiday's write: cancel the day's live bookings (their seats free at once).

    Returns the bookings as the admin sees them and the events, one per booking.
    """
    now = clock.ts()
    rows = conn.execute(
        """UPDATE bookings SET status = 'cancelled', cancelled_ts = ?, release_ts = ?,
               cancel_reason = 'holiday'
           WHERE service_day = ? AND status = 'booked' RETURNING *""",
        (now, now, day_text),
    ).fetchall()
    cache = {}
    affected, events = [], []
    for r in rows:
        settings = settings_of(conn, r["service_id"], cache)
        affected.append(booking_dict(clock, r, settings, now))
        events.append(("booking.cancelled", full_booking(clock, r, settings)))
    webhooks.enqueue_booking_events(conn, events, now)
    return affected, events


# -- the roll-over's housekeeping --------------------------------------------------


def _housekeep(conn, clock):
    from db.tickets import Change

    now = clock.ts()
    missed = _mark_missed(conn, clock, now)
    change = Change(booking_events=_missed_events(conn, clock, missed))
    webhooks.enqueue_booking_events(conn, change.booking_events, now)
    # Personal data is kept for a bounded time past the slot, then dropped (checked once a day).
    day = json.dumps(clock.service_day(now))
    if conn.execute("SELECT 1 FROM settings WHERE key = 'booking_purged' AND value = ?",
                    (day,)).fetchone():
        return change
    conn.execute("INSERT INTO settings (key, value) VALUES ('booking_purged', ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (day,))
    keep_s = 86400 * mpp_settings(conn)["purge_after_days"]
    conn.execute(
        """UPDATE bookings SET name = NULL, phone = NULL, nik_hash = NULL, nik_last4 = NULL,
               purged_ts = ?
           WHERE purged_ts IS NULL AND slot_end_ts < ? AND status != 'booked'""",
        (now, now - keep_s),
    )
    return change


def housekeep(conn, clock):
    """Mark missed bookings and drop personal data past its keeping time (one write)."""
    return write(conn, _housekeep, clock)
