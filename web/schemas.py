"""Request and response schemas: validation and the OpenAPI document from one source.

Unknown fields in a request are ignored (clients may send more than we
read); wrong types, missing fields and out-of-range values are 400 with a
message per field.
"""

import json

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, Raw, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import EXCLUDE, ValidationError

from db.accounts import DEVICE_KINDS, ROLES, TRANSPORTS
from db.clock import parse_hhmm
from db.tickets import PRIORITY_KINDS, STATUSES

ID = Range(min=1, max=2**62)


def Id(**kw):
    return Integer(strict=True, validate=ID, **kw)


def Text(max_len, **kw):
    return String(validate=Length(max=max_len), **kw)


class In(Schema):
    class Meta:
        unknown = EXCLUDE


# -- inputs --------------------------------------------------------------------


class LoginIn(In):
    username = String(required=True, validate=Length(min=1, max=100))
    password = String(required=True, validate=Length(min=1, max=200))


class AgencyIn(In):
    code = String(required=True, validate=Length(min=1, max=32))
    name = String(required=True, validate=Length(min=1, max=200))
    color = String(load_default=None, allow_none=True, validate=Length(max=20))


class TimeOfDay(String):
    """'08:00', '08.00' (as Indonesia writes it) or '08:00:00', kept as 'HH:MM' (24-hour)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) == 5 and text[2] == ".":
            text = text[:2] + ":" + text[3:]
        parts = text.split(":")
        if len(parts) == 3 and parts[2].isdigit() and len(parts[2]) == 2:
            parts = parts[:2]
        candidate = ":".join(parts)
        try:
            parse_hhmm(candidate)
        except ValueError:
            raise ValidationError("Use HH:MM, e.g. 08:00.")
        return candidate


class UsbId(Raw):
    """A USB vendor or product id: 1208, "0x04b8" or "04b8"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("A number 0-65535 or hex like 0x04b8.")
        if isinstance(value, str):
            try:
                value = int(value, 16)
            except ValueError:
                raise ValidationError("A number 0-65535 or hex like 0x04b8.")
        if not isinstance(value, int) or not 0 <= value <= 0xFFFF:
            raise ValidationError("A number 0-65535 or hex like 0x04b8.")
        return value


HHMM = {"pattern": r"^\d{2}[:.]\d{2}(:\d{2})?$", "example": "08:00"}
USB = {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 65535},
                 {"type": "string", "pattern": "^(0x)?[0-9a-fA-F]{1,4}$"}]}


class ServiceIn(In):
    agency_id = Id(required=True)
    prefix = String(required=True, validate=Length(min=1, max=3), metadata={"example": "A"})
    name = String(required=True, validate=Length(min=1, max=200))
    requirements = Text(2000, load_default="")
    daily_quota = Integer(strict=True, load_default=None, allow_none=True,
                          validate=Range(min=1, max=100000))
    opens_at = TimeOfDay(load_default=None, allow_none=True, metadata=HHMM)
    closes_at = TimeOfDay(load_default=None, allow_none=True, metadata=HHMM)
    target_wait_min = Integer(strict=True, load_default=None, allow_none=True,
                              validate=Range(min=1, max=1440))
    default_service_s = Integer(strict=True, load_default=None, allow_none=True,
                                validate=Range(min=1, max=86400))


class CounterIn(In):
    agency_id = Id(required=True)
    number = Integer(strict=True, required=True, validate=Range(min=1, max=9999))
    name = String(load_default=None, allow_none=True, validate=Length(max=100))
    service_ids = List(Id(), required=True, validate=Length(min=1, max=100))


class UserIn(In):
    username = String(required=True, validate=Length(min=1, max=100))
    password = String(required=True, validate=Length(min=1, max=200))
    role = String(required=True, validate=OneOf(ROLES))
    agency_id = Id(load_default=None, allow_none=True)
    full_name = String(load_default=None, allow_none=True, validate=Length(max=200))


class DeviceIn(In):
    kind = String(required=True, validate=OneOf(DEVICE_KINDS))
    name = String(required=True, validate=Length(min=1, max=100))
    printer_id = Id(load_default=None, allow_none=True)


class DevicePatch(In):
    name = String(validate=Length(min=1, max=100))
    printer_id = Id(allow_none=True)
    agency_ids = List(Id(), allow_none=True, validate=Length(max=100))


class PrinterIn(In):
    name = String(required=True, validate=Length(min=1, max=100))
    transport = String(required=True, validate=OneOf(TRANSPORTS))
    paper_mm = Integer(strict=True, load_default=80, validate=OneOf([58, 80]))
    host = String(validate=Length(min=1, max=255))
    port = Integer(strict=True, validate=Range(min=1, max=65535))
    device = String(validate=Length(min=1, max=255))
    baudrate = Integer(strict=True, validate=OneOf([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]))
    vendor_id = UsbId(metadata=USB)
    product_id = UsbId(metadata=USB)
    path = String(validate=Length(min=1, max=1000), metadata={
        "description": "A `file` printer's file or device (where it may be: docs/printing.md)"})


class PriorityField(Raw):
    """`true`/`false`, or a priority kind: lansia, disabilitas, ibu_hamil, balita, lainnya."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True:
            return "lainnya"
        if value is False or value is None:
            return None
        if isinstance(value, str) and value in PRIORITY_KINDS:
            return value
        raise ValidationError(f"true, false or one of: {', '.join(PRIORITY_KINDS)}.")



class TicketIn(In):
    service_id = Id(required=True)
    # null is listed among the choices: the default (null) must itself be valid,
    # or openapi-spec-validator (and generated clients) refuse the document.
    priority = PriorityField(load_default=None, allow_none=True,
                             metadata={"oneOf": [{"type": "boolean"},
                                                 {"type": "string", "enum": list(PRIORITY_KINDS)},
                                                 {"type": "null"}]})


class CallNextIn(In):
    finish_current = Boolean(load_default=False)


class CallIn(In):
    ticket_id = Id(required=True)


class TransferIn(In):
    service_id = Id(required=True)
    position = String(load_default="last", validate=OneOf(["first", "last"]))


class PauseIn(In):
    reason = String(required=True, validate=Length(min=1, max=100))


class PrintJobQuery(In):
    # Query strings are text: "3" is a valid id here, unlike in a JSON body.
    ticket_id = Integer(required=True, validate=ID)


# -- outputs -------------------------------------------------------------------


class AgencyOut(Schema):
    id = Integer()
    code = String()
    name = String()
    color = String(allow_none=True)
    active = Boolean()


class ServiceFields(Schema):
    """A service's configuration, as every answer about a service carries it."""

    id = Integer()
    agency_id = Integer()
    prefix = String()
    name = String()
    requirements = String()
    daily_quota = Integer(allow_none=True)
    opens_at = String(allow_none=True)
    closes_at = String(allow_none=True)
    target_wait_min = Integer()


class ServiceOut(ServiceFields):
    """A service with today's live figures."""

    is_open = Boolean(metadata={"description": "Tickets can be taken now: open hours, quota left, "
                                               "and at least one counter serves it"})
    closed_reason = String(allow_none=True, metadata={
        "description": "inactive, holiday, not_today, before_hours, after_hours, "
                       "quota_exhausted or no_counter"})
    today_hours = List(String(allow_none=True), allow_none=True, metadata={
        "description": "[opens, closes] today (HH:MM; null = no limit); null when not served today"})
    waiting = Integer()
    waiting_other_services = Integer(metadata={
        "description": "Waiting tickets of other services called at the same counters (the "
                       "estimate counts them too)"})
    issued_today = Integer()
    booked_today = Integer(metadata={"description": "Today's bookings not yet checked in (held out of the quota)"})
    quota_left = Integer(allow_none=True)
    estimated_wait_s = Integer(allow_none=True, metadata={
        "description": "null when no counter serves the service"})
    open_counters = Integer()
    counter_count = Integer(metadata={"description": "Counters serving it, open or not"})


class TicketOut(Schema):
    id = Integer()
    code = String()
    number = String()
    service_id = Integer()
    status = String(validate=OneOf(STATUSES))
    priority = Boolean()
    priority_kind = String(allow_none=True)
    issued_at = String(metadata={"format": "date-time"})
    called_at = String(allow_none=True, metadata={"format": "date-time"})
    started_at = String(allow_none=True)
    finished_at = String(allow_none=True)
    counter_id = Integer(allow_none=True)
    call_count = Integer()
    ahead = Integer(metadata={"description": "Waiting tickets of its own service called before it"})
    ahead_other_services = Integer(metadata={
        "description": "Waiting tickets of other services that the same counters call before it "
                       "(counted in the estimate)"})
    estimated_wait_s = Integer(allow_none=True, metadata={
        "description": "null when no counter serves the ticket's service"})
    tracking_url = String()
    print_status = String(validate=OneOf(["none", "pending", "printed", "failed"]))
    service_day = String()
    booking_code = String(allow_none=True, metadata={"description": "The booking it was checked in from"})
    slot_start = String(allow_none=True, metadata={"format": "date-time"})
    slot_end = String(allow_none=True, metadata={"format": "date-time"})
    booking_name = String(allow_none=True, metadata={"description": "The booked citizen's name"})



# The hot answer (POST /api/v1/tickets, at every kiosk tap) is written straight from the
# engine's dict in TicketOut's field order: its values already have the schema's types, so
# marshmallow's dump would give the same JSON at a tenth of a ticket's CPU.
# tests/test_issue_path.py checks the two against each other.
TICKET_FIELDS = tuple(TicketOut._declared_fields)


# The app's JSON settings (web/__init__.py: no ASCII escapes, keys in order); its values
# are str, int, bool and None, which need no `default`.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def ticket_response(ticket, status):
    """A presented ticket as TicketOut's JSON answer, without marshmallow's dump."""
    from flask import current_app

    body = _encode({k: ticket[k] for k in TICKET_FIELDS if k in ticket})
    return current_app.response_class(f"{body}\n", status=status, mimetype="application/json")

class CounterOut(Schema):
    id = Integer()
    agency_id = Integer()
    number = Integer()
    name = String(allow_none=True)
    service_ids = List(Integer())
    state = String(validate=OneOf(["open", "closed", "paused"]))
    pause_reason = String(allow_none=True)
    user_id = Integer(allow_none=True)
    since = String(allow_none=True)
    ticket = Nested(TicketOut, allow_none=True)


class WaitingOut(Schema):
    id = Integer()
    number = String()
    service_id = Integer()
    priority = Boolean()
    priority_kind = String(allow_none=True)
    issued_at = String()
    call_count = Integer()
    booking_code = String(allow_none=True)
    booking_name = String(allow_none=True)
    slot_start = String(allow_none=True)


class UserOut(Schema):
    id = Integer()
    username = String()
    role = String()
    agency_id = Integer(allow_none=True)
    full_name = String(allow_none=True)
    active = Boolean()


class UserEnvelope(Schema):
    user = Nested(UserOut)


class DeviceOut(Schema):
    id = Integer()
    kind = String()
    name = String()
    printer_id = Integer(allow_none=True)
    active = Boolean()
    agency_ids = List(Integer(), allow_none=True)
    last_seen_at = String(allow_none=True, metadata={
        "format": "date-time", "description": "When it last called or connected (to the minute); null if never"})


class DeviceCreatedOut(DeviceOut):
    token = String(metadata={"description": "Shown only in this answer."})


class PrinterOut(Schema):
    id = Integer()
    name = String()
    transport = String()
    config = Dict()
    paper_mm = Integer()
    status = String()
    status_detail = String(allow_none=True)
    # Filled by the printing code (db/printjobs.printer_views):
    status_at = String(allow_none=True, metadata={"format": "date-time"})
    pending_jobs = Integer()
    failed_jobs = Integer(metadata={"description": "Jobs that failed in the last 24 hours."})
    last_error = String(allow_none=True)
    device_ids = List(Integer())


class PrintJobOut(Schema):
    id = Integer()
    ticket_id = Integer(allow_none=True)
    printer_id = Integer()
    status = String()
    attempts = Integer()
    error = String(allow_none=True)


class HealthOut(Schema):
    status = String()
    now = String(metadata={"description": "The server's clock in the MPP's zone"})
    service_day = String()
    database = String()
    schema_version = Integer()


class ErrorBody(Schema):
    code = String(required=True)
    message = String(required=True)
    fields = Dict(keys=String(), values=String())


class ErrorOut(Schema):
    error = Nested(ErrorBody, required=True)
