"""Hostile input refused in one place, before any route or Socket.IO handler sees it.

Every JSON body (HTTP and Socket.IO) is parsed by `loads` here, which refuses
what would crash a handler further in: nesting deeper than MAX_DEPTH (Python's
parser would hit its recursion limit), integers beyond SQLite's 64 bits
(Python's int/str limit and SQLite's OverflowError), NaN/Infinity, and lone
UTF-16 surrogates such as "\\ud800" (SQLite cannot encode them). The HTTP side
is a `before_request` hook (`check_request`) that also looks at the query
string and the path; the Socket.IO side is `SocketJSON`, the JSON module
python-socketio decodes packets with, and `refuse_hostile_packets`, which
drops the connection that sent one.
"""

import json
import logging
import math
import re

from flask import request

log = logging.getLogger("giliran")

MAX_DEPTH = 32
MAX_INT = 2**63 - 1
MAX_INT_DIGITS = 20  # checked on the text first, so a 5,000-digit number is never converted
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_TYPES = ("application/json",)


class HostileInput(ValueError):
    """Input that is refused whole: `code` and `message` go into the error body."""

    def __init__(self, code, message, where=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.where = where


def _parse_int(text):
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS or abs(int(text)) > MAX_INT:
        raise HostileInput("number_too_large", f"Integers must lie within ±{MAX_INT}.")
    return int(text)


def _parse_float(text):
    if len(text) > 400:
        raise HostileInput("number_too_large", "Numbers must be at most 400 characters long.")
    value = float(text)
    if not math.isfinite(value):
        raise HostileInput("number_too_large", "Numbers must be finite.")
    return value


def _parse_constant(name):
    raise HostileInput("malformed_json", f"{name} is not JSON.")


def check_text(value, where="body"):
    """Raise HostileInput when a string holds a lone surrogate (SQLite cannot store it)."""
    if _SURROGATE.search(value):
        raise HostileInput("invalid_text", "Text must be valid Unicode (no lone surrogates).", where)


def check_value(value):
    """Walk a parsed JSON value (without recursion): depth, strings and keys."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_text(item)
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise HostileInput("json_too_deep", f"JSON may nest at most {MAX_DEPTH} levels.")
            if isinstance(item, dict):
                for key, sub in item.items():
                    check_text(key)
                    stack.append((sub, depth + 1))
            else:
                stack.extend((sub, depth + 1) for sub in item)


def loads(text, **kwargs):
    """json.loads that raises HostileInput (a ValueError) for input the server refuses."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_parse_constant, **kwargs)
    except RecursionError:
        raise HostileInput("json_too_deep", f"JSON may nest at most {MAX_DEPTH} levels.") from None
    check_value(value)
    return value


class SocketJSON:
    """The JSON module python-socketio encodes and decodes packets with."""

    dumps = staticmethod(json.dumps)
    loads = staticmethod(loads)


def refuse_hostile_packets(socketio):
    """A Socket.IO packet that `loads` refuses ends that client's connection, with one log line."""
    server = socketio.server
    handle = server._handle_eio_message

    def on_message(eio_sid, data):
        try:
            return handle(eio_sid, data)
        except (HostileInput, UnicodeDecodeError, ValueError) as exc:
            log.warning("refused a Socket.IO packet: %s", getattr(exc, "code", "malformed_packet"))
            server.eio.disconnect(eio_sid)
            return None

    server.eio.on("message", on_message)


def _refused(exc):
    from web.errors import respond

    fields = {exc.where: exc.message} if exc.where and exc.where != "body" else None
    return respond(400, exc.code, exc.message, fields)


def check_request():
    """before_request: refuse a hostile query string, path or JSON body with 400."""
    try:
        if request.query_string:  # else werkzeug would build an empty MultiDict to walk
            for key, value in request.args.items(multi=True):
                check_text(key, "query")
                check_text(value, key)
        for key, value in (request.view_args or {}).items():
            if isinstance(value, str):
                check_text(value, key)
        if request.mimetype in _JSON_TYPES or request.mimetype.endswith("+json"):
            data = request.get_data(cache=True)
            if data.strip():
                try:
                    loads(data)
                except HostileInput:
                    raise
                except ValueError:  # not JSON at all: the schema layer says malformed_json
                    pass
    except HostileInput as exc:
        return _refused(exc)
    return None
