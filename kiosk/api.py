"""The kiosk's API: services with their live state, and taking a ticket."""

from apiflask import APIBlueprint
from flask import request

from db import catalog, tickets
from db.errors import Invalid
from web.auth import current_actor, requires
from web.database import clock, get_db
from web.events import present_ticket, publish
from web.schemas import ServiceOut, TicketIn, TicketOut

bp = APIBlueprint("kiosk_api", __name__, url_prefix="/api/v1", tag="Kiosk")


@bp.get("/services")
@requires("authenticated")
@bp.output(ServiceOut(many=True))
@bp.doc(summary="Every service, open or not, with waiting count and quota left",
        responses={401: "Not authenticated"})
def list_services():
    return catalog.list_services(get_db(), clock())


@bp.post("/tickets")
@requires("kiosk", "staff")
@bp.input(TicketIn, arg_name="body")
@bp.output(TicketOut, status_code=201)
@bp.doc(
    summary="Take a ticket",
    description="Send an `Idempotency-Key` header (up to 100 characters) to make a retry "
                "safe: the same key from the same kiosk returns the ticket issued the first time.",
    responses={401: "Not authenticated", 403: "Not a kiosk or staff",
               404: "Unknown service", 409: "service_closed or quota_exhausted"},
)
def issue_ticket(body):
    actor = current_actor()
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        if not 1 <= len(key) <= 100:
            raise Invalid("validation_error", "Some fields are not valid.",
                          {"Idempotency-Key": "1 to 100 characters."})
        key = f"{actor.kind[0]}{actor.id}:{key}"
    printer_id = actor.row["printer_id"] if actor.kind == "device" else None
    conn = get_db()
    change = tickets.issue(
        conn, clock(), body["service_id"], priority_kind=body["priority"],
        device_id=actor.device_id, user_id=actor.user_id, idempotency_key=key,
        printer_id=printer_id, job_payload={"base_url": request.host_url},
    )
    publish(conn, change)
    return present_ticket(change.ticket)
