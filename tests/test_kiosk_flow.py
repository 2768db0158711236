"""The kiosk by touch and the citizen's tracking page, in Debian's Chromium against gunicorn."""

import re

import pytest
from playwright.sync_api import expect

from conftest import screenshot, shared_demo_mpp

pytestmark = [pytest.mark.browser, pytest.mark.server]


mpp = shared_demo_mpp("kiosk", env={"MPP_KIOSK_TICKET_S": "6"})  # a short return-to-start


def open_kiosk(page_at, srv, screen="kiosk"):
    page = page_at(screen, has_touch=True)
    page.goto(f"{srv.url}/kiosk?token={srv.tokens['kiosk']}")
    expect(page.locator(".k-agency").first).to_be_visible()
    return page


def dukcapil(page):
    page.locator('.k-agency[data-agency="DUKCAPIL"]').tap()
    expect(page.locator("#screen-services")).to_be_visible()


def test_pairing_screen_then_token_remembered_and_hidden(mpp, page_at):
    page = page_at("kiosk", has_touch=True)
    page.goto(mpp.url + "/kiosk")
    expect(page.locator("#screen-pair")).to_be_visible()
    expect(page.get_by_text("Kios ini belum dipasangkan")).to_be_visible()
    screenshot(page, "kiosk-pairing")
    page.fill("#pair-code", "not-a-real-token")
    page.click("#pair-form button")
    expect(page.locator("#pair-error")).to_contain_text("tidak diterima")

    page.goto(f"{mpp.url}/kiosk?token={mpp.tokens['kiosk']}&lang=id")
    expect(page.locator(".k-agency")).to_have_count(10)
    assert "token" not in page.url and "lang=id" in page.url
    page.goto(mpp.url + "/kiosk")  # reopened without the link: still paired
    expect(page.locator(".k-agency")).to_have_count(10)
    assert mpp.tokens["kiosk"] not in page.content()


def test_take_ticket_by_touch_in_indonesian(mpp, page_at):
    page = open_kiosk(page_at, mpp)
    expect(page.get_by_text("Sentuh instansi yang Anda tuju")).to_be_visible()
    screenshot(page, "kiosk-agencies")
    dukcapil(page)
    card = page.locator('.k-service[data-prefix="A"]')
    expect(card).to_contain_text("Perekaman & Cetak KTP-el")
    expect(card).to_contain_text("Bawa: KK asli")
    expect(card).to_contain_text("Menunggu")
    screenshot(page, "kiosk-services")
    card.tap()
    expect(page.locator("#take-normal")).to_contain_text("Ambil nomor antrean")
    expect(page.locator(".k-priority")).to_contain_text("Lansia")
    expect(page.locator("#chosen")).to_contain_text("Loket 1–4")
    screenshot(page, "kiosk-choose")
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("A001")
    expect(page.locator("#ticket-counters")).to_have_text("Loket 1–4")
    expect(page.locator("#ticket-ahead")).to_have_text("0")
    expect(page.locator("#ticket-qr")).to_have_js_property("complete", True)
    assert page.evaluate("document.getElementById('ticket-qr').naturalWidth") > 0
    expect(page.locator("#ticket-print")).to_be_hidden()  # the demo kiosk has no printer
    screenshot(page, "kiosk-ticket")
    # Nobody touches the screen: back to the start by itself.
    expect(page.locator("#screen-agencies")).to_be_visible(timeout=9000)

    # A second citizen, priority: called before others, marked on the ticket.
    dukcapil(page)
    page.locator('.k-service[data-prefix="A"]').tap()
    page.locator('.k-prio[data-priority="lansia"]').tap()
    expect(page.locator("#ticket-number")).to_have_text("A002")
    expect(page.locator("#ticket-priority")).to_have_text("★ Prioritas")
    ticket = page.evaluate("Kiosk.state.ticket")
    assert ticket["priority_kind"] == "lansia" and ticket["ahead"] == 0


def test_take_ticket_by_touch_in_english(mpp, page_at):
    page = open_kiosk(page_at, mpp)
    page.locator("#lang-switch").tap()
    expect(page.get_by_text("Touch the agency you need")).to_be_visible()
    expect(page.locator("#lang-switch")).to_have_text("Bahasa Indonesia")
    page.locator('.k-agency[data-agency="IMIGRASI"]').tap()
    card = page.locator('.k-service[data-prefix="D"]')
    expect(card).to_contain_text("Numbers left today")
    expect(card).to_contain_text("80")
    card.tap()
    expect(page.locator("#take-normal")).to_contain_text("Take a number")
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("D001")
    expect(page.get_by_text("Your queue number")).to_be_visible()
    expect(page.locator("#ticket-counters")).to_have_text("Counter 5–6")
    screenshot(page, "kiosk-ticket-en")
    page.locator("#ticket-done").tap()
    # Back at the start for the next citizen, in Indonesian again.
    expect(page.get_by_text("Sentuh instansi yang Anda tuju")).to_be_visible()


def test_landscape_kiosk(mpp, page_at):
    page = open_kiosk(page_at, mpp, "kiosk_landscape")
    screenshot(page, "kiosk-agencies-landscape")
    page.locator('.k-agency[data-agency="SAMSAT"]').tap()
    page.locator('.k-service[data-prefix="K"]').tap()
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("K001")
    box = page.locator("#take-normal").bounding_box()
    box = page.locator("#ticket-done").bounding_box()
    assert box is not None and box["height"] >= 88
    screenshot(page, "kiosk-ticket-landscape")


def _closed_hours(mpp):
    """Opening hours that make a service closed right now (the server's time in the MPP)."""
    hour = mpp.local_now().hour
    return {"opens_at": f"{hour + 2:02d}:00"} if hour <= 21 else {"closes_at": "20:00"}


def test_closed_service_cannot_be_taken_and_quota_runs_out_live(mpp, page_at):
    agency = mpp.services["A"]["agency_id"]
    closed = mpp.admin.post(mpp.url + "/api/v1/services", json={
        "agency_id": agency, "prefix": "X", "name": "Legalisir Dokumen", **_closed_hours(mpp)})
    assert closed.status_code == 201, closed.text
    quota = mpp.admin.post(mpp.url + "/api/v1/services", json={
        "agency_id": agency, "prefix": "Q", "name": "Surat Pindah", "daily_quota": 1})
    assert quota.status_code == 201, quota.text
    served = mpp.admin.post(mpp.url + "/api/v1/counters", json={
        "agency_id": agency, "number": 30, "service_ids": [closed.json()["id"], quota.json()["id"]]})
    assert served.status_code == 201, served.text  # a service no counter serves is never offered

    page = open_kiosk(page_at, mpp)
    dukcapil(page)
    shut = page.locator('.k-service[data-prefix="X"]')
    expect(shut).to_contain_text("Tutup")
    expect(shut).to_have_attribute("aria-disabled", "true")
    assert shut.evaluate("e => e.tagName") == "DIV"  # nothing to press
    shut.tap()
    expect(page.locator("#screen-services")).to_be_visible()

    card = page.locator('.k-service[data-prefix="Q"]')
    expect(card).to_contain_text("Sisa kuota hari ini")
    r = mpp.admin.post(mpp.url + "/api/v1/tickets", json={"service_id": quota.json()["id"]})
    assert r.status_code == 201
    # The last number went elsewhere: the card closes without a reload.
    expect(card).to_contain_text("Kuota antrean hari ini sudah habis")
    expect(card).to_have_attribute("aria-disabled", "true")
    screenshot(page, "kiosk-services-closed")
    waiting = {s["prefix"]: s["waiting"] for s in mpp.admin.get(mpp.url + "/api/v1/services").json()}
    assert waiting["X"] == 0 and waiting["Q"] == 1


def test_printer_down_is_said_before_taking(mpp, page_at):
    printer = mpp.admin.post(mpp.url + "/api/v1/printers", json={
        "name": "Printer Kios", "transport": "network", "host": "127.0.0.1", "port": 9})
    assert printer.status_code == 201, printer.text
    kiosk = mpp.admin.post(mpp.url + "/api/v1/devices", json={
        "kind": "kiosk", "name": "Kiosk Lantai 2", "printer_id": printer.json()["id"]})
    assert kiosk.status_code == 201, kiosk.text
    page = page_at("kiosk", has_touch=True)
    page.goto(f"{mpp.url}/kiosk?token={kiosk.json()['token']}")
    page.locator('.k-agency[data-agency="BPJSKES"]').tap()
    page.locator('.k-service[data-prefix="G"]').tap()
    expect(page.locator("#printer-warning")).to_contain_text("Printer tiket sedang tidak berfungsi")
    screenshot(page, "kiosk-printer-down")
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("G001")
    expect(page.locator("#ticket-print")).to_contain_text(
        re.compile("sedang dicetak|tidak dapat mencetak|sudah dicetak"))



def kiosk_with_file_printer(srv, page_at, path, name):
    """A new kiosk whose printer writes to the file `path`, open on the kiosk screen."""
    printer = srv.admin.post(srv.url + "/api/v1/printers", json={
        "name": f"Printer {name}", "transport": "file", "path": str(path)})
    assert printer.status_code == 201, printer.text
    kiosk = srv.admin.post(srv.url + "/api/v1/devices", json={
        "kind": "kiosk", "name": f"Kiosk {name}", "printer_id": printer.json()["id"]})
    page = page_at("kiosk", has_touch=True)
    page.goto(f"{srv.url}/kiosk?token={kiosk.json()['token']}")
    return page


def test_ticket_says_printed_when_the_printer_printed_it(mpp, page_at, tmp_path):
    page = kiosk_with_file_printer(mpp, page_at, tmp_path / "ticket.bin", "Lantai 3")
    page.locator('.k-agency[data-agency="BPJSKES"]').tap()
    page.locator('.k-service[data-prefix="H"]').tap()
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("H001")
    expect(page.locator("#ticket-print")).to_have_text("Tiket sudah dicetak. Silakan ambil di bawah.")
    assert b"H001" in (tmp_path / "ticket.bin").read_bytes()


def test_a_print_finished_before_the_tickets_answer_arrives_still_says_printed(mpp, page_at, tmp_path):
    """A fast printer can finish before the kiosk has the ticket's answer: the print_status
    event then names a ticket the kiosk has not shown yet. The kiosk keeps it and says
    "printed" the moment the number shows, not after its first check 1.5 s later."""
    page = kiosk_with_file_printer(mpp, page_at, tmp_path / "fast.bin", "Lantai 4")

    def late_answer(route):
        answer = route.fetch()                      # the ticket is issued and queued to print
        deadline = 50
        while deadline and not (tmp_path / "fast.bin").exists():   # until the printer has it
            page.wait_for_timeout(100)
            deadline -= 1
        page.wait_for_timeout(300)                  # and its print_status event has gone out
        route.fulfill(response=answer)

    page.route("**/api/v1/tickets", lambda route: late_answer(route) if route.request.method == "POST"
               else route.continue_())
    page.locator('.k-agency[data-agency="BPJSKES"]').tap()
    page.locator('.k-service[data-prefix="H"]').last.tap()
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^H\d{3}$"))
    expect(page.locator("#ticket-print")).to_have_text("Tiket sudah dicetak. Silakan ambil di bawah.",
                                                        timeout=1000)
    assert (tmp_path / "fast.bin").exists()
