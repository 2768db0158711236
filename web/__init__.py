"""The application factory: settings, the database, blueprints, Socket.IO."""

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from apiflask import APIFlask
from flask import current_app, request
from werkzeug.routing import IntegerConverter

from db import accounts, bookings, demo, migrations, sessions, tickets
from db.clock import Clock
from db.connection import Pool, connect, create_private, private_folder
from db.writer import Writer
import settings
from web import cli, compress, connections, errors, headers, i18n, input, limits, static_cache, surface
from web.database import close_db, db_session
from web.schemas import ErrorOut

log = logging.getLogger("giliran")

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {
    "DATABASE": settings.DEFAULTS["DATABASE"],
    "TIMEZONE": settings.DEFAULTS["TIMEZONE"],
    "ADMIN_PASSWORD": None,
    "DEMO": False,
    "PUBLIC_URL": None,
    "MESSAGE_QUEUE": None,
    "CLOCK_OFFSET_S": 0.0,
    "SOCKETIO_ASYNC_MODE": None,
    # Writes through the group-commit writer: on by default under gevent; the
    # tests turn it on with threads so that they run the production write path.
    "GROUP_COMMIT": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "BIND": None,
    "SURFACE": None,
    # MPP_TRUSTED_PROXIES: comma list of IPs/CIDRs whose X-Forwarded-For is believed.
    "TRUSTED_PROXIES": None,
    # A person's session: ended after this long without a request, and this long after login.
    "SESSION_IDLE_S": 4 * 3600,
    # MPP_KIOSK_ISSUES_PER_MINUTE: tickets one device token may issue per minute.
    "KIOSK_ISSUES_PER_MINUTE": settings.DEFAULTS["KIOSK_ISSUES_PER_MINUTE"],
    # Failed logins (Flask-Limiter strings, e.g. "20 per 5 minutes"); see docs/security.md.
    "LOGIN_FAILURES_PER_ADDRESS": settings.DEFAULTS["LOGIN_FAILURES_PER_ADDRESS"],
    "LOGIN_FAILURES_PER_ACCOUNT": settings.DEFAULTS["LOGIN_FAILURES_PER_ACCOUNT"],
    # A refused login is answered after this pause (docs/security.md, Logging in).
    "LOGIN_TARPIT_S": 1.0,
    "SESSION_MAX_S": 14 * 3600,
}


class IdConverter(IntegerConverter):
    """`<id:name>`: a positive integer SQLite can hold (bigger ones are 404, not 500)."""

    regex = r"\d{1,18}"


class Giliran:
    """What the running app holds beside Flask: its clock and background work."""

    def __init__(self, app, clock):
        self.app = app
        self.clock = clock
        # Group commit pays off on greenlets, where handing a write to the
        # writer is a cheap switch; between OS threads each hand-off waits for
        # the scheduler, so threaded servers write directly.
        group_commit = app.config["GROUP_COMMIT"]
        if group_commit is None:
            group_commit = app.config["SOCKETIO_ASYNC_MODE"] == "gevent"
        # The public instance's writes yield to the building's (db/writer.py).
        yields = surface.surface(app) == surface.PUBLIC
        self.writer = Writer(app.config["DATABASE"], yields=yields) if group_commit else None
        self.pool = Pool(app.config["DATABASE"], writer=self.writer)
        self.background = []
        self.stopping = False

    def start_background(self):
        """Start the workers that live as long as the server (day roll-over, spool).

        The public instance runs only its follower of the database: the
        building's instance owns the spool (a job must print once), the
        roll-over and the voice pack (docs/deploy.md).
        """
        from web.events import socketio

        if self.background:
            return
        follower = self.app.extensions.get("giliran_follower")
        if follower is not None:
            self.background.append(socketio.start_background_task(follower.run))
            return
        self.background.append(socketio.start_background_task(self._rollover_loop))
        # The default voice pack (espeak-ng), made once and cached beside the database.
        from display.announce import ensure_default_pack

        self.background.append(socketio.start_background_task(ensure_default_pack, self.app.config["DATABASE"]))
        # The print spool: pending jobs (also those left by a stopped server) print now.
        from printer.spool import Spool
        from web.printing import SpoolRuntime
        from web.events import publish_print

        self.app.extensions["giliran_spool"] = spool = Spool(self.app, SpoolRuntime(), publish_print)
        self.background += spool.start()
        # Webhook deliveries: those left by a stopped server go out now.
        from webhooks.worker import Deliverer

        self.app.extensions["giliran_webhooks"] = deliverer = Deliverer(self.app, SpoolRuntime())
        self.background += deliverer.start()

    def shutdown(self, delay_s=0.0):
        """SIGTERM: stop the background loops, then close every websocket.

        The delay lets gunicorn close its listening socket first, so that the
        clients' reconnection attempts go to the next server, not this one.
        """
        from web.events import socketio

        self.stopping = True
        for worker in ("giliran_spool", "giliran_webhooks"):
            if self.app.extensions.get(worker) is not None:
                self.app.extensions[worker].stop()

        def close_sockets():
            socketio.sleep(delay_s)
            # Abort rather than close: a client told "server disconnect" would
            # not reconnect; one whose transport drops does, to the next server.
            eio = socketio.server.eio
            try:
                for sock in list(eio.sockets.values()):
                    sock.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_CLOSE)
            except Exception:
                log.exception("closing websockets at shutdown failed")

        socketio.start_background_task(close_sockets)

    def _rollover_loop(self):
        from web.events import publish, socketio, sweep_sockets

        # Wakes every few seconds so that displays see yesterday's leftovers
        # expire soon after midnight even if nobody takes a ticket; also closes
        # the sockets of sessions that timed out (revocations close theirs at once).
        config = self.app.config
        while not self.stopping:
            try:
                with db_session(self.app) as conn:
                    with self.app.app_context():
                        change = tickets.rollover(conn, self.clock)
                        publish(conn, change)
                        # Bookings past their check-in window become missed; old personal data goes.
                        publish(conn, bookings.housekeep(conn, self.clock))
            except Exception:
                log.exception("roll-over check failed")
            try:
                with db_session(self.app) as conn:
                    sweep_sockets(conn, self.clock.ts(), config["SESSION_IDLE_S"], config["SESSION_MAX_S"])
            except Exception:
                log.exception("socket sweep failed")
            socketio.sleep(5)


def _secret_key(db_path):
    """The session key kept beside the database, made once, owner-only (0600) from the start."""
    path = Path(db_path).resolve().parent / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_folder(path.parent)
    tmp = path.parent / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    create_private(tmp, secrets.token_hex(32).encode())
    try:
        os.link(tmp, path)  # atomic: a second process starting at once keeps the first key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


def prepare_database(app):
    """Create or upgrade the database; bootstrap the admin and the demo MPP."""
    clock = app.extensions["giliran"].clock
    conn = connect(app.config["DATABASE"])
    try:
        ran = migrations.migrate(conn)
        if ran:
            log.info("applied migrations %s to %s", ran, app.config["DATABASE"])
        public = surface.surface(app) == surface.PUBLIC
        # The public instance creates no accounts and no demo: the building's does.
        if app.config["ADMIN_PASSWORD"] and not public:
            accounts.ensure_admin(conn, app.config["ADMIN_PASSWORD"])
        if app.config["DEMO"] and not public:
            demo.load(conn, clock, Path(app.config["DATABASE"]).resolve().parent)
        tickets.rollover(conn, clock)
        sessions.purge(conn, clock.ts())  # ended sessions are kept 30 days (docs/security.md)
    finally:
        conn.close()


class App(APIFlask):
    """APIFlask, with `ensure_sync`'s answer kept per function: Flask asks it of every view
    and hook on every request, and each time inspect unwrapped the function to learn that
    it is not a coroutine (1 % of a ticket's time on the event loop)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync = {}

    def ensure_sync(self, func):
        try:
            return self._sync[func]
        except KeyError:
            made = self._sync[func] = super().ensure_sync(func)
            return made
        except TypeError:  # not hashable: asked afresh
            return super().ensure_sync(func)


def create_app(test_config=None):
    """Build the Giliran app; `test_config` overrides the environment."""
    app = App(
        __name__, title="Giliran API", version="1.0",
        spec_path="/api/v1/openapi.json", docs_path=None,
        template_folder=str(ROOT / "web" / "templates"),
        static_folder=str(ROOT / "web" / "static"), static_url_path="/static",
    )
    app.config.update(DEFAULTS)
    app.config.update(settings.app_config())
    if test_config:
        app.config.update(test_config)
    # Decided once: Socket.IO's mode, and whether writes go through the group-commit writer.
    app.config["SOCKETIO_ASYNC_MODE"] = app.config["SOCKETIO_ASYNC_MODE"] or _async_mode()
    app.config.update(
        VALIDATION_ERROR_STATUS_CODE=400,
        VALIDATION_ERROR_SCHEMA=ErrorOut,
        HTTP_ERROR_SCHEMA=ErrorOut,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="giliran_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=14),
        JSON_SORT_KEYS=False,
        SYNC_LOCAL_SPEC=False,
    )
    if app.config["SURFACE"] not in (None, "", surface.PUBLIC, surface.BUILDING):
        raise ValueError(f"MPP_SURFACE must be 'public' or unset, not {app.config['SURFACE']!r}")
    if app.config["DATABASE"] == DEFAULTS["DATABASE"]:
        app.config["DATABASE"] = str(ROOT / DEFAULTS["DATABASE"])
    db_path = app.config["DATABASE"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(db_path)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    from web.auth import CookieSessions

    app.session_interface = CookieSessions()
    app.security_schemes = {
        "BearerAuth": {"type": "http", "scheme": "bearer"},
        "SessionCookie": {"type": "apiKey", "in": "cookie", "name": "giliran_session"},
    }
    clock = Clock(app.config["TIMEZONE"], float(app.config["CLOCK_OFFSET_S"] or 0))
    app.extensions["giliran"] = Giliran(app, clock)
    prepare_database(app)

    app.url_map.converters["id"] = IdConverter
    app.teardown_appcontext(close_db)
    errors.register(app)
    cli.register(app)
    i18n.init_app(app, ROOT)
    app.before_request(_csrf_guard)
    app.before_request(input.check_request)

    from admin.api import bp as admin_api
    # The rest of the admin's routes live beside admin/api.py, on its blueprint.
    from admin import manage_api, reports_api  # noqa: F401
    from admin.pages import bp as admin_pages
    from booking.api import bp as booking_api
    from booking.pages import bp as booking_pages
    from counter.api import bp as counter_api
    from counter.pages import bp as counter_pages
    from display.api import bp as display_api
    from display.pages import bp as display_pages
    from kiosk.api import bp as kiosk_api
    from kiosk.pages import bp as kiosk_pages
    from web.print_api import bp as printer_api
    from web.api import bp as core_api
    from web.auth import bp as auth_api
    from web.pages import bp as web_pages
    from webhooks.api import bp as webhooks_api

    for bp in (auth_api, core_api, admin_api, kiosk_api, counter_api, web_pages, kiosk_pages,
               counter_pages, display_pages, admin_pages, display_api, printer_api, booking_api,
               booking_pages, webhooks_api):
        app.register_blueprint(bp)
    headers.init_app(app)
    compress.init_app(app)
    static_cache.init_app(app)

    message_queue = app.config["MESSAGE_QUEUE"]
    if surface.surface(app) == surface.PUBLIC:
        surface.restrict_to_public(app)
        from web.follow import Follower

        app.extensions["giliran_follower"] = Follower(app)
        if message_queue:
            # The internet-facing process gets no handle on the building's event bus
            # (it could publish to every display); it follows the database instead.
            log.warning("MPP_MESSAGE_QUEUE is not used by the public instance; it follows the database")
            message_queue = None
    if message_queue and message_queue.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis  # noqa: F401  (Flask-SocketIO would only log "giving up" on each event)
        except ImportError:
            raise RuntimeError("MPP_MESSAGE_QUEUE is redis, but the redis package is not installed")

    from web.events import socketio

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=message_queue,
        logger=False, engineio_logger=False, json=input.SocketJSON,
    )
    input.refuse_hostile_packets(socketio)
    connections.init_app(app, socketio)
    # After Socket.IO wrapped wsgi_app: sockets see the same client address.
    limits.init_app(app)
    return app


def _async_mode():
    """gevent when the server monkey-patched for it (gunicorn -k gevent), else threads."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def _csrf_guard():
    """CSRF, as API.md's Conventions say: a write carrying the session cookie is refused
    (403 `csrf_refused`) when its Origin is `null` or another origin, or Sec-Fetch-Site
    says cross-site; without an Origin (not a browser) only a JSON body or none is served.

    Bearer-token callers (devices) carry no ambient credential and are not checked.
    SameSite=Lax cookies already keep a cross-site form post from carrying a session;
    this closes what Lax leaves open (sandboxed iframes send `Origin: null`, sibling
    hosts on the LAN count as same-site).
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.headers.get("Authorization"):
        return None
    # The login is checked too, cookie or not: a forged login is CSRF as well.
    if (request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]) is None
            and request.path != "/api/v1/auth/login"):
        return None
    origin = request.headers.get("Origin")
    refused = None
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        refused = "The browser says this request comes from another site."
    elif origin is not None:
        if origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower():
            refused = "Requests from another origin are not allowed."
    elif request.content_length not in (None, 0) or request.headers.get("Transfer-Encoding"):
        if request.mimetype != "application/json":
            refused = "Without an Origin header only a JSON body is accepted."
    if refused:
        return errors.respond(403, "csrf_refused", refused)
    return None
