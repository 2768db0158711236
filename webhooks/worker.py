"""The delivery worker: POSTs the outbox's deliveries, signed, with back-off.

It lives in the server beside the print spool (started by
`Giliran.start_background`): a dispatcher greenlet, woken after every
published commit and otherwise every second, starts a lane per webhook with
due deliveries; a healthy webhook gets up to `CONCURRENCY` lanes, a failing
one a single probe. Requests use short timeouts on gevent's cooperative
sockets (monkey-patched under gunicorn's gevent worker), so a slow or dead
receiver only ever waits in its own greenlet: the kiosks' and counters'
requests never queue behind it. A scheduler greenlet sends booking
reminders at the MPP's lead time (the app's clock) and prunes old
deliveries. Nothing about the payload is logged: it can carry names and
phone numbers.
"""

import logging
import threading
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

import settings
from background import Background
from db import webhooks as store
from webhooks.addresses import Refused, check_address, check_url, parse_bind

log = logging.getLogger("giliran.webhooks")

CONCURRENCY = 4  # lanes per healthy webhook
MAX_LANES = 32  # lanes in all
POLL_S = 1.0
USER_AGENT = "Giliran-Webhooks/1"


def delivery_settings(app):
    """Timeouts, back-off and retention: app config, then environment, then defaults."""

    def number(name, default=None):
        return settings.number(f"WEBHOOK_{name}", app.config, default)

    return {
        "connect_timeout_s": number("CONNECT_TIMEOUT_S"),
        "timeout_s": number("TIMEOUT_S"),
        "lease_s": number("LEASE_S"),
        "retry_min_s": number("RETRY_MIN_S", store.RETRY_MIN_S),
        "retry_max_s": number("RETRY_MAX_S", store.RETRY_MAX_S),
        "pause_after_s": number("PAUSE_AFTER_S", store.PAUSE_AFTER_S),
        "keep_s": number("KEEP_DAYS", store.KEEP_S / 86400) * 86400,
        "schedule_s": number("SCHEDULE_S"),
    }


def own_bind(app):
    """Giliran's own address and port, which no webhook may call."""
    return parse_bind(settings.get("BIND", app.config))


def checked_session(own):
    """A requests session whose every connection is checked on the address it reached."""

    def checked(base):
        class Checked(base):
            def _new_conn(self):
                sock = super()._new_conn()
                try:
                    peer = sock.getpeername()
                    check_address(peer[0], peer[1], own)
                except Refused:
                    sock.close()
                    raise
                return sock
        return Checked

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = checked(HTTPConnection)

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = checked(HTTPSConnection)

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the check must see the receiver
    adapter = Adapter(pool_connections=16, pool_maxsize=CONCURRENCY, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _error_text(exc):
    for cause in (exc, exc.__cause__, exc.__context__):
        if isinstance(cause, Refused):
            return f"refused: {cause}"
    text = str(exc)
    if "Refused" in type(exc).__name__ or "is Giliran's own API" in text or "link-local" in text:
        return "refused: " + text[-200:]
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed: " + (text.split("] ")[-1] if "] " in text else text)[-160:]
    return type(exc).__name__ + ": " + text[-160:]


class Deliverer(Background):
    """The worker: a dispatcher, lanes per webhook, a scheduler.

    `runtime` gives tasks, sleeps and wake-up events of the server's async mode
    (web/printing.py's SpoolRuntime); without one, only `run_once` works (tests).
    """

    name = "webhook dispatcher"
    poll_s = POLL_S
    log = log

    def __init__(self, app, runtime=None):
        super().__init__(app, runtime)
        self.lanes = {}  # webhook id -> lanes running
        self._lanes_lock = threading.Lock()
        self.session = checked_session(own_bind(app))
        self.sent = 0  # for the benchmark

    def loops(self):
        return [self._schedule_loop]

    # -- dispatching -----------------------------------------------------------

    def _dispatch(self, conn):
        """Start lanes for webhooks with due deliveries; seconds until the next is due."""
        now = self.clock.ts()
        wait = POLL_S
        for webhook_id, due, failing in store.due_webhooks(conn, now):
            if due > now:
                wait = min(wait, due - now)
                continue
            limit = 1 if failing else CONCURRENCY
            while True:
                with self._lanes_lock:
                    if (self.lanes.get(webhook_id, 0) >= limit
                            or sum(self.lanes.values()) >= MAX_LANES):
                        break
                    self.lanes[webhook_id] = self.lanes.get(webhook_id, 0) + 1
                self.runtime.spawn(self._lane, webhook_id)
        return max(0.01, wait)

    def run_once(self):
        """Try every delivery due now, in this thread (tests and drills); how many went out."""
        before = self.sent
        conn = self._connect()
        try:
            due = store.due_webhooks(conn, self.clock.ts())
        finally:
            conn.close()
        for webhook_id, when, _ in due:
            if when <= self.clock.ts():
                with self._lanes_lock:
                    self.lanes[webhook_id] = self.lanes.get(webhook_id, 0) + 1
                self._lane(webhook_id)
        return self.sent - before

    def _lane(self, webhook_id):
        conf = delivery_settings(self.app)
        conn = self._connect()
        try:
            for _ in range(1000):  # bounded; the dispatcher starts another lane if more wait
                if self.stopping:
                    break
                job = store.claim(conn, webhook_id, self.clock.ts(), conf["lease_s"])
                if job is None:
                    break
                ok = self._deliver(conn, job, conf)
                if not ok:
                    break  # the webhook now backs off; the dispatcher sends the next probe
        except Exception:
            log.exception("webhook lane of webhook %s failed", webhook_id)
        finally:
            conn.close()
            with self._lanes_lock:
                self.lanes[webhook_id] -= 1
                if not self.lanes[webhook_id]:
                    del self.lanes[webhook_id]
            self.wake()

    def _deliver(self, conn, job, conf):
        """One try of one delivery; records the outcome; True if it was delivered."""
        delivery = job["delivery"]
        raw = store.body(delivery["id"], job["event"], self.clock.iso(job["created_ts"]), job["data"])
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Giliran-Event": job["event"], "X-Giliran-Delivery": str(delivery["id"]),
                   "X-Giliran-Signature": store.signature(job["secret"], raw)}
        started = time.monotonic()
        status = error = None
        try:
            check_url(job["url"], own_bind(self.app), resolve=False)
            response = self.session.post(job["url"], data=raw, headers=headers,
                                         timeout=(conf["connect_timeout_s"], conf["timeout_s"]),
                                         allow_redirects=False, stream=True)
            status = response.status_code
            response.close()
            ok = 200 <= status < 300
            if not ok:
                error = f"HTTP {status}"
        except Refused as exc:
            ok, error = False, f"refused: {exc}"
        except Exception as exc:  # noqa: BLE001 - every failure is retried
            ok, error = False, _error_text(exc)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        outcome = store.record(conn, delivery["id"], delivery["attempts"], self.clock.ts(), ok=ok,
                               status_code=status, error=error, response_ms=elapsed_ms,
                               min_s=conf["retry_min_s"], max_s=conf["retry_max_s"],
                               pause_after_s=conf["pause_after_s"])
        if ok:
            self.sent += 1
        else:
            # Ids only: the payload may carry a citizen's name and phone.
            log.info("webhook %s delivery %s (%s) try %s failed: %s", delivery["webhook_id"],
                     delivery["id"], job["event"], delivery["attempts"], error)
            if outcome and outcome["paused"]:
                log.warning("webhook %s has failed for a day and is paused", delivery["webhook_id"])
        return ok

    # -- reminders and pruning -------------------------------------------------

    def _schedule_loop(self):
        conn = self._connect()
        last_prune = 0.0
        try:
            while not self.stopping:
                conf = delivery_settings(self.app)
                try:
                    if self.run_schedule(conn):
                        self.wake()
                    if time.monotonic() - last_prune > 3600:
                        store.prune(conn, self.clock.ts(), conf["keep_s"])
                        last_prune = time.monotonic()
                except Exception:
                    log.exception("webhook scheduler failed")
                self.runtime.sleep(conf["schedule_s"])
        finally:
            conn.close()

    def run_schedule(self, conn):
        """Time-driven events due now (booking reminders); how many were queued."""
        return store.queue_reminders(conn, self.clock)
