"""Bookings on the officer's console (1366x768): a booking's ticket marked with its slot and
name in the current ticket and the waiting list, and the day's bookings of the counter's
services (expected, checked in, missed), live. Debian's Chromium against a real gunicorn
whose clock stands at 10:00 on a known morning (tests/booking_helpers.py)."""

import pytest
import requests

from booking_helpers import at, book, check_in, enable, start_server
from conftest import screenshot
from test_counter_console import log_in, serving, wait_shown, wait_waiting

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def mpp(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("console-bookings"))
    enable(srv, "A", check_in_late_minutes=120, seats_per_slot=3)
    enable(srv, "B", check_in_late_minutes=120)
    srv.kiosk = requests.Session()
    srv.kiosk.headers["Authorization"] = f"Bearer {srv.tokens['kiosk']}"
    yield srv
    srv.stop()


def walk_in(srv, prefix):
    r = srv.kiosk.post(srv.url + "/api/v1/tickets", json={"service_id": srv.services[prefix]["id"]})
    assert r.status_code == 201, r.text
    return r.json()["number"]


def test_booking_tickets_marked_and_the_days_bookings(mpp, page_at):
    first = walk_in(mpp, "A")                                    # came at 10:00, before the check-ins
    rahmat = book(mpp, "A", at(9, 0), name="Rahmat Hidayat")
    wayan = book(mpp, "A", at(9, 30), name="Wayan Sudirta")
    ayu = book(mpp, "A", at(10, 30), name="Ni Made Ayu")         # expected later
    book(mpp, "A", at(7, 30), name="Joko Susilo")                # never came: missed
    book(mpp, "A", at(12, 30), name="Batal Saja", cancel=True)   # cancelled: not listed
    book(mpp, "B", at(11, 0), name="Maria Ulfa")                 # KK, the counter's other service
    rahmat_no = check_in(mpp, rahmat).json()["number"]
    wayan_no = check_in(mpp, wayan).json()["number"]

    page = page_at("counter")
    log_in(page, mpp, "petugas1", 1)
    # The slots have started: the booked citizens go first, earliest slot first.
    wait_waiting(page, [rahmat_no, wayan_no, first])
    marks = page.locator("#waiting-list li[data-number] .booking-mark")
    assert marks.all_inner_texts() == ["Reservasi 09.00 · Rahmat Hidayat", "Reservasi 09.30 · Wayan Sudirta"]
    assert page.locator(f'#waiting-list li[data-number="{first}"] .booking-mark').count() == 0

    panel = page.locator("#bookings")
    panel.wait_for(state="visible")
    page.wait_for_function("document.querySelectorAll('#bookings-list li[data-code]').length === 5")
    assert page.inner_text("#bookings-title") == "Reservasi hari ini (5)"
    counts = {k: page.inner_text(f'#bookings-counts [data-count="{k}"] strong')
              for k in ("booked", "checked_in", "missed")}
    assert counts == {"booked": "2", "checked_in": "2", "missed": "1"}
    rows = page.locator("#bookings-list li[data-code]").all_inner_texts()
    assert [r.split("\n")[0] for r in rows] == ["07.30", "09.00", "09.30", "10.30", "11.00"]
    assert "Joko Susilo" in rows[0] and "tidak datang" in rows[0]
    assert "Rahmat Hidayat" in rows[1] and f"sudah check-in {rahmat_no}" in rows[1]
    assert "Ni Made Ayu" in rows[3] and "ditunggu" in rows[3]
    assert "Batal Saja" not in page.inner_text("#bookings")

    page.keyboard.press("F1")
    wait_shown(page, rahmat_no)
    booking = page.locator("#t-booking")
    booking.wait_for(state="visible")
    assert page.inner_text("#t-booking .booking-tag").upper() == "RESERVASI"
    assert page.inner_text("#t-booking .booking-slot") == "jadwal 09.00"
    assert page.inner_text("#t-booking .booking-name") == "Rahmat Hidayat"
    wait_waiting(page, [wayan_no, first])
    screenshot(page, "counter-console-booking")

    # Ni Made Ayu checks in at the kiosk, early: the panel and the list follow by themselves.
    ayu_no = check_in(mpp, ayu).json()["number"]
    wait_waiting(page, [wayan_no, first, ayu_no])  # early: counted as issued at check-in
    page.wait_for_function(
        "document.querySelector('#bookings-counts [data-count=\"checked_in\"] strong').textContent === '3'")
    assert page.locator(f'#waiting-list li[data-number="{ayu_no}"] .booking-mark').inner_text() == \
        "Reservasi 10.30 · Ni Made Ayu"

    page.keyboard.press("F3")
    serving(page)
    page.keyboard.press("F6")  # finish Rahmat, call the next: Wayan's booking
    wait_shown(page, wayan_no)
    page.wait_for_function("document.getElementById('t-booking').textContent.includes('Wayan Sudirta')")
    page.keyboard.press("F3")
    serving(page)
    page.keyboard.press("F6")  # and then the walk-in: no mark
    wait_shown(page, first)
    assert page.locator("#t-booking").is_hidden()


def test_english_console_and_no_panel_without_bookings(mpp, page_at):
    page = page_at("counter")
    log_in(page, mpp, "petugas3", 5)  # Imigrasi: takes no bookings
    page.wait_for_timeout(800)
    assert page.locator("#bookings").is_hidden()
    other = page_at("counter")
    log_in(other, mpp, "petugas2", 2)
    other.goto(mpp.url + "/counter/2?lang=en")
    page = other
    page.wait_for_selector("#bookings", state="attached")
    page.wait_for_function("document.getElementById('bookings-title').textContent.startsWith('Bookings today')")
    assert "checked in" in page.inner_text("#bookings-counts")
