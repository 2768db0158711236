"""The admin's API: edits through audited db functions, authorization, backup."""

import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, login


def admin_rules(app):
    """Every (method, path) of the admin blueprint, with ids filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin_api."):
            continue
        path = rule.rule.replace("<id:", "<").replace("<string:", "<")
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "1" if arg != "code" and arg != "day" else "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


PUBLIC = {("GET", "/api/v1/tickets/x/survey"), ("POST", "/api/v1/tickets/x/survey"),
          ("GET", "/api/v1/agencies")}
SUPERVISOR_OK = {"/api/v1/board", "/api/v1/reports", "/api/v1/reports.csv", "/api/v1/reports.xlsx",
                 "/api/v1/reports/chart.svg", "/api/v1/survey/report", "/api/v1/users",
                 "/api/v1/admin/agencies", "/api/v1/admin/services", "/api/v1/holidays",
                 "/api/v1/counters", "/api/v1/printers"}


def test_an_officer_reaches_no_admin_endpoint_or_page(api):
    officer = login(api.app, "officer")
    rules = admin_rules(api.app)
    assert len(rules) > 30
    for method, path in rules:
        if (method, path) in PUBLIC or (method == "GET" and path in ("/api/v1/counters", "/api/v1/printers", "/api/v1/holidays")):
            continue
        r = officer.open(path, method=method, json={})
        assert r.status_code == 403, (method, path, r.status_code)
        assert r.json["error"]["code"] == "forbidden"
    for page in ("/admin", "/admin/board", "/admin/reports", "/admin/services", "/admin/users"):
        r = officer.get(page)
        assert r.status_code == 403 and "Petugas" in r.get_data(as_text=True), page
    r = officer.get("/admin/reports?lang=en")
    assert "Officers work at /counter" in r.get_data(as_text=True)


def test_a_supervisor_sees_only_their_agency(api, clock):
    sup = login(api.app, "super")
    board = sup.get("/api/v1/board").json
    assert {s["agency_id"] for s in board["services"]} == {api.dukcapil}
    assert {c["agency_id"] for c in board["counters"]} == {api.dukcapil}
    rep = sup.get(f"/api/v1/reports?group_by=agency&agency_id={api.samsat}").json
    assert rep["agency_id"] == api.dukcapil
    assert {u["agency_id"] for u in sup.get("/api/v1/users").json} == {api.dukcapil}
    assert [a["id"] for a in sup.get("/api/v1/admin/agencies").json] == [api.dukcapil]
    for method, path in admin_rules(api.app):
        if path in SUPERVISOR_OK and method == "GET" or (method, path) in PUBLIC:
            continue
        assert sup.open(path, method=method, json={}).status_code == 403, (method, path)
    assert sup.get("/admin/reports").status_code == 200
    assert sup.get("/admin/ikm").status_code == 200
    assert sup.get("/admin/services").status_code == 403
    assert login(api.app, "admin").get("/admin/services").status_code == 200
    anonymous = api.app.test_client()
    assert anonymous.get("/api/v1/board").status_code == 401
    assert "password" in anonymous.get("/admin").get_data(as_text=True).lower()


def test_edits_take_effect_and_are_audited(api, clock):
    admin = login(api.app, "admin")
    hours = {str(d): ["08:00", "12:00"] for d in range(1, 6)} | {"6": None, "7": None}
    r = admin.patch(f"/api/v1/services/{api.ktp}", json={"hours": hours, "name": "KTP Elektronik",
                                                         "daily_quota": 50, "target_wait_min": 20})
    assert r.status_code == 200 and r.json["hours"]["6"] is None
    services = {s["id"]: s for s in admin.get("/api/v1/services").json}
    assert services[api.ktp]["name"] == "KTP Elektronik" and services[api.ktp]["is_open"]  # Tue 09:00
    r = admin.patch(f"/api/v1/services/{api.ktp}", json={"hours": {"1": ["12:00", "08:00"]}})
    assert r.status_code == 400 and "hours.1" in r.json["error"]["fields"]
    assert admin.patch(f"/api/v1/services/{api.kk}", json={"active": False}).status_code == 200
    assert api.kk not in {s["id"] for s in admin.get("/api/v1/services").json}

    assert admin.patch(f"/api/v1/agencies/{api.samsat}", json={"name": "Samsat Keliling"}).json["name"] == "Samsat Keliling"
    assert admin.patch(f"/api/v1/agencies/{api.samsat}", json={"code": "DUKCAPIL"}).status_code == 409
    r = admin.patch(f"/api/v1/counters/{api.c2}", json={"number": 7, "service_ids": [api.ktp, api.kk]})
    assert r.json["number"] == 7 and r.json["service_ids"] == [api.ktp, api.kk]
    assert admin.patch(f"/api/v1/counters/{api.c2}", json={"service_ids": [api.pajak]}).status_code == 400

    officer_id = next(u["id"] for u in admin.get("/api/v1/users").json if u["username"] == "officer")
    assert admin.post(f"/api/v1/users/{officer_id}/password", json={"password": "baru-sekali-1"}).status_code == 204
    c = api.app.test_client()
    assert c.post("/api/v1/auth/login", json={"username": "officer", "password": "baru-sekali-1"}).status_code == 200
    assert admin.patch(f"/api/v1/users/{officer_id}", json={"active": False}).json["active"] is False
    assert c.get("/api/v1/auth/me").status_code == 401  # the session of a deactivated user ends
    me = admin.get("/api/v1/auth/me").json["user"]["id"]
    assert admin.patch(f"/api/v1/users/{me}", json={"active": False}).status_code == 409

    device = admin.post("/api/v1/devices", json={"kind": "kiosk", "name": "Kiosk 2"}).json
    headers = {"Authorization": f"Bearer {device['token']}"}
    assert c.get("/api/v1/me/device", headers=headers).status_code == 200
    assert admin.post(f"/api/v1/devices/{device['id']}/revoke").json["active"] is False
    assert c.get("/api/v1/me/device", headers=headers).status_code == 401

    assert admin.post("/api/v1/holidays", json={"day": "2026-12-25", "name": "Natal"}).status_code == 201
    assert admin.post("/api/v1/holidays", json={"day": "25-12-2026"}).status_code == 400
    assert admin.get("/api/v1/holidays").json == [{"day": "2026-12-25", "name": "Natal"}]
    assert admin.delete("/api/v1/holidays/2026-12-25").status_code == 204

    actions = [e["action"] for e in admin.get("/api/v1/audit?limit=500").json]
    for action in ("service.update", "agency.update", "counter.update", "counter.services",
                   "user.password", "user.update", "device.revoke", "holiday.set", "holiday.delete"):
        assert action in actions, action
    entry = next(e for e in admin.get("/api/v1/audit").json if e["action"] == "user.password")
    assert entry["username"] == "admin" and "baru" not in str(entry["data"])


def test_survey_api_and_page_states(api, clock):
    from db import tickets

    conn = api.app.extensions["giliran"].pool.get()
    code = tickets.issue(conn, clock, api.ktp).ticket["code"]
    anonymous = api.app.test_client()
    answers = {f"u{i}": 3 for i in range(1, 10)}
    assert anonymous.get(f"/api/v1/tickets/{code}/survey").json["open"] is False
    assert anonymous.post(f"/api/v1/tickets/{code}/survey", json=answers).json["error"]["code"] == "ticket_not_done"
    assert "setelah" in anonymous.get(f"/survey/{code}").get_data(as_text=True)
    tickets.open_counter(conn, clock, api.c2)
    tickets.call_next(conn, clock, api.c2)
    tickets.start(conn, clock, api.c2)
    tickets.finish(conn, clock, api.c2)
    assert anonymous.post(f"/api/v1/tickets/{code}/survey", json={**answers, "u9": 0}).status_code == 400
    assert anonymous.post(f"/api/v1/tickets/{code}/survey", json=answers).status_code == 201
    assert anonymous.post(f"/api/v1/tickets/{code}/survey", json=answers).status_code == 409
    assert anonymous.get("/survey/nope").status_code == 404
    rep = login(api.app, "super").get("/api/v1/survey/report").json
    assert rep["total"]["ikm"] == 75.0 and rep["total"]["band"]["letter"] == "C"
    api.app.extensions["giliran"].pool.put(conn)


def test_backup_is_a_consistent_sqlite_copy(api, tmp_path, clock):
    from db import tickets

    conn = api.app.extensions["giliran"].pool.get()
    tickets.issue(conn, clock, api.ktp)
    api.app.extensions["giliran"].pool.put(conn)
    r = login(api.app, "admin").get("/api/v1/backup")
    assert r.status_code == 200 and r.data[:16] == b"SQLite format 3\x00"
    copy = tmp_path / "copy.db"
    copy.write_bytes(r.data)
    check = sqlite3.connect(copy)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("SELECT number FROM tickets").fetchall() == [("A001",)]
    assert login(api.app, "super").get("/api/v1/backup").status_code == 403


@pytest.mark.server
def test_backup_command_while_the_server_runs(server, tmp_path):
    s = server.session()
    agency = s.post(server.url + "/api/v1/agencies", json={"code": "BNN", "name": "BNN"}).json()
    out = tmp_path / "cron.db"
    env = {"MPP_DATABASE": str(server.db_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "backup", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = sqlite3.connect(out).execute("SELECT code FROM agencies").fetchall()
    assert rows == [(agency["code"],)]
    live = tmp_path / "live.db"
    live.write_bytes(s.get(server.url + "/api/v1/backup").content)
    assert sqlite3.connect(live).execute("SELECT code FROM agencies").fetchall() == rows


def test_report_ranges_are_checked(api):
    admin = login(api.app, "admin")
    assert admin.get("/api/v1/reports?from=2026-11-24&to=2026-11-01").status_code == 400
    assert admin.get("/api/v1/reports?from=2025-01-01&to=2026-11-24").status_code == 400
    r = admin.get("/api/v1/reports?from=2026-01-01&to=2026-11-24&group_by=day")
    assert r.status_code == 400 and "group_by" in r.json["error"]["fields"]
    assert admin.get("/api/v1/reports?from=2026-13-01").status_code == 400
    svg = admin.get("/api/v1/reports/chart.svg?chart=arrivals")
    assert svg.status_code == 200 and svg.data.startswith(b"<svg")


# (id, how the clash is made, via create or update)
PREFIX_CLASHES = [
    ("create-same-agency", "POST", "/api/v1/services", lambda a: {"agency_id": a.dukcapil, "prefix": "A", "name": "Akta"}),
    ("create-other-agency", "POST", "/api/v1/services", lambda a: {"agency_id": a.samsat, "prefix": "A", "name": "Mutasi"}),
    ("create-lower-case", "POST", "/api/v1/services", lambda a: {"agency_id": a.samsat, "prefix": " k ", "name": "BBN"}),
    ("update-prefix", "PATCH", lambda a: f"/api/v1/services/{a.kk}", {"prefix": "K"}),
    ("reactivate-with-taken-prefix", "PATCH", None, {"active": True}),
]


@pytest.mark.parametrize("name, method, path, body", PREFIX_CLASHES, ids=[c[0] for c in PREFIX_CLASHES])
def test_two_live_services_never_share_a_prefix(api, name, method, path, body):
    admin = login(api.app, "admin")
    if path is None:  # KK is retired, its prefix B reused, then KK is switched back on
        assert admin.patch(f"/api/v1/services/{api.kk}", json={"active": False}).status_code == 200
        r = admin.post("/api/v1/services", json={"agency_id": api.samsat, "prefix": "B", "name": "Balik nama"})
        assert r.status_code == 201, r.json
        path = f"/api/v1/services/{api.kk}"
    path = path(api) if callable(path) else path
    before = admin.get("/api/v1/admin/services").json
    r = admin.open(path, method=method, json=body(api) if callable(body) else body)
    assert r.status_code == 409, r.json
    assert r.json["error"]["code"] == "prefix_taken"
    assert r.json["error"]["message"] and "prefix" in r.json["error"]["fields"]
    assert admin.get("/api/v1/admin/services").json == before


def test_a_retired_services_prefix_may_be_reused(api):
    admin = login(api.app, "admin")
    assert admin.patch(f"/api/v1/services/{api.kk}", json={"active": False}).status_code == 200
    r = admin.post("/api/v1/services", json={"agency_id": api.samsat, "prefix": "B", "name": "Balik nama"})
    assert r.status_code == 201 and r.json["prefix"] == "B"
    # Keeping its own prefix, or changing other fields, is never a clash.
    assert admin.patch(f"/api/v1/services/{api.ktp}", json={"prefix": "A", "name": "KTP"}).status_code == 200


def test_the_devices_list_says_when_each_device_was_last_seen(api, clock):
    from web.events import socketio

    admin = login(api.app, "admin")

    def seen():
        return {d["name"]: d["last_seen_at"] for d in admin.get("/api/v1/devices").json}

    def seen_becomes(name, when):
        """The touch is queued behind the request, never waited for: it lands moments later."""
        deadline = time.monotonic() + 5
        while seen()[name] != when and time.monotonic() < deadline:
            time.sleep(0.02)
        return seen()[name] == when

    assert seen() == {"Kiosk 1": None, "TV 1": None}
    tv = {"Authorization": f"Bearer {api.people.display_token}"}
    assert api.app.test_client().get("/api/v1/display/config", headers=tv).status_code == 200
    assert seen_becomes("TV 1", "2026-11-24T02:00:00+00:00")  # 09.00 WIB
    assert seen()["Kiosk 1"] is None
    clock.advance(50)  # within the minute: no write
    api.app.test_client().get("/api/v1/display/config", headers=tv)
    time.sleep(0.3)  # a write it should not have made would have landed by now
    assert seen()["TV 1"] == "2026-11-24T02:00:00+00:00"
    clock.advance(15)
    api.app.test_client().get("/api/v1/display/config", headers=tv)
    assert seen_becomes("TV 1", "2026-11-24T02:01:05+00:00")
    # A kiosk that only holds its socket open is seen when it connects.
    sock = socketio.test_client(api.app, auth={"token": api.people.kiosk_token})
    assert sock.is_connected()
    sock.disconnect()
    assert seen_becomes("Kiosk 1", "2026-11-24T02:01:05+00:00")
