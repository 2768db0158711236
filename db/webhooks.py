"""Webhooks: the outbox of events for other systems, and its deliveries' state.

`enqueue(conn, event, data)` is called by the engine functions inside their
own write transaction, so an event is kept exactly when the change it
reports commits (a refused change rolls its outbox rows back with it). One
`outbox` row holds the event; one `webhook_deliveries` row per webhook that
listens to it holds that delivery's attempts. The delivery worker
(webhooks/worker.py) claims due deliveries, POSTs them and records the
outcome here. Nothing here knows about HTTP or Flask.

A delivery is `pending` (its next try is due at `next_try_ts`), `sending`
(claimed; `next_try_ts` is then the end of the claim's lease, after which
another worker may take it again: at least once, never lost) or
`delivered`. A webhook that keeps failing backs off as a whole
(`webhooks.next_try_ts`), so a dead receiver costs one probe per back-off,
not one per queued delivery; failing for `pause_after_s` (a day) pauses it.
"""

import hashlib
import hmac
import json
import random
import secrets
import time

from db.catalog import audit
from db.connection import remember, write
from db.errors import Conflict, Invalid, NotFound, check_fields, found

EVENTS = ("ticket.issued", "ticket.called", "ticket.done", "ticket.near",
          "booking.created", "booking.cancelled", "booking.checked_in", "booking.missed",
          "booking.reminder")
TEST_EVENT = "webhook.test"
STATUSES = ("pending", "sending", "delivered")

RETRY_MIN_S = 10.0  # the first retry comes within 8-10 s
RETRY_MAX_S = 600.0  # later ones at least every 10 minutes
PAUSE_AFTER_S = 24 * 3600.0  # failing for a day pauses the webhook
KEEP_S = 30 * 24 * 3600.0  # deliveries (and their events) are pruned after 30 days
NEAR_AHEAD = 3  # ticket.near: this many tickets ahead
REMINDER_MINUTES = 60  # booking.reminder: this long before the slot
MAX_SECRET = 200
MAX_URL = 2000


# -- the outbox ----------------------------------------------------------------


def subscribers(conn, event):
    """Ids of the active webhooks that listen to `event` (paused ones too: they hold it)."""
    return remember(conn, ("subscribers", event), lambda: [
        row["id"] for row in conn.execute("SELECT id, events FROM webhooks WHERE active = 1")
        if event in json.loads(row["events"])])


def enqueue(conn, event, data, ts=None, webhook_ids=None):
    """Keep `event` for every webhook listening to it, inside the caller's transaction.

    `data` is a dict or a function returning one, called only when some
    webhook listens (most events have no listener, and building the data is
    then skipped). Returns the outbox id, or None when nobody listens.
    """
    if not conn.in_transaction:
        raise RuntimeError("enqueue() belongs inside the write transaction of the change it reports")
    hooks = subscribers(conn, event) if webhook_ids is None else list(webhook_ids)
    if not hooks:
        return None
    if callable(data):
        data = data()
    now = time.time() if ts is None else ts
    outbox_id = conn.execute(
        "INSERT INTO outbox (event, created_ts, data) VALUES (?, ?, ?) RETURNING id",
        (event, now, json.dumps(data, ensure_ascii=False, separators=(",", ":"))),
    ).fetchone()[0]
    conn.executemany(
        """INSERT INTO webhook_deliveries (webhook_id, outbox_id, event, status, attempts,
               next_try_ts, created_ts) VALUES (?, ?, ?, 'pending', 0, ?, ?)""",
        [(hook, outbox_id, event, now, now) for hook in hooks],
    )
    return outbox_id


def once(conn, kind, ref_id, ts):
    """True the first time (kind, ref_id) is marked, False ever after (ticket.near, reminders)."""
    return conn.execute(
        "INSERT INTO notified (kind, ref_id, ts) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
        (kind, ref_id, ts),
    ).fetchone() is not None


def setting(conn, key, default):
    """A webhook setting (near_ahead, reminder_minutes) from the settings table."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (f"webhook_{key}",)).fetchone()
    return default if row is None else json.loads(row[0])


def body(delivery_id, event, created_at, data_text):
    """The exact bytes POSTed (and signed): the same on every try of a delivery."""
    return ('{"id":%d,"event":%s,"created_at":%s,"data":%s}' % (
        delivery_id, json.dumps(event), json.dumps(created_at), data_text)).encode("utf-8")


def signature(secret, raw):
    """The X-Giliran-Signature header: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def backoff_s(attempts, min_s=RETRY_MIN_S, max_s=RETRY_MAX_S, rand=random.random):
    """Seconds before the next try after `attempts` failed ones: doubling, capped, with
    jitter taken off the top (80-100 %), so the cap is never exceeded."""
    base = min(max_s, min_s * 2 ** max(0, attempts - 1))
    return base * (0.8 + 0.2 * rand())


# -- webhooks ------------------------------------------------------------------


def webhook_dict(row, pending=None):
    """A webhook as the API shows it (never its secret)."""
    out = {"id": row["id"], "url": row["url"], "events": json.loads(row["events"]),
           "active": bool(row["active"]), "paused": row["paused_ts"] is not None,
           "paused_at": row["paused_ts"], "failing_since": row["failing_since"],
           "failures": row["failures"], "last_success_at": row["last_success_ts"],
           "created_at": row["created_ts"]}
    if pending is not None:
        out["pending"] = pending
    return out


def _check_events(events):
    if not isinstance(events, list) or not events:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"events": "At least one event."})
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"events": f"Unknown events: {', '.join(map(str, unknown))}. One of: {', '.join(EVENTS)}."})
    return [e for e in EVENTS if e in events]  # the canonical order, no repeats


def _row(conn, webhook_id):
    return found(conn.execute("SELECT * FROM webhooks WHERE id = ?", (webhook_id,)).fetchone(), "webhook")


def _create(conn, url, events, secret, now, user_id):
    events = _check_events(events)
    row = conn.execute(
        """INSERT INTO webhooks (url, events, secret, active, created_ts, created_by, failures,
               next_try_ts) VALUES (?, ?, ?, 1, ?, ?, 0, 0) RETURNING *""",
        (url, json.dumps(events), secret, now, user_id),
    ).fetchone()
    audit(conn, "webhook.create", f"webhook:{row['id']}", {"url": url, "events": events},
          user_id=user_id, ts=now)
    return webhook_dict(row)


def create(conn, url, events, secret=None, *, now=None, user_id=None):
    """Add a webhook (the URL already checked by the caller); returns it with its secret.

    Without a secret one is made (32 random bytes, hex); it is answered only here.
    """
    secret = secret or secrets.token_hex(32)
    if not 1 <= len(secret) <= MAX_SECRET:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"secret": f"1 to {MAX_SECRET} characters."})
    hook = write(conn, _create, url, events, secret, time.time() if now is None else now, user_id)
    return {**hook, "secret": secret}


def _update(conn, webhook_id, url, events, active, now, user_id):
    row = _row(conn, webhook_id)
    changes = {}
    if url is not None:
        changes["url"] = url
    if events is not None:
        changes["events"] = json.dumps(_check_events(events))
    if active is not None:
        changes["active"] = 1 if active else 0
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        conn.execute(f"UPDATE webhooks SET {sets} WHERE id = ?", (*changes.values(), row["id"]))
        audit(conn, "webhook.update", f"webhook:{row['id']}",
              {k: (json.loads(v) if k == "events" else v) for k, v in changes.items()},
              user_id=user_id, ts=now)
    return webhook_dict(_row(conn, webhook_id))


def update(conn, webhook_id, *, url=None, events=None, active=None, now=None, user_id=None):
    """Change a webhook's URL (checked by the caller), events, or switch it off and on."""
    return write(conn, _update, webhook_id, url, events, active,
                 time.time() if now is None else now, user_id)


def _delete(conn, webhook_id, now, user_id):
    row = _row(conn, webhook_id)
    conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (row["id"],))
    conn.execute("DELETE FROM webhooks WHERE id = ?", (row["id"],))
    _prune_orphans(conn, now + 1)
    audit(conn, "webhook.delete", f"webhook:{row['id']}", {"url": row["url"]}, user_id=user_id, ts=now)


def delete(conn, webhook_id, *, now=None, user_id=None):
    """Remove a webhook and its deliveries."""
    write(conn, _delete, webhook_id, time.time() if now is None else now, user_id)


def get(conn, webhook_id):
    """One webhook (without its secret)."""
    return webhook_dict(_row(conn, webhook_id))


def list_webhooks(conn):
    """Every webhook with its count of deliveries still to make."""
    pending = dict(conn.execute(
        "SELECT webhook_id, count(*) FROM webhook_deliveries WHERE status != 'delivered' "
        "GROUP BY webhook_id").fetchall())
    return [webhook_dict(r, pending.get(r["id"], 0))
            for r in conn.execute("SELECT * FROM webhooks ORDER BY id")]


def _resume(conn, webhook_id, now, user_id):
    _row(conn, webhook_id)
    conn.execute("UPDATE webhooks SET paused_ts = NULL, failing_since = NULL, failures = 0, "
                 "next_try_ts = 0 WHERE id = ?", (webhook_id,))
    conn.execute("UPDATE webhook_deliveries SET next_try_ts = ? WHERE webhook_id = ? "
                 "AND status = 'pending'", (now, webhook_id))
    audit(conn, "webhook.resume", f"webhook:{webhook_id}", user_id=user_id, ts=now)
    return webhook_dict(_row(conn, webhook_id))


def resume(conn, webhook_id, *, now=None, user_id=None):
    """Un-pause a webhook: its held deliveries are tried again now."""
    return write(conn, _resume, webhook_id, time.time() if now is None else now, user_id)


def _require_running(row):
    if row["paused_ts"] is not None:
        raise Conflict("webhook_paused", "This webhook is paused; resume it first.")
    if not row["active"]:
        raise Conflict("webhook_inactive", "This webhook is switched off.")


def _test(conn, webhook_id, now, user_id):
    row = _row(conn, webhook_id)
    _require_running(row)
    outbox_id = enqueue(conn, TEST_EVENT, {"webhook_id": row["id"],
                                           "message": "A test delivery from Giliran."},
                        ts=now, webhook_ids=[row["id"]])
    conn.execute("UPDATE webhooks SET next_try_ts = 0 WHERE id = ?", (row["id"],))
    delivery = conn.execute("SELECT * FROM webhook_deliveries WHERE outbox_id = ?",
                            (outbox_id,)).fetchone()
    return delivery_dict(delivery)


def test_delivery(conn, webhook_id, *, now=None, user_id=None):
    """Queue a `webhook.test` delivery to this webhook alone, to be tried now."""
    return write(conn, _test, webhook_id, time.time() if now is None else now, user_id)


# -- deliveries ----------------------------------------------------------------


def delivery_dict(row):
    """A delivery as the API shows it."""
    return {"id": row["id"], "webhook_id": row["webhook_id"], "event": row["event"],
            "status": row["status"], "attempts": row["attempts"], "last_error": row["last_error"],
            "last_status": row["last_status"], "response_ms": row["response_ms"],
            "created_at": row["created_ts"], "last_try_at": row["last_try_ts"],
            "next_try_at": row["next_try_ts"] if row["status"] != "delivered" else None,
            "delivered_at": row["delivered_ts"]}


def list_deliveries(conn, webhook_id, limit=100):
    """A webhook's latest deliveries, newest first."""
    _row(conn, webhook_id)
    return [delivery_dict(r) for r in conn.execute(
        "SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
        (webhook_id, limit))]


def _redeliver(conn, webhook_id, delivery_id, now, user_id):
    hook = _row(conn, webhook_id)
    _require_running(hook)
    row = conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_try_ts = ? "
        "WHERE id = ? AND webhook_id = ? AND status != 'sending' RETURNING *",
        (now, delivery_id, webhook_id)).fetchone()
    if row is None:
        exists = conn.execute("SELECT status FROM webhook_deliveries WHERE id = ? AND webhook_id = ?",
                              (delivery_id, webhook_id)).fetchone()
        if exists is None:
            raise NotFound("delivery_not_found", "No delivery with that id for this webhook.")
        raise Conflict("delivery_sending", "This delivery is being sent right now.")
    conn.execute("UPDATE webhooks SET next_try_ts = 0 WHERE id = ?", (webhook_id,))
    audit(conn, "webhook.redeliver", f"webhook_delivery:{delivery_id}", user_id=user_id, ts=now)
    return delivery_dict(row)


def redeliver(conn, webhook_id, delivery_id, *, now=None, user_id=None):
    """Send one delivery again now (same id: a receiver that saw it may drop it)."""
    return write(conn, _redeliver, webhook_id, delivery_id, time.time() if now is None else now,
                 user_id)


def due_webhooks(conn, now):
    """[(webhook_id, next due ts, failing)] for running webhooks with deliveries to try.

    One indexed min() per webhook: cheap however long a dead receiver's backlog is (this
    runs after every published commit).
    """
    out = []
    for hook in conn.execute("SELECT id, next_try_ts, failures FROM webhooks "
                             "WHERE active = 1 AND paused_ts IS NULL").fetchall():
        first = conn.execute(
            "SELECT min(next_try_ts) FROM webhook_deliveries WHERE webhook_id = ? "
            "AND status IN ('pending', 'sending')", (hook["id"],)).fetchone()[0]
        if first is not None:
            out.append((hook["id"], max(hook["next_try_ts"], first), hook["failures"] > 0))
    return out


def _claim(conn, webhook_id, now, lease_s):
    hook = conn.execute(
        "SELECT * FROM webhooks WHERE id = ? AND active = 1 AND paused_ts IS NULL "
        "AND next_try_ts <= ?", (webhook_id, now)).fetchone()
    if hook is None:
        return None
    row = conn.execute(
        """UPDATE webhook_deliveries SET status = 'sending', next_try_ts = ?,
               attempts = attempts + 1, last_try_ts = ?
           WHERE id = (SELECT id FROM webhook_deliveries
                       WHERE webhook_id = ? AND status IN ('pending', 'sending') AND next_try_ts <= ?
                       ORDER BY next_try_ts, id LIMIT 1)
           RETURNING *""",
        (now + lease_s, now, webhook_id, now)).fetchone()
    if row is None:
        return None
    outbox = conn.execute("SELECT * FROM outbox WHERE id = ?", (row["outbox_id"],)).fetchone()
    return {"delivery": delivery_dict(row), "url": hook["url"], "secret": hook["secret"],
            "event": row["event"], "created_ts": outbox["created_ts"], "data": outbox["data"]}


def claim(conn, webhook_id, now, lease_s=60.0):
    """Take this webhook's oldest due delivery for one try (None if none is due, or the
    webhook is backing off or paused). Returns what the sender needs, secret included."""
    return write(conn, _claim, webhook_id, now, lease_s)


def _record(conn, delivery_id, attempts, now, ok, status_code, error, response_ms, min_s, max_s,
            pause_after_s):
    row = conn.execute(
        "SELECT * FROM webhook_deliveries WHERE id = ? AND status = 'sending' AND attempts = ?",
        (delivery_id, attempts)).fetchone()
    if row is None:
        return None  # the lease ran out and another try took it over (or it was removed)
    if ok:
        conn.execute(
            "UPDATE webhook_deliveries SET status = 'delivered', delivered_ts = ?, last_status = ?, "
            "last_error = NULL, response_ms = ? WHERE id = ?",
            (now, status_code, response_ms, delivery_id))
        conn.execute("UPDATE webhooks SET failures = 0, failing_since = NULL, next_try_ts = 0, "
                     "last_success_ts = ? WHERE id = ?", (now, row["webhook_id"]))
        return {"paused": False}
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_try_ts = ?, last_status = ?, "
        "last_error = ?, response_ms = ? WHERE id = ?",
        (now + backoff_s(attempts, min_s, max_s), status_code, (error or "")[:300], response_ms,
         delivery_id))
    hook = conn.execute(
        "UPDATE webhooks SET failures = failures + 1, failing_since = coalesce(failing_since, ?) "
        "WHERE id = ? RETURNING failures, failing_since", (now, row["webhook_id"])).fetchone()
    paused = now - hook["failing_since"] >= pause_after_s
    conn.execute("UPDATE webhooks SET next_try_ts = ?, paused_ts = CASE WHEN ? THEN "
                 "coalesce(paused_ts, ?) ELSE paused_ts END WHERE id = ?",
                 (now + backoff_s(hook["failures"], min_s, max_s), paused, now, row["webhook_id"]))
    return {"paused": paused}


def record(conn, delivery_id, attempts, now, *, ok, status_code=None, error=None,
           response_ms=None, min_s=RETRY_MIN_S, max_s=RETRY_MAX_S, pause_after_s=PAUSE_AFTER_S):
    """The outcome of one try: delivered, or back to pending with its back-off (and the
    webhook's). `attempts` names the claim, so a try whose lease ran out records nothing."""
    return write(conn, _record, delivery_id, attempts, now, ok, status_code, error, response_ms,
                 min_s, max_s, pause_after_s)


def _prune_orphans(conn, before):
    conn.execute("DELETE FROM outbox WHERE created_ts < ? AND NOT EXISTS "
                 "(SELECT 1 FROM webhook_deliveries d WHERE d.outbox_id = outbox.id)", (before,))


def _prune(conn, now, keep_s):
    before = now - keep_s
    gone = conn.execute(
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries "
        "WHERE created_ts < ? LIMIT 5000)", (before,)).rowcount
    _prune_orphans(conn, before)
    conn.execute("DELETE FROM notified WHERE ts < ?", (before,))
    return gone


def prune(conn, now, keep_s=KEEP_S):
    """Forget deliveries (delivered or not) and events older than `keep_s`; how many went."""
    return write(conn, _prune, now, keep_s)


def _set_settings(conn, values, user_id):
    for key in ("near_ahead", "reminder_minutes"):
        if values.get(key) is not None:
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) "
                         "DO UPDATE SET value = excluded.value",
                         (f"webhook_{key}", json.dumps(int(values[key]))))
    audit(conn, "webhook.settings", "settings:webhook", values, user_id=user_id)
    return get_settings(conn)


def get_settings(conn):
    """ticket.near's count ahead and booking.reminder's lead time."""
    return {"near_ahead": setting(conn, "near_ahead", NEAR_AHEAD),
            "reminder_minutes": setting(conn, "reminder_minutes", REMINDER_MINUTES)}


def set_settings(conn, *, near_ahead=None, reminder_minutes=None, user_id=None):
    """Set ticket.near's N (1-50) and booking.reminder's lead time in minutes (5-1440)."""
    fields = {}
    if near_ahead is not None and not (isinstance(near_ahead, int) and 1 <= near_ahead <= 50):
        fields["near_ahead"] = "A whole number from 1 to 50."
    if reminder_minutes is not None and not (isinstance(reminder_minutes, int)
                                             and 5 <= reminder_minutes <= 1440):
        fields["reminder_minutes"] = "A whole number from 5 to 1440."
    check_fields(fields)
    return write(conn, _set_settings,
                 {"near_ahead": near_ahead, "reminder_minutes": reminder_minutes}, user_id)


# -- time-driven events ----------------------------------------------------------


REASONS = {"holder": "citizen", "holiday": "holiday"}


def booking_data(booking):
    """A booking.* event's data: the booking with name and full phone, and for a
    cancellation its `reason` (`citizen` or `holiday`)."""
    data = {k: v for k, v in booking.items() if k != "cancel_reason"}
    if booking.get("cancel_reason"):
        data["reason"] = REASONS.get(booking["cancel_reason"], booking["cancel_reason"])
    return data


def enqueue_booking_events(conn, events, ts=None):
    """Keep a change's booking events [(name, full booking)] inside its transaction."""
    for name, booking in events:
        enqueue(conn, name, lambda b=booking: booking_data(b), ts=ts)


def _queue_reminders(conn, clock):
    from db.bookings import settings_of, full_booking

    now = clock.ts()
    lead_s = 60 * setting(conn, "reminder_minutes", REMINDER_MINUTES)
    # Live bookings whose slot starts within the lead time and that were made before it
    # (one booked 20 minutes ahead needs no reminder 60 minutes ahead); once each.
    rows = conn.execute(
        """SELECT * FROM bookings b
           WHERE b.status = 'booked' AND b.slot_start_ts > :now AND b.slot_start_ts - :lead <= :now
             AND b.created_ts < b.slot_start_ts - :lead
             AND NOT EXISTS (SELECT 1 FROM notified n WHERE n.kind = 'booking.reminder'
                             AND n.ref_id = b.id)
           ORDER BY b.slot_start_ts, b.id LIMIT 500""", {"now": now, "lead": lead_s}).fetchall()
    cache = {}
    for row in rows:
        once(conn, "booking.reminder", row["id"], now)
        booking = full_booking(clock, row, settings_of(conn, row["service_id"], cache))
        enqueue(conn, "booking.reminder",
                {**booking_data(booking), "minutes_before": round((row["slot_start_ts"] - now) / 60)},
                ts=now)
    return len(rows)


def queue_reminders(conn, clock):
    """booking.reminder, once per live booking, when its slot is the MPP's lead time
    away (default 60 minutes; the app's clock); how many were queued."""
    if not subscribers(conn, "booking.reminder"):
        return 0
    return write(conn, _queue_reminders, clock)
