"""What the kiosk's API says about a line (issue 18): a service no counter serves is not
offered and issues nothing (409 no_counter) and has no estimate; "ahead" and the estimate count
the same people (the other services' tickets called first are said apart); closed services
carry today's hours."""

import pytest

from conftest import login
from db import catalog, queue, tickets
from db.errors import Conflict


def _kiosk(api):
    c = api.app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {api.people.kiosk_token}"
    return c


def test_a_service_no_counter_serves_is_closed_with_a_reason_and_refused(api):
    lonely = catalog.create_service(api.conn, api.clock, api.dukcapil, "T", "Tanpa loket")["id"]
    kiosk = _kiosk(api)
    listed = {s["id"]: s for s in kiosk.get("/api/v1/services").json}
    assert listed[lonely]["is_open"] is False
    assert listed[lonely]["closed_reason"] == "no_counter"
    assert listed[lonely]["counter_count"] == 0
    assert listed[lonely]["estimated_wait_s"] is None  # never "< 1 min" for a line nobody calls
    r = kiosk.post("/api/v1/tickets", json={"service_id": lonely})
    assert r.status_code == 409 and r.json["error"]["code"] == "no_counter"
    assert api.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
    assert api.conn.execute("SELECT count(*) FROM sequences").fetchone()[0] == 0  # no gap either
    # Once a counter serves it, it is offered.
    catalog.create_counter(api.conn, api.clock, api.dukcapil, 7, [lonely])
    listed = {s["id"]: s for s in kiosk.get("/api/v1/services").json}
    assert listed[lonely]["is_open"] is True and listed[lonely]["estimated_wait_s"] is not None
    assert kiosk.post("/api/v1/tickets", json={"service_id": lonely}).status_code == 201


def test_transfer_to_a_service_no_counter_serves_is_refused(world):
    lonely = catalog.create_service(world.conn, world.clock, world.dukcapil, "T", "Tanpa loket")["id"]
    tickets.issue(world.conn, world.clock, world.ktp)
    tickets.open_counter(world.conn, world.clock, world.c2)
    tickets.call_next(world.conn, world.clock, world.c2)
    with pytest.raises(Conflict) as e:
        tickets.transfer(world.conn, world.clock, world.c2, lonely, "last")
    assert e.value.code == "no_counter"


def test_ahead_and_the_estimate_count_the_same_people(world):
    # Counter 1 serves KTP (A) and KK (B): two KK citizens came first.
    tickets.open_counter(world.conn, world.clock, world.c1)
    for _ in range(2):
        tickets.issue(world.conn, world.clock, world.kk)
    mine = tickets.issue(world.conn, world.clock, world.ktp).ticket
    again = queue.get_ticket(world.conn, world.clock, mine["id"])
    # c1 (KTP+KK) and c2 (KTP only, closed) serve KTP: 2 KK tickets come first at c1.
    assert again["ahead"] == 0 and again["ahead_other_services"] == 2
    assert again["estimated_wait_s"] == 2 * 300
    service = {s["id"]: s for s in catalog.list_services(world.conn, world.clock)}[world.ktp]
    assert service["waiting"] == 1 and service["waiting_other_services"] == 2


def test_issued_ticket_tells_the_other_services_ahead(world):
    tickets.open_counter(world.conn, world.clock, world.c1)
    tickets.issue(world.conn, world.clock, world.kk)
    mine = tickets.issue(world.conn, world.clock, world.ktp).ticket
    assert mine["ahead"] == 0 and mine["ahead_other_services"] == 1


@pytest.mark.parametrize("opens, closes, hour, reason, hours", [
    ("08:00", "12:00", 7, "before_hours", ["08:00", "12:00"]),
    ("08:00", "12:00", 13, "after_hours", ["08:00", "12:00"]),
    (None, "12:00", 13, "after_hours", [None, "12:00"]),
], ids=["before", "after", "closes only"])
def test_closed_services_carry_todays_hours(world, opens, closes, hour, reason, hours):
    svc = catalog.create_service(world.conn, world.clock, world.dukcapil, "H", "Jam",
                                 opens_at=opens, closes_at=closes)["id"]
    catalog.create_counter(world.conn, world.clock, world.dukcapil, 9, [svc])
    world.clock.set(world.clock.local().replace(hour=hour, minute=0))
    s = {s["id"]: s for s in catalog.list_services(world.conn, world.clock)}[svc]
    assert s["is_open"] is False and s["closed_reason"] == reason and s["today_hours"] == hours


def test_weekly_hours_are_todays_hours(api):
    admin = login(api.app, "admin")
    week = {str(d): ["08:00", "15:00"] for d in range(1, 6)} | {"6": None, "7": None}
    week["2"] = ["07:30", "11:00"]  # MORNING is a Tuesday
    assert admin.patch(f"/api/v1/services/{api.kk}", json={"hours": week}).status_code == 200
    s = {s["id"]: s for s in admin.get("/api/v1/services").json}[api.kk]
    assert s["today_hours"] == ["07:30", "11:00"]


@pytest.mark.parametrize("text, saved", [("08.00", "08:00"), ("08:00", "08:00"),
                                         ("08:00:00", "08:00")], ids=["dot", "colon", "seconds"])
def test_the_api_takes_indonesian_times(api, text, saved):
    admin = login(api.app, "admin")
    r = admin.patch(f"/api/v1/services/{api.kk}", json={"opens_at": text})
    assert r.status_code == 200 and r.json["opens_at"] == saved


@pytest.mark.parametrize("text", ["08", "0800", "8.0", "24:00", "08:60", "08.00 AM"])
def test_the_api_refuses_incomplete_times(api, text):
    admin = login(api.app, "admin")
    r = admin.patch(f"/api/v1/services/{api.kk}", json={"opens_at": text})
    assert r.status_code == 400 and "opens_at" in r.json["error"]["fields"]
