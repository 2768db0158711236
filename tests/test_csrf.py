"""CSRF as API.md's Conventions say (issue 12, point 3): cookie-authenticated writes from
a foreign or `null` Origin, or marked cross-site, are 403 `csrf_refused`; without an Origin
only JSON or no body is served; the pages' own uploads (same Origin) keep working."""

import io
import json

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, login, screenshot

SAME = "http://localhost"  # the Flask test client's host


def _png():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def call_next(api, c, headers, body):
    c.post(f"/api/v1/counters/{api.c1}/open", headers={"Origin": SAME})
    c.post("/api/v1/tickets", json={"service_id": api.ktp}, headers={"Origin": SAME})
    return c.post(f"/api/v1/counters/{api.c1}/call-next", headers=headers, **body("json"))


def revoke_device(api, c, headers, body):
    device_id = c.get("/api/v1/devices").json[0]["id"]
    return c.post(f"/api/v1/devices/{device_id}/revoke", headers=headers, **body("none"))


def upload_media(api, c, headers, body):
    return c.post("/api/v1/media", headers=headers, **body("multipart"))


def bodies(kind):
    """How the request's body is sent: `kind` is what the endpoint itself takes."""
    def make(default):
        if kind == "text":
            return {"data": json.dumps({"finish_current": True}), "content_type": "text/plain"}
        if kind == "form":
            return {"data": "finish_current=1", "content_type": "application/x-www-form-urlencoded"}
        if kind == "native":
            if default == "multipart":
                return {"data": {"file": (io.BytesIO(_png()), "poster.png")},
                        "content_type": "multipart/form-data"}
            if default == "json":
                return {"json": {"finish_current": True}}
            return {}
        raise AssertionError(kind)
    return make


ENDPOINTS = [call_next, revoke_device, upload_media]
REFUSED = [
    ("origin_null_text", {"Origin": "null"}, "text"),
    ("origin_null_native", {"Origin": "null"}, "native"),
    ("foreign_origin", {"Origin": "http://evil.example"}, "native"),
    ("sibling_host", {"Origin": "http://localhost:8080"}, "native"),
    ("cross_site_fetch", {"Origin": SAME, "Sec-Fetch-Site": "cross-site"}, "native"),
    ("no_origin_text", {}, "text"),
    ("no_origin_form", {}, "form"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case, headers, body", REFUSED, ids=[c[0] for c in REFUSED])
def test_cookie_writes_from_elsewhere_are_refused_and_change_nothing(api, endpoint, case, headers, body):
    c = login(api.app, "admin")
    before = c.get("/api/v1/counters").json, c.get("/api/v1/devices").json, c.get("/api/v1/media").json
    r = endpoint(api, c, headers, bodies(body))
    assert r.status_code == 403, r.get_data(as_text=True)
    assert r.json["error"]["code"] == "csrf_refused" and r.json["error"]["message"]
    # call_next's set-up issued one ticket: compare what the refused write itself would change.
    after = c.get("/api/v1/counters").json, c.get("/api/v1/devices").json, c.get("/api/v1/media").json
    assert after[1] == before[1] and after[2] == before[2]
    assert all(x["ticket"] is None for x in after[0])


SERVED = [
    ("same_origin", {"Origin": SAME}, "native"),
    ("same_origin_fetch_metadata", {"Origin": SAME, "Sec-Fetch-Site": "same-origin"}, "native"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case, headers, body", SERVED, ids=[c[0] for c in SERVED])
def test_the_pages_own_writes_are_served(api, endpoint, case, headers, body):
    r = endpoint(api, login(api.app, "admin"), headers, bodies(body))
    assert r.status_code in (200, 201), r.get_data(as_text=True)


@pytest.mark.parametrize("endpoint, ok", [(call_next, 200), (revoke_device, 200), (upload_media, 403)],
                         ids=["json_body", "no_body", "multipart_refused"])
def test_without_origin_only_json_or_no_body_is_served(api, endpoint, ok):
    r = endpoint(api, login(api.app, "admin"), {}, bodies("native"))
    assert r.status_code == ok, r.get_data(as_text=True)


@pytest.mark.parametrize("headers", [{"Origin": "null"}, {"Origin": "http://evil.example"},
                                     {"Sec-Fetch-Site": "cross-site"}], ids=["null", "foreign", "cross_site"])
def test_a_device_token_is_not_an_ambient_credential(api, headers):
    r = api.app.test_client().post("/api/v1/tickets", json={"service_id": api.ktp},
                                   headers={"Authorization": f"Bearer {api.people.kiosk_token}", **headers})
    assert r.status_code == 201


@pytest.mark.parametrize("headers", [{"Origin": "null"}, {"Origin": "http://evil.example"}],
                         ids=["null", "foreign"])
def test_a_forged_login_is_refused(api, headers):
    r = api.app.test_client().post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD},
                                   headers=headers)
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf_refused"
    assert r.headers.get("Set-Cookie") is None


@pytest.mark.browser
@pytest.mark.server
def test_the_admin_page_uploads_media_and_logs_in_in_a_real_browser(server, page_at, tmp_path):
    """Chromium sends its own Origin on the page's multipart upload: served."""
    poster = tmp_path / "poster.png"
    poster.write_bytes(_png())
    page = page_at("counter")
    page.goto(server.url + "/admin")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#board-queues")).to_be_visible()
    page.goto(server.url + "/admin/display")
    page.set_input_files("#up-media", str(poster))
    card = page.locator("section.card", has=page.locator("#up-media"))
    with page.expect_response(lambda r: r.url.endswith("/api/v1/media") and r.request.method == "POST") as got:
        card.locator("button.primary").click()
    assert got.value.status == 201, got.value.text()
    expect(page.locator("#toast")).to_be_visible()
    screenshot(page, "csrf-admin-media-upload")
    assert len(server.session("admin").get(server.url + "/api/v1/media").json()) == 1
