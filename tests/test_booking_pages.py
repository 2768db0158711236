"""The citizen's booking pages on the public instance, in Chromium at 360x800:
the whole flow, each refusal, cancel, the card image, the .ics, the live tracking page,
and axe-core on every page."""

import io
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from conftest import Server, morning_offset, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.server]
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


@pytest.fixture(scope="module")
def mpp(tmp_path_factory):
    """The demo MPP: the building's instance and the public one on the same file;
    bookings on for KTP (A), Kartu Keluarga (B, one seat a slot) and Paspor (D, NIK needed)."""
    tmp = tmp_path_factory.mktemp("booking-pages")
    # Both instances' clock at 10:00 in the MPP today, whatever the hour of the run: the
    # tests book today's slots, check in to them and need two free slots in one day.
    clock = {"MPP_CLOCK_OFFSET_S": morning_offset()}
    building = Server(tmp / "mpp.db", env={"MPP_DEMO": "1", **clock}).start(timeout=60)
    public = Server(tmp / "mpp.db", env={"MPP_SURFACE": "public", **clock}).start(timeout=60)
    building.tokens = json.loads((tmp / "demo-devices.json").read_text())
    admin = building.admin = building.session("admin")
    services = {s["prefix"]: s for s in admin.get(building.url + "/api/v1/services").json()}
    # A: check-in opens 4 h ahead, so that a slot of today can be checked in whatever the hour.
    for prefix, extra in (("A", {"check_in_early_minutes": 240}), ("B", {"seats_per_slot": 1}),
                          ("D", {"nik_required": True})):
        r = admin.put(f"{building.url}/api/v1/services/{services[prefix]['id']}/booking",
                      json={"enabled": True, "days_ahead": 7, **extra})
        assert r.status_code == 200, r.text
    building.services = services
    try:
        yield building, public
    finally:
        public.stop()
        building.stop()


_phones = iter(range(10_000_000, 99_999_999))


def phone_number():
    return f"0812{next(_phones)}"


def first_free(public, service_id, after=None):
    """The first open slot with a seat left (today or later), as the page would show it."""
    today = requests.get(public.url + "/api/v1/health", timeout=10).json()["service_day"]
    day = datetime.fromisoformat(today).date()
    for i in range(0, 8):
        date = day.fromordinal(day.toordinal() + i).isoformat()
        for slot in requests.get(f"{public.url}/api/v1/services/{service_id}/slots?date={date}", timeout=10).json():
            if slot["open"] and slot["left"] > 0 and (after is None or slot["start"] > after):
                return slot
    raise AssertionError("no free slot in a week")


def book_api(public, service_id, start, phone=None, **extra):
    r = requests.post(public.url + "/api/v1/bookings", timeout=10, json={
        "service_id": service_id, "start": start, "name": "Siti Aminah", "phone": phone or phone_number(), **extra})
    assert r.status_code == 201, r.text
    return r.json()


def axe_check(page):
    """No serious or critical accessibility violation on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, bad


def open_booking(page_at, public):
    page = page_at("phone")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(public.url + "/booking")
    page.errors = errors
    return page


def go_to_form(page, agency, prefix_name, slot_start=None):
    if agency:
        page.locator(".bk-choice", has_text=agency).first.click()
    page.locator("#services .bk-choice", has_text=prefix_name).click()
    expect(page.locator("#days .bk-day").first).to_be_visible()
    day = (slot_start or "")[:10]
    if day:
        page.locator(f'#days .bk-day[data-day="{day}"]').click()
    else:
        page.locator("#days .bk-day").first.click()
    expect(page.locator("#slots .bk-slot").first).to_be_visible()
    if slot_start:
        page.locator(f'#slots .bk-slot[data-start="{slot_start}"]').click()
    else:
        page.locator("#slots .bk-slot:not([disabled])").first.click()
    expect(page.locator("#step-form")).to_be_visible()


def fill(page, name="Budi Santoso", phone=None, nik=None):
    page.fill("#name", name)
    page.fill("#phone", phone or phone_number())
    if nik is not None:
        page.fill("#nik", nik)
    page.locator("#form button[type=submit]").click()


def test_the_whole_flow_books_a_seat_and_shows_the_card(mpp, page_at):
    building, public = mpp
    page = open_booking(page_at, public)
    expect(page.locator("h1")).to_have_text("Ambil antrean dari rumah")
    expect(page.locator("#agencies .bk-choice").first).to_be_visible()
    # Only agencies with a bookable service are offered.
    expect(page.locator("#agencies .bk-choice")).to_have_count(2)
    axe_check(page)
    screenshot(page, "booking-agencies")

    page.locator(".bk-choice", has_text="Kependudukan").click()
    expect(page.locator("#services .bk-choice")).to_have_count(2)
    expect(page.locator("#services")).to_contain_text("Bawa: KK asli")
    screenshot(page, "booking-services")
    page.locator("#services .bk-choice", has_text="Perekaman").click()
    expect(page.locator("#days .bk-day").first).to_be_visible()
    assert page.locator("#days .bk-day").count() <= 8  # today + days_ahead 7
    axe_check(page)
    screenshot(page, "booking-days")

    page.locator("#days .bk-day").first.click()
    expect(page.locator("#slots .bk-slot").first).to_be_visible()
    expect(page.locator("#slots .bk-slot").first).to_contain_text("Sisa 2 kursi")
    axe_check(page)
    screenshot(page, "booking-slots")
    start = page.locator("#slots .bk-slot:not([disabled])").first.get_attribute("data-start")
    page.locator("#slots .bk-slot:not([disabled])").first.click()
    expect(page.locator("#nik-field")).to_be_hidden()  # KTP needs no NIK
    axe_check(page)
    screenshot(page, "booking-form")
    fill(page, phone="0812-3456-7001")
    expect(page.locator("#summary")).to_contain_text("Budi Santoso")
    screenshot(page, "booking-confirm")
    page.locator("#book").click()

    page.wait_for_url(re.compile(r"/b/[A-Z0-9]{8}\?new=1$"))
    code = re.search(r"/b/([A-Z0-9]{8})", page.url).group(1)
    expect(page.locator(".bk-done")).to_be_visible()
    expect(page.locator("#code")).to_have_text(code[:4] + " " + code[4:])
    expect(page.locator("#state")).to_have_text("Terpesan")
    expect(page.locator("#service")).to_have_text("Perekaman & Cetak KTP-el")
    expect(page.locator("#window")).to_contain_text("Pindai kartu ini di kios antara pukul")
    expect(page.locator("#requirements")).to_contain_text("KK asli")
    assert page.evaluate("document.getElementById('qr').naturalWidth") > 0
    axe_check(page)
    screenshot(page, "booking-card")
    booking = requests.get(f"{public.url}/api/v1/bookings/{code}", timeout=10).json()
    assert booking["start"] == start and booking["status"] == "booked"
    assert booking["phone"] != "081234567001"  # masked
    assert not page.errors, page.errors

    english = page_at("phone")
    english.goto(f"{public.url}/b/{code}?lang=en")
    expect(english.locator("#state")).to_have_text("Booked")
    expect(english.locator("#window")).to_contain_text("Scan this card at the kiosk between")


def test_english_is_one_tap_away(mpp, page_at):
    _, public = mpp
    page = open_booking(page_at, public)
    page.locator(".bk-lang a", has_text="English").click()
    expect(page.locator("h1")).to_have_text("Book a queue from home")
    expect(page.locator("#agencies .bk-choice").first).to_be_visible()


def test_a_bad_phone_number_is_said_and_the_form_kept(mpp, page_at):
    _, public = mpp
    page = open_booking(page_at, public)
    go_to_form(page, "Kependudukan", "Perekaman")
    fill(page, name="Ani", phone="12345")
    expect(page.locator("#phone-error")).to_contain_text("Nomor HP ini tidak valid")
    expect(page.locator("#step-form")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Ani")
    axe_check(page)
    screenshot(page, "booking-bad-phone")


@pytest.mark.parametrize("nik,sentence", [("", "memerlukan NIK"), ("12345", "harus 16 angka")],
                         ids=["missing", "too_short"])
def test_a_service_needing_a_nik_refuses_without_one(mpp, page_at, nik, sentence):
    _, public = mpp
    page = open_booking(page_at, public)
    page.locator(".bk-choice", has_text="Imigrasi").click()
    expect(page.locator("#services .bk-choice", has_text="Paspor Baru")).to_contain_text("Perlu NIK")
    go_to_form(page, None, "Paspor Baru")
    expect(page.locator("#nik-field")).to_be_visible()
    fill(page, nik=nik)
    expect(page.locator("#nik-error")).to_contain_text(sentence)
    expect(page.locator("#step-form")).to_be_visible()


def test_the_server_refuses_a_nik_the_page_let_through(mpp):
    building, public = mpp
    sid = building.services["D"]["id"]
    slot = first_free(public, sid)
    r = requests.post(public.url + "/api/v1/bookings", timeout=10, json={
        "service_id": sid, "start": slot["start"], "name": "X", "phone": phone_number()})
    assert r.status_code == 400 and "nik" in r.json()["error"]["fields"]


def test_a_second_booking_on_the_same_day_is_refused_and_the_form_kept(mpp, page_at):
    building, public = mpp
    sid = building.services["A"]["id"]
    first = first_free(public, sid)
    phone = phone_number()
    book_api(public, sid, first["start"], phone=phone)
    later = first_free(public, sid, after=first["start"])
    assert later["start"][:10] == first["start"][:10]
    page = open_booking(page_at, public)
    go_to_form(page, "Kependudukan", "Perekaman", later["start"])
    fill(page, name="Rudi", phone=phone)
    page.locator("#book").click()
    expect(page.locator("#error")).to_contain_text("sudah punya booking untuk layanan ini")
    expect(page.locator("#step-form")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Rudi")
    expect(page.locator("#phone")).to_have_value(phone)
    screenshot(page, "booking-limit")


def test_a_slot_taken_meanwhile_offers_the_next_free_times(mpp, page_at):
    building, public = mpp
    sid = building.services["B"]["id"]  # one seat a slot
    slot = first_free(public, sid)
    page = open_booking(page_at, public)
    go_to_form(page, "Kependudukan", "Kartu Keluarga", slot["start"])
    fill(page, name="Wati")
    expect(page.locator("#step-confirm")).to_be_visible()
    book_api(public, sid, slot["start"])  # someone else, on another phone, a second earlier
    page.locator("#book").click()
    expect(page.locator("#error")).to_contain_text("baru saja diambil orang lain")
    expect(page.locator("#name")).to_have_value("Wati")
    expect(page.locator("#other-list .bk-slot").first).to_be_visible()
    assert slot["start"] not in [b.get_attribute("data-start") for b in page.locator("#other-list .bk-slot").all()]
    axe_check(page)
    screenshot(page, "booking-slot-taken")
    # Taking one of the offered times books it.
    page.locator("#other-list .bk-slot").first.click()
    page.locator("#form button[type=submit]").click()
    page.locator("#book").click()
    page.wait_for_url(re.compile(r"/b/[A-Z0-9]{8}\?new=1$"))


def test_cancel_asks_first_then_cancels(mpp, page_at):
    building, public = mpp
    sid = building.services["A"]["id"]
    booking = book_api(public, sid, first_free(public, sid)["start"])
    page = page_at("phone")
    page.goto(f"{public.url}/b/{booking['code']}")
    page.locator("#cancel").click()
    expect(page.locator("#cancel-confirm")).to_be_visible()
    screenshot(page, "booking-cancel-confirm")
    page.locator("#cancel-no").click()
    expect(page.locator("#state")).to_have_text("Terpesan")
    assert requests.get(f"{public.url}/api/v1/bookings/{booking['code']}", timeout=10).json()["status"] == "booked"
    page.locator("#cancel").click()
    page.locator("#cancel-yes").click()
    expect(page.locator("#state")).to_have_text("Dibatalkan")
    expect(page.locator("#qr")).to_have_count(0)
    assert requests.get(f"{public.url}/api/v1/bookings/{booking['code']}", timeout=10).json()["status"] == "cancelled"
    axe_check(page)
    screenshot(page, "booking-cancelled")


def test_the_card_as_an_image_and_a_calendar_file(mpp, page_at):
    from PIL import Image

    building, public = mpp
    sid = building.services["A"]["id"]
    booking = book_api(public, sid, first_free(public, sid)["start"])
    page = page_at("phone", accept_downloads=True)
    page.goto(f"{public.url}/b/{booking['code']}")
    with page.expect_download() as png_download:
        page.locator("#save-png").click()
    png = Path(png_download.value.path()).read_bytes()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 720 and image.height > 900
    assert png_download.value.suggested_filename == f"booking-{booking['code']}.png"

    with page.expect_download() as ics_download:
        page.locator("#save-ics").click()
    ics = Path(ics_download.value.path()).read_bytes().decode("utf-8")
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and "BEGIN:VEVENT\r\n" in ics
    start = datetime.fromisoformat(booking["start"]).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}\r\n" in ics
    unfolded = ics.replace("\r\n ", "")
    assert booking["code"] in unfolded and "Perekaman & Cetak KTP-el" in unfolded
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))


def test_checked_in_links_to_the_live_ticket_which_hears_the_call(mpp, page_at):
    building, public = mpp
    sid = building.services["A"]["id"]
    today = requests.get(public.url + "/api/v1/health", timeout=10).json()["service_day"]
    slot = first_free(public, sid)
    assert slot["start"][:10] == today  # the servers' clock says 10:00
    booking = book_api(public, sid, slot["start"])
    r = requests.post(f"{building.url}/api/v1/bookings/{booking['code']}/check-in",
                      headers={"Authorization": f"Bearer {building.tokens['kiosk']}"}, timeout=10)
    assert r.status_code == 201, r.text
    ticket = r.json()
    page = page_at("phone")
    page.goto(f"{public.url}/b/{booking['code']}")
    expect(page.locator("#state")).to_have_text("Sudah check-in")
    screenshot(page, "booking-checked-in")
    page.locator("#ticket-link").click()
    page.wait_for_url(re.compile(r"/t/"))
    assert page.url.startswith(public.url)
    expect(page.locator("#number")).to_have_text(ticket["number"])
    expect(page.locator("#offline")).to_be_hidden()
    axe_check(page)
    counter = [c for c in building.admin.get(building.url + "/api/v1/counters").json()
               if sid in c["service_ids"]][-1]
    building.admin.post(f"{building.url}/api/v1/counters/{counter['id']}/open")
    r = building.admin.post(f"{building.url}/api/v1/counters/{counter['id']}/call", json={"ticket_id": ticket["id"]})
    assert r.status_code == 200, r.text
    expect(page.locator("#status")).to_have_text("Dipanggil", timeout=2500)
    expect(page.locator("#call")).to_contain_text(f"Loket {counter['number']}")
    screenshot(page, "booking-track-called")


def test_an_unknown_code_is_a_plain_page(mpp, page_at):
    _, public = mpp
    page = page_at("phone")
    response = page.goto(public.url + "/b/ZZZZZZZZ")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Booking tidak ditemukan")
    axe_check(page)


def fits_the_width(page):
    """Nothing wider than the phone: no sideways scrolling of the page."""
    width = page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    assert width <= 1, f"{width}px wider than the screen"
    # Nor cut off at an edge (the day strip scrolls sideways by design; screen-reader text is off-screen).
    outside = page.evaluate("""() => [...document.querySelectorAll('main *')].filter(e => {
        if (e.closest('.bk-days') || e.closest('.bk-sr') || !e.getClientRects().length) return false;
        const r = e.getBoundingClientRect();
        return r.width > 0 && (r.left < -1 || r.right > innerWidth + 1);
    }).map(e => e.id || e.className || e.tagName)""")
    assert not outside, outside


def test_works_with_text_at_200_percent(mpp, page_at):
    """The phone's text size at 200 % (Chromium scales rem like this): still one column,
    every button reachable, nothing to scroll sideways."""
    building, public = mpp
    sid = building.services["A"]["id"]
    booking = book_api(public, sid, first_free(public, sid)["start"])
    page = page_at("phone")
    page.goto(public.url + "/booking")
    page.add_style_tag(content="html { font-size: 200% !important; }")
    expect(page.locator("#agencies .bk-choice").first).to_be_visible()
    fits_the_width(page)
    go_to_form(page, "Kependudukan", "Perekaman")
    fits_the_width(page)
    screenshot(page, "booking-form-text-200")
    card = page_at("phone")
    card.goto(f"{public.url}/b/{booking['code']}")
    card.add_style_tag(content="html { font-size: 200% !important; }")
    fits_the_width(card)
    expect(card.locator("#cancel")).to_be_visible()
    screenshot(card, "booking-card-text-200")
