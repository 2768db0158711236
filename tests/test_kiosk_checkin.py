"""Checking a booking in at the kiosk (1080x1920): a USB scanner on any screen, the keypad,
and every refusal said in both languages. Debian's Chromium against a real gunicorn whose
clock stands on a known morning (tests/booking_helpers.py)."""

import re

import pytest
import requests
from playwright.sync_api import expect

from booking_helpers import at, book, check_in, enable, start_server
from conftest import screenshot
from db.bookings import CODE_ALPHABET

pytestmark = [pytest.mark.browser, pytest.mark.server]

# Scanners type a key every few ms. Playwright's keystrokes on a loaded 2-core machine came
# up to ~120 ms apart (measured), and further under heavier load, so this server counts
# keystrokes up to 1 s apart as a scan (the kiosk's default is 50 ms); the "typed by hand"
# test below pauses 2.5 s.
SCAN_GAP_MS = 1000


@pytest.fixture(scope="module")
def mpp(tmp_path_factory):
    """Dukcapil's KTP (A) takes bookings: check-in from 30 min before a slot to 2 h after it."""
    srv = start_server(tmp_path_factory.mktemp("checkin"),
                       env={"MPP_KIOSK_TICKET_S": "20", "MPP_KIOSK_SCAN_GAP_MS": str(SCAN_GAP_MS)})
    enable(srv, "A", check_in_early_minutes=30, check_in_late_minutes=120, seats_per_slot=4)
    yield srv
    srv.stop()


# The test's own record of the keystrokes as the page saw them (not the kiosk's code).
KEY_TIMES = """document.addEventListener("keydown", e => (window.__keyTimes = window.__keyTimes || [])
                                     .push(e.timeStamp), true);"""


def open_kiosk(page_at, srv, errors=None):
    page = page_at("kiosk", has_touch=True)
    page.add_init_script(KEY_TIMES)
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{srv.url}/kiosk?token={srv.tokens['kiosk']}")
    expect(page.locator(".k-agency").first).to_be_visible()
    return page


def scan(page, text):
    """What a USB barcode scanner does: the code's keys in a burst, then Enter.

    On this shared machine Playwright's keystrokes are sometimes held up for seconds; a
    burst that reached the page slower than a scanner's pace is not a scan (the kiosk is
    right to ignore it), so it is sent again, at most twice more.
    """
    for _ in range(3):
        page.evaluate("window.__keyTimes = []")
        page.keyboard.type(text, delay=8)
        page.keyboard.press("Enter")
        times = page.evaluate("window.__keyTimes")
        if max(b - a for a, b in zip(times, times[1:])) <= SCAN_GAP_MS:  # the kiosk's own rule
            return
        page.wait_for_timeout(SCAN_GAP_MS + 200)  # let the slow burst expire
    raise AssertionError("the machine never let a burst through at a scanner's pace")


def waiting(srv, prefix):
    services = srv.admin.get(srv.url + "/api/v1/services").json()
    return [s for s in services if s["prefix"] == prefix][0]["waiting"]


def booking(srv, code):
    return requests.get(f"{srv.url}/api/v1/bookings/{code}", timeout=10).json()


def test_scanner_checks_in_from_the_start_screen(mpp, page_at):
    errors = []
    code = book(mpp, "A", at(10, 0), name="Rahmat Hidayat")
    page = open_kiosk(page_at, mpp, errors)
    expect(page.locator("#booking-entry")).to_be_visible()
    expect(page.locator("#booking-entry")).to_contain_text("Punya reservasi?")
    screenshot(page, "kiosk-agencies-booking")
    scan(page, code)
    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^A\d{3}$"))
    number = int(page.locator("#ticket-number").inner_text()[1:])
    expect(page.locator("#ticket-booking")).to_be_visible()
    expect(page.locator("#ticket-booking")).to_contain_text("Reservasi")
    expect(page.locator("#ticket-slot")).to_have_text("Jadwal reservasi: pukul 10.00")
    expect(page.locator("#ticket-qr")).to_have_js_property("complete", True)
    screenshot(page, "kiosk-checkin-ticket")
    page.locator("#lang-switch").tap()
    expect(page.locator("#ticket-slot")).to_have_text("Your booking: 10:00")
    expect(page.locator("#ticket-booking .k-res-tag")).to_have_text("Booking")
    assert booking(mpp, code)["status"] == "checked_in"
    # The next citizen's plain ticket carries no mark.
    page.locator("#ticket-done").tap()
    page.locator('.k-agency[data-agency="DUKCAPIL"]').tap()
    page.locator('.k-service[data-prefix="A"]').tap()
    page.locator("#take-normal").tap()
    expect(page.locator("#ticket-number")).to_have_text(f"A{number + 1:03d}")  # the same sequence
    expect(page.locator("#ticket-booking")).to_be_hidden()
    assert not errors


def test_scanner_works_on_any_screen_and_reads_the_booking_link(mpp, page_at):
    code = book(mpp, "A", at(10, 30))
    page = open_kiosk(page_at, mpp)
    page.locator('.k-agency[data-agency="DUKCAPIL"]').tap()
    page.locator('.k-service[data-prefix="A"]').tap()
    expect(page.locator("#screen-choose")).to_be_visible()
    waiting_before = waiting(mpp, "A")
    page.locator("#take-normal").focus()  # the scanner's Enter must not take a normal ticket
    scan(page, f"{mpp.url}/b/{code.lower()}")
    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#ticket-slot")).to_have_text("Jadwal reservasi: pukul 10.30")
    assert booking(mpp, code)["status"] == "checked_in"
    page.wait_for_timeout(300)
    assert waiting(mpp, "A") == waiting_before + 1  # one ticket: none from the focused button


def test_keys_with_a_pause_are_not_a_scan(mpp, page_at):
    code = book(mpp, "A", at(11, 0))
    page = open_kiosk(page_at, mpp)
    page.keyboard.type(code[:4], delay=8)
    page.wait_for_timeout(SCAN_GAP_MS + 1500)  # a person, not a scanner
    page.keyboard.type(code[4:], delay=8)
    page.keyboard.press("Enter")
    page.wait_for_timeout(800)
    expect(page.locator("#screen-agencies")).to_be_visible()
    assert booking(mpp, code)["status"] == "booked"


def test_keypad_has_only_the_codes_alphabet_and_checks_in(mpp, page_at):
    code = book(mpp, "A", at(9, 30), name="Wayan Sudirta")
    page = open_kiosk(page_at, mpp)
    page.locator("#booking-entry").tap()
    expect(page.locator("#screen-checkin")).to_be_visible()
    keys = page.locator("#checkin-keypad .k-key[data-key]")
    assert sorted(keys.evaluate_all("ks => ks.map(k => k.dataset.key)")) == sorted(CODE_ALPHABET)
    for look_alike in "0O1IL":
        assert look_alike not in CODE_ALPHABET
    box = keys.first.bounding_box()
    assert box["width"] >= 88 and box["height"] >= 88  # the kiosk's smallest target
    expect(page.locator("#key-ok")).to_be_disabled()
    for ch in code[:7]:
        page.locator(f'#checkin-keypad [data-key="{ch}"]').tap()
    page.locator('#checkin-keypad [data-key="Z"]').tap()
    page.locator("#key-delete").tap()  # a slip of the finger, taken back
    page.locator(f'#checkin-keypad [data-key="{code[7]}"]').tap()
    expect(page.locator("#checkin-code")).to_have_attribute("data-code", code)
    screenshot(page, "kiosk-checkin-keypad")
    page.locator("#key-ok").tap()
    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#ticket-slot")).to_have_text("Jadwal reservasi: pukul 09.30")
    assert booking(mpp, code)["status"] == "checked_in"


def _booked(hh, mm=0, days=0, cancel=False):
    """A case's code: a booking of KTP (A) at hh:mm, `days` from today."""
    return lambda srv: book(srv, "A", at(hh, mm, days=days), cancel=cancel)


def _checked_in(srv):
    code = book(srv, "A", at(9, 0))
    assert check_in(srv, code).status_code == 201
    return code


def _unknown(srv):
    return "ZZZZ2222"


# The kiosk's Indonesian title for each refusal (its data-refusal).
TITLES = {
    "too_early": "Anda datang terlalu awal",
    "too_late": "Waktu check-in sudah lewat",
    "not_today": "Reservasi ini bukan untuk hari ini",
    "cancelled": "Reservasi ini sudah dibatalkan",
    "already": "Reservasi ini sudah check-in",
    "unknown": "Kode reservasi tidak ditemukan",
}

# case: (make the code, data-refusal, Indonesian words, English words, offers a normal ticket)
REFUSALS = {
    "too_early": (_booked(12), "too_early", "Silakan kembali pukul 11.30", "Please come back at 11:30", False),
    "too_late": (_booked(7, 30), "too_late", "Reservasi Anda pukul 07.30", "Please take a normal number", True),
    "not_today": (_booked(10, days=1), "not_today", "Rabu, 9 Desember 2026", "Please come back on that day", False),
    "past_day": (_booked(10, days=-1), "not_today", "Senin, 7 Desember 2026", "Please take a normal number", True),
    "cancelled": (_booked(12, 30, cancel=True), "cancelled", "nomor antrean biasa", "cannot be checked in", True),
    "already_checked_in": (_checked_in, "already", "sudah dicetak pukul 10.", "If you lost the ticket", False),
    "unknown_code": (_unknown, "unknown", "Periksa kembali 8 karakter", "Check the 8 characters", True),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_each_refusal_says_what_to_do_in_both_languages(mpp, page_at, case):
    make, refusal, words_id, words_en, normal = REFUSALS[case]
    code = make(mpp)
    page = open_kiosk(page_at, mpp)
    scan(page, code)
    result = page.locator("#checkin-result")
    expect(result).to_be_visible()
    expect(result).to_have_attribute("data-refusal", refusal)
    expect(page.locator("#result-title")).to_have_text(TITLES[refusal])
    expect(page.locator("#result-text")).to_contain_text(words_id)
    expect(page.locator("#result-other")).to_have_attribute("lang", "en")
    expect(page.locator("#result-other-text")).to_contain_text(words_en)
    if normal:
        expect(page.locator("#result-normal")).to_be_visible()
    else:
        expect(page.locator("#result-normal")).to_be_hidden()
    if case in ("too_early", "too_late"):
        screenshot(page, f"kiosk-checkin-{case.replace('_', '-')}")
    if case == "too_late":
        # The answer is a normal ticket of the booking's own service, one tap away.
        page.locator("#result-normal").tap()
        expect(page.locator("#screen-choose")).to_be_visible()
        expect(page.locator("#chosen")).to_contain_text("Perekaman & Cetak KTP-el")
    if case == "too_early":
        page.locator("#lang-switch").tap()  # in English first, Indonesian second
        expect(page.locator("#result-title")).to_have_text("You are early")
        expect(page.locator("#result-other")).to_have_attribute("lang", "id")
        expect(page.locator("#result-other-text")).to_contain_text("Silakan kembali pukul 11.30")


def test_rate_limited_lookup_says_to_wait(mpp, page_at):
    # The server's limiter answers 429 after many tries from one address; the kiosk's answer to it
    # is what is tested here, so this one answer is given by the browser.
    code = book(mpp, "A", at(11, 30))
    page = open_kiosk(page_at, mpp)
    page.route(f"**/api/v1/bookings/{code}/check-in", lambda route: route.fulfill(
        status=429, content_type="application/json",
        body='{"error": {"code": "too_many_requests", "message": "Too many requests."}}'))
    scan(page, code)
    expect(page.locator("#checkin-result")).to_have_attribute("data-refusal", "limited")
    expect(page.locator("#result-title")).to_have_text("Terlalu banyak percobaan")
    expect(page.locator("#result-other-text")).to_contain_text("Please wait a minute")
    expect(page.locator("#result-retry")).to_be_visible()
    assert booking(mpp, code)["status"] == "booked"


def test_garbage_from_the_scanner_is_said_and_nothing_is_sent(mpp, page_at):
    page = open_kiosk(page_at, mpp)
    requests_seen = []
    page.on("request", lambda r: requests_seen.append(r.url) if "check-in" in r.url else None)
    scan(page, "4006381333931")  # a product's EAN barcode, not a booking
    expect(page.locator("#checkin-result")).to_have_attribute("data-refusal", "unknown")
    expect(page.locator("#result-text")).to_contain_text("Pemindai tidak dapat membaca kode reservasi")
    assert not requests_seen


def test_check_in_screen_returns_to_the_start_when_left(mpp, page_at, tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("idle"), env={"MPP_KIOSK_IDLE_S": "5"})
    try:
        enable(srv, "A")
        page = open_kiosk(page_at, srv)
        page.locator("#booking-entry").tap()
        page.locator('#checkin-keypad [data-key="A"]').tap()
        expect(page.locator("#screen-checkin")).to_be_visible()
        expect(page.locator("#screen-agencies")).to_be_visible(timeout=9000)
        page.locator("#booking-entry").tap()
        expect(page.locator("#checkin-code")).to_have_attribute("data-code", "")  # nothing left behind
    finally:
        srv.stop()


def test_no_booking_button_when_no_service_takes_bookings(page_at, tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("nobooking"))
    try:
        page = open_kiosk(page_at, srv)
        page.wait_for_timeout(500)
        expect(page.locator("#booking-entry")).to_be_hidden()
    finally:
        srv.stop()
