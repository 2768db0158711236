"""A booking's printed ticket: RESERVASI in reverse print and the slot's time (printer/layout.py)."""

import datetime
import zoneinfo

import pytest

from printer import layout, preview

PAPERS = [58, 80]


def demo(**changes):
    info = preview.demo_info()
    info.update({"priority": None, **changes})
    return info


def texts(data, paper_mm):
    _, items = preview.render(data, paper_mm)
    return [item for item in items if item["kind"] == "text"]


@pytest.mark.parametrize("tz, zone", [("Asia/Jakarta", "WIB"), ("Asia/Makassar", "WITA"),
                                      ("Asia/Jayapura", "WIT")])
@pytest.mark.parametrize("paper_mm", PAPERS)
def test_booking_ticket_is_marked_with_its_slot(paper_mm, tz, zone):
    start = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=zoneinfo.ZoneInfo(tz))
    items = texts(layout.ticket_bytes(demo(booking_start=start.isoformat()), paper_mm), paper_mm)
    mark = [item for item in items if item["text"].strip() == "RESERVASI"]
    assert mark and mark[0]["invert"], [item["text"] for item in items]
    slot = [item for item in items if item["text"] == f"Jadwal 09:30 {zone}"]
    assert slot and slot[0]["height"] == 2 and not slot[0]["overflow"]
    # The number stays the largest thing on the ticket, above the mark.
    number = next(item for item in items if item["text"] == "A001")
    assert number["box"][1] < mark[0]["box"][1]
    assert not [item["text"] for item in items if item["overflow"]]


def test_walk_in_ticket_has_no_booking_mark():
    data = layout.ticket_bytes(demo(), 80)
    assert b"RESERVASI" not in data and b"Jadwal" not in data


def test_priority_booking_keeps_both_marks():
    start = "2026-11-24T10:00:00+07:00"
    text = [item["text"].strip() for item in texts(layout.ticket_bytes(
        demo(priority="lansia", booking_start=start), 80), 80)]
    assert "PRIORITAS" in text and "RESERVASI" in text and "Jadwal 10:00 WIB" in text


@pytest.mark.server
def test_checked_in_booking_prints_its_mark_on_the_kiosks_printer(tmp_path):
    """Through the real server and spool to a fake network printer: the bytes carry the mark."""
    import time

    import requests

    from booking_helpers import at, book, enable, start_server
    from fakeprinter import FakeNetworkPrinter

    srv = start_server(tmp_path)
    try:
        url = srv.url + "/api/v1"
        enable(srv, "A", check_in_late_minutes=120)
        with FakeNetworkPrinter(lifetime=60) as fake:
            printer = srv.admin.post(url + "/printers", json={"name": "Printer Lobi", "transport": "network",
                                                              **fake.config}).json()
            kiosk_id = next(d["id"] for d in srv.admin.get(url + "/devices").json() if d["kind"] == "kiosk")
            assert srv.admin.patch(url + f"/devices/{kiosk_id}", json={"printer_id": printer["id"]}).ok
            code = book(srv, "A", at(9, 30))
            r = requests.post(f"{url}/bookings/{code}/check-in", timeout=10,
                              headers={"Authorization": f"Bearer {srv.tokens['kiosk']}",
                                       "Idempotency-Key": "scan-1"})
            assert r.status_code == 201 and r.json()["print_status"] == "pending"
            ticket = r.json()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not fake.received.rstrip(b"\x00\x01").endswith(b"\x1dV"):
                time.sleep(0.02)
            data = fake.received
            assert ticket["number"].encode() in data
            assert b" RESERVASI " in data and b"Jadwal 09:30 WIB" in data
            items = texts(data, 80)
            mark = [item for item in items if item["text"].strip() == "RESERVASI"]
            assert mark and mark[0]["invert"]
            # A retried tap (same key) answers the same ticket and prints nothing more.
            again = requests.post(f"{url}/bookings/{code}/check-in", timeout=10,
                                  headers={"Authorization": f"Bearer {srv.tokens['kiosk']}",
                                           "Idempotency-Key": "scan-1"})
            assert again.status_code == 201 and again.json()["id"] == ticket["id"]
            time.sleep(1)
            assert len(fake.jobs()) == 1
    finally:
        srv.stop()


def test_booking_ticket_preview_is_committed_in_docs():
    import io
    from pathlib import Path

    from PIL import Image

    fresh = Image.open(io.BytesIO(preview.preview_png(preview.booking_demo_info(), 80)))
    committed = Image.open(Path(__file__).resolve().parent.parent / "docs" / "ticket-preview-booking-80mm.png")
    # The docs show what the layout prints today (refresh: scripts/ticket_previews.py).
    assert committed.size == fresh.size
    assert committed.convert("L").tobytes() == fresh.convert("L").tobytes()
