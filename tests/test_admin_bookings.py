"""Online booking in the admin pages (1366x768): the day's bookings with a search by code or the
phone's last digits (never the full phone), the settings per service and for the whole MPP, a
supervisor's view, and the report's walk-in / booking table. Debian's Chromium against a real
gunicorn whose clock stands at 10:00 on a known morning (tests/booking_helpers.py)."""

import re
from functools import partial

import pytest
import requests
from playwright.sync_api import expect

from booking_helpers import NOW, at, book, check_in, enable, start_server
from conftest import screenshot
from test_admin_pages import log_in as admin_log_in, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.server]
DAY = NOW.date().isoformat()


@pytest.fixture(scope="module")
def mpp(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("admin-bookings"))
    enable(srv, "A", check_in_late_minutes=60, seats_per_slot=3)
    srv.codes = {
        "rahmat": book(srv, "A", at(9, 30), name="Rahmat Hidayat"),
        "wayan": book(srv, "A", at(10, 0), name="Wayan Sudirta"),
        "ayu": book(srv, "A", at(11, 0), name="Ni Made Ayu"),
        "joko": book(srv, "A", at(8, 0), name="Joko Susilo"),            # missed
        "batal": book(srv, "A", at(12, 0), name="Batal Saja", cancel=True),
        "besok": book(srv, "A", at(10, 0, days=1), name="Besok Datang"),  # tomorrow
    }
    for who in ("rahmat", "wayan"):
        assert check_in(srv, srv.codes[who]).status_code == 201
    srv.kiosk = requests.Session()
    srv.kiosk.headers["Authorization"] = f"Bearer {srv.tokens['kiosk']}"
    assert srv.kiosk.post(srv.url + "/api/v1/tickets", json={"service_id": srv.services["A"]["id"]}).ok
    yield srv
    srv.stop()


# The menu shows once the session is there; the board may lag behind it.
log_in = partial(admin_log_in, until=".a-nav")


def show_day(page, day=DAY):
    page.fill("#bk-date", day)
    page.dispatch_event("#bk-date", "change")


def rows(page):
    return page.locator("#bookings-table tbody tr.bk-row")


def test_the_days_bookings_and_the_search(mpp, page_at):
    page = page_at("counter")
    errors = watch_errors(page)
    log_in(page, mpp.url)
    page.goto(mpp.url + "/admin/bookings")
    expect(page.locator("h1")).to_have_text("Reservasi")
    show_day(page)
    expect(rows(page)).to_have_count(5)
    table = page.locator("#bookings-table")
    expect(table).to_contain_text("Rahmat Hidayat")
    expect(page.locator('#bk-summary [data-count="checked_in"] strong')).to_have_text("2")
    expect(page.locator('#bk-summary [data-count="missed"] strong')).to_have_text("1")
    expect(page.locator('#bk-summary [data-count="booked"] strong')).to_have_text("1")
    expect(page.locator('#bk-summary [data-count="cancelled"] strong')).to_have_text("1")
    joko = page.locator(f'#bookings-table tr:has(code:text("{mpp.codes["joko"]}"))')
    expect(joko).to_contain_text("tidak datang")
    rahmat = page.locator(f'#bookings-table tr:has(code:text("{mpp.codes["rahmat"]}"))')
    expect(rahmat).to_contain_text("sudah check-in")
    expect(rahmat).to_contain_text(re.compile(r"A\d{3}"))  # its ticket
    # Phones only masked, as the API gives them; never the whole number.
    api = mpp.admin.get(f"{mpp.url}/api/v1/bookings?date={DAY}").json()
    wayan = next(b for b in api if b["code"] == mpp.codes["wayan"])
    assert "*" in wayan["phone"]
    expect(page.locator(f'#bookings-table tr:has(code:text("{mpp.codes["wayan"]}"))')).to_contain_text(wayan["phone"])
    assert not re.search(r"0812-?3456-?\d{4}|62812\d{8}", page.content())
    screenshot(page, "admin-bookings")

    last4 = wayan["phone"][-4:]
    page.fill("#bk-search", last4)
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Wayan Sudirta")
    page.fill("#bk-search", mpp.codes["ayu"][:5].lower())
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Ni Made Ayu")
    page.fill("#bk-search", mpp.codes["besok"])  # a whole code of another day: looked up by itself
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#bookings-table")).to_contain_text("Besok Datang")
    expect(page.get_by_text("Ditemukan pada hari lain:")).to_be_visible()
    page.fill("#bk-search", "")
    expect(rows(page)).to_have_count(5)
    assert not errors


def test_settings_per_service_and_for_the_mpp(mpp, page_at):
    page = page_at("counter")
    errors = watch_errors(page)
    log_in(page, mpp.url)
    page.goto(mpp.url + "/admin/bookings")
    settings = page.locator("#booking-settings")
    ktp = settings.locator("tr", has_text="Perekaman & Cetak KTP-el")
    expect(ktp).to_contain_text("Ya")
    kk = settings.locator("tr", has_text="Kartu Keluarga (KK)")
    expect(kk).to_contain_text("Tidak")
    kk.get_by_role("button", name="Ubah").click()
    form = page.locator("#booking-edit")
    expect(form).to_contain_text("Reservasi: B Kartu Keluarga (KK)")
    form.locator("#f-enabled").check()
    form.locator("#f-slot_minutes").fill("2")  # too short: refused, nothing changed
    form.get_by_role("button", name="Simpan").click()
    expect(form.locator("#e-slot_minutes")).not_to_be_empty()
    assert mpp.admin.get(f"{mpp.url}/api/v1/services/{mpp.services['B']['id']}/booking").json()["enabled"] is False
    form.locator("#f-slot_minutes").fill("20")
    form.locator("#f-seats_per_slot").fill("3")
    form.locator("#f-check_in_late_minutes").fill("10")
    form.locator("#f-nik_required").check()
    screenshot(page, "admin-booking-settings")
    form.get_by_role("button", name="Simpan").click()
    expect(page.locator("#toast")).to_have_text("Tersimpan.")
    expect(kk).to_contain_text("Ya")
    got = mpp.admin.get(f"{mpp.url}/api/v1/services/{mpp.services['B']['id']}/booking").json()
    assert {k: got[k] for k in ("enabled", "slot_minutes", "seats_per_slot", "check_in_late_minutes",
                                "nik_required")} == {"enabled": True, "slot_minutes": 20, "seats_per_slot": 3,
                                                     "check_in_late_minutes": 10, "nik_required": True}
    slots = requests.get(f"{mpp.url}/api/v1/services/{mpp.services['B']['id']}/slots?date={DAY}", timeout=10).json()
    assert slots[1]["start"][11:16] == "00:20" and slots[0]["seats"] == 3

    mpp_form = page.locator("#booking-mpp")
    expect(mpp_form.locator("#f-release_delay_minutes")).to_have_value("15")
    mpp_form.locator("#f-release_delay_minutes").fill("30")
    mpp_form.get_by_role("button", name="Simpan").click()
    expect(page.locator("#toast")).to_have_text("Tersimpan.")
    assert mpp.admin.get(f"{mpp.url}/api/v1/booking-settings").json()["release_delay_minutes"] == 30
    assert not errors


def test_supervisor_sees_their_agencys_bookings_but_no_settings_to_change(mpp, page_at):
    page = page_at("counter")
    log_in(page, mpp.url, "supervisor")  # Dukcapil's
    expect(page.locator('.a-nav a[data-section="bookings"]')).to_be_visible()
    page.goto(mpp.url + "/admin/bookings")
    show_day(page)
    expect(rows(page)).to_have_count(5)
    expect(page.locator("#bk-service option")).to_have_count(1 + 3)  # all, and Dukcapil's three
    expect(page.locator("#booking-settings")).to_be_visible()
    expect(page.locator("#booking-settings").get_by_role("button", name="Ubah")).to_have_count(0)
    expect(page.locator("#booking-mpp")).to_have_count(0)


def test_report_shows_walk_in_and_booked_citizens(mpp, page_at):
    officer = requests.Session()
    officer.headers["Origin"] = mpp.url
    assert officer.post(mpp.url + "/api/v1/auth/login", json={"username": "petugas1", "password": "giliran123"}).ok
    assert officer.post(mpp.url + "/api/v1/counters/1/open").ok
    called = []
    for _ in range(3):
        called.append(officer.post(mpp.url + "/api/v1/counters/1/call-next",
                                   json={"finish_current": True}).json())
        # The citizen comes up, so the next press may finish them (the finish guard).
        assert officer.post(mpp.url + "/api/v1/counters/1/start").ok
    assert [bool(t["booking_code"]) for t in called] == [True, True, False]  # the bookings first
    officer.post(mpp.url + "/api/v1/counters/1/finish")
    page = page_at("counter")
    log_in(page, mpp.url)
    page.goto(mpp.url + "/admin/reports")
    page.fill("#r-from", DAY)
    page.fill("#r-to", DAY)
    page.dispatch_event("#r-to", "change")
    channel = page.locator("#channel-table")
    ktp = channel.locator("tr", has_text="Perekaman & Cetak KTP-el")
    expect(ktp).to_be_visible()
    cells = ktp.locator("td").all_inner_texts()
    # walk-in, booked, bookings (not cancelled), checked in 2 of 3 decided, missed 1 of 3
    assert cells[1:6] == ["1", "2", "4", "66.7 %", "33.3 %"], cells
    expect(page.locator("#channel-table thead")).to_contain_text("Awal slot s.d. dipanggil")
    page.locator("#channel-table").scroll_into_view_if_needed()
    screenshot(page, "admin-reports-booking")
