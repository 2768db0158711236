"""Every rate limit of the app, and the client's address they are keyed by.

One Flask-Limiter object, `limiter`, holds every limit. Its storage is in
memory: the server is one gunicorn worker (one process), so one dict sees
every request, and a restart forgets the counts (acceptable: a restart also
costs an attacker their connection). Several instances (MPP_MESSAGE_QUEUE)
each count their own requests.

Use it as a decorator on a route, keyed by `client_address()` unless said
otherwise:

    from web.limits import limiter, rate_limit
    @rate_limit("30 per minute", "too_many_lookups", "Too many lookups; wait a minute.")

or by hand (`over()` / `count()`) when only some outcomes count, as the
login counts only its failures. Every limit answers 429 in the error shape
of API.md with a `Retry-After` header. docs/security.md lists them all.

`client_address()` is the socket's address, or, only when the request came
from an address in MPP_TRUSTED_PROXIES, the address that proxy put last in
`X-Forwarded-For` (werkzeug's ProxyFix). Without the setting a forged header
is ignored.
"""

import ipaddress
import math
import re
import time

from flask import request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse
from werkzeug.middleware.proxy_fix import ProxyFix


def client_address():
    """The address of the client this request came from (see the module's docstring)."""
    return request.remote_addr or "unknown"


# moving-window: a limit of 20 per 5 minutes never lets 40 through across a
# window edge, and the wait after a breach is at most the window.
limiter = Limiter(key_func=client_address, storage_uri="memory://", strategy="moving-window",
                  headers_enabled=False)

_CODE = re.compile(r"^([a-z][a-z_]*): (.*)$", re.S)


def rate_limit(limit_value, code, message, **kwargs):
    """`limiter.limit` whose 429 carries this error code and message."""
    return limiter.limit(limit_value, error_message=f"{code}: {message}", **kwargs)


def over(limit_value, *keys):
    """Whether the hits recorded under `keys` already reach this limit ("20 per 5 minutes")."""
    return not limiter.limiter.test(parse(limit_value), *keys)


def count(limit_value, *keys):
    """Record one hit under `keys`; False once the limit is reached."""
    return limiter.limiter.hit(parse(limit_value), *keys)


def retry_after(limit_value, *keys):
    """Seconds until one more hit under `keys` would be allowed again (at least 1)."""
    reset_at, _remaining = limiter.limiter.get_window_stats(parse(limit_value), *keys)
    return max(1, math.ceil(reset_at - time.time()))


# -- trusted proxies -----------------------------------------------------------------


def parse_networks(value):
    """'10.0.0.1, 192.168.0.0/24' -> ip networks; ValueError for a bad entry."""
    nets = []
    for part in (value or "").replace(";", ",").split(","):
        part = part.strip()
        if part:
            nets.append(ipaddress.ip_network(part, strict=False))
    return nets


class TrustedProxyFix:
    """WSGI middleware: ProxyFix for requests from a trusted proxy, nothing for the rest.

    The proxy (nginx) appends the client's address to X-Forwarded-For and sets
    X-Forwarded-Proto / X-Forwarded-Host; only its own last entry is believed
    (one hop), so a client cannot smuggle an address through it either.
    """

    def __init__(self, app, networks):
        self.app = app
        self.networks = list(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def trusted(self, addr):
        try:
            ip = ipaddress.ip_address((addr or "").split("%")[0])
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def __call__(self, environ, start_response):
        if self.networks and self.trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


# -- wiring ---------------------------------------------------------------------------


def _too_many(error):
    from web.errors import respond

    message = str(getattr(error, "description", "") or "")
    m = _CODE.match(message)
    code, message = (m.group(1), m.group(2)) if m else ("too_many_requests",
                                                        "Too many requests; wait a moment.")
    wait = 60
    current = limiter.current_limit
    if current is not None:
        wait = max(1, math.ceil(current.reset_at - time.time()))
    return respond(429, code, message, headers={"Retry-After": str(wait)})


def init_app(app):
    """Bind the limiter to the app and put the trusted-proxy rule in front of it all.

    Call after Socket.IO's init_app, so that socket connections get the same address.
    """
    for key in ("LOGIN_FAILURES_PER_ADDRESS", "LOGIN_FAILURES_PER_ACCOUNT"):
        parse(app.config[key])  # a mistyped setting stops the start, not the first login
    app.config["KIOSK_ISSUES_PER_MINUTE"] = int(app.config["KIOSK_ISSUES_PER_MINUTE"])
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many)
    networks = parse_networks(app.config.get("TRUSTED_PROXIES"))
    app.config["TRUSTED_PROXY_NETWORKS"] = networks
    if networks:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, networks)
