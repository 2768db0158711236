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

A limit on a hot route (the kiosk's issue limit, checked on every ticket) uses
`window_limit` instead: the same moving window kept in a deque per key, a few
microseconds a hit, where Flask-Limiter's in-memory storage costs about a
fifth of a ticket's CPU (it resolves the route's limits on each request,
inserts at the front of a list, and starts a timer to expire old hits).

`client_address()` is the socket's address, or, only when the request came
from an address in MPP_TRUSTED_PROXIES, the address that proxy put last in
`X-Forwarded-For` (werkzeug's ProxyFix). Without the setting a forged header
is ignored.
"""

import ipaddress
import math
import re
import time
from collections import deque
from functools import wraps

from flask import request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse
from werkzeug.middleware.proxy_fix import ProxyFix

from db.errors import DomainError


def client_address():
    """The address of the client this request came from (see the module's docstring)."""
    return request.remote_addr or "unknown"


class _Limiter(Limiter):
    def reset(self):
        """Forget every count, this limiter's and the hot routes' windows."""
        super().reset()
        windows.clear()


# moving-window: a limit of 20 per 5 minutes never lets 40 through across a
# window edge, and the wait after a breach is at most the window.
limiter = _Limiter(key_func=client_address, storage_uri="memory://", strategy="moving-window",
                   headers_enabled=False)


class MovingWindows:
    """Hits per key within a moving window, in memory (the server is one process).

    Each key keeps at most `limit` times, oldest first, so a key costs at most its
    limit in memory and a hit drops the expired times from the front.
    """

    def __init__(self):
        self._hits = {}

    def hit(self, key, limit, window_s, now=None):
        """Record a hit under `key` and return 0; or, when `limit` hits already fall within
        the last `window_s` seconds, record nothing and return the seconds to wait."""
        now = time.time() if now is None else now
        times = self._hits.get(key)
        if times is None:
            times = self._hits[key] = deque()
        while times and times[0] <= now - window_s:
            times.popleft()
        if len(times) >= limit:
            return max(1, math.ceil(times[0] + window_s - now))
        times.append(now)
        return 0

    def clear(self):
        self._hits.clear()


windows = MovingWindows()


class TooManyRequests(Exception):
    """A window_limit was reached (answered 429 with Retry-After, see init_app)."""

    def __init__(self, code, message, retry_after_s):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.retry_after_s = code, message, retry_after_s


def window_limit(limit_func, window_s, code, message, key_func, exempt_when=None):
    """At most `limit_func()` requests per `window_s` seconds per `key_func()`; past
    that 429 `code` with Retry-After. `exempt_when()` true: not counted at all."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if exempt_when is None or not exempt_when():
                wait = windows.hit(key_func(), int(limit_func()), window_s)
                if wait:
                    raise TooManyRequests(code, message, wait)
            return view(*args, **kwargs)

        return wrapper

    return decorator

_CODE = re.compile(r"^([a-z][a-z_]*): (.*)$", re.S)


class TooMany(DomainError):
    """A limit counted by hand (`over()`) was reached: 429, with `Retry-After: retry_after_s`."""

    status = 429
    code = "too_many_requests"
    message = "Too many requests; wait a few minutes and try again."

    def __init__(self, retry_after_s):
        super().__init__()
        self.retry_after_s = retry_after_s


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


def _too_many_window(error):
    from web.errors import respond

    return respond(429, error.code, error.message, headers={"Retry-After": str(error.retry_after_s)})


def init_app(app):
    """Bind the limiter to the app and put the trusted-proxy rule in front of it all.

    Call after Socket.IO's init_app, so that socket connections get the same address.
    """
    for key in ("LOGIN_FAILURES_PER_ADDRESS", "LOGIN_FAILURES_PER_ACCOUNT"):
        parse(app.config[key])  # a mistyped setting stops the start, not the first login
    app.config["KIOSK_ISSUES_PER_MINUTE"] = int(app.config["KIOSK_ISSUES_PER_MINUTE"])
    limiter.init_app(app)
    # The app has no default or application-wide limits, and a `rate_limit` route checks
    # its own limits in its decorator: the limiter's check before every request only
    # resolved, for each request, that there was nothing to check.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    # Likewise after each request: it adds X-RateLimit headers (off here) and applies
    # `deduct_when` conditions (none here); a `rate_limit` route must not use deduct_when.
    app.after_request_funcs[None] = [f for f in app.after_request_funcs[None]
                                     if getattr(f, "args", ())[:1] != (limiter,)]
    # And at each request's end it made its per-request state (kept on the request context,
    # which ends with the request) only to clear it.
    app.teardown_request_funcs[None] = [f for f in app.teardown_request_funcs[None]
                                        if getattr(f, "__self__", None) is not limiter]
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(TooManyRequests, _too_many_window)
    networks = parse_networks(app.config.get("TRUSTED_PROXIES"))
    app.config["TRUSTED_PROXY_NETWORKS"] = networks
    if networks:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, networks)
