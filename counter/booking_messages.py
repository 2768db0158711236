"""Strings of the console's booking marks and the day's bookings (counter/static/bookings.js)."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

BOOKING_MESSAGES = {
    "bk_tag": lazy_pgettext("booking tag", "Booking"),  # a context: one merged catalog
    "bk_mark": _l("Booked {time}"),
    "bk_slot": _l("slot {time}"),
    "bk_title": _l("Bookings today ({n})"),
    "bk_count_due": _l("expected"),
    "bk_count_in": _l("checked in"),
    "bk_count_missed": _l("missed"),
    "bk_empty": _l("No bookings for today."),
    "bk_status_booked": _l("expected"),
    "bk_status_checked_in": _l("checked in"),
    "bk_status_missed": _l("missed"),
    "bk_status_cancelled": _l("cancelled"),
}
