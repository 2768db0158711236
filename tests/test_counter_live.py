"""Several consoles at once against a real gunicorn: simultaneous calls never share a
ticket, a transfer shows live on another agency's console, a pause reaches the displays."""

import pytest

from conftest import Listener, shared_demo_mpp
from db.connection import connect
from test_counter_console import chip_says, issue, log_in, wait_shown, wait_waiting

pytestmark = [pytest.mark.browser, pytest.mark.server]


mpp = shared_demo_mpp("live")


def test_two_officers_pressing_call_next_together_never_share_a_ticket(mpp, page_at):
    rounds = 15
    issued = issue(mpp, 1, 2 * rounds)
    one = log_in(page_at("counter"), mpp, "petugas1", 1)
    two = log_in(page_at("counter"), mpp, "petugas2", 2)
    seen = []
    for _ in range(rounds):
        for page in (one, two):
            if page.evaluate("!!(Console.S.counter.ticket)"):
                page.keyboard.press("F3")     # the citizen arrives; then finish
                page.wait_for_function("Console.S.counter.ticket.status === 'serving' "
                                       "&& !document.body.classList.contains('busy')")
                page.keyboard.press("F4")
                wait_shown(page, None)
        # Both buttons pressed at the same instant (both pages share the browser's clock).
        at = one.evaluate("Date.now()") + 150
        for page in (one, two):
            page.evaluate("at => setTimeout(() => document.querySelector('[data-action=next]').click(),"
                          " at - Date.now())", at)
        numbers = []
        for page in (one, two):
            page.wait_for_function("!document.getElementById('current-ticket').hidden")
            numbers.append(page.inner_text("#t-number"))
        assert numbers[0] != numbers[1]
        seen += numbers
    assert sorted(seen) == sorted(issued)
    conn = connect(mpp.db_path)
    calls = conn.execute("SELECT ticket_id, count(DISTINCT counter_id) FROM ticket_events "
                         "WHERE event = 'called' GROUP BY ticket_id").fetchall()
    conn.close()
    assert len(calls) == 2 * rounds and all(n == 1 for _, n in calls)


def test_transfer_lands_first_on_the_other_agencys_console(mpp, page_at):
    passports = issue(mpp, 4, 2)                      # D001, D002 at Imigrasi
    kk = issue(mpp, 2, 1)[0]                          # a KK ticket at Dukcapil
    imigrasi = log_in(page_at("counter"), mpp, "petugas3", 5)
    wait_waiting(imigrasi, passports)
    dukcapil = log_in(page_at("counter"), mpp, "supervisor", 3)
    dukcapil.keyboard.press("F8")
    dukcapil.keyboard.type(kk)
    dukcapil.wait_for_selector("#callnum-list li.sel.waiting")
    dukcapil.keyboard.press("Enter")
    wait_shown(dukcapil, kk)
    dukcapil.keyboard.press("F7")
    dukcapil.keyboard.type("imigrasi paspor")          # matches both of Imigrasi's services
    dukcapil.wait_for_selector("#transfer-list li.sel >> text=Paspor Baru")
    dukcapil.keyboard.press("Enter")                  # first in line is the default
    wait_shown(dukcapil, None)
    wait_waiting(imigrasi, [kk] + passports)          # live, without a reload
    imigrasi.keyboard.press("F1")
    wait_shown(imigrasi, kk)


def test_pause_and_resume_reach_the_display(mpp, page_at):
    display = Listener(mpp.url, {"token": mpp.tokens["display"]})
    try:
        page = log_in(page_at("counter"), mpp, "petugas1", 4)
        page.keyboard.press("F9")
        page.keyboard.press("3")                      # gangguan sistem
        paused = display.wait_for("counter_changed", where=lambda c: c["id"] == 4 and c["state"] == "paused")
        assert paused["pause_reason"] == "Gangguan sistem"
        chip_says(page, "Jeda")                       # the console has its answer too
        page.keyboard.press("F9")
        display.wait_for("counter_changed", where=lambda c: c["id"] == 4 and c["state"] == "open")
        chip_says(page, "Buka")
        page.keyboard.press("F9")
        page.keyboard.press("5")                      # another reason, typed
        page.keyboard.type("Antar berkas ke arsip")
        page.keyboard.press("Enter")
        paused = display.wait_for("counter_changed", where=lambda c: c["id"] == 4 and c["state"] == "paused")
        assert paused["pause_reason"] == "Antar berkas ke arsip"
    finally:
        display.close()
