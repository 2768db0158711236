"""People's login sessions, kept server-side so that they can be ended.

The session cookie carries only a random token; the row behind it says whose
session it is, when it began and when it was last used. A session ends at
logout, when the person's password is reset or they are deactivated, after
`IDLE_S` without a request, and `MAX_S` after the login however busy (a
shift). Only the SHA-256 of the token is stored.
"""

import hashlib
import secrets
import sqlite3

from db.connection import write

IDLE_S = 4 * 3600
MAX_S = 14 * 3600
# last_seen_ts is written at most this often (a write per request would cost more than the request).
TOUCH_EVERY_S = 60


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _start(conn, user_id, ts, token):
    return conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_ts, last_seen_ts) VALUES (?, ?, ?, ?) "
        "RETURNING id", (_hash(token), user_id, ts, ts)).fetchone()[0]


def start_session(conn, user_id, ts):
    """A new session for this user; returns (session id, token for the cookie)."""
    token = secrets.token_urlsafe(32)
    return write(conn, _start, user_id, ts, token), token


def live_session(conn, token, ts, idle_s=IDLE_S, max_s=MAX_S):
    """The live session row holding this token (its user active), or None."""
    if not isinstance(token, str) or not token:
        return None
    row = conn.execute(
        "SELECT s.*, u.active AS user_active FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ?", (_hash(token),)).fetchone()
    if row is None or row["ended_ts"] is not None or not row["user_active"]:
        return None
    if ts - row["created_ts"] > max_s or ts - row["last_seen_ts"] > idle_s:
        return None
    if ts - row["last_seen_ts"] > TOUCH_EVERY_S:
        try:  # best effort, outside any transaction
            conn.execute("UPDATE sessions SET last_seen_ts = ? WHERE id = ?", (ts, row["id"]))
        except sqlite3.OperationalError:
            pass
    return row


def _end(conn, session_id, ts, reason):
    conn.execute("UPDATE sessions SET ended_ts = ?, end_reason = ? WHERE id = ? AND ended_ts IS NULL",
                 (ts, reason, session_id))


def end_session(conn, session_id, ts, reason="logout"):
    """End one session (logout)."""
    write(conn, _end, session_id, ts, reason)


def end_user_sessions_in(conn, user_id, ts, reason):
    """Inside a write: end every live session of a user; returns their ids."""
    return [r[0] for r in conn.execute(
        "UPDATE sessions SET ended_ts = ?, end_reason = ? WHERE user_id = ? AND ended_ts IS NULL "
        "RETURNING id", (ts, reason, user_id))]


def end_user_sessions(conn, user_id, ts, reason="ended"):
    """End every live session of a user; returns their ids."""
    return write(conn, end_user_sessions_in, user_id, ts, reason)


def purge(conn, ts, keep_s=30 * 86400):
    """Forget sessions that ended or expired more than `keep_s` ago."""
    def run(c):
        c.execute("DELETE FROM sessions WHERE coalesce(ended_ts, created_ts + ?) < ?", (MAX_S, ts - keep_s))
    write(conn, run)
