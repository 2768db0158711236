"""Print jobs: the spool's state changes, one `BEGIN IMMEDIATE` each.

A job is `pending` (waiting to be tried; `next_try_ts` says when), `printing`
(claimed by a worker or sent to a print agent; `next_try_ts` is then the end
of that lease, after which another worker may take it again), `printed` or
`failed`. Each printer prints its jobs in order: only the oldest open job of
a printer can be claimed. Nothing here knows about sockets or printers.
"""

import json
from dataclasses import dataclass, field

from db.catalog import audit
from db.connection import write
from db.errors import Conflict, found

OPEN = ("pending", "printing")
STATUSES = ("pending", "printing", "printed", "failed")
PRINTER_STATUSES = ("online", "offline", "paper_out", "paper_near_end", "error", "unknown")
DEFAULT_MAX_ATTEMPTS = 10


@dataclass
class PrintChange:
    """What one print-job call changed, to publish after commit."""

    job: dict | None = None
    print_job_id: int | None = None  # a job to wake the spool for
    ticket_id: int | None = None
    print_status: str | None = None  # the ticket's print_status now, if it is news
    device_id: int | None = None  # the kiosk that issued the ticket
    error: str | None = None
    printer: dict | None = None  # a printer whose status changed
    printer_devices: list = field(default_factory=list)  # kiosks using that printer
    replayed: bool = False


def job_dict(row):
    """A print job as the API shows it."""
    return {"id": row["id"], "ticket_id": row["ticket_id"], "printer_id": row["printer_id"],
            "device_id": row["device_id"], "status": row["status"], "attempts": row["attempts"],
            "error": row["error"], "payload": json.loads(row["payload"] or "{}"),
            "created_ts": row["created_ts"], "next_try_ts": row["next_try_ts"],
            "done_ts": row["done_ts"]}


def backoff_s(attempts, min_s=2.0, max_s=30.0):
    """Seconds to wait after the `attempts`-th failed try: doubling, capped."""
    return min(max_s, min_s * 2 ** max(0, attempts - 1))


def _job_row(conn, job_id):
    return found(conn.execute("SELECT * FROM print_jobs WHERE id = ?", (job_id,)).fetchone(), "print_job")


def get_job(conn, job_id):
    """One print job by id."""
    return job_dict(_job_row(conn, job_id))


def head(conn, printer_id):
    """The oldest open job of a printer (the only one it may print next), or None."""
    row = conn.execute(
        "SELECT * FROM print_jobs WHERE printer_id = ? AND status IN ('pending', 'printing') "
        "ORDER BY id LIMIT 1", (printer_id,)).fetchone()
    return job_dict(row) if row else None


def heads(conn):
    """[(printer_id, next_try_ts)] of every printer's oldest open job."""
    return [(r[0], r[1] or 0.0) for r in conn.execute(
        "SELECT printer_id, next_try_ts FROM print_jobs WHERE id IN ("
        " SELECT min(id) FROM print_jobs WHERE status IN ('pending', 'printing')"
        " GROUP BY printer_id)")]


def list_jobs(conn, *, printer_id=None, status=None, ticket_id=None, limit=100, oldest_first=False):
    """Jobs, newest first (or oldest first), filtered by printer, status or ticket."""
    where, args = [], []
    for column, value in (("printer_id", printer_id), ("status", status), ("ticket_id", ticket_id)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    sql = "SELECT * FROM print_jobs" + (" WHERE " + " AND ".join(where) if where else "")
    order = "id" if oldest_first else "id DESC"
    return [job_dict(r) for r in conn.execute(sql + f" ORDER BY {order} LIMIT ?", (*args, limit))]


def job_counts(conn, since_ts):
    """{printer_id: {"pending": n, "failed": n, "last_error": str}}; failures since since_ts."""
    counts = {}
    for pid, status, n in conn.execute(
            "SELECT printer_id, status, count(*) FROM print_jobs WHERE status IN "
            "('pending', 'printing') OR (status = 'failed' AND done_ts >= ?) "
            "GROUP BY printer_id, status", (since_ts,)):
        entry = counts.setdefault(pid, {"pending": 0, "failed": 0, "last_error": None})
        entry["failed" if status == "failed" else "pending"] += n
    for pid, error in conn.execute(
            "SELECT printer_id, error FROM print_jobs WHERE id IN (SELECT max(id) FROM print_jobs"
            " WHERE error IS NOT NULL GROUP BY printer_id)"):
        counts.setdefault(pid, {"pending": 0, "failed": 0, "last_error": None})["last_error"] = error
    return counts


def printer_devices(conn, printer_id):
    """Ids of the kiosks that print on this printer."""
    return [r[0] for r in conn.execute(
        "SELECT id FROM devices WHERE printer_id = ? AND active = 1 ORDER BY id", (printer_id,))]


def _ticket_status(conn, job, status):
    """Set the ticket's print_status; a reprint's outcome overrides an older job's."""
    if job["ticket_id"] is None:
        return None
    newer = conn.execute("SELECT 1 FROM print_jobs WHERE ticket_id = ? AND id > ? LIMIT 1",
                         (job["ticket_id"], job["id"])).fetchone()
    if newer and status != "printed":
        return None  # a later job for this ticket speaks for it
    conn.execute("UPDATE tickets SET print_status = ? WHERE id = ?", (status, job["ticket_id"]))
    return status


def _change(conn, row, print_status, error=None):
    job = job_dict(row)
    device = job["device_id"]
    if device is None and job["ticket_id"] is not None:
        device = conn.execute("SELECT issued_by_device FROM tickets WHERE id = ?",
                              (job["ticket_id"],)).fetchone()[0]
    return PrintChange(job=job, ticket_id=job["ticket_id"], print_status=print_status,
                       device_id=device, error=error)


# -- the worker's side -----------------------------------------------------------


def _claim(conn, printer_id, now, lease_s):
    job = head(conn, printer_id)
    if job is None or (job["next_try_ts"] or 0) > now:
        return None
    row = conn.execute(
        "UPDATE print_jobs SET status = 'printing', attempts = attempts + 1, next_try_ts = ? "
        "WHERE id = ? AND status IN ('pending', 'printing') AND coalesce(next_try_ts, 0) <= ? "
        "RETURNING *", (now + lease_s, job["id"], now)).fetchone()
    return job_dict(row) if row else None


def claim(conn, printer_id, now, lease_s=30.0):
    """Take the printer's oldest open job if it is due, for lease_s seconds; else None.

    The guarded UPDATE inside BEGIN IMMEDIATE means two workers (or two
    processes) never hold one job at once.
    """
    return write(conn, _claim, printer_id, now, lease_s)


def _mark_printed(conn, job_id, now):
    row = _job_row(conn, job_id)
    if row["status"] == "printed":
        return PrintChange(job=job_dict(row), replayed=True)
    # A late acknowledgement of a job already marked failed still means paper came out.
    row = conn.execute("UPDATE print_jobs SET status = 'printed', done_ts = ?, error = NULL "
                       "WHERE id = ? RETURNING *", (now, job_id)).fetchone()
    return _change(conn, row, _ticket_status(conn, job_dict(row), "printed"))


def mark_printed(conn, job_id, now):
    """The printer took the job (or the agent acknowledged it); idempotent."""
    return write(conn, _mark_printed, job_id, now)


def _mark_failed_try(conn, job_id, now, error, max_attempts, min_s, max_s):
    row = _job_row(conn, job_id)
    if row["status"] not in OPEN:
        return PrintChange(job=job_dict(row), replayed=True)
    error = (error or "print failed")[:500]
    if row["attempts"] >= max_attempts:
        row = conn.execute("UPDATE print_jobs SET status = 'failed', done_ts = ?, error = ? "
                           "WHERE id = ? RETURNING *", (now, error, job_id)).fetchone()
        return _change(conn, row, _ticket_status(conn, job_dict(row), "failed"), error)
    row = conn.execute(
        "UPDATE print_jobs SET status = 'pending', next_try_ts = ?, error = ? WHERE id = ? "
        "RETURNING *", (now + backoff_s(row["attempts"], min_s, max_s), error, job_id)).fetchone()
    return _change(conn, row, "pending", error)


def mark_failed_try(conn, job_id, now, error, *, max_attempts=DEFAULT_MAX_ATTEMPTS,
                    min_s=2.0, max_s=30.0):
    """A try failed: back off and retry, or mark the job failed after max_attempts tries."""
    return write(conn, _mark_failed_try, job_id, now, error, max_attempts, min_s, max_s)


def _retry_now(conn, printer_id, now, leased):
    states = OPEN if leased else ("pending",)
    marks = ",".join("?" * len(states))
    return conn.execute(
        f"UPDATE print_jobs SET next_try_ts = ? WHERE printer_id = ? AND status IN ({marks}) "
        "AND next_try_ts > ?", (now, printer_id, *states, now)).rowcount


def retry_now(conn, printer_id, now, *, leased=False):
    """Make a printer's waiting jobs due now (it is back); `leased` also ends agent leases."""
    return write(conn, _retry_now, printer_id, now, leased)


def _set_printer_status(conn, printer_id, status, detail, now):
    row = found(conn.execute("SELECT * FROM printers WHERE id = ?", (printer_id,)).fetchone(), "printer")
    detail = (detail or None) and str(detail)[:300]
    if row["status"] == status and row["status_detail"] == detail:
        conn.execute("UPDATE printers SET status_ts = ? WHERE id = ?", (now, printer_id))
        return None
    row = conn.execute("UPDATE printers SET status = ?, status_detail = ?, status_ts = ? "
                       "WHERE id = ? RETURNING *", (status, detail, now, printer_id)).fetchone()
    from db.accounts import printer_dict

    return PrintChange(printer=printer_dict(row), printer_devices=printer_devices(conn, printer_id))


def set_printer_status(conn, printer_id, status, detail, now):
    """Record what the printer said; a PrintChange when it changed, else None."""
    if status not in PRINTER_STATUSES:
        raise ValueError(f"unknown printer status {status!r}")
    return write(conn, _set_printer_status, printer_id, status, detail, now)


# -- staff's side ----------------------------------------------------------------


def _insert(conn, ticket_id, printer_id, device_id, payload, now):
    row = conn.execute(
        "INSERT INTO print_jobs (ticket_id, printer_id, device_id, status, attempts, payload, "
        "created_ts, next_try_ts) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?) RETURNING *",
        (ticket_id, printer_id, device_id, json.dumps(payload or {}), now, now)).fetchone()
    if ticket_id is not None:
        conn.execute("UPDATE tickets SET print_status = 'pending' WHERE id = ?", (ticket_id,))
    change = _change(conn, row, "pending" if ticket_id is not None else None)
    change.print_job_id = row["id"]
    return change


def printer_row(conn, printer_id):
    """A printer's row (None when there is no such printer)."""
    return conn.execute("SELECT * FROM printers WHERE id = ?", (printer_id,)).fetchone()


def last_paper_mm(conn, ticket_id):
    """The paper width of the printer of a ticket's latest print job (None if it has none)."""
    row = conn.execute("SELECT p.paper_mm FROM print_jobs j JOIN printers p ON p.id = j.printer_id "
                       "WHERE j.ticket_id = ? ORDER BY j.id DESC LIMIT 1", (ticket_id,)).fetchone()
    return row[0] if row else None


def _printer_row(conn, printer_id):
    return found(conn.execute("SELECT * FROM printers WHERE id = ?", (printer_id,)).fetchone(),
                 "printer", field=True)


def _reprint(conn, ticket_id, printer_id, now, user_id, payload):
    ticket = found(conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone(), "ticket")
    if printer_id is None and ticket["issued_by_device"]:
        printer_id = conn.execute("SELECT printer_id FROM devices WHERE id = ?",
                                  (ticket["issued_by_device"],)).fetchone()[0]
    if printer_id is None:
        raise Conflict("no_printer", "The ticket's kiosk has no printer; choose a printer.")
    _printer_row(conn, printer_id)
    change = _insert(conn, ticket_id, printer_id, ticket["issued_by_device"],
                     dict(payload or {}, reprint=True), now)
    audit(conn, "ticket.reprint", f"ticket:{ticket_id}",
          {"printer_id": printer_id, "job_id": change.print_job_id}, user_id=user_id, ts=now)
    return change


def reprint(conn, ticket_id, now, *, printer_id=None, user_id=None, payload=None):
    """Spool the ticket again, on the given printer or its kiosk's printer."""
    return write(conn, _reprint, ticket_id, printer_id, now, user_id, payload)


def _test_page(conn, printer_id, now, user_id):
    _printer_row(conn, printer_id)
    change = _insert(conn, None, printer_id, None, {"kind": "test"}, now)
    audit(conn, "printer.test", f"printer:{printer_id}", {"job_id": change.print_job_id},
          user_id=user_id, ts=now)
    return change


def test_page(conn, printer_id, now, *, user_id=None):
    """Spool a test page on a printer."""
    return write(conn, _test_page, printer_id, now, user_id)


test_page.__test__ = False  # not a pytest test where imported


def _retry(conn, job_id, now, user_id):
    row = _job_row(conn, job_id)
    if row["status"] != "failed":
        raise Conflict("not_failed", f"Print job {job_id} is {row['status']}, not failed.")
    row = conn.execute("UPDATE print_jobs SET status = 'pending', attempts = 0, next_try_ts = ?, "
                       "done_ts = NULL WHERE id = ? RETURNING *", (now, job_id)).fetchone()
    status = _ticket_status(conn, job_dict(row), "pending")
    audit(conn, "print_job.retry", f"print_job:{job_id}", None, user_id=user_id, ts=now)
    change = _change(conn, row, status)
    change.print_job_id = job_id
    return change


def retry(conn, job_id, now, *, user_id=None):
    """Put a failed job back in its printer's line."""
    return write(conn, _retry, job_id, now, user_id)


def printer_views(conn, clock, printer_id=None):
    """Printers with their state, open and recently failed jobs, and kiosks, for the admin."""
    from db.accounts import printer_dict

    counts = job_counts(conn, clock.ts() - 86400)
    if printer_id is None:
        rows = conn.execute("SELECT * FROM printers ORDER BY id").fetchall()
    else:
        rows = [_printer_row(conn, printer_id)]
    views = []
    for row in rows:
        seen = counts.get(row["id"], {"pending": 0, "failed": 0, "last_error": None})
        views.append({**printer_dict(row), "status_at": clock.iso(row["status_ts"]),
                      "pending_jobs": seen["pending"], "failed_jobs": seen["failed"],
                      "last_error": seen["last_error"],
                      "device_ids": printer_devices(conn, row["id"])})
    return views
