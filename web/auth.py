"""Who is asking: people by session cookie, devices by bearer token.

Every API view declares who may call it with `requires(...)`; agency scoping
(an officer operates only the counters of their agency) is checked with
`require_agency`.
"""

import logging
from dataclasses import dataclass
from functools import wraps

from apiflask import APIBlueprint
from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface

from db import accounts, sessions
from db.errors import DomainError, Invalid
from web.database import clock, get_db
from web.limits import TooMany, client_address, count, over, retry_after
from web.passwords import Checker, LoginBusy
from web.schemas import LoginIn, UserEnvelope

log = logging.getLogger("giliran")

STAFF_ROLES = ("admin", "supervisor", "officer")


class Unauthorized(DomainError):
    status = 401
    code = "not_authenticated"
    message = "Log in, or send a device token."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class TooManyAttempts(TooMany):
    code = "too_many_attempts"
    message = "Too many failed logins; wait a few minutes and try again."


@dataclass
class Actor:
    """The caller of this request: a person, a device, or nobody."""

    kind: str | None = None  # "user", "device" or None
    id: int | None = None
    role: str | None = None  # admin/supervisor/officer for people, kiosk/display for devices
    agency_id: int | None = None
    username: str | None = None
    row: object = None
    session_id: int | None = None  # a person's server-side session (db/sessions.py)

    @property
    def is_staff(self):
        return self.kind == "user"

    @property
    def user_id(self):
        return self.id if self.kind == "user" else None

    @property
    def device_id(self):
        return self.id if self.kind == "device" else None


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, which builds nothing for a request without the
    cookie (every device's request: kiosks, displays); Flask made its signer first."""

    def open_session(self, app, request):
        # No Cookie header at all (a device): not even the cookies parsed, which walks
        # every header of the request to find it.
        if "HTTP_COOKIE" not in request.environ or not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def idempotency_key():
    """The request's `Idempotency-Key` header (None if absent); 400 unless 1-100 characters."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 100:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"Idempotency-Key": "1 to 100 characters."})
    return key


def actor_from(conn, token=None, session_token=None, ts=None):
    """The Actor for a device token or a session cookie's token (Anonymous if neither
    is given; None if the one given is unknown, revoked or ended)."""
    if token:
        device = accounts.device_by_token(conn, token)
        if device is None:
            return None
        accounts.touch_device(conn, device, ts if ts is not None else clock().ts())
        return Actor("device", device["id"], device["kind"], None, device["name"], device)
    if session_token is not None:
        live = sessions.live_session(conn, session_token, ts if ts is not None else clock().ts(),
                                     current_app.config["SESSION_IDLE_S"],
                                     current_app.config["SESSION_MAX_S"])
        user = accounts.get_user(conn, live["user_id"]) if live is not None else None
        if user is None or not user["active"]:
            return None
        actor = Actor("user", user["id"], user["role"], user["agency_id"], user["username"], user)
        actor.session_id = live["id"]
        return actor
    return Actor()


def current_actor():
    """The caller of this request, worked out once per request."""
    if "actor" not in g:
        token = _bearer_token()
        if token is None and request.headers.get("Authorization"):
            raise Unauthorized("invalid_token", "The Authorization header must be 'Bearer <token>'.")
        actor = actor_from(get_db(), token=token, session_token=None if token else session.get("sid"))
        if actor is None:
            if token:
                raise Unauthorized("invalid_token", "The device token is unknown or revoked.")
            session.clear()
            actor = Actor()
        g.actor = actor
    return g.actor


def allowed(actor, who):
    """Whether an actor matches one of the `who` labels."""
    for label in who:
        if label == "anyone":
            return True
        if label == "authenticated" and actor.kind is not None:
            return True
        if label == "staff" and actor.kind == "user":
            return True
        if label in STAFF_ROLES and actor.kind == "user" and actor.role == label:
            return True
        if label in ("kiosk", "display", "keypad") and actor.kind == "device" and actor.role == label:
            return True
    return False


def requires(*who):
    """Allow only callers matching one of: anyone, authenticated, staff, admin,
    supervisor, officer, kiosk, display, keypad. 401 for nobody, 403 for the wrong one."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if not allowed(actor, who):
                if actor.kind is None:
                    raise Unauthorized()
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


# The 401 and 403 that every route of a kind of caller documents; a route names its own in
# `errors` (a 403 that also covers another agency, a device's wording).
PEOPLE = {"staff", *STAFF_ROLES}
REFUSED = {("staff",): "Not staff", ("admin",): "Not an admin",
           ("admin", "supervisor"): "Not an admin or supervisor"}


def caller_errors(who):
    """{401: …, 403: …} documented for a route that `requires(*who)`; nothing for anyone."""
    if who == ("anyone",):
        return {}
    if not PEOPLE.issuperset(who):
        return {401: "Not authenticated"}  # devices, or anyone logged in: the 403 is the route's
    return {401: "Not logged in", **({403: REFUSED[who]} if who in REFUSED else {})}


def route(bp, method, path, *, who, summary, description=None, body=None, query=None, files=None,
          out=None, status=200, returns=None, content_type=None, errors=None, limit=None):
    """Declare an API route in one place: its path, who may call it (`requires(*who)`), what
    it takes (a `body` of JSON, a `query` string or a `files` form, handed to the view as
    `body` or `query`), what it answers (`out` with `status`, `returns` saying what it is,
    `content_type`) and its OpenAPI summary and description. The 401/403 of `who` are
    documented by themselves (`caller_errors`); `errors` adds the route's own ({409: "…"})
    or words one of those differently, in its own order. `limit` is a rate limit
    (web/limits.py) counted after who and before the body. `who=None` only for the login,
    which nobody is yet. The 400 of a bad body or query is APIFlask's own."""
    who = (who,) if isinstance(who, str) else who
    errors = errors or {}
    defaults = caller_errors(who) if who is not None else {}
    responses = {**{k: v for k, v in defaults.items() if k not in errors}, **errors}

    def declare(view):
        view = bp.doc(summary=summary, description=description, responses=responses or None,
                      security=[] if who == ("anyone",) else None)(view)
        answer = {"status_code": status, "description": returns}
        if content_type:
            answer["content_type"] = content_type
        view = bp.output(out if out is not None else {}, **answer)(view)
        for schema, location, arg_name in ((body, "json", "body"), (files, "files", "body"),
                                           (query, "query", "query")):
            if schema is not None:
                view = bp.input(schema, location=location, arg_name=arg_name)(view)
        if limit is not None:
            view = limit(view)
        if who is not None:
            view = requires(*who)(view)
        view.who = who  # every API route has it (tests/test_architecture.py)
        return bp.route(path, methods=[method])(view)

    return declare


def agency_scope(wanted=None):
    """The agency the caller's lists and reports cover (db.accounts.agency_scope)."""
    actor = current_actor()
    return accounts.agency_scope(actor.role, actor.agency_id, wanted)


def require_agency(actor, agency_id):
    """Admins reach every agency; supervisors and officers only their own."""
    if actor.kind == "user" and (actor.role == "admin" or actor.agency_id == agency_id):
        return
    raise Forbidden("other_agency", "This belongs to another agency.")


# -- login ---------------------------------------------------------------------

# Failed logins, counted by the app's one limiter (web/limits.py), per client
# address whatever the username (one machine guessing many accounts) and per
# account whatever the address (many machines guessing one); the settings
# LOGIN_FAILURES_PER_ADDRESS / _PER_ACCOUNT. Only failures count, and a success
# does not reset them (an attacker could interleave their own account's logins).
# See docs/security.md "Logging in".


def _login_limit(name):
    return current_app.config[name]


def _tarpit():
    """Hold a refused login a moment: a client hammering the login then costs the
    loop one cheap request a second per connection, not hundreds (a sleeping
    greenlet is nearly free)."""
    from web.events import socketio

    socketio.sleep(current_app.config["LOGIN_TARPIT_S"])


def _password_checker():
    ext = current_app.extensions
    if "giliran_passwords" not in ext:
        ext["giliran_passwords"] = Checker(current_app.config["SOCKETIO_ASYNC_MODE"] == "gevent")
    return ext["giliran_passwords"]


bp = APIBlueprint("auth", __name__, url_prefix="/api/v1/auth", tag="Auth")


@route(bp, "POST", "/login", who=None, body=LoginIn, out=UserEnvelope,
       returns="Logged in; the session cookie is set", summary="Log in a person",
       errors={401: "Bad credentials", 403: "csrf_refused: sent from another origin",
               429: "too_many_attempts (failure limits) or login_busy (too many at once)"})
def login(body):
    address, account = client_address(), body["username"].lower()[:100]
    per_address = _login_limit("LOGIN_FAILURES_PER_ADDRESS")
    per_account = _login_limit("LOGIN_FAILURES_PER_ACCOUNT")
    if over(per_address, "login-address", address):
        _tarpit()
        raise TooManyAttempts(retry_after(per_address, "login-address", address))
    if over(per_account, "login-account", account):
        _tarpit()
        raise TooManyAttempts(retry_after(per_account, "login-account", account))
    try:
        user = accounts.authenticate(get_db(), body["username"], body["password"],
                                     verify=_password_checker().for_address(address))
    except LoginBusy:
        _tarpit()
        raise
    if user is None:
        # Logged once, when a limit closes (the name is not logged: it may be a mistyped password).
        if not count(per_address, "login-address", address) or over(per_address, "login-address", address):
            log.warning("logins from %s refused for a while: too many failures", address)
        if not count(per_account, "login-account", account) or over(per_account, "login-account", account):
            log.warning("logins to one account refused for a while: too many failures (last from %s)",
                        address)
        raise Unauthorized("bad_credentials", "Wrong username or password.")
    conn, now = get_db(), clock().ts()
    previous = sessions.live_session(conn, session.get("sid"), now)
    if previous is not None:  # a new login in this browser replaces its old session
        sessions.end_session(conn, previous["id"], now, "replaced")
    _session_id, token = sessions.start_session(conn, user["id"], now)
    session.clear()
    session["sid"] = token
    session.permanent = True
    return {"user": accounts.user_dict(user)}


@route(bp, "POST", "/logout", who="staff", status=204, returns="Logged out", summary="Log out")
def logout():
    from web.events import disconnect_sockets

    actor = current_actor()
    sessions.end_session(get_db(), actor.session_id, clock().ts())
    disconnect_sockets(f"session:{actor.session_id}")
    session.clear()
    return ""


@route(bp, "GET", "/me", who="staff", out=UserEnvelope, summary="The logged-in person")
def me():
    return {"user": accounts.user_dict(current_actor().row)}
