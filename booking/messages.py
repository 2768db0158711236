"""Strings the booking page's and the booking card's JavaScript show (both languages go to the page)."""

from flask_babel import lazy_gettext as _l

# Strings the booking page's JavaScript shows.
BOOKING_MESSAGES = {
    "title": _l("Book a queue from home"),
    "intro": _l("Choose a service, a day and a time. Come to the MPP with your booking card; the kiosk scans it and prints your number."),
    "step_agency": _l("1. Choose the agency"),
    "step_service": _l("2. Choose the service"),
    "step_day": _l("3. Choose the day"),
    "step_slot": _l("4. Choose the time"),
    "step_form": _l("5. Your details"),
    "step_confirm": _l("6. Check and book"),
    "back": _l("Back"),
    "loading": _l("Loading…"),
    "no_services": _l("No service takes online bookings right now."),
    "bring": _l("Bring"),
    "nik_needed": _l("NIK needed"),
    "no_days": _l("No free seats in the coming days. Please try again later."),
    "no_slots": _l("No free seats left on this day. Choose another day."),
    "seats_left_n": _l("{n} seats left"),
    "seats_left_1": _l("1 seat left"),
    "full": _l("Full"),
    "today": _l("Today"),
    "tomorrow": _l("Tomorrow"),
    "updated_live": _l("Seats are updated while this page is open."),
    "name": _l("Full name (as on the KTP)"),
    "phone": _l("WhatsApp number"),
    "phone_help": _l("For example 0812 3456 7890. The reminder comes here."),
    "nik": _l("NIK (16 digits, on the KTP or KK)"),
    "next": _l("Next"),
    "book": _l("Book this time"),
    "booking": _l("Booking…"),
    "confirm_help": _l("Check the details. You can cancel later from the booking card."),
    "service": _l("Service"),
    "agency": _l("Agency"),
    "when": _l("Day and time"),
    "err_name": _l("Write the name of the person who will come."),
    "err_phone": _l("This phone number is not valid. Write an Indonesian mobile number, e.g. 0812 3456 7890."),
    "err_nik": _l("The NIK must be the 16 digits on your KTP or KK."),
    "err_nik_missing": _l("This service needs your NIK (16 digits, on the KTP or KK)."),
    "err_slot_full": _l("Someone else has just taken the last seat at this time. Choose another time below; your details are kept."),
    "err_closed": _l("This time can no longer be booked. Choose another time below; your details are kept."),
    "err_limit": _l("This phone number or NIK already has a booking for this service on that day. Cancel that booking first to book another time."),
    "err_too_many": _l("Too many attempts from this connection. Please wait a minute and try again."),
    "other_slots": _l("Next free times"),
}

CARD_MESSAGES = {
    "cancel_confirm": _l("Cancel this booking? Your seat will be released."),
    "cancelling": _l("Cancelling…"),
    "cancel_failed": _l("The booking could not be cancelled."),
}
