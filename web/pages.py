"""The start page: where each kind of user goes; the icon."""

from flask import Blueprint, current_app, send_from_directory

from db import accounts
from web.database import get_db
from web.i18n import render_page

bp = Blueprint("web_pages", __name__)


@bp.get("/")
def index():
    """Links to the kiosk, the display, the counter console and the admin pages."""
    name = accounts.mpp_name(get_db())
    return render_page("index.html", mpp_name=name)


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for by themselves (a 404 there is a console error)."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/x-icon", max_age=7 * 24 * 3600)
