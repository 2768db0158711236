"""The admin's webhooks page in Debian's Chromium: add one (the secret shown once), send a test
to a real receiver and see it delivered, a refused URL explained, a paused webhook in red."""

import sqlite3
import time

import pytest
from playwright.sync_api import expect

from conftest import screenshot
from test_admin_pages import log_in, watch_errors
from webhook_receiver import Receiver, verify

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_add_a_webhook_test_it_and_see_a_paused_one_in_red(server, page_at):
    url = server.url
    page = page_at("counter")
    errors = watch_errors(page)
    log_in(page, url)
    with Receiver() as rx:
        page.goto(url + "/admin/webhooks")
        expect(page.locator("h1")).to_have_text("Webhook")
        page.get_by_role("button", name="+ Webhook baru").click()
        form = page.locator("form.a-form").first
        form.locator("#f-url").fill("http://169.254.169.254/latest/meta-data/")
        form.get_by_role("button", name="Simpan").click()
        expect(form.locator("p.a-error")).to_contain_text("tidak boleh menerima webhook")

        form.locator("#f-url").fill(rx.url)
        form.locator('#f-events input[value="ticket.issued"]').check()
        form.get_by_role("button", name="Simpan").click()
        secret_box = page.locator("#wh-secret")
        expect(secret_box).to_be_visible()
        secret = secret_box.input_value()
        assert len(secret) == 64
        row = page.locator(".a-table tbody tr").first
        expect(row).to_contain_text(rx.url)
        expect(row).to_contain_text("Berjalan")
        screenshot(page, "admin-webhooks-secret")
        page.get_by_role("button", name="Selesai").click()
        expect(secret_box).to_have_count(0)

        row.get_by_role("button", name="Kirim uji").click()
        rx.wait_for(lambda b: [x["event"] for x in b] == ["webhook.test"], timeout=10)
        assert verify(secret, rx.received[0])  # the secret on the page signs the deliveries
        deliveries = page.locator("#wh-deliveries")
        expect(deliveries).to_contain_text("Terkirim", timeout=10000)
        expect(deliveries).to_contain_text("webhook.test")
        expect(deliveries.locator("td.num").nth(2)).to_contain_text("200 · ")

        # A second webhook whose receiver has been down for a day: paused (the state a day
        # of failed tries leaves, written directly rather than waited for).
        dead = Receiver()
        s = server.session()
        s.headers["Origin"] = url
        made = s.post(url + "/api/v1/webhooks", json={"url": dead.url, "events": ["ticket.done"]}).json()
        db = sqlite3.connect(server.db_path)
        day_ago = time.time() - 86400
        db.execute("UPDATE webhooks SET paused_ts = ?, failing_since = ?, failures = 150 WHERE id = ?",
                   (time.time(), day_ago, made["id"]))
        db.commit()
        db.close()
        page.reload()
        paused = page.locator("tr.wh-row-paused")
        expect(paused).to_have_count(1)
        expect(paused).to_contain_text("Dijeda")
        expect(paused.locator(".a-bad")).to_have_css("color", "rgb(179, 38, 30)")
        page.locator("tr", has_text=rx.url).get_by_role("button", name="Pengiriman").click()
        expect(page.locator("#wh-deliveries")).to_contain_text("Terkirim")
        screenshot(page, "admin-webhooks")
        paused.get_by_role("button", name="Lanjutkan").click()
        expect(page.locator("tr.wh-row-paused")).to_have_count(0)

        page.goto(url + "/admin/webhooks?lang=en")
        expect(page.get_by_role("button", name="+ New webhook")).to_be_visible()
    assert errors == []
