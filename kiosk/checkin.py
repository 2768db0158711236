"""The kiosk's booking check-in: its strings and settings (kiosk/static/checkin.js).

A citizen with a booking scans its QR code (a USB scanner types the code and
Enter like a keyboard) or types the code on the on-screen keypad; the kiosk
checks it in and prints the ticket. Every refusal is said in both languages.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

import settings

CHECKIN_MESSAGES = {
    "has_booking": _l("I have a booking"),
    "has_booking_help": _l("Scan the QR code of your booking, or type its code"),
    "checkin_title": _l("Check in your booking"),
    "checkin_scan": _l("Hold the QR code of your booking under the scanner,"),
    "checkin_type": _l("or type the 8-character code of your booking:"),
    "checkin_button": _l("Check in"),
    "key_delete": _l("Delete"),
    "checking_in": _l("Checking in your booking…"),
    # "Booking" alone means other things on other pages (one merged catalog): a context.
    "booking_mark": lazy_pgettext("booking tag", "Booking"),
    "booking_slot": _l("Your booking: {time}"),
    "r_not_today_title": _l("This booking is not for today"),
    "r_not_today": _l("Your booking is for {date} at {time}. Please come back on that day."),
    "r_not_today_nodate": _l("Please come back on the day of your booking."),
    "r_not_today_past": _l("Your booking was for {date} at {time}. Please take a normal number."),
    "r_too_early_title": _l("You are early"),
    "r_too_early": _l("Check-in for your booking at {time} opens at {opens}. Please come back at {opens}."),
    "r_too_early_notime": _l("Check-in for your booking has not opened yet. Please come back a little before your time."),
    "r_too_late_title": _l("The check-in time has passed"),
    "r_too_late": _l("Your booking was at {time}. Please take a normal number; it is called in the order of arrival."),
    "r_too_late_notime": _l("Please take a normal number; it is called in the order of arrival."),
    "r_cancelled_title": _l("This booking was cancelled"),
    "r_cancelled": _l("A cancelled booking cannot be checked in. You can take a normal number."),
    "r_already_title": _l("This booking is already checked in"),
    "r_already": _l("Its number was issued at {time}. If you lost the ticket, please ask at the information desk."),
    "r_already_notime": _l("Its number has already been issued. If you lost the ticket, please ask at the information desk."),
    "r_unknown_title": _l("Booking code not found"),
    "r_unknown": _l("Check the 8 characters of the code and try again, or take a normal number."),
    "r_unreadable": _l("The scanner could not read a booking code. Scan again, or type the code."),
    "r_limited_title": _l("Too many tries"),
    "r_limited": _l("Please wait a minute before trying again, or ask at the information desk."),
    "r_offline_title": _l("No connection"),
    "r_offline": _l("This kiosk has lost its connection to the server; nothing was checked in. Please wait a moment and try again."),
    "r_closed_title": _l("This service is closed today"),
    "r_closed": _l("No numbers are issued for it today. Please ask at the information desk."),
    "r_other_title": _l("This booking cannot be checked in here"),
    "r_other": _l("Please ask at the information desk."),
    "btn_normal": _l("Take a normal number"),
    "btn_try_again": _l("Try again"),
    "btn_start": _l("Back to the start"),
}



def checkin_config():
    """What checkin.js needs: the code's alphabet and length, and the scanner's pace."""
    from db import bookings

    gap = settings.number("KIOSK_SCAN_GAP_MS", current_app.config, low=10, high=1000, cast=int)
    return {"booking_alphabet": bookings.CODE_ALPHABET, "booking_code_length": bookings.CODE_LENGTH,
            "scan_gap_ms": gap}
