"""The kiosk touchscreen and the citizen's tracking page (with its QR code)."""

import io

import qrcode
import qrcode.image.svg
from flask import Response, current_app
from flask_babel import lazy_gettext as _l

import settings
from db import accounts
from db.errors import NotFound
from kiosk.api import tracking_view
from kiosk.checkin import CHECKIN_MESSAGES, checkin_config
from web.database import get_db
from web.events import tracking_url
from web.i18n import pages_blueprint, render_page

bp = pages_blueprint("kiosk", __name__)

# Strings the kiosk's JavaScript shows (both languages go to the page).
KIOSK_MESSAGES = {
    "welcome": _l("Take a queue number"),
    "choose_agency": _l("Touch the agency you need"),
    "choose_service": _l("Touch the service you need"),
    "choose_kind": _l("Choose the kind of number"),
    "back": _l("Back"),
    "start_over": _l("Start over"),
    "take_normal": _l("Take a number"),
    "take_normal_help": _l("For everyone"),
    "priority_title": _l("Priority number"),
    "priority_help": _l("Called before others. Choose the one that applies:"),
    "prio_lansia": _l("Older person (60+)"),
    "prio_disabilitas": _l("Person with a disability"),
    "prio_ibu_hamil": _l("Pregnant woman"),
    "prio_balita": _l("Parent with a small child"),
    "your_number": _l("Your queue number"),
    "priority_ticket": _l("Priority"),
    "done": _l("Done"),
    "pair_title": _l("This kiosk is not paired yet"),
    "pair_help": _l("Technician: open the kiosk link from the admin pages (Devices) on this screen, or paste the kiosk's pairing code below."),
    "pair_code": _l("Pairing code"),
    "pair_button": _l("Pair this kiosk"),
    "services_open": _l("{n} of {m} services open"),
    "agency_closed": _l("Closed"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "waiting": _l("Waiting"),
    "estimate": _l("Estimated wait"),
    "quota_left": _l("Numbers left today"),
    "no_quota": _l("no limit"),
    "requirements": _l("Bring"),
    "reason_inactive": _l("This service is not available."),
    "reason_holiday": _l("Closed today for a holiday."),
    "reason_not_today": _l("Not served today."),
    "reason_before_hours": _l("Opens at {opens}."),
    "reason_before_hours_unknown": _l("Not open yet."),
    "reason_after_hours": _l("Closed for today. Please come back tomorrow."),
    "reason_quota_exhausted": _l("Today's numbers have all been taken. Please come back tomorrow."),
    "no_counter_open": _l("No counter is open yet; you can still take a number."),
    "reason_no_counter": _l("No counter serves this service yet, so no number can be taken. "
                            "Please ask at the information desk."),
    "open_hours": _l("Open {hours}"),
    "others_1": _l("1 person from another service is served at the same counters first."),
    "others_n": _l("{n} people from other services are served at the same counters first."),
    "counter_busy_now": _l("The counters are still serving other citizens."),
    "write_down": _l("Write down or photograph this number"),
    "or_open": _l("or open on your phone:"),
    "reach_button": _l("Wheelchair: buttons lower"),
    "reach_note": _l("All buttons are now in the lower half of the screen."),
    "counter_group": _l("Counter {list}"),
    "people_ahead": _l("People ahead of you"),
    "printing": _l("Printing your ticket…"),
    "printed": _l("Printed. Please take your ticket below."),
    "print_failed": _l("The printer could not print this ticket. Photograph this screen or scan the QR code to follow your number on your phone."),
    "print_none": _l("Scan the QR code to follow your number on your phone."),
    "printer_down": _l("The ticket printer is not working right now. Your number will be shown on this screen; scan its QR code to follow it on your phone."),
    "issuing": _l("Taking your number…"),
    "tap_offline": _l("This kiosk has lost its connection to the server, so no number was taken. Please wait a moment and tap again."),
    "issue_closed": _l("This service has just closed. No number was taken."),
    "issue_quota": _l("Today's numbers have just run out. No number was taken."),
    "pair_bad_token": _l("That pairing code was not accepted. Ask the administrator for a new one."),
    "returning": _l("Back to the start in {n} s"),
    "loading": _l("Loading…"),
    "no_services": _l("No services are available at this kiosk."),
}

# Strings the tracking page's JavaScript shows.
TRACK_MESSAGES = {
    "your_number": _l("Your queue number"),
    "place": _l("Your place in line"),
    "estimate": _l("Estimated wait"),
    "sound_on": _l("Turn on sound for the call"),
    "sound_is_on": _l("Sound on"),
    "keep_open": _l("Keep this page open; it updates by itself and tells you when you are called."),
    "not_found": _l("Ticket not found. Check the QR code on your ticket."),
    "status_waiting": _l("Waiting"),
    "status_called": _l("Called"),
    "status_serving": _l("Being served"),
    "status_done": _l("Finished"),
    "status_no_show": _l("Missed (not present when called)"),
    "status_cancelled": _l("Cancelled"),
    "status_expired": _l("Expired (from an earlier day)"),
    "go_to": _l("Please go to {counter} now"),
    "at_counter": _l("At {counter}"),
    "counter_name": _l("Counter {n}"),
    "you_are_next": _l("You are next"),
    "first_in_service": _l("First in this service's line"),
    "ahead_n": _l("{n} people ahead of you"),
    "ahead_1": _l("1 person ahead of you"),
    "updated": _l("Updated {time}"),
    "survey": _l("How was our service? Fill in the short survey"),
    "no_show_help": _l("If you are still here, go to the information desk."),
    "others_1": _l("1 person from another service is served at the same counters first."),
    "others_n": _l("{n} people from other services are served at the same counters first."),
    "counter_busy_now": _l("The counters are still serving other citizens."),
}


def _idle_seconds(name):
    """Idle times, overridable per installation (MPP_KIOSK_IDLE_S, MPP_KIOSK_TICKET_S)."""
    return settings.number(name, current_app.config, low=5, high=600, cast=int)


@bp.get("/kiosk")
def kiosk():
    """The touchscreen; pairs itself from `?token=` (then kept in the browser), never from here."""
    name = accounts.mpp_name(get_db())
    return render_page("kiosk/kiosk.html", page_messages={**KIOSK_MESSAGES, **CHECKIN_MESSAGES},
                       config={"idle_s": _idle_seconds("KIOSK_IDLE_S"),
                               "ticket_s": _idle_seconds("KIOSK_TICKET_S"),
                               **checkin_config()},
                       mpp_name=name)


@bp.get("/t/<code>")
def track(code):
    """The citizen's page for one ticket (from the QR code)."""
    try:
        view = tracking_view(get_db(), code)
    except NotFound:
        return render_page("kiosk/track_missing.html"), 404
    return render_page("kiosk/track.html", page_messages=TRACK_MESSAGES,
                       config={"code": view["ticket"]["code"], "view": view}, view=view)


@bp.get("/t/<code>/qr.svg")
def track_qr(code):
    """The QR code of a ticket's tracking page, as SVG (the kiosk shows it)."""
    try:
        view = tracking_view(get_db(), code)
    except NotFound:
        return Response("not found", status=404, mimetype="text/plain")
    image = qrcode.make(tracking_url(view["ticket"]["code"]),
                        image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})
