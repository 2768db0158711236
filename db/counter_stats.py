"""What the counter console reads beyond the engine: today's own figures, the callable
tickets and the no-show rules.

Read-only SQL over tickets and ticket_events; db/tickets.py stays the only writer.
"""

import statistics

from db import accounts

DEFAULT_NO_SHOW_RULES = {"min_calls": 2, "min_wait_s": 30}


def _figures(conn, day, where, params):
    """served, no-shows, transfers and the median call-to-finish time of some events today."""
    counts = dict(conn.execute(
        f"""SELECT e.event, count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
            WHERE t.service_day = ? AND e.event IN ('finished', 'no_show', 'transferred')
              AND {where}
            GROUP BY e.event""",
        (day, *params),
    ).fetchall())
    # The ticket's last call to its finish: what the engine's estimates use too.
    durations = [r[0] for r in conn.execute(
        f"""SELECT t.finished_ts - t.called_ts FROM ticket_events e
            JOIN tickets t ON t.id = e.ticket_id
            WHERE t.service_day = ? AND e.event = 'finished' AND t.status = 'done'
              AND t.called_ts IS NOT NULL AND t.finished_ts IS NOT NULL AND {where}
            ORDER BY 1""",
        (day, *params),
    )]
    return {
        "served": counts.get("finished", 0),
        "no_shows": counts.get("no_show", 0),
        "transferred": counts.get("transferred", 0),
        "median_service_s": int(round(statistics.median(durations))) if durations else None,
    }


def counter_stats(conn, clock, counter_id, user_id=None):
    """Today's figures of a counter, and of one officer (at any counter) if given."""
    day = clock.service_day()
    out = {"service_day": day,
           "counter": _figures(conn, day, "e.counter_id = ?", (counter_id,)),
           "me": None}
    if user_id is not None:
        out["me"] = _figures(conn, day, "e.user_id = ?", (user_id,))
    return out


def callable_tickets(conn, clock, agency_id, limit=300):
    """Today's waiting and no-show tickets of an agency: what may be called out of turn."""
    rows = conn.execute(
        """SELECT t.* FROM tickets t JOIN services s ON s.id = t.service_id
           WHERE s.agency_id = ? AND t.service_day = ? AND t.status IN ('waiting', 'no_show')
           ORDER BY t.status = 'no_show', t.priority DESC, t.queue_ts, t.id LIMIT ?""",
        (agency_id, clock.service_day(), limit),
    ).fetchall()
    return [
        {"id": r["id"], "number": r["number"], "service_id": r["service_id"],
         "status": r["status"], "priority": bool(r["priority"]),
         "priority_kind": r["priority_kind"], "issued_at": clock.iso(r["issued_ts"]),
         "call_count": r["call_count"]}
        for r in rows
    ]


def no_show_rules(conn):
    """The rules an admin set (the server enforces them), else None."""
    rules = accounts.get_setting(conn, "no_show_rules", None)
    if not isinstance(rules, dict):
        return None
    return {"min_calls": int(rules.get("min_calls", 0) or 0),
            "min_wait_s": int(rules.get("min_wait_s", 0) or 0)}


def console_no_show_rules(conn):
    """What the console applies: the configured rules, or its defaults when none are set."""
    rules = no_show_rules(conn)
    if rules is None:
        return {**DEFAULT_NO_SHOW_RULES, "enforced": False}
    return {**rules, "enforced": True}
