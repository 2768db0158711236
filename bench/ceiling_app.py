"""The reference handlers of bench/ceiling.py: a tiny Flask-SocketIO app.

CEILING_MODE=bare answers POST /api/v1/tickets with an emit and no database;
CEILING_MODE=trivial allocates a number and inserts a ticket in one
`BEGIN IMMEDIATE` at `synchronous=FULL` per request, then emits. Both run
under the same gunicorn settings as Giliran (one gevent worker).
"""

import json
import os
import sqlite3
import time

from flask import Flask, request
from flask_socketio import SocketIO

MODE = os.environ.get("CEILING_MODE", "bare")
DB = os.environ.get("CEILING_DB", "/tmp/giliran-ceiling.db")

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent")
_conn = None


def connection():
    global _conn
    if _conn is None:
        _conn = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
        _conn.execute("PRAGMA journal_mode=WAL")
        _conn.execute("PRAGMA synchronous=FULL")
        _conn.execute("CREATE TABLE IF NOT EXISTS sequences (service_id INTEGER PRIMARY KEY, "
                      "last_seq INTEGER)")
        _conn.execute("CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, "
                      "service_id INTEGER, seq INTEGER, issued_ts REAL, UNIQUE(service_id, seq))")
    return _conn


@app.post("/api/v1/tickets")
def issue():
    body = request.get_json()
    service_id = int(body["service_id"])
    ticket = {"service_id": service_id, "status": "waiting"}
    if MODE == "trivial":
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            seq = conn.execute(
                "INSERT INTO sequences (service_id, last_seq) VALUES (?, 1) ON CONFLICT(service_id) "
                "DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq", (service_id,)).fetchone()[0]
            ticket["id"] = conn.execute("INSERT INTO tickets (service_id, seq, issued_ts) "
                                        "VALUES (?, ?, ?)", (service_id, seq, time.time())).lastrowid
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        ticket["number"] = f"A{seq:03d}"
    socketio.emit("queue_changed", {"service_id": service_id})
    return app.response_class(json.dumps(ticket), status=201, mimetype="application/json")


@app.get("/health")
def health():
    return {"ok": True}
