"""Security headers on every answer, through flask-talisman.

- Content-Security-Policy: everything from this server only ('self'), no
  inline script or style (the pages keep theirs in files; their settings
  travel as a JSON data block, see web/templates/base.html), no plugins,
  `frame-ancestors 'self'`. Images and media may also be `blob:` (the admin's
  previews of uploads).
- X-Frame-Options SAMEORIGIN for browsers without frame-ancestors; the lobby
  display may be framed by nothing (DENY, frame-ancestors 'none').
- X-Content-Type-Options: nosniff.
- Referrer-Policy: same-origin. The tracking code is in the URL (`/t/<code>`),
  so no other host may see it; `no-referrer` would also make browsers send
  `Origin: null` on the pages' own writes, which the CSRF rule refuses.
- No HSTS here: the building's server speaks plain HTTP on its LAN; the
  public surface's reverse proxy, which terminates TLS, sets it.
"""

import flask
from flask_talisman import DENY, SAMEORIGIN, Talisman
from werkzeug.datastructures import Headers

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' blob:",
    "media-src": "'self' blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}
# Pages that nothing may frame.
UNFRAMED = ("display_pages.display",)



class FixedHeaders(Talisman):
    """flask-talisman, with each endpoint's headers worked out once.

    Talisman rebuilds them on every answer (the view's options merged, the CSP string
    joined: ~4 % of a ticket's CPU on the event loop). They depend on the request only
    through a CSP nonce, HSTS (on a secure request) or forced HTTPS; an endpoint using
    none of those gets the same headers, in the same order, from a list made on its
    first answer. Any other endpoint goes through Talisman unchanged.
    """

    def __init__(self, app, **kwargs):
        self._fixed = {}  # endpoint -> [(name, value)], or None: not fixed
        super().__init__(app, **kwargs)

    def _headers_of(self, endpoint):
        if endpoint not in self._fixed:
            options = self._get_local_options()
            if (options["force_https"] or options["content_security_policy_nonce_in"]
                    or self.strict_transport_security or self.session_cookie_secure):
                self._fixed[endpoint] = None
            else:
                headers = Headers()
                super()._set_response_headers(_HeadersOnly(headers))
                self._fixed[endpoint] = list(headers.items())
        return self._fixed[endpoint]

    def _force_https(self):
        if self._headers_of(flask.request.endpoint) is None:
            return super()._force_https()
        return None  # nothing forced for this endpoint

    def _make_nonce(self):
        if self._headers_of(flask.request.endpoint) is None:
            super()._make_nonce()

    def _set_response_headers(self, response):
        fixed = self._headers_of(flask.request.endpoint)
        if fixed is None:
            return super()._set_response_headers(response)
        headers = response.headers
        for name, value in fixed:
            headers[name] = value
        return response


class _HeadersOnly:
    """Stands in for a response while Talisman writes an endpoint's headers once."""

    def __init__(self, headers):
        self.headers = headers


def init_app(app):
    """Put the headers on every response of the app (call after the blueprints)."""
    app.extensions["talisman"] = FixedHeaders(
        app,
        force_https=False,
        strict_transport_security=False,
        session_cookie_secure=False,  # the LAN is plain HTTP; the cookie must still work there
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        content_security_policy=CSP,
        frame_options=SAMEORIGIN,
        referrer_policy="same-origin",
        x_content_type_options=True,
    )
    unframed = {**CSP, "frame-ancestors": "'none'"}
    for endpoint in UNFRAMED:
        view = app.view_functions.get(endpoint)
        if view is not None:
            view.talisman_view_options = {"frame_options": DENY, "content_security_policy": unframed}
