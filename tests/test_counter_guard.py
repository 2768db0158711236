"""The finish guard (issue 18, point 1): a ticket that is only called is held a few seconds
before it can be finished, so a double press of "finish and call next" never finishes the
citizen it has just called; a ticket being served is finished at once, by any client."""

import pytest

from conftest import login, screenshot, shared_demo_mpp
from db import accounts, queue, tickets
from db.connection import connect
from db.errors import Conflict

DEMO_PASSWORD = "giliran123"


def _called(world, n=1):
    for _ in range(n):
        tickets.issue(world.conn, world.clock, world.ktp)
    tickets.open_counter(world.conn, world.clock, world.c2)
    return tickets.call_next(world.conn, world.clock, world.c2).ticket


@pytest.mark.parametrize("action", ["finish", "finish_current"])
def test_a_just_called_ticket_is_not_finished(world, action):
    held = _called(world, 2)
    world.clock.advance(0.15)  # the second press of F6, 150 ms later
    with pytest.raises(Conflict) as e:
        if action == "finish":
            tickets.finish(world.conn, world.clock, world.c2)
        else:
            tickets.call_next(world.conn, world.clock, world.c2, finish_current=True)
    assert e.value.code == "finish_too_soon"
    again = queue.get_ticket(world.conn, world.clock, held["id"])
    assert again["status"] == "called" and again["finished_at"] is None
    assert queue.waiting_count(world.conn, world.ktp) == 1  # nobody else was called


def test_held_long_enough_a_called_ticket_is_finished(world):
    _called(world)
    world.clock.advance(tickets.DEFAULT_FINISH_MIN_CALLED_S)
    assert tickets.finish(world.conn, world.clock, world.c2).ticket["status"] == "done"


def test_a_ticket_being_served_is_finished_at_once(world):
    _called(world, 2)
    tickets.start(world.conn, world.clock, world.c2)
    ch = tickets.call_next(world.conn, world.clock, world.c2, finish_current=True)
    assert [t["status"] for t in ch.tickets] == ["done"] and ch.ticket["number"] == "A002"


@pytest.mark.parametrize("hold, wait, ok", [(0, 0, True), (30, 20, False), (30, 30, True)],
                         ids=["guard off", "30 s not yet", "30 s held"])
def test_the_hold_is_a_setting(world, hold, wait, ok):
    accounts.set_setting(world.conn, "finish_rules", {"min_called_s": hold})
    _called(world)
    world.clock.advance(wait)
    if ok:
        assert tickets.finish(world.conn, world.clock, world.c2).ticket["status"] == "done"
    else:
        with pytest.raises(Conflict):
            tickets.finish(world.conn, world.clock, world.c2)


def test_api_answers_409_finish_too_soon_and_admin_sets_the_hold(api):
    officer = login(api.app, "officer")
    kiosk = {"Authorization": f"Bearer {api.people.kiosk_token}"}
    client = api.app.test_client()
    for _ in range(3):
        client.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=kiosk)
    url = f"/api/v1/counters/{api.c2}"
    officer.post(url + "/open")
    officer.post(url + "/call-next", json={})
    r = officer.post(url + "/call-next", json={"finish_current": True})
    assert r.status_code == 409 and r.json["error"]["code"] == "finish_too_soon"
    assert "start serving" in r.json["error"]["message"]
    assert officer.get(url).json["ticket"]["number"] == "A001"
    assert officer.post(url + "/start").status_code == 200
    assert officer.post(url + "/call-next", json={"finish_current": True}).json["number"] == "A002"

    assert officer.get("/api/v1/settings/counter").json == {"finish_min_called_s": 10}
    assert officer.put("/api/v1/settings/counter", json={"finish_min_called_s": 0}).status_code == 403
    admin = login(api.app, "admin")
    bad = admin.put("/api/v1/settings/counter", json={"finish_min_called_s": -1})
    assert bad.status_code == 400 and "finish_min_called_s" in bad.json["error"]["fields"]
    assert admin.put("/api/v1/settings/counter", json={"finish_min_called_s": 0}).json == {
        "finish_min_called_s": 0}
    assert officer.post(url + "/finish").json["status"] == "done"  # guard off: at once


# -- the console --------------------------------------------------------------------


mpp = shared_demo_mpp("guard")


@pytest.mark.browser
@pytest.mark.server
def test_f6_twice_150_ms_apart_does_not_finish_the_ticket_it_called(mpp, page_at):
    from test_counter_console import log_in, serving, wait_shown

    for _ in range(3):
        mpp.kiosk.post(mpp.url + "/api/v1/tickets", json={"service_id": 10})   # K001-K003
    page = log_in(page_at("counter"), mpp, "petugas4", 13)
    page.keyboard.press("F1")
    wait_shown(page, "K001")
    # Only called: F4 and F6 are not offered, and one line says why (once).
    assert page.is_disabled("[data-action=finish]") and page.is_disabled("[data-action=finishnext]")
    why = page.inner_text("#noshow-why")
    assert "Selesai (F4) bisa dalam" in why and "F3" in why
    page.keyboard.press("F4")
    assert page.inner_text("body").count("Selesai (F4) bisa dalam") == 1
    screenshot(page, "counter-finish-guard")
    page.keyboard.press("F3")
    serving(page)
    assert not page.is_disabled("[data-action=finish]")

    page.keyboard.press("F6")
    page.wait_for_timeout(150)
    page.keyboard.press("F6")
    wait_shown(page, "K002")
    page.wait_for_timeout(1500)  # whatever the second press did has landed by now
    assert page.inner_text("#t-number") == "K002"
    conn = connect(mpp.db_path)
    rows = dict(conn.execute("SELECT number, status FROM tickets WHERE service_id = 10").fetchall())
    conn.close()
    assert rows == {"K001": "done", "K002": "called", "K003": "waiting"}
    page.wait_for_function("document.getElementById('s-served').textContent === '1'")


@pytest.mark.browser
@pytest.mark.server
def test_console_in_english_explains_a_refused_finish(mpp, page_at):
    """Another client (a keypad, a second tab) may race the console: the 409 is explained."""
    from test_counter_console import log_in

    mpp.kiosk.post(mpp.url + "/api/v1/tickets", json={"service_id": 11})
    page = log_in(page_at("counter"), mpp, "petugas4", 14)
    page.goto(page.url + "?lang=en")
    page.wait_for_function("window.Giliran && Giliran.online === true")
    page.keyboard.press("F1")
    page.wait_for_function("!document.getElementById('current-ticket').hidden")
    assert "Finish (F4) possible in" in page.inner_text("#noshow-why")
    # The console's guard is lifted locally; the server's still refuses.
    page.evaluate("Console.blocked = function () { return null; }; "
                  "Console.actions.finish()")
    page.wait_for_function("document.getElementById('msg').textContent.includes('only just called')")
    assert "F3" in page.inner_text("#msg")
