"""The queue engine, state by state, with every illegal transition."""

import pytest

from db import catalog, queue, tickets
from db.errors import Conflict, Invalid, NotFound


def issue(world, service=None, **kw):
    return tickets.issue(world.conn, world.clock, service or world.ktp, **kw).ticket


def opened(world, counter):
    tickets.open_counter(world.conn, world.clock, counter)
    return counter


def holding(world, counter, waiting=1):
    """`waiting` tickets taken and the counter open, holding the first one it called."""
    for _ in range(waiting):
        issue(world)
    return tickets.call_next(world.conn, world.clock, opened(world, counter)).ticket


def test_numbers_are_prefix_and_three_digit_sequence(world):
    numbers = [issue(world)["number"] for _ in range(3)]
    assert numbers == ["A001", "A002", "A003"]
    assert issue(world, world.kk)["number"] == "B001"


def test_number_past_999_grows_a_digit(world):
    world.conn.execute(
        "INSERT INTO sequences (service_id, service_day, last_seq) VALUES (?, ?, 999)",
        (world.ktp, world.clock.service_day()),
    )
    assert issue(world)["number"] == "A1000"


def test_new_ticket_waits_with_people_ahead_and_estimate(world):
    first = issue(world)
    second = issue(world)
    assert first["status"] == "waiting" and first["ahead"] == 0
    assert second["ahead"] == 1
    # One person ahead, no counter open (counted as one), default 300 s each.
    assert second["estimated_wait_s"] == 300
    opened(world, world.c1)
    opened(world, world.c2)
    again = queue.get_ticket(world.conn, world.clock, second["id"])
    assert again["estimated_wait_s"] == 150


def test_estimate_uses_median_of_todays_service_times(world):
    opened(world, world.c2)
    for seconds in (60, 120, 600):
        issue(world)
        tickets.call_next(world.conn, world.clock, world.c2)
        world.clock.advance(seconds)
        tickets.finish(world.conn, world.clock, world.c2)
    issue(world)
    waiting = issue(world)
    assert waiting["ahead"] == 1
    assert waiting["estimated_wait_s"] == 120


def test_call_next_takes_priority_then_earliest(world):
    a1 = issue(world)
    a2 = issue(world, priority_kind="lansia")
    b1 = issue(world, world.kk)
    opened(world, world.c1)
    order = []
    for _ in range(3):
        t = tickets.call_next(world.conn, world.clock, world.c1).ticket
        order.append(t["number"])
        tickets.start(world.conn, world.clock, world.c1)
        tickets.finish(world.conn, world.clock, world.c1)
    assert order == [a2["number"], a1["number"], b1["number"]]


def test_call_next_only_from_the_counters_services(world):
    issue(world, world.kk)
    opened(world, world.c2)  # serves KTP only
    change = tickets.call_next(world.conn, world.clock, world.c2)
    assert change.ticket is None


def test_called_ticket_is_bound_to_the_counter(world):
    t = issue(world)
    opened(world, world.c1)
    change = tickets.call_next(world.conn, world.clock, world.c1)
    assert change.ticket["status"] == "called"
    assert change.ticket["counter_id"] == world.c1
    assert change.ticket["call_count"] == 1
    assert change.counter["ticket"]["id"] == t["id"]
    assert change.call["counter_number"] == 1 and change.call["recall"] is False
    assert change.queues == {world.ktp: 0}


def test_full_life_of_a_ticket(world):
    t = issue(world)
    opened(world, world.c1)
    tickets.call_next(world.conn, world.clock, world.c1)
    r = tickets.recall(world.conn, world.clock, world.c1)
    assert r.ticket["call_count"] == 2 and r.call["recall"] is True
    s = tickets.start(world.conn, world.clock, world.c1)
    assert s.ticket["status"] == "serving"
    world.clock.advance(90)
    f = tickets.finish(world.conn, world.clock, world.c1)
    assert f.ticket["status"] == "done" and f.counter["ticket"] is None
    events = [r[0] for r in world.conn.execute(
        "SELECT event FROM ticket_events WHERE ticket_id = ? ORDER BY id", (t["id"],))]
    assert events == ["issued", "called", "recalled", "started", "finished"]


def test_no_show_then_latecomer_called_out_of_turn(world):
    late = issue(world)
    issue(world)
    opened(world, world.c1)
    tickets.call_next(world.conn, world.clock, world.c1)
    ns = tickets.no_show(world.conn, world.clock, world.c1)
    assert ns.ticket["status"] == "no_show" and ns.counter["ticket"] is None
    back = tickets.call_ticket(world.conn, world.clock, world.c1, late["id"])
    assert back.ticket["status"] == "called" and back.ticket["call_count"] == 2


def test_no_show_guard_rails(world):
    issue(world)
    opened(world, world.c1)
    tickets.call_next(world.conn, world.clock, world.c1)
    with pytest.raises(Conflict) as e:
        tickets.no_show(world.conn, world.clock, world.c1, min_calls=2)
    assert e.value.code == "too_early"
    tickets.recall(world.conn, world.clock, world.c1)
    with pytest.raises(Conflict):
        tickets.no_show(world.conn, world.clock, world.c1, min_calls=2, min_wait_s=60)
    world.clock.advance(61)
    assert tickets.no_show(world.conn, world.clock, world.c1, min_calls=2,
                           min_wait_s=60).ticket["status"] == "no_show"


@pytest.mark.parametrize("position, expected", [("first", ["A002", "B001", "B002"]),
                                               ("last", ["B001", "B002", "A002"])])
def test_transfer_keeps_number_and_takes_its_place(world, position, expected):
    issue(world)
    moving = issue(world)
    issue(world, world.kk)
    issue(world, world.kk)
    opened(world, world.c2)
    tickets.call_next(world.conn, world.clock, world.c2)
    tickets.start(world.conn, world.clock, world.c2)
    tickets.finish(world.conn, world.clock, world.c2)
    tickets.call_next(world.conn, world.clock, world.c2)  # A002
    world.clock.advance(5)
    ch = tickets.transfer(world.conn, world.clock, world.c2, world.kk, position)
    assert ch.ticket["number"] == moving["number"] and ch.ticket["status"] == "waiting"
    assert ch.ticket["service_id"] == world.kk
    assert ch.queues == {world.kk: 3, world.ktp: 0}
    listed = [t["number"] for t in queue.waiting_list(world.conn, world.clock, [world.kk])]
    assert listed == expected


def test_pause_and_resume(world):
    opened(world, world.c1)
    p = tickets.pause_counter(world.conn, world.clock, world.c1, "sholat")
    assert p.counter["state"] == "paused" and p.counter["pause_reason"] == "sholat"
    issue(world)
    # Calling from a pause resumes the counter.
    c = tickets.call_next(world.conn, world.clock, world.c1)
    assert c.counter["state"] == "open" and c.counter["pause_reason"] is None
    reasons = [r[0] for r in world.conn.execute(
        "SELECT event FROM counter_events WHERE counter_id = ? ORDER BY id", (world.c1,))]
    assert reasons == ["open", "paused"]


def test_close_frees_counter_only_when_empty(world):
    holding(world, world.c1)
    with pytest.raises(Conflict) as e:
        tickets.close_counter(world.conn, world.clock, world.c1)
    assert e.value.code == "counter_busy"
    tickets.start(world.conn, world.clock, world.c1)
    tickets.finish(world.conn, world.clock, world.c1)
    assert tickets.close_counter(world.conn, world.clock, world.c1).counter["state"] == "closed"


def test_finish_current_and_call_next_in_one_step(world):
    holding(world, world.c1, waiting=2)
    with pytest.raises(Conflict) as e:
        tickets.call_next(world.conn, world.clock, world.c1)
    assert e.value.code == "counter_busy"
    tickets.start(world.conn, world.clock, world.c1)
    ch = tickets.call_next(world.conn, world.clock, world.c1, finish_current=True)
    assert ch.ticket["number"] == "A002"
    assert [t["status"] for t in ch.tickets] == ["done"]


# -- what the rules refuse -------------------------------------------------------

ILLEGAL = [
    # (name, setup, action, expected code)
    ("call at a closed counter", "closed", lambda w: tickets.call_next(w.conn, w.clock, w.c1), "counter_closed"),
    ("recall with nothing held", "open", lambda w: tickets.recall(w.conn, w.clock, w.c1), "no_ticket"),
    ("start with nothing held", "open", lambda w: tickets.start(w.conn, w.clock, w.c1), "no_ticket"),
    ("finish with nothing held", "open", lambda w: tickets.finish(w.conn, w.clock, w.c1), "no_ticket"),
    ("no-show with nothing held", "open", lambda w: tickets.no_show(w.conn, w.clock, w.c1), "no_ticket"),
    ("transfer with nothing held", "open", lambda w: tickets.transfer(w.conn, w.clock, w.c1, w.kk, "first"), "no_ticket"),
    ("start a serving ticket", "serving", lambda w: tickets.start(w.conn, w.clock, w.c1), "invalid_transition"),
    ("recall a serving ticket", "serving", lambda w: tickets.recall(w.conn, w.clock, w.c1), "invalid_transition"),
    ("no-show a serving ticket", "serving", lambda w: tickets.no_show(w.conn, w.clock, w.c1), "invalid_transition"),
    ("call next while holding", "called", lambda w: tickets.call_next(w.conn, w.clock, w.c1), "counter_busy"),
    ("call out of turn while holding", "called", lambda w: tickets.call_ticket(w.conn, w.clock, w.c1, w.waiting_id), "counter_busy"),
    ("close while holding", "called", lambda w: tickets.close_counter(w.conn, w.clock, w.c1), "counter_busy"),
    ("pause a closed counter", "closed", lambda w: tickets.pause_counter(w.conn, w.clock, w.c1, "istirahat"), "counter_closed"),
    ("call a done ticket", "done", lambda w: tickets.call_ticket(w.conn, w.clock, w.c1, w.done_id), "invalid_transition"),
    ("call another agency's ticket", "open", lambda w: tickets.call_ticket(w.conn, w.clock, w.c1, w.other_id), "wrong_agency"),
    ("issue at a closed service", "closed_service", lambda w: tickets.issue(w.conn, w.clock, w.kk), "service_closed"),
]


def _arrange(world, state):
    world.waiting_id = issue(world)["id"]
    world.other_id = issue(world, world.pajak)["id"]
    if state == "closed":
        return
    if state == "closed_service":
        world.conn.execute("UPDATE services SET opens_at = '10:00' WHERE id = ?", (world.kk,))
        return
    opened(world, world.c1)
    if state in ("called", "serving", "done"):
        issue(world)
        tickets.call_next(world.conn, world.clock, world.c1)
    if state in ("serving", "done"):
        tickets.start(world.conn, world.clock, world.c1)
    if state == "done":
        world.done_id = tickets.finish(world.conn, world.clock, world.c1).ticket["id"]


@pytest.mark.parametrize("name, state, action, code", ILLEGAL, ids=[c[0] for c in ILLEGAL])
def test_illegal_transition_is_refused_and_changes_nothing(world, name, state, action, code):
    _arrange(world, state)
    before = world.conn.execute("SELECT * FROM tickets ORDER BY id").fetchall()
    events = world.conn.execute("SELECT count(*) FROM ticket_events").fetchone()[0]
    with pytest.raises(Conflict) as e:
        action(world)
    assert e.value.code == code
    assert e.value.message
    assert [tuple(r) for r in world.conn.execute("SELECT * FROM tickets ORDER BY id")] == \
        [tuple(r) for r in before]
    assert world.conn.execute("SELECT count(*) FROM ticket_events").fetchone()[0] == events


def test_quota_runs_out_without_a_gap(world, conn, clock):
    svc = catalog.create_service(conn, clock, world.dukcapil, "Q", "Kuota", daily_quota=2)["id"]
    catalog.create_counter(conn, clock, world.dukcapil, 9, [svc])
    assert [issue(world, svc)["number"] for _ in range(2)] == ["Q001", "Q002"]
    with pytest.raises(Conflict) as e:
        issue(world, svc)
    assert e.value.code == "quota_exhausted"
    last = conn.execute("SELECT last_seq FROM sequences WHERE service_id = ?", (svc,)).fetchone()[0]
    assert last == 2
    listed = {s["id"]: s for s in catalog.list_services(conn, clock)}
    assert listed[svc]["quota_left"] == 0 and listed[svc]["is_open"] is False


@pytest.mark.parametrize("opens, closes, hour, is_open", [
    ("08:00", "15:00", 7, False), ("08:00", "15:00", 8, True), ("08:00", "15:00", 14, True),
    ("08:00", "15:00", 15, False), (None, None, 23, True),
])
def test_service_hours_in_the_mpps_zone(world, conn, clock, opens, closes, hour, is_open):
    svc = catalog.create_service(conn, clock, world.dukcapil, "H", "Jam", opens_at=opens,
                                 closes_at=closes)["id"]
    catalog.create_counter(conn, clock, world.dukcapil, 9, [svc])
    clock.set(clock.local().replace(hour=hour, minute=0))
    if is_open:
        assert issue(world, svc)["status"] == "waiting"
    else:
        with pytest.raises(Conflict):
            issue(world, svc)


def test_unknown_things_are_not_found(world):
    with pytest.raises(NotFound):
        tickets.issue(world.conn, world.clock, 999)
    with pytest.raises(NotFound):
        tickets.call_next(world.conn, world.clock, 999)
    with pytest.raises(NotFound):
        queue.get_ticket_by_code(world.conn, world.clock, "nope")


def test_idempotency_key_returns_the_same_ticket(world):
    a = tickets.issue(world.conn, world.clock, world.ktp, idempotency_key="k1:abc")
    b = tickets.issue(world.conn, world.clock, world.ktp, idempotency_key="k1:abc")
    assert a.ticket["id"] == b.ticket["id"] and b.replayed
    assert world.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 1


def test_bad_values_are_invalid(world):
    with pytest.raises(Invalid):
        tickets.issue(world.conn, world.clock, world.ktp, priority_kind="vip")
    with pytest.raises(Invalid):
        catalog.create_service(world.conn, world.clock, world.dukcapil, "a1", "x")
    with pytest.raises(Invalid):
        catalog.create_service(world.conn, world.clock, world.dukcapil, "Z", "x",
                               opens_at="15:00", closes_at="08:00")
    assert world.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
