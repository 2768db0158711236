"""Core read endpoints: health, one ticket by code, print jobs."""

from apiflask import APIBlueprint

from db import tickets
from web.auth import requires
from web.database import clock, get_db
from web.events import present_ticket
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
    return present_ticket(tickets.get_ticket_by_code(get_db(), clock(), code[:100]))


@bp.get("/print-jobs")
@requires("staff")
@bp.input(PrintJobQuery, location="query", arg_name="query")
@bp.output(PrintJobOut(many=True))
@bp.doc(summary="The print jobs of a ticket", responses={401: "Not logged in", 403: "Not staff"})
def print_jobs(query):
    rows = get_db().execute(
        "SELECT id, ticket_id, printer_id, status, attempts, error FROM print_jobs "
        "WHERE ticket_id = ? ORDER BY id", (query["ticket_id"],)
    ).fetchall()
    return [dict(r) for r in rows]

