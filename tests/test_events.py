"""Socket.IO: who may connect, the snapshot, and who hears which event."""

import pytest

from conftest import login
from web.events import socketio


def connect(api, *, token=None, user=None, ticket=None):
    flask_client = login(api.app, user) if user else None
    auth = {"token": token} if token else ({"ticket": ticket} if ticket else None)
    return socketio.test_client(api.app, auth=auth, flask_test_client=flask_client)


def events(client, name=None):
    got = client.get_received()
    return [e for e in got if name is None or e["name"] == name]


def test_anonymous_and_bad_tokens_are_refused(api):
    assert not socketio.test_client(api.app).is_connected()
    assert not socketio.test_client(api.app, auth={"token": "nope"}).is_connected()
    assert not socketio.test_client(api.app, auth={"ticket": "nope"}).is_connected()


def test_display_gets_a_snapshot_then_calls(api):
    display = connect(api, token=api.people.display_token)
    assert display.is_connected()
    snap = events(display, "snapshot")[0]["args"][0]
    assert {s["id"] for s in snap["services"]} == {api.ktp, api.kk, api.pajak}
    assert {c["id"] for c in snap["counters"]} == {api.c1, api.c2, api.c3}
    assert snap["recent_calls"] == []

    officer = login(api.app, "officer")
    officer.post(f"/api/v1/counters/{api.c1}/open")
    kiosk_headers = {"Authorization": f"Bearer {api.people.kiosk_token}"}
    t = api.app.test_client().post("/api/v1/tickets", json={"service_id": api.ktp}, headers=kiosk_headers).json
    officer.post(f"/api/v1/counters/{api.c1}/call-next")
    got = events(display)
    names = [e["name"] for e in got]
    assert "ticket_called" in names and "queue_changed" in names and "counter_changed" in names
    assert "ticket_changed" not in names  # staff and tracking pages only
    call = next(e["args"][0] for e in got if e["name"] == "ticket_called")
    assert call == {**call, "ticket_id": t["id"], "number": "A001", "service_id": api.ktp,
                    "counter_id": api.c1, "counter_number": 1, "recall": False}
    assert call["called_at"].endswith("+07:00")
    queues = [e["args"][0] for e in got if e["name"] == "queue_changed"]
    assert queues[-1] == {"service_id": api.ktp, "waiting": 0}

    officer.post(f"/api/v1/counters/{api.c1}/recall")
    recall = [e["args"][0] for e in events(display, "ticket_called")]
    assert len(recall) == 1 and recall[0]["recall"] is True

    # Reconnecting brings the recent calls back in the snapshot.
    again = connect(api, token=api.people.display_token)
    snap = events(again, "snapshot")[0]["args"][0]
    assert [c["recall"] for c in snap["recent_calls"]] == [True, False]
    assert next(c for c in snap["counters"] if c["id"] == api.c1)["ticket"]["number"] == "A001"


def test_staff_hear_only_their_agency(api):
    own = connect(api, user="officer")
    other = connect(api, user="other")
    admin = connect(api, user="admin")
    snap = events(other, "snapshot")[0]["args"][0]
    assert {s["id"] for s in snap["services"]} == {api.pajak}
    officer = login(api.app, "officer")
    officer.post("/api/v1/tickets", json={"service_id": api.ktp})
    assert [e["name"] for e in events(own)][-2:] == ["ticket_changed", "queue_changed"]
    assert [e["name"] for e in events(admin)][-2:] == ["ticket_changed", "queue_changed"]
    assert events(other) == []


def test_display_limited_to_agencies(api):
    admin = login(api.app, "admin")
    display_id = next(d["id"] for d in admin.get("/api/v1/devices").json if d["kind"] == "display")
    r = admin.patch(f"/api/v1/devices/{display_id}", json={"agency_ids": [api.samsat]})
    assert r.status_code == 200 and r.json["agency_ids"] == [api.samsat]
    display = connect(api, token=api.people.display_token)
    snap = events(display, "snapshot")[0]["args"][0]
    assert {s["id"] for s in snap["services"]} == {api.pajak}
    admin.post("/api/v1/tickets", json={"service_id": api.ktp})
    assert events(display) == []
    admin.post("/api/v1/tickets", json={"service_id": api.pajak})
    assert [e["name"] for e in events(display)] == ["queue_changed"]


def test_tracking_page_hears_its_own_ticket(api):
    kiosk_headers = {"Authorization": f"Bearer {api.people.kiosk_token}"}
    c = api.app.test_client()
    mine = c.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=kiosk_headers).json
    other = c.post("/api/v1/tickets", json={"service_id": api.kk}, headers=kiosk_headers).json
    phone = connect(api, ticket=mine["code"])
    snap = events(phone, "snapshot")[0]["args"][0]
    assert snap["number"] == mine["number"] and snap["status"] == "waiting"
    officer = login(api.app, "officer")
    officer.post(f"/api/v1/counters/{api.c1}/open")
    officer.post(f"/api/v1/counters/{api.c1}/call", json={"ticket_id": other["id"]})
    # Tracking pages also hear their own service's queue move (to refresh their place).
    assert [e for e in events(phone) if e["name"] != "queue_changed"] == []
    officer.post(f"/api/v1/counters/{api.c1}/finish")
    officer.post(f"/api/v1/counters/{api.c1}/call-next")
    got = [e for e in events(phone) if e["name"] != "queue_changed"]
    assert [e["name"] for e in got] == ["ticket_called", "ticket_changed"]
    assert got[0]["args"][0]["counter_number"] == 1
    assert got[1]["args"][0]["status"] == "called"


@pytest.mark.parametrize("action", ["closed service", "busy counter", "bad body"])
def test_no_event_for_a_refused_change(api, action):
    display = connect(api, token=api.people.display_token)
    staff = connect(api, user="admin")
    events(display), events(staff)
    admin = login(api.app, "admin")
    if action == "closed service":
        from db.connection import connect as db_connect

        c = db_connect(api.app.config["DATABASE"])
        c.execute("UPDATE services SET closes_at = '08:00' WHERE id = ?", (api.ktp,))
        c.close()
        assert admin.post("/api/v1/tickets", json={"service_id": api.ktp}).status_code == 409
    elif action == "busy counter":
        admin.post("/api/v1/tickets", json={"service_id": api.ktp})
        admin.post(f"/api/v1/counters/{api.c1}/open")
        admin.post(f"/api/v1/counters/{api.c1}/call-next")
        events(display), events(staff)
        assert admin.post(f"/api/v1/counters/{api.c1}/call-next").status_code == 409
    else:
        assert admin.post("/api/v1/tickets", json={"service_id": "x"}).status_code == 400
    assert events(display) == [] and events(staff) == []


@pytest.mark.parametrize("action", ["set", "delete"])
def test_a_holiday_set_or_removed_reaches_the_displays_at_once(api, action):
    admin = login(api.app, "admin")
    if action == "delete":
        assert admin.post("/api/v1/holidays", json={"day": "2026-12-25", "name": "Natal"}).status_code == 201
    display = connect(api, token=api.people.display_token)
    events(display)  # the snapshot
    if action == "set":
        r = admin.post("/api/v1/holidays", json={"day": "2026-12-25", "name": "Natal"})
        assert r.status_code == 201
    else:
        assert admin.delete("/api/v1/holidays/2026-12-25").status_code == 204
    changed = [e["args"][0] for e in events(display, "services_changed")]
    assert changed == [{"agency_id": None, "service_id": None}]
