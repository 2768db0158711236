"""The kiosk's issue path made lighter (issue 17): the same answer, the same events."""

import json

import pytest

from conftest import login
from db import accounts
from db.connection import connect
from web.schemas import TICKET_FIELDS, TicketOut

CASES = [
    ("walk_in", {}),
    ("priority", {"priority": "lansia"}),
    ("priority_true", {"priority": True}),
]


@pytest.mark.parametrize("case, extra", CASES, ids=[c[0] for c in CASES])
def test_the_answer_is_the_schemas_own_json(api, case, extra):
    kiosk = {"Authorization": f"Bearer {api.people.kiosk_token}"}
    client = api.app.test_client()
    client.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=kiosk)
    r = client.post("/api/v1/tickets", json={"service_id": api.ktp, **extra}, headers=kiosk)
    assert r.status_code == 201 and r.mimetype == "application/json"
    answer = r.get_json()
    assert answer["number"] == "A002" and answer["ahead"] == (0 if extra else 1)
    # Byte for byte what APIFlask would have answered through TicketOut and jsonify.
    with api.app.app_context():
        expected = api.app.json.response(TicketOut().dump(answer)).get_data()
    assert r.get_data() == expected
    assert list(json.loads(r.get_data())) == list(TICKET_FIELDS)


def test_a_person_answer_and_a_kiosk_answer_have_the_same_fields(api):
    staff = login(api.app, "officer").post("/api/v1/tickets", json={"service_id": api.kk})
    assert staff.status_code == 201
    assert list(staff.get_json()) == list(TICKET_FIELDS)


def test_a_device_request_gets_no_session_cookie_and_a_person_keeps_theirs(api):
    client = api.app.test_client()
    r = client.post("/api/v1/tickets", json={"service_id": api.ktp},
                    headers={"Authorization": f"Bearer {api.people.kiosk_token}"})
    assert r.status_code == 201 and "Set-Cookie" not in r.headers
    officer = login(api.app, "officer")
    assert officer.get("/api/v1/auth/me").get_json()["user"]["username"] == "officer"
    assert officer.post("/api/v1/auth/logout").status_code == 204
    assert officer.get("/api/v1/auth/me").status_code == 401


def test_a_revoked_kiosk_is_refused_on_its_next_ticket(api):
    conn = connect(api.app.config["DATABASE"])
    device = accounts.create_device(conn, "kiosk", "Kiosk lantai 3")
    headers = {"Authorization": f"Bearer {device['token']}"}
    client = api.app.test_client()
    assert client.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=headers).status_code == 201
    admin = login(api.app, "admin")
    assert admin.post(f"/api/v1/devices/{device['id']}/revoke").status_code == 200
    r = client.post("/api/v1/tickets", json={"service_id": api.ktp}, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
    conn.close()
