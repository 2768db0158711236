"""The queue engine: the only code that writes tickets.

Each public function is one `BEGIN IMMEDIATE` transaction (through
`db.connection.write`) and returns a `Change`: the plain data the surfaces
need to answer and to publish events once the transaction has committed.
Nothing here knows about Flask, sockets or printers.
"""

import json
import secrets
from dataclasses import dataclass, field

from db import bookings, catalog, webhooks
from db.connection import remember, steady, write
from db.errors import Conflict, Invalid, found
from db.queue import (counter_count, counter_dict, newest_ahead, ticket_dict, ticket_row,
                      waiting_count)

PRIORITY_KINDS = ("lansia", "disabilitas", "ibu_hamil", "balita", "lainnya")
STATUSES = ("waiting", "called", "serving", "done", "no_show", "cancelled", "expired")


@dataclass
class Change:
    """What one engine call changed: the answer, and what to publish after commit."""

    ticket: dict | None = None
    counter: dict | None = None
    queues: dict = field(default_factory=dict)  # service_id -> waiting count
    call: dict | None = None
    tickets: list = field(default_factory=list)  # other tickets whose state changed
    counters: list = field(default_factory=list)  # other counters whose state changed
    print_job_id: int | None = None
    replayed: bool = False  # an idempotent retry: nothing new happened
    booking: dict | None = None  # the booking this change made or touched (db/bookings.py)
    # (event name, booking with name and full phone) for the messages to the citizen:
    # booking.created, booking.cancelled, booking.checked_in, booking.missed.
    booking_events: list = field(default_factory=list)
    # service_id -> agency_id of services the change already read, so that publishing
    # its events (rooms per agency) need not read them again.
    agencies: dict = field(default_factory=dict)


# -- webhooks --------------------------------------------------------------------


def _notify(conn, event, ticket, ts, **extra):
    """Keep a ticket.* webhook event in this transaction (nothing when nobody listens)."""
    def data():
        service = catalog.get_service(conn, ticket["service_id"])
        return {**ticket, "service_name": service["name"], **extra}

    webhooks.enqueue(conn, event, data, ts=ts)


def _check_near(conn, clock, service_ids, ts):
    """ticket.near, once per ticket: a ticket with a way to reach its citizen (a phone,
    from its booking) that now has at most N tickets ahead in its line."""
    if not service_ids or not webhooks.subscribers(conn, "ticket.near"):
        return
    n = webhooks.setting(conn, "near_ahead", webhooks.NEAR_AHEAD)
    for service_id in service_ids:
        # The few waiting tickets with a phone not yet told; their place as the citizen sees it.
        rows = conn.execute(
            """SELECT t.* FROM tickets t JOIN bookings b ON b.id = t.booking_id
               WHERE t.status = 'waiting' AND t.service_id = ? AND b.phone IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM notified n WHERE n.kind = 'ticket.near'
                                 AND n.ref_id = t.id)""", (service_id,)).fetchall()
        for row in rows:
            ticket = ticket_dict(conn, clock, row)
            if ticket["ahead"] > n:
                continue
            webhooks.once(conn, "ticket.near", row["id"], ts)
            _notify(conn, "ticket.near", ticket, ts, phone=contact_phone(conn, row))


def contact_phone(conn, row):
    """The phone a ticket's citizen gave (through its booking), or None."""
    if not row["booking_id"]:
        return None
    found = conn.execute("SELECT phone FROM bookings WHERE id = ?", (row["booking_id"],)).fetchone()
    return found["phone"] if found else None


# -- the service day -----------------------------------------------------------


def ensure_day(conn, clock):
    """Roll over to today's service day if that has not happened yet."""
    day = clock.service_day()

    def started():
        row = conn.execute("SELECT value FROM settings WHERE key = 'service_day'").fetchone()
        return None if row is None else json.loads(row[0])

    if remember(conn, ("service_day",), started) == day:
        return None
    change = _rollover(conn, clock, day)
    conn.execute(
        "INSERT INTO settings (key, value) VALUES ('service_day', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (json.dumps(day),),
    )
    if conn.memo is not None:  # the rollover freed counters: nothing read before stands
        conn.memo.clear()
        conn.memo[("service_day",)] = day
    return change


def _rollover(conn, clock, day):
    now = clock.ts()
    expired = conn.execute(
        """UPDATE tickets SET status = 'expired'
           WHERE status IN ('waiting', 'called') AND service_day < ?
           RETURNING id, service_id, counter_id""",
        (day,),
    ).fetchall()
    change = Change()
    if not expired:
        return change
    conn.executemany(
        "INSERT INTO ticket_events (ticket_id, ts, event, service_id, counter_id) VALUES (?, ?, 'expired', ?, ?)",
        [(r["id"], now, r["service_id"], r["counter_id"]) for r in expired],
    )
    # Counters that still held a called ticket from yesterday are free again.
    freed = conn.execute(
        """UPDATE counters SET ticket_id = NULL
           WHERE ticket_id IN (SELECT id FROM tickets WHERE status = 'expired' AND service_day < ?)
           RETURNING id""",
        (day,),
    ).fetchall()
    for sid in {r["service_id"] for r in expired}:
        change.queues[sid] = waiting_count(conn, sid)
    change.counters = [counter_dict(conn, clock, r["id"]) for r in freed]
    return change


def rollover(conn, clock):
    """Start the service day if it has not started: expire yesterday's leftovers."""
    return write(conn, ensure_day, clock) or Change()


# -- issuing -------------------------------------------------------------------


@steady  # its writes (a ticket, its event, print job and outbox rows) change no kept read
def _issue(conn, clock, service_id, priority_kind, device_id, user_id, idempotency_key,
           printer_id, job_payload):
    ensure_day(conn, clock)
    if idempotency_key:
        row = conn.execute(
            "SELECT * FROM tickets WHERE idempotency_key = ?", (idempotency_key,)
        ).fetchone()
        if row is not None:
            return Change(ticket=ticket_dict(conn, clock, row), replayed=True)
    service = catalog.get_service(conn, service_id)
    now = clock.ts()
    day = clock.service_day(now)
    is_open, _, reason = catalog.service_open(service, clock.local(now),
                                              catalog.is_holiday(conn, day))
    if not is_open:
        raise Conflict("service_closed", f"The service {service['name']} is closed {reason}.")
    if priority_kind is not None and priority_kind not in PRIORITY_KINDS:
        raise Invalid("invalid_priority", "Unknown priority kind.",
                      {"priority": f"One of: {', '.join(PRIORITY_KINDS)}."})
    if not counter_count(conn, service_id):
        raise Conflict("no_counter", f"No counter serves {service['name']}, so nobody could "
                                     "call its tickets; add it to a counter first.")
    seq = next_seq(conn, service_id, day)
    quota = service["daily_quota"]
    # The day's bookings not yet checked in hold their seats out of the quota; checked-in
    # ones are already counted in the sequence.
    if quota is not None and seq + bookings.live_bookings_left(conn, clock, service_id, day, now) > quota:
        # Raising rolls the sequence back: no gap is left behind.
        raise Conflict(
            "quota_exhausted",
            f"Today's quota of {quota} tickets for {service['name']} is used up.",
        )
    return insert_ticket(conn, clock, service, day, seq, now, priority_kind=priority_kind,
                         device_id=device_id, user_id=user_id, idempotency_key=idempotency_key,
                         printer_id=printer_id, job_payload=job_payload)


def next_seq(conn, service_id, day):
    """The service's next number of the day (inside the caller's transaction)."""
    return conn.execute(
        """INSERT INTO sequences (service_id, service_day, last_seq) VALUES (?, ?, 1)
           ON CONFLICT (service_id, service_day) DO UPDATE SET last_seq = last_seq + 1
           RETURNING last_seq""",
        (service_id, day),
    ).fetchone()[0]


def insert_ticket(conn, clock, service, day, seq, now, *, priority_kind=None, device_id=None,
                  user_id=None, idempotency_key=None, printer_id=None, job_payload=None,
                  booking_id=None, slot_ts=None):
    """Write a new waiting ticket with number `seq` (and its print job); returns the Change."""
    service_id = service["id"]
    number = f"{service['prefix']}{seq:03d}"
    row = conn.execute(
        """INSERT INTO tickets (code, service_id, service_day, seq, number, priority,
               priority_kind, status, issued_ts, queue_ts, issued_by_device, issued_by_user,
               idempotency_key, print_status, origin_service_id, call_count, booking_id, slot_ts)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
           RETURNING *""",
        (secrets.token_urlsafe(12), service_id, day, seq, number,
         1 if priority_kind else 0, priority_kind, now, now, device_id, user_id,
         idempotency_key, "pending" if printer_id else "none", service_id, booking_id, slot_ts),
    ).fetchone()
    data = {"priority": priority_kind} if priority_kind else {}
    if booking_id:
        data["booking_id"] = booking_id
    _event(conn, row["id"], now, "issued", service_id, None, user_id, device_id, data or None)
    change = Change()
    if printer_id:
        change.print_job_id = conn.execute(
            """INSERT INTO print_jobs (ticket_id, printer_id, device_id, status, attempts,
                   payload, created_ts, next_try_ts)
               VALUES (?, ?, ?, 'pending', 0, ?, ?, ?) RETURNING id""",
            (row["id"], printer_id, device_id, json.dumps(job_payload or {}), now, now),
        ).fetchone()[0]
    if slot_ts is None:  # a walk-in: the newest ticket of its line
        ahead, waiting = newest_ahead(conn, [service_id], row)
        change.ticket = ticket_dict(conn, clock, row, service=service, ahead=ahead, newest=True)
    else:
        change.ticket = ticket_dict(conn, clock, row, service=service)
        waiting = waiting_count(conn, service_id)
    change.queues = {service_id: waiting}
    change.agencies = {service_id: service["agency_id"]}
    phone = contact_phone(conn, row)
    _notify(conn, "ticket.issued", change.ticket, now, **({"phone": phone} if phone else {}))
    return change


def issue(conn, clock, service_id, *, priority_kind=None, device_id=None, user_id=None,
          idempotency_key=None, printer_id=None, job_payload=None):
    """Issue the service's next number today; with a printer, spool its print job too.

    A repeated `idempotency_key` returns the ticket it issued before, unchanged.
    """
    return write(conn, _issue, clock, service_id, priority_kind, device_id, user_id,
                 idempotency_key, printer_id, job_payload)


# -- at the counter ------------------------------------------------------------


def _event(conn, ticket_id, ts, event, service_id, counter_id, user_id=None, device_id=None,
           data=None):
    conn.execute(
        """INSERT INTO ticket_events (ticket_id, ts, event, service_id, counter_id, user_id,
               device_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (ticket_id, ts, event, service_id, counter_id, user_id, device_id,
         json.dumps(data) if data else None),
    )


def _counter_row(conn, counter_id):
    return found(conn.execute("SELECT * FROM counters WHERE id = ?", (counter_id,)).fetchone(), "counter")


def _require_open(counter):
    if counter["state"] == "closed":
        raise Conflict("counter_closed", f"Counter {counter['number']} is closed; open it first.")


def _held_ticket(conn, counter, allowed):
    """The ticket the counter holds, which must be in one of `allowed` states."""
    _require_open(counter)
    if not counter["ticket_id"]:
        raise Conflict("no_ticket", f"Counter {counter['number']} holds no ticket.")
    row = ticket_row(conn, counter["ticket_id"])
    if row["status"] not in allowed:
        raise Conflict(
            "invalid_transition",
            f"Ticket {row['number']} is {row['status']}; this needs it {' or '.join(allowed)}.",
        )
    return row


def _call_change(conn, clock, row, counter, recall):
    call = {
        "ticket_id": row["id"], "number": row["number"], "service_id": row["service_id"],
        "counter_id": counter["id"], "counter_number": counter["number"],
        "recall": recall, "called_at": clock.iso(clock.ts()),
        # A booking's ticket: the lobby display may mark it (never who booked).
        "booking": bool(row["booking_id"]),
    }
    change = Change(
        ticket=ticket_dict(conn, clock, row),
        counter=counter_dict(conn, clock, counter["id"]),
        queues={row["service_id"]: waiting_count(conn, row["service_id"])},
        call=call,
    )
    phone = contact_phone(conn, row)
    _notify(conn, "ticket.called", change.ticket, clock.ts(), counter_number=counter["number"],
            counter_name=counter["name"], recall=recall,
            **({"phone": phone} if phone else {}))
    if not recall:
        _check_near(conn, clock, [row["service_id"]], clock.ts())
    return change


def _take(conn, clock, counter, ticket_id, user_id, now):
    """Mark a waiting/no-show ticket called at the counter (the guarded update)."""
    row = conn.execute(
        """UPDATE tickets SET status = 'called', counter_id = ?, called_ts = ?,
               call_count = call_count + 1, started_ts = NULL
           WHERE id = ? AND status IN ('waiting', 'no_show') RETURNING *""",
        (counter["id"], now, ticket_id),
    ).fetchone()
    conn.execute(
        "UPDATE counters SET ticket_id = ?, state = 'open', pause_reason = NULL, "
        "state_ts = CASE WHEN state = 'open' THEN state_ts ELSE ? END WHERE id = ?",
        (ticket_id, now, counter["id"]),
    )
    _event(conn, ticket_id, now, "called", row["service_id"], counter["id"], user_id)
    return row


# A called ticket (not started) may be finished only this long after its call: a double
# press of "finish and call next" must not finish the ticket it has just called.
# The setting `finish_rules` {"min_called_s": N} changes it; 0 turns the guard off.
DEFAULT_FINISH_MIN_CALLED_S = 10


def finish_min_called_s(conn):
    """Seconds a called (not yet started) ticket must be held before it can be finished."""
    row = conn.execute("SELECT value FROM settings WHERE key = 'finish_rules'").fetchone()
    try:
        value = json.loads(row[0]).get("min_called_s") if row else None
        return max(0, int(value)) if value is not None else DEFAULT_FINISH_MIN_CALLED_S
    except (TypeError, ValueError, AttributeError):
        return DEFAULT_FINISH_MIN_CALLED_S


def _finish_guard(conn, row, now):
    """Refuse to finish a ticket that is only called, within the guard time of its call.

    A ticket being served (after start) can always be finished at once.
    """
    if row["status"] != "called" or row["called_ts"] is None:
        return
    hold = finish_min_called_s(conn)
    if now - row["called_ts"] < hold:
        raise Conflict(
            "finish_too_soon",
            f"Ticket {row['number']} was called {int(now - row['called_ts'])} s ago and is not "
            f"being served: start serving it first, or finish it after {hold} s.",
        )


def _finish_held(conn, clock, counter, user_id, now):
    row = _held_ticket(conn, counter, ("called", "serving"))
    _finish_guard(conn, row, now)
    done = conn.execute(
        """UPDATE tickets SET status = 'done', finished_ts = ?,
               started_ts = coalesce(started_ts, ?) WHERE id = ? RETURNING *""",
        (now, now, row["id"]),
    ).fetchone()
    conn.execute("UPDATE counters SET ticket_id = NULL WHERE id = ?", (counter["id"],))
    _event(conn, row["id"], now, "finished", row["service_id"], counter["id"], user_id)
    return done


def _next_waiting(conn, counter_id, now):
    """The head of the line across the counter's services, in the contract's calling order:
    priority tickets; then checked-in bookings whose slot has started, earliest slot first;
    then the rest by queue time (a booking checked in early queues from its check-in).

    Each service's heads come straight off the partial indexes (`tickets_waiting`, and
    `tickets_booked_waiting` for the few booking tickets); comparing those few heads
    avoids sorting every waiting ticket of every service.
    """
    heads = []
    for (service_id,) in conn.execute(
        "SELECT service_id FROM counter_services WHERE counter_id = ?", (counter_id,)
    ).fetchall():
        head = conn.execute(
            """SELECT id, priority, queue_ts FROM tickets
               WHERE status = 'waiting' AND service_id = ?
               ORDER BY priority DESC, queue_ts, id LIMIT 1""",
            (service_id,),
        ).fetchone()
        if head is None:
            continue
        if head["priority"]:
            heads.append((0, head["queue_ts"], head["id"]))
            continue
        due = conn.execute(
            """SELECT id, slot_ts FROM tickets
               WHERE status = 'waiting' AND service_id = ? AND slot_ts IS NOT NULL AND slot_ts <= ?
               ORDER BY slot_ts, id LIMIT 1""",
            (service_id, now),
        ).fetchone()
        if due is not None:
            heads.append((1, due["slot_ts"], due["id"]))
        else:
            heads.append((2, head["queue_ts"], head["id"]))
    return (min(heads)[2],) if heads else None


def _call_next(conn, clock, counter_id, user_id, finish_current):
    ensure_day(conn, clock)
    counter = _counter_row(conn, counter_id)
    _require_open(counter)
    now = clock.ts()
    finished = None
    if counter["ticket_id"]:
        if not finish_current:
            held = ticket_row(conn, counter["ticket_id"])
            raise Conflict(
                "counter_busy",
                f"Counter {counter['number']} still holds ticket {held['number']}; "
                "finish it, mark it no-show or transfer it first.",
            )
        finished = _finish_held(conn, clock, counter, user_id, now)
        _notify_done(conn, ticket_dict(conn, clock, finished), finished, now)
        counter = _counter_row(conn, counter_id)
    nxt = _next_waiting(conn, counter_id, now)
    if nxt is None:
        change = Change(counter=counter_dict(conn, clock, counter_id))
    else:
        row = _take(conn, clock, counter, nxt[0], user_id, now)
        change = _call_change(conn, clock, row, counter, recall=False)
    if finished is not None:
        change.tickets.append(ticket_dict(conn, clock, finished))
    return change


def call_next(conn, clock, counter_id, *, user_id=None, finish_current=False):
    """Call the counter's next ticket: priority first, then the earliest in line.

    `change.ticket` is None when nothing waits.
    """
    return write(conn, _call_next, clock, counter_id, user_id, finish_current)


def _call_ticket(conn, clock, counter_id, ticket_id, user_id):
    ensure_day(conn, clock)
    counter = _counter_row(conn, counter_id)
    _require_open(counter)
    if counter["ticket_id"]:
        raise Conflict("counter_busy", f"Counter {counter['number']} already holds a ticket.")
    row = ticket_row(conn, ticket_id)
    service = catalog.get_service(conn, row["service_id"])
    if service["agency_id"] != counter["agency_id"]:
        raise Conflict("wrong_agency", f"Ticket {row['number']} belongs to another agency.")
    if row["status"] not in ("waiting", "no_show") or row["service_day"] != clock.service_day():
        raise Conflict(
            "invalid_transition",
            f"Ticket {row['number']} is {row['status']}; only a waiting or no-show ticket "
            "of today can be called out of turn.",
        )
    row = _take(conn, clock, counter, ticket_id, user_id, clock.ts())
    return _call_change(conn, clock, row, counter, recall=False)


def call_ticket(conn, clock, counter_id, ticket_id, *, user_id=None):
    """Call one waiting or no-show ticket out of turn (a latecomer)."""
    return write(conn, _call_ticket, clock, counter_id, ticket_id, user_id)


def _recall(conn, clock, counter_id, user_id):
    counter = _counter_row(conn, counter_id)
    row = _held_ticket(conn, counter, ("called",))
    now = clock.ts()
    row = conn.execute(
        "UPDATE tickets SET call_count = call_count + 1 WHERE id = ? RETURNING *", (row["id"],)
    ).fetchone()
    _event(conn, row["id"], now, "recalled", row["service_id"], counter_id, user_id)
    return _call_change(conn, clock, row, counter, recall=True)


def recall(conn, clock, counter_id, *, user_id=None):
    """Announce the counter's called ticket again."""
    return write(conn, _recall, clock, counter_id, user_id)


def _start(conn, clock, counter_id, user_id):
    counter = _counter_row(conn, counter_id)
    row = _held_ticket(conn, counter, ("called",))
    now = clock.ts()
    row = conn.execute(
        "UPDATE tickets SET status = 'serving', started_ts = ? WHERE id = ? RETURNING *",
        (now, row["id"]),
    ).fetchone()
    _event(conn, row["id"], now, "started", row["service_id"], counter_id, user_id)
    return Change(ticket=ticket_dict(conn, clock, row), counter=counter_dict(conn, clock, counter_id))


def start(conn, clock, counter_id, *, user_id=None):
    """The citizen has arrived at the counter: the ticket is now being served."""
    return write(conn, _start, clock, counter_id, user_id)


def _notify_done(conn, ticket, row, ts):
    phone = contact_phone(conn, row)
    _notify(conn, "ticket.done", ticket, ts, **({"phone": phone} if phone else {}))


def _finish(conn, clock, counter_id, user_id):
    counter = _counter_row(conn, counter_id)
    now = clock.ts()
    row = _finish_held(conn, clock, counter, user_id, now)
    change = Change(ticket=ticket_dict(conn, clock, row), counter=counter_dict(conn, clock, counter_id))
    _notify_done(conn, change.ticket, row, now)
    return change


def finish(conn, clock, counter_id, *, user_id=None):
    """The service is done; the counter is free."""
    return write(conn, _finish, clock, counter_id, user_id)


def _no_show(conn, clock, counter_id, user_id, min_calls, min_wait_s):
    counter = _counter_row(conn, counter_id)
    row = _held_ticket(conn, counter, ("called",))
    now = clock.ts()
    if row["call_count"] < min_calls:
        raise Conflict(
            "too_early", f"Call ticket {row['number']} at least {min_calls} times before a no-show."
        )
    if row["called_ts"] is not None and now - row["called_ts"] < min_wait_s:
        raise Conflict(
            "too_early", f"Wait at least {min_wait_s} seconds after the call before a no-show."
        )
    row = conn.execute(
        "UPDATE tickets SET status = 'no_show', finished_ts = ? WHERE id = ? RETURNING *",
        (now, row["id"]),
    ).fetchone()
    conn.execute("UPDATE counters SET ticket_id = NULL WHERE id = ?", (counter_id,))
    _event(conn, row["id"], now, "no_show", row["service_id"], counter_id, user_id)
    return Change(ticket=ticket_dict(conn, clock, row), counter=counter_dict(conn, clock, counter_id))


def no_show(conn, clock, counter_id, *, user_id=None, min_calls=0, min_wait_s=0):
    """The citizen did not come: release the counter, keep the ticket callable later."""
    return write(conn, _no_show, clock, counter_id, user_id, min_calls, min_wait_s)


def _transfer(conn, clock, counter_id, service_id, position, user_id):
    if position not in ("first", "last"):
        raise Invalid("invalid_position", "Position must be first or last.",
                      {"position": "Must be first or last."})
    counter = _counter_row(conn, counter_id)
    row = _held_ticket(conn, counter, ("called", "serving"))
    target = catalog.get_service(conn, service_id)
    if not target["active"]:
        raise Conflict("service_inactive", f"The service {target['name']} is not active.")
    if not counter_count(conn, service_id):
        raise Conflict("no_counter", f"No counter serves {target['name']}; the ticket would "
                                     "never be called there.")
    now = clock.ts()
    if position == "first":
        head = conn.execute(
            "SELECT min(queue_ts) FROM tickets WHERE status = 'waiting' AND service_id = ?",
            (service_id,),
        ).fetchone()[0]
        queue_ts = min(head - 1, now) if head is not None else now
    else:
        queue_ts = now
    moved = conn.execute(
        # A transferred booking ticket is a normal ticket in its new line (no slot).
        """UPDATE tickets SET status = 'waiting', service_id = ?, queue_ts = ?, counter_id = NULL,
               called_ts = NULL, started_ts = NULL, call_count = 0, slot_ts = NULL
           WHERE id = ? RETURNING *""",
        (service_id, queue_ts, row["id"]),
    ).fetchone()
    conn.execute("UPDATE counters SET ticket_id = NULL WHERE id = ?", (counter_id,))
    _event(conn, row["id"], now, "transferred", service_id, counter_id, user_id,
           data={"from_service_id": row["service_id"], "to_service_id": service_id,
                 "position": position})
    queues = {service_id: waiting_count(conn, service_id)}
    queues[row["service_id"]] = waiting_count(conn, row["service_id"])
    return Change(ticket=ticket_dict(conn, clock, moved),
                  counter=counter_dict(conn, clock, counter_id), queues=queues)


def transfer(conn, clock, counter_id, service_id, position, *, user_id=None):
    """Send the counter's ticket to another service's line, first or last; number kept."""
    return write(conn, _transfer, clock, counter_id, service_id, position, user_id)


# -- the counter itself --------------------------------------------------------


def _counter_event(conn, counter_id, now, event, reason, user_id):
    conn.execute(
        "INSERT INTO counter_events (counter_id, ts, event, reason, user_id) VALUES (?, ?, ?, ?, ?)",
        (counter_id, now, event, reason, user_id),
    )


def _set_state(conn, clock, counter_id, state, reason, user_id):
    ensure_day(conn, clock)
    counter = _counter_row(conn, counter_id)
    now = clock.ts()
    if state == "closed" and counter["ticket_id"]:
        held = ticket_row(conn, counter["ticket_id"])
        raise Conflict(
            "counter_busy",
            f"Counter {counter['number']} still holds ticket {held['number']}; "
            "finish, no-show or transfer it before closing.",
        )
    if state == "paused" and counter["state"] == "closed":
        raise Conflict("counter_closed", f"Counter {counter['number']} is closed.")
    if state == "open" and counter["state"] == "open":
        return Change(counter=counter_dict(conn, clock, counter_id))  # already open: no-op
    conn.execute(
        "UPDATE counters SET state = ?, pause_reason = ?, state_ts = ?, "
        "user_id = CASE WHEN ? = 'closed' THEN NULL ELSE coalesce(?, user_id) END WHERE id = ?",
        (state, reason if state == "paused" else None, now, state, user_id, counter_id),
    )
    _counter_event(conn, counter_id, now, state, reason, user_id)
    change = Change(counter=counter_dict(conn, clock, counter_id))
    for sid in change.counter["service_ids"]:
        change.queues[sid] = waiting_count(conn, sid)
    return change


def open_counter(conn, clock, counter_id, *, user_id=None):
    """Open the counter (or resume it from a pause)."""
    return write(conn, _set_state, clock, counter_id, "open", None, user_id)


def close_counter(conn, clock, counter_id, *, user_id=None):
    """Close the counter; refused while it holds a ticket."""
    return write(conn, _set_state, clock, counter_id, "closed", None, user_id)


def pause_counter(conn, clock, counter_id, reason, *, user_id=None):
    """Pause an open counter with a reason (istirahat, sholat, gangguan sistem...)."""
    if not reason or not str(reason).strip():
        raise Invalid("invalid_reason", "A pause needs a reason.", {"reason": "Required."})
    return write(conn, _set_state, clock, counter_id, "paused", str(reason).strip()[:100],
                 user_id)


# -- withdrawing a ticket -------------------------------------------------------


def _cancel(conn, clock, ticket_id, user_id, device_id):
    row = found(conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone(), "ticket")
    if row["status"] in ("called", "serving"):
        raise Conflict("ticket_called", f"Ticket {row['number']} has been called already; "
                                        "only a waiting ticket can be cancelled.")
    if row["status"] != "waiting":
        raise Conflict("ticket_closed", f"Ticket {row['number']} is {row['status']}; "
                                        "only a waiting ticket can be cancelled.")
    now = clock.ts()
    row = conn.execute("UPDATE tickets SET status = 'cancelled', finished_ts = ? WHERE id = ? "
                       "RETURNING *", (now, ticket_id)).fetchone()
    _event(conn, ticket_id, now, "cancelled", row["service_id"], None, user_id, device_id,
           {"by": "staff" if user_id else "citizen"})
    if user_id:  # staff took it out of the line: the audit log says who (a citizen is no one)
        catalog.audit(conn, "ticket.cancel", f"ticket:{ticket_id}", {"number": row["number"]},
                      user_id=user_id, ts=now)
    return Change(ticket=ticket_dict(conn, clock, row),
                  queues={row["service_id"]: waiting_count(conn, row["service_id"])})


def cancel(conn, clock, ticket_id, *, user_id=None, device_id=None):
    """Withdraw a waiting ticket (the citizen gave up, or staff took it out of the line)."""
    return write(conn, _cancel, clock, ticket_id, user_id, device_id)


def _cancel_at_counter(conn, clock, counter_id, ticket_id, user_id):
    counter = _counter_row(conn, counter_id)
    row = ticket_row(conn, ticket_id)
    if catalog.get_service(conn, row["service_id"])["agency_id"] != counter["agency_id"]:
        raise Conflict("wrong_agency", f"Ticket {row['number']} belongs to another agency.")
    return _cancel(conn, clock, ticket_id, user_id, None)


def cancel_at_counter(conn, clock, counter_id, ticket_id, *, user_id=None):
    """An officer takes a waiting ticket of the counter's agency out of the line (audited)."""
    return write(conn, _cancel_at_counter, clock, counter_id, ticket_id, user_id)
