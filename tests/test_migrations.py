"""Migrations: an old database is upgraded in place with its data kept."""

import sqlite3

from db import catalog, migrations, queue, tickets
from db.connection import connect


def test_database_from_migration_1_upgrades_with_data_kept(db_path, clock):
    conn = connect(db_path)
    assert migrations.migrate(conn, upto=1) == [1]
    # Data written by the version-1 schema, with plain SQL as that version would.
    conn.execute("INSERT INTO agencies (id, code, name, active, sort) VALUES (1, 'D', 'Dukcapil', 1, 0)")
    conn.execute(
        "INSERT INTO services (id, agency_id, prefix, name, requirements, active, target_wait_min, "
        "default_service_s, sort) VALUES (1, 1, 'A', 'KTP', 'KK asli', 1, 15, 300, 0)")
    conn.execute(
        "INSERT INTO tickets (code, service_id, origin_service_id, service_day, seq, number, status, "
        "issued_ts, queue_ts, priority, call_count, print_status) "
        "VALUES ('c1', 1, 1, ?, 1, 'A001', 'waiting', ?, ?, 0, 0, 'none')",
        (clock.service_day(), clock.ts(), clock.ts()))
    conn.execute("INSERT INTO sequences VALUES (1, ?, 1)", (clock.service_day(),))
    columns = {r[1] for r in conn.execute("PRAGMA table_info(services)")}
    assert "hours" not in columns
    conn.close()

    conn = connect(db_path)
    # Numbers are assigned per branch, so the list may have gaps.
    assert migrations.migrate(conn) == [n for n, _, _ in migrations.MIGRATIONS if n >= 2]
    columns = {r[1] for r in conn.execute("PRAGMA table_info(services)")}
    assert "hours" in columns
    assert conn.execute("SELECT requirements FROM services WHERE id = 1").fetchone()[0] == "KK asli"
    assert queue.get_ticket_by_code(conn, clock, "c1")["number"] == "A001"
    # The upgraded database works: the day's sequence continues (at a counter serving it).
    catalog.create_counter(conn, clock, 1, 1, [1])
    assert tickets.issue(conn, clock, 1).ticket["number"] == "A002"
    assert catalog.list_services(conn, clock)[0]["waiting"] == 2


def test_migrate_is_idempotent_and_recorded(db_path):
    conn = connect(db_path)
    first = migrations.migrate(conn)
    assert first == [n for n, _, _ in migrations.MIGRATIONS]
    assert migrations.migrate(conn) == []
    rows = conn.execute("SELECT id, name FROM migrations ORDER BY id").fetchall()
    assert [r[0] for r in rows] == first
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_foreign_keys_are_enforced(conn):
    try:
        conn.execute("INSERT INTO services (agency_id, prefix, name) VALUES (999, 'A', 'x')")
    except sqlite3.IntegrityError:
        return
    raise AssertionError("a service of an unknown agency was accepted")


def test_database_before_bookings_upgrades_with_its_day_kept(db_path, clock):
    """A building's database of today's schema (migration 5), mid-day, gains bookings."""
    from db import bookings, checkin

    conn = connect(db_path)
    migrations.migrate(conn, upto=5)
    # Written with plain SQL, as that version would.
    conn.execute("INSERT INTO agencies (id, code, name, active, sort) VALUES (1, 'D', 'Dukcapil', 1, 0)")
    conn.execute(
        "INSERT INTO services (id, agency_id, prefix, name, active, target_wait_min, default_service_s, "
        "sort, opens_at, closes_at, daily_quota) VALUES (1, 1, 'A', 'KTP', 1, 15, 300, 0, '08:00', "
        "'12:00', 10)")
    conn.execute("INSERT INTO counters (id, agency_id, number, state) VALUES (1, 1, 1, 'closed')")
    conn.execute("INSERT INTO counter_services VALUES (1, 1)")
    ktp, counter = 1, 1
    for _ in range(3):
        conn.execute(
            "INSERT INTO sequences (service_id, service_day, last_seq) VALUES (?, ?, 1) "
            "ON CONFLICT DO UPDATE SET last_seq = last_seq + 1", (ktp, clock.service_day()))
        seq = conn.execute("SELECT last_seq FROM sequences").fetchone()[0]
        conn.execute(
            "INSERT INTO tickets (code, service_id, origin_service_id, service_day, seq, number, "
            "status, issued_ts, queue_ts, priority, call_count, print_status) "
            "VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?, ?, 0, 0, 'none')",
            (f"c{seq}", ktp, ktp, clock.service_day(), seq, f"A{seq:03d}", clock.ts() - 100 + seq,
             clock.ts() - 100 + seq))
    conn.close()

    conn = connect(db_path)
    assert migrations.migrate(conn) == [n for n, _, _ in migrations.MIGRATIONS if n > 5]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"bookings", "booking_settings"} <= tables
    assert bookings.get_settings(conn, ktp)["enabled"] is False
    assert bookings.mpp_settings(conn) == {"release_delay_minutes": 15, "purge_after_days": 30}
    # The day goes on: the old tickets keep their place, a booking checks in as A004.
    assert queue.get_ticket_by_code(conn, clock, "c2")["ahead"] == 1
    bookings.put_settings(conn, ktp, {"enabled": True})
    start = clock.local().replace(hour=9, minute=30).isoformat()
    b = bookings.book(conn, clock, ktp, start, "Budi", "081234567890", secret="k").booking
    assert catalog.list_services(conn, clock)[0]["quota_left"] == 10 - 3 - 1
    ticket = checkin.check_in(conn, clock, b["code"]).ticket
    assert ticket["number"] == "A004" and ticket["booking_code"] == b["code"]
    tickets.open_counter(conn, clock, counter)
    assert tickets.call_next(conn, clock, counter).ticket["number"] == "A001"


def test_migration_8_adds_webhooks_to_a_day_in_progress(db_path, clock):
    """A database at migration 7 with waiting tickets: after 8 the day goes on, and the next
    change (and only a change a webhook listens to) lands in the outbox."""
    from db import webhooks

    conn = connect(db_path)
    migrations.migrate(conn, upto=7)
    conn.execute("INSERT INTO agencies (id, code, name, active, sort) VALUES (1, 'D', 'Dukcapil', 1, 0)")
    conn.execute(
        "INSERT INTO services (id, agency_id, prefix, name, requirements, active, target_wait_min, "
        "default_service_s, sort) VALUES (1, 1, 'A', 'KTP', '', 1, 15, 300, 0)")
    conn.execute("INSERT INTO counters (id, agency_id, number, state) VALUES (1, 1, 1, 'closed')")
    conn.execute("INSERT INTO counter_services VALUES (1, 1)")
    conn.execute("INSERT INTO sequences VALUES (1, ?, 2)", (clock.service_day(),))
    for seq in (1, 2):
        conn.execute(
            "INSERT INTO tickets (code, service_id, origin_service_id, service_day, seq, number, "
            "status, issued_ts, queue_ts, priority, call_count, print_status) "
            "VALUES (?, 1, 1, ?, ?, ?, 'waiting', ?, ?, 0, 0, 'none')",
            (f"c{seq}", clock.service_day(), seq, f"A{seq:03d}", clock.ts() - 10 + seq,
             clock.ts() - 10 + seq))
    assert "outbox" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()

    conn = connect(db_path)
    assert 8 in migrations.migrate(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"webhooks", "outbox", "webhook_deliveries", "notified"} <= tables
    assert queue.get_ticket_by_code(conn, clock, "c2")["ahead"] == 1
    assert tickets.issue(conn, clock, 1).ticket["number"] == "A003"
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0  # nobody listens yet
    hook = webhooks.create(conn, "http://192.0.2.10/x", ["ticket.issued"], "s3cret")
    assert tickets.issue(conn, clock, 1).ticket["number"] == "A004"
    (delivery,) = webhooks.list_deliveries(conn, hook["id"])
    assert delivery["event"] == "ticket.issued" and delivery["status"] == "pending"
