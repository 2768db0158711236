"""Creating and editing an agency, a service or a counter apply one set of checks (db/catalog.py):
the same wrong value is refused with the same code and sentence either way, and changes nothing."""

import pytest

from db import admin, catalog
from db.errors import Conflict, DomainError, NotFound


def refusal(call):
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.status, caught.value.code, caught.value.fields


def dump(conn):
    return [tuple(r) for t in ("agencies", "services", "counters", "counter_services")
            for r in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")]


SERVICE_CASES = {
    "prefix": {"prefix": "A1"},
    "name": {"name": "   "},
    "quota": {"daily_quota": 0},
    "target": {"target_wait_min": 0},
    "service_time": {"default_service_s": -5},
}


@pytest.mark.parametrize("bad", SERVICE_CASES.values(), ids=list(SERVICE_CASES))
def test_a_service_is_checked_the_same_when_created_and_edited(world, bad):
    conn, clock = world.conn, world.clock
    before = dump(conn)
    created = refusal(lambda: catalog.create_service(
        conn, clock, world.dukcapil, bad.get("prefix", "Z"), bad.get("name", "Baru"),
        **{k: v for k, v in bad.items() if k not in ("prefix", "name")}))
    edited = refusal(lambda: admin.update_service(conn, world.ktp, bad))
    assert created == edited
    assert created[:2] == (400, "validation_error") and set(created[2]) == set(bad)
    assert dump(conn) == before


AGENCY_CASES = {"code": {"code": "no spaces"}, "name": {"name": ""}, "code_taken": {"code": "SAMSAT"}}


@pytest.mark.parametrize("bad", AGENCY_CASES.values(), ids=list(AGENCY_CASES))
def test_an_agency_is_checked_the_same_when_created_and_edited(world, bad):
    conn = world.conn
    before = dump(conn)
    created = refusal(lambda: catalog.create_agency(conn, bad.get("code", "BARU"), bad.get("name", "Baru")))
    edited = refusal(lambda: admin.update_agency(conn, world.dukcapil, bad))
    assert created == edited
    assert dump(conn) == before


COUNTER_CASES = {
    "no_service": lambda w: [],
    "other_agency": lambda w: [w.pajak],
    "unknown": lambda w: [999],
}


@pytest.mark.parametrize("services", COUNTER_CASES.values(), ids=list(COUNTER_CASES))
def test_a_counters_services_are_checked_the_same_when_created_and_edited(world, services):
    conn, clock = world.conn, world.clock
    before = dump(conn)
    created = refusal(lambda: catalog.create_counter(conn, clock, world.dukcapil, 9, services(world)))
    edited = refusal(lambda: admin.update_counter(conn, clock, world.c1, {"service_ids": services(world)}))
    assert created == edited
    assert created[:2] == (400, "validation_error") and list(created[2]) == ["service_ids"]
    assert dump(conn) == before


def test_a_taken_counter_number_is_the_same_conflict_either_way(world):
    conn, clock = world.conn, world.clock
    with pytest.raises(Conflict) as created:
        catalog.create_counter(conn, clock, world.dukcapil, 2, [world.ktp])
    with pytest.raises(Conflict) as edited:
        admin.update_counter(conn, clock, world.c1, {"number": 2})
    assert (created.value.code, created.value.message, created.value.fields) == \
        (edited.value.code, edited.value.message, edited.value.fields) == \
        ("counter_number_taken", "This agency already has a counter number 2.",
         {"number": "Already taken in this agency."})


@pytest.mark.parametrize("call, code, message, fields", [
    (lambda w: catalog.get_agency(w.conn, 999), "agency_not_found", "No agency with that id.",
     {"agency_id": "Unknown agency."}),
    (lambda w: catalog.get_service(w.conn, 999), "service_not_found", "No service with that id.",
     {"service_id": "Unknown service."}),
    (lambda w: admin.update_counter(w.conn, w.clock, 999, {"name": "x"}), "counter_not_found",
     "No counter with that id.", None),
], ids=["agency", "service", "counter"])
def test_what_does_not_exist_is_named_in_its_not_found(world, call, code, message, fields):
    with pytest.raises(NotFound) as caught:
        call(world)
    assert (caught.value.code, caught.value.message, caught.value.fields) == (code, message, fields)
