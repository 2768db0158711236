"""Reading the queue: waiting counts, places in line, estimated waits, tickets and counters
as the API shows them, recent calls. No writes here; db/tickets.py changes the queue."""

import statistics

from db import catalog
from db.connection import remember
from db.errors import found

# The rolling median of service times uses today's latest finished tickets;
# below MIN_SAMPLES the service's configured default stands in.
MEDIAN_WINDOW = 20
MIN_SAMPLES = 3
RECENT_CALLS = 10


# `queue_counts` (migration 9) holds each service's waiting tickets and how many of them
# are priority, kept by triggers on `tickets`: reading it costs the same with 5 or 5,000
# waiting, where count(*) walked the whole line on every ticket issued.


def waiting_count(conn, service_id):
    """How many tickets wait in a service right now."""
    row = conn.execute("SELECT waiting FROM queue_counts WHERE service_id = ?",
                       (service_id,)).fetchone()
    return row[0] if row else 0


def _totals(conn, service_ids):
    """(waiting, of which priority) over these services."""
    marks = ",".join("?" * len(service_ids))
    waiting, priority = conn.execute(
        f"SELECT coalesce(sum(waiting), 0), coalesce(sum(priority), 0) FROM queue_counts "
        f"WHERE service_id IN ({marks})", tuple(service_ids)).fetchone()
    return waiting, priority


def waiting_counts(conn):
    """{service_id: waiting} for every active service (zeros included)."""
    return {sid: n for sid, n in conn.execute(
        "SELECT s.id, coalesce(q.waiting, 0) FROM services s "
        "LEFT JOIN queue_counts q ON q.service_id = s.id WHERE s.active = 1")}


# The calling order as SQL (see db/tickets._next_waiting): class 0 priority, 1 a checked-in
# booking whose slot has started (by slot), 2 the rest (by queue time); then the id.
def _order_sql(t=""):
    """(class, time) of the calling order as SQL, on the tickets table aliased `t` (or none)."""
    p = f"{t}." if t else ""
    cls = (f"CASE WHEN {p}priority > 0 THEN 0 WHEN {p}slot_ts IS NOT NULL AND {p}slot_ts <= :now "
           "THEN 1 ELSE 2 END")
    ts = (f"CASE WHEN {p}priority = 0 AND {p}slot_ts IS NOT NULL AND {p}slot_ts <= :now "
          f"THEN {p}slot_ts ELSE {p}queue_ts END")
    return cls, ts




def order_key(row, now):
    """(class, time) of a waiting ticket in the calling order at `now`."""
    if row["priority"]:
        return 0, row["queue_ts"]
    if row["slot_ts"] is not None and row["slot_ts"] <= now:
        return 1, row["slot_ts"]
    return 2, row["queue_ts"]


def count_ahead(conn, service_ids, row, now):
    """Waiting tickets of these services that call-next takes before `row` at `now`.

    The line's totals come from `queue_counts`; what is counted is only the part of the
    line behind `row` (those queued at or after it are taken off the total), each a range
    of a partial index (`tickets_waiting` for priority and queue time,
    `tickets_booked_waiting` for the few booking tickets). A ticket just issued is at the
    back: its place costs the same however long the line.
    """
    cls, ots = order_key(row, now)
    params = {f"s{i}": sid for i, sid in enumerate(service_ids)}
    args = {**params, "id": row["id"], "ts": ots, "now": now}
    marks = ",".join(":" + k for k in params)
    within = f"status = 'waiting' AND service_id IN ({marks})"
    # The line's totals and the counts behind it in one statement (one round trip).
    totals = (f"(SELECT coalesce(sum(waiting), 0) FROM queue_counts WHERE service_id IN ({marks})), "
              f"(SELECT coalesce(sum(priority), 0) FROM queue_counts WHERE service_id IN ({marks}))")
    if cls == 0:
        # Priority tickets queued before it: all of them but those at or after it.
        _, priority, behind = conn.execute(
            f"SELECT {totals}, (SELECT count(*) FROM tickets WHERE {within} AND priority > 0 "
            "AND (queue_ts, id) >= (:ts, :id))", args).fetchone()
        return priority - behind
    if cls == 1:
        _, priority, due_before = conn.execute(
            f"SELECT {totals}, (SELECT count(*) FROM tickets WHERE {within} AND priority = 0 "
            "AND slot_ts IS NOT NULL AND slot_ts <= :now AND (slot_ts, id) < (:ts, :id))",
            args).fetchone()
        return priority + due_before
    # Everyone queued earlier (the others queued at or after it taken off the total), and
    # the booking tickets now due that queued later.
    waiting, priority, behind, due_later = conn.execute(
        f"SELECT {totals}, (SELECT count(*) FROM tickets WHERE {within} AND priority = 0 "
        "AND (queue_ts, id) >= (:ts, :id)), (SELECT count(*) FROM tickets WHERE "
        f"{within} AND priority = 0 AND slot_ts IS NOT NULL AND slot_ts <= :now "
        "AND (queue_ts, id) >= (:ts, :id) AND id != :id)", args).fetchone()
    return priority + (waiting - priority - behind) + due_later


def newest_ahead(conn, service_ids, row):
    """(ahead, waiting) over these services for a walk-in's ticket just issued: the newest of
    every line, no booking slot, so call-next takes every other waiting ticket first (a
    priority ticket: every other priority one). `count_ahead` gives the same, counting."""
    waiting, priority = _totals(conn, service_ids)
    return (priority if row["priority"] else waiting) - 1, waiting


def _ahead(conn, row, now):
    """Waiting tickets of the same service that call-next takes before this one."""
    return count_ahead(conn, [row["service_id"]], row, now)


def _sharing(conn, service_id):
    """The services sharing a counter with this one, itself included; [] if no counter serves it."""
    return remember(conn, ("sharing", service_id), lambda: [r[0] for r in conn.execute(
        """SELECT DISTINCT b.service_id FROM counter_services a
           JOIN counter_services b ON b.counter_id = a.counter_id WHERE a.service_id = ?""",
        (service_id,),
    )])


def sharing_services(conn, service_id):
    """The services whose tickets compete for the same counters as this one's (itself included)."""
    return _sharing(conn, service_id) or [service_id]


def service_time_s(conn, service, day, service_ids=None):
    """Rolling median of today's call-to-finish times at these services' counters,
    or the service's configured default below MIN_SAMPLES."""
    service_ids = service_ids or [service["id"]]

    def read():
        marks = ",".join("?" * len(service_ids))
        rows = conn.execute(
            f"""SELECT finished_ts - called_ts FROM tickets
                WHERE service_id IN ({marks}) AND status = 'done' AND service_day = ?
                  AND called_ts IS NOT NULL AND finished_ts IS NOT NULL
                ORDER BY finished_ts DESC LIMIT ?""",
            (*service_ids, day, MEDIAN_WINDOW),
        ).fetchall()
        if len(rows) < MIN_SAMPLES:
            return float(service["default_service_s"] or 300)
        return float(statistics.median(r[0] for r in rows))

    return remember(conn, ("service_time", service["id"], day, tuple(service_ids)), read)


def open_counters_for(conn, service_id):
    """How many open (or paused) counters serve a service."""
    return conn.execute(
        """SELECT count(*) FROM counters c JOIN counter_services cs ON cs.counter_id = c.id
           WHERE cs.service_id = ? AND c.state != 'closed'""",
        (service_id,),
    ).fetchone()[0]


def counter_count(conn, service_id):
    """How many counters (open or not) serve a service; 0 means nobody can call its tickets."""
    return remember(conn, ("counter_count", service_id), lambda: conn.execute(
        "SELECT count(*) FROM counter_services WHERE service_id = ?", (service_id,)).fetchone()[0])


def wait_parts(conn, service, day, row=None, now=None, newest=False):
    """(competing ahead, estimated wait in s) of a waiting ticket (`row`), or of one taken now;
    `newest`: `row` is a walk-in's ticket just issued (see newest_ahead).

    (competing ahead + busy counters / 2) / open counters (at least one) x median service time,
    where "competing ahead" counts the waiting tickets of every service sharing a counter
    with this one that call-next would take first (a counter serving KTP and KK works
    through both lines); the estimate also counts the bookings not yet checked in whose slot
    comes before the estimated call: they will go first when they arrive. The estimate is
    None when no counter serves the service: nobody will call it, and no figure would be
    true. See docs/architecture.md.
    """
    # One read says both who shares its counters and whether any counter serves it at all.
    sharing = _sharing(conn, service["id"])
    if not sharing:
        return 0, None
    if now is None:
        import time

        now = time.time()  # callers pass the MPP clock's now; this is for scripts
    params = {f"s{i}": sid for i, sid in enumerate(sharing)}
    in_sharing = ",".join(":" + k for k in params)

    def ahead_at(when):
        """Waiting tickets call-next would take before this one at `when`."""
        if row is None:
            return _totals(conn, sharing)[0]
        if newest and when == now:
            return newest_ahead(conn, sharing, row)[0]
        return count_ahead(conn, sharing, row, when)

    def booked_before(until, strictly=False):
        """Booked citizens not yet checked in, still able to, whose slot starts by `until`."""
        return conn.execute(
            f"""SELECT count(*) FROM bookings b LEFT JOIN booking_settings s ON s.service_id = b.service_id
                WHERE b.status = 'booked' AND b.service_id IN ({in_sharing})
                  AND b.slot_start_ts {'<' if strictly else '<='} :until
                  AND b.slot_start_ts + 60 * coalesce(s.check_in_late_minutes, 15) >= :now""",
            {**params, "until": until, "now": now}).fetchone()[0]

    per_ticket = service_time_s(conn, service, day, sharing)
    counters, busy = remember(conn, ("counters", service["id"]), lambda: tuple(conn.execute(
        """SELECT count(*), count(c.ticket_id) FROM counters c
           JOIN counter_services cs ON cs.counter_id = c.id
           WHERE cs.service_id = ? AND c.state != 'closed'""",
        (service["id"],),
    ).fetchone()))

    def wait(n):
        # A counter busy with someone frees up, on average, half a service time from now.
        return (n + busy / 2) / max(1, counters) * per_ticket

    ahead = ahead_at(now)
    cls = 2 if row is None else order_key(row, now)[0]
    if cls < 2:  # priority, or a booking whose slot has started: only those ahead count
        return ahead, int(round(wait(ahead)))
    # Booked citizens due before this one's call go first when they come: count those
    # whose slot starts before the estimated call, until the count settles.
    due = 0
    for _ in range(5):
        more = booked_before(now + wait(ahead + due))
        if more == due:
            break
        due = more
    estimate = wait(ahead + due)
    if row is not None and row["slot_ts"] is not None:
        # A booking checked in early: called in its turn from check-in if the line is short,
        # else from its slot's start, behind the priority tickets and the earlier slots.
        at_slot = (row["slot_ts"] - now) + wait(ahead_at(row["slot_ts"])
                                               + booked_before(row["slot_ts"], strictly=True))
        estimate = min(estimate, at_slot)
    return ahead, int(round(estimate))


def estimate_wait_s(conn, service, day, row=None, now=None):
    """Estimated wait of a waiting ticket (`row`), or of one taken now (no row); None when
    no counter serves the service. See wait_parts."""
    return wait_parts(conn, service, day, row, now)[1]


def ticket_dict(conn, clock, row, service=None, ahead=None, newest=False):
    """A ticket as the API shows it (without `tracking_url`, which the web adds).

    Callers that already know the ticket's service row or its place in line
    pass them in, to save the queries; `newest`: a walk-in's ticket just issued
    (its places are read from the lines' totals, see newest_ahead).
    """
    estimate, others = 0, 0
    now = clock.ts()
    if row["status"] == "waiting":
        if ahead is None:
            ahead = _ahead(conn, row, now)
        if service is None:
            service = catalog.get_service(conn, row["service_id"])
        competing, estimate = wait_parts(conn, service, row["service_day"], row, now, newest)
        # The estimate counts everyone the ticket's counters call first; `ahead` only its own
        # service's line. The difference is said to the citizen, so both figures agree.
        others = max(0, competing - ahead)
    else:
        ahead = 0
    booking = _booking_of(conn, clock, row)
    return {
        "id": row["id"],
        "code": row["code"],
        "number": row["number"],
        "service_id": row["service_id"],
        "status": row["status"],
        "priority": bool(row["priority"]),
        "priority_kind": row["priority_kind"],
        "issued_at": clock.iso(row["issued_ts"]),
        "called_at": clock.iso(row["called_ts"]),
        "started_at": clock.iso(row["started_ts"]),
        "finished_at": clock.iso(row["finished_ts"]),
        "counter_id": row["counter_id"],
        "call_count": row["call_count"],
        "ahead": ahead,
        "ahead_other_services": others,
        "estimated_wait_s": estimate,
        "print_status": row["print_status"],
        "service_day": row["service_day"],
        **booking,
    }


def _booking_of(conn, clock, row):
    """The booking fields of a ticket: its code, slot and name (None for a walk-in)."""
    if not row["booking_id"]:
        return {"booking_code": None, "slot_start": None, "slot_end": None, "booking_name": None}
    b = conn.execute("SELECT code, slot_start_ts, slot_end_ts, name FROM bookings WHERE id = ?",
                     (row["booking_id"],)).fetchone()
    return {"booking_code": b["code"], "slot_start": clock.iso(b["slot_start_ts"]),
            "slot_end": clock.iso(b["slot_end_ts"]), "booking_name": b["name"]}


def ticket_row(conn, ticket_id):
    """The ticket's row, or NotFound."""
    return found(conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone(), "ticket")


def get_ticket(conn, clock, ticket_id):
    """One ticket by id."""
    return ticket_dict(conn, clock, ticket_row(conn, ticket_id))


def get_ticket_by_code(conn, clock, code):
    """One ticket by its unguessable code."""
    row = found(conn.execute("SELECT * FROM tickets WHERE code = ?", (code,)).fetchone(), "ticket", by="code")
    return ticket_dict(conn, clock, row)


def ticket_tracking(conn, clock, code):
    """A ticket by its code with what its tracking page shows: its service's and agency's
    names, its counter once called, and the numbers of the counters that serve the service."""
    ticket = get_ticket_by_code(conn, clock, code)
    service = catalog.get_service(conn, ticket["service_id"])
    counter = None
    if ticket["counter_id"] is not None:
        row = conn.execute("SELECT id, number, name FROM counters WHERE id = ?",
                           (ticket["counter_id"],)).fetchone()
        counter = dict(row) if row else None
    numbers = [r[0] for r in conn.execute(
        "SELECT c.number FROM counters c JOIN counter_services cs ON cs.counter_id = c.id "
        "WHERE cs.service_id = ? ORDER BY c.number", (ticket["service_id"],))]
    return {"ticket": ticket, "service_name": service["name"],
            "agency_name": catalog.get_agency(conn, service["agency_id"])["name"],
            "counter": counter, "counter_numbers": numbers}


def waiting_list(conn, clock, service_ids, limit=200):
    """The waiting tickets of some services, in the order call-next takes them."""
    if not service_ids:
        return []
    params = {f"s{i}": sid for i, sid in enumerate(service_ids)}
    rows = conn.execute(
        f"""SELECT t.*, b.code AS b_code, b.name AS b_name, b.slot_start_ts AS b_start
            FROM tickets t LEFT JOIN bookings b ON b.id = t.booking_id
            WHERE t.status = 'waiting' AND t.service_id IN ({','.join(':' + k for k in params)})
            ORDER BY {", ".join(_order_sql("t"))}, t.id
            LIMIT :limit""",
        {**params, "now": clock.ts(), "limit": limit},
    ).fetchall()
    return [
        {"id": r["id"], "number": r["number"], "service_id": r["service_id"],
         "priority": bool(r["priority"]), "priority_kind": r["priority_kind"],
         "issued_at": clock.iso(r["issued_ts"]), "call_count": r["call_count"],
         "booking_code": r["b_code"], "booking_name": r["b_name"],
         "slot_start": clock.iso(r["b_start"])}
        for r in rows
    ]


def counter_dict(conn, clock, counter_id):
    """A counter as the API shows it, with the ticket it holds."""
    row = found(conn.execute("SELECT * FROM counters WHERE id = ?", (counter_id,)).fetchone(), "counter")
    return _counter_from_row(conn, clock, row)


def _counter_from_row(conn, clock, row):
    service_ids = [
        r[0] for r in conn.execute(
            "SELECT service_id FROM counter_services WHERE counter_id = ? ORDER BY service_id",
            (row["id"],),
        )
    ]
    ticket = get_ticket(conn, clock, row["ticket_id"]) if row["ticket_id"] else None
    return {
        "id": row["id"],
        "agency_id": row["agency_id"],
        "number": row["number"],
        "name": row["name"],
        "service_ids": service_ids,
        "state": row["state"],
        "pause_reason": row["pause_reason"],
        "user_id": row["user_id"],
        "since": clock.iso(row["state_ts"]),
        "ticket": ticket,
    }


def list_counters(conn, clock, agency_id=None):
    """Every counter (of one agency, if given), ordered by number."""
    if agency_id is None:
        rows = conn.execute("SELECT * FROM counters ORDER BY number, id").fetchall()
    else:
        rows = conn.execute(
            "SELECT * FROM counters WHERE agency_id = ? ORDER BY number, id", (agency_id,)
        ).fetchall()
    return [_counter_from_row(conn, clock, r) for r in rows]


def recent_calls(conn, clock, limit=RECENT_CALLS, agency_ids=None):
    """Today's latest calls and recalls, newest first."""
    day = clock.service_day()
    params = [day]
    where = ""
    if agency_ids is not None:
        if not agency_ids:
            return []
        where = f"AND s.agency_id IN ({','.join('?' * len(agency_ids))})"
        params += list(agency_ids)
    rows = conn.execute(
        f"""SELECT e.ticket_id, e.ts, e.event, e.counter_id, t.number, t.service_id,
                   t.booking_id, c.number AS counter_number
            FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
            JOIN services s ON s.id = t.service_id
            LEFT JOIN counters c ON c.id = e.counter_id
            WHERE e.event IN ('called', 'recalled') AND t.service_day = ? {where}
            ORDER BY e.id DESC LIMIT ?""",
        (*params, limit),
    ).fetchall()
    return [
        {"ticket_id": r["ticket_id"], "number": r["number"], "service_id": r["service_id"],
         "counter_id": r["counter_id"], "counter_number": r["counter_number"],
         "recall": r["event"] == "recalled", "called_at": clock.iso(r["ts"]),
         "booking": bool(r["booking_id"])}
        for r in rows
    ]
