"""The booking API of shared/API.md "Bookings": settings, slots, booking, cancel, check-in.

Thin routes: who is asking and what they sent, one call to db/bookings.py or
db/checkin.py, and the events after the commit through web/events.publish.
"""

from functools import wraps

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Integer, String
from apiflask.validators import Length, Range
from flask import current_app, request

from db import accounts, bookings, catalog, checkin
from db.errors import NotFound
from web.auth import Forbidden, agency_scope, current_actor, idempotency_key, require_agency, route
from web.limits import TooMany, client_address, count, over, retry_after
from web.database import clock, get_db
from web.events import present_booking, present_ticket, publish
from web.schemas import In, TicketOut

bp = APIBlueprint("booking_api", __name__, url_prefix="/api/v1", tag="Bookings")

# Codes cannot be enumerated: an address that asks for too many codes that do not
# exist is refused for a while (web/limits.py). Only misses count, so a citizen
# looking at their own booking again and again is never refused; kiosks and
# staff (authenticated) are not counted.
LOOKUP_MISSES = "20 per 10 minutes"


class TooManyLookups(TooMany):
    code = "too_many_lookups"
    message = "Too many booking codes that do not exist were tried; wait a few minutes."


def guarded_lookup(view):
    """Count an anonymous caller's unknown codes; refuse them with 429 past LOOKUP_MISSES."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_actor().kind is not None:
            return view(*args, **kwargs)
        limit = current_app.config.get("BOOKING_LOOKUP_MISSES") or LOOKUP_MISSES
        address = client_address()
        if over(limit, "booking-miss", address):
            raise TooManyLookups(retry_after(limit, "booking-miss", address))
        try:
            return view(*args, **kwargs)
        except NotFound as exc:
            if exc.code == "booking_not_found":
                count(limit, "booking-miss", address)
            raise

    return wrapper



def _limited(limits, name, description):
    """An optional whole number within its rule's limits (db/bookings.py)."""
    return Integer(strict=True, load_default=None, allow_none=True, validate=Range(*limits[name]),
                   metadata={"description": description})


class BookingSettingsIn(In):
    enabled = Boolean(required=True)
    slot_minutes = _limited(bookings.LIMITS, "slot_minutes", "Length of a slot (default 30)")
    seats_per_slot = _limited(bookings.LIMITS, "seats_per_slot", "Seats in each slot (default 2)")
    days_ahead = _limited(bookings.LIMITS, "days_ahead",
                          "How many days ahead a slot can be booked (default 14)")
    check_in_early_minutes = _limited(bookings.LIMITS, "check_in_early_minutes",
                                      "Check-in opens this long before the slot (default 30)")
    check_in_late_minutes = _limited(bookings.LIMITS, "check_in_late_minutes",
                                     "Check-in closes this long after the slot starts (default 15)")
    nik_required = Boolean(load_default=None, allow_none=True,
                           metadata={"description": "Bookings must give a NIK (default false)"})


class BookingSettingsOut(Schema):
    service_id = Integer()
    enabled = Boolean()
    slot_minutes = Integer()
    seats_per_slot = Integer()
    days_ahead = Integer()
    check_in_early_minutes = Integer()
    check_in_late_minutes = Integer()
    nik_required = Boolean()


class MppBookingSettings(In):
    release_delay_minutes = _limited(bookings.MPP_LIMITS, "release_delay_minutes",
                                     "A cancelled seat is offered again after this long (default 15)")
    purge_after_days = _limited(bookings.MPP_LIMITS, "purge_after_days",
                                "Name, phone and NIK digits are dropped this long after the slot (default 30)")


class SlotsQuery(In):
    date = String(required=True, validate=Length(min=1, max=20), metadata={"example": "2026-11-24"})


class SlotOut(Schema):
    start = String(metadata={"format": "date-time"})
    end = String(metadata={"format": "date-time"})
    seats = Integer()
    left = Integer()
    open = Boolean(metadata={"description": "Whether it can still be booked (it has not begun)"})


class BookingIn(In):
    service_id = Integer(strict=True, required=True, validate=Range(min=1, max=2**62))
    start = String(required=True, validate=Length(min=1, max=40),
                   metadata={"format": "date-time", "description": "A slot's `start`"})
    name = String(required=True, validate=Length(max=200))
    phone = String(required=True, validate=Length(max=40),
                   metadata={"example": "0812-3456-7890", "description": "An Indonesian mobile number"})
    nik = String(load_default=None, allow_none=True, validate=Length(max=40),
                 metadata={"description": "16 digits; required where the service says so"})


class BookingOut(Schema):
    code = String(metadata={"description": "8 characters, no look-alikes (no 0/O, 1/I/L)"})
    service_id = Integer()
    start = String(metadata={"format": "date-time"})
    end = String(metadata={"format": "date-time"})
    status = String(metadata={"enum": list(bookings.STATUSES)})
    ticket_id = Integer(allow_none=True)
    booking_url = String()
    service_day = String()
    name = String(allow_none=True)
    phone = String(allow_none=True, metadata={"description": "Masked, e.g. 0812****5678"})
    nik = String(allow_none=True, metadata={"description": "Masked: the last 4 digits only"})
    check_in_from = String(metadata={"format": "date-time"})
    check_in_until = String(metadata={"format": "date-time"})
    created_at = String(metadata={"format": "date-time"})
    cancelled_at = String(allow_none=True)
    checked_in_at = String(allow_none=True)


class StaffBookingOut(BookingOut):
    ticket_number = String(allow_none=True)


class BookingsQuery(In):
    date = String(load_default=None, validate=Length(max=20),
                  metadata={"description": "YYYY-MM-DD; today if left out"})
    service_id = Integer(load_default=None, validate=Range(min=1, max=2**62),
                         metadata={"description": "One service; every service of your agency if left out"})


class BookableServiceOut(Schema):
    id = Integer()
    agency_id = Integer()
    agency_name = String()
    prefix = String()
    name = String()
    requirements = String()
    slot_minutes = Integer()
    days_ahead = Integer()
    nik_required = Boolean()


# -- settings (admin) ------------------------------------------------------------


@route(bp, "PUT", "/services/<id:service_id>/booking", who="admin", body=BookingSettingsIn,
       out=BookingSettingsOut, summary="Switch booking on or off for a service and set its slots",
       description="Values left out keep their current setting (at first: 30-minute slots, "
                   "2 seats, 14 days ahead, check-in from 30 minutes before to 15 after).",
       errors={404: "Unknown service"})
def put_settings(service_id, body):
    return bookings.put_settings(get_db(), service_id, body, actor_id=current_actor().user_id)


@route(bp, "GET", "/services/<id:service_id>/booking", who="staff", out=BookingSettingsOut,
       summary="A service's booking settings", errors={404: "Unknown service"})
def get_settings(service_id):
    catalog.get_service(get_db(), service_id)
    return bookings.get_settings(get_db(), service_id)


@route(bp, "GET", "/booking-settings", who="staff", out=MppBookingSettings,
       summary="The MPP-wide booking rules")
def get_mpp_settings():
    return bookings.mpp_settings(get_db())


@route(bp, "PUT", "/booking-settings", who="admin", body=MppBookingSettings, out=MppBookingSettings,
       summary="Change the MPP-wide booking rules (release delay, keeping of personal data)")
def put_mpp_settings(body):
    return bookings.put_mpp_settings(get_db(), body, actor_id=current_actor().user_id)


# -- the citizen's side (anyone) ---------------------------------------------------


@route(bp, "GET", "/booking/services", who="anyone", out=BookableServiceOut(many=True),
       summary="The services that take bookings, with their agency")
def bookable_services():
    return bookings.bookable_services(get_db())


@route(bp, "GET", "/services/<id:service_id>/slots", who="anyone", query=SlotsQuery,
       out=SlotOut(many=True), summary="A service's slots on a day, with the seats left",
       description="`[]` on a day the service is closed (a holiday, a closed weekday).",
       errors={400: "A day before today or past days_ahead",
               404: "Unknown service, or it takes no bookings"})
def list_slots(service_id, query):
    return bookings.list_slots(get_db(), clock(), service_id, query["date"])


@route(bp, "POST", "/bookings", who="anyone", body=BookingIn, out=BookingOut, status=201,
       summary="Book a seat of a slot",
       errors={400: "A bad name, phone or NIK (a sentence in `fields`)", 404: "Unknown service",
               409: "slot_full, booking_limit or booking_closed"})
def create_booking(body):
    conn = get_db()
    change = bookings.book(conn, clock(), body["service_id"], body["start"], body["name"],
                           body["phone"], nik=body["nik"], secret=current_app.config["SECRET_KEY"])
    publish(conn, change)
    return present_booking(change.booking)


@route(bp, "GET", "/bookings/<string:code>", who="anyone", out=BookingOut,
       summary="One booking, for whoever holds its code",
       errors={404: "No booking with that code", 429: "Too many unknown codes from this address"})
@guarded_lookup
def get_booking(code):
    return present_booking(bookings.get_booking(get_db(), clock(), code[:40]))


@route(bp, "POST", "/bookings/<string:code>/cancel", who="anyone", out=BookingOut,
       summary="Cancel a booking (its seat is offered again after the release delay)",
       errors={404: "No booking with that code",
               409: "already_checked_in, booking_missed or booking_past",
               429: "Too many unknown codes from this address"})
@guarded_lookup
def cancel_booking(code):
    conn = get_db()
    change = bookings.cancel(conn, clock(), code[:40])
    publish(conn, change)
    return present_booking(change.booking)


@route(bp, "POST", "/bookings/<string:code>/check-in", who=("kiosk", "staff"), out=TicketOut,
       status=201, summary="Check a booking in: its ticket, called at the slot's time",
       description="Send an `Idempotency-Key` header to make a retried tap safe: the same key "
                   "from the same caller returns the ticket of the first check-in.",
       errors={400: "A bad Idempotency-Key header", 401: "Not authenticated",
               403: "Not a kiosk or staff, staff of another agency, or a kiosk limited to other agencies",
               404: "No booking with that code",
               409: "not_today, too_early, too_late, booking_cancelled or already_checked_in"})
def check_in(code):
    actor = current_actor()
    conn = get_db()
    agency_id = catalog.get_service(conn, bookings.booking_row(conn, code[:40])["service_id"])["agency_id"]
    if actor.is_staff:
        require_agency(actor, agency_id)
    else:
        # A kiosk limited to some agencies (admin: devices) checks in only their bookings.
        allowed = accounts.device_dict(actor.row)["agency_ids"]
        if allowed and agency_id not in allowed:
            raise Forbidden("other_agency", "This kiosk does not serve that agency; "
                            "use a kiosk of the agency or ask at its counter.")
    key = idempotency_key()
    if key is not None:
        key = f"{actor.kind[0]}{actor.id}:check-in:{key}"
    printer_id = actor.row["printer_id"] if actor.kind == "device" else None
    change = checkin.check_in(conn, clock(), code[:40], device_id=actor.device_id,
                              user_id=actor.user_id, idempotency_key=key, printer_id=printer_id,
                              job_payload={"base_url": request.host_url})
    publish(conn, change)
    return present_ticket(change.ticket)


@route(bp, "GET", "/bookings", who="staff", query=BookingsQuery, out=StaffBookingOut(many=True),
       summary="The day's bookings of a service (or of every service of your agency)",
       errors={400: "A date that is not YYYY-MM-DD", 403: "Not staff, or another agency's service",
               404: "Unknown service"})
def list_bookings(query):
    actor = current_actor()
    conn = get_db()
    day = query["date"] or clock().service_day()
    try:
        from datetime import date

        day = date.fromisoformat(day).isoformat()
    except ValueError:
        from db.errors import Invalid

        raise Invalid("validation_error", "Some fields are not valid.", {"date": "A date as YYYY-MM-DD."})
    if query["service_id"] is not None:
        service = catalog.get_service(conn, query["service_id"])
        require_agency(actor, service["agency_id"])
        service_ids = [service["id"]]
    elif actor.role != "admin" and actor.agency_id is None:
        raise Forbidden("other_agency", "You belong to no agency.")
    else:
        service_ids = catalog.service_ids(conn, agency_scope())
    return [present_booking(b) for b in bookings.list_bookings(conn, clock(), day, service_ids)]
