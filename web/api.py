"""Core read endpoints: health, one ticket by code, print jobs."""

from apiflask import APIBlueprint

from db import printjobs, queue, tickets
from web.auth import current_actor, requires
from web.database import clock, get_db
from web.events import present_ticket, publish
from web.schemas import HealthOut, PrintJobOut, PrintJobQuery, TicketOut

bp = APIBlueprint("core_api", __name__, url_prefix="/api/v1", tag="Core")


@bp.get("/health")
@requires("anyone")
@bp.output(HealthOut)
@bp.doc(summary="Is the server up and its database readable", security=[])
def health():
    conn = get_db()
    version = conn.execute("SELECT max(id) FROM migrations").fetchone()[0]
    now = clock().ts()
    return {"status": "ok", "now": clock().iso(now), "service_day": clock().service_day(now),
            "database": "ok", "schema_version": version or 0}


@bp.get("/tickets/<string:code>")
@requires("anyone")
@bp.output(TicketOut)
@bp.doc(summary="One ticket, for whoever holds its code", security=[],
        responses={404: "No ticket with that code"})
def get_ticket(code):
    return present_ticket(queue.get_ticket_by_code(get_db(), clock(), code[:100]))


@bp.post("/tickets/<string:code>/cancel")
@requires("anyone")
@bp.output(TicketOut)
@bp.doc(summary="Withdraw a waiting ticket, for whoever holds its code (the citizen gave up)",
        security=[], responses={404: "No ticket with that code",
                                409: "Called already (ticket_called) or over (ticket_closed)"})
def cancel_ticket(code):
    conn = get_db()
    ticket = queue.get_ticket_by_code(conn, clock(), code[:100])
    actor = current_actor()
    change = tickets.cancel(conn, clock(), ticket["id"], user_id=actor.user_id if actor.is_staff else None)
    publish(conn, change)
    return present_ticket(change.ticket)


@bp.get("/print-jobs")
@requires("staff")
@bp.input(PrintJobQuery, location="query", arg_name="query")
@bp.output(PrintJobOut(many=True))
@bp.doc(summary="The print jobs of a ticket", responses={401: "Not logged in", 403: "Not staff"})
def print_jobs(query):
    return printjobs.list_jobs(get_db(), ticket_id=query["ticket_id"], oldest_first=True)

