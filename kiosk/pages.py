"""The kiosk's pages and the citizen's tracking page."""

from flask import Blueprint, render_template

from db import tickets
from db.errors import NotFound
from web.database import clock, get_db
from web.events import present_ticket

bp = Blueprint("kiosk_pages", __name__, template_folder="templates")


@bp.get("/t/<code>")
def track(code):
    """The citizen's page for one ticket (from the QR code)."""
    try:
        ticket = present_ticket(tickets.get_ticket_by_code(get_db(), clock(), code[:100]))
    except NotFound:
        return render_template("track_missing.html"), 404
    return render_template("track.html", ticket=ticket)
