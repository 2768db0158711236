"""The start page: where each kind of user goes."""

from flask import Blueprint, current_app

from db import accounts
from web.database import get_db
from web.i18n import render_page

bp = Blueprint("web_pages", __name__)


@bp.get("/")
def index():
    """Links to the kiosk, the display, the counter console and the admin pages."""
    name = accounts.get_setting(get_db(), "mpp_name", "Mal Pelayanan Publik")
    return render_page("index.html", mpp_name=name)


@bp.get("/favicon.ico")
def favicon():
    """The browser's tab icon (a ticket, kept in the repository): no 404 on any page."""
    response = current_app.send_static_file("favicon.ico")
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response
