"""The English copy says what the Indonesian says (issue 18, point 6): the pairs a reading of
every catalog found wrong, and every catalog entry translated."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from admin.messages import SURVEY_MESSAGES
from db.survey import ELEMENTS

ROOT = Path(__file__).resolve().parent.parent
SURFACES = ("web", "kiosk", "counter", "display", "admin")


def catalog(surface):
    with (ROOT / surface / "translations/id/LC_MESSAGES/messages.po").open("rb") as f:
        return read_po(f)


# catalog: the (English, Indonesian) pairs a reading of every catalog found wrong
PAIRS = {
    "kiosk": [("Choose the kind of number", "Pilih jenis antrean")],
    "display": [("Queue number", "Nomor antrean")],
    "admin": [("Not good", "Tidak baik"), ("Not quite good", "Kurang baik"), ("Service quality", "Mutu pelayanan"),
              ("Latest suggestions and comments", "Saran dan komentar terbaru"),
              ("Use 24-hour time, for example 08.00.", "Gunakan format 24 jam, misalnya 08.00.")],
}
CASES = [(surface, english, indonesian) for surface, pairs in PAIRS.items() for english, indonesian in pairs]


@pytest.mark.parametrize("surface, english, indonesian", CASES, ids=[c[1] for c in CASES])
def test_english_says_what_the_indonesian_says(surface, english, indonesian):
    assert catalog(surface).get(english).string == indonesian


@pytest.mark.parametrize("key, indonesian", [(k, i) for k, i, _ in ELEMENTS], ids=[k for k, _, _ in ELEMENTS])
def test_the_survey_names_each_element_as_the_regulation_does(app, key, indonesian):
    # The IKM report names the elements from db/survey.py; the citizen's survey page must agree.
    with app.test_request_context(), force_locale("id"):
        assert str(SURVEY_MESSAGES[f"e{key[1:]}"]) == indonesian


@pytest.mark.parametrize("old", ["Is this number for you?", "Now calling", "Fair", "Bad"])
def test_the_misleading_english_is_gone(old):
    assert all(catalog(s).get(old) is None for s in SURFACES)


@pytest.mark.parametrize("surface", SURFACES)
def test_every_entry_is_translated(surface):
    missing = [m.id for m in catalog(surface) if m.id and (not m.string or m.fuzzy)]
    assert missing == []
