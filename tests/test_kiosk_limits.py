"""Kiosk limits enforced by the server (issue 12, point 7): a kiosk limited to some
agencies issues only their tickets; a device token issues at most N tickets a minute."""

import pytest
import requests

from conftest import Server, login
from db import accounts
from db.connection import connect


def kiosk(api, agencies=None):
    """(headers, device id) of a new kiosk, limited to these agencies (names of World's)."""
    conn = connect(api.app.config["DATABASE"])
    device = accounts.create_device(conn, "kiosk", "Kiosk lantai 2")
    if agencies is not None:
        accounts.update_device(conn, device["id"], agency_ids=[getattr(api, a) for a in agencies])
    conn.close()
    return {"Authorization": f"Bearer {device['token']}"}, device["id"]


def issue(api, headers, service):
    return api.app.test_client().post("/api/v1/tickets", json={"service_id": getattr(api, service)},
                                      headers=headers)


CASES = [
    ("unlimited_dukcapil", None, "ktp", 201),
    ("unlimited_samsat", None, "pajak", 201),
    ("samsat_kiosk_samsat", ["samsat"], "pajak", 201),
    ("samsat_kiosk_dukcapil", ["samsat"], "ktp", 403),
    ("dukcapil_kiosk_second_service", ["dukcapil"], "kk", 201),
    ("both_agencies", ["dukcapil", "samsat"], "pajak", 201),
]


@pytest.mark.parametrize("case, agencies, service, status", CASES, ids=[c[0] for c in CASES])
def test_a_kiosk_issues_only_for_its_agencies(api, case, agencies, service, status):
    headers, _ = kiosk(api, agencies)
    r = issue(api, headers, service)
    assert r.status_code == status, r.json
    if status == 403:
        assert r.json["error"]["code"] == "other_agency"
        # Nothing was issued: the next ticket of that service is still number 1.
        staff = login(api.app, "admin").post("/api/v1/tickets", json={"service_id": getattr(api, service)})
        assert staff.json["number"].endswith("001")


@pytest.mark.parametrize("limit", [1, 5], ids=["1_per_minute", "5_per_minute"])
def test_a_device_token_issuing_too_fast_gets_429(api, limit):
    api.app.config["KIOSK_ISSUES_PER_MINUTE"] = limit
    headers, _ = kiosk(api)
    codes = [issue(api, headers, "ktp").status_code for _ in range(limit + 2)]
    assert codes == [201] * limit + [429, 429]
    r = issue(api, headers, "ktp")
    assert r.json["error"]["code"] == "too_many_tickets" and r.json["error"]["message"]
    assert 1 <= int(r.headers["Retry-After"]) <= 61
    # Another kiosk and the staff are not held back by this one.
    other, _ = kiosk(api)
    assert issue(api, other, "ktp").status_code == 201
    assert login(api.app, "officer").post("/api/v1/tickets", json={"service_id": api.ktp}).status_code == 201


@pytest.mark.server
def test_the_issue_limit_is_a_setting_of_the_real_server(tmp_path):
    srv = Server(tmp_path / "mpp.db", env={"MPP_KIOSK_ISSUES_PER_MINUTE": "3"}).start()
    try:
        admin = srv.session("admin")
        agency = admin.post(srv.url + "/api/v1/agencies", json={"code": "PDAM", "name": "PDAM"}).json()
        service = admin.post(srv.url + "/api/v1/services",
                             json={"agency_id": agency["id"], "prefix": "P", "name": "Air"}).json()
        assert admin.post(srv.url + "/api/v1/counters", json={"agency_id": agency["id"], "number": 1,
                                                             "service_ids": [service["id"]]}).status_code == 201
        token = admin.post(srv.url + "/api/v1/devices", json={"kind": "kiosk", "name": "K"}).json()["token"]
        codes = [requests.post(srv.url + "/api/v1/tickets", json={"service_id": service["id"]},
                               headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
                 for _ in range(4)]
        assert codes == [201, 201, 201, 429]
    finally:
        srv.stop()
