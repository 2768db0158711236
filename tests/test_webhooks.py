"""Webhooks in the engine and the app: the outbox written with the change, signed deliveries
to a real receiver on loopback, retries and pausing on a controlled clock, SSRF refusals,
the admin's API."""

import ipaddress
import json
import random

import pytest

from conftest import login
from db import tickets
from db import webhooks as store
from db.errors import Conflict
from db.writer import Writer
from webhook_receiver import Receiver, verify
from webhooks.addresses import Refused, check_address, check_url, parse_bind
from webhooks.worker import Deliverer

SECRET = "rahasia-webhook-uji"


def outbox(conn):
    return [(r["event"], json.loads(r["data"])) for r in
            conn.execute("SELECT * FROM outbox ORDER BY id")]


def deliveries(conn):
    return conn.execute("SELECT * FROM webhook_deliveries ORDER BY id").fetchall()


def hook(conn, url="http://192.0.2.10/hook", events=store.EVENTS, secret=SECRET):
    return store.create(conn, url, list(events), secret)


# -- the outbox, in the engine's own transaction ------------------------------------


def test_a_counter_morning_queues_each_event_with_the_ticket(world, conn, clock):
    hook(conn, events=["ticket.issued", "ticket.called", "ticket.done"])
    issued = tickets.issue(conn, clock, world.ktp).ticket
    tickets.open_counter(conn, clock, world.c1)
    tickets.call_next(conn, clock, world.c1)
    tickets.recall(conn, clock, world.c1)
    second = tickets.issue(conn, clock, world.ktp).ticket
    tickets.start(conn, clock, world.c1)  # the citizen came up (the finish guard)
    tickets.call_next(conn, clock, world.c1, finish_current=True)
    tickets.start(conn, clock, world.c1)
    tickets.finish(conn, clock, world.c1)
    events = outbox(conn)
    assert [e for e, _ in events] == ["ticket.issued", "ticket.called", "ticket.called",
                                      "ticket.issued", "ticket.done", "ticket.called", "ticket.done"]
    first = events[0][1]
    assert first["number"] == "A001" and first["code"] == issued["code"]
    assert first["status"] == "waiting" and first["service_name"] == "KTP-el"
    assert [d["recall"] for e, d in events if e == "ticket.called"] == [False, True, False]
    assert events[1][1]["counter_number"] == 1 and events[1][1]["status"] == "called"
    assert events[4][1]["number"] == "A001" and events[4][1]["status"] == "done"
    assert events[6][1]["number"] == second["number"]
    assert {r["status"] for r in deliveries(conn)} == {"pending"}


def test_nobody_listening_writes_nothing(world, conn, clock):
    hook(conn, events=["booking.created"])
    tickets.issue(conn, clock, world.ktp)
    assert outbox(conn) == [] and deliveries(conn) == []


def test_each_listening_webhook_gets_its_own_delivery_of_one_event(world, conn, clock):
    a = hook(conn, events=["ticket.issued"])
    b = hook(conn, "http://192.0.2.11/x", events=["ticket.issued", "ticket.done"])
    hook(conn, "http://192.0.2.12/x", events=["ticket.done"])
    tickets.issue(conn, clock, world.ktp)
    assert len(outbox(conn)) == 1
    assert sorted(r["webhook_id"] for r in deliveries(conn)) == [a["id"], b["id"]]


def _quota(world, conn, clock):
    catalog_service = world.ktp
    conn.execute("UPDATE services SET daily_quota = 1 WHERE id = ?", (catalog_service,))
    tickets.issue(conn, clock, world.ktp)
    return lambda: tickets.issue(conn, clock, world.ktp)


def _busy(world, conn, clock):
    tickets.issue(conn, clock, world.ktp)
    tickets.issue(conn, clock, world.ktp)
    tickets.open_counter(conn, clock, world.c1)
    tickets.call_next(conn, clock, world.c1)
    return lambda: tickets.call_next(conn, clock, world.c1)


def _closed(world, conn, clock):
    tickets.issue(conn, clock, world.ktp)
    return lambda: tickets.call_next(conn, clock, world.c1)  # the counter was never opened


def _finish_nothing(world, conn, clock):
    tickets.open_counter(conn, clock, world.c2)
    return lambda: tickets.finish(conn, clock, world.c2)


@pytest.mark.parametrize("refused", [_quota, _busy, _closed, _finish_nothing],
                         ids=["quota_exhausted", "counter_busy", "counter_closed", "no_ticket"])
def test_a_refused_change_writes_no_outbox_row(world, conn, clock, refused):
    hook(conn)
    attempt = refused(world, conn, clock)
    conn.execute("DELETE FROM webhook_deliveries")   # what the set-up wrote: not the refusal's
    conn.execute("DELETE FROM outbox")
    with pytest.raises(Conflict):
        attempt()
    assert outbox(conn) == [] and deliveries(conn) == []


def test_a_refused_write_sharing_a_group_commit_leaves_no_outbox_row(world, conn, clock, db_path):
    """Through the server's writer: the refused write's SAVEPOINT takes its rows back alone."""
    hook(conn, events=["ticket.issued", "ticket.called"])
    conn.execute("UPDATE services SET daily_quota = 1 WHERE id = ?", (world.ktp,))
    conn.writer = Writer(str(db_path))
    try:
        assert tickets.issue(conn, clock, world.ktp).ticket["number"] == "A001"
        with pytest.raises(Conflict):
            tickets.issue(conn, clock, world.ktp)
        with pytest.raises(Conflict):
            tickets.call_next(conn, clock, world.c1)
    finally:
        conn.writer = None
    assert [e for e, _ in outbox(conn)] == ["ticket.issued"]


def test_enqueue_outside_a_transaction_is_a_bug(conn):
    with pytest.raises(RuntimeError):
        store.enqueue(conn, "ticket.issued", {})


# -- back-off -----------------------------------------------------------------------


def test_backoff_first_retry_within_30_s_later_ones_at_most_10_minutes_apart():
    rand = random.Random(7).random
    waits = [store.backoff_s(n, rand=rand) for n in range(1, 40)]
    assert waits[0] <= 30
    assert all(w <= 600 for w in waits)
    assert waits[-1] >= 0.8 * 600  # capped, not stuck small
    assert len({round(w, 3) for w in waits[-10:]}) > 1  # jittered


# -- where a webhook may point ------------------------------------------------------

OWN = parse_bind("0.0.0.0:8000")


@pytest.mark.parametrize("url,reason", [
    ("ftp://192.168.1.5/x", "Only http"),
    ("file:///etc/passwd", "Only http"),
    ("gopher://127.0.0.1:70/", "Only http"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://169.254.10.1:9000/", "link-local"),
    ("http://[fe80::1]:9000/", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://0.0.0.0:9000/", "not an address"),
    ("http://[::]:9000/", "not an address"),
    ("http://127.0.0.1:8000/api/v1/tickets", "own API"),
    ("http://localhost:8000/api/v1/tickets", "own API"),
    ("http://127.0.0.2:8000/", "own API"),
    ("http://224.0.0.1/", "single receiver"),
    ("http://user:pw@192.168.1.5/", "user name"),
    ("http:///nohost", "no host"),
    ("http://192.168.1.5:99999/", "not a valid URL"),
    ("", "at most 2000"),
    ("http://127.1:8000/", "own API"),
    ("http://2130706433:8000/", "own API"),
    ("http://[::ffff:127.0.0.1]:8000/", "own API"),
    ("http://1.2.3.4:0/", "port 0"),
    ("http://\ud800/", "cannot be resolved"),
], ids=["ftp", "file", "gopher", "metadata", "link_local_v4", "link_local_v6", "mapped_metadata",
        "unspecified_v4", "unspecified_v6", "own_port_loopback", "own_port_localhost",
        "own_port_other_loopback", "multicast", "credentials", "no_host", "bad_port", "empty",
        "own_port_short_form", "own_port_decimal", "own_port_mapped_v6", "port_zero",
        "lone_surrogate"])
def test_urls_a_webhook_may_not_point_at(url, reason):
    with pytest.raises(Refused, match=reason):
        check_url(url, OWN)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/wa", "http://localhost:9001/", "https://192.168.10.20/gateway",
    "http://10.0.0.7:8000/hook", "http://[::1]:9000/", "https://192.0.2.1/x?token=abc",
], ids=["loopback_other_port", "localhost_other_port", "lan_https", "lan_same_port_other_host",
        "ipv6_loopback_other_port", "query_token"])
def test_urls_a_webhook_may_point_at(url):
    check_url(url, OWN)


@pytest.mark.parametrize("bind,ip,port,refused", [
    ("127.0.0.1:8001", "127.0.0.1", 8001, True),
    ("127.0.0.1:8001", "127.0.0.1", 8000, False),
    ("192.0.2.50:8000", "192.0.2.50", 8000, True),
    ("192.0.2.50:8000", "192.0.2.51", 8000, False),
    ("[::1]:8000", "::1", 8000, True),
], ids=["own_loopback", "loopback_other_port", "own_lan_address", "neighbour", "own_v6"])
def test_own_bind_address_and_port_is_refused(bind, ip, port, refused):
    own = parse_bind(bind)
    if refused:
        with pytest.raises(Refused, match="own API"):
            check_address(ipaddress.ip_address(ip), port, own)
    else:
        check_address(ipaddress.ip_address(ip), port, own)


# -- delivering to a real receiver (worker driven by hand, clock controlled) ------------


@pytest.fixture
def worker(app):
    app.config["WEBHOOK_TIMEOUT_S"] = 2
    return Deliverer(app)


def test_delivery_is_signed_with_the_contract_headers_and_body(api, app, clock, worker, db_path):
    from db.connection import connect

    conn = connect(db_path)
    with Receiver() as rx:
        h = hook(conn, rx.url, ["ticket.issued"])
        ticket = tickets.issue(conn, clock, api.ktp).ticket
        assert worker.run_once() == 1
        (record,) = rx.received
        body = json.loads(record["raw"])
        assert set(body) == {"id", "event", "created_at", "data"}
        assert body["event"] == "ticket.issued" and body["data"]["code"] == ticket["code"]
        assert body["created_at"] == clock.iso(clock.ts())  # the MPP's zone, +07:00
        assert record["headers"]["x-giliran-event"] == "ticket.issued"
        assert record["headers"]["x-giliran-delivery"] == str(body["id"])
        assert record["headers"]["content-type"] == "application/json"
        assert verify(SECRET, record)
        assert not verify("another-secret", record)
        (d,) = store.list_deliveries(conn, h["id"])
        assert d["status"] == "delivered" and d["attempts"] == 1 and d["last_status"] == 200
        assert d["response_ms"] is not None and d["id"] == body["id"]
    conn.close()


def test_a_receiver_answering_500_is_retried_until_2xx(api, clock, worker, db_path):
    from db.connection import connect

    conn = connect(db_path)
    with Receiver(status=500) as rx:
        h = hook(conn, rx.url, ["ticket.issued"])
        tickets.issue(conn, clock, api.ktp)
        assert worker.run_once() == 0
        (d,) = store.list_deliveries(conn, h["id"])
        assert d["status"] == "pending" and d["attempts"] == 1 and d["last_error"] == "HTTP 500"
        assert 0 < d["next_try_at"] - clock.ts() <= 30  # the first retry within 30 s
        assert worker.run_once() == 0  # not due yet: nothing is sent
        assert len(rx.received) == 1
        clock.advance(30)
        assert worker.run_once() == 0  # 500 again
        clock.advance(60)
        rx.status = 200
        assert worker.run_once() == 1
        (d,) = store.list_deliveries(conn, h["id"])
        assert d["status"] == "delivered" and d["attempts"] == 3 and d["last_error"] is None
        assert len({json.loads(r["raw"])["id"] for r in rx.received}) == 1  # one id, three tries
        assert len({r["raw"] for r in rx.received}) == 1  # the same bytes each time
    conn.close()


def test_a_receiver_down_for_a_while_gets_the_backlog_when_it_comes_back(api, clock, worker, db_path):
    from db.connection import connect

    conn = connect(db_path)
    rx = Receiver()  # not listening yet: connection refused
    h = hook(conn, rx.url, ["ticket.issued"])
    for _ in range(5):
        tickets.issue(conn, clock, api.ktp)
    for _ in range(6):  # an hour of probes: one try per back-off, not one per delivery
        worker.run_once()
        clock.advance(600)
    tried = [d for d in store.list_deliveries(conn, h["id"]) if d["attempts"]]
    assert sum(d["attempts"] for d in tried) == 6  # six probes in all, not 6 x 5 tries
    assert all("connection failed" in d["last_error"] for d in tried)
    with rx.up():
        assert worker.run_once() == 5
        numbers = [b["data"]["number"] for b in rx.bodies()]
        assert sorted(numbers) == ["A001", "A002", "A003", "A004", "A005"]
    assert all(d["status"] == "delivered" for d in store.list_deliveries(conn, h["id"]))
    assert not store.get(conn, h["id"])["failing_since"]
    conn.close()


def test_a_webhook_failing_for_a_day_is_paused_until_resumed(api, app, clock, worker, db_path):
    from db.connection import connect

    conn = connect(db_path)
    rx = Receiver()
    h = hook(conn, rx.url, ["ticket.issued"])
    tickets.issue(conn, clock, api.ktp)
    for _ in range(24 * 6 + 2):  # a day and a bit, tried as the back-off allows
        worker.run_once()
        clock.advance(600)
    state = store.get(conn, h["id"])
    assert state["paused"] and state["failures"] >= 140
    admin = login(app, "admin")
    listed = admin.get("/api/v1/webhooks").json
    assert listed[0]["paused"] is True and listed[0]["pending"] == 1
    assert listed[0]["failing_since"].endswith("+07:00") and listed[0]["paused_at"].endswith("+07:00")
    assert "secret" not in listed[0]
    tickets.issue(conn, clock, api.ktp)  # held while paused, not lost
    with rx.up():
        assert worker.run_once() == 0
        assert rx.received == []
        assert admin.post(f"/api/v1/webhooks/{h['id']}/resume").status_code == 200
        assert worker.run_once() == 2
    conn.close()


def test_redeliver_by_hand_sends_the_same_id_again(api, app, clock, worker, db_path):
    from db.connection import connect

    conn = connect(db_path)
    with Receiver() as rx:
        h = hook(conn, rx.url, ["ticket.issued"])
        tickets.issue(conn, clock, api.ktp)
        worker.run_once()
        (d,) = store.list_deliveries(conn, h["id"])
        admin = login(app, "admin")
        r = admin.post(f"/api/v1/webhooks/{h['id']}/deliveries/{d['id']}/redeliver")
        assert r.status_code == 200 and r.json["status"] == "pending"
        assert worker.run_once() == 1
        assert [b["id"] for b in rx.bodies()] == [d["id"], d["id"]]
        assert admin.post(f"/api/v1/webhooks/{h['id']}/deliveries/99999/redeliver").status_code == 404
    conn.close()


def test_a_test_delivery_goes_to_that_webhook_only(api, app, clock, worker, db_path):
    from db.connection import connect

    conn = connect(db_path)
    with Receiver() as rx, Receiver() as other:
        h = hook(conn, rx.url, ["ticket.done"])
        hook(conn, other.url, list(store.EVENTS))
        admin = login(app, "admin")
        r = admin.post(f"/api/v1/webhooks/{h['id']}/test")
        assert r.status_code == 201 and r.json["event"] == "webhook.test"
        assert worker.run_once() == 1
        assert [b["event"] for b in rx.bodies()] == ["webhook.test"] and other.received == []
        assert verify(SECRET, rx.received[0])
    conn.close()


def test_a_name_that_resolves_to_a_refused_address_at_delivery_time_is_not_called(api, clock, worker,
                                                                                   db_path):
    """DNS rebinding: the check runs on the address the socket reached, at every try."""
    from db.connection import connect

    conn = connect(db_path)
    with Receiver() as rx:
        h = hook(conn, rx.url, ["ticket.issued"])
        # The receiver now answers on Giliran's own port, as a rebinding name would lead there.
        worker.session = __import__("webhooks.worker", fromlist=["x"]).checked_session(
            parse_bind(f"127.0.0.1:{rx.port}"))
        tickets.issue(conn, clock, api.ktp)
        assert worker.run_once() == 0
        (d,) = store.list_deliveries(conn, h["id"])
        assert d["status"] == "pending" and d["last_error"].startswith("refused")
        assert "own API" in d["last_error"]
        assert rx.received == []
    conn.close()


def test_deliveries_are_pruned_after_30_days(api, clock, worker, db_path):
    from db.connection import connect

    conn = connect(db_path)
    with Receiver() as rx:
        h = hook(conn, rx.url, ["ticket.issued"])
        tickets.issue(conn, clock, api.ktp)
        worker.run_once()
        clock.advance(29 * 86400)
        tickets.issue(conn, clock, api.ktp)
        assert store.prune(conn, clock.ts()) == 0
        clock.advance(2 * 86400)
        assert store.prune(conn, clock.ts()) == 1
        assert len(store.list_deliveries(conn, h["id"])) == 1
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    conn.close()


# -- the admin's API ----------------------------------------------------------------


def test_create_webhook_answers_the_contract_and_the_secret_only_once(api, app):
    admin = login(app, "admin")
    r = admin.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9000/wa",
                                             "events": ["ticket.called", "booking.reminder"],
                                             "secret": SECRET})
    assert r.status_code == 201, r.json
    assert {k: r.json[k] for k in ("url", "events")} == {
        "url": "http://127.0.0.1:9000/wa", "events": ["ticket.called", "booking.reminder"]}
    assert isinstance(r.json["id"], int) and r.json["secret"] == SECRET
    made = admin.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9000/x",
                                                "events": ["ticket.done"]}).json
    assert len(made["secret"]) == 64  # made by the server when left out
    assert all("secret" not in h for h in admin.get("/api/v1/webhooks").json)
    assert "secret" not in admin.get(f"/api/v1/webhooks/{made['id']}").json
    assert admin.get(f"/api/v1/webhooks/{r.json['id']}/deliveries").json == []


@pytest.mark.parametrize("body,field", [
    ({"url": "http://169.254.169.254/", "events": ["ticket.done"]}, "url"),
    ({"url": "ftp://192.168.1.5/", "events": ["ticket.done"]}, "url"),
    ({"url": "http://127.0.0.1:9000/", "events": ["ticket.gone"]}, "events"),
    ({"url": "http://127.0.0.1:9000/", "events": []}, "events"),
    ({"url": "http://127.0.0.1:9000/"}, "events"),
    ({"events": ["ticket.done"]}, "url"),
    ({"url": 5, "events": ["ticket.done"]}, "url"),
    ({"url": "http://127.0.0.1:9000/", "events": ["ticket.done"], "secret": "x" * 201}, "secret"),
], ids=["metadata", "ftp", "unknown_event", "no_events", "events_missing", "url_missing",
        "url_not_text", "secret_too_long"])
def test_bad_webhooks_are_400_and_change_nothing(api, app, body, field):
    admin = login(app, "admin")
    r = admin.post("/api/v1/webhooks", json=body)
    assert r.status_code == 400, r.json
    assert field in json.dumps(r.json["error"].get("fields", {})) or field in r.json["error"]["message"]
    assert admin.get("/api/v1/webhooks").json == []


@pytest.mark.parametrize("who,status", [("officer", 403), ("super", 403), (None, 401)],
                         ids=["officer", "supervisor", "nobody"])
def test_only_admins_reach_webhooks(api, app, who, status):
    c = login(app, who) if who else app.test_client()
    assert c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9000/",
                                            "events": ["ticket.done"]}).status_code == status
    assert c.get("/api/v1/webhooks/1/deliveries").status_code == status


def test_deliveries_are_listed_newest_first(api, app, clock, db_path):
    from db.connection import connect

    conn = connect(db_path)
    h = hook(conn, "http://192.0.2.10/x", ["ticket.issued"])
    for _ in range(3):
        tickets.issue(conn, clock, api.ktp)
    rows = login(app, "admin").get(f"/api/v1/webhooks/{h['id']}/deliveries").json
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert set(rows[0]) >= {"id", "event", "status", "attempts", "last_error"}
    assert rows[0]["status"] == "pending" and rows[0]["attempts"] == 0
    assert rows[0]["created_at"].endswith("+07:00")
    conn.close()


def test_settings_and_openapi(api, app):
    admin = login(app, "admin")
    assert admin.get("/api/v1/webhooks/settings").json == {"near_ahead": 3, "reminder_minutes": 60}
    r = admin.put("/api/v1/webhooks/settings", json={"near_ahead": 5, "reminder_minutes": 90})
    assert r.json == {"near_ahead": 5, "reminder_minutes": 90}
    assert admin.put("/api/v1/webhooks/settings", json={"near_ahead": 0}).status_code == 400
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/webhooks" in spec["paths"]
    assert "/api/v1/webhooks/{webhook_id}/deliveries" in spec["paths"]
