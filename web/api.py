"""Core read endpoints: health, one ticket by code, print jobs."""

from apiflask import APIBlueprint

from db import migrations, printjobs, queue, tickets
from web.auth import current_actor, route
from web.database import clock, get_db
from web.events import present_ticket, publish
from web.schemas import HealthOut, PrintJobOut, PrintJobQuery, TicketOut

bp = APIBlueprint("core_api", __name__, url_prefix="/api/v1", tag="Core")


@route(bp, "GET", "/health", who="anyone", out=HealthOut,
       summary="Is the server up and its database readable")
def health():
    conn = get_db()
    version = migrations.schema_version(conn)
    now = clock().ts()
    return {"status": "ok", "now": clock().iso(now), "service_day": clock().service_day(now),
            "database": "ok", "schema_version": version}


@route(bp, "GET", "/tickets/<string:code>", who="anyone", out=TicketOut,
       summary="One ticket, for whoever holds its code", errors={404: "No ticket with that code"})
def get_ticket(code):
    return present_ticket(queue.get_ticket_by_code(get_db(), clock(), code[:100]))


@route(bp, "POST", "/tickets/<string:code>/cancel", who="anyone", out=TicketOut,
       summary="Withdraw a waiting ticket, for whoever holds its code (the citizen gave up)",
       errors={404: "No ticket with that code",
               409: "Called already (ticket_called) or over (ticket_closed)"})
def cancel_ticket(code):
    conn = get_db()
    ticket = queue.get_ticket_by_code(conn, clock(), code[:100])
    actor = current_actor()
    change = tickets.cancel(conn, clock(), ticket["id"], user_id=actor.user_id if actor.is_staff else None)
    publish(conn, change)
    return present_ticket(change.ticket)


@route(bp, "GET", "/print-jobs", who="staff", query=PrintJobQuery, out=PrintJobOut(many=True),
       summary="The print jobs of a ticket")
def print_jobs(query):
    return printjobs.list_jobs(get_db(), ticket_id=query["ticket_id"], oldest_first=True)

