"""examples/whatsapp_gateway.py, run as a real process on loopback between Giliran's worker and a
fake WhatsApp gateway: a reminder and a call become messages, repeats are dropped by id, a bad
signature is refused, a failing gateway makes Giliran retry."""

import json
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests

from conftest import MORNING, ROOT, World, free_port
from db import bookings, checkin, tickets
from db import webhooks as store
from db.connection import connect
from webhook_receiver import Receiver
from webhooks.worker import Deliverer

SECRET = "rahasia-gateway"


def ts(hh, mm=0):
    return MORNING.replace(hour=hh, minute=mm).timestamp()


@pytest.fixture
def gateway():
    with Receiver() as fake:
        yield fake


@pytest.fixture
def example(gateway):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "examples" / "whatsapp_gateway.py"),
                             "--port", str(port), "--secret", SECRET, "--gateway", gateway.url,
                             "--token", "gw-token"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/giliran"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.post(url, data=b"{}", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(5)


def test_reminder_and_call_become_whatsapp_messages(app, db_path, clock, gateway, example):
    conn = connect(db_path)
    w = World(conn, clock)
    conn.execute("UPDATE services SET opens_at = '08:00', closes_at = '12:00'")
    bookings.put_settings(conn, w.ktp, {"enabled": True})
    hook = store.create(conn, example, ["booking.reminder", "ticket.called"], SECRET)
    worker = Deliverer(app)
    made = bookings.book(conn, clock, w.ktp, MORNING.replace(hour=10, minute=30).isoformat(),
                         "Siti Aminah", "0812-3456-7890", secret="k").booking

    clock.set(ts(9, 30))  # an hour before the slot
    assert worker.run_schedule(conn) == 1 and worker.run_once() == 1
    (sent,) = gateway.bodies()
    assert sent["to"] == "6281234567890"
    assert "pengingat" in sent["message"] and made["code"] in sent["message"]
    assert "10.30" in sent["message"] and "Siti Aminah" in sent["message"]
    assert gateway.received[0]["headers"]["authorization"] == "Bearer gw-token"

    tickets.issue(conn, clock, w.ktp)  # a walk-in: no phone, no message
    clock.set(ts(10, 31))
    mine = checkin.check_in(conn, clock, made["code"]).ticket
    tickets.open_counter(conn, clock, w.c2)
    called = tickets.call_next(conn, clock, w.c2).ticket  # the slot has begun: the booking first
    assert called["id"] == mine["id"]
    tickets.start(conn, clock, w.c2)
    tickets.call_next(conn, clock, w.c2, finish_current=True)  # then the walk-in
    assert worker.run_once() == 2
    messages = [b["message"] for b in gateway.bodies()]
    assert messages[1] == f"Nomor antrean {mine['number']} dipanggil. Silakan menuju loket 2."
    assert len(messages) == 2

    # A repeat (redelivered by hand, same id) is dropped by the receiver: no second message.
    reminder = next(d for d in store.list_deliveries(conn, hook["id"]) if d["event"] == "booking.reminder")
    store.redeliver(conn, hook["id"], reminder["id"], now=clock.ts())
    assert worker.run_once() == 1
    assert len(gateway.bodies()) == 2
    conn.close()


def test_bad_signature_is_refused_and_sends_nothing(gateway, example):
    body = json.dumps({"id": 1, "event": "ticket.called", "created_at": "2026-11-24T09:00:00+07:00",
                       "data": {"phone": "+6281234567890", "number": "A001", "counter_number": 1}})
    r = requests.post(example, data=body, headers={"X-Giliran-Signature": "sha256=" + "0" * 64})
    assert r.status_code == 401
    assert gateway.received == []


def test_a_failing_gateway_makes_giliran_retry(app, db_path, clock, gateway, example):
    conn = connect(db_path)
    w = World(conn, clock)
    hook = store.create(conn, example, ["ticket.called"], SECRET)
    conn.execute("UPDATE services SET opens_at = '08:00', closes_at = '12:00'")
    bookings.put_settings(conn, w.ktp, {"enabled": True})
    clock.set(ts(9, 0))
    made = bookings.book(conn, clock, w.ktp, MORNING.replace(hour=9, minute=30).isoformat(),
                         "Budi", "081298765432", secret="k").booking
    clock.set(ts(9, 31))
    checkin.check_in(conn, clock, made["code"])
    tickets.open_counter(conn, clock, w.c2)
    tickets.call_next(conn, clock, w.c2)
    gateway.status = 500
    worker = Deliverer(app)
    assert worker.run_once() == 0
    (d,) = store.list_deliveries(conn, hook["id"])
    assert d["last_error"] == "HTTP 502" and d["status"] == "pending"
    gateway.status = 200
    clock.advance(timedelta(minutes=1).total_seconds())
    assert worker.run_once() == 1
    assert len(gateway.received) == 2  # the failed try and the one that went through
    conn.close()
