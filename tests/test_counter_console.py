"""The officer's console in Debian's Chromium against a real gunicorn with the demo MPP:
a whole morning by keyboard alone, the guard rails, and a lost connection."""

import pytest
import requests

from conftest import PASSWORD, screenshot, shared_demo_mpp
from db import accounts, tickets
from db.clock import Clock
from db.connection import connect

pytestmark = [pytest.mark.browser, pytest.mark.server]
DEMO_PASSWORD = "giliran123"


def short_no_show_rules(srv):
    """No-show rules short enough to test."""
    conn = connect(srv.db_path)
    accounts.set_setting(conn, "no_show_rules", {"min_calls": 2, "min_wait_s": 2})
    conn.close()


mpp = shared_demo_mpp("console", prepare=short_no_show_rules)


def issue(srv, service_id, n=1, priority=None):
    return [srv.kiosk.post(srv.url + "/api/v1/tickets",
                           json={"service_id": service_id, "priority": priority}).json()["number"]
            for _ in range(n)]


def log_in(page, srv, username, counter_id, password=DEMO_PASSWORD):
    """Log in and open a counter with the keyboard alone; returns the console page."""
    page.bring_to_front()
    page.goto(srv.url + "/counter")
    # The field has autofocus, but a second console's window may not have the browser's
    # focus yet: the officer's first click (or the autofocus) puts the cursor there.
    page.click("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    # The password is hashed for real (scrypt): on a loaded machine the pick can take seconds.
    # (activeElement, not :focus: a window without the browser's focus matches no :focus.)
    page.wait_for_function("document.activeElement && document.activeElement.matches('.counter-pick')",
                           timeout=20000)
    for _ in range(20):
        if page.evaluate("document.activeElement.dataset.counter") == str(counter_id):
            break
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/counter/{counter_id}")
    wait_online(page)
    return page


def wait_online(page):
    page.wait_for_function("window.Giliran && Giliran.online === true")
    page.wait_for_selector("body[data-synced]", state="attached")


def shown(page):
    return page.evaluate("document.getElementById('current-ticket').hidden ? null : "
                         "document.getElementById('t-number').textContent")


def wait_shown(page, number):
    page.wait_for_function(
        "n => { const box = document.getElementById('current-ticket');"
        " if (document.body.classList.contains('busy')) return false;"
        " return n === null ? box.hidden : (!box.hidden && document.getElementById('t-number').textContent === n); }",
        arg=number)


def serving(page):
    """Wait until the console shows its ticket being served and no request is in flight: a
    socket event can show the new status before the press's own answer has come back, and
    the console takes no second press while one is in flight (its buttons are disabled)."""
    page.wait_for_function("document.getElementById('t-status').textContent === 'Sedang dilayani'"
                           " && !document.body.classList.contains('busy')")


def chip_says(page, text):
    """Wait until the counter's state reads `text` and no request is in flight."""
    page.wait_for_function("t => document.getElementById('state-chip').textContent === t "
                           "&& !document.body.classList.contains('busy')", arg=text)


def waiting(page):
    return page.eval_on_selector_all("#waiting-list li[data-number]", "els => els.map(e => e.dataset.number)")


def wait_waiting(page, numbers):
    """Wait until the live waiting list shows exactly these numbers, in order."""
    page.wait_for_function(
        "want => JSON.stringify([...document.querySelectorAll('#waiting-list li[data-number]')]"
        ".map(e => e.dataset.number)) === JSON.stringify(want)", arg=numbers)


def test_a_morning_by_keyboard_alone(mpp, page_at):
    issue(mpp, 10, 3)                     # K001-K003, Samsat's annual tax
    issue(mpp, 11, 1)                     # L001
    page = page_at("counter")
    page.goto(mpp.url + "/counter")
    screenshot(page, "counter-login")
    log_in(page, mpp, "petugas4", 13)
    wait_waiting(page, ["K001", "K002", "K003", "L001"])
    assert page.inner_text("#state-chip") == "Buka"

    page.keyboard.press(" ")              # call next
    wait_shown(page, "K001")
    assert "Dipanggil (1×)" in page.inner_text("#t-status")
    assert page.is_disabled("[data-action=noshow]")
    assert "2 kali" in page.inner_text("#noshow-why")
    page.keyboard.press("F5")             # refused on the console, nothing sent; said once
    assert "2 kali" not in page.inner_text("#msg")
    assert page.inner_text("body").count("2 kali") == 1
    page.keyboard.press("F2")             # recall
    page.wait_for_function("document.getElementById('t-status').textContent.includes('2×')")
    page.wait_for_function("!document.querySelector('[data-action=noshow]').disabled", timeout=5000)
    page.keyboard.press("F5")             # now the no-show
    wait_shown(page, None)
    assert "K001 ditandai tidak hadir" in page.inner_text("#msg")

    page.keyboard.press("F1")
    wait_shown(page, "K002")
    page.keyboard.press("F3")             # start serving
    serving(page)
    page.keyboard.press("F4")             # finish
    wait_shown(page, None)
    page.wait_for_function("document.getElementById('s-served').textContent === '1'")
    # The citizen's satisfaction survey of that ticket, ready for the tablet.
    survey = page.locator("#msg a.survey-link")
    assert "K002" in survey.inner_text()
    assert "/survey/" in survey.get_attribute("href") and survey.get_attribute("href").endswith("?from=counter")

    page.keyboard.press("F8")             # the latecomer K001, out of turn
    page.keyboard.type("k001")
    page.wait_for_selector("#callnum-list li.sel.no_show")
    page.keyboard.press("Enter")
    wait_shown(page, "K001")
    page.keyboard.press("F3")             # K001 is at the counter

    page.dblclick("[data-action=finishnext]")   # a double click finishes one, calls one
    wait_shown(page, "K003")
    page.wait_for_function("document.getElementById('s-served').textContent === '2'")
    wait_waiting(page, ["L001"])
    issue(mpp, 10, 2)                     # K004, K005 arrive live
    wait_waiting(page, ["L001", "K004", "K005"])
    screenshot(page, "counter-console")

    page.keyboard.press("F7")             # transfer K003 to Imigrasi's new passports, first
    page.keyboard.type("paspor baru")
    page.wait_for_selector("#transfer-list li.sel >> text=Paspor Baru")
    screenshot(page, "counter-transfer")
    page.keyboard.press("Enter")
    wait_shown(page, None)
    assert "K003 dialihkan ke D · Paspor Baru" in page.inner_text("#msg")

    page.keyboard.press("F9")             # pause: 2 = sholat
    page.keyboard.press("2")
    chip_says(page, "Jeda")
    assert "Sholat" in page.inner_text("#pause-text")
    assert page.is_disabled("[data-action=next]")
    screenshot(page, "counter-pause")
    page.keyboard.press("F9")             # resume
    chip_says(page, "Buka")

    page.keyboard.press("F1")
    wait_shown(page, "L001")
    wait_waiting(page, ["K004", "K005"])
    page.keyboard.press("F3")
    serving(page)
    page.keyboard.press("F10")            # close with a ticket in hand: asked what to do
    assert page.is_visible("#close-held")
    assert "L001" in page.inner_text("#close-held")
    page.keyboard.press("1")              # finish it, then close
    chip_says(page, "Tutup")
    assert page.is_visible("#current-closed")
    page.keyboard.press("Enter")          # open again
    chip_says(page, "Buka")

    counter = requests.get(mpp.url + "/api/v1/counters/13",
                           headers={"Authorization": f"Bearer {mpp.tokens['display']}"}).json()
    assert counter["state"] == "open" and counter["ticket"] is None
    assert page.inner_text("#s-served") == "3" and page.inner_text("#s-noshows") == "1"


def test_english_on_one_tap(mpp, page_at):
    page = page_at("counter")
    page.goto(mpp.url + "/counter")
    page.click(".lang a:text-is('EN')")
    page.wait_for_selector("text=Log in to open your counter")
    log_in(page, mpp, "petugas3", 5)
    assert page.inner_text("[data-action=next]").startswith("Call next")
    page.goto(mpp.url + "/counter")
    page.wait_for_selector(".counter-pick:focus")
    screenshot(page, "counter-choose")


def test_offline_refuses_actions_and_heals_from_the_snapshot(mpp, page_at):
    issue(mpp, 7, 2)                      # G001, G002 at BPJS Kesehatan
    page = page_at("counter")
    requests_made = []
    page.on("request", lambda r: requests_made.append(r.url) if "/api/v1/counters/9/" in r.url else None)
    log_in(page, mpp, "admin", 9, password=PASSWORD)
    wait_waiting(page, ["G001", "G002"])
    mpp.stop()
    page.wait_for_selector("#offline", state="visible")
    assert page.is_disabled("[data-action=next]")
    before = len(requests_made)
    page.keyboard.press("F1")
    assert "Tidak ada koneksi" in page.inner_text("#msg")
    assert len(requests_made) == before   # refused, not queued
    screenshot(page, "counter-offline")
    # While the server is down, someone else calls G001 at this counter.
    conn = connect(mpp.db_path)
    tickets.call_next(conn, Clock(), 9)
    conn.close()
    mpp.start()
    page.wait_for_selector("#offline", state="hidden", timeout=20000)
    wait_shown(page, "G001")
    wait_waiting(page, ["G002"])
    page.keyboard.press("F3")
    serving(page)
    page.keyboard.press("F4")
    wait_shown(page, None)
