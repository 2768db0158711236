"""The English copy says what the Indonesian says (issue 18, point 6): the pairs a reading of
every catalog found wrong, and every catalog entry translated."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SURFACES = ("web", "kiosk", "counter", "display", "admin")


def catalog(surface):
    with (ROOT / surface / "translations/id/LC_MESSAGES/messages.po").open("rb") as f:
        return read_po(f)


PAIRS = [
    ("kiosk", "Choose the kind of number", "Pilih jenis antrean"),
    ("display", "Queue number", "Nomor antrean"),
    ("admin", "Not good", "Tidak baik"),
    ("admin", "Not quite good", "Kurang baik"),
    ("admin", "Service quality", "Mutu pelayanan"),
    ("admin", "Latest suggestions and comments", "Saran dan komentar terbaru"),
    ("admin", "System, mechanism and procedure", "Sistem, mekanisme, dan prosedur"),
    ("admin", "Facilities and infrastructure", "Sarana dan prasarana"),
    ("admin", "Handling of complaints, suggestions and feedback", "Penanganan pengaduan, saran dan masukan"),
    ("admin", "Use 24-hour time, for example 08.00.", "Gunakan format 24 jam, misalnya 08.00."),
]


@pytest.mark.parametrize("surface, english, indonesian", PAIRS, ids=[p[1] for p in PAIRS])
def test_english_says_what_the_indonesian_says(surface, english, indonesian):
    assert catalog(surface).get(english).string == indonesian


@pytest.mark.parametrize("old", ["Is this number for you?", "Now calling", "Fair", "Bad"])
def test_the_misleading_english_is_gone(old):
    assert all(catalog(s).get(old) is None for s in SURFACES)


@pytest.mark.parametrize("surface", SURFACES)
def test_every_entry_is_translated(surface):
    missing = [m.id for m in catalog(surface) if m.id and (not m.string or m.fuzzy)]
    assert missing == []
