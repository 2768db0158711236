"""Admin service form (issue 18): 24-hour times typed as Indonesia writes them, an incomplete
time refused with a sentence (never "Tersimpan" for a dropped field), and a warning for a
service no counter serves, on the list and on the board. At 1366x768."""

import pytest
from playwright.sync_api import expect

from conftest import screenshot
from test_admin_pages import log_in, new_item, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.server]


def _service(demo_server, prefix):
    s = demo_server.session("admin")
    return [x for x in s.get(demo_server.url + "/api/v1/admin/services").json() if x["prefix"] == prefix][0]


def _edit(page, url, name):
    page.goto(f"{url}/admin/services")
    page.locator("tr", has_text=name).get_by_role("button", name="Ubah").click()
    return page.locator("form.a-form")


def test_times_are_24_hour_and_an_incomplete_one_is_refused(demo_server, page_at):
    url = demo_server.url
    page = page_at("counter")
    errors = watch_errors(page)
    log_in(page, url)
    form = _edit(page, url, "Paspor Baru")
    opens = form.locator("#f-opens_at")
    assert opens.get_attribute("type") == "text" and opens.get_attribute("placeholder") == "08.00"
    opens.fill("08")                      # half-typed
    form.locator("#f-closes_at").fill("12.00")
    form.get_by_role("button", name="Simpan").click()
    expect(form.locator("#e-opens_at")).to_have_text(
        "Tulis jam lengkap dalam format 24 jam, misalnya 08.00 atau 13.30.")
    expect(page.locator("#toast")).to_be_hidden()  # never "Tersimpan"
    screenshot(page, "admin-time-refused")
    assert _service(demo_server, "D")["opens_at"] is None  # nothing was sent
    opens.fill("0800")                    # four digits are a whole time
    form.get_by_role("button", name="Simpan").click()
    expect(page.locator("#toast")).to_have_text("Tersimpan.")
    saved = _service(demo_server, "D")
    assert saved["opens_at"] == "08:00" and saved["closes_at"] == "12:00"
    form = _edit(page, url, "Paspor Baru")
    expect(form.locator("#f-opens_at")).to_have_value("08.00")  # shown the Indonesian way
    assert errors == []


def test_a_half_filled_weekday_is_refused(demo_server, page_at):
    url = demo_server.url
    page = page_at("counter")
    log_in(page, url)
    form = _edit(page, url, "Penggantian Paspor")
    form.locator("#f-weekly").check()
    form.locator("#w-open-3").fill("08.00")
    form.locator("#w-close-3").fill("")
    form.get_by_role("button", name="Simpan").click()
    expect(form.locator("#e-hours")).to_contain_text("Isi jam buka dan jam tutup")
    expect(page.locator("#toast")).to_be_hidden()
    assert _service(demo_server, "E")["hours"] is None


def test_a_service_no_counter_serves_is_warned_on_the_list_and_board(demo_server, page_at):
    url = demo_server.url
    page = page_at("counter")
    log_in(page, url)
    form = new_item(page, url, "services", "+ Layanan baru")
    form.locator("#f-agency_id").select_option(label="PDAM — PDAM Tirta — Air Minum")
    form.locator("#f-prefix").fill("T")
    form.locator("#f-name").fill("Balik Nama Pelanggan")
    form.get_by_role("button", name="Simpan").click()
    row = page.locator("tr", has_text="Balik Nama Pelanggan")
    expect(row.locator("[data-warn=no-counter]")).to_contain_text("belum ada loket yang melayani")
    assert page.locator("[data-warn=no-counter]").count() == 1  # the demo's services all have counters
    screenshot(page, "admin-services-no-counter")
    page.goto(url + "/admin/board")
    expect(page.locator("#board-queues tr", has_text="Balik Nama Pelanggan")
           .locator("[data-warn=no-counter]")).to_be_visible()


def test_admin_sets_the_finish_guard_on_the_settings_page(demo_server, page_at):
    url = demo_server.url
    page = page_at("counter")
    log_in(page, url)
    page.goto(url + "/admin/settings")
    form = page.locator("#counter-rules")
    expect(form.locator("#f-finish_min_called_s")).to_have_value("10")
    form.locator("#f-finish_min_called_s").fill("20")
    form.get_by_role("button", name="Simpan").click()
    expect(page.locator("#toast")).to_have_text("Tersimpan.")
    s = demo_server.session("admin")
    assert s.get(url + "/api/v1/settings/counter").json() == {"finish_min_called_s": 20}
