"""Reports: tickets issued, served, no-show ...; waiting and service times; arrivals.

The figures come from `ticket_visits`: one row per stretch of a ticket in one
service's line, kept by SQLite triggers on `ticket_events` inside the engine's
own transactions (so db/tickets.py stays the one writer of tickets). A
transfer closes the visit (outcome `transferred`) and opens a new one in the
target service whose wait restarts at the transfer.

- waiting time: first call of the visit - when it joined the line (issue or transfer)
- service time: finish - the last call (walk-up and service at the counter), done visits only
- target compliance: called visits whose wait was within the service's target (current setting)
- percentiles: PERCENTILE.INC (linear between ranks), on times rounded to whole seconds

A whole month that has ended is summarised once (counts and time histograms
per service, counter and officer) into report_month_*; a year's report then
reads twelve summaries instead of a million visits. In those summaries times
are bucketed (1 s below 2 min, 5 s below 10 min, 15 s below 1 h, then 1 min),
and the target compliance keeps the target in force when the month was summarised.
"""

import json
import time
from datetime import date, datetime, timedelta

from db.connection import write

# Migration 4 runs this; it has shipped, so change it only through a new migration.
VISITS_SCHEMA = [
    """CREATE TABLE ticket_visits (
           id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id),
           service_id INTEGER NOT NULL, service_day TEXT NOT NULL, first INTEGER NOT NULL,
           queued_ts REAL NOT NULL, first_called_ts REAL, called_ts REAL, finished_ts REAL,
           counter_id INTEGER, user_id INTEGER, outcome TEXT)""",
    "CREATE INDEX ticket_visits_ticket ON ticket_visits (ticket_id)",
    "CREATE INDEX ticket_visits_day ON ticket_visits (service_day, service_id)",
    # Monthly summaries of closed months (see report()).
    "CREATE TABLE report_months (month TEXT PRIMARY KEY, built_ts REAL)",
    # level: 'service', 'counter' or 'officer'; key: that thing's id (NULL: none).
    """CREATE TABLE report_month_counts (
           month TEXT NOT NULL, agency_id INTEGER NOT NULL, level TEXT NOT NULL, key INTEGER,
           issued INTEGER, transferred_in INTEGER, called INTEGER, served INTEGER,
           no_show INTEGER, cancelled INTEGER, expired INTEGER, transferred_out INTEGER,
           within_target INTEGER)""",
    "CREATE INDEX report_month_counts_month ON report_month_counts (month, level)",
    # kind: 'wait' or 'service' (x = bucketed seconds), 'arrival' (x = hour, level 'service').
    """CREATE TABLE report_month_hist (
           month TEXT NOT NULL, agency_id INTEGER NOT NULL, level TEXT NOT NULL, key INTEGER,
           kind TEXT NOT NULL, x INTEGER NOT NULL, n INTEGER NOT NULL)""",
    "CREATE INDEX report_month_hist_month ON report_month_hist (month, level)",
    """CREATE TRIGGER ticket_visits_issued AFTER INSERT ON ticket_events
       WHEN NEW.event = 'issued' BEGIN
         INSERT INTO ticket_visits (ticket_id, service_id, service_day, first, queued_ts)
         SELECT NEW.ticket_id, coalesce(NEW.service_id, t.service_id), t.service_day, 1, NEW.ts
         FROM tickets t WHERE t.id = NEW.ticket_id;
       END""",
    """CREATE TRIGGER ticket_visits_called AFTER INSERT ON ticket_events
       WHEN NEW.event = 'called' BEGIN
         UPDATE ticket_visits SET first_called_ts = coalesce(first_called_ts, NEW.ts),
             called_ts = NEW.ts, counter_id = NEW.counter_id, user_id = NEW.user_id,
             outcome = NULL, finished_ts = NULL
         WHERE id = (SELECT max(id) FROM ticket_visits WHERE ticket_id = NEW.ticket_id);
       END""",
    """CREATE TRIGGER ticket_visits_ended AFTER INSERT ON ticket_events
       WHEN NEW.event IN ('finished', 'no_show', 'expired', 'cancelled', 'transferred') BEGIN
         UPDATE ticket_visits SET finished_ts = NEW.ts,
             outcome = CASE NEW.event WHEN 'finished' THEN 'done' ELSE NEW.event END,
             user_id = CASE WHEN NEW.event = 'finished' THEN coalesce(NEW.user_id, user_id)
                            ELSE user_id END
         WHERE id = (SELECT max(id) FROM ticket_visits WHERE ticket_id = NEW.ticket_id);
         INSERT INTO ticket_visits (ticket_id, service_id, service_day, first, queued_ts)
         SELECT NEW.ticket_id, NEW.service_id, t.service_day, 0, NEW.ts
         FROM tickets t WHERE t.id = NEW.ticket_id AND NEW.event = 'transferred';
       END""",
]

GROUPS = ("total", "agency", "service", "counter", "officer", "day")
GROUP_KEYS = {"total": "0", "agency": "s.agency_id", "service": "v.service_id",
         "counter": "v.counter_id", "officer": "v.user_id", "day": "v.service_day"}
COUNTS = ("issued", "transferred_in", "called", "served", "no_show", "cancelled", "expired",
          "transferred_out")


def backfill_visits(conn):
    """Replay the ticket events already stored into ticket_visits (migration 4)."""
    if not conn.execute("SELECT 1 FROM ticket_events LIMIT 1").fetchone():
        return
    # Re-inserting each event, in order, fires the triggers as if it had just happened.
    conn.execute("CREATE TEMP TABLE replay_events AS SELECT * FROM ticket_events")
    conn.execute("DELETE FROM ticket_events")
    conn.execute("INSERT INTO ticket_events SELECT * FROM replay_events ORDER BY id")
    conn.execute("DROP TABLE replay_events")


def percentile(hist, p):
    """PERCENTILE.INC of values given as a sorted [(value, count)] histogram, or None."""
    n = sum(c for _, c in hist)
    if n == 0:
        return None
    rank = (n - 1) * p
    lo = int(rank)
    frac = rank - lo

    def at(index):
        seen = 0
        for value, count in hist:
            seen += count
            if index < seen:
                return value
        return hist[-1][0]

    low = at(lo)
    if frac == 0:
        return float(low)
    return low + (at(lo + 1) - low) * frac


def _labels(conn, group_by):
    if group_by == "agency":
        return {r[0]: r[1] for r in conn.execute("SELECT id, name FROM agencies")}
    if group_by == "service":
        return {r[0]: f"{r[1]} {r[2]}" for r in conn.execute("SELECT id, prefix, name FROM services")}
    if group_by == "counter":
        return {r[0]: f"{r[1]} {r[2] or ''}".strip() for r in conn.execute(
            "SELECT c.id, a.code, coalesce(c.name, 'Loket ' || c.number) FROM counters c "
            "JOIN agencies a ON a.id = c.agency_id")}
    if group_by == "officer":
        return {r[0]: r[2] or r[1] for r in conn.execute("SELECT id, username, full_name FROM users")}
    return {}


def utc_offset_s(clock):
    """The MPP zone's offset (WIB/WITA/WIT keep no daylight saving)."""
    return int(datetime.now(clock.tz).utcoffset().total_seconds())


WAIT = "v.first_called_ts - v.queued_ts"
SERVICE = "v.finished_ts - v.called_ts"
# One row of counts per group, in the order of COUNTS, then the within-target count.
_COUNTS_SQL = f"""sum(v.first), sum(v.first = 0), count(v.first_called_ts),
    sum(v.outcome = 'done'), sum(v.outcome = 'no_show'), sum(v.outcome = 'cancelled'),
    sum(v.outcome = 'expired'), sum(v.outcome = 'transferred'),
    sum({WAIT} <= s.target_wait_min * 60)"""
# Whole past months are summarised once; their times are kept in buckets that
# widen with the time: 1 s below 2 min, 5 s below 10 min, 15 s below 1 h, then 1 min.
def bucket(x):
    """The summary bucket (its lower edge) of a time in whole seconds."""
    if x < 120:
        return x
    if x < 600:
        return x // 5 * 5
    if x < 3600:
        return x // 15 * 15
    return x // 60 * 60


class _Totals:
    """Counts and time histograms per group, added up from raw spans and monthly summaries."""

    def __init__(self):
        self.counts, self.hists = {}, {}

    def add_counts(self, key, values):
        old = self.counts.get(key, [0] * 9)
        self.counts[key] = [a + int(b or 0) for a, b in zip(old, values)]

    def add_hist(self, key, kind, value, n):
        hist = self.hists.setdefault((key, kind), {})
        hist[value] = hist.get(value, 0) + n

    def sorted_hist(self, key, kind):
        return sorted(self.hists.get((key, kind), {}).items())


def _raw(conn, acc, key, day_from, day_to, agency_id):
    where = "v.service_day BETWEEN ? AND ?" + (" AND s.agency_id = ?" if agency_id else "")
    params = [day_from, day_to] + ([agency_id] if agency_id else [])
    src = f"FROM ticket_visits v JOIN services s ON s.id = v.service_id WHERE {where}"
    for row in conn.execute(f"SELECT {key}, {_COUNTS_SQL} {src} GROUP BY 1", params):
        acc.add_counts(row[0], row[1:])
    for kind, expr, cond in (("wait", WAIT, "v.first_called_ts IS NOT NULL"),
                             ("service", SERVICE, "v.outcome = 'done' AND v.called_ts IS NOT NULL")):
        for k, x, n in conn.execute(
                f"SELECT {key}, CAST(round({expr}) AS INTEGER), count(*) {src} AND {cond} GROUP BY 1, 2",
                params):
            acc.add_hist(k, kind, x, n)


def _month_span(month):
    first = date.fromisoformat(month + "-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.isoformat(), (nxt - timedelta(days=1)).isoformat()


def _summarise_month(conn, month, offset):
    """Counts and histograms of one ended month per service, counter and officer.

    Read first, outside any transaction, yielding to other greenlets now and then
    (a month is ~100 k visits); then stored in one short write.
    """
    a, b = _month_span(month)
    grains, hists = {}, {}
    rows = conn.execute(
        f"""SELECT s.agency_id, v.service_id, v.counter_id, v.user_id, v.first, v.outcome,
                   CAST(round({WAIT}) AS INTEGER), CAST(round({SERVICE}) AS INTEGER),
                   {WAIT} <= s.target_wait_min * 60, CAST(v.queued_ts AS INTEGER)
            FROM ticket_visits v JOIN services s ON s.id = v.service_id
            WHERE v.service_day BETWEEN ? AND ?""", (a, b))
    for i, (aid, sid, cid, uid, first, outcome, wait, service, within, queued) in enumerate(rows):
        if i % 5000 == 4999:
            time.sleep(0)  # under gevent: let kiosks and counters in
        grain = (aid, sid, cid, uid)
        c = grains.get(grain)
        if c is None:
            c = grains[grain] = [0] * 9
        c[0] += first
        c[1] += 1 - first
        if outcome in OUTCOME_INDEX:
            c[OUTCOME_INDEX[outcome]] += 1
        if wait is not None:
            c[2] += 1
            c[8] += within or 0
            h = (grain, "wait", bucket(wait))
            hists[h] = hists.get(h, 0) + 1
        if outcome == "done" and service is not None:
            h = (grain, "service", bucket(service))
            hists[h] = hists.get(h, 0) + 1
        if first:
            h = (grain, "arrival", (queued + offset) % 86400 // 3600)
            hists[h] = hists.get(h, 0) + 1
    counts, levels = {}, {}
    for (aid, sid, cid, uid), c in grains.items():
        for slot in ((aid, "service", sid), (aid, "counter", cid), (aid, "officer", uid)):
            old = counts.setdefault(slot, [0] * 9)
            for j in range(9):
                old[j] += c[j]
    for ((aid, sid, cid, uid), kind, x), n in hists.items():
        slots = [(aid, "service", sid)] if kind == "arrival" else \
            [(aid, "service", sid), (aid, "counter", cid), (aid, "officer", uid)]
        for slot in slots:
            key = (*slot, kind, x)
            levels[key] = levels.get(key, 0) + n
    write(conn, _store_month, month, counts, levels)


# Where each outcome is counted in a COUNTS vector.
OUTCOME_INDEX = {"done": COUNTS.index("served"), "no_show": COUNTS.index("no_show"),
                 "cancelled": COUNTS.index("cancelled"), "expired": COUNTS.index("expired"),
                 "transferred": COUNTS.index("transferred_out")}


def _store_month(conn, month, counts, hists):
    if conn.execute("SELECT 1 FROM report_months WHERE month = ?", (month,)).fetchone():
        return  # another request summarised it meanwhile
    conn.executemany("INSERT INTO report_month_counts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(month, *slot, *vec) for slot, vec in counts.items()])
    conn.executemany("INSERT INTO report_month_hist VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(month, *h, n) for h, n in hists.items()])
    conn.execute("INSERT INTO report_months (month, built_ts) VALUES (?, ?)", (month, time.time()))


def _summarised(conn, acc, group_by, months, agency_id, arrivals):
    level = {"counter": "counter", "officer": "officer"}.get(group_by, "service")
    key = {"total": "0", "agency": "m.agency_id"}.get(group_by, "m.key")
    marks = ",".join("?" * len(months))
    where = f"m.month IN ({marks}) AND m.level = ?" + (" AND m.agency_id = ?" if agency_id else "")
    params = [*months, level] + ([agency_id] if agency_id else [])
    sums = ", ".join(f"sum(m.{c})" for c in (*COUNTS, "within_target"))
    for row in conn.execute(f"SELECT {key}, {sums} FROM report_month_counts m WHERE {where} GROUP BY 1",
                            params):
        acc.add_counts(row[0], row[1:])
    for k, kind, x, n in conn.execute(
            f"""SELECT {key}, m.kind, m.x, sum(m.n) FROM report_month_hist m
                WHERE {where} AND m.kind != 'arrival' GROUP BY 1, 2, 3""", params):
        acc.add_hist(k, kind, x, n)
    params[len(months)] = "service"
    for hour, n in conn.execute(f"""SELECT m.x, sum(m.n) FROM report_month_hist m
                                    WHERE {where} AND m.kind = 'arrival' GROUP BY 1""", params):
        arrivals[hour] += n


def _plan(conn, day_from, day_to, group_by):
    """(raw day spans, closed months) covering a range; closed months come from summaries."""
    if group_by == "day":
        return [(day_from, day_to)], []
    row = conn.execute("SELECT value FROM settings WHERE key = 'service_day'").fetchone()
    today = json.loads(row[0]) if row else "9999-12-31"
    spans, months = [], []
    cursor = date.fromisoformat(day_from)
    end = date.fromisoformat(day_to)
    while cursor <= end:
        month = cursor.isoformat()[:7]
        m_start, m_end = _month_span(month)
        span_end = min(end, date.fromisoformat(m_end))
        if cursor.isoformat() == m_start and span_end.isoformat() == m_end and m_end < today:
            months.append(month)
        elif spans and spans[-1][1] == (cursor - timedelta(days=1)).isoformat():
            spans[-1] = (spans[-1][0], span_end.isoformat())
        else:
            spans.append((cursor.isoformat(), span_end.isoformat()))
        cursor = span_end + timedelta(days=1)
    return spans, months


def report(conn, clock, day_from, day_to, group_by="service", agency_id=None):
    """The figures of a range of service days, one row per group, with arrivals per hour
    (and the walk-in / booking figures of db/report_channels.py)."""
    from db import report_channels

    if group_by not in GROUPS:
        raise ValueError(group_by)
    spans, months = _plan(conn, day_from, day_to, group_by)
    acc = _Totals()
    hours = [0] * 24
    for a, b in spans:
        _raw(conn, acc, GROUP_KEYS[group_by], a, b, agency_id)
        hours = [x + y for x, y in zip(hours, arrivals(conn, clock, a, b, agency_id))]
    if months:
        missing = [m for m in months if not conn.execute(
            "SELECT 1 FROM report_months WHERE month = ?", (m,)).fetchone()]
        for month in missing:
            _summarise_month(conn, month, utc_offset_s(clock))
        _summarised(conn, acc, group_by, months, agency_id, hours)
    labels = _labels(conn, group_by)
    chans = report_channels.channels(conn, clock, day_from, day_to, group_by, agency_id, acc, months)
    for k in chans:
        acc.counts.setdefault(k, [0] * 9)  # bookings, all missed: a row of its own
    out = []
    for k in sorted(acc.counts, key=lambda x: (x is None, str(x) if group_by == "day" else x or 0)):
        figures = dict(zip(COUNTS, acc.counts[k][:8]))
        within, called = acc.counts[k][8], figures["called"]
        waits, services = acc.sorted_hist(k, "wait"), acc.sorted_hist(k, "service")
        if group_by == "total":
            label = "MPP"
        elif group_by == "day":
            label = k
        else:
            label = labels.get(k, str(k)) if k is not None else None  # None: never called
        out.append({
            "key": k, "label": label, **figures,
            "wait_median_s": round1(percentile(waits, 0.5)),
            "wait_p90_s": round1(percentile(waits, 0.9)),
            "service_median_s": round1(percentile(services, 0.5)),
            "service_p90_s": round1(percentile(services, 0.9)),
            "within_target": within,
            "target_compliance": round(within / called, 4) if called else None,
            **chans.get(k, report_channels.no_channels(group_by)),
        })
        if out[-1].pop(report_channels.ALL_WAITS, False):
            out[-1]["wait_walk_in_median_s"] = out[-1]["wait_median_s"]
    return {"from": day_from, "to": day_to, "group_by": group_by, "agency_id": agency_id,
            "rows": out, "arrivals_per_hour": hours}


def arrivals(conn, clock, day_from, day_to, agency_id=None):
    """Tickets issued per hour of the day (MPP time) over a range: 24 counts."""
    where = "v.service_day BETWEEN ? AND ?" + (" AND s.agency_id = ?" if agency_id else "")
    params = [utc_offset_s(clock), day_from, day_to] + ([agency_id] if agency_id else [])
    out = [0] * 24
    for hour, count in conn.execute(
        f"""SELECT CAST(((CAST(v.queued_ts AS INTEGER) + ?) % 86400) / 3600 AS INTEGER), count(*)
            FROM ticket_visits v JOIN services s ON s.id = v.service_id
            WHERE {where} AND v.first = 1 GROUP BY 1""", params):
        out[hour] = count
    return out


def round1(x):
    """A figure rounded to one decimal, None left as None."""
    return None if x is None else round(x, 1)


COLUMNS = [
    ("label", "Group"), ("issued", "Issued"), ("transferred_in", "Transferred in"),
    ("called", "Called"), ("served", "Served"), ("no_show", "No-show"),
    ("cancelled", "Cancelled"), ("expired", "Expired"), ("transferred_out", "Transferred out"),
    ("wait_median_s", "Wait median (s)"), ("wait_p90_s", "Wait p90 (s)"),
    ("service_median_s", "Service median (s)"), ("service_p90_s", "Service p90 (s)"),
    ("target_compliance", "Within target wait (%)"),
    ("walk_in", "Walk-in tickets"), ("booked", "Booked tickets"), ("bookings", "Bookings"),
    ("check_in_rate", "Bookings checked in (%)"), ("missed_rate", "Bookings missed (%)"),
    ("wait_walk_in_median_s", "Wait median, walk-in (s)"),
    ("wait_booked_median_s", "Wait median, booked (s)"),
    ("punctuality_median_s", "Slot start to call, median (s)"),
    ("punctuality_p90_s", "Slot start to call, p90 (s)"),
]
PERCENTAGES = ("target_compliance", "check_in_rate", "missed_rate")


def table(rep, headers=None):
    """The report as a header row and value rows (for CSV and XLSX)."""
    head = [headers.get(k, h) if headers else h for k, h in COLUMNS]
    body = []
    for row in rep["rows"]:
        values = []
        for key, _ in COLUMNS:
            value = row[key]
            if key in PERCENTAGES and value is not None:
                value = round(value * 100, 1)
            if key == "label" and value is None:
                value = "-"
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            values.append(value)
        body.append(values)
    return head, body
