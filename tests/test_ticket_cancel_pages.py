"""Cancelling a waiting ticket in the browser (issue 16): the citizen from the tracking page
(phone, 360x800) with a confirm step, and the officer from the console's waiting list
(1366x768) with a confirm dialog; both against a real gunicorn with the demo MPP."""

import pytest
import requests
from playwright.sync_api import expect

from conftest import screenshot, shared_demo_mpp
from db.connection import connect
from test_counter_console import log_in, wait_waiting

pytestmark = [pytest.mark.browser, pytest.mark.server]


mpp = shared_demo_mpp("cancel-pages")


def take(srv, service_id, n=1):
    return [srv.kiosk.post(srv.url + "/api/v1/tickets", json={"service_id": service_id}).json()
            for _ in range(n)]


def status(srv, code):
    return requests.get(f"{srv.url}/api/v1/tickets/{code}").json()


def test_the_citizen_cancels_from_the_tracking_page_after_saying_yes(mpp, page_at):
    first, second = take(mpp, 7, 2)       # BPJS Kesehatan: G001, G002
    phone = page_at("phone")
    phone.goto(f"{mpp.url}/t/{first['code']}")
    expect(phone.locator("#status")).to_have_text("Menunggu")
    ask = phone.locator("#cancel")
    expect(ask).to_have_text("Batalkan antrean")
    ask.click()
    expect(phone.locator("#cancel-confirm")).to_be_visible()
    expect(phone.locator("#cancel-q")).to_contain_text("Batalkan nomor antrean Anda?")
    expect(ask).to_be_hidden()
    expect(phone.locator("#cancel-yes")).to_be_focused()
    phone.locator("#cancel-confirm").scroll_into_view_if_needed()
    screenshot(phone, "track-cancel-confirm")

    phone.locator("#cancel-no").click()   # changed their mind: nothing sent
    expect(phone.locator("#cancel-confirm")).to_be_hidden()
    expect(ask).to_be_visible()
    assert status(mpp, first["code"])["status"] == "waiting"

    ask.click()
    phone.locator("#cancel-yes").click()
    expect(phone.locator("#status")).to_have_text("Dibatalkan")
    expect(phone.locator("#help")).to_have_text(
        "Antrean Anda sudah dibatalkan. Bila masih perlu layanan, ambil nomor baru di kiosk.")
    expect(phone.locator("#cancel")).to_be_hidden()
    expect(phone.locator("#cancel-confirm")).to_be_hidden()
    expect(phone.locator("#facts")).to_be_hidden()
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "track-cancelled")
    assert status(mpp, first["code"])["status"] == "cancelled"
    assert status(mpp, second["code"])["ahead"] == 0   # the line moved on

    phone.reload()                         # and it stays so
    expect(phone.locator("#status")).to_have_text("Dibatalkan")
    expect(phone.locator("#cancel")).to_be_hidden()


def test_the_tracking_page_says_it_in_english_too(mpp, page_at):
    (ticket,) = take(mpp, 7)
    phone = page_at("phone")
    phone.goto(f"{mpp.url}/t/{ticket['code']}?lang=en")
    phone.locator("#cancel").click()
    expect(phone.locator("#cancel-yes")).to_have_text("Yes, cancel it")
    expect(phone.locator("#cancel-no")).to_have_text("No, keep my place")
    phone.locator("#cancel-yes").click()
    expect(phone.locator("#status")).to_have_text("Cancelled")


def test_a_ticket_called_while_the_citizen_says_yes_is_not_cancelled(mpp, page_at):
    (ticket,) = take(mpp, 8)              # BPJS Ketenagakerjaan
    cid = [c for c in mpp.admin.get(mpp.url + "/api/v1/counters").json()
           if ticket["service_id"] in c["service_ids"]][0]["id"]
    assert mpp.admin.post(f"{mpp.url}/api/v1/counters/{cid}/open").status_code == 200
    phone = page_at("phone")
    phone.goto(f"{mpp.url}/t/{ticket['code']}")
    answers = []

    def called_on_the_way(route):
        # The officer calls it just before the citizen's "yes" reaches the server.
        called = mpp.admin.post(f"{mpp.url}/api/v1/counters/{cid}/call", json={"ticket_id": ticket["id"]})
        assert called.status_code == 200, called.text
        answers.append(route.fetch())
        route.fulfill(response=answers[-1])

    phone.route("**/cancel", called_on_the_way)
    phone.locator("#cancel").click()
    phone.locator("#cancel-yes").click()
    expect(phone.locator("#status")).to_have_text("Dipanggil")
    expect(phone.locator("#call")).to_be_visible()
    expect(phone.locator("#cancel-confirm")).to_be_hidden()
    assert answers[0].status == 409 and answers[0].json()["error"]["code"] == "ticket_called"
    assert status(mpp, ticket["code"])["status"] == "called"


def test_the_officer_cancels_a_waiting_ticket_from_the_console(mpp, page_at):
    tickets = take(mpp, 1, 3)             # KTP-el at Dukcapil
    numbers = [t["number"] for t in tickets]
    phone = page_at("phone")              # the citizen of the middle one follows it
    phone.goto(f"{mpp.url}/t/{tickets[1]['code']}")
    expect(phone.locator("#status")).to_have_text("Menunggu")

    page = log_in(page_at("counter"), mpp, "petugas1", 1)
    wait_waiting(page, numbers)
    row = page.locator(f"#waiting-list li[data-number='{numbers[1]}']")
    row.locator(".w-cancel").click()
    dialog = page.locator("#dlg-cancel")
    expect(dialog).to_be_visible()
    expect(page.locator("#cancel-title")).to_have_text(f"Batalkan antrean {numbers[1]}?")
    screenshot(page, "counter-cancel-confirm")
    page.keyboard.press("Escape")          # not this one after all
    expect(dialog).to_be_hidden()
    assert status(mpp, tickets[1]["code"])["status"] == "waiting"

    row.locator(".w-cancel").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")
    wait_waiting(page, [numbers[0], numbers[2]])
    expect(page.locator("#msg")).to_have_text(f"{numbers[1]} dibatalkan dan dikeluarkan dari antrean.")
    screenshot(page, "counter-cancelled")
    expect(phone.locator("#status")).to_have_text("Dibatalkan")   # live, on the citizen's phone
    page.keyboard.press("F1")              # the line goes on without it
    page.wait_for_function("n => document.getElementById('t-number').textContent === n", arg=numbers[0])

    conn = connect(mpp.db_path)
    audit = conn.execute("SELECT u.username, a.target FROM audit_log a JOIN users u ON u.id = a.user_id "
                         "WHERE a.action = 'ticket.cancel'").fetchall()
    conn.close()
    assert [tuple(a) for a in audit] == [("petugas1", f"ticket:{tickets[1]['id']}")]
