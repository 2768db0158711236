"""Every failure in the shape of API.md: {"error": {code, message, fields?}}.

API paths always get JSON; pages get a plain page in Indonesian and English.
"""

import logging
import re

from flask import jsonify, render_template_string, request
from werkzeug.exceptions import BadRequest, HTTPException

from db.errors import DomainError

log = logging.getLogger("giliran")

# Werkzeug's status names, as snake_case codes.
_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 408: "body_timeout", 409: "conflict", 413: "body_too_large",
    415: "unsupported_media_type", 429: "too_many_requests", 500: "internal_error",
    503: "unavailable",
}

PAGE = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ status }} — Giliran</title>
<link rel="stylesheet" href="/static/error.css"></head><body>
<h1>{{ id_text }}</h1><p class="en" lang="en">{{ en_text }}</p>
<p><a href="/">Kembali ke awal / Back to start</a></p></body></html>"""

_PAGE_TEXTS = {
    404: ("Halaman tidak ditemukan.", "Page not found."),
    405: ("Cara membuka halaman ini tidak didukung.", "This page does not accept that method."),
    500: ("Terjadi kesalahan pada server. Silakan coba lagi.", "The server had a problem. Please try again."),
    503: ("Sistem sedang sibuk. Silakan coba lagi sebentar lagi.", "The system is busy. Please try again shortly."),
}


def error_body(code, message, fields=None):
    """The error JSON of API.md."""
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = {str(k): str(v) for k, v in fields.items()}
    return {"error": body}


def _wants_json():
    return request.path.startswith("/api/") or request.path.startswith("/socket.io")


def _flatten(messages, prefix=""):
    """marshmallow's nested messages -> {field: 'sentence'}."""
    out = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(_flatten(value, name))
            else:
                out[name] = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    elif isinstance(messages, list):
        out[prefix or "body"] = " ".join(str(m) for m in messages)
    return out


def respond(status, code, message, fields=None, headers=None):
    """An error answer: the API's JSON shape, or a plain page for a browser."""
    if _wants_json():
        resp = jsonify(error_body(code, message, fields))
    else:
        id_text, en_text = _PAGE_TEXTS.get(status, (message, message))
        resp = render_template_string(PAGE, status=status, id_text=id_text, en_text=en_text)
        resp = (resp, status)
        from flask import make_response

        resp = make_response(resp)
    resp.status_code = status
    for key, value in (headers or {}).items():
        if key.lower() != "content-type":
            resp.headers[key] = value
    return resp


def api_error_processor(error):
    """APIFlask's HTTPError (validation, aborts) in the project's shape."""
    status = error.status_code
    detail = error.detail or {}
    if status in (400, 422) and detail:
        fields = {}
        for location in ("json", "query", "form", "path", "files"):
            if location in detail:
                fields.update(_flatten(detail[location]))
        if not fields:
            fields = _flatten(detail)
        if "_schema" in fields:  # body is not a JSON object at all
            return respond(400, "malformed_body", "The body must be a JSON object.")
        return respond(400, "validation_error", "Some fields are not valid.", fields)
    message = error.message or "Error"
    if status == 400 and re.search(r"json", str(message), re.I):
        return respond(400, "malformed_json", "The body is not valid JSON.")
    code = _CODES.get(status, re.sub(r"[^a-z]+", "_", str(message).lower()).strip("_"))
    messages = {
        404: "No such thing here.",
        405: "This method is not allowed here.",
        413: "The body is too large.",
        415: "Send the body as application/json.",
    }
    return respond(status, code, messages.get(status, str(message)), headers=error.headers)


def handle_bad_request(error):
    """Werkzeug's 400s: mostly a body that is not JSON (webargs says so in `data`)."""
    messages = (getattr(error, "data", None) or {}).get("messages") or {}
    if "json" in messages or "JSON" in str(error.description):
        return respond(400, "malformed_json", "The body is not valid JSON.")
    return respond(400, "bad_request", "The request is not valid.")


def handle_domain_error(error):
    """A rule of the queue (or the database) said no."""
    if error.status == 503:
        log.warning("database problem: %s %s", error.code, getattr(error, "detail", ""))
    headers = {"Retry-After": "2"} if error.status == 503 else None
    if getattr(error, "retry_after_s", None):
        headers = {"Retry-After": str(error.retry_after_s)}
    return respond(error.status, error.code, error.message, error.fields, headers)


def handle_unexpected(error):
    """Last resort: log it, answer 500 in the same shape."""
    if isinstance(error, HTTPException):
        return respond(error.code or 500, _CODES.get(error.code, "error"), error.description or "")
    log.exception("unexpected error on %s %s", request.method, request.path)
    return respond(500, "internal_error", "Something went wrong on the server; nothing was changed.")


def handle_body_timeout(error):
    """The request's body did not arrive in time (web/connections.py): 408, and close."""
    log.warning("request body did not arrive in time: %s %s", request.method, request.path)
    return respond(408, "body_timeout", "The request body did not arrive in time.",
                    headers={"Connection": "close"})


def register(app):
    """Install the handlers on the app."""
    from web.connections import BodyTimeout

    app.register_error_handler(BodyTimeout, handle_body_timeout)
    app.error_processor(api_error_processor)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(BadRequest, handle_bad_request)
    app.register_error_handler(Exception, handle_unexpected)
