"""`MPP_SURFACE=public`: the citizens' surface, for exposure to the internet.

The same app factory builds it, then keeps only the routes named here: one
allowlist, in one place, by endpoint. A route added anywhere else in the
project is absent (404) on the public instance until it is listed here.

The public instance also refuses every credential: the session cookie is
never read or written (a null session interface), any `Authorization`
header is 401 `credentials_refused`, and Socket.IO takes only a tracking
page's `auth: {ticket: code}`.
"""

from flask import redirect, request
from flask.sessions import SecureCookieSession, SessionInterface
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import Map

from db.errors import DomainError, NotFound

PUBLIC = "public"
BUILDING = "building"

# endpoint -> why a citizen's page needs it
PUBLIC_ENDPOINTS = {
    # pages
    "booking_pages.booking": "/booking, the booking page",
    "booking_pages.card": "/b/<code>, the booking card",
    "booking_pages.qr": "/b/<code>/qr.svg, the card's QR code",
    "booking_pages.card_png": "/b/<code>/card.png, the card as an image",
    "booking_pages.ics": "/b/<code>/booking.ics, the calendar file",
    "public_pages.home": "/ sends the citizen to the booking page",
    "kiosk_pages.track": "/t/<code>, the tracking page",
    "admin_pages.survey_page": "/survey/<code>, the SKM survey",
    "web_pages.favicon": "/favicon.ico",
    # what the pages load
    "booking_pages.static": "the booking pages' CSS and scripts",
    "static": "shared CSS, giliran.js, the Socket.IO client, fonts, the icon",
    "kiosk_pages.static": "the tracking page's CSS and script (only those, below)",
    "admin_pages.static": "the survey page's CSS and script (only those, below)",
    # the API the pages call
    "core_api.health": "a reverse proxy's and systemd's health check",
    "core_api.get_ticket": "GET /api/v1/tickets/<code>",
    "core_api.cancel_ticket": "POST /api/v1/tickets/<code>/cancel (its holder withdraws a waiting ticket)",
    "kiosk_api.track_ticket": "GET /api/v1/tickets/<code>/track (the tracking page)",
    "admin_api.survey_state": "GET /api/v1/tickets/<code>/survey",
    "admin_api.submit_survey": "POST /api/v1/tickets/<code>/survey",
    "booking_api.bookable_services": "GET /api/v1/booking/services (agencies and services taking bookings)",
    "booking_api.list_slots": "GET /api/v1/services/<id>/slots",
    "booking_api.create_booking": "POST /api/v1/bookings",
    "booking_api.get_booking": "GET /api/v1/bookings/<code>",
    "booking_api.cancel_booking": "POST /api/v1/bookings/<code>/cancel",
}

# Static endpoints whose blueprint also serves other surfaces' files: only these files.
PUBLIC_STATIC_FILES = {
    "kiosk_pages.static": {"track.css", "track.js"},
    "admin_pages.static": {"survey.css", "survey.js"},
}


class CredentialsRefused(DomainError):
    status = 401
    code = "credentials_refused"
    message = "This is the public server: it takes no login and no device token."


class NoSessions(SessionInterface):
    """Never read a session cookie, never set one: the public instance knows no one."""

    def open_session(self, app, request):
        return SecureCookieSession()

    def save_session(self, app, session, response):
        return None


def surface(app):
    """`public` or `building` (the default: the whole app)."""
    return PUBLIC if app.config.get("SURFACE") == PUBLIC else BUILDING


def restrict_to_public(app):
    """Drop every route not in PUBLIC_ENDPOINTS and refuse every credential."""
    old = app.url_map
    kept = [rule.empty() for rule in old.iter_rules() if rule.endpoint in PUBLIC_ENDPOINTS]
    new = Map(kept, strict_slashes=old.strict_slashes, merge_slashes=old.merge_slashes,
              host_matching=old.host_matching, converters=dict(old.converters))
    new.default_subdomain = old.default_subdomain
    app.url_map = new
    app.add_url_rule("/", "public_pages.home", lambda: redirect("/booking"))
    app.session_interface = NoSessions()
    # First of all before-request hooks: nothing else runs for an absent route.
    app.before_request_funcs.setdefault(None, []).insert(0, _public_gate)


def _public_gate():
    # A method the kept route does not take is as absent as any other route.
    if isinstance(request.routing_exception, MethodNotAllowed):
        raise NotFound(message="No such thing here.")
    files = PUBLIC_STATIC_FILES.get(request.endpoint)
    if files is not None and (request.view_args or {}).get("filename") not in files:
        raise NotFound(message="No such thing here.")
    if "Authorization" in request.headers:
        raise CredentialsRefused()
    return None


def socket_refusal(app, auth):
    """Why a Socket.IO connection is refused on this surface (None: go on)."""
    if surface(app) != PUBLIC:
        return None
    if not isinstance(auth, dict) or set(auth) != {"ticket"} or not isinstance(auth["ticket"], str):
        return "public_ticket_only"
    if request.headers.get("Authorization"):
        return "credentials_refused"
    return None
