"""The kiosk touchscreen and the citizen's tracking page (with its QR code)."""

import io

import qrcode
import qrcode.image.svg
from flask import Response, current_app

import settings
from db import accounts
from db.errors import NotFound
from kiosk.api import tracking_view
from kiosk.checkin import CHECKIN_MESSAGES, checkin_config
from kiosk.messages import KIOSK_MESSAGES, TRACK_MESSAGES
from web.database import get_db
from web.events import tracking_url
from web.i18n import pages_blueprint, render_page

bp = pages_blueprint("kiosk", __name__)


def _idle_seconds(name):
    """Idle times, overridable per installation (MPP_KIOSK_IDLE_S, MPP_KIOSK_TICKET_S)."""
    return settings.number(name, current_app.config, low=5, high=600, cast=int)


@bp.get("/kiosk")
def kiosk():
    """The touchscreen; pairs itself from `?token=` (then kept in the browser), never from here."""
    name = accounts.mpp_name(get_db())
    return render_page("kiosk/kiosk.html", page_messages={**KIOSK_MESSAGES, **CHECKIN_MESSAGES},
                       config={"idle_s": _idle_seconds("KIOSK_IDLE_S"),
                               "ticket_s": _idle_seconds("KIOSK_TICKET_S"),
                               **checkin_config()},
                       mpp_name=name)


@bp.get("/t/<code>")
def track(code):
    """The citizen's page for one ticket (from the QR code)."""
    try:
        view = tracking_view(get_db(), code)
    except NotFound:
        return render_page("kiosk/track_missing.html"), 404
    return render_page("kiosk/track.html", page_messages=TRACK_MESSAGES,
                       config={"code": view["ticket"]["code"], "view": view}, view=view)


@bp.get("/t/<code>/qr.svg")
def track_qr(code):
    """The QR code of a ticket's tracking page, as SVG (the kiosk shows it)."""
    try:
        view = tracking_view(get_db(), code)
    except NotFound:
        return Response("not found", status=404, mimetype="text/plain")
    image = qrcode.make(tracking_url(view["ticket"]["code"]),
                        image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})
