"""Printing routes: reprint, test page, fresh printer status, retry, previews,
printing settings; and the Socket.IO side of the kiosk print agent."""

from apiflask import APIBlueprint
from apiflask.fields import Integer, String
from apiflask.schemas import FileSchema
from apiflask.validators import Length, OneOf, Range
from flask import Response, current_app, request
from flask_socketio import join_room, rooms

from db import accounts, catalog, printjobs, queue
from db.errors import NotFound
from printer import layout, preview, spool as spooling
from web.auth import current_actor, require_agency, route
from web.database import clock, db_session, get_db
from web.events import publish_print, socketio
from web.printing import spool_of
from web.schemas import ID, In, PrinterOut, PrintJobOut, Schema

bp = APIBlueprint("printer_api", __name__, url_prefix="/api/v1", tag="Printing")

STAFF_ERRORS = {403: "Not allowed"}  # staff, and of the ticket's agency where there is one
PNG = {"out": FileSchema(type="string", format="binary"), "content_type": "image/png",
       "returns": "A PNG picture of the printed ticket"}


class ReprintIn(In):
    printer_id = Integer(strict=True, load_default=None, allow_none=True, validate=ID)


class PaperQuery(In):
    paper_mm = Integer(load_default=None, validate=OneOf([58, 80]))


class JobsQuery(In):
    status = String(load_default=None, validate=OneOf(printjobs.STATUSES))


class PrintSettings(Schema):
    ticket_footer = String(validate=Length(max=300))
    max_attempts = Integer(strict=True, validate=Range(min=1, max=1000))


def _spool():
    return spool_of(current_app)


def _job_out(change):
    publish_print(change)
    return change.job


def _ticket_agency(conn, ticket_id):
    return catalog.get_service(conn, queue.ticket_row(conn, ticket_id)["service_id"])["agency_id"]


@route(bp, "POST", "/tickets/<id:ticket_id>/reprint", who="staff", body=ReprintIn, out=PrintJobOut,
       status=202, summary="Print a ticket again (its kiosk's printer unless printer_id is given)",
       errors={**STAFF_ERRORS, 404: "Unknown ticket or printer", 409: "No printer to use"})
def reprint(ticket_id, body):
    conn, actor = get_db(), current_actor()
    require_agency(actor, _ticket_agency(conn, ticket_id))
    change = printjobs.reprint(conn, ticket_id, clock().ts(), printer_id=body["printer_id"],
                               user_id=actor.user_id, payload={"base_url": request.host_url})
    return _job_out(change)


@route(bp, "POST", "/printers/<id:printer_id>/test", who="admin", out=PrintJobOut, status=202,
       summary="Print a test page", errors={404: "Unknown printer"})
def test_print(printer_id):
    change = printjobs.test_page(get_db(), printer_id, clock().ts(), user_id=current_actor().user_id)
    return _job_out(change)


@route(bp, "GET", "/printers/<id:printer_id>/status", who="staff", out=PrinterOut,
       summary="Ask the printer how it is now (DLE EOT where it can answer)",
       errors={**STAFF_ERRORS, 404: "Unknown printer"})
def printer_status(printer_id):
    conn = get_db()
    printjobs.printer_views(conn, clock(), printer_id)  # 404 before touching any device
    _spool().read_status(conn, printjobs.printer_row(conn, printer_id))
    return printjobs.printer_views(conn, clock(), printer_id)[0]


@route(bp, "GET", "/printers/<id:printer_id>/jobs", who="staff", query=JobsQuery,
       out=PrintJobOut(many=True), summary="A printer's latest jobs (e.g. ?status=failed)",
       errors={**STAFF_ERRORS, 404: "Unknown printer"})
def printer_jobs(printer_id, query):
    conn = get_db()
    printjobs.printer_views(conn, clock(), printer_id)
    return printjobs.list_jobs(conn, printer_id=printer_id, status=query["status"])


@route(bp, "POST", "/print-jobs/<id:job_id>/retry", who="staff", out=PrintJobOut,
       summary="Put a failed print job back in line",
       errors={**STAFF_ERRORS, 404: "Unknown job", 409: "The job has not failed"})
def retry_job(job_id):
    conn, actor = get_db(), current_actor()
    job = printjobs.get_job(conn, job_id)
    if job["ticket_id"] is not None:
        require_agency(actor, _ticket_agency(conn, job["ticket_id"]))
    return _job_out(printjobs.retry(conn, job_id, clock().ts(), user_id=actor.user_id))


def _png(data):
    return Response(data, mimetype="image/png", headers={"Cache-Control": "no-store"})


@route(bp, "GET", "/tickets/<string:code>/preview.png", who="staff", query=PaperQuery, **PNG,
       summary="Print preview of one ticket", errors={**STAFF_ERRORS, 404: "Unknown ticket"})
def ticket_preview(code, query):
    conn = get_db()
    ticket = queue.get_ticket_by_code(conn, clock(), code[:100])
    require_agency(current_actor(), catalog.get_service(conn, ticket["service_id"])["agency_id"])
    paper = query["paper_mm"] or _paper_of_ticket(conn, ticket["id"])
    info = spooling.ticket_info(current_app, conn, clock(), ticket, request.host_url)
    return _png(preview.preview_png(info, paper))


def _paper_of_ticket(conn, ticket_id):
    paper = printjobs.last_paper_mm(conn, ticket_id)
    return paper if paper in layout.PAPER_DOTS else 80


@route(bp, "GET", "/print-preview.png", who="staff", query=PaperQuery, **PNG,
       summary="Print preview of a sample ticket with this MPP's name, logo and footer",
       errors=STAFF_ERRORS)
def sample_preview(query):
    conn = get_db()
    info = preview.demo_info(clock().tz_name)
    info.update(mpp_name=accounts.get_setting(conn, "mpp_name") or info["mpp_name"],
                footer=accounts.get_setting(conn, "ticket_footer", spooling.DEFAULT_FOOTER),
                logo_path=spooling.logo_path(current_app),
                tracking_url=spooling.tracking_url(current_app, "Xk3p9QzT2mLwR7", request.host_url))
    return _png(preview.preview_png(info, query["paper_mm"] or 80))


def _print_settings(conn):
    return {"ticket_footer": accounts.get_setting(conn, "ticket_footer", spooling.DEFAULT_FOOTER),
            "max_attempts": spooling.print_settings(current_app, conn)["max_attempts"]}


@route(bp, "GET", "/settings/printing", who="staff", out=PrintSettings,
       summary="The ticket footer and the retry limit", errors=STAFF_ERRORS)
def get_print_settings():
    return _print_settings(get_db())


@route(bp, "PUT", "/settings/printing", who="admin", body=PrintSettings, out=PrintSettings,
       summary="Change the ticket footer or the retry limit")
def put_print_settings(body):
    conn, actor = get_db(), current_actor()
    if "ticket_footer" in body:
        accounts.set_setting(conn, "ticket_footer", body["ticket_footer"].strip(),
                             actor_id=actor.user_id)
    if "max_attempts" in body:
        accounts.set_setting(conn, "print_max_attempts", body["max_attempts"],
                             actor_id=actor.user_id)
    return _print_settings(conn)


# -- the kiosk print agent (printer/agent.py) over Socket.IO -----------------------


def _agent_printer():
    """The printer whose agent room this socket joined, or None."""
    for room in rooms():
        if isinstance(room, str) and room.startswith("agent:"):
            return int(room.split(":", 1)[1])
    return None


@socketio.on("agent_hello")
def agent_hello(data=None):
    """A print agent introduces itself with its kiosk's token; unacknowledged jobs come again."""
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        return {"ok": False, "error": "not_authenticated"}
    app = current_app._get_current_object()
    with db_session() as conn:
        device = accounts.device_by_token(conn, token)
        if device is None or device["kind"] != "kiosk":
            return {"ok": False, "error": "not_authenticated"}
        printer = device["printer_id"] and printjobs.printer_row(conn, device["printer_id"])
        if not printer or printer["transport"] != "agent":
            return {"ok": False, "error": "no_agent_printer"}
        join_room(f"agent:{printer['id']}")
        spool = app.extensions.get("giliran_spool")
        now = app.extensions["giliran"].clock.ts()
        printjobs.retry_now(conn, printer["id"], now, leased=True)
        if spool is not None:
            spool.wake()
        return {"ok": True, "printer_id": printer["id"], "name": printer["name"],
                "paper_mm": printer["paper_mm"]}


@socketio.on("print_ack")
def print_ack(data=None):
    """The agent printed a job ({id}), or could not ({id, ok: false, status, error})."""
    printer_id = _agent_printer()
    if printer_id is None or not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return {"ok": False, "error": "not_an_agent"}
    spool = spool_of(current_app._get_current_object())
    with db_session() as conn:
        try:
            job = printjobs.get_job(conn, data["id"])
        except NotFound:
            return {"ok": False, "error": "print_job_not_found"}
        if job["printer_id"] != printer_id:
            return {"ok": False, "error": "not_your_job"}
        if data.get("ok", True):
            spool.job_printed(conn, printer_id, job["id"])
        else:
            spool.job_failed(conn, printer_id, job["id"],
                             str(data.get("error") or "agent could not print")[:300],
                             data.get("status"), _agent_detail(data))
    spool.wake()
    return {"ok": True}


def _agent_detail(data):
    detail = data.get("detail") or data.get("error")
    return str(detail)[:300] if detail else None


def _agent_status(spool, conn, printer_id, data):
    if data.get("status") in printjobs.PRINTER_STATUSES:
        spool.record_status(conn, printer_id, data["status"], _agent_detail(data))


@socketio.on("agent_status")
def agent_status(data=None):
    """The agent reports its printer's state ({status, detail})."""
    printer_id = _agent_printer()
    if printer_id is None or not isinstance(data, dict):
        return {"ok": False, "error": "not_an_agent"}
    app = current_app._get_current_object()
    spool = spool_of(app)
    with db_session() as conn:
        _agent_status(spool, conn, printer_id, data)
        if data.get("status") in ("online", "paper_near_end"):
            if printjobs.retry_now(conn, printer_id, app.extensions["giliran"].clock.ts()):
                spool.wake()
    return {"ok": True}
