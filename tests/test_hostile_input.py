"""Hostile text: HTML, script, SQL-looking strings and unicode in every text field the admin
can set are stored as they are and shown as text on every page, never run."""

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from conftest import ROOT

pytestmark = [pytest.mark.server, pytest.mark.browser]

HOSTILE = ("<img src=x onerror=\"window.__xss=1\"><script>window.__xss=1</script>"
           "'; DROP TABLE tickets; -- Ünïcødé ✓ 😀")
MARK = "DROP TABLE tickets"
SHORT = "<b onmouseover=window.__xss=1>'; DROP TABLE tickets; --"  # counter names are short


def arrange(srv):
    """An agency, service, counter, running text and MPP name all carrying HOSTILE; a called ticket."""
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "XSS", "name": "Dinas " + HOSTILE}).json()
    service = admin.post(url + "/services", json={
        "agency_id": agency["id"], "prefix": "X", "name": "Layanan " + HOSTILE,
        "requirements": HOSTILE}).json()
    counter = admin.post(url + "/counters", json={
        "agency_id": agency["id"], "number": 99, "name": "Loket " + SHORT,
        "service_ids": [service["id"]]}).json()
    assert counter.get("name") == "Loket " + SHORT, counter
    r = admin.put(url + "/settings/display", json={"running_text": HOSTILE, "mpp_name": "MPP " + HOSTILE})
    assert r.status_code == 200, r.text
    ticket = admin.post(url + "/tickets", json={"service_id": service["id"]}).json()
    admin.post(url + f"/counters/{counter['id']}/open")
    assert admin.post(url + f"/counters/{counter['id']}/call-next").json()["id"] == ticket["id"]
    # Stored exactly as sent: the SQL-looking part did nothing.
    names = {a["code"]: a["name"] for a in admin.get(url + "/agencies").json()}
    assert names["XSS"] == "Dinas " + HOSTILE
    assert admin.get(url + f"/tickets/{ticket['code']}").status_code == 200
    return admin, service, counter, ticket


def shows_text_not_markup(page):
    """The hostile text is on the page as text, and nothing in it ran."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") is None, "a script from the data ran"
    body = page.inner_text("body")
    assert MARK in body
    assert "<script>" in body or "<img" in body, "the markup was not shown as text"


def test_hostile_text_is_shown_as_text_on_every_page(demo_server, page_at):
    srv = demo_server
    admin, service, counter, ticket = arrange(srv)

    kiosk = page_at("kiosk", has_touch=True)
    kiosk.goto(f"{srv.url}/kiosk?token={srv.tokens['kiosk']}")
    kiosk.locator('.k-agency[data-agency="XSS"]').tap()
    expect(kiosk.locator('.k-service[data-prefix="X"]')).to_be_visible()
    shows_text_not_markup(kiosk)

    display = page_at("tv")
    display.goto(f"{srv.url}/display?token={srv.tokens['display']}")
    expect(display.locator("body")).to_contain_text(MARK)
    shows_text_not_markup(display)

    phone = page_at("phone")
    phone.goto(f"{srv.url}/t/{ticket['code']}")
    expect(phone.locator("body")).to_contain_text("X001")
    shows_text_not_markup(phone)

    staff = page_at("counter")
    login = staff.context.request.post(srv.url + "/api/v1/auth/login",
                                       data={"username": "admin", "password": "rahasia-123"})
    assert login.ok
    staff.goto(f"{srv.url}/counter/{counter['id']}")
    expect(staff.locator("body")).to_contain_text("X001")
    shows_text_not_markup(staff)

    admin_page = page_at("tv")
    admin_page.context.request.post(srv.url + "/api/v1/auth/login",
                                    data={"username": "admin", "password": "rahasia-123"})
    for section in ("board", "agencies", "services", "counters"):
        admin_page.goto(f"{srv.url}/admin/{section}")
        expect(admin_page.locator("body")).to_contain_text(MARK)
        shows_text_not_markup(admin_page)
    # The display settings show the running text in its field, to be edited as it is.
    admin_page.goto(f"{srv.url}/admin/display")
    admin_page.wait_for_load_state("networkidle")
    values = admin_page.locator("input, textarea").evaluate_all("els => els.map(e => e.value)")
    assert HOSTILE in values and "MPP " + HOSTILE in values
    assert admin_page.evaluate("window.__xss") is None


@pytest.mark.timeout(1300)  # four times the per-change run's 75 s, on a busy machine far more
def test_fuzzing_with_a_larger_budget(tmp_path):
    """The reliability run of schemathesis: four times the per-change examples."""
    env = {**os.environ, "GILIRAN_FUZZ_EXAMPLES": os.environ.get("GILIRAN_FUZZ_EXAMPLES_LARGE", "100")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "test_schemathesis.py"), "--basetemp", str(tmp_path / "st")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-6000:]
    assert "1 passed" in run.stdout
