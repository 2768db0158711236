"""Request and response schemas of the admin's own endpoints (the shared ones are in web/schemas.py)."""

from apiflask import Schema
from apiflask.fields import Boolean, Date, Dict, Float, Integer, List, Nested, Raw, String
from apiflask.validators import Length, OneOf, Range

from db.accounts import ROLES
from db.reports import COUNTS, GROUPS
from web.schemas import HHMM, ID, Id, In, ServiceFields, Text, TimeOfDay


class AgencyPatch(In):
    code = String(validate=Length(min=1, max=32))
    name = String(validate=Length(min=1, max=200))
    color = String(allow_none=True, validate=Length(max=20))
    active = Boolean()


class ServicePatch(In):
    prefix = String(validate=Length(min=1, max=3))
    name = String(validate=Length(min=1, max=200))
    requirements = Text(2000, allow_none=True)
    daily_quota = Integer(strict=True, allow_none=True, validate=Range(min=1, max=100000))
    opens_at = TimeOfDay(allow_none=True, metadata=HHMM)
    closes_at = TimeOfDay(allow_none=True, metadata=HHMM)
    hours = Dict(allow_none=True, metadata={
        "description": 'ISO weekday to [opens, closes] or null: {"1": ["08:00", "15:00"], "7": null}'})
    target_wait_min = Integer(strict=True, validate=Range(min=1, max=1440))
    default_service_s = Integer(strict=True, validate=Range(min=1, max=86400))
    active = Boolean()


class ServiceConfigOut(ServiceFields):
    hours = Dict(allow_none=True)
    default_service_s = Integer()
    active = Boolean()


class HolidayIn(In):
    day = String(required=True, validate=Length(min=10, max=10), metadata={"example": "2026-12-25"})
    name = String(load_default="", validate=Length(max=200))


class HolidayOut(Schema):
    day = String()
    name = String()
    affected_bookings = List(Dict(), metadata={
        "description": "Setting a holiday: the day's bookings it cancelled (code, service_id, "
                       "start, name, masked phone), to tell the citizens"})


class CounterPatch(In):
    number = Integer(strict=True, validate=Range(min=1, max=9999))
    name = String(allow_none=True, validate=Length(max=100))
    service_ids = List(Id(), validate=Length(min=1, max=100))


class UserPatch(In):
    role = String(validate=OneOf(ROLES))
    agency_id = Id(allow_none=True)
    full_name = String(allow_none=True, validate=Length(max=200))
    active = Boolean()


class PasswordIn(In):
    password = String(required=True, validate=Length(min=1, max=200))


class QrIn(In):
    text = String(required=True, validate=Length(min=1, max=1000))


class AuditQuery(In):
    limit = Integer(load_default=100, validate=Range(min=1, max=500))
    before_id = Integer(load_default=None, validate=ID)


class AuditOut(Schema):
    id = Integer()
    ts = Float()
    username = String(allow_none=True)
    device_id = Integer(allow_none=True)
    action = String()
    target = String(allow_none=True)
    data = Raw(allow_none=True)


class RangeQuery(In):
    # `from` is a Python keyword: the field is read under data_key.
    day_from = Date(data_key="from", load_default=None)
    day_to = Date(data_key="to", load_default=None)
    group_by = String(load_default="service", validate=OneOf(GROUPS))
    agency_id = Integer(load_default=None, validate=ID)
    chart = String(load_default="counts", validate=OneOf(["counts", "waits", "arrivals"]))


def Seconds(**kw):
    """A figure in seconds (a median, a p90), null where there is nothing to measure."""
    return Float(allow_none=True, **kw)


# What db.reports.report gives every row: its group, one count per COUNTS (in that order), the
# waiting and service times and the target compliance; db/report_channels.py adds the rest.
_REPORT_FIGURES = {
    "key": Raw(allow_none=True), "label": String(allow_none=True),
    **{count: Integer() for count in COUNTS},
    "wait_median_s": Seconds(), "wait_p90_s": Seconds(), "service_median_s": Seconds(), "service_p90_s": Seconds(),
    "within_target": Integer(), "target_compliance": Float(allow_none=True),
}


class ReportRow(Schema.from_dict(_REPORT_FIGURES, name="ReportFigures")):
    """One group of a report: db.reports' figures, then the walk-in / booking ones."""

    # Walk-in and booked citizens (db/report_channels.py); booking counts are null by counter/officer.
    walk_in = Integer(metadata={"description": "Tickets taken without a booking (first visits)"})
    booked = Integer(metadata={"description": "Tickets checked in from a booking"})
    bookings = Integer(allow_none=True, metadata={"description": "Bookings not cancelled"})
    checked_in = Integer(allow_none=True)
    missed = Integer(allow_none=True)
    check_in_rate = Float(allow_none=True, metadata={"description": "checked_in / (checked_in + missed)"})
    missed_rate = Float(allow_none=True, metadata={"description": "missed / (checked_in + missed)"})
    wait_walk_in_median_s = Seconds()
    wait_booked_median_s = Seconds()
    punctuality_median_s = Seconds(metadata={"description": "Slot start to first call of booked tickets"})
    punctuality_p90_s = Seconds()


class ReportOut(Schema):
    from_ = String(data_key="from", attribute="from")
    to = String()
    group_by = String()
    agency_id = Integer(allow_none=True)
    rows = List(Nested(ReportRow))
    arrivals_per_hour = List(Integer())


class SurveyIn(In):
    u1 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u2 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u3 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u4 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u5 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u6 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u7 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u8 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    u9 = Integer(strict=True, required=True, validate=Range(min=1, max=4))
    comment = Text(1000, load_default=None, allow_none=True)
    source = String(load_default="tracking", validate=OneOf(["tracking", "counter"]))


class SurveyState(Schema):
    number = String()
    status = String()
    open = Boolean(metadata={"description": "The ticket is done and not yet rated"})
    answered = Boolean()


class SurveyStored(Schema):
    id = Integer()
    ticket_id = Integer()
    number = String()


class Board(Schema):
    now = String()
    service_day = String()
    services = List(Dict())
    counters = List(Dict())
    printers = List(Dict())


class SurveyReportOut(Schema):
    from_ = String(data_key="from", attribute="from")
    to = String()
    elements = List(Dict())
    services = List(Dict())
    agencies = List(Dict())
    total = Dict()
    comments = List(Dict())
