"""Withdrawing a waiting ticket: the citizen from the tracking page, or staff."""

import pytest

from conftest import login
from web.events import socketio


def _take(api, n=1):
    kiosk = {"Authorization": f"Bearer {api.people.kiosk_token}"}
    client = api.app.test_client()
    return [client.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=kiosk).json
            for _ in range(n)]


def test_the_holder_withdraws_a_waiting_ticket_and_the_line_moves_on(api):
    first, second = _take(api, 2)
    display = socketio.test_client(api.app, auth={"token": api.people.display_token})
    display.get_received()
    citizen = api.app.test_client()
    r = citizen.post(f"/api/v1/tickets/{first['code']}/cancel")
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert citizen.get(f"/api/v1/tickets/{first['code']}").json["status"] == "cancelled"
    queues = [e["args"][0] for e in display.get_received() if e["name"] == "queue_changed"]
    assert queues == [{"service_id": api.ktp, "waiting": 1}]
    assert citizen.get(f"/api/v1/tickets/{second['code']}").json["ahead"] == 0
    officer = login(api.app, "officer")
    officer.post(f"/api/v1/counters/{api.c1}/open")
    assert officer.post(f"/api/v1/counters/{api.c1}/call-next").json["number"] == second["number"]


@pytest.mark.parametrize("state, code", [
    ("called", "ticket_called"), ("serving", "ticket_called"), ("done", "ticket_closed"),
    ("no_show", "ticket_closed"), ("cancelled", "ticket_closed"),
])
def test_only_a_waiting_ticket_can_be_withdrawn(api, state, code):
    (ticket,) = _take(api)
    officer = login(api.app, "officer")
    url = f"/api/v1/counters/{api.c1}"
    officer.post(url + "/open")
    steps = {"called": ["call-next"], "serving": ["call-next", "start"],
             "done": ["call-next", "start", "finish"], "no_show": ["call-next", "no-show"]}
    for step in steps.get(state, []):
        assert officer.post(url + "/" + step, json={}).status_code == 200, step
    if state == "cancelled":
        assert api.app.test_client().post(f"/api/v1/tickets/{ticket['code']}/cancel").status_code == 200
    before = api.app.test_client().get(f"/api/v1/tickets/{ticket['code']}").json
    r = api.app.test_client().post(f"/api/v1/tickets/{ticket['code']}/cancel")
    assert r.status_code == 409 and r.json["error"]["code"] == code
    assert api.app.test_client().get(f"/api/v1/tickets/{ticket['code']}").json == before


def test_an_unknown_code_is_404_and_staff_withdrawals_are_audited(api):
    assert api.app.test_client().post("/api/v1/tickets/nope/cancel").status_code == 404
    (ticket,) = _take(api)
    officer = login(api.app, "officer")
    assert officer.post(f"/api/v1/tickets/{ticket['code']}/cancel").status_code == 200
    row = api.conn.execute("SELECT user_id, data FROM ticket_events WHERE ticket_id = ? "
                           "AND event = 'cancelled'", (ticket["id"],)).fetchone()
    officer_id = api.conn.execute("SELECT id FROM users WHERE username = 'officer'").fetchone()[0]
    assert row["user_id"] == officer_id and '"staff"' in row["data"]
    report = login(api.app, "admin").get("/api/v1/reports?group_by=service").json
    assert sum(r["cancelled"] for r in report["rows"]) == 1


# -- staff: an officer takes a waiting ticket out of the line at the counter --------------


def test_an_officer_cancels_a_waiting_ticket_from_the_counter_and_everyone_hears(api):
    first, second = _take(api, 2)
    display = socketio.test_client(api.app, auth={"token": api.people.display_token})
    officer = login(api.app, "officer")
    console = socketio.test_client(api.app, flask_test_client=officer)
    display.get_received(), console.get_received()
    r = officer.post(f"/api/v1/counters/{api.c1}/cancel", json={"ticket_id": first["id"]})
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["number"] == "A001"
    waiting = officer.get(f"/api/v1/counters/{api.c1}/waiting").json
    assert [w["number"] for w in waiting] == ["A002"]
    for client in (display, console):
        queues = [e["args"][0] for e in client.get_received() if e["name"] == "queue_changed"]
        assert queues == [{"service_id": api.ktp, "waiting": 1}]
    officer_id = api.conn.execute("SELECT id FROM users WHERE username = 'officer'").fetchone()[0]
    audit = api.conn.execute("SELECT user_id, action, target FROM audit_log "
                             "WHERE action = 'ticket.cancel'").fetchall()
    assert [tuple(a) for a in audit] == [(officer_id, "ticket.cancel", f"ticket:{first['id']}")]
    assert api.app.test_client().get(f"/api/v1/tickets/{second['code']}").json["ahead"] == 0


@pytest.mark.parametrize("case, status, code", [
    ("called already", 409, "ticket_called"),
    ("another agency's ticket", 409, "wrong_agency"),
    ("no such ticket", 404, "ticket_not_found"),
], ids=["called", "other-agency", "unknown"])
def test_the_counter_cannot_cancel_what_is_not_its_waiting_ticket(api, case, status, code):
    officer = login(api.app, "officer")
    if case == "called already":
        (ticket,) = _take(api)
        officer.post(f"/api/v1/counters/{api.c1}/open")
        assert officer.post(f"/api/v1/counters/{api.c1}/call-next").status_code == 200
        ticket_id = ticket["id"]
    elif case == "another agency's ticket":
        kiosk = {"Authorization": f"Bearer {api.people.kiosk_token}"}
        ticket_id = api.app.test_client().post("/api/v1/tickets", json={"service_id": api.pajak},
                                               headers=kiosk).json["id"]
    else:
        ticket_id = 99999
    before = api.conn.execute("SELECT id, status FROM tickets ORDER BY id").fetchall()
    r = officer.post(f"/api/v1/counters/{api.c1}/cancel", json={"ticket_id": ticket_id})
    assert r.status_code == status and r.json["error"]["code"] == code
    assert api.conn.execute("SELECT id, status FROM tickets ORDER BY id").fetchall() == before
    assert api.conn.execute("SELECT count(*) FROM audit_log WHERE action = 'ticket.cancel'"
                            ).fetchone()[0] == 0
