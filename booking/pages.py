"""The citizen's booking pages: `/booking` (agency, service, day, slot, details) and
the booking card `/b/<code>` with its QR code, PNG image and calendar file."""

import io
from datetime import datetime, timezone

import qrcode
import qrcode.image.svg
from babel.dates import format_date
from flask import Response, abort
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking import card as card_image
from booking.messages import BOOKING_MESSAGES, CARD_MESSAGES
from db import accounts, bookings, catalog, queue
from db.errors import NotFound
from web.database import clock, get_db
from web.events import present_booking, tracking_url
from web.i18n import pages_blueprint, render_page

bp = pages_blueprint("booking", __name__)


STATES = {
    "booked": _l("Booked"),
    "checked_in": _l("Checked in"),
    "cancelled": _l("Cancelled"),
    "missed": _l("Missed (not checked in in time)"),
}


def _hm(dt, lang):
    return dt.strftime("%H.%M" if lang == "id" else "%H:%M")


def card_view(conn, code):
    """Everything the booking card shows, in the page's language; 404 for an unknown code."""
    c = clock()
    booking = present_booking(bookings.get_booking(conn, c, code[:40]))
    service = catalog.get_service(conn, booking["service_id"])
    agency = catalog.get_agency(conn, service["agency_id"])
    lang = str(get_locale())
    start, end = datetime.fromisoformat(booking["start"]), datetime.fromisoformat(booking["end"])
    early, late = datetime.fromisoformat(booking["check_in_from"]), datetime.fromisoformat(booking["check_in_until"])
    zone = c.zone_abbr
    ticket_url = None
    if booking["status"] == "checked_in" and booking["ticket_id"]:
        ticket = queue.get_ticket(conn, c, booking["ticket_id"])
        ticket_url = tracking_url(ticket["code"])
    return {
        "booking": booking,
        "code": booking["code"],
        "code_spaced": booking["code"][:4] + " " + booking["code"][4:],
        "service_name": service["name"],
        "agency_name": agency["name"],
        "requirements": service["requirements"] or "",
        "mpp_name": accounts.mpp_name(conn),
        "mpp_address": accounts.get_setting(conn, "mpp_address", "") or "",
        "day": format_date(start.date(), "EEEE, d MMMM y", locale=lang),
        "time": f"{_hm(start, lang)}–{_hm(end, lang)} {zone}".strip(),
        "window": _("Scan this card at the kiosk between {early} and {late} on that day.").format(
            early=_hm(early, lang), late=_hm(late, lang)),
        "state": str(STATES.get(booking["status"], booking["status"])),
        "ticket_url": ticket_url,
        "start_utc": start.astimezone(timezone.utc), "end_utc": end.astimezone(timezone.utc),
    }


@bp.get("/booking")
def booking():
    """The booking page: one screen a step, for a phone."""
    name = accounts.mpp_name(get_db())
    return render_page("booking/booking.html", page_messages=BOOKING_MESSAGES,
                       config={"today": clock().service_day()}, mpp_name=name)


@bp.get("/b/<code>")
def card(code):
    """One booking's card: its QR code for the kiosk, its state, cancel, save."""
    try:
        view = card_view(get_db(), code)
    except NotFound:
        return render_page("booking/card_missing.html"), 404
    return render_page("booking/card.html", page_messages=CARD_MESSAGES,
                       config={"code": view["code"], "status": view["booking"]["status"]}, view=view)


def _card_or_404(code):
    """The card's view, or a plain-text 404 for an image or file that has no page."""
    try:
        return card_view(get_db(), code)
    except NotFound:
        abort(Response("not found", status=404, mimetype="text/plain"))


def _qr_image(url, factory=None):
    return qrcode.make(url, image_factory=factory, border=2,
                       error_correction=qrcode.constants.ERROR_CORRECT_M)


@bp.get("/b/<code>/qr.svg")
def qr(code):
    """The card's QR code (its link: the kiosk's scanner reads the code from it, a phone opens it)."""
    try:
        booking = present_booking(bookings.get_booking(get_db(), clock(), code[:40]))
    except NotFound:
        return Response("not found", status=404, mimetype="text/plain")
    out = io.BytesIO()
    _qr_image(booking["booking_url"], qrcode.image.svg.SvgPathImage).save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})


@bp.get("/b/<code>/card.png")
def card_png(code):
    """The booking card as an image, to keep in the phone's gallery."""
    view = _card_or_404(code)
    png = card_image.render(view, _qr_image(view["booking"]["booking_url"]).get_image(),
                            labels={"code": _("Booking code"), "when": _("Day and time"),
                                    "bring": _("Bring"), "state": view["state"]})
    return Response(png, mimetype="image/png", headers={
        "Content-Disposition": f'attachment; filename="booking-{view["code"]}.png"',
        "Cache-Control": "no-store"})


def _ics_text(text):
    return (str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line):
    """RFC 5545: lines of at most 75 octets, continued with a space."""
    raw = line.encode("utf-8")
    parts = []
    while len(raw) > 75:
        cut = 75 if not parts else 74
        while cut > 0 and (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        parts.append(raw[:cut].decode("utf-8"))
        raw = raw[cut:]
    parts.append(raw.decode("utf-8"))
    return "\r\n ".join(parts)


@bp.get("/b/<code>/booking.ics")
def ics(code):
    """The booking as a calendar event, with a reminder an hour before."""
    view = _card_or_404(code)
    fmt = "%Y%m%dT%H%M%SZ"
    where = ", ".join(x for x in (view["mpp_name"], view["mpp_address"]) if x)
    description = "\n".join(x for x in (
        f"{_('Booking code')}: {view['code']}", view["window"],
        f"{_('Bring')}: {view['requirements']}" if view["requirements"] else "",
        view["booking"]["booking_url"]) if x)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Giliran//Booking//ID", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:{view['code']}@giliran",
        f"DTSTAMP:{datetime.now(timezone.utc).strftime(fmt)}",
        f"DTSTART:{view['start_utc'].strftime(fmt)}",
        f"DTEND:{view['end_utc'].strftime(fmt)}",
        f"SUMMARY:{_ics_text(view['service_name'] + ' — ' + view['agency_name'])}",
        f"LOCATION:{_ics_text(where)}",
        f"DESCRIPTION:{_ics_text(description)}",
        f"URL:{view['booking']['booking_url']}",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT60M",
        f"DESCRIPTION:{_ics_text(view['service_name'])}", "END:VALARM",
        "END:VEVENT", "END:VCALENDAR",
    ]
    body = "\r\n".join(_fold(line) for line in lines) + "\r\n"
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="booking-{view["code"]}.ics"',
        "Cache-Control": "no-store"})
