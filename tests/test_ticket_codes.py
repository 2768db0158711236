"""A ticket's code only to its holders (issue 12, point 6): not in /counters, snapshots or
events for displays, kiosks or another agency's staff; a survey only for a done ticket, once."""

import json

import pytest

from conftest import login
from test_api import Caller
from test_events import connect, events


@pytest.fixture
def called(api):
    """Counter 1 (Dukcapil) holds a called ticket."""
    officer = login(api.app, "officer")
    officer.post(f"/api/v1/counters/{api.c1}/open")
    t = officer.post("/api/v1/tickets", json={"service_id": api.ktp}).json
    assert officer.post(f"/api/v1/counters/{api.c1}/call-next").status_code == 200
    return t


SEES = {"officer": True, "supervisor": True, "admin": True,
        "other_officer": False, "kiosk": False, "display": False}


@pytest.mark.parametrize("role", SEES, ids=list(SEES))
def test_counters_carry_codes_only_for_staff_of_the_agency(api, called, role):
    caller = Caller(api, role)
    for r in (caller.request("GET", "/api/v1/counters"), caller.request("GET", f"/api/v1/counters/{api.c1}")):
        assert r.status_code == 200
        body = r.get_data(as_text=True)
        assert (called["code"] in body) is SEES[role]
        held = next(c for c in (r.json if isinstance(r.json, list) else [r.json]) if c["id"] == api.c1)["ticket"]
        assert held["number"] == "A001"  # the number stays: TVs show it
        assert ("code" in held, "tracking_url" in held) == (SEES[role], SEES[role])


SOCKETS = {"officer": ("user", "officer", True), "admin": ("user", "admin", True),
           "other_officer": ("user", "other", False), "display": ("token", "display", False),
           "kiosk": ("token", "kiosk", False)}


@pytest.mark.parametrize("role", SOCKETS, ids=list(SOCKETS))
def test_snapshots_and_events_carry_codes_only_for_staff_of_the_agency(api, called, role):
    how, who, sees = SOCKETS[role]
    token = {"display": api.people.display_token, "kiosk": api.people.kiosk_token}.get(who)
    client = connect(api, token=token) if how == "token" else connect(api, user=who)
    snap = events(client, "snapshot")[0]["args"][0]
    assert (called["code"] in json.dumps(snap)) is sees
    officer = login(api.app, "officer")
    assert officer.post(f"/api/v1/counters/{api.c1}/start").status_code == 200
    assert officer.post(f"/api/v1/counters/{api.c1}/finish").status_code == 200
    got = events(client)
    assert got or role == "other_officer", "the client heard nothing"  # Samsat hears no Dukcapil event
    assert (called["code"] in json.dumps(got)) is sees
    if role in ("display", "kiosk"):
        changed = [e["args"][0] for e in got if e["name"] == "counter_changed"]
        assert changed and all("code" not in json.dumps(c) for c in changed)


def _survey(client, code):
    return client.post(f"/api/v1/tickets/{code}/survey", json={**{f"u{i}": 4 for i in range(1, 10)},
                                                               "comment": "Cepat"})


def _to(api, status):
    officer = login(api.app, "officer")
    officer.post(f"/api/v1/counters/{api.c1}/open")
    t = officer.post("/api/v1/tickets", json={"service_id": api.ktp}).json
    steps = {"waiting": [], "called": ["call-next"], "serving": ["call-next", "start"],
             "done": ["call-next", "start", "finish"], "no_show": ["call-next", "no-show"]}[status]
    for step in steps:
        assert officer.post(f"/api/v1/counters/{api.c1}/{step}").status_code == 200
    return t


@pytest.mark.parametrize("status, code", [("waiting", "ticket_not_done"), ("called", "ticket_not_done"),
                                          ("serving", "ticket_not_done"), ("no_show", "ticket_not_done"),
                                          ("done", None)])
def test_a_survey_answer_only_for_a_done_ticket_and_only_once(api, status, code):
    t = _to(api, status)
    anyone = api.app.test_client()
    r = _survey(anyone, t["code"])
    if code:
        assert r.status_code == 409 and r.json["error"]["code"] == code
        return
    assert r.status_code == 201
    again = _survey(anyone, t["code"])
    assert again.status_code == 409 and again.json["error"]["code"] == "survey_done"
