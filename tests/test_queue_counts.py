"""Waiting counts kept by the engine (migration 9's `queue_counts`, issue 17): they follow
every change of a ticket, and a ticket's place read from them is the calling order's."""

import pytest

from db import catalog, migrations, queue, tickets
from db.connection import connect
from db.queue import count_ahead, order_key, sharing_services


def kept(conn):
    """{service_id: (waiting, priority)} as the table holds them (empty lines left out)."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT service_id, waiting, priority FROM queue_counts") if r[1] or r[2]}


def counted(conn):
    """The same, counted from the tickets themselves."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT service_id, count(*), sum(priority > 0) FROM tickets WHERE status = 'waiting' "
        "GROUP BY service_id")}


def test_counts_follow_every_change_of_a_ticket(world):
    conn, clock = world.conn, world.clock

    def issue(service, **kw):
        return tickets.issue(conn, clock, service, **kw).ticket

    def delete(ticket_id):
        for table in ("ticket_events", "ticket_visits", "print_jobs"):
            conn.execute(f"DELETE FROM {table} WHERE ticket_id = ?", (ticket_id,))
        conn.execute("DELETE FROM tickets WHERE id = ?", (ticket_id,))

    conn.execute("INSERT INTO settings (key, value) VALUES ('finish_rules', '{\"min_called_s\": 0}')")
    steps = [
        ("issue", lambda: [issue(world.ktp) for _ in range(3)]),
        ("issue_priority", lambda: issue(world.kk, priority_kind="lansia")),
        ("issue_other_agency", lambda: issue(world.pajak)),
        ("open", lambda: tickets.open_counter(conn, clock, world.c1)),
        ("call_next_priority", lambda: tickets.call_next(conn, clock, world.c1)),
        ("transfer_first", lambda: tickets.transfer(conn, clock, world.c1, world.ktp, "first")),
        ("call_next", lambda: tickets.call_next(conn, clock, world.c1)),
        ("transfer_last_other_line", lambda: tickets.transfer(conn, clock, world.c1, world.kk, "last")),
        ("call_next_again", lambda: tickets.call_next(conn, clock, world.c1)),
        ("no_show", lambda: tickets.no_show(conn, clock, world.c1)),
        ("call_out_of_turn", lambda: tickets.call_ticket(
            conn, clock, world.c1, conn.execute("SELECT id FROM tickets WHERE status = 'no_show'").fetchone()[0])),
        ("start_finish", lambda: (tickets.start(conn, clock, world.c1), tickets.finish(conn, clock, world.c1))),
        ("finish_and_call", lambda: (tickets.call_next(conn, clock, world.c1),
                                     tickets.call_next(conn, clock, world.c1, finish_current=True))),
        ("cancel", lambda: tickets.cancel(conn, clock, conn.execute(
            "SELECT id FROM tickets WHERE status = 'waiting' ORDER BY id DESC").fetchone()[0])),
        ("deleted_by_hand", lambda: delete(conn.execute(
            "SELECT max(id) FROM tickets WHERE status = 'waiting'").fetchone()[0])),
        ("priority_changed_by_hand", lambda: conn.execute(
            "UPDATE tickets SET priority = 1 WHERE id = (SELECT min(id) FROM tickets WHERE status = 'waiting')")),
    ]
    for name, step in steps:
        step()
        assert kept(conn) == counted(conn), name
        for sid in (world.ktp, world.kk, world.pajak):
            assert queue.waiting_count(conn, sid) == counted(conn).get(sid, (0, 0))[0], name
    # The next service day expires what is left: every line is empty again.
    clock.advance(24 * 3600)
    tickets.rollover(conn, clock)
    assert kept(conn) == counted(conn) == {}
    assert queue.waiting_counts(conn) == {world.ktp: 0, world.kk: 0, world.pajak: 0}


def calling_order_place(conn, row, service_ids, now):
    """Waiting tickets of these services that call-next takes before `row`, by sorting them."""
    rows = conn.execute(
        f"SELECT * FROM tickets WHERE status = 'waiting' AND service_id IN "
        f"({','.join('?' * len(service_ids))})", service_ids).fetchall()
    mine = (*order_key(row, now), row["id"])
    return sum(1 for r in rows if r["id"] != row["id"] and (*order_key(r, now), r["id"]) < mine)


LINES = [
    ("walk_ins", 0, 0, 0),
    ("with_priority", 4, 0, 0),
    ("with_bookings_due", 0, 3, 0),
    ("with_bookings_later", 0, 0, 3),
    ("everything", 3, 3, 3),
]


@pytest.mark.parametrize("name, priority, due, later", LINES, ids=[c[0] for c in LINES])
def test_each_place_in_line_is_the_calling_order(world, name, priority, due, later):
    conn, clock = world.conn, world.clock
    tickets.open_counter(conn, clock, world.c1)
    issued = []
    for i in range(24):
        clock.advance(7)
        service = world.ktp if i % 3 else world.kk  # KTP and KK share counter 1
        kind = "lansia" if i % 6 == 5 and priority else None
        issued.append(tickets.issue(conn, clock, service, priority_kind=kind).ticket["id"])
    now = clock.ts()
    # Checked-in bookings: some whose slot has started (called before walk-ins), some later.
    plain = [t for t in issued if not conn.execute("SELECT priority FROM tickets WHERE id = ?",
                                                   (t,)).fetchone()[0]]
    for k, tid in enumerate(plain[-due:] if due else []):
        conn.execute("UPDATE tickets SET slot_ts = ? WHERE id = ?", (now - 600 + k, tid))
    for k, tid in enumerate(plain[1:1 + later] if later else []):
        conn.execute("UPDATE tickets SET slot_ts = ? WHERE id = ?", (now + 600 + k, tid))
    # A ticket sent back to the front of a line, and one at the back.
    tickets.call_next(conn, clock, world.c1)
    tickets.transfer(conn, clock, world.c1, world.ktp, "first")
    for row in conn.execute("SELECT * FROM tickets WHERE status = 'waiting'").fetchall():
        sharing = sharing_services(conn, row["service_id"])
        for services in ([row["service_id"]], sharing):
            assert count_ahead(conn, services, row, now) == calling_order_place(conn, row, services, now), \
                (row["number"], services)
        shown = queue.get_ticket(conn, clock, row["id"])
        assert shown["ahead"] == calling_order_place(conn, row, [row["service_id"]], clock.ts())
    # A ticket issued now into this line: its answer says what a fresh read of it says.
    for service, kind in ((world.ktp, None), (world.kk, None), (world.ktp, "lansia"), (world.kk, "ibu_hamil")):
        issued = tickets.issue(conn, clock, service, priority_kind=kind)
        assert issued.ticket == queue.get_ticket(conn, clock, issued.ticket["id"]), (service, kind)
        row = queue.ticket_row(conn, issued.ticket["id"])
        assert issued.ticket["ahead"] == calling_order_place(conn, row, [service], clock.ts())
        assert issued.queues == {service: queue.waiting_count(conn, service)}


def test_migration_9_counts_the_lines_of_a_day_in_progress(db_path, clock):
    conn = connect(db_path)
    assert migrations.migrate(conn, upto=8)[-1] == 8
    conn.execute("INSERT INTO agencies (id, code, name, active, sort) VALUES (1, 'D', 'Dukcapil', 1, 0)")
    for sid, prefix in ((1, "A"), (2, "B")):
        conn.execute("INSERT INTO services (id, agency_id, prefix, name, active, target_wait_min, "
                     "default_service_s, sort) VALUES (?, 1, ?, 'S', 1, 15, 300, 0)", (sid, prefix))
    day, ts = clock.service_day(), clock.ts()
    # Service 1: 3 waiting (1 priority), 1 done; service 2: 1 called, none waiting.
    rows = [(1, 1, "waiting", 0), (1, 2, "waiting", 1), (1, 3, "waiting", 0), (1, 4, "done", 0),
            (2, 1, "called", 0)]
    for sid, seq, status, priority in rows:
        conn.execute(
            "INSERT INTO tickets (code, service_id, origin_service_id, service_day, seq, number, status, "
            "issued_ts, queue_ts, priority, call_count, print_status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'none')",
            (f"c{sid}{seq}", sid, sid, day, seq, f"X{seq:03d}", status, ts - 10 + seq, ts - 10 + seq,
             priority))
    conn.execute("INSERT INTO sequences VALUES (1, ?, 4)", (day,))
    conn.execute("INSERT INTO settings (key, value) VALUES ('service_day', ?)", (f'"{day}"',))
    conn.close()

    conn = connect(db_path)
    assert migrations.migrate(conn) == [9]
    assert kept(conn) == {1: (3, 1)}
    catalog.create_counter(conn, clock, 1, 1, [1, 2])
    ticket = tickets.issue(conn, clock, 1).ticket
    assert ticket["number"] == "A005" and ticket["ahead"] == 3
    assert kept(conn) == counted(conn) == {1: (4, 1)}
    assert [s["waiting"] for s in catalog.list_services(conn, clock)] == [4, 0]
