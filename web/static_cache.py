"""Static files: a version in their URL, and a year in the browser's cache.

`url_for('static', filename=...)` (and each blueprint's `.static`) gets `?v=<version>`,
a short hash of the file's size and modification time. An answer to a URL whose `v`
is the file's current version may be kept a year without asking again
(`Cache-Control: public, max-age=31536000, immutable`): a phone that reopens its
tracking page on mobile data loads it from its cache instead of revalidating each
file. A changed file gets a new version, so a new URL; a URL without `v`, or with an
old one, is answered as before (`no-cache`: asked again each time, 304 when
unchanged). The fonts are named in the CSS by a plain relative URL, so they carry no
version: they are kept a week (they never change in practice; a changed one would be
seen within a week).
"""

import os
import zlib

from flask import request

YEAR = 365 * 24 * 3600
WEEK = 7 * 24 * 3600


def _folder(app, endpoint):
    if endpoint == "static":
        return app.static_folder
    bp = app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return bp.static_folder if bp is not None else None


def version(folder, filename):
    """The file's version (8 hex digits), or None when there is no such file."""
    try:
        st = os.stat(os.path.join(folder, filename))
    except (OSError, TypeError, ValueError):
        return None
    return f"{zlib.crc32(f'{st.st_mtime_ns}-{st.st_size}'.encode()):08x}"


def is_static(endpoint):
    """Whether `endpoint` serves the app's or a blueprint's static files."""
    return bool(endpoint) and (endpoint == "static" or endpoint.endswith(".static"))


def init_app(app):
    """Version the static URLs the pages render and cache the versioned answers."""

    @app.url_defaults
    def add_version(endpoint, values):
        if is_static(endpoint) and "v" not in values and "filename" in values:
            v = version(_folder(app, endpoint), values["filename"])
            if v:
                values["v"] = v

    @app.after_request
    def cache_versioned(response):
        if not is_static(request.endpoint) or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename") or ""
        if request.args.get("v") and request.args["v"] == version(_folder(app, request.endpoint), filename):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        elif request.endpoint == "static" and filename.startswith("fonts/") and filename.endswith(".woff2"):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = WEEK
        return response
