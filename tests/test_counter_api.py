"""The console's server side: idempotent actions, today's figures, callable tickets,
no-show rules, keypad devices, and the pages (Flask test client)."""

import html
import json

import pytest

from conftest import PASSWORD, login
from counter.idempotency import REPLAYS, Replays
from db import accounts
from db.connection import connect


def _issue(api, client, n=1, service=None):
    return [client.post("/api/v1/tickets", json={"service_id": service or api.ktp}).json
            for _ in range(n)]


def _counter(client, cid):
    return client.get(f"/api/v1/counters/{cid}").json


@pytest.fixture(autouse=True)
def fresh_memory():
    """In-process memories start empty: remembered idempotency keys."""
    REPLAYS._entries.clear()


def _config(client, cid):
    """The page settings of a console page (its giliran-config JSON block)."""
    page = client.get(f"/counter/{cid}").get_data(as_text=True)
    block = page.split('<script id="giliran-config" type="application/json">')[1]
    return json.loads(html.unescape(block.split("</script>")[0]))


@pytest.fixture
def officer(api):
    c = login(api.app, "officer")
    c.post(f"/api/v1/counters/{api.c1}/open")
    return c


@pytest.mark.parametrize("finish_current", [False, True])
def test_call_next_retried_with_its_key_calls_once(api, officer, finish_current):
    _issue(api, officer, 3)
    first = officer.post(f"/api/v1/counters/{api.c1}/call-next").json
    officer.post(f"/api/v1/counters/{api.c1}/start")  # served: finish_current may finish it at once
    url = f"/api/v1/counters/{api.c1}/call-next"
    headers = {"Idempotency-Key": "press-1"}
    a = officer.post(url, json={"finish_current": finish_current}, headers=headers)
    b = officer.post(url, json={"finish_current": finish_current}, headers=headers)
    if finish_current:
        assert a.status_code == b.status_code == 200 and a.json["id"] == b.json["id"]
        assert a.json["number"] == "A002"
        waiting = officer.get(f"/api/v1/counters/{api.c1}/waiting").json
        assert [w["number"] for w in waiting] == ["A003"]
    else:  # holding a ticket: the first is refused, and so is its retry (a refusal is not kept)
        assert a.status_code == b.status_code == 409
        assert a.json["error"]["code"] == b.json["error"]["code"] == "counter_busy"
        assert _counter(officer, api.c1)["ticket"]["id"] == first["id"]


def test_same_key_for_another_action_or_caller(api, officer):
    _issue(api, officer, 2)
    h = {"Idempotency-Key": "k-1"}
    assert officer.post(f"/api/v1/counters/{api.c1}/call-next", json={}, headers=h).status_code == 200
    r = officer.post(f"/api/v1/counters/{api.c1}/recall", headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "idempotency_key_reused"
    # Another person's identical key is theirs alone.
    boss = login(api.app, "super")
    r = boss.post(f"/api/v1/counters/{api.c1}/recall", headers=h)
    assert r.status_code == 200 and r.json["call_count"] == 2
    r = officer.post(f"/api/v1/counters/{api.c1}/finish", headers={"Idempotency-Key": "x" * 101})
    assert r.status_code == 400 and "Idempotency-Key" in r.json["error"]["fields"]


def test_nothing_waiting_replays_as_204(api, officer):
    url, h = f"/api/v1/counters/{api.c1}/call-next", {"Idempotency-Key": "empty"}
    r = officer.post(url, json={}, headers=h)
    assert r.status_code == 204 and r.data == b""
    # A ticket arrives; the retried press still answers what the press got, and calls nobody.
    _issue(api, officer, 1)
    r = officer.post(url, json={}, headers=h)
    assert r.status_code == 204 and r.data == b""
    assert _counter(officer, api.c1)["ticket"] is None
    assert officer.post(url, json={}, headers={"Idempotency-Key": "fresh"}).json["number"] == "A001"


def test_replays_are_bounded_and_expire():
    replays = Replays(ttl_s=60, max_entries=3)
    for i in range(5):
        assert replays.claim(("c", i), "a") == ("new", None)
        replays.store(("c", i), {"n": i})
    assert replays.claim(("c", 0), "a") == ("new", None)  # pushed out by newer ones
    assert replays.claim(("c", 4), "a") == ("replay", {"n": 4})
    assert replays.claim(("c", 5), "a")[0] == "new"
    assert replays.claim(("c", 5), "a") == ("busy", None)


def test_stats_count_today_per_counter_and_officer(api, officer, clock):
    _issue(api, officer, 4)
    url = f"/api/v1/counters/{api.c1}"
    for seconds in (60, 180, 120):
        officer.post(url + "/call-next", json={})
        clock.advance(seconds)
        officer.post(url + "/finish")
    officer.post(url + "/call-next", json={})
    officer.post(url + "/no-show")
    stats = officer.get(url + "/stats").json
    assert stats["me"] == {"served": 3, "no_shows": 1, "transferred": 0, "median_service_s": 120}
    assert stats["counter"]["served"] == 3
    other = login(api.app, "super").get(url + "/stats").json
    assert other["me"]["served"] == 0 and other["me"]["median_service_s"] is None
    assert login(api.app, "other").get(url + "/stats").status_code == 403


def test_callable_lists_waiting_and_no_show_tickets_of_the_agency(api, officer):
    _issue(api, officer, 2)
    _issue(api, officer, 1, service=api.kk)
    _issue(api, officer, 1, service=api.pajak)
    url = f"/api/v1/counters/{api.c1}"
    officer.post(url + "/call-next", json={})
    officer.post(url + "/no-show")
    listed = officer.get(url + "/callable").json
    assert [(t["number"], t["status"]) for t in listed] == [("A002", "waiting"), ("B001", "waiting"),
                                                           ("A001", "no_show")]
    latecomer = listed[-1]
    r = officer.post(url + "/call", json={"ticket_id": latecomer["id"]})
    assert r.status_code == 200 and r.json["number"] == "A001" and r.json["call_count"] == 2


def test_no_show_rules_enforced_only_when_configured(api, officer, db_path, clock):
    url = f"/api/v1/counters/{api.c1}"
    _issue(api, officer, 2)
    officer.post(url + "/call-next", json={})
    assert officer.post(url + "/no-show").status_code == 200  # none configured: the API allows it
    assert _config(officer, api.c1)["no_show_rules"] == {"min_calls": 2, "min_wait_s": 30,
                                                          "enforced": False}
    conn = connect(db_path)
    accounts.set_setting(conn, "no_show_rules", {"min_calls": 2, "min_wait_s": 45})
    conn.close()
    officer.post(url + "/call-next", json={})
    r = officer.post(url + "/no-show")
    assert r.status_code == 409 and r.json["error"]["code"] == "too_early"
    officer.post(url + "/recall")
    clock.advance(46)
    assert officer.post(url + "/no-show").status_code == 200
    assert _config(officer, api.c1)["no_show_rules"] == {"min_calls": 2, "min_wait_s": 45,
                                                          "enforced": True}


def test_keypad_operates_only_its_own_counter(api, officer):
    admin = login(api.app, "admin")
    created = admin.post(f"/api/v1/counters/{api.c1}/keypad-token")
    assert created.status_code == 201 and created.json["counter_id"] == api.c1
    keypad = {"Authorization": f"Bearer {created.json['token']}"}
    _issue(api, officer, 1)
    client = api.app.test_client()
    r = client.post(f"/api/v1/counters/{api.c1}/call-next", json={}, headers=keypad)
    assert r.status_code == 200 and r.json["number"] == "A001"
    assert client.post(f"/api/v1/counters/{api.c1}/recall", headers=keypad).json["call_count"] == 2
    assert client.post(f"/api/v1/counters/{api.c1}/start", headers=keypad).json["status"] == "serving"
    assert client.post(f"/api/v1/counters/{api.c1}/finish", headers=keypad).json["status"] == "done"
    # The officer who opened the counter is credited with what the keypad did.
    assert officer.get(f"/api/v1/counters/{api.c1}/stats").json["me"]["served"] == 1
    for method, path in [("POST", f"/api/v1/counters/{api.c2}/call-next"),
                         ("POST", f"/api/v1/counters/{api.c1}/close"),
                         ("POST", f"/api/v1/counters/{api.c1}/no-show"),
                         ("GET", f"/api/v1/counters/{api.c1}/waiting"),
                         ("POST", "/api/v1/tickets")]:
        r = client.open(path, method=method, json={"service_id": api.ktp}, headers=keypad)
        assert r.status_code == 403, (method, path, r.json)


@pytest.mark.parametrize("who, status", [("officer", 403), ("super", 201), ("other", 403)])
def test_who_may_make_keypad_tokens(api, who, status):
    assert login(api.app, who).post(f"/api/v1/counters/{api.c1}/keypad-token").status_code == status


def test_pages_login_then_console(api):
    anonymous = api.app.test_client()
    page = anonymous.get("/counter")
    assert page.status_code == 200 and 'id="login"' in page.get_data(as_text=True)
    assert "Masuk" in page.get_data(as_text=True)  # Indonesian first
    assert "Log in" in anonymous.get("/counter?lang=en").get_data(as_text=True)
    r = anonymous.get(f"/counter/{api.c1}")
    assert r.status_code == 302 and "next=/counter/" in r.headers["Location"]
    officer = login(api.app, "officer")
    assert 'id="counters"' in officer.get("/counter").get_data(as_text=True)
    console = officer.get(f"/counter/{api.c1}").get_data(as_text=True)
    assert "Panggil berikutnya" in console and "F1" in console
    config = _config(officer, api.c1)
    assert config["counter_id"] == api.c1 and config["user"]["username"] == "officer"
    assert officer.get(f"/counter/{api.c3}").status_code == 403
    assert officer.get("/counter/999").status_code == 404
    assert "src=\"http" not in console and "href=\"http" not in console


def test_login_takes_only_the_right_password(api):
    client = api.app.test_client()
    wrong = client.post("/api/v1/auth/login", json={"username": "officer", "password": PASSWORD + "x"})
    assert wrong.status_code == 401 and wrong.json["error"]["code"]
    right = client.post("/api/v1/auth/login", json={"username": "officer", "password": PASSWORD})
    assert right.status_code == 200 and right.json["user"]["username"] == "officer"
