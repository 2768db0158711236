"""Gunicorn settings for Giliran: one gevent worker, so websockets and plain
requests share one process (Flask-SocketIO's rule). See docs/performance.md
for the figures that chose gevent over threads."""

import settings

bind = settings.get("BIND")
workers = 1
# gevent by default; MPP_WORKER_CLASS=gthread runs 50 threads instead (slower, see docs).
worker_class = settings.get("WORKER_CLASS")
threads = 50 if worker_class == "gthread" else 1
if worker_class == "gevent":
    # gevent's worker with a cap on connections per client address (worker.py).
    worker_class = "worker.GiliranWorker"
worker_connections = 2000
# A websocket is a long request: never kill the worker for one.
timeout = 120
graceful_timeout = 20
# Idle keep-alive connections hold a SIGTERM up to this long.
keepalive = 2
accesslog = settings.get("ACCESS_LOG")
errorlog = "-"
loglevel = settings.get("LOG_LEVEL")


def post_worker_init(worker):
    """Start the app's background work inside the worker, and stop it on SIGTERM."""
    import signal

    import gc

    giliran = worker.wsgi.extensions["giliran"]
    giliran.start_background()
    # What the app made to start (modules, schemas, the spec) lives as long as the worker:
    # out of the collector's sight, a full collection scans only what requests leave.
    gc.collect()
    gc.freeze()
    handle_exit = worker.handle_exit

    def on_term(sig, frame):
        # gunicorn stops accepting within a second, then waits for open
        # requests; websockets never end by themselves, so close them then.
        handle_exit(sig, frame)
        giliran.shutdown(delay_s=1.5)

    signal.signal(signal.SIGTERM, on_term)
