"""The counter's API: open, call, recall, start, finish, no-show, transfer, pause, close.

Each handler checks that the caller is staff of the counter's agency, calls
one engine function, publishes the committed change and answers with it.
"""

from apiflask import APIBlueprint
from flask import Response

from db import accounts, tickets
from web.auth import current_actor, require_agency, requires
from web.database import clock, get_db
from web.events import present_counter, present_ticket, publish
from web.schemas import (CallIn, CallNextIn, CounterOut, PauseIn, TicketOut, TransferIn,
                         WaitingOut)

bp = APIBlueprint("counter_api", __name__, url_prefix="/api/v1", tag="Counter")

STAFF_ERRORS = {401: "Not logged in", 403: "Not staff of this counter's agency",
                404: "No such counter"}


def _counter(counter_id):
    """The counter, after checking the caller may operate it."""
    conn = get_db()
    counter = tickets.counter_dict(conn, clock(), counter_id)
    require_agency(current_actor(), counter["agency_id"])
    return conn


def _run(fn, counter_id, *args, answer="ticket", **kwargs):
    conn = _counter(counter_id)
    change = fn(conn, clock(), counter_id, *args, user_id=current_actor().user_id, **kwargs)
    publish(conn, change)
    if answer == "counter":
        return present_counter(change.counter)
    return present_ticket(change.ticket)


@bp.get("/counters")
@requires("authenticated")
@bp.output(CounterOut(many=True))
@bp.doc(summary="Every counter with its state and ticket", responses={401: "Not authenticated"})
def list_counters():
    return [present_counter(c) for c in tickets.list_counters(get_db(), clock())]


@bp.get("/counters/<id:counter_id>")
@requires("authenticated")
@bp.output(CounterOut)
@bp.doc(summary="One counter", responses={401: "Not authenticated", 404: "No such counter"})
def get_counter(counter_id):
    return present_counter(tickets.counter_dict(get_db(), clock(), counter_id))


@bp.get("/counters/<id:counter_id>/waiting")
@requires("staff")
@bp.output(WaitingOut(many=True))
@bp.doc(summary="The waiting list of the counter's services, in calling order",
        responses=STAFF_ERRORS)
def waiting(counter_id):
    conn = _counter(counter_id)
    counter = tickets.counter_dict(conn, clock(), counter_id)
    return tickets.waiting_list(conn, clock(), counter["service_ids"])


@bp.post("/counters/<id:counter_id>/open")
@requires("staff")
@bp.output(CounterOut)
@bp.doc(summary="Open the counter (or resume it from a pause)", responses=STAFF_ERRORS)
def open_counter(counter_id):
    return _run(tickets.open_counter, counter_id, answer="counter")


@bp.post("/counters/<id:counter_id>/close")
@requires("staff")
@bp.output(CounterOut)
@bp.doc(summary="Close the counter", responses={**STAFF_ERRORS, 409: "counter_busy"})
def close_counter(counter_id):
    return _run(tickets.close_counter, counter_id, answer="counter")


@bp.post("/counters/<id:counter_id>/pause")
@requires("staff")
@bp.input(PauseIn, arg_name="body")
@bp.output(CounterOut)
@bp.doc(summary="Pause the counter with a reason", responses={**STAFF_ERRORS, 409: "counter_closed"})
def pause_counter(counter_id, body):
    return _run(tickets.pause_counter, counter_id, body["reason"], answer="counter")


@bp.post("/counters/<id:counter_id>/call-next")
@requires("staff")
@bp.input(CallNextIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Call the next ticket", responses={
    **STAFF_ERRORS, 204: "Nothing waits", 409: "counter_busy or counter_closed"})
def call_next(counter_id, body):
    conn = _counter(counter_id)
    change = tickets.call_next(conn, clock(), counter_id, user_id=current_actor().user_id,
                               finish_current=body["finish_current"])
    publish(conn, change)
    if change.ticket is None:
        return Response(status=204)
    return present_ticket(change.ticket)


@bp.post("/counters/<id:counter_id>/call")
@requires("staff")
@bp.input(CallIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Call a waiting or no-show ticket out of turn",
        responses={**STAFF_ERRORS, 409: "counter_busy, counter_closed or not callable"})
def call_ticket(counter_id, body):
    return _run(tickets.call_ticket, counter_id, body["ticket_id"])


@bp.post("/counters/<id:counter_id>/recall")
@requires("staff")
@bp.output(TicketOut)
@bp.doc(summary="Announce the called ticket again", responses={**STAFF_ERRORS, 409: "no_ticket"})
def recall(counter_id):
    return _run(tickets.recall, counter_id)


@bp.post("/counters/<id:counter_id>/start")
@requires("staff")
@bp.output(TicketOut)
@bp.doc(summary="The citizen is at the counter: start serving",
        responses={**STAFF_ERRORS, 409: "no_ticket or not called"})
def start(counter_id):
    return _run(tickets.start, counter_id)


@bp.post("/counters/<id:counter_id>/finish")
@requires("staff")
@bp.output(TicketOut)
@bp.doc(summary="Finish the ticket", responses={**STAFF_ERRORS, 409: "no_ticket"})
def finish(counter_id):
    return _run(tickets.finish, counter_id)


@bp.post("/counters/<id:counter_id>/no-show")
@requires("staff")
@bp.output(TicketOut)
@bp.doc(summary="The citizen did not come", responses={**STAFF_ERRORS, 409: "no_ticket or too_early"})
def no_show(counter_id):
    conn = get_db()
    rules = accounts.get_setting(conn, "no_show_rules", {"min_calls": 0, "min_wait_s": 0})
    return _run(tickets.no_show, counter_id, min_calls=rules.get("min_calls", 0),
                min_wait_s=rules.get("min_wait_s", 0))


@bp.post("/counters/<id:counter_id>/transfer")
@requires("staff")
@bp.input(TransferIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Send the ticket to another service's line, first or last; number kept",
        responses={**STAFF_ERRORS, 409: "no_ticket"})
def transfer(counter_id, body):
    return _run(tickets.transfer, counter_id, body["service_id"], body["position"])
