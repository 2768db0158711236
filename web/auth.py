"""Who is asking: people by session cookie, devices by bearer token.

Every API view declares who may call it with `requires(...)`; agency scoping
(an officer operates only the counters of their agency) is checked with
`require_agency`.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass
from functools import wraps

from apiflask import APIBlueprint
from flask import g, request, session

from db import accounts
from db.errors import DomainError, Invalid
from web.database import get_db
from web.schemas import LoginIn, UserEnvelope

STAFF_ROLES = ("admin", "supervisor", "officer")


class Unauthorized(DomainError):
    status = 401
    code = "not_authenticated"
    message = "Log in, or send a device token."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class TooManyAttempts(DomainError):
    status = 429
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

    @property
    def is_staff(self):
        return self.kind == "user"

    @property
    def user_id(self):
        return self.id if self.kind == "user" else None

    @property
    def device_id(self):
        return self.id if self.kind == "device" else None


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


def actor_from(conn, token=None, user_id=None):
    """The Actor for a device token or a session's user id (Anonymous if neither holds)."""
    if token:
        device = accounts.device_by_token(conn, token)
        if device is None:
            return None
        return Actor("device", device["id"], device["kind"], None, device["name"], device)
    if user_id is not None:
        user = accounts.get_user(conn, user_id)
        if user is None or not user["active"]:
            return None
        return Actor("user", user["id"], user["role"], user["agency_id"], user["username"], user)
    return Actor()


def current_actor():
    """The caller of this request, worked out once per request."""
    if "actor" not in g:
        token = _bearer_token()
        if token is None and request.headers.get("Authorization"):
            raise Unauthorized("invalid_token", "The Authorization header must be 'Bearer <token>'.")
        actor = actor_from(get_db(), token=token, user_id=None if token else session.get("uid"))
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

        wrapper.giliran_who = who
        return wrapper

    return decorator


def require_agency(actor, agency_id):
    """Admins reach every agency; supervisors and officers only their own."""
    if actor.kind == "user" and (actor.role == "admin" or actor.agency_id == agency_id):
        return
    raise Forbidden("other_agency", "This belongs to another agency.")


# -- login ---------------------------------------------------------------------

# Failed logins per (client address, username), kept in memory: a restart
# forgets them, which is acceptable for a LAN appliance.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 300
_failures = {}
_failures_lock = threading.Lock()


def _check_rate(key):
    now = time.monotonic()
    with _failures_lock:
        recent = _failures.get(key)
        if recent is None:
            return
        while recent and recent[0] < now - FAILURE_WINDOW_S:
            recent.popleft()
        if len(recent) >= MAX_FAILURES:
            raise TooManyAttempts()


def _record_failure(key):
    with _failures_lock:
        if len(_failures) > 10000:
            _failures.clear()  # bounded memory under a flood of names
        _failures.setdefault(key, deque()).append(time.monotonic())


bp = APIBlueprint("auth", __name__, url_prefix="/api/v1/auth", tag="Auth")


@bp.post("/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(UserEnvelope, description="Logged in; the session cookie is set")
@bp.doc(summary="Log in a person", responses={401: "Bad credentials", 429: "Too many attempts"})
def login(body):
    key = (request.remote_addr, body["username"].lower())
    _check_rate(key)
    user = accounts.authenticate(get_db(), body["username"], body["password"])
    if user is None:
        _record_failure(key)
        raise Unauthorized("bad_credentials", "Wrong username or password.")
    session.clear()
    session["uid"] = user["id"]
    session.permanent = True
    return {"user": accounts.user_dict(user)}


@bp.post("/logout")
@bp.output({}, status_code=204, description="Logged out")
@bp.doc(summary="Log out", responses={401: "Not logged in"})
@requires("staff")
def logout():
    session.clear()
    return ""


@bp.get("/me")
@bp.output(UserEnvelope)
@bp.doc(summary="The logged-in person", responses={401: "Not logged in"})
@requires("staff")
def me():
    return {"user": accounts.user_dict(current_actor().row)}
