"""The print spool: a background worker inside the server that prints the jobs
kept in `print_jobs`, in order per printer, retrying with back-off.

publish() wakes it after a commit that spooled a job, so the happy path has
no polling delay; a slow timer only serves back-off and jobs spooled by
another process. Each printer gets its own lane (a greenlet under gevent), so
one printer that is down never delays another. Network I/O is cooperative
under gevent; serial, USB and file I/O run in gevent's threadpool so that a
slow device never freezes the websockets. A job is claimed in the database
before it is printed, so two workers (or two processes) never print it twice,
and jobs left pending by a stopped server resume when the next one starts.
"""

import base64
import json
import logging
import threading
from pathlib import Path

import settings
from background import Background
from db import accounts, catalog, printjobs, queue
from printer import layout
from printer.transports import PrinterError, file_dirs, read_status, send

log = logging.getLogger("giliran.printer")

SEND_TIMEOUT_S = 5.0
LEASE_S = 30.0  # a claimed job comes back after this if its worker died mid-print
AGENT_LEASE_S = 30.0  # an agent that has not acknowledged by then gets the job again
POLL_S = 2.0  # the slow timer: back-off and other processes' jobs
TWO_WAY = ("network", "serial")  # transports that answer DLE EOT
DEFAULT_FOOTER = "Simpan karcis ini sampai nomor Anda dipanggil."


def print_settings(app, conn=None):
    """Retry and polling settings: admin setting, then app config, then environment."""
    max_attempts = settings.get("PRINT_MAX_ATTEMPTS", app.config)
    if conn is not None:
        max_attempts = accounts.get_setting(conn, "print_max_attempts") or max_attempts
    return {
        "max_attempts": int(max_attempts or printjobs.DEFAULT_MAX_ATTEMPTS),
        "retry_min_s": settings.number("PRINT_RETRY_MIN_S", app.config),
        "retry_max_s": settings.number("PRINT_RETRY_MAX_S", app.config),
        "status_every_s": settings.number("PRINTER_STATUS_S", app.config),
    }


def logo_path(app):
    """The MPP's uploaded logo (<db dir>/media/logo), if there is one."""
    path = Path(app.config["DATABASE"]).resolve().parent / "media" / "logo"
    return str(path) if path.is_file() else None


def tracking_url(app, code, base_url=None):
    """The ticket's tracking page as printed in the QR code."""
    base = app.config.get("PUBLIC_URL") or base_url or "/"
    return base.rstrip("/") + f"/t/{code}"


def ticket_info(app, conn, clock, ticket, base_url=None):
    """What printer/layout.py needs to lay out one ticket, from the database."""
    service = catalog.get_service(conn, ticket["service_id"])
    agency = catalog.get_agency(conn, service["agency_id"])
    return {
        "mpp_name": accounts.mpp_name(conn),
        "agency_name": agency["name"],
        "service_name": service["name"],
        "number": ticket["number"],
        "priority": ticket.get("priority_kind") if ticket.get("priority") else None,
        "issued_at": ticket["issued_at"],
        "ahead": ticket.get("ahead") or 0,
        "estimated_wait_s": ticket.get("estimated_wait_s") if ticket["status"] == "waiting" else None,
        "tracking_url": tracking_url(app, ticket["code"], base_url),
        "footer": accounts.get_setting(conn, "ticket_footer", DEFAULT_FOOTER),
        "logo_path": logo_path(app),
        # A booking's ticket is marked RESERVASI with its slot's time.
        "booking_start": ticket.get("slot_start") if ticket.get("booking_code") else None,
    }


def job_bytes(app, conn, clock, job, printer):
    """The ESC/POS bytes of a job: its ticket as it stands now, or a test page."""
    paper = printer["paper_mm"] or 80
    if job["ticket_id"] is None:
        return layout.test_page_bytes(printer["name"], paper)
    ticket = queue.get_ticket(conn, clock, job["ticket_id"])
    info = ticket_info(app, conn, clock, ticket, job["payload"].get("base_url"))
    return layout.ticket_bytes(info, paper)


class Spool(Background):
    """The worker: a dispatcher, one lane per printer with work, and a status poller.

    `runtime` gives it the server's tasks, sleeps and events and reaches the
    print agents (web/printing.py); `on_change(change)` is called with every
    committed print change, for the server to publish.
    """

    name = "print dispatcher"
    poll_s = POLL_S
    log = log

    def __init__(self, app, runtime, on_change):
        super().__init__(app, runtime)
        self.on_change = on_change
        self.lanes = set()
        self.locks = {}

    def loops(self):
        return [self._status_loop]

    def _sleep(self, seconds):
        self.runtime.sleep(seconds)

    def _lock(self, printer_id):
        # One conversation with a printer at a time: a status read must not
        # interleave with a job on the same serial line or TCP port.
        return self.locks.setdefault(printer_id, threading.Lock())

    def _blocking(self, transport, fn, *args, **kwargs):
        """Run device I/O where it cannot freeze the event loop."""
        if transport == "network" or not self.runtime.cooperative:
            return fn(*args, **kwargs)
        import gevent

        def caught():
            # Hand the printer's refusal back instead of raising it in the pool's
            # thread, where gevent would print a traceback for an expected failure.
            try:
                return fn(*args, **kwargs), None
            except (PrinterError, ValueError, OSError) as exc:
                return None, exc

        result, error = gevent.get_hub().threadpool.apply(caught)
        if error is not None:
            raise error
        return result

    def _publish(self, change):
        if change is not None:
            with self.app.app_context():
                self.on_change(change)

    # -- dispatching -----------------------------------------------------------

    def _dispatch(self, conn):
        """Start a lane for each printer whose next job is due; seconds until the next one."""
        now = self.clock.ts()
        wait = POLL_S
        for printer_id, due in printjobs.heads(conn):
            if printer_id in self.lanes:
                continue
            if due <= now:
                self.lanes.add(printer_id)
                self.runtime.spawn(self._lane, printer_id)
            else:
                wait = min(wait, due - now)
        return max(0.01, wait)

    def _lane(self, printer_id):
        conn = self._connect()
        try:
            for _ in range(1000):  # bounded; the dispatcher starts a new lane if more wait
                if self.stopping:
                    break
                printer = conn.execute("SELECT * FROM printers WHERE id = ?", (printer_id,)).fetchone()
                lease = AGENT_LEASE_S if printer and printer["transport"] == "agent" else LEASE_S
                job = printjobs.claim(conn, printer_id, self.clock.ts(), lease)
                if job is None:
                    break
                self._print(conn, printer, job)
        except Exception:
            log.exception("print lane of printer %s failed", printer_id)
        finally:
            conn.close()
            self.lanes.discard(printer_id)
            self.wake()

    def _print(self, conn, printer, job):
        try:
            data = job_bytes(self.app, conn, self.clock, job, printer)
        except Exception as exc:  # noqa: BLE001 - a job that cannot be laid out never will be
            log.exception("print job %s cannot be laid out", job["id"])
            self._publish(printjobs.mark_failed_try(conn, job["id"], self.clock.ts(),
                                                    f"layout: {exc}", max_attempts=0))
            return
        transport = printer["transport"]
        if transport == "agent":
            self._to_agent(conn, printer, job, data)
            return
        config = json.loads(printer["config"] or "{}")
        try:
            with self._lock(printer["id"]):
                # A file printer's path is checked again against the database's folder.
                self._blocking(transport, send, transport, config, data, SEND_TIMEOUT_S,
                               database=self.app.config["DATABASE"],
                               extra_dirs=file_dirs(self.app.config.get("PRINT_FILE_DIRS")))
        except (PrinterError, ValueError, OSError) as exc:
            status = getattr(exc, "status", "error")
            message = getattr(exc, "message", None) or str(exc)
            log.warning("print job %s on %s: %s", job["id"], printer["name"], message)
            self.job_failed(conn, printer["id"], job["id"], message, status, message)
            return
        self.job_printed(conn, printer["id"], job["id"])

    def job_printed(self, conn, printer_id, job_id):
        """A job came out of its printer (here or at a kiosk's agent): done, printer online."""
        self._publish(printjobs.mark_printed(conn, job_id, self.clock.ts()))
        self.record_status(conn, printer_id, "online", None, keep_near_end=True)

    def job_failed(self, conn, printer_id, job_id, error, status=None, detail=None):
        """A try of a job failed: back off and retry it (or give up after the admin's number of
        tries), and record the printer's `status` when it said one."""
        conf = print_settings(self.app, conn)
        self._publish(printjobs.mark_failed_try(
            conn, job_id, self.clock.ts(), error, max_attempts=conf["max_attempts"],
            min_s=conf["retry_min_s"], max_s=conf["retry_max_s"]))
        if status in printjobs.PRINTER_STATUSES:
            self.record_status(conn, printer_id, status, detail)

    def _to_agent(self, conn, printer, job, data):
        """Hand the job to the kiosk's print agent; it stays claimed until acknowledged."""
        room = f"agent:{printer['id']}"
        if not self.runtime.agent_connected(room):
            self.record_status(conn, printer["id"], "offline", "print agent not connected")
        self.runtime.to_agent(room, {
            "id": job["id"], "ticket_id": job["ticket_id"], "printer_id": printer["id"],
            "created_ts": job["created_ts"],
            "data": base64.b64encode(data).decode("ascii"),
        })

    # -- printer state -----------------------------------------------------------

    def record_status(self, conn, printer_id, status, detail, keep_near_end=False):
        """Store a printer's state and tell the admin and its kiosks when it changed."""
        if keep_near_end:
            now = conn.execute("SELECT status FROM printers WHERE id = ?", (printer_id,)).fetchone()
            if now and now[0] in ("online", "paper_near_end"):
                return None
        change = printjobs.set_printer_status(conn, printer_id, status, detail, self.clock.ts())
        self._publish(change)
        return change

    def read_status(self, conn, printer):
        """Ask a printer how it is now (DLE EOT), record and return its status."""
        transport = printer["transport"]
        if transport == "agent":
            return printer["status"]
        config = json.loads(printer["config"] or "{}")
        with self._lock(printer["id"]):
            status = self._blocking(transport, read_status, transport, config, 2.0)
        was = printer["status"]
        detail = None if status in ("online", "paper_near_end") else f"{transport}: {status}"
        self.record_status(conn, printer["id"], status, detail)
        if status in ("online", "paper_near_end") and was not in ("online", "paper_near_end"):
            # Back: retry its jobs now instead of at the end of their back-off.
            if printjobs.retry_now(conn, printer["id"], self.clock.ts()):
                self.wake()
        return status

    def _status_loop(self):
        conn = self._connect()
        try:
            while not self.stopping:
                self._sleep(print_settings(self.app)["status_every_s"])
                try:
                    printers = conn.execute(
                        "SELECT * FROM printers WHERE transport IN ('network', 'serial')").fetchall()
                except Exception:
                    log.exception("printer status check failed")
                    continue
                for printer in printers:
                    # A printer busy with a job answers through that job.
                    if self.stopping or printer["id"] in self.lanes:
                        continue
                    try:
                        self.read_status(conn, printer)
                    except Exception:
                        log.exception("status check of printer %s failed", printer["id"])
        finally:
            conn.close()

