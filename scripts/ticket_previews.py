"""Refresh docs/ticket-preview-58mm.png, -80mm.png and -booking-80mm.png from the ticket layout.

Run after changing printer/layout.py: .venv/bin/python scripts/ticket_previews.py
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from printer import preview  # noqa: E402

for paper_mm in (58, 80):
    path = ROOT / "docs" / f"ticket-preview-{paper_mm}mm.png"
    path.write_bytes(preview.preview_png(preview.demo_info(), paper_mm))
    print(path)

# A booking's ticket: RESERVASI and the slot's time (tests/test_printer_booking.py).
path = ROOT / "docs" / "ticket-preview-booking-80mm.png"
path.write_bytes(preview.preview_png(preview.booking_demo_info(), 80))
print(path)
