"""The lobby display's page, its voice clips and the MPP's media files."""

import re

from flask import current_app, send_file, send_from_directory
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from db.errors import NotFound
from db import display as display_db
from web.database import clock, get_db
from web.i18n import pages_blueprint, render_page

bp = pages_blueprint("display", __name__)

CLIP_FILE_RE = re.compile(r"^[a-z0-9_]{1,40}\.(wav|mp3|ogg)$")
YEAR_S = 365 * 24 * 3600

MESSAGES = {
    "now_calling": _l("Queue number"),
    "go_to": _l("please go to"),
    "kind_loket": _l("Counter"),
    "kind_meja": _l("Desk"),
    "kind_ruang": _l("Room"),
    "recent_calls": _l("Last calls"),
    "waiting": _l("Waiting"),
    "no_calls": _l("No calls yet today"),
    "enable_sound": _l("Turn on sound"),
    "sound_hint": _l("This browser blocks sound until someone taps once."),
    "offline_mark": _l("Offline"),
    "pair_title": _l("Pair this display"),
    "pair_text": _l("Open this page once with the display's device token: /display?token=…, or paste the token below."),
    "pair_token": _l("Display device token"),
    "pair_button": _l("Pair"),
    "pair_bad_token": _l("This token is unknown or revoked. Ask the admin for a display device token."),
    "pair_wrong_kind": _l("This token belongs to a kiosk, not a display."),
    "pair_offline": _l("The server cannot be reached. Check the network and try again."),
    "welcome": _l("Welcome"),
    "people": _l("people"),
    # a called ticket that came from a booking; a context, as "Booking" means more elsewhere
    "booking_tag": lazy_pgettext("booking tag", "Booking"),
}


@bp.get("/display")
def display():
    """The lobby display (paired by ?token=, which the page keeps and removes from the URL)."""
    return render_page("display.html", page_messages=MESSAGES,
                       config={"server_ms": int(clock().ts() * 1000)})


@bp.get("/display/voice/<name>/<filename>")
def voice_clip(name, filename):
    """One clip of a voice pack; URLs carry the pack's version, so browsers keep them for long."""
    if not display_db.PACK_NAME_RE.match(name) or not CLIP_FILE_RE.match(filename):
        raise NotFound("clip_not_found", "No such clip.")
    folder = display_db.packs_dir(current_app.config["DATABASE"]) / name
    resp = send_from_directory(folder, filename, max_age=YEAR_S)
    resp.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _send_media(path, mime, max_age):
    if not path.is_file():
        raise NotFound("media_not_found", "No such media.")
    # conditional=True answers Range requests, which video elements rely on.
    resp = send_file(path, mimetype=mime, max_age=max_age, conditional=True, etag=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.get("/media/logo")
def logo():
    """The MPP's logo."""
    path, mime = display_db.logo_path(get_db(), current_app.config["DATABASE"])
    return _send_media(path, mime, 300)


@bp.get("/media/<id:media_id>")
def media(media_id):
    """One of the MPP's images or videos (file names are ours, never the uploader's)."""
    path, mime = display_db.media_path(get_db(), current_app.config["DATABASE"], media_id)
    return _send_media(path, mime, 24 * 3600)
