"""A demo MPP on a real gunicorn whose clock stands on a known morning, with bookings in it.

The server's clock is shifted (MPP_CLOCK_OFFSET_S) so that "now" is NOW below, give or take
the seconds the tests take. Bookings for slots that have already begun are made the way a
citizen made them the day before: through db/bookings.py with a clock set to that day, on
the server's own database file (one write transaction each, like the server's).
"""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import Server, offset_to
from db import bookings
from db.clock import FixedClock
from db.connection import connect

WIB = ZoneInfo("Asia/Jakarta")
# A Tuesday morning; every demo service is open all day.
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=WIB)


def at(hh, mm=0, days=0):
    """A time on NOW's day (or `days` later) in the MPP's zone."""
    return (NOW + timedelta(days=days)).replace(hour=hh, minute=mm, second=0, microsecond=0)


def start_server(tmp, env=None):
    """The demo MPP at NOW, with `.tokens`, `.admin` (a session) and `.services` by prefix."""
    srv = Server(tmp / "mpp.db", env={"MPP_DEMO": "1", "MPP_CLOCK_OFFSET_S": offset_to(NOW), **(env or {})})
    srv.start()
    srv.tokens = json.loads((tmp / "demo-devices.json").read_text())
    srv.admin = srv.session("admin")
    srv.services = {s["prefix"]: s for s in srv.admin.get(srv.url + "/api/v1/services").json()}
    return srv


def enable(srv, prefix, **settings):
    """Switch bookings on for a service through the admin API."""
    body = {"enabled": True, **settings}
    r = srv.admin.put(f"{srv.url}/api/v1/services/{srv.services[prefix]['id']}/booking", json=body)
    assert r.status_code == 200, r.text
    return r.json()


_phones = iter(range(10_000))


def book(srv, prefix, start, name="Siti Aminah", made_at=None, cancel=False):
    """Book a seat of the slot at `start` as a citizen did the day before; returns the code."""
    conn = connect(srv.db_path)
    try:
        clock = FixedClock("Asia/Jakarta", (made_at or start - timedelta(days=1)).timestamp())
        phone = f"0812-3456-{next(_phones):04d}"
        change = bookings.book(conn, clock, srv.services[prefix]["id"], start.isoformat(), name, phone,
                               secret="test")
        code = change.booking["code"]
        if cancel:
            bookings.cancel(conn, clock, code)
        return code
    finally:
        conn.close()


def check_in(srv, code, token=None):
    """Check a booking in at the demo kiosk through the API (as its scanner would)."""
    import requests

    return requests.post(f"{srv.url}/api/v1/bookings/{code}/check-in",
                         headers={"Authorization": f"Bearer {token or srv.tokens['kiosk']}"}, timeout=10)
