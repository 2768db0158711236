"""The admin's and supervisor's pages, and the citizen's SKM survey page."""

from flask import request
from flask_babel import lazy_gettext as _l

from admin.booking_messages import BOOKING_ADMIN_MESSAGES
from admin.messages import ADMIN_MESSAGES, SURVEY_MESSAGES
from webhooks.messages import WEBHOOK_MESSAGES
from db import survey
from db.errors import NotFound
from web.auth import current_actor
from web.database import get_db
from web.i18n import pages_blueprint, render_page

bp = pages_blueprint("admin", __name__)

# Section -> its script; supervisors see only the first three (their agency's data).
SECTIONS = {"board": ["board.js"], "reports": ["reports.js", "bookings.js"], "ikm": ["reports.js"],
            "agencies": ["manage.js"], "services": ["manage.js"], "counters": ["manage.js"],
            "users": ["manage.js"], "devices": ["manage.js", "hardware.js"],
            "printers": ["manage.js", "hardware.js"], "display": ["settings.js"],
            "settings": ["settings.js"], "audit": ["settings.js"], "webhooks": ["webhooks.js"]}
SUPERVISOR_SECTIONS = ("board", "reports", "ikm")
# Online booking (admin/static/bookings.js): supervisors see their agency's bookings.
SECTIONS["bookings"] = ["bookings.js"]
SUPERVISOR_SECTIONS += ("bookings",)
PAGE_MESSAGES = {**ADMIN_MESSAGES, **BOOKING_ADMIN_MESSAGES, **WEBHOOK_MESSAGES}

REFUSED = {
    "officer": _l("These pages are for admins and supervisors. Officers work at /counter."),
    "supervisor": _l("This page is for admins only."),
    "device": _l("A kiosk or display cannot open the admin pages."),
}


def _refuse(reason):
    return render_page("admin/refused.html", message=REFUSED[reason]), 403


@bp.get("/admin")
@bp.get("/admin/<section>")
def admin(section="board"):
    """Every admin page: the same shell, one section's script."""
    if section not in SECTIONS:
        raise NotFound()
    actor = current_actor()
    if actor.kind is None:
        return render_page("admin/login.html", page_messages=ADMIN_MESSAGES)
    if actor.kind == "device":
        return _refuse("device")
    if actor.role == "officer":
        return _refuse("officer")
    if actor.role == "supervisor" and section not in SUPERVISOR_SECTIONS:
        return _refuse("supervisor")
    sections = list(SECTIONS) if actor.role == "admin" else list(SUPERVISOR_SECTIONS)
    me = {"id": actor.id, "username": actor.username, "role": actor.role, "agency_id": actor.agency_id}
    return render_page("admin/admin.html", page_messages=PAGE_MESSAGES,
                       config={"section": section, "sections": sections, "me": me},
                       section=section, sections=sections, scripts=SECTIONS[section], me=me)


@bp.get("/survey/<code>")
def survey_page(code):
    """The SKM survey for one finished ticket (from the tracking page or the counter's tablet)."""
    try:
        ticket = survey.ticket_for_survey(get_db(), code[:100])
    except NotFound:
        return render_page("admin/survey.html", page_messages=SURVEY_MESSAGES,
                           config={"state": "not_found"}), 404
    answered = survey.response_for(get_db(), ticket["id"]) is not None
    state = "already" if answered else ("open" if ticket["status"] == "done" else "not_done")
    source = "counter" if request.args.get("from") == "counter" else "tracking"
    return render_page("admin/survey.html", page_messages=SURVEY_MESSAGES,
                       config={"state": state, "code": ticket["code"], "number": ticket["number"],
                               "source": source})
