"""The admin's edits: change or deactivate what catalog/accounts create. One audited
transaction each; the `UNSET` default means "leave this field as it is"."""

import json
import sqlite3
import time
from datetime import date

from werkzeug.security import generate_password_hash

from db import accounts, catalog, sessions
from db.accounts import MIN_PASSWORD, UNSET
from db.catalog import audit, check_hours, get_agency, get_service
from db.clock import parse_hhmm
from db.connection import write
from db.errors import Conflict, NotFound, check_fields, found


def _given(values, *keys):
    """The values an edit sends among `keys` (the others are left as they are)."""
    return {k: values[k] for k in keys if values.get(k, UNSET) is not UNSET}


def _apply(conn, table, row_id, changes, action, actor_id):
    if not changes:
        return
    sets = ", ".join(f"{k} = ?" for k in changes)
    conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*changes.values(), row_id))
    audit(conn, action, f"{table[:-1]}:{row_id}", changes, user_id=actor_id)


# -- agencies ------------------------------------------------------------------


def list_all_agencies(conn, agency_id=None):
    """Every agency (or only one), active or not."""
    return [catalog.agency_dict(r) for r in
            conn.execute("SELECT * FROM agencies ORDER BY active DESC, sort, name, id")
            if agency_id in (None, r["id"])]


def _update_agency(conn, agency_id, values, actor_id):
    get_agency(conn, agency_id)
    changes = catalog.check_agency(conn, _given(values, "code", "name"), agency_id)
    if values.get("color", UNSET) is not UNSET:
        changes["color"] = values["color"]
    if values.get("active", UNSET) is not UNSET:
        changes["active"] = 1 if values["active"] else 0
    _apply(conn, "agencies", agency_id, changes, "agency.update", actor_id)
    return catalog.agency_dict(get_agency(conn, agency_id))


def update_agency(conn, agency_id, values, *, actor_id=None):
    """Rename an agency, change its code or colour, or (de)activate it."""
    return write(conn, _update_agency, agency_id, values, actor_id)


# -- services ------------------------------------------------------------------


def service_config(row):
    """A service's settings as the admin edits them (no live figures)."""
    return {k: row[k] for k in ("id", "agency_id", "prefix", "name", "requirements", "daily_quota",
                                "opens_at", "closes_at", "target_wait_min", "default_service_s")} | {
        "hours": json.loads(row["hours"]) if row["hours"] else None, "active": bool(row["active"])}


def list_service_configs(conn, agency_id=None):
    """Every service (of one agency), active or not, with its settings."""
    if agency_id is None:
        rows = conn.execute("SELECT * FROM services ORDER BY agency_id, sort, prefix, id")
    else:
        rows = conn.execute("SELECT * FROM services WHERE agency_id = ? ORDER BY sort, prefix, id",
                            (agency_id,))
    return [service_config(r) for r in rows]


def check_week_hours(hours):
    """Validate {"1": ["08:00", "15:00"], ..., "7": null}; returns (clean, field errors)."""
    if hours is None:
        return None, {}
    if not isinstance(hours, dict):
        return None, {"hours": "An object from ISO weekday (1-7) to [opens, closes] or null."}
    clean, fields = {}, {}
    for day in map(str, range(1, 8)):
        value = hours.get(day)
        if value is None:
            clean[day] = None
            continue
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            fields[f"hours.{day}"] = "[opens, closes] as HH:MM, or null for closed."
            continue
        try:
            if parse_hhmm(value[0]) >= parse_hhmm(value[1]):
                fields[f"hours.{day}"] = "Closing must be after opening."
        except (ValueError, AttributeError):
            fields[f"hours.{day}"] = "Use HH:MM, e.g. 08:00."
        clean[day] = value
    extra = set(map(str, hours)) - set(clean)
    if extra:
        fields["hours"] = "Weekdays are 1 (Monday) to 7 (Sunday)."
    return clean, fields


def _update_service(conn, service_id, values, actor_id):
    row = get_service(conn, service_id)
    fields = {}
    get = lambda k: values.get(k, UNSET)  # noqa: E731
    changes = catalog.check_service(
        _given(values, "prefix", "name", *catalog.SERVICE_MINIMUMS), fields)
    for key in ("target_wait_min", "default_service_s"):  # no quota is a quota; these have none
        if key in changes and changes[key] is None:
            fields[key] = "Required."
    if get("requirements") is not UNSET:
        changes["requirements"] = values["requirements"] or ""
    for key in ("opens_at", "closes_at"):
        if get(key) is not UNSET:
            changes[key] = values[key] or None
    check_hours(changes.get("opens_at", row["opens_at"]), changes.get("closes_at", row["closes_at"]),
                 fields)
    if get("hours") is not UNSET:
        clean, more = check_week_hours(values["hours"])
        fields.update(more)
        changes["hours"] = json.dumps(clean) if clean is not None else None
    if get("active") is not UNSET:
        changes["active"] = 1 if values["active"] else 0
    check_fields(fields)
    if changes.get("active", row["active"]) and ("prefix" in changes or changes.get("active")):
        catalog.check_prefix_free(conn, changes.get("prefix", row["prefix"]), service_id)
    _apply(conn, "services", service_id, changes, "service.update", actor_id)
    return get_service(conn, service_id)


def update_service(conn, service_id, values, *, actor_id=None):
    """Change a service's name, prefix, requirements, quota, hours, target; (de)activate it."""
    return service_config(write(conn, _update_service, service_id, values, actor_id))


# -- holidays ------------------------------------------------------------------


def list_holidays(conn):
    """Every day the whole MPP is closed."""
    return [dict(r) for r in conn.execute("SELECT day, name FROM holidays ORDER BY day")]


def _set_holiday(conn, day, name, actor_id, clock=None):
    try:
        day = date.fromisoformat(day).isoformat()
    except (TypeError, ValueError):
        check_fields({"day": "A date as YYYY-MM-DD."})
    conn.execute("INSERT INTO holidays (day, name) VALUES (?, ?) "
                 "ON CONFLICT(day) DO UPDATE SET name = excluded.name", (day, name or ""))
    audit(conn, "holiday.set", f"holiday:{day}", {"name": name}, user_id=actor_id)
    holiday = {"day": day, "name": name or ""}
    if clock is None:
        return holiday
    from db import bookings
    from db.tickets import Change

    affected, events = bookings.cancel_for_holiday(conn, clock, day)
    if affected:
        audit(conn, "holiday.bookings_cancelled", f"holiday:{day}",
              {"codes": [b["code"] for b in affected]}, user_id=actor_id)
    return {**holiday, "affected_bookings": affected}, Change(booking_events=events)


def set_holiday(conn, day, name, *, actor_id=None):
    """Close the whole MPP on a day (a national holiday, cuti bersama)."""
    return write(conn, _set_holiday, day, name, actor_id)


def set_holiday_and_cancel_bookings(conn, clock, day, name, *, actor_id=None):
    """Close the MPP on a day and, in the same write, cancel that day's bookings.

    Returns (holiday with `affected_bookings` for the admin, Change with one
    `booking.cancelled` event per booking, reason `holiday`).
    """
    return write(conn, _set_holiday, day, name, actor_id, clock)


def _delete_holiday(conn, day, actor_id):
    if conn.execute("DELETE FROM holidays WHERE day = ?", (day,)).rowcount == 0:
        raise NotFound("holiday_not_found", "That day is not a holiday.")
    audit(conn, "holiday.delete", f"holiday:{day}", user_id=actor_id)


def delete_holiday(conn, day, *, actor_id=None):
    """Open the MPP again on a day."""
    write(conn, _delete_holiday, day, actor_id)


# -- counters ------------------------------------------------------------------


def _update_counter(conn, counter_id, values, actor_id):
    row = found(conn.execute("SELECT * FROM counters WHERE id = ?", (counter_id,)).fetchone(), "counter")
    changes = {}
    if values.get("number", UNSET) is not UNSET:
        changes["number"] = values["number"]
    if values.get("name", UNSET) is not UNSET:
        changes["name"] = (values["name"] or "").strip() or f"Loket {changes.get('number', row['number'])}"
    try:
        _apply(conn, "counters", counter_id, changes, "counter.update", actor_id)
    except sqlite3.IntegrityError:
        raise catalog.counter_number_taken(changes.get("number", row["number"]))
    service_ids = values.get("service_ids", UNSET)
    if service_ids is not UNSET:
        fields = {}
        service_ids = catalog.check_counter_services(conn, row["agency_id"], service_ids, fields)
        check_fields(fields)
        conn.execute("DELETE FROM counter_services WHERE counter_id = ?", (counter_id,))
        conn.executemany("INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)",
                         [(counter_id, sid) for sid in service_ids])
        audit(conn, "counter.services", f"counter:{counter_id}", {"service_ids": service_ids},
              user_id=actor_id)


def update_counter(conn, clock, counter_id, values, *, actor_id=None):
    """Renumber or rename a counter, or change the services it serves."""
    from db import queue

    write(conn, _update_counter, counter_id, values, actor_id)
    return queue.counter_dict(conn, clock, counter_id)


# -- users and devices ---------------------------------------------------------


def _user_row(conn, user_id):
    return found(accounts.get_user(conn, user_id), "user")


def _update_user(conn, user_id, values, actor_id):
    row = _user_row(conn, user_id)
    changes = {}
    role = values.get("role", UNSET)
    agency_id = values.get("agency_id", UNSET)
    if role is not UNSET:
        changes["role"] = role
    if agency_id is not UNSET:
        changes["agency_id"] = agency_id
    fields = {}
    accounts.check_role(changes.get("role", row["role"]), changes.get("agency_id", row["agency_id"]), fields)
    check_fields(fields)
    if changes.get("agency_id") is not None:
        get_agency(conn, changes["agency_id"])
    if values.get("full_name", UNSET) is not UNSET:
        changes["full_name"] = (values["full_name"] or "").strip() or None
    if values.get("active", UNSET) is not UNSET:
        if user_id == actor_id and not values["active"]:
            raise Conflict("own_account", "You cannot deactivate your own account.")
        changes["active"] = 1 if values["active"] else 0
    if user_id == actor_id and changes.get("role", "admin") != "admin":
        raise Conflict("own_account", "You cannot take the admin role from yourself.")
    _apply(conn, "users", user_id, changes, "user.update", actor_id)
    if changes.get("active") == 0:
        sessions.end_user_sessions_in(conn, user_id, time.time(), "deactivated")
    return accounts.user_dict(_user_row(conn, user_id))


def update_user(conn, user_id, values, *, actor_id=None):
    """Change a person's role, agency or name, or (de)activate them."""
    return write(conn, _update_user, user_id, values, actor_id)


def _reset_password(conn, user_id, password, actor_id):
    _user_row(conn, user_id)
    if len(password or "") < MIN_PASSWORD:
        check_fields({"password": f"At least {MIN_PASSWORD} characters."})
    conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                 (generate_password_hash(password, accounts.HASH_METHOD), user_id))
    audit(conn, "user.password", f"user:{user_id}", user_id=actor_id)
    # Whoever knew the old password may hold a session: every one ends.
    return sessions.end_user_sessions_in(conn, user_id, time.time(), "password_reset")


def reset_password(conn, user_id, password, *, actor_id=None):
    """Give a person a new password (the hash only is stored and audited as done);
    ends all of their sessions and returns those sessions' ids."""
    return write(conn, _reset_password, user_id, password, actor_id)


def _revoke_device(conn, device_id, actor_id):
    accounts.get_device(conn, device_id)
    conn.execute("UPDATE devices SET active = 0 WHERE id = ?", (device_id,))
    audit(conn, "device.revoke", f"device:{device_id}", user_id=actor_id)
    return accounts.get_device(conn, device_id)


def revoke_device(conn, device_id, *, actor_id=None):
    """Revoke a kiosk's or display's token: it is refused from its next request on."""
    return accounts.device_dict(write(conn, _revoke_device, device_id, actor_id))


# -- the audit log -------------------------------------------------------------


def list_audit(conn, limit=100, before_id=None):
    """The latest audit entries, newest first, with who did it."""
    where, params = "", []
    if before_id:
        where = "WHERE l.id < ?"
        params.append(before_id)
    rows = conn.execute(
        f"""SELECT l.*, u.username FROM audit_log l LEFT JOIN users u ON u.id = l.user_id
            {where} ORDER BY l.id DESC LIMIT ?""", (*params, limit)).fetchall()
    return [{"id": r["id"], "ts": r["ts"], "username": r["username"], "device_id": r["device_id"],
             "action": r["action"], "target": r["target"],
             "data": json.loads(r["data"]) if r["data"] else None} for r in rows]


# -- the live board ------------------------------------------------------------


def board(conn, clock, agency_id=None):
    """Every queue's waiting count and longest wait, every counter and its officer, printers."""
    now = clock.ts()
    day = clock.service_day(now)
    live = {r[0]: (r[1], r[2]) for r in conn.execute(
        """SELECT t.service_id, count(*), min(coalesce(v.queued_ts, t.issued_ts))
           FROM tickets t LEFT JOIN ticket_visits v
             ON v.id = (SELECT max(id) FROM ticket_visits WHERE ticket_id = t.id)
           WHERE t.status = 'waiting' GROUP BY t.service_id""")}
    served = {r[0]: r[1] for r in conn.execute(
        "SELECT service_id, count(*) FROM tickets WHERE service_day = ? AND status = 'done' "
        "GROUP BY service_id", (day,))}
    counters_of = dict(conn.execute(
        "SELECT service_id, count(*) FROM counter_services GROUP BY service_id").fetchall())
    where, params = ("WHERE s.agency_id = ?", (agency_id,)) if agency_id is not None else ("", ())
    services = []
    for s in conn.execute(
            f"""SELECT s.*, a.name AS agency_name, a.code AS agency_code FROM services s
                JOIN agencies a ON a.id = s.agency_id {where}
                ORDER BY a.sort, a.name, s.sort, s.prefix""", params):
        if not s["active"]:
            continue
        waiting, oldest = live.get(s["id"], (0, None))
        longest = int(now - oldest) if oldest is not None else 0
        services.append({
            "id": s["id"], "agency_id": s["agency_id"], "agency_name": s["agency_name"],
            "agency_code": s["agency_code"], "prefix": s["prefix"], "name": s["name"],
            "waiting": waiting, "longest_wait_s": longest,
            "oldest_queued_at": clock.iso(oldest), "target_wait_min": s["target_wait_min"],
            "late": oldest is not None and longest > s["target_wait_min"] * 60,
            "served_today": served.get(s["id"], 0),
            "counter_count": counters_of.get(s["id"], 0),  # 0: nobody can call its tickets
        })
    cwhere = "WHERE c.agency_id = ?" if agency_id is not None else ""
    counters = [{
        "id": c["id"], "agency_id": c["agency_id"], "agency_code": c["agency_code"],
        "number": c["number"], "name": c["name"], "state": c["state"],
        "pause_reason": c["pause_reason"], "officer": c["full_name"] or c["username"],
        "ticket_number": c["ticket_number"], "ticket_status": c["ticket_status"],
        "since": clock.iso(c["state_ts"]),
    } for c in conn.execute(
        f"""SELECT c.*, a.code AS agency_code, u.username, u.full_name,
                   t.number AS ticket_number, t.status AS ticket_status
            FROM counters c JOIN agencies a ON a.id = c.agency_id
            LEFT JOIN users u ON u.id = c.user_id LEFT JOIN tickets t ON t.id = c.ticket_id
            {cwhere} ORDER BY a.sort, a.name, c.number""", params)]
    printers = [{"id": p["id"], "name": p["name"], "status": p["status"],
                 "status_detail": p["status_detail"],
                 "trouble": p["status"] not in ("online", "unknown")}
                for p in conn.execute("SELECT * FROM printers ORDER BY id")]
    return {"now": clock.iso(now), "service_day": day, "services": services,
            "counters": counters, "printers": printers}


# -- backup --------------------------------------------------------------------


def backup(conn, out_path, *, actor_id=None):
    """Copy the live database into `out_path` with SQLite's online backup API.

    A copy of the file could catch a half-written page or miss the WAL; the
    backup API reads one consistent snapshot while kiosks keep issuing.
    """
    from db.connection import connect

    target = sqlite3.connect(str(out_path))
    try:
        conn.backup(target)  # all pages in one step: one consistent read snapshot
    finally:
        target.close()
    check = connect(out_path)
    try:
        check.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
    finally:
        check.close()
    write(conn, audit, "backup", "database", {"path": str(out_path)}, user_id=actor_id)
    return out_path
