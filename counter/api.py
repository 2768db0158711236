"""The counter's API: open, call, recall, start, finish, no-show, transfer, pause, close.

Each handler checks that the caller is staff of the counter's agency (or the
keypad device bound to that counter), calls one engine function, publishes
the committed change and answers with it. Actions honour an
`Idempotency-Key` header (counter/idempotency.py).
"""

import json

from apiflask import APIBlueprint, Schema
from apiflask.fields import Integer, Nested, String
from apiflask.validators import Range
from flask import Response

from db import accounts, counter_stats as stats, queue, tickets
from web.auth import Forbidden, current_actor, require_agency, route
from web.database import clock, get_db
from web.events import present_counter, present_ticket, publish, sees_codes
from web.schemas import (CallIn, CallNextIn, CounterOut, PauseIn, TicketOut, TransferIn,
                         WaitingOut)

from counter.idempotency import idempotent

bp = APIBlueprint("counter_api", __name__, url_prefix="/api/v1", tag="Counter")

STAFF_ERRORS = {401: "Not logged in", 403: "Not staff of this counter's agency",
                404: "No such counter"}
IDEMPOTENT = ("Send an `Idempotency-Key` header (1 to 100 characters) to make a retry safe: "
              "the same key from the same caller at the same counter, within two minutes, "
              "answers as the first time and changes nothing.")

FINISH_RULE = ("A ticket being served (after `start`) is finished at once. A ticket that is "
               "only called is refused with 409 `finish_too_soon` until it has been held "
               "`finish_min_called_s` seconds (default 10; `PUT /api/v1/settings/counter`), so a "
               "double press of finish-and-call-next never finishes the ticket it just called. ")


def keypad_counter_id(actor):
    """The counter a keypad device is bound to (None for anything else)."""
    if actor.kind != "device" or actor.role != "keypad":
        return None
    return json.loads(actor.row["config"] or "{}").get("counter_id")


def _caller():
    actor = current_actor()
    return f"{actor.kind}:{actor.id}"


def _counter(counter_id):
    """(connection, counter), after checking the caller may operate it."""
    conn = get_db()
    counter = queue.counter_dict(conn, clock(), counter_id)
    actor = current_actor()
    if actor.kind == "device":
        if keypad_counter_id(actor) != counter_id:
            raise Forbidden("other_counter", "This keypad is bound to another counter.")
    else:
        require_agency(actor, counter["agency_id"])
    return conn, counter


def _user_id(counter):
    """Who acts: the person, or for a keypad the officer who opened the counter."""
    actor = current_actor()
    return actor.user_id if actor.kind == "user" else counter["user_id"]


def _run(fn, counter_id, *args, answer="ticket", **kwargs):
    conn, counter = _counter(counter_id)
    change = fn(conn, clock(), counter_id, *args, user_id=_user_id(counter), **kwargs)
    publish(conn, change)
    if answer == "counter":
        return present_counter(change.counter)
    return present_ticket(change.ticket)


@route(bp, "GET", "/counters", who="authenticated", out=CounterOut(many=True),
       summary="Every counter with its state and ticket")
def list_counters():
    actor = current_actor()
    return [present_counter(c, sees_codes(actor, c["agency_id"]))
            for c in queue.list_counters(get_db(), clock())]


@route(bp, "GET", "/counters/<id:counter_id>", who="authenticated", out=CounterOut,
       summary="One counter", errors={404: "No such counter"})
def get_counter(counter_id):
    counter = queue.counter_dict(get_db(), clock(), counter_id)
    return present_counter(counter, sees_codes(current_actor(), counter["agency_id"]))


@route(bp, "GET", "/counters/<id:counter_id>/waiting", who="staff", out=WaitingOut(many=True),
       summary="The waiting list of the counter's services, in calling order", errors=STAFF_ERRORS)
def waiting(counter_id):
    conn, counter = _counter(counter_id)
    return queue.waiting_list(conn, clock(), counter["service_ids"])


@route(bp, "POST", "/counters/<id:counter_id>/open", who="staff", out=CounterOut,
       summary="Open the counter (or resume it from a pause)", errors=STAFF_ERRORS)
def open_counter(counter_id):
    return _run(tickets.open_counter, counter_id, answer="counter")


@route(bp, "POST", "/counters/<id:counter_id>/close", who="staff", out=CounterOut,
       summary="Close the counter", errors={**STAFF_ERRORS, 409: "counter_busy"})
def close_counter(counter_id):
    return _run(tickets.close_counter, counter_id, answer="counter")


@route(bp, "POST", "/counters/<id:counter_id>/pause", who="staff", body=PauseIn, out=CounterOut,
       summary="Pause the counter with a reason", errors={**STAFF_ERRORS, 409: "counter_closed"})
def pause_counter(counter_id, body):
    return _run(tickets.pause_counter, counter_id, body["reason"], answer="counter")


@route(bp, "POST", "/counters/<id:counter_id>/call-next", who=("staff", "keypad"), body=CallNextIn,
       out=TicketOut, summary="Call the next ticket",
       description="With `finish_current`, the held ticket is finished first under the finish "
                   "rule: " + FINISH_RULE + IDEMPOTENT,
       errors={**STAFF_ERRORS, 204: "Nothing waits", 400: "Bad Idempotency-Key",
               409: "counter_busy, counter_closed, finish_too_soon or request_in_progress"})
@idempotent(_caller)
def call_next(counter_id, body):
    conn, counter = _counter(counter_id)
    change = tickets.call_next(conn, clock(), counter_id, user_id=_user_id(counter),
                               finish_current=body["finish_current"])
    publish(conn, change)
    if change.ticket is None:
        return Response(status=204)
    return present_ticket(change.ticket)


@route(bp, "POST", "/counters/<id:counter_id>/call", who="staff", body=CallIn, out=TicketOut,
       summary="Call a waiting or no-show ticket out of turn", description=IDEMPOTENT,
       errors={**STAFF_ERRORS, 400: "Bad Idempotency-Key",
               409: "counter_busy, counter_closed or not callable"})
@idempotent(_caller)
def call_ticket(counter_id, body):
    return _run(tickets.call_ticket, counter_id, body["ticket_id"])


@route(bp, "POST", "/counters/<id:counter_id>/recall", who=("staff", "keypad"), out=TicketOut,
       summary="Announce the called ticket again", description=IDEMPOTENT,
       errors={**STAFF_ERRORS, 400: "Bad Idempotency-Key", 409: "no_ticket"})
@idempotent(_caller)
def recall(counter_id):
    return _run(tickets.recall, counter_id)


@route(bp, "POST", "/counters/<id:counter_id>/start", who=("staff", "keypad"), out=TicketOut,
       summary="The citizen is at the counter: start serving", description=IDEMPOTENT,
       errors={**STAFF_ERRORS, 400: "Bad Idempotency-Key", 409: "no_ticket or not called"})
@idempotent(_caller)
def start(counter_id):
    return _run(tickets.start, counter_id)


@route(bp, "POST", "/counters/<id:counter_id>/finish", who=("staff", "keypad"), out=TicketOut,
       summary="Finish the ticket", description=FINISH_RULE + IDEMPOTENT,
       errors={**STAFF_ERRORS, 400: "Bad Idempotency-Key", 409: "no_ticket or finish_too_soon"})
@idempotent(_caller)
def finish(counter_id):
    return _run(tickets.finish, counter_id)


@route(bp, "POST", "/counters/<id:counter_id>/no-show", who="staff", out=TicketOut,
       summary="The citizen did not come",
       description="Refused with `too_early` only when an admin has set the setting "
                   "`no_show_rules` {min_calls, min_wait_s}; the console applies them always. "
                   + IDEMPOTENT,
       errors={**STAFF_ERRORS, 400: "Bad Idempotency-Key", 409: "no_ticket or too_early"})
@idempotent(_caller)
def no_show(counter_id):
    rules = stats.no_show_rules(get_db()) or {"min_calls": 0, "min_wait_s": 0}
    return _run(tickets.no_show, counter_id, min_calls=rules["min_calls"],
                min_wait_s=rules["min_wait_s"])


@route(bp, "POST", "/counters/<id:counter_id>/transfer", who="staff", body=TransferIn,
       out=TicketOut,
       summary="Send the ticket to another service's line, first or last; number kept",
       description=IDEMPOTENT, errors={**STAFF_ERRORS, 409: "no_ticket"})
@idempotent(_caller)
def transfer(counter_id, body):
    return _run(tickets.transfer, counter_id, body["service_id"], body["position"])


@route(bp, "POST", "/counters/<id:counter_id>/cancel", who="staff", body=CallIn, out=TicketOut,
       summary="Take a waiting ticket of the counter's agency out of the line (cancelled)",
       description="For a citizen who has left or asked at the counter to give up their turn; "
                   "the audit log records the officer. " + IDEMPOTENT,
       errors={**STAFF_ERRORS, 400: "Bad Idempotency-Key",
               409: "ticket_called (called already), ticket_closed (over) or wrong_agency"})
@idempotent(_caller)
def cancel_ticket(counter_id, body):
    return _run(tickets.cancel_at_counter, counter_id, body["ticket_id"])


# -- what the console reads besides -------------------------------------------


class FiguresOut(Schema):
    served = Integer()
    no_shows = Integer()
    transferred = Integer()
    median_service_s = Integer(allow_none=True, metadata={"description": "call to finish"})


class StatsOut(Schema):
    service_day = String()
    counter = Nested(FiguresOut)
    me = Nested(FiguresOut, allow_none=True)


class CallableOut(WaitingOut):
    status = String(metadata={"description": "waiting or no_show"})


class KeypadOut(Schema):
    id = Integer()
    kind = String()
    name = String()
    counter_id = Integer()
    token = String(metadata={"description": "Shown only in this answer."})


@route(bp, "GET", "/counters/<id:counter_id>/stats", who="staff", out=StatsOut,
       summary="Today's figures of the counter and of the caller", errors=STAFF_ERRORS)
def counter_stats(counter_id):
    conn, _ = _counter(counter_id)
    return stats.counter_stats(conn, clock(), counter_id, current_actor().user_id)


@route(bp, "GET", "/counters/<id:counter_id>/callable", who="staff", out=CallableOut(many=True),
       summary="Today's waiting and no-show tickets of the counter's agency "
               "(what may be called out of turn)", errors=STAFF_ERRORS)
def callable_tickets(counter_id):
    conn, counter = _counter(counter_id)
    return stats.callable_tickets(conn, clock(), counter["agency_id"])


@route(bp, "POST", "/counters/<id:counter_id>/keypad-token", who=("admin", "supervisor"),
       out=KeypadOut, status=201,
       summary="Register a keypad device bound to this counter; the token is shown only here",
       description="The keypad may call next, recall, start and finish at this counter only "
                   "(python -m counter.keypad).",
       errors={403: "Not admin or supervisor of this agency", 404: "No such counter"})
def keypad_token(counter_id):
    conn = get_db()
    counter = queue.counter_dict(conn, clock(), counter_id)
    require_agency(current_actor(), counter["agency_id"])
    device = accounts.create_keypad(conn, counter, actor_id=current_actor().user_id)
    return {"id": device["id"], "kind": "keypad", "name": device["name"], "counter_id": counter_id,
            "token": device["token"]}


# -- the counter rules an admin sets -------------------------------------------


class CounterRules(Schema):
    finish_min_called_s = Integer(
        required=True, strict=True, validate=Range(min=0, max=600),
        metadata={"description": "Seconds a called, not started ticket must be held before it "
                                 "can be finished; 0 turns the guard off."})


@route(bp, "GET", "/settings/counter", who="staff", out=CounterRules,
       summary="The counter rules: how long a called ticket is held before it can be finished")
def get_counter_rules():
    return {"finish_min_called_s": tickets.finish_min_called_s(get_db())}


@route(bp, "PUT", "/settings/counter", who="admin", body=CounterRules, out=CounterRules,
       summary="Change the counter rules")
def put_counter_rules(body):
    conn = get_db()
    accounts.set_setting(conn, "finish_rules", {"min_called_s": body["finish_min_called_s"]},
                         actor_id=current_actor().user_id)
    return {"finish_min_called_s": tickets.finish_min_called_s(conn)}
