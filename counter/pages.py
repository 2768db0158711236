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
from counter.messages import CONSOLE_MESSAGES, START_MESSAGES

bp = pages_blueprint("counter", __name__)


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
