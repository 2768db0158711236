"""Migrations: an old database is upgraded in place with its data kept."""

import sqlite3

from db import catalog, migrations, tickets
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
    assert migrations.migrate(conn) == list(range(2, migrations.latest() + 1))
    columns = {r[1] for r in conn.execute("PRAGMA table_info(services)")}
    assert "hours" in columns
    assert conn.execute("SELECT requirements FROM services WHERE id = 1").fetchone()[0] == "KK asli"
    assert tickets.get_ticket_by_code(conn, clock, "c1")["number"] == "A001"
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
