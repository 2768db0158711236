"""Numbered schema migrations, applied at start.

An existing database is upgraded in place, never recreated: each migration
runs once, inside its own transaction, and is recorded in `migrations`.
Add a new function to MIGRATIONS; never edit one that has shipped.
"""

import sqlite_utils

from db.clock import utc_iso
from db.connection import enable_wal, transaction


def _m001_initial(db):
    """Agencies, services, counters, people, devices, printers, tickets, events."""
    db["settings"].create({"key": str, "value": str}, pk="key")
    db["agencies"].create(
        {"id": int, "code": str, "name": str, "color": str, "logo": str,
         "sort": int, "active": int, "created_at": str},
        pk="id", not_null={"code", "name"}, defaults={"active": 1, "sort": 0},
    )
    db["agencies"].create_index(["code"], unique=True)
    db["services"].create(
        {"id": int, "agency_id": int, "prefix": str, "name": str, "requirements": str,
         "daily_quota": int, "opens_at": str, "closes_at": str, "target_wait_min": int,
         "default_service_s": int, "active": int, "sort": int, "created_at": str},
        pk="id", not_null={"agency_id", "prefix", "name"},
        foreign_keys=[("agency_id", "agencies", "id")],
        defaults={"active": 1, "target_wait_min": 15, "default_service_s": 300,
                  "requirements": "", "sort": 0},
    )
    db["services"].create_index(["agency_id"])
    db["users"].create(
        {"id": int, "username": str, "password_hash": str, "role": str, "agency_id": int,
         "full_name": str, "active": int, "created_at": str},
        pk="id", not_null={"username", "password_hash", "role"},
        foreign_keys=[("agency_id", "agencies", "id")], defaults={"active": 1},
    )
    db["users"].create_index(["username"], unique=True)
    db["printers"].create(
        {"id": int, "name": str, "transport": str, "config": str, "paper_mm": int,
         "status": str, "status_detail": str, "status_ts": float, "created_at": str},
        pk="id", not_null={"name", "transport"},
        defaults={"config": "{}", "paper_mm": 80, "status": "unknown"},
    )
    db["devices"].create(
        {"id": int, "kind": str, "name": str, "token_hash": str, "printer_id": int,
         "config": str, "active": int, "last_seen_ts": float, "created_at": str},
        pk="id", not_null={"kind", "name", "token_hash"},
        foreign_keys=[("printer_id", "printers", "id")],
        defaults={"active": 1, "config": "{}"},
    )
    db["devices"].create_index(["token_hash"], unique=True)
    db["sequences"].create(
        {"service_id": int, "service_day": str, "last_seq": int},
        pk=("service_id", "service_day"), foreign_keys=[("service_id", "services", "id")],
    )
    db["counters"].create(
        {"id": int, "agency_id": int, "number": int, "name": str, "state": str,
         "pause_reason": str, "ticket_id": int, "user_id": int, "state_ts": float,
         "created_at": str},
        pk="id", not_null={"agency_id", "number", "state"},
        foreign_keys=[("agency_id", "agencies", "id"), ("user_id", "users", "id")],
        defaults={"state": "closed"},
    )
    db["counters"].create_index(["agency_id", "number"], unique=True)
    db["counter_services"].create(
        {"counter_id": int, "service_id": int}, pk=("counter_id", "service_id"),
        foreign_keys=[("counter_id", "counters", "id"), ("service_id", "services", "id")],
    )
    db["counter_services"].create_index(["service_id"])
    db["tickets"].create(
        {"id": int, "code": str, "service_id": int, "service_day": str, "seq": int,
         "number": str, "priority": int, "priority_kind": str, "status": str,
         "issued_ts": float, "queue_ts": float, "called_ts": float, "started_ts": float,
         "finished_ts": float, "counter_id": int, "call_count": int,
         "issued_by_device": int, "issued_by_user": int, "idempotency_key": str,
         "print_status": str, "origin_service_id": int},
        pk="id",
        not_null={"code", "service_id", "service_day", "seq", "number", "status",
                  "issued_ts", "queue_ts", "origin_service_id"},
        foreign_keys=[("service_id", "services", "id"), ("counter_id", "counters", "id"),
                      ("issued_by_device", "devices", "id"), ("issued_by_user", "users", "id")],
        defaults={"priority": 0, "call_count": 0, "print_status": "none"},
    )
    db["tickets"].create_index(["code"], unique=True)
    # Numbers are unique per issuing service and day; a transfer keeps the number.
    db["tickets"].create_index(["origin_service_id", "service_day", "seq"], unique=True)
    db["tickets"].create_index(["idempotency_key"], unique=True)
    # The queue: only waiting tickets, in the order call-next takes them.
    db.execute("CREATE INDEX tickets_waiting ON tickets (service_id, priority DESC, queue_ts, id) "
               "WHERE status = 'waiting'")
    db["tickets"].create_index(["service_day", "status"])
    # Today's latest service times, for the estimate's rolling median.
    db.execute("CREATE INDEX tickets_done ON tickets (service_id, finished_ts) WHERE status = 'done'")
    db["ticket_events"].create(
        {"id": int, "ticket_id": int, "ts": float, "event": str, "service_id": int,
         "counter_id": int, "user_id": int, "device_id": int, "data": str},
        pk="id", not_null={"ticket_id", "ts", "event"},
        foreign_keys=[("ticket_id", "tickets", "id")],
    )
    db["ticket_events"].create_index(["ticket_id"])
    db["ticket_events"].create_index(["ts"])
    db["counter_events"].create(
        {"id": int, "counter_id": int, "ts": float, "event": str, "reason": str,
         "user_id": int},
        pk="id", not_null={"counter_id", "ts", "event"},
        foreign_keys=[("counter_id", "counters", "id")],
    )
    db["counter_events"].create_index(["counter_id", "ts"])
    db["print_jobs"].create(
        {"id": int, "ticket_id": int, "printer_id": int, "device_id": int, "status": str,
         "attempts": int, "error": str, "payload": str, "created_ts": float,
         "next_try_ts": float, "done_ts": float},
        pk="id", not_null={"printer_id", "status", "created_ts"},
        foreign_keys=[("ticket_id", "tickets", "id"), ("printer_id", "printers", "id")],
        defaults={"status": "pending", "attempts": 0},
    )
    db["print_jobs"].create_index(["status", "next_try_ts"])
    db["print_jobs"].create_index(["ticket_id"])
    db["audit_log"].create(
        {"id": int, "ts": float, "user_id": int, "device_id": int, "action": str,
         "target": str, "data": str},
        pk="id", not_null={"ts", "action"},
    )
    db["audit_log"].create_index(["ts"])


def _m002_weekly_hours_and_holidays(db):
    """Opening hours per weekday, and the days the whole MPP is closed."""
    # JSON {"1": ["08:00", "15:00"], ..., "7": null}: ISO weekday -> hours or
    # null for closed; when NULL, opens_at/closes_at hold every day.
    db["services"].add_column("hours", str)
    db["holidays"].create({"day": str, "name": str}, pk="day")


def _m003_printing(db):
    """Printing: each printer's open jobs in order, found without a scan."""
    db.execute("CREATE INDEX IF NOT EXISTS print_jobs_open ON print_jobs (printer_id, id) "
               "WHERE status IN ('pending', 'printing')")


def _m004_admin_reports_and_survey(db):
    """Ticket visits kept by triggers (for fast reports), and SKM survey answers."""
    from db.reports import VISITS_SCHEMA, backfill_visits

    for statement in VISITS_SCHEMA:
        db.execute(statement)
    backfill_visits(db.conn)
    db.execute(
        """CREATE TABLE survey_responses (
               id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL UNIQUE REFERENCES tickets(id),
               service_id INTEGER NOT NULL REFERENCES services(id), agency_id INTEGER NOT NULL,
               service_day TEXT NOT NULL, ts REAL NOT NULL,
               u1 INTEGER NOT NULL, u2 INTEGER NOT NULL, u3 INTEGER NOT NULL,
               u4 INTEGER NOT NULL, u5 INTEGER NOT NULL, u6 INTEGER NOT NULL,
               u7 INTEGER NOT NULL, u8 INTEGER NOT NULL, u9 INTEGER NOT NULL,
               comment TEXT, source TEXT)""")
    db.execute("CREATE INDEX survey_responses_day ON survey_responses (service_day, service_id)")


def _m005_display(db):
    """Counter kinds for the spoken call (loket/meja/ruang), and the display's media."""
    db["counters"].add_column("kind", str, not_null_default="loket")
    db["media"].create(
        {"id": int, "kind": str, "name": str, "file": str, "mime": str, "size": int,
         "sort": int, "created_at": str},
        pk="id", not_null={"kind", "file", "mime", "size"}, defaults={"sort": 0},
    )


def _m006_sessions(db):
    """Server-side sessions: a login is a row that logout, a password reset or
    deactivation ends (the cookie only carries its random id)."""
    db.execute(
        """CREATE TABLE sessions (
               id INTEGER PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,
               user_id INTEGER NOT NULL REFERENCES users(id),
               created_ts REAL NOT NULL, last_seen_ts REAL NOT NULL,
               ended_ts REAL, end_reason TEXT)""")
    db.execute("CREATE INDEX sessions_live ON sessions (user_id) WHERE ended_ts IS NULL")


def _m007_bookings(db):
    """Online booking: settings per service, the MPP-wide rules, bookings, and tickets that
    came from a booking (its slot orders the calling)."""
    db.execute(
        """CREATE TABLE booking_settings (
               service_id INTEGER PRIMARY KEY REFERENCES services(id),
               enabled INTEGER NOT NULL DEFAULT 0,
               slot_minutes INTEGER NOT NULL DEFAULT 30,
               seats_per_slot INTEGER NOT NULL DEFAULT 2,
               days_ahead INTEGER NOT NULL DEFAULT 14,
               check_in_early_minutes INTEGER NOT NULL DEFAULT 30,
               check_in_late_minutes INTEGER NOT NULL DEFAULT 15,
               nik_required INTEGER NOT NULL DEFAULT 0,
               updated_at TEXT)""")
    # The MPP-wide rules: how long a cancelled seat is held, how long personal data is kept.
    db.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('booking', ?)",
               ('{"release_delay_minutes": 15, "purge_after_days": 30}',))
    db.execute(
        """CREATE TABLE bookings (
               id INTEGER PRIMARY KEY,
               code TEXT NOT NULL UNIQUE,
               service_id INTEGER NOT NULL REFERENCES services(id),
               service_day TEXT NOT NULL,
               slot_start_ts REAL NOT NULL,
               slot_end_ts REAL NOT NULL,
               seat INTEGER,
               status TEXT NOT NULL DEFAULT 'booked',
               name TEXT,
               phone TEXT,
               nik_hash TEXT,
               nik_last4 TEXT,
               created_ts REAL NOT NULL,
               cancelled_ts REAL,
               release_ts REAL,
               cancel_reason TEXT,
               checked_in_ts REAL,
               ticket_id INTEGER REFERENCES tickets(id),
               missed_ts REAL,
               purged_ts REAL)""")
    # A seat of a slot is held by one booking at a time: the last guard against overbooking.
    db.execute("CREATE UNIQUE INDEX bookings_seat ON bookings (service_id, slot_start_ts, seat) "
               "WHERE seat IS NOT NULL")
    # One live booking per phone / per NIK, service and day.
    db.execute("CREATE UNIQUE INDEX bookings_live_phone ON bookings (service_id, service_day, phone) "
               "WHERE status IN ('booked', 'checked_in') AND phone IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX bookings_live_nik ON bookings (service_id, service_day, nik_hash) "
               "WHERE status IN ('booked', 'checked_in') AND nik_hash IS NOT NULL")
    db.execute("CREATE INDEX bookings_day ON bookings (service_day, service_id, slot_start_ts)")
    # Bookings not yet checked in: the roll-over marks them missed; each line's estimate counts them.
    db.execute("CREATE INDEX bookings_open ON bookings (slot_start_ts) WHERE status = 'booked'")
    db.execute("CREATE INDEX bookings_due ON bookings (service_id, slot_start_ts) WHERE status = 'booked'")
    db["tickets"].add_column("booking_id", int)
    db["tickets"].add_column("slot_ts", float)
    # Checked-in bookings still waiting, by slot: the "booking due" head of each line.
    db.execute("CREATE INDEX tickets_booked_waiting ON tickets (service_id, slot_ts, id) "
               "WHERE status = 'waiting' AND slot_ts IS NOT NULL")


def _m008_webhooks(db):
    """Webhooks: the receivers, the outbox of events, each delivery's tries, once-only marks."""
    db.execute(
        """CREATE TABLE webhooks (
               id INTEGER PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL,
               secret TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
               created_ts REAL NOT NULL, created_by INTEGER,
               failures INTEGER NOT NULL DEFAULT 0, failing_since REAL,
               next_try_ts REAL NOT NULL DEFAULT 0, paused_ts REAL, last_success_ts REAL)""")
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, event TEXT NOT NULL, "
               "created_ts REAL NOT NULL, data TEXT NOT NULL)")
    db.execute("CREATE INDEX outbox_created ON outbox (created_ts)")
    db.execute(
        """CREATE TABLE webhook_deliveries (
               id INTEGER PRIMARY KEY,
               webhook_id INTEGER NOT NULL REFERENCES webhooks(id),
               outbox_id INTEGER NOT NULL REFERENCES outbox(id),
               event TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
               attempts INTEGER NOT NULL DEFAULT 0, next_try_ts REAL NOT NULL,
               last_error TEXT, last_status INTEGER, response_ms INTEGER,
               created_ts REAL NOT NULL, last_try_ts REAL, delivered_ts REAL)""")
    # The worker's question: which deliveries of a webhook are due, oldest first.
    db.execute("CREATE INDEX webhook_deliveries_open ON webhook_deliveries "
               "(webhook_id, next_try_ts, id) WHERE status IN ('pending', 'sending')")
    db.execute("CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, id)")
    db.execute("CREATE INDEX webhook_deliveries_outbox ON webhook_deliveries (outbox_id)")
    db.execute("CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_ts)")
    # Events sent at most once per thing: ticket.near per ticket, booking.reminder per booking.
    db.execute("CREATE TABLE notified (kind TEXT NOT NULL, ref_id INTEGER NOT NULL, "
               "ts REAL NOT NULL, PRIMARY KEY (kind, ref_id))")


def _m009_queue_counts(db):
    # The waiting tickets of each service and how many of them are priority, kept by
    # triggers in the same transaction as every change of a ticket (whoever writes it),
    # so that a line's length and a new ticket's place are read, not counted, however
    # long the line (db/queue.py).
    db.execute("CREATE TABLE queue_counts (service_id INTEGER PRIMARY KEY, "
               "waiting INTEGER NOT NULL DEFAULT 0, priority INTEGER NOT NULL DEFAULT 0)")
    db.execute("INSERT INTO queue_counts (service_id, waiting, priority) "
               "SELECT service_id, count(*), sum(priority > 0) FROM tickets "
               "WHERE status = 'waiting' GROUP BY service_id")
    join = ("INSERT INTO queue_counts (service_id, waiting, priority) "
            "VALUES (new.service_id, 1, new.priority > 0) ON CONFLICT (service_id) DO UPDATE "
            "SET waiting = waiting + 1, priority = priority + (excluded.priority)")
    leave = ("UPDATE queue_counts SET waiting = waiting - 1, priority = priority - (old.priority > 0) "
             "WHERE service_id = old.service_id")
    db.execute(f"CREATE TRIGGER queue_counts_insert AFTER INSERT ON tickets "
               f"WHEN new.status = 'waiting' BEGIN {join}; END")
    db.execute(f"CREATE TRIGGER queue_counts_leave AFTER UPDATE OF status, service_id, priority "
               f"ON tickets WHEN old.status = 'waiting' BEGIN {leave}; END")
    db.execute(f"CREATE TRIGGER queue_counts_join AFTER UPDATE OF status, service_id, priority "
               f"ON tickets WHEN new.status = 'waiting' BEGIN {join}; END")
    db.execute(f"CREATE TRIGGER queue_counts_delete AFTER DELETE ON tickets "
               f"WHEN old.status = 'waiting' BEGIN {leave}; END")


MIGRATIONS = [
    (1, "initial", _m001_initial),
    (2, "weekly hours and holidays", _m002_weekly_hours_and_holidays),
    (3, "printing: open jobs index", _m003_printing),
    (4, "admin reports and survey", _m004_admin_reports_and_survey),
    (5, "display: counter kinds and media", _m005_display),
    (6, "server-side sessions", _m006_sessions),
    (7, "bookings", _m007_bookings),
    (8, "webhooks: outbox and deliveries", _m008_webhooks),
    (9, "waiting counts per service", _m009_queue_counts),
]


def applied(conn):
    """The ids of the migrations already applied to this database."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
    )
    return {row[0] for row in conn.execute("SELECT id FROM migrations")}


def migrate(conn, upto=None, now_ts=None):
    """Apply every pending migration (or those up to `upto`); return the ids applied."""
    import time

    enable_wal(conn)
    done = applied(conn)
    ran = []
    for number, name, fn in MIGRATIONS:
        if number in done or (upto is not None and number > upto):
            continue
        with transaction(conn, busy_wait_s=30):
            # Another process may have migrated while we waited for the lock.
            if conn.execute("SELECT 1 FROM migrations WHERE id = ?", (number,)).fetchone():
                continue
            fn(sqlite_utils.Database(conn))
            conn.execute(
                "INSERT INTO migrations (id, name, applied_at) VALUES (?, ?, ?)",
                (number, name, utc_iso(now_ts or time.time())),
            )
        ran.append(number)
    return ran


def schema_version(conn):
    """The newest migration applied to this database (0 before the first)."""
    return conn.execute("SELECT max(id) FROM migrations").fetchone()[0] or 0


def latest():
    """The number of the newest migration."""
    return MIGRATIONS[-1][0]
