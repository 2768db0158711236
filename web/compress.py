"""gzip for the pages and their static files: a citizen's phone on mobile data
downloads a third of the bytes (the Socket.IO client: 48 KB -> 15 KB).

Only what a browser loads to show a page is compressed: HTML, CSS, JavaScript and
SVG, at least MIN_SIZE bytes, in a 200 answer, to a client that accepts gzip. JSON
is not: the API's answers are small and the kiosks' and counters' latency is
worth more than their bytes. A static file is compressed once per version (its
ETag) and kept in memory; a page is compressed per answer (~0.1 ms for 10 KB).
The compressed answer's ETag is made weak (the same representation, other bytes:
what nginx does), so a browser's If-None-Match still gets its 304.

Compression over TLS leaks a body's size (BREACH): that matters for a secret in a
body that also reflects what an attacker sends. These pages carry no CSRF token
(CSRF is checked by Origin), no session secret, and the only code on a page is the
one in its own URL, which an attacker would need to know already.
"""

import gzip

from flask import request

from web.static_cache import is_static

TYPES = frozenset({"text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"})
MIN_SIZE = 1024
LEVEL = 6
_static = {}  # (path, etag) -> gzipped bytes
_STATIC_MAX = 512


def init_app(app):
    """Compress the app's answers (call after the blueprints)."""
    app.after_request(compress)


def _accepts_gzip():
    return request.accept_encodings.quality("gzip") > 0


def compress(response):
    """gzip `response` in place when it is a page or a static file the client may take gzipped."""
    if (response.status_code != 200 or response.mimetype not in TYPES
            or "Content-Encoding" in response.headers):
        return response
    response.vary.add("Accept-Encoding")
    if not _accepts_gzip():
        return response
    static = is_static(request.endpoint)
    if response.is_streamed and not static:
        return response  # a generator: leave it streaming
    etag, _ = response.get_etag()
    key = (request.path, etag) if static and etag else None
    body = _static.get(key) if key else None
    if body is None:
        response.direct_passthrough = False  # a static file's wrapper: read it once
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        body = gzip.compress(data, LEVEL, mtime=0)
        if key and len(_static) < _STATIC_MAX:
            _static[key] = body
    else:
        close = getattr(response.response, "close", None)  # the file, left unread
        if close:
            close()
        response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges would be of the other bytes
    if etag:
        response.set_etag(etag, weak=True)
    return response
