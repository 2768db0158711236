"""Connection limits inside the app: a body that does not arrive, a socket that never says who it is.

- `BodyDeadline` (WSGI middleware, outermost): a request body must arrive
  within MPP_BODY_TIMEOUT_S (default 5 s) plus one second per
  MPP_BODY_MIN_RATE bytes (default 50 kB/s, so a 200 MB video over the LAN
  still gets its time); past that the request is answered 408
  `body_timeout` and the connection closed. Under gevent only: it times each
  read with gevent.Timeout, which needs the cooperative sockets.
- `close_unconnected_sockets`: an Engine.IO connection (websocket or
  polling) that has not sent the Socket.IO CONNECT packet within
  MPP_SOCKET_CONNECT_TIMEOUT_S (default 10 s) is closed.

The per-address connection cap lives in the gunicorn worker (worker.py),
which sees connections before any request.
"""

import io
import json
import logging

import settings

log = logging.getLogger("giliran")

PREREAD_MAX = 1024 * 1024  # the app's JSON limit and Engine.IO's buffer size


class BodyTimeout(Exception):
    """The request's body did not arrive in time."""


class _DeadlineInput:
    """wsgi.input whose reads all end by one deadline."""

    def __init__(self, inner, seconds):
        import gevent

        self._inner = inner
        self._deadline = gevent.get_hub().loop.now() + seconds
        self._gevent = gevent

    def _call(self, name, *args):
        left = self._deadline - self._gevent.get_hub().loop.now()
        if left <= 0:
            if hasattr(self._inner, "failed"):
                self._inner.failed = True
            raise BodyTimeout()
        try:
            with self._gevent.Timeout(left):
                return getattr(self._inner, name)(*args)
        except self._gevent.Timeout:
            # gunicorn's Body: where the next request starts is unknown, so
            # the server closes the connection after the 408.
            if hasattr(self._inner, "failed"):
                self._inner.failed = True
            raise BodyTimeout() from None

    def read(self, *args):
        return self._call("read", *args)

    def readline(self, *args):
        return self._call("readline", *args)

    def readlines(self, *args):
        return self._call("readlines", *args)

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def body_timeout_response(start_response):
    """The 408 answer, in the error shape, closing the connection."""
    body = json.dumps({"error": {"code": "body_timeout",
                                 "message": "The request body did not arrive in time."}}).encode()
    start_response("408 Request Timeout", [("Content-Type", "application/json"),
                                           ("Content-Length", str(len(body))), ("Connection", "close")])
    return [body]


class BodyDeadline:
    """WSGI middleware: time-limit the reading of every request body (see the module's doc)."""

    def __init__(self, wsgi_app, timeout_s=settings.DEFAULTS["BODY_TIMEOUT_S"],
                 min_rate=settings.DEFAULTS["BODY_MIN_RATE"]):
        self.wsgi_app = wsgi_app
        self.timeout_s = timeout_s
        self.min_rate = min_rate

    def __call__(self, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if length > 0 or chunked:
            allowed = self.timeout_s + max(length, 0) / self.min_rate
            environ["wsgi.input"] = _DeadlineInput(environ["wsgi.input"], allowed)
            if 0 < length <= PREREAD_MAX:
                # Small bodies (JSON, Engine.IO polling) are read here, whole: Engine.IO
                # would log a failed read as a crash.
                try:
                    environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
                except BodyTimeout:
                    log.warning("request body did not arrive in time: %s %s",
                                environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
                    return body_timeout_response(start_response)
        try:
            return self.wsgi_app(environ, start_response)
        except BodyTimeout:
            log.warning("request body did not arrive in time: %s %s", environ.get("REQUEST_METHOD"),
                        environ.get("PATH_INFO"))
            return body_timeout_response(start_response)


class SocketIOPaths:
    """WSGI middleware: Flask-SocketIO's middleware for Engine.IO's path only; every other
    request goes straight to Flask, with what that middleware adds to it.

    Under gunicorn, engineio's middleware defines a new class on every request (a wrapper
    handing the socket to eventlet's websocket, which this server does not use) before it
    passes a plain HTTP request on: ~3 % of a ticket's CPU on the event loop, and a class
    a request for the garbage collector. For those requests Flask-SocketIO only puts the
    app in a copy of the environ (`flask.app`); so does this.
    """

    def __init__(self, middleware):
        self.middleware = middleware  # flask_socketio's _SocketIOMiddleware
        self.prefix = middleware.engineio_path
        self.flask_app = middleware.flask_app
        self.flask_wsgi = middleware.wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path is None or path.startswith(self.prefix) or self.middleware.static_files:
            return self.middleware(environ, start_response)
        environ = environ.copy()
        environ["flask.app"] = self.flask_app
        return self.flask_wsgi(environ, start_response)


def init_app(app, socketio):
    """Install the body deadline (under gevent) and the Socket.IO connect deadline."""
    if getattr(app.wsgi_app, "engineio_path", None) and hasattr(app.wsgi_app, "flask_app"):
        app.wsgi_app = SocketIOPaths(app.wsgi_app)
    if app.config["SOCKETIO_ASYNC_MODE"] == "gevent":
        app.wsgi_app = BodyDeadline(
            app.wsgi_app,
            settings.number("BODY_TIMEOUT_S", app.config), settings.number("BODY_MIN_RATE", app.config))
    close_unconnected_sockets(socketio, settings.number("SOCKET_CONNECT_TIMEOUT_S", app.config))


def close_unconnected_sockets(socketio, timeout_s):
    """Close an Engine.IO connection that sends no Socket.IO CONNECT within `timeout_s`."""
    server = socketio.server
    handle = server.eio.handlers.get("connect")

    def check(eio_sid):
        server.eio.sleep(timeout_s)
        if eio_sid in server.eio.sockets and not server.manager.sid_from_eio_sid(eio_sid, "/"):
            log.info("closing an Engine.IO connection that never connected to Socket.IO")
            server.eio.disconnect(eio_sid)

    def on_connect(eio_sid, environ):
        result = handle(eio_sid, environ) if handle else True
        if result is not False:
            server.eio.start_background_task(check, eio_sid)
        return result

    server.eio.on("connect", on_connect)
