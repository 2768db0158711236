"""Agencies, services and counters: what the MPP offers and where."""

import json
import re
import sqlite3

from db.clock import parse_hhmm, utc_iso
from db.connection import remember, write
from db.errors import Conflict, check_fields, found

PREFIX_RE = re.compile(r"^[A-Z]{1,3}$")
AGENCY_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def now_iso():
    """Now as an ISO-8601 UTC string."""
    import time

    return utc_iso(time.time())


def audit(conn, action, target, data=None, *, user_id=None, device_id=None, ts=None):
    """Record who did what in the audit log (inside the caller's transaction)."""
    import time

    conn.execute(
        "INSERT INTO audit_log (ts, user_id, device_id, action, target, data) VALUES (?, ?, ?, ?, ?, ?)",
        (ts or time.time(), user_id, device_id, action, target,
         json.dumps(data, ensure_ascii=False) if data is not None else None),
    )


# -- agencies ------------------------------------------------------------------


def agency_dict(row):
    """An agency as the API shows it."""
    return {"id": row["id"], "code": row["code"], "name": row["name"],
            "color": row["color"], "active": bool(row["active"])}


def list_agencies(conn):
    """Every active agency, in display order."""
    rows = conn.execute("SELECT * FROM agencies WHERE active = 1 ORDER BY sort, name, id")
    return [agency_dict(r) for r in rows]


def get_agency(conn, agency_id):
    """One agency by id."""
    return found(conn.execute("SELECT * FROM agencies WHERE id = ?", (agency_id,)).fetchone(),
                 "agency", field=True)


def _text(values, key, clean, fields, ok=bool, message="Required.", upper=False):
    """`values[key]`, if given, stripped into `clean`; `message` in `fields` unless `ok(text)`."""
    if key in values:
        text = (values[key] or "").strip()
        clean[key] = text = text.upper() if upper else text
        if not ok(text):
            fields[key] = message


def check_agency(conn, values, agency_id=None):
    """The agency's `code` and `name` among `values`, cleaned, or Invalid / Conflict code_taken.

    Creating checks both; an edit checks those it changes (`agency_id`: the agency edited).
    """
    clean, fields = {}, {}
    _text(values, "code", clean, fields, AGENCY_CODE_RE.match, "1-32 letters, digits, '-' or '_'.")
    _text(values, "name", clean, fields)
    check_fields(fields)
    if "code" in clean and conn.execute("SELECT 1 FROM agencies WHERE code = ? AND id IS NOT ?",
                                        (clean["code"], agency_id)).fetchone():
        raise Conflict("code_taken", f"An agency with code {clean['code']} already exists.",
                       {"code": "Already taken."})
    return clean


def insert_agency(conn, code, name, color, user_id):
    """Insert an agency inside the caller's write transaction (create_agency's rule)."""
    clean = check_agency(conn, {"code": code, "name": name})
    code, name = clean["code"], clean["name"]
    row = conn.execute(
        "INSERT INTO agencies (code, name, color, sort, active, created_at) "
        "VALUES (?, ?, ?, 0, 1, ?) RETURNING *",
        (code, name, color, now_iso()),
    ).fetchone()
    audit(conn, "agency.create", f"agency:{row['id']}", {"code": code, "name": name}, user_id=user_id)
    return agency_dict(row)


def create_agency(conn, code, name, *, color=None, user_id=None):
    """Add an agency (Dukcapil, Imigrasi ...)."""
    return write(conn, insert_agency, code, name, color, user_id)


# -- services ------------------------------------------------------------------


def get_service(conn, service_id):
    """One service row by id."""
    return remember(conn, ("service", service_id), lambda: found(
        conn.execute("SELECT * FROM services WHERE id = ?", (service_id,)).fetchone(),
        "service", field=True))


def is_holiday(conn, day):
    """Whether the whole MPP is closed on a service day (YYYY-MM-DD)."""
    return remember(conn, ("holiday", day), lambda: conn.execute(
        "SELECT 1 FROM holidays WHERE day = ?", (day,)).fetchone() is not None)


# Why a service is closed: code -> the end of "The service X is closed ...".
CLOSED_REASONS = {
    "inactive": "(not active)",
    "holiday": "today (holiday)",
    "not_today": "today",
    "before_hours": "until {opens}",
    "after_hours": "since {closes}",
}


def service_open(service, local_now, holiday=False):
    """(is_open, reason code, sentence end) of a service at a local time."""

    def closed(code, **kw):
        return False, code, CLOSED_REASONS[code].format(**kw)

    if not service["active"]:
        return closed("inactive")
    if holiday:
        return closed("holiday")
    opens, closes = service["opens_at"], service["closes_at"]
    if service["hours"]:
        today = json.loads(service["hours"]).get(str(local_now.isoweekday()))
        if not today:
            return closed("not_today")
        opens, closes = today
    minute = local_now.hour * 60 + local_now.minute
    if opens and minute < parse_hhmm(opens):
        return closed("before_hours", opens=opens)
    if closes and minute >= parse_hhmm(closes):
        return closed("after_hours", closes=closes)
    return True, None, ""


def hours_on(service, local_now):
    """[opens, closes] of a service on that local day (either may be None: no limit), or None
    when it is not served that weekday."""
    if service["hours"]:
        return json.loads(service["hours"]).get(str(local_now.isoweekday())) or None
    return [service["opens_at"], service["closes_at"]]


def service_dict(conn, clock, row, waiting=None, issued_today=None, booked=None):
    """A service as the API shows it, with today's live figures.

    `quota_left` holds out the day's bookings not yet checked in (checked-in ones are
    tickets already counted in `issued_today`).
    """
    from db import bookings, queue

    now = clock.ts()
    day = clock.service_day(now)
    if waiting is None:
        waiting = queue.waiting_count(conn, row["id"])
    if issued_today is None:
        seq = conn.execute(
            "SELECT last_seq FROM sequences WHERE service_id = ? AND service_day = ?",
            (row["id"], day),
        ).fetchone()
        issued_today = seq[0] if seq else 0
    if booked is None:
        booked = bookings.live_bookings_left(conn, clock, row["id"], day, now)
    local = clock.local(now)
    is_open, reason, _ = service_open(row, local, is_holiday(conn, day))
    quota = row["daily_quota"]
    quota_left = None if quota is None else max(0, quota - issued_today - booked)
    counters = queue.counter_count(conn, row["id"])
    if not is_open:
        closed_reason = reason
    elif quota_left == 0:
        closed_reason = "quota_exhausted"
    elif not counters:
        closed_reason = "no_counter"  # nobody could call its tickets: nothing is offered
    else:
        closed_reason = None
    competing, estimate = queue.wait_parts(conn, row, day, now=now)
    return {
        "id": row["id"],
        "agency_id": row["agency_id"],
        "prefix": row["prefix"],
        "name": row["name"],
        "requirements": row["requirements"] or "",
        "daily_quota": quota,
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "target_wait_min": row["target_wait_min"],
        "today_hours": hours_on(row, local),
        "is_open": closed_reason is None,
        "closed_reason": closed_reason,
        "waiting": waiting,
        "waiting_other_services": max(0, competing - waiting),
        "issued_today": issued_today,
        "booked_today": booked,
        "quota_left": quota_left,
        "estimated_wait_s": estimate,
        "open_counters": queue.open_counters_for(conn, row["id"]),
        "counter_count": counters,
    }


def service_ids(conn, agency_id=None):
    """The ids of every service, active or not, or of one agency's."""
    if agency_id is None:
        return [r[0] for r in conn.execute("SELECT id FROM services")]
    return [r[0] for r in conn.execute("SELECT id FROM services WHERE agency_id = ?", (agency_id,))]


def list_services(conn, clock, agency_id=None):
    """Every active service (of one agency, if given) with today's live figures."""
    from db import bookings, queue

    if agency_id is None:
        rows = conn.execute("SELECT * FROM services WHERE active = 1 ORDER BY agency_id, sort, prefix, id")
    else:
        rows = conn.execute(
            "SELECT * FROM services WHERE active = 1 AND agency_id = ? ORDER BY sort, prefix, id",
            (agency_id,),
        )
    rows = rows.fetchall()
    counts = queue.waiting_counts(conn)
    day = clock.service_day()
    issued = dict(conn.execute(
        "SELECT service_id, last_seq FROM sequences WHERE service_day = ?", (day,)
    ).fetchall())
    booked = bookings.live_bookings_by_service(conn, clock, day)
    return [service_dict(conn, clock, r, counts.get(r["id"], 0), issued.get(r["id"], 0),
                         booked.get(r["id"], 0)) for r in rows]


def check_hours(opens_at, closes_at, fields):
    """Add a sentence to `fields` for each opening hour that is not HH:MM, or closes before it opens."""
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is None:
            continue
        try:
            parse_hhmm(value)
        except (ValueError, AttributeError):
            fields[name] = "Use HH:MM, e.g. 08:00."
    if opens_at and closes_at and not fields and parse_hhmm(opens_at) >= parse_hhmm(closes_at):
        fields["closes_at"] = "Must be after opens_at."


def check_prefix_free(conn, prefix, service_id=None):
    """Refuse a prefix that another live service of the building already uses.

    Ticket numbers are the prefix and a sequence, so two live services with
    one prefix would both call "A001" on the same lobby TV.
    """
    row = conn.execute(
        "SELECT s.id, s.name, a.name AS agency FROM services s JOIN agencies a ON a.id = s.agency_id "
        "WHERE s.active = 1 AND s.prefix = ? AND s.id IS NOT ? LIMIT 1", (prefix, service_id)).fetchone()
    if row is not None:
        raise Conflict("prefix_taken",
                       f"The prefix {prefix} is already used by {row['name']} ({row['agency']}).",
                       {"prefix": f"Already used by service {row['id']}."})


# A service's numbers: at least 1 each; a quota may be left out (no quota).
SERVICE_MINIMUMS = {"daily_quota": "At least 1, or leave it out for no quota.",
                    "target_wait_min": "At least 1 minute.", "default_service_s": "At least 1 second."}


def check_service(values, fields):
    """The service fields among `values`, cleaned; a sentence in `fields` for each wrong one.

    Creating checks every field; an edit checks those it changes.
    """
    clean = {}
    _text(values, "prefix", clean, fields, PREFIX_RE.match, "1 to 3 letters A-Z.", upper=True)
    _text(values, "name", clean, fields)
    for key, minimum in SERVICE_MINIMUMS.items():
        if key in values:
            if values[key] is not None and values[key] < 1:
                fields[key] = minimum
            clean[key] = values[key]
    return clean


def insert_service(conn, agency_id, prefix, name, requirements, daily_quota, opens_at,
                    closes_at, target_wait_min, default_service_s, user_id):
    """Insert a service inside the caller's write transaction (create_service's rule)."""
    fields = {}
    clean = check_service({"prefix": prefix, "name": name, "daily_quota": daily_quota,
                           "target_wait_min": target_wait_min,
                           "default_service_s": default_service_s}, fields)
    prefix, name = clean["prefix"], clean["name"]
    check_hours(opens_at, closes_at, fields)
    check_fields(fields)
    get_agency(conn, agency_id)
    check_prefix_free(conn, prefix)
    row = conn.execute(
        """INSERT INTO services (agency_id, prefix, name, requirements, daily_quota, opens_at,
               closes_at, target_wait_min, default_service_s, active, sort, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, ?) RETURNING *""",
        (agency_id, prefix, name, requirements or "", daily_quota, opens_at, closes_at,
         target_wait_min or 15, default_service_s or 300, now_iso()),
    ).fetchone()
    audit(conn, "service.create", f"service:{row['id']}",
          {"prefix": prefix, "name": name, "agency_id": agency_id}, user_id=user_id)
    return row


def create_service(conn, clock, agency_id, prefix, name, *, requirements="", daily_quota=None,
                   opens_at=None, closes_at=None, target_wait_min=None, default_service_s=None,
                   user_id=None):
    """Add a service of an agency; its prefix starts every ticket number."""
    row = write(conn, insert_service, agency_id, prefix, name, requirements, daily_quota,
                opens_at, closes_at, target_wait_min, default_service_s, user_id)
    return service_dict(conn, clock, row)


# -- counters ------------------------------------------------------------------


def check_counter_services(conn, agency_id, service_ids, fields):
    """The services a counter of this agency serves, without repeats; a sentence in `fields` if wrong."""
    service_ids = list(dict.fromkeys(service_ids or []))
    if not service_ids:
        fields["service_ids"] = "A counter serves at least one service."
    for sid in service_ids:
        row = conn.execute("SELECT agency_id FROM services WHERE id = ?", (sid,)).fetchone()
        if row is None:
            fields["service_ids"] = f"Unknown service {sid}."
        elif row[0] != agency_id:
            fields["service_ids"] = f"Service {sid} belongs to another agency."
    return service_ids


def counter_number_taken(number):
    """The Conflict of a counter number its agency already has."""
    return Conflict("counter_number_taken", f"This agency already has a counter number {number}.",
                    {"number": "Already taken in this agency."})


def insert_counter(conn, agency_id, number, name, service_ids, user_id):
    """Insert a counter inside the caller's write transaction (create_counter's rule)."""
    get_agency(conn, agency_id)
    fields = {}
    if number < 1:
        fields["number"] = "At least 1."
    service_ids = check_counter_services(conn, agency_id, service_ids, fields)
    check_fields(fields)
    try:
        row = conn.execute(
            "INSERT INTO counters (agency_id, number, name, state, created_at) "
            "VALUES (?, ?, ?, 'closed', ?) RETURNING id",
            (agency_id, number, name or f"Loket {number}", now_iso()),
        ).fetchone()
    except sqlite3.IntegrityError:
        raise counter_number_taken(number)
    conn.executemany(
        "INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)",
        [(row[0], sid) for sid in service_ids],
    )
    audit(conn, "counter.create", f"counter:{row[0]}",
          {"number": number, "service_ids": service_ids}, user_id=user_id)
    return row[0]


def create_counter(conn, clock, agency_id, number, service_ids, *, name=None, user_id=None):
    """Add a counter (loket) of an agency, serving some of its services."""
    from db import queue

    counter_id = write(conn, insert_counter, agency_id, number, name, service_ids, user_id)
    return queue.counter_dict(conn, clock, counter_id)
