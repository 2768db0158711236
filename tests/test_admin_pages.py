"""The admin pages in Debian's Chromium: set up a service end to end, the live board, devices."""

import re
import sqlite3
import tempfile

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, screenshot
from db.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.server]


def password(username):
    # The test server creates `admin` itself (MPP_ADMIN_PASSWORD); the demo makes the others.
    return PASSWORD if username == "admin" else DEMO_PASSWORD


def demo_session(server, username):
    import requests

    s = requests.Session()
    s.headers["Origin"] = server.url
    r = s.post(server.url + "/api/v1/auth/login", json={"username": username, "password": password(username)})
    assert r.status_code == 200, r.text
    return s


def log_in(page, url, username="admin", until="#board-queues"):
    """Log in on the admin page and wait until `until` (by default the live board) shows."""
    page.goto(url + "/admin")
    page.fill("#username", username)
    page.fill("#password", password(username))
    page.click("#login-form button[type=submit]")
    # The password is hashed for real (scrypt): on a loaded machine the board can take seconds.
    expect(page.locator(until)).to_be_visible(timeout=20000)


def new_item(page, url, section, button):
    page.goto(f"{url}/admin/{section}")
    page.get_by_role("button", name=button).click()
    return page.locator("form.a-form")


def watch_errors(page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def admin_page(page_at, url, screen="counter"):
    """A page logged in as admin, and the list its script errors land in."""
    page = page_at(screen)
    errors = watch_errors(page)
    log_in(page, url)
    return page, errors


def save(form, **fields):
    """Type into the form's fields (#f-<name>, in the order given), then Simpan."""
    for name, value in fields.items():
        form.locator(f"#f-{name}").fill(value)
    form.get_by_role("button", name="Simpan").click()


def test_a_new_service_set_up_in_the_pages_appears_live_on_the_kiosk(demo_server, page_at):
    url = demo_server.url
    admin, errors = admin_page(page_at, url)

    save(new_item(admin, url, "agencies", "+ Instansi baru"), code="KEMENAG", name="Kementerian Agama")
    expect(admin.locator(".a-table")).to_contain_text("Kementerian Agama")

    kiosk = page_at("kiosk", has_touch=True)
    kiosk.goto(f"{url}/kiosk?token={demo_server.tokens['kiosk']}")
    kiosk.locator('.k-agency[data-agency="KEMENAG"]').tap()
    expect(kiosk.locator("#screen-services")).to_be_visible()
    expect(kiosk.locator(".k-service")).to_have_count(0)

    form = new_item(admin, url, "services", "+ Layanan baru")
    form.locator("#f-agency_id").select_option(label="KEMENAG — Kementerian Agama")
    save(form, prefix="t", name="Legalisir Buku Nikah", requirements="Buku nikah asli, KTP-el",
         daily_quota="0")
    expect(form.locator("#e-daily_quota")).not_to_be_empty()  # a quota of 0 is refused, in Indonesian
    form.locator("#f-daily_quota").fill("40")
    form.locator("#f-weekly").check()
    screenshot(admin, "admin-services")
    form.locator("#f-weekly").uncheck()  # open around the clock, so the test runs at any hour
    form.get_by_role("button", name="Simpan").click()
    expect(admin.locator(".a-table")).to_contain_text("Legalisir Buku Nikah")

    # The kiosk shows the new service without a reload; no counter serves it yet: not offered.
    expect(kiosk.locator('.k-service[data-prefix="T"]')).to_contain_text("Legalisir Buku Nikah")
    expect(kiosk.locator('.k-service[data-prefix="T"]')).to_contain_text("Belum ada loket")

    form = new_item(admin, url, "counters", "+ Loket baru")
    form.locator("#f-agency_id").select_option(label="KEMENAG — Kementerian Agama")
    form.locator("#f-number").fill("22")
    form.locator(".a-checks label", has_text="Legalisir Buku Nikah").locator("input").check()
    form.get_by_role("button", name="Simpan").click()
    expect(admin.locator(".a-table")).to_contain_text("Loket 22")

    expect(kiosk.locator('button.k-service[data-prefix="T"]')).to_be_visible()  # offered, live
    kiosk.locator('.k-service[data-prefix="T"]').tap()
    kiosk.locator("#take-normal").tap()
    expect(kiosk.locator("#ticket-number")).to_have_text("T001")

    # An officer's day, through the API: the ticket is called and finished at counter 22.
    s = demo_server.session("admin")
    s.headers["Origin"] = url
    counter = [c for c in s.get(url + "/api/v1/counters").json() if c["number"] == 22][0]
    s.post(f"{url}/api/v1/counters/{counter['id']}/open")
    code = s.post(f"{url}/api/v1/counters/{counter['id']}/call-next").json()["code"]
    s.post(f"{url}/api/v1/counters/{counter['id']}/start")
    s.post(f"{url}/api/v1/counters/{counter['id']}/finish")

    phone = page_at("phone")
    phone.goto(f"{url}/survey/{code}")
    expect(phone.locator("h1")).to_have_text("Bagaimana pelayanan kami?")
    phone.get_by_role("button", name="Kirim").click()
    expect(phone.locator("#error")).to_have_text("Mohon beri nilai semua unsur sebelum mengirim.")
    for i in range(1, 10):
        phone.locator(f"fieldset[data-key=u{i}] .s-v{4 if i != 3 else 3}").click()
    phone.locator("#comment").fill("Petugas ramah, antrean cepat.")
    screenshot(phone, "admin-survey")
    phone.get_by_role("button", name="Kirim").click()
    expect(phone.locator("#state")).to_have_text("Terima kasih! Jawaban Anda membantu kami menjadi lebih baik.")

    admin.goto(url + "/admin/reports")
    row = admin.locator("#report-table tr", has_text="Legalisir Buku Nikah")
    expect(row).to_be_visible()
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("1")  # issued
    expect(cells.nth(4)).to_have_text("1")  # served
    expect(admin.locator(".a-chart")).to_have_count(3)
    admin.wait_for_function("Array.from(document.querySelectorAll('.a-chart')).every(i => i.complete && i.naturalWidth > 0)")
    screenshot(admin, "admin-reports")

    admin.goto(url + "/admin/ikm")
    # NRR: eight elements 4, one 3 -> (8 x 4 + 3) / 9 x 25 = 97.22, band A
    expect(admin.locator("#ikm-total")).to_contain_text("97.22")
    expect(admin.locator("#ikm-total")).to_contain_text("A · Sangat Baik")
    expect(admin.locator("#ikm-services")).to_contain_text("Legalisir Buku Nikah")
    screenshot(admin, "admin-ikm")
    assert errors == []


def test_the_live_board_turns_red_past_target(demo_server, page_at):
    url = demo_server.url
    kiosk = {"Authorization": f"Bearer {demo_server.tokens['kiosk']}"}
    s = demo_server.session("admin")
    services = {x["prefix"]: x for x in s.get(url + "/api/v1/services", headers=kiosk).json()}
    a = services["A"]

    page, errors = admin_page(page_at, url, "tv")
    row = page.locator(f"#board-queues tr[data-service='{a['id']}']")
    expect(row).not_to_have_class("a-queue late")

    ticket = s.post(url + "/api/v1/tickets", json={"service_id": a["id"]}, headers=kiosk).json()
    expect(row.locator("td").nth(2)).to_have_text("1")
    expect(row).not_to_have_class("a-queue late")

    # The citizen has waited 16 minutes (target 15): move the ticket's times back.
    db = sqlite3.connect(demo_server.db_path, timeout=5)
    with db:
        db.execute("UPDATE tickets SET issued_ts = issued_ts - 960, queue_ts = queue_ts - 960 WHERE id = ?",
                   (ticket["id"],))
        db.execute("UPDATE ticket_visits SET queued_ts = queued_ts - 960 WHERE ticket_id = ?", (ticket["id"],))
        printer = db.execute("INSERT INTO printers (name, transport, config, paper_mm, status, status_detail) "
                             "VALUES ('Printer Lobi', 'network', '{}', 80, 'paper_out', 'cover open') "
                             "RETURNING id").fetchone()
    db.close()
    assert printer
    # Any event refreshes the board; here a second citizen takes a ticket of B.
    s.post(url + "/api/v1/tickets", json={"service_id": services["B"]["id"]}, headers=kiosk)
    expect(row).to_have_class("a-queue late")
    expect(row.locator(".a-wait")).to_contain_text("16:")
    expect(page.locator("#board-printers")).to_contain_text("Printer Lobi — Kertas habis")
    screenshot(page, "admin-board")

    officer = demo_session(demo_server, "petugas1")
    counter = [c for c in officer.get(url + "/api/v1/counters").json() if c["number"] == 1][0]
    officer.post(f"{url}/api/v1/counters/{counter['id']}/open")
    officer.post(f"{url}/api/v1/counters/{counter['id']}/call-next")
    card = page.locator(f".a-counter[data-counter='{counter['id']}']")
    expect(card).to_contain_text("Budi Santoso")
    expect(card).to_contain_text("A001")
    expect(row).not_to_have_class("a-queue late")  # the late ticket was called

    supervisor = page_at("counter")
    log_in(supervisor, url, "supervisor")
    expect(supervisor.locator("#board-queues")).to_contain_text("DUKCAPIL")
    expect(supervisor.locator("#board-queues")).not_to_contain_text("SAMSAT")
    # board, reports, IKM, and their agency's bookings
    expect(supervisor.locator(".a-nav a")).to_have_count(4)
    expect(supervisor.locator('.a-nav a[data-section="bookings"]')).to_be_visible()
    assert errors == []


def test_devices_show_their_pairing_link_once_and_can_be_revoked(demo_server, page_at):
    url = demo_server.url
    page, errors = admin_page(page_at, url)
    form = new_item(page, url, "devices", "+ Perangkat baru")
    form.locator("#f-kind").select_option("display")
    save(form, name="TV Lantai 2")
    link = page.locator("#pair-link")
    expect(link).to_be_visible()
    value = link.input_value()
    assert value.startswith(f"{url}/display?token=")
    page.wait_for_function("document.querySelector('.a-qr').naturalWidth > 0")
    screenshot(page, "admin-devices")
    token = value.split("token=")[1]
    s = demo_server.session("admin")
    me = s.get(url + "/api/v1/me/device", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["name"] == "TV Lantai 2"
    # Its first call is its "last seen"; a device never used says so.
    page.reload()
    row = page.locator("tr", has_text="TV Lantai 2")
    expect(page.locator("th", has_text="Terakhir terlihat")).to_be_visible()
    expect(row).to_contain_text(re.compile(r"\d\d[.:]\d\d"))  # a time (the cells run together)
    expect(row).not_to_contain_text("belum pernah")
    expect(page.locator("tbody tr", has_text="belum pernah").first).to_be_visible()
    screenshot(page, "admin-devices-last-seen")

    page.once("dialog", lambda d: d.accept())
    page.locator("tr", has_text="TV Lantai 2").get_by_role("button", name="Cabut akses").click()
    expect(page.locator("tr", has_text="TV Lantai 2")).to_contain_text("Dicabut")
    assert s.get(url + "/api/v1/me/device", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    page.goto(url + "/admin/printers?lang=en")
    page.get_by_role("button", name="+ New printer").click()
    page.fill("#f-name", "Kiosk printer")
    page.locator("#f-transport").select_option("file")
    # Outside the database's folder, where a file printer may never write.
    page.fill("#f-path", tempfile.mkdtemp(prefix="giliran-printer-") + "/printer.bin")
    page.get_by_role("button", name="Save").click()
    row = page.locator("tr", has_text="Kiosk printer")
    row.get_by_role("button", name="Test print").click()
    expect(page.locator("#toast")).to_be_visible()
    assert errors == []

    page.goto(url + "/admin/display")
    expect(page.locator("#f-running_text")).to_have_value(re.compile("Selamat datang"))
    page.locator("#f-running_text").fill("Antrean dibuka pukul 08.00 WIB.")
    page.locator("form", has=page.locator("#f-running_text")).get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_have_text("Saved.")
    screenshot(page, "admin-display")
    page.goto(url + "/admin/audit")
    expect(page.locator(".a-table")).to_contain_text("device.revoke")
    assert errors == []
