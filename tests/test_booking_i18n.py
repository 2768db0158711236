"""Every string of the booking surfaces (kiosk check-in, console, admin) has its Indonesian."""

import pytest
from flask_babel import force_locale

from admin.booking_messages import BOOKING_ADMIN_MESSAGES
from counter.booking_messages import BOOKING_MESSAGES
from kiosk.checkin import CHECKIN_MESSAGES

# The same word in both languages.
SAME = {"NIK"}
CATALOGS = {"kiosk": CHECKIN_MESSAGES, "counter": BOOKING_MESSAGES, "admin": BOOKING_ADMIN_MESSAGES}


@pytest.mark.parametrize("surface", list(CATALOGS), ids=list(CATALOGS))
def test_every_booking_string_is_translated(app, surface):
    missing = []
    with app.test_request_context():
        for key, text in CATALOGS[surface].items():
            with force_locale("id"):
                indonesian = str(text)
            with force_locale("en"):
                english = str(text)
            if indonesian == english and english not in SAME:
                missing.append(key)
            # Placeholders survive the translation.
            for part in english.split("{")[1:]:
                assert "{" + part.split("}")[0] + "}" in indonesian, (key, indonesian)
    assert not missing
