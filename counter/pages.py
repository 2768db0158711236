"""The officer's console pages: log in, choose a counter, then the console itself."""


from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l

from db import catalog, queue, tickets
from db.counter_stats import console_no_show_rules
from db.errors import NotFound
from web.auth import current_actor
from web.database import clock, get_db
from web.events import present_counter
from web.i18n import pages_blueprint, render_page

from counter.booking_messages import BOOKING_MESSAGES

bp = pages_blueprint("counter", __name__)

START_MESSAGES = {
    "err_bad_credentials": _l("Wrong username or password."),
    "err_too_many": _l("Too many failed attempts. Wait a few minutes and try again."),
    "err_login_busy": _l("Many people are logging in right now. Try again in a moment."),
    "err_not_staff": _l("This account cannot operate counters."),
    "no_counters": _l("Your agency has no counters yet. Ask the admin to add one."),
    "in_use": _l("In use by another officer"),
    "yours": _l("Opened by you"),
    "state_open": _l("Open"),
    "state_paused": _l("Paused"),
    "state_closed": _l("Closed"),
    "open_this": _l("Open this counter"),
    "counter_n": _l("Counter {n}"),
}

CONSOLE_MESSAGES = {
    "state_open": _l("Open"),
    "state_paused": _l("Paused"),
    "state_closed": _l("Closed"),
    "paused_since": _l("Paused: {reason} · since {time}"),
    "no_ticket": _l("No ticket at the counter"),
    "no_ticket_hint": _l("Press F1 or Space to call the next citizen."),
    "closed_hint": _l("This counter is closed. Press Enter to open it."),
    "paused_hint": _l("Press F9 to resume."),
    "status_called": _l("Called ({n}×)"),
    "status_serving": _l("Being served"),
    "waited": _l("Waited"),
    "at_counter": _l("At the counter"),
    "waiting_title": _l("Waiting ({n})"),
    "waiting_empty": _l("Nobody is waiting."),
    "waiting_more": _l("and {n} more"),
    "dur_min": _l("{m} min"),
    "dur_hour": _l("{h} h {m} min"),
    "btn_pause": _l("Pause"),
    "btn_resume": _l("Resume"),
    "ns_calls": _l("No-show after {n} calls (now {c}): recall with F2."),
    "ns_wait": _l("No-show possible in {s} s."),
    "ns_needs_called": _l("Only a called ticket can be marked no-show."),
    "hint_busy": _l("Finish the current ticket first (F4), or press F6."),
    "finish_wait": _l("Finish (F4) possible in {s} s, or press F3 first."),
    "hint_no_ticket": _l("There is no ticket at the counter."),
    "hint_not_called": _l("This ticket is already being served."),
    "hint_paused": _l("The counter is paused: press F9 to resume."),
    "hint_closed": _l("The counter is closed: press Enter to open it."),
    "nobody_waiting": _l("Nobody is waiting."),
    "msg_called": _l("{number} called."),
    "msg_done": _l("{number} finished."),
    "survey_link": _l("Satisfaction survey for {number} (open on the citizen's tablet)"),
    "msg_no_show": _l("{number} marked as not present."),
    "msg_transferred": _l("{number} transferred to {service}."),
    "msg_paused": _l("Counter paused."),
    "msg_resumed": _l("Counter open again."),
    "msg_closed": _l("Counter closed."),
    "error_unsure": _l("The connection dropped before the answer came. The screen shows the "
                       "server's state again once the connection is back."),
    "transfer_title": _l("Transfer {number} to"),
    "transfer_none": _l("No service matches."),
    "callnum_none": _l("No waiting or no-show ticket of today matches."),
    "status_waiting": _l("waiting"),
    "status_no_show": _l("no-show"),
    "closed_service": _l("closed"),
    "close_title": _l("Close counter {n}?"),
    "close_held": _l("The counter still holds {number}. What should happen to it?"),
    "reason_other_missing": _l("Type the reason."),
    "prio_lansia": _l("Elderly"),
    "prio_disabilitas": _l("Disability"),
    "prio_ibu_hamil": _l("Pregnant"),
    "prio_balita": _l("With a small child"),
    "prio_lainnya": _l("Priority"),
    "err_counter_busy": _l("The counter still holds a ticket."),
    "err_counter_closed": _l("The counter is closed; open it first."),
    "err_no_ticket": _l("There is no ticket at the counter."),
    "err_invalid_transition": _l("That is not possible for this ticket right now."),
    "err_too_early": _l("Too early for a no-show: call again and wait a little."),
    "err_finish_too_soon": _l("Not finished: this ticket was only just called. Press F3 when "
                              "the citizen arrives, then F4."),
    "err_no_counter": _l("No counter serves that service, so nobody could call the ticket there."),
    "err_request_in_progress": _l("The previous request is still being processed."),
    "err_not_authenticated": _l("Your session has ended. Log in again."),
    "err_forbidden": _l("You may not operate this counter."),
    "err_other_agency": _l("You may not operate this counter."),
    "err_service_inactive": _l("That service is not active."),
    "err_wrong_agency": _l("That ticket belongs to another agency."),
    "err_ticket_not_found": _l("That ticket no longer exists."),
    "err_ticket_called": _l("That ticket has been called already."),
    "err_ticket_closed": _l("That ticket is no longer waiting."),
    "w_cancel": _l("Cancel ticket"),
    "w_cancel_label": _l("Cancel {number}: take it out of the line"),
    "cancel_title": _l("Cancel ticket {number}?"),
    "msg_cancelled": _l("{number} cancelled: taken out of the line."),
}

# Sent as the pause reason in Indonesian whatever the console's language:
# displays and reports read it in the MPP's language.
PAUSE_REASONS = [("istirahat", "Istirahat", _l("Break")),
                 ("sholat", "Sholat", _l("Prayer")),
                 ("gangguan", "Gangguan sistem", _l("System problem")),
                 ("rapat", "Rapat/koordinasi", _l("Meeting"))]


def _staff():
    actor = current_actor()
    return actor if actor.kind == "user" else None


def _user_config(actor):
    row = actor.row
    return {"id": actor.id, "username": actor.username, "role": actor.role,
            "agency_id": actor.agency_id, "full_name": row["full_name"] or actor.username}


@bp.get("/counter")
def start():
    """Log in (if needed), then choose one of the agency's counters."""
    actor = _staff()
    config = {"user": _user_config(actor) if actor else None, "next": _safe_next()}
    return render_page("counter/start.html", page_messages=START_MESSAGES, config=config,
                       user=config["user"])


def _safe_next():
    nxt = request.args.get("next", "")
    return nxt if nxt.startswith("/counter/") and "//" not in nxt else None


@bp.get("/counter/<id:counter_id>")
def console(counter_id):
    """The console of one counter (1366x768)."""
    actor = _staff()
    if actor is None:
        return redirect(url_for("counter_pages.start", next=request.path))
    conn = get_db()
    try:
        counter = queue.counter_dict(conn, clock(), counter_id)
    except NotFound:
        return render_page("counter/refused.html", reason="missing"), 404
    if actor.role != "admin" and actor.agency_id != counter["agency_id"]:
        return render_page("counter/refused.html", reason="agency"), 403
    agency = catalog.agency_dict(catalog.get_agency(conn, counter["agency_id"]))
    services = [s for s in catalog.list_services(conn, clock())
                if s["agency_id"] == counter["agency_id"]]
    config = {
        "counter_id": counter_id,
        "counter": present_counter(counter),
        "agency": agency,
        "services": [{"id": s["id"], "prefix": s["prefix"], "name": s["name"],
                      "agency_id": s["agency_id"]} for s in services],
        "user": _user_config(actor),
        "no_show_rules": console_no_show_rules(conn),
        "finish_min_called_s": tickets.finish_min_called_s(conn),
        "server_ms": int(clock().ts() * 1000),
        "pause_reasons": [{"key": k, "value": v} for k, v, _ in PAUSE_REASONS],
    }
    return render_page("counter/console.html", page_messages={**CONSOLE_MESSAGES, **BOOKING_MESSAGES},
                       config=config,
                       counter=counter, agency=agency, user=config["user"],
                       pause_reasons=PAUSE_REASONS)
