"""The public instance follows the database: calls made on the building's
instance reach the tracking pages connected here.

Both instances share one SQLite file. Every ~250 ms the follower asks SQLite
whether anyone committed (`PRAGMA data_version`, a counter read from shared
memory: nearly free); only then does it read the state of the tickets and
service lines that have a tracking page connected to this instance, and
sends the same events the building's instance would have sent
(`ticket_called`, `ticket_changed`, `queue_changed`) for what changed. It
needs no table, no extra service, and cannot fall behind or lose an event:
it compares states, so after a pause it sends what is true now.
See docs/architecture.md, "Events across instances".
"""

import logging

from db import queue
from db.connection import connect
from web.events import present_ticket, publish_followed, socketio

log = logging.getLogger("giliran")

INTERVAL_S = 0.25
_CHUNK = 500  # SQLite's limit on host parameters is far above this


def _fingerprint(row):
    """What, when it changes, a tracking page must hear about."""
    return (row["status"], row["call_count"], row["counter_id"], row["service_id"], bool(row["priority"]))


class Follower:
    """Turns other processes' commits into this instance's Socket.IO events."""

    def __init__(self, app, interval_s=INTERVAL_S):
        self.app = app
        self.interval_s = interval_s
        self.tickets = {}  # ticket id -> fingerprint last sent (or seen at connect)
        self.queues = {}   # service id -> waiting count last sent
        self.version = None

    def note(self, conn, ticket):
        """A tracking page connected with this ticket in its snapshot: the baselines
        (read on the snapshot's connection, so no commit falls between them)."""
        self.tickets[ticket["id"]] = (ticket["status"], ticket["call_count"], ticket["counter_id"],
                                      ticket["service_id"], bool(ticket["priority"]))
        self.queues.setdefault(ticket["service_id"], queue.waiting_count(conn, ticket["service_id"]))

    def _watched(self):
        rooms = socketio.server.manager.rooms.get("/", {})
        tickets, services = set(), set()
        for name, members in list(rooms.items()):
            if not members or not isinstance(name, str):
                continue
            kind, _, ident = name.partition(":")
            if ident.isdigit():
                if kind == "ticket":
                    tickets.add(int(ident))
                elif kind == "track":
                    services.add(int(ident))
        return tickets, services

    def step(self, conn):
        """One look at the database; the events of what changed since the last look."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        tickets, services = self._watched()
        for gone in set(self.tickets) - tickets:
            del self.tickets[gone]
        for gone in set(self.queues) - services:
            del self.queues[gone]
        if version == self.version:
            return 0
        self.version = version
        clock = self.app.extensions["giliran"].clock
        sent = 0
        ids = sorted(tickets)
        for i in range(0, len(ids), _CHUNK):
            part = ids[i:i + _CHUNK]
            rows = conn.execute(
                "SELECT id, status, call_count, counter_id, service_id, priority FROM tickets "
                f"WHERE id IN ({','.join('?' * len(part))})", part).fetchall()
            for row in rows:
                new = _fingerprint(row)
                old = self.tickets.get(row["id"])
                self.tickets[row["id"]] = new
                if old is None or old == new:
                    continue
                ticket = present_ticket(queue.get_ticket(conn, clock, row["id"]))
                room = f"ticket:{row['id']}"
                if row["status"] == "called" and row["call_count"] > old[1]:
                    counter = conn.execute("SELECT number FROM counters WHERE id = ?",
                                           (row["counter_id"],)).fetchone()
                    publish_followed("ticket_called", {
                        "ticket_id": row["id"], "number": ticket["number"],
                        "service_id": row["service_id"], "counter_id": row["counter_id"],
                        "counter_number": counter["number"] if counter else None,
                        "recall": old[0] == "called", "called_at": ticket["called_at"],
                    }, room)
                    sent += 1
                publish_followed("ticket_changed", ticket, room)
                sent += 1
        for service_id in sorted(services):
            waiting = queue.waiting_count(conn, service_id)
            old = self.queues.get(service_id)
            self.queues[service_id] = waiting
            if old is not None and old != waiting:
                publish_followed("queue_changed", {"service_id": service_id, "waiting": waiting},
                                 f"track:{service_id}")
                sent += 1
        return sent

    def run(self):
        """The loop, until the server stops."""
        giliran = self.app.extensions["giliran"]
        conn = connect(self.app.config["DATABASE"])
        try:
            while not giliran.stopping:
                try:
                    with self.app.app_context():
                        self.step(conn)
                except Exception:
                    log.exception("following the database failed")
                socketio.sleep(self.interval_s)
        finally:
            conn.close()
