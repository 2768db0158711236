"""The service day: sequences restart and leftovers expire at the MPP's midnight."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from db import catalog, migrations, queue, tickets
from db.clock import FixedClock
from db.connection import connect


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"])
def test_midnight_restarts_numbers_and_expires_leftovers(conn, zone):
    tz = ZoneInfo(zone)
    clock = FixedClock(zone, datetime(2026, 11, 24, 23, 58, tzinfo=tz).timestamp())
    agency = catalog.create_agency(conn, "D", "Dukcapil")["id"]
    svc = catalog.create_service(conn, clock, agency, "A", "KTP")["id"]
    counter = catalog.create_counter(conn, clock, agency, 1, [svc])["id"]
    tickets.open_counter(conn, clock, counter)
    for _ in range(3):
        tickets.issue(conn, clock, svc)
    called = tickets.call_next(conn, clock, counter).ticket
    # 00:01 local is still the previous day in UTC for every Indonesian zone.
    clock.set(datetime(2026, 11, 25, 0, 1, tzinfo=tz))
    assert datetime.utcfromtimestamp(clock.ts()).day == 24
    change = tickets.rollover(conn, clock)
    assert change.queues == {svc: 0}
    assert [c["ticket"] for c in change.counters] == [None]
    statuses = [r[0] for r in conn.execute("SELECT status FROM tickets ORDER BY id")]
    assert statuses == ["expired"] * 3
    assert queue.get_ticket(conn, clock, called["id"])["status"] == "expired"
    fresh = tickets.issue(conn, clock, svc).ticket
    assert fresh["number"] == "A001" and fresh["service_day"] == "2026-11-25"
    expired_events = conn.execute(
        "SELECT count(*) FROM ticket_events WHERE event = 'expired'").fetchone()[0]
    assert expired_events == 3


def test_the_first_write_of_a_day_rolls_over_by_itself(conn):
    clock = FixedClock("Asia/Jayapura", datetime(2026, 11, 24, 14, 0, tzinfo=ZoneInfo("Asia/Jayapura")).timestamp())
    agency = catalog.create_agency(conn, "D", "Dukcapil")["id"]
    svc = catalog.create_service(conn, clock, agency, "A", "KTP")["id"]
    catalog.create_counter(conn, clock, agency, 1, [svc])
    tickets.issue(conn, clock, svc)
    clock.advance(24 * 3600)
    # No explicit roll-over: issuing on the new day does it in the same transaction.
    assert tickets.issue(conn, clock, svc).ticket["number"] == "A001"
    assert [r[0] for r in conn.execute("SELECT status FROM tickets ORDER BY id")] == ["expired", "waiting"]


def test_a_serving_ticket_is_not_expired(conn, clock):
    agency = catalog.create_agency(conn, "D", "Dukcapil")["id"]
    svc = catalog.create_service(conn, clock, agency, "A", "KTP")["id"]
    counter = catalog.create_counter(conn, clock, agency, 1, [svc])["id"]
    tickets.open_counter(conn, clock, counter)
    tickets.issue(conn, clock, svc)
    tickets.call_next(conn, clock, counter)
    tickets.start(conn, clock, counter)
    clock.advance(24 * 3600)
    tickets.rollover(conn, clock)
    # The officer may still finish the citizen in front of them.
    assert tickets.finish(conn, clock, counter).ticket["status"] == "done"


def test_a_restart_on_the_same_file_continues_the_day(db_path, clock):
    first = connect(db_path)
    migrations.migrate(first)
    agency = catalog.create_agency(first, "D", "Dukcapil")["id"]
    svc = catalog.create_service(first, clock, agency, "A", "KTP")["id"]
    catalog.create_counter(first, clock, agency, 1, [svc])
    tickets.issue(first, clock, svc)
    tickets.issue(first, clock, svc)
    first.close()
    again = connect(db_path)
    assert migrations.migrate(again) == []
    tickets.rollover(again, clock)
    assert tickets.issue(again, clock, svc).ticket["number"] == "A003"
    assert [r[0] for r in again.execute("SELECT status FROM tickets")] == ["waiting"] * 3
