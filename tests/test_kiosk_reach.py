"""The kiosk at 1080x1920 (issue 18): reach mode for a wheelchair (every control in the lower
half), the ticket without a printer, a service no counter serves, closed services' hours, and
one story between "ahead" and the estimate. Screenshots in the scratch folder."""


import pytest
from playwright.sync_api import expect

from conftest import screenshot, shared_demo_mpp

pytestmark = [pytest.mark.browser, pytest.mark.server]

HALF = 1920 / 2
CONTROLS = """() => [...document.querySelectorAll('button, a[href], input, select, textarea, [role=button]')]
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map(e => { const r = e.getBoundingClientRect();
              // Seen whole, top to bottom (not clipped away or covered): reachable by a touch.
              const at = y => { const h = document.elementFromPoint(r.left + r.width / 2, y);
                                return !!h && (h === e || e.contains(h)); };
              return {id: e.id || e.className || e.textContent.trim().slice(0, 30),
                      top: r.top, bottom: r.bottom,
                      seen: at(r.top + 3) && at(r.top + r.height / 2) && at(r.bottom - 3)}; })"""


mpp = shared_demo_mpp("reach", env={"MPP_KIOSK_IDLE_S": "5"})


def open_kiosk(page_at, srv):
    page = page_at("kiosk", has_touch=True)
    page.goto(f"{srv.url}/kiosk?token={srv.tokens['kiosk']}")
    expect(page.locator(".k-agency").first).to_be_visible()
    return page


def controls_outside_lower_half(page):
    page.wait_for_timeout(100)  # layout settled after the screen change
    return [c for c in page.evaluate(CONTROLS)
            if c["top"] < HALF - 0.5 or c["bottom"] > 1920.5 or not c["seen"]]


def test_reach_mode_puts_every_control_in_the_lower_half(mpp, page_at):
    page = open_kiosk(page_at, mpp)
    button = page.locator("#reach-toggle")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["y"] >= HALF and box["height"] >= 100  # one large button at the bottom
    # Without reach mode the agencies start high up.
    assert controls_outside_lower_half(page)
    button.tap()
    expect(page.locator("body.reach")).to_have_count(1)
    assert controls_outside_lower_half(page) == []
    screenshot(page, "kiosk-reach-agencies")
    page.locator('.k-agency[data-agency="DUKCAPIL"]').tap()
    expect(page.locator("#screen-services")).to_be_visible()
    assert controls_outside_lower_half(page) == []
    screenshot(page, "kiosk-reach-services")
    page.locator('.k-service[data-prefix="A"]').tap()
    expect(page.locator("#take-normal")).to_be_visible()
    assert controls_outside_lower_half(page) == []
    screenshot(page, "kiosk-reach-choose")
    page.locator("#lang-switch").tap()         # English too, still in reach
    expect(page.locator("#take-normal")).to_contain_text("Take a number")
    assert controls_outside_lower_half(page) == []
    page.locator('.k-prio[data-priority="disabilitas"]').tap()
    expect(page.locator("#ticket-number")).to_have_text("A001")
    assert controls_outside_lower_half(page) == []
    screenshot(page, "kiosk-reach-ticket")
    page.locator("#ticket-done").tap()
    # Done resets to the start, and reach mode with it.
    expect(page.locator("body.reach")).to_have_count(0)


def test_reach_mode_resets_with_the_idle_timeout(mpp, page_at):
    page = open_kiosk(page_at, mpp)
    page.locator("#reach-toggle").tap()
    expect(page.locator("body.reach")).to_have_count(1)
    # Nobody touches the screen: back to the start after MPP_KIOSK_IDLE_S (5 s).
    expect(page.locator("body.reach")).to_have_count(0, timeout=9000)
    expect(page.locator("#reach-toggle")).to_have_attribute("aria-pressed", "false")


def test_without_a_printer_the_number_is_to_be_written_down(mpp, page_at):
    page = open_kiosk(page_at, mpp)
    page.locator('.k-agency[data-agency="POLRES"]').tap()
    page.locator('.k-service[data-prefix="F"]').tap()
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("F001")
    expect(page.locator("#ticket-note")).to_have_text("Catat atau foto nomor ini")
    ticket = page.evaluate("Kiosk.state.ticket")
    url = ticket["tracking_url"].split("://", 1)[1]
    expect(page.locator("#ticket-url")).to_have_text(url)
    number = page.locator("#ticket-number").bounding_box()
    assert number["height"] >= 200
    qr, text = page.locator("#ticket-qr").bounding_box(), page.locator("#ticket-url").bounding_box()
    assert text["x"] >= qr["x"] + qr["width"] and text["y"] < qr["y"] + qr["height"]  # beside it
    screenshot(page, "kiosk-ticket-no-printer")


def test_no_counter_service_is_not_offered_and_closed_ones_say_their_hours(mpp, page_at):
    pdam = mpp.services["M"]["agency_id"]
    lonely = mpp.admin.post(mpp.url + "/api/v1/services", json={
        "agency_id": pdam, "prefix": "T", "name": "Balik Nama Pelanggan"})
    assert lonely.status_code == 201
    hour = mpp.local_now().hour
    hours = ("00:00", "01:00") if hour >= 2 else ("22:00", "23:00")
    shut = mpp.admin.post(mpp.url + "/api/v1/services", json={
        "agency_id": pdam, "prefix": "U", "name": "Pengaduan Tagihan",
        "opens_at": hours[0], "closes_at": hours[1]})
    counter = [c for c in mpp.admin.get(mpp.url + "/api/v1/counters").json() if c["number"] == 16][0]
    assert mpp.admin.patch(f"{mpp.url}/api/v1/counters/{counter['id']}", json={
        "service_ids": counter["service_ids"] + [shut.json()["id"]]}).status_code == 200
    page = open_kiosk(page_at, mpp)
    page.locator('.k-agency[data-agency="PDAM"]').tap()
    card = page.locator('.k-service[data-prefix="T"]')
    expect(card).to_contain_text("Belum ada loket yang melayani layanan ini")
    expect(card).to_have_attribute("aria-disabled", "true")
    assert "menit" not in card.inner_text()
    closed = page.locator('.k-service[data-prefix="U"]')
    text = f"Buka {hours[0].replace(':', '.')}–{hours[1].replace(':', '.')}"
    expect(closed.locator(".k-hours")).to_have_text(text)
    screenshot(page, "kiosk-services-closed-hours")


def test_ahead_and_estimate_tell_one_story(mpp, page_at):
    npwp = mpp.services["N"]["id"]  # KPP's counters 17-18 serve N and P
    for _ in range(2):
        assert mpp.admin.post(mpp.url + "/api/v1/tickets", json={"service_id": npwp}).status_code == 201
    page = open_kiosk(page_at, mpp)
    page.locator('.k-agency[data-agency="KPP"]').tap()
    card = page.locator('.k-service[data-prefix="P"]')
    expect(card).to_contain_text("2 orang dari layanan lain dilayani lebih dulu di loket yang sama")
    card.tap()
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text("P001")
    expect(page.locator("#ticket-ahead")).to_have_text("0")
    expect(page.locator("#ticket-story")).to_have_text(
        "2 orang dari layanan lain dilayani lebih dulu di loket yang sama.")
    code = page.evaluate("Kiosk.state.ticket.code")
    phone = page_at("phone")
    phone.goto(f"{mpp.url}/t/{code}")
    expect(phone.locator("#story")).to_have_text(
        "2 orang dari layanan lain dilayani lebih dulu di loket yang sama.")
    expect(phone.locator("#ahead")).to_have_text("Pertama di layanan ini")  # not "Anda berikutnya"
    screenshot(phone, "track-story")
