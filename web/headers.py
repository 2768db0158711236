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

from flask_talisman import DENY, SAMEORIGIN, Talisman

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



def init_app(app):
    """Put the headers on every response of the app (call after the blueprints)."""
    app.extensions["talisman"] = Talisman(
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
