"""The smaller fixes of issue 18, each at its real screen size: the tab icon on every page, TV
service names not cut, the reports table within 1366 px, survey language links a finger tall,
no "turn on sound" once a ticket is done, the IKM's small-sample caution."""

import pytest
from playwright.sync_api import expect

from conftest import screenshot, shared_demo_mpp
from db import survey
from test_admin_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]


mpp = shared_demo_mpp("fixes")


def served_ticket(srv, prefix, counter_number):
    """A ticket taken, called, started and finished: its code."""
    a = srv.admin
    code = a.post(srv.url + "/api/v1/tickets", json={"service_id": srv.services[prefix]["id"]}).json()["code"]
    counter = [c for c in a.get(srv.url + "/api/v1/counters").json() if c["number"] == counter_number
               and srv.services[prefix]["id"] in c["service_ids"]][0]
    url = f"{srv.url}/api/v1/counters/{counter['id']}"
    a.post(url + "/open")
    a.post(url + "/call-next", json={})
    a.post(url + "/start")
    assert a.post(url + "/finish").json()["status"] == "done"
    return code


def test_favicon_is_served_and_no_page_asks_for_a_missing_file(mpp, page_at):
    import requests

    r = requests.get(mpp.url + "/favicon.ico")
    assert r.status_code == 200 and r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    code = served_ticket(mpp, "F", 7)
    missing = []
    for screen, path in [("kiosk", f"/kiosk?token={mpp.tokens['kiosk']}"),
                         ("tv", f"/display?token={mpp.tokens['display']}"),
                         ("counter", "/counter"), ("counter", "/admin"), ("phone", f"/t/{code}"),
                         ("phone", f"/survey/{code}"), ("counter", "/")]:
        page = page_at(screen)
        page.on("response", lambda resp: missing.append(resp.url) if resp.status == 404 else None)
        page.goto(mpp.url + path)
        page.wait_for_load_state("networkidle")
        icon = page.evaluate("document.querySelector('link[rel=icon]') && document.querySelector('link[rel=icon]').href")
        assert icon == mpp.url + "/favicon.ico", path
    assert missing == []


def test_tv_service_names_wrap_instead_of_being_cut(mpp, page_at):
    page = page_at("tv")
    page.goto(f"{mpp.url}/display?token={mpp.tokens['display']}")
    page.wait_for_function("() => window.giliranDisplay && window.giliranDisplay.online()")
    page.wait_for_selector(".waiting-name")
    screenshot(page, "display-names")
    cut = page.evaluate("""() => [...document.querySelectorAll('.waiting-name, .now-service')]
      .filter(e => getComputedStyle(e).textOverflow === 'ellipsis' || e.scrollWidth > e.clientWidth + 1)
      .map(e => e.textContent)""")
    assert cut == []
    # Every waiting row still fits in its panel.
    outside = page.evaluate("""() => { const box = document.querySelector('.waiting').getBoundingClientRect();
      return [...document.querySelectorAll('.waiting-list li')].filter(li => li.getBoundingClientRect().bottom > box.bottom + 1)
        .map(li => li.textContent); }""")
    assert outside == []
    names = page.eval_on_selector_all(".waiting-name", "els => els.map(e => e.textContent)")
    assert "Surat Keterangan Hasil Pemeriksaan Narkotika" in names
    screenshot(page, "display-names")


def test_reports_table_fits_1366_px(mpp, page_at):
    served_ticket(mpp, "G", 9)
    page = page_at("counter")
    log_in(page, mpp.url)
    page.goto(mpp.url + "/admin/reports")
    page.wait_for_selector(".a-table tbody tr td")
    wide = page.evaluate("""() => [...document.querySelectorAll('.a-scroll')]
      .filter(s => s.scrollWidth > s.clientWidth + 1).length""")
    assert wide == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.locator("#report-table").scroll_into_view_if_needed()
    screenshot(page, "admin-reports-1366")


def test_survey_language_links_are_44_px_tall(mpp, page_at):
    code = served_ticket(mpp, "H", 10)
    page = page_at("phone")
    page.goto(f"{mpp.url}/survey/{code}")
    heights = page.eval_on_selector_all(".s-lang a", "els => els.map(e => e.getBoundingClientRect().height)")
    assert len(heights) == 2 and min(heights) >= 44
    screenshot(page, "survey-phone")


def test_no_sound_button_once_the_ticket_is_done(mpp, page_at):
    code = served_ticket(mpp, "J", 11)
    page = page_at("phone")
    page.goto(f"{mpp.url}/t/{code}")
    expect(page.locator("#status")).to_have_text("Selesai")
    expect(page.locator("#sound")).to_be_hidden()
    screenshot(page, "track-done")


def test_ikm_from_few_respondents_carries_a_small_sample_caution(mpp, page_at):
    code = served_ticket(mpp, "R", 19)
    for _ in range(3):
        served_ticket(mpp, "R", 19)
    r = mpp.admin.post(f"{mpp.url}/api/v1/tickets/{code}/survey", json={f"u{i}": 4 for i in range(1, 10)})
    assert r.status_code == 201, r.text
    page = page_at("counter")
    log_in(page, mpp.url)
    page.goto(mpp.url + "/admin/ikm")
    expect(page.locator("#ikm-small-sample")).to_contain_text("Sampel kecil: 1 responden")
    expect(page.locator("#ikm-small-sample")).to_contain_text("Permenpan RB 14/2017")
    screenshot(page, "admin-ikm-small-sample")


@pytest.mark.parametrize("population, sample", [(0, 0), (1, 1), (10, 10), (100, 80), (1000, 278),
                                                (10000, 370), (1000000, 384)])
def test_minimum_sample_follows_the_krejcie_morgan_table(population, sample):
    assert survey.min_sample(population) == sample
