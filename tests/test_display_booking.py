"""The lobby display (1920x1080): a called booking's ticket is shown like any other, with a small
"Reservasi" tag (now and in the last calls); nothing of who booked reaches the TV."""

import pytest

from booking_helpers import at, book, check_in, enable, start_server
from conftest import screenshot
from test_display_browser import call_next, issue, open_display

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_a_called_booking_is_tagged_on_the_display(tmp_path, page_at):
    srv = start_server(tmp_path)
    try:
        enable(srv, "A", check_in_late_minutes=60)
        admin = srv.admin
        assert admin.post(srv.url + "/api/v1/counters/1/open").ok
        issue(srv, admin, 1, service_id=srv.services["A"]["id"])
        booked = check_in(srv, book(srv, "A", at(9, 30), name="Rahmat Hidayat")).json()["number"]
        page = open_display(page_at, srv)
        assert call_next(srv, admin) == booked  # its slot has started: before the walk-in
        page.wait_for_function(f"() => document.getElementById('now-number').textContent === '{booked}'")
        assert page.is_visible("#now-booking") and page.inner_text("#now-booking").upper() == "RESERVASI"
        assert "Rahmat" not in page.content()
        screenshot(page, "display-booking")
        walk_in = call_next(srv, admin)
        page.wait_for_function(f"() => document.getElementById('now-number').textContent === '{walk_in}'")
        assert page.is_hidden("#now-booking")
        recent = page.locator("#recent li").first
        assert recent.locator(".recent-number").inner_text().upper().startswith(booked)
        assert recent.locator(".booking-tag").count() == 1
        # A display opened afterwards gets the mark from the snapshot too.
        again = open_display(page_at, srv)
        again.wait_for_function(f"() => document.getElementById('now-number').textContent === '{walk_in}'")
        assert again.locator("#recent li .booking-tag").count() == 1
    finally:
        srv.stop()
