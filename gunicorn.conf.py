"""Gunicorn settings for Giliran: one gevent worker, so websockets and plain
requests share one process (Flask-SocketIO's rule). See docs/performance.md
for the figures that chose gevent over threads."""

import os

bind = os.environ.get("MPP_BIND", "0.0.0.0:8000")
workers = 1
worker_class = "gevent"
worker_connections = 2000
# A websocket is a long request: never kill the worker for one.
timeout = 0 if False else 120
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("MPP_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("MPP_LOG_LEVEL", "info")


def post_worker_init(worker):
    """Start the app's background work (day roll-over) inside the worker."""
    worker.wsgi.extensions["giliran"].start_background()


def worker_int(worker):
    worker.wsgi.extensions["giliran"].stop_background()


def worker_exit(server, worker):
    app = getattr(worker, "wsgi", None)
    if app is not None:
        app.extensions["giliran"].stop_background()
