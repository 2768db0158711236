"""Print preview: the admin's PNG of a real ticket and of the sample ticket; the
committed previews in docs/ are made from the same bytes the printer gets."""

import io
from pathlib import Path

import pytest
from PIL import Image

from conftest import login
from printer import preview

DOCS = Path(__file__).resolve().parent.parent / "docs"


def kiosk_headers(api):
    return {"Authorization": f"Bearer {api.people.kiosk_token}"}


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_demo_ticket_preview_is_committed_in_docs(paper_mm):
    fresh = Image.open(io.BytesIO(preview.preview_png(preview.demo_info(), paper_mm)))
    committed = Image.open(DOCS / f"ticket-preview-{paper_mm}mm.png")
    assert fresh.width == paper_mm * preview.DOTS_PER_MM and fresh.height > 600
    # The docs show what the layout prints today (refresh: scripts/ticket_previews.py).
    assert committed.size == fresh.size
    assert committed.convert("L").tobytes() == fresh.convert("L").tobytes()


def test_staff_preview_of_an_issued_ticket(api):
    ticket = api.app.test_client().post("/api/v1/tickets", json={"service_id": api.ktp},
                                        headers=kiosk_headers(api)).json
    admin = login(api.app, "admin")
    r = admin.get(f"/api/v1/tickets/{ticket['code']}/preview.png?paper_mm=58")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert Image.open(io.BytesIO(r.data)).width == 58 * preview.DOTS_PER_MM
    other = login(api.app, "other")  # an officer of another agency
    assert other.get(f"/api/v1/tickets/{ticket['code']}/preview.png").status_code == 403
    assert api.app.test_client().get(f"/api/v1/tickets/{ticket['code']}/preview.png").status_code == 401
    assert admin.get("/api/v1/tickets/nope/preview.png").status_code == 404
    assert admin.get(f"/api/v1/tickets/{ticket['code']}/preview.png?paper_mm=76").status_code == 400


def test_sample_preview_uses_the_mpp_name_and_footer(api):
    admin = login(api.app, "admin")
    r = admin.put("/api/v1/settings/printing", json={"ticket_footer": "Layanan gratis, tanpa pungutan"})
    assert r.status_code == 200 and r.json["ticket_footer"] == "Layanan gratis, tanpa pungutan"
    assert admin.put("/api/v1/settings/printing", json={"max_attempts": 0}).status_code == 400
    png = admin.get("/api/v1/print-preview.png?paper_mm=80")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    officer = login(api.app, "officer")
    assert officer.put("/api/v1/settings/printing", json={"ticket_footer": "x"}).status_code == 403
    assert officer.get("/api/v1/settings/printing").json["ticket_footer"].startswith("Layanan")


def test_reprint_and_test_page_rules(api):
    admin = login(api.app, "admin")
    plain = admin.post("/api/v1/tickets", json={"service_id": api.ktp}).json
    r = admin.post(f"/api/v1/tickets/{plain['id']}/reprint", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "no_printer"
    printer = admin.post("/api/v1/printers", json={"name": "Meja", "transport": "file",
                                                   "path": "/tmp/giliran-test.bin"}).json
    r = admin.post(f"/api/v1/tickets/{plain['id']}/reprint", json={"printer_id": printer["id"]})
    assert r.status_code == 202 and r.json["status"] == "pending"
    other = login(api.app, "other")
    assert other.post(f"/api/v1/tickets/{plain['id']}/reprint", json={}).status_code == 403
    assert other.post(f"/api/v1/printers/{printer['id']}/test").status_code == 403
    assert admin.post("/api/v1/printers/999/test").status_code == 404
    assert admin.post(f"/api/v1/printers/{printer['id']}/test").status_code == 202
    jobs = admin.get(f"/api/v1/print-jobs?ticket_id={plain['id']}").json
    assert [j["printer_id"] for j in jobs] == [printer["id"]]
