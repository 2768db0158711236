"""Live kiosk and tracking page: following a ticket to the counter, a lost server, retried taps."""

import pytest
from playwright.sync_api import expect

from conftest import screenshot, shared_demo_mpp

pytestmark = [pytest.mark.browser, pytest.mark.server]


mpp = shared_demo_mpp("kiosk-live")


def open_service(page_at, srv, agency, prefix):
    page = page_at("kiosk", has_touch=True)
    page.goto(f"{srv.url}/kiosk?token={srv.tokens['kiosk']}")
    page.locator(f'.k-agency[data-agency="{agency}"]').tap()
    page.locator(f'.k-service[data-prefix="{prefix}"]').tap()
    expect(page.locator("#take-normal")).to_be_visible()
    return page


def waiting(srv, prefix):
    services = srv.admin.get(srv.url + "/api/v1/services").json()
    return [s["waiting"] for s in services if s["prefix"] == prefix][0]


def test_tracking_page_follows_the_ticket_to_the_counter(mpp, page_at):
    page = open_service(page_at, mpp, "POLRES", "F")
    for _ in range(2):  # two citizens take F001 and F002
        page.locator("#take-normal").tap()
        expect(page.locator("#screen-ticket")).to_be_visible()
        ticket = page.evaluate("Kiosk.state.ticket")
        page.locator("#ticket-done").tap()
        page.locator('.k-agency[data-agency="POLRES"]').tap()
        page.locator('.k-service[data-prefix="F"]').tap()
    assert ticket["number"] == "F002"

    phone = page_at("phone")
    phone.goto(f"{mpp.url}/t/{ticket['code']}")
    expect(phone.locator("#number")).to_have_text("F002")
    expect(phone.locator("#status")).to_have_text("Menunggu")
    expect(phone.locator("#ahead")).to_have_text("1 orang di depan Anda")
    expect(phone.locator("#offline")).to_be_hidden()
    screenshot(phone, "track-waiting")

    counter = [c for c in mpp.admin.get(mpp.url + "/api/v1/counters").json()
               if c["number"] == 8 and mpp.services["F"]["id"] in c["service_ids"]][0]
    assert mpp.admin.post(f"{mpp.url}/api/v1/counters/{counter['id']}/open").status_code == 200
    first = mpp.admin.post(f"{mpp.url}/api/v1/counters/{counter['id']}/call-next")
    assert first.json()["number"] == "F001"
    # Someone else was called: place in line moves up live (through track:<service>).
    expect(phone.locator("#ahead")).to_have_text("Anda berikutnya")
    mpp.admin.post(f"{mpp.url}/api/v1/counters/{counter['id']}/start")
    second = mpp.admin.post(f"{mpp.url}/api/v1/counters/{counter['id']}/call-next",
                            json={"finish_current": True})
    assert second.json()["number"] == "F002"
    expect(phone.locator("#status")).to_have_text("Dipanggil")
    expect(phone.locator("#call")).to_have_text("Silakan menuju Loket 8 sekarang")
    screenshot(phone, "track-called")

    mpp.admin.post(f"{mpp.url}/api/v1/counters/{counter['id']}/start")
    mpp.admin.post(f"{mpp.url}/api/v1/counters/{counter['id']}/finish")
    expect(phone.locator("#status")).to_have_text("Selesai")
    expect(phone.locator("#survey")).to_have_attribute("href", f"/survey/{ticket['code']}")

    english = page_at("phone")
    english.goto(f"{mpp.url}/t/{ticket['code']}?lang=en")
    expect(english.locator("#status")).to_have_text("Finished")
    missing = page_at("phone")
    assert missing.goto(f"{mpp.url}/t/no-such-code").status == 404
    expect(missing.locator("h1")).to_have_text("Tiket tidak ditemukan.")


def test_a_retried_tap_issues_one_ticket(mpp, page_at):
    """The answer is lost on the way back: the kiosk retries with the same key, and gets the same ticket."""
    page = open_service(page_at, mpp, "PDAM", "M")
    keys = []

    def lose_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server issues the ticket...
            route.abort("connectionreset")  # ...but the kiosk never hears of it
        else:
            route.continue_()

    page.route("**/api/v1/tickets", lose_first_answer)
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("M001")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert waiting(mpp, "M") == 1


def test_offline_banner_and_a_tap_while_offline(mpp, page_at):
    page = open_service(page_at, mpp, "KPP", "N")
    expect(page.locator("#offline")).to_be_hidden()

    mpp.stop()
    expect(page.locator("#offline")).to_be_visible()
    expect(page.locator("#offline")).to_contain_text("Koneksi ke server terputus")
    page.locator("#take-normal").tap()
    expect(page.locator("#notice")).to_contain_text("belum ada nomor yang diambil")
    expect(page.locator("#screen-choose")).to_be_visible()
    screenshot(page, "kiosk-offline")

    mpp.start()
    expect(page.locator("#offline")).to_be_hidden(timeout=15000)
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("N001")
    assert waiting(mpp, "N") == 1
