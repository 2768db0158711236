"""The kiosk's API: services with their live state, and taking a ticket."""

from apiflask import APIBlueprint, Schema
from apiflask.fields import Integer, List, Nested, String
from flask import current_app, request

from db import accounts, catalog, queue, tickets
from web.auth import Forbidden, current_actor, idempotency_key, route
from web.limits import window_limit
from web.database import clock, get_db
from web.events import present_ticket, publish
from web.schemas import ServiceOut, TicketIn, TicketOut, ticket_response

bp = APIBlueprint("kiosk_api", __name__, url_prefix="/api/v1", tag="Kiosk")


@route(bp, "GET", "/services", who="authenticated", out=ServiceOut(many=True),
       summary="Every service, open or not, with waiting count and quota left")
def list_services():
    return catalog.list_services(get_db(), clock())


def _issuing_device():
    """The key of the per-device issue limit: the kiosk's device id."""
    actor = current_actor()
    return f"device:{actor.id}" if actor.kind == "device" else "person"


def _issue_limit():
    return current_app.config["KIOSK_ISSUES_PER_MINUTE"]


# A leaked kiosk token must not drain the day's quotas: a limit far above any queue of people.
ISSUE_LIMIT = window_limit(
    _issue_limit, 60, "too_many_tickets",
    "This kiosk is issuing tickets faster than people can take them; wait a minute.",
    key_func=_issuing_device, exempt_when=lambda: current_actor().kind != "device")


@route(bp, "POST", "/tickets", who=("kiosk", "staff"), body=TicketIn, out=TicketOut, status=201,
       limit=ISSUE_LIMIT, summary="Take a ticket",
       description="Send an `Idempotency-Key` header (up to 100 characters) to make a retry "
                   "safe: the same key from the same kiosk returns the ticket issued the first time.",
       errors={403: "Not a kiosk or staff, or a service of an agency this kiosk is not limited to",
               404: "Unknown service", 409: "service_closed, quota_exhausted or no_counter",
               429: "too_many_tickets: the kiosk's per-minute limit (MPP_KIOSK_ISSUES_PER_MINUTE)"})
def issue_ticket(body):
    actor = current_actor()
    key = idempotency_key()
    if key is not None:
        key = f"{actor.kind[0]}{actor.id}:{key}"
    printer_id = actor.row["printer_id"] if actor.kind == "device" else None
    conn = get_db()
    if actor.kind == "device":
        # A kiosk limited to some agencies (admin: devices) issues only their tickets.
        allowed = accounts.device_agencies(actor.row)
        if allowed and catalog.get_service(conn, body["service_id"])["agency_id"] not in allowed:
            raise Forbidden("other_agency", "This kiosk does not issue tickets of that agency.")
    change = tickets.issue(
        conn, clock(), body["service_id"], priority_kind=body["priority"],
        device_id=actor.device_id, user_id=actor.user_id, idempotency_key=key,
        printer_id=printer_id, job_payload={"base_url": request.host_url},
    )
    publish(conn, change)
    return ticket_response(present_ticket(change.ticket), 201)


# -- the kiosk's own device, and the tracking page's view of a ticket ----------


class PrinterBrief(Schema):
    id = Integer()
    name = String()
    status = String(metadata={"description": "online, offline, paper_out, paper_near_end, error, unknown"})


class MyDeviceOut(Schema):
    id = Integer()
    kind = String()
    name = String()
    agency_ids = List(Integer(), allow_none=True)
    printer = Nested(PrinterBrief, allow_none=True)


class CounterBrief(Schema):
    id = Integer()
    number = Integer()
    name = String(allow_none=True)


class TrackOut(Schema):
    ticket = Nested(TicketOut)
    service_name = String()
    agency_name = String()
    counter = Nested(CounterBrief, allow_none=True)
    counter_numbers = List(Integer(), metadata={"description": "Counters that serve the service"})


@route(bp, "GET", "/me/device", who=("kiosk", "display"), out=MyDeviceOut,
       summary="The calling device: its agencies and its printer's state",
       errors={403: "Not a device"})
def my_device():
    row = current_actor().row
    device = accounts.device_dict(row)
    printer = None if row["printer_id"] is None else accounts.printer_brief(get_db(), row["printer_id"])
    return {"id": device["id"], "kind": device["kind"], "name": device["name"],
            "agency_ids": device["agency_ids"], "printer": printer}


@route(bp, "GET", "/tickets/<string:code>/track", who="anyone", out=TrackOut,
       summary="A ticket with what its tracking page shows: service, agency, counter",
       errors={404: "No ticket with that code"})
def track_ticket(code):
    return tracking_view(get_db(), code)


def tracking_view(conn, code):
    """The ticket of a code with its service and agency names and its counter (if called)."""
    view = queue.ticket_tracking(conn, clock(), code[:100])
    return {**view, "ticket": present_ticket(view["ticket"])}
