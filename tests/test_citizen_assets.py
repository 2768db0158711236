"""The citizens' pages on mobile data (docs/performance.md "Lighthouse"): pages and their
static files gzipped when the browser accepts it (web/compress.py), the same bytes once
unpacked, still revalidated with a 304; the API's JSON left alone; static files linked with
their version and cached a year (web/static_cache.py); the booking pages without the
Socket.IO client they do not use."""

import gzip
import re
from datetime import datetime, timedelta

import pytest
import requests

from web.static_cache import version

from tests.conftest import MORNING, login

TOMORROW = (MORNING + timedelta(days=1)).date().isoformat()
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def citizen(api):
    """The small MPP with a booking (its card at /b/<code>) and a ticket (/t/<code>)."""
    admin = login(api.app, "admin")
    assert admin.put(f"/api/v1/services/{api.ktp}/booking", json={"enabled": True}).status_code == 200
    c = api.app.test_client()
    r = c.post("/api/v1/bookings", json={"service_id": api.ktp, "start": f"{TOMORROW}T09:00:00+07:00",
                                          "name": "Siti Aminah", "phone": "0812-3456-7890"})
    assert r.status_code == 201, r.json
    api.booking = r.json["code"]
    api.ticket = admin.post("/api/v1/tickets", json={"service_id": api.ktp}).json["code"]
    return api


# (id, path, type): what a phone downloads to show /booking, /b/<code> and /t/<code>.
ASSETS = [
    ("booking-page", lambda a: "/booking", "text/html"),
    ("card-page", lambda a: f"/b/{a.booking}", "text/html"),
    ("card-qr", lambda a: f"/b/{a.booking}/qr.svg", "image/svg+xml"),
    ("tracking-page", lambda a: f"/t/{a.ticket}", "text/html"),
    ("socket-io", lambda a: "/static/vendor/socket.io-4.8.4.min.js", "text/javascript"),
    ("giliran-js", lambda a: "/static/giliran.js", "text/javascript"),
    ("giliran-css", lambda a: "/static/giliran.css", "text/css"),
    ("booking-js", lambda a: "/booking/static/booking.js", "text/javascript"),
    ("booking-css", lambda a: "/booking/static/booking.css", "text/css"),
    ("track-js", lambda a: "/kiosk/static/track.js", "text/javascript"),
    ("track-css", lambda a: "/kiosk/static/track.css", "text/css"),
]


@pytest.mark.parametrize("name, path, mimetype", ASSETS, ids=[a[0] for a in ASSETS])
def test_pages_and_their_files_come_gzipped_and_unpack_to_the_same_bytes(citizen, name, path, mimetype):
    c = citizen.app.test_client()
    plain = c.get(path(citizen), headers={"Accept-Encoding": "identity"})
    packed = c.get(path(citizen), headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert plain.mimetype == packed.mimetype == mimetype
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) * 0.7
    assert gzip.decompress(packed.data) == plain.data


@pytest.mark.parametrize("path", ["/static/vendor/socket.io-4.8.4.min.js", "/booking/static/booking.css"])
def test_a_gzipped_static_file_is_still_revalidated_with_a_304(citizen, path):
    c = citizen.app.test_client()
    first = c.get(path, headers=GZIP)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')  # weak: the same file, other bytes
    again = c.get(path, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # A changed file (another ETag) is sent again in full.
    assert c.get(path, headers={**GZIP, "If-None-Match": 'W/"old"'}).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/booking/services", "/api/v1/health", "/api/v1/openapi.json"])
def test_api_json_is_not_compressed(citizen, path):
    r = citizen.app.test_client().get(path, headers=GZIP)
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "Content-Encoding" not in r.headers


def test_small_answers_and_errors_are_sent_as_they_are(citizen):
    c = citizen.app.test_client()
    missing = c.get("/b/ZZZZZZZZ", headers=GZIP)
    assert missing.status_code == 404 and "Content-Encoding" not in missing.headers
    icon = c.get("/favicon.ico", headers=GZIP)  # already compressed images stay as they are
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers


SCRIPT = re.compile(r'<script src="([^"]+)"')


@pytest.mark.parametrize("name, path, live", [
    ("booking", lambda a: "/booking", False),
    ("card", lambda a: f"/b/{a.booking}", False),
    ("card-missing", lambda a: "/b/ZZZZZZZZ", False),
    ("tracking", lambda a: f"/t/{a.ticket}", True),
], ids=["booking", "card", "card-missing", "tracking"])
def test_only_pages_with_a_live_connection_load_the_socket_io_client(citizen, name, path, live):
    html = citizen.app.test_client().get(path(citizen)).data.decode()
    scripts = [s.split("?")[0] for s in SCRIPT.findall(html)]
    assert "/static/giliran.js" in scripts
    assert any("socket.io" in s for s in scripts) == live, scripts


@pytest.mark.server
def test_a_real_server_sends_the_socket_io_client_gzipped(server):
    """Through gunicorn's gevent worker, as a phone gets it: 3x fewer bytes, the same file."""
    url = server.url + "/static/vendor/socket.io-4.8.4.min.js"
    packed = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    wire = packed.raw.read(decode_content=False)
    plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert len(wire) == int(packed.headers["Content-Length"]) < len(plain.content) / 2
    assert gzip.decompress(wire) == plain.content


PAGES = [("booking", lambda a: "/booking"), ("card", lambda a: f"/b/{a.booking}"),
         ("tracking", lambda a: f"/t/{a.ticket}")]
LINKED = re.compile(r'(?:src|href)="(/[^"]*static/[^"]+)"')


@pytest.mark.parametrize("name, path", PAGES, ids=[p[0] for p in PAGES])
def test_a_page_links_its_files_by_version_and_the_browser_keeps_them_a_year(citizen, name, path):
    c = citizen.app.test_client()
    linked = [u for u in LINKED.findall(c.get(path(citizen)).data.decode()) if "/fonts/" not in u]
    assert len(linked) >= 3, linked  # the shared CSS and JS, the page's own
    for url in linked:
        assert re.search(r"\?v=[0-9a-f]{8}$", url), url
        r = c.get(url, headers=GZIP)
        assert r.status_code == 200, url
        cache = r.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "immutable" in cache and "no-cache" not in cache, (url, cache)


@pytest.mark.parametrize("url", ["/static/giliran.js", "/static/giliran.js?v=00000000",
                                 "/booking/static/booking.css?v=old"])
def test_a_file_asked_without_its_current_version_is_asked_again_each_time(citizen, url):
    r = citizen.app.test_client().get(url)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"


def test_a_changed_file_gets_a_new_version(tmp_path):
    f = tmp_path / "page.js"
    f.write_text("var a = 1;")
    first = version(str(tmp_path), "page.js")
    f.write_text("var a = 12;")
    assert version(str(tmp_path), "page.js") != first
    assert version(str(tmp_path), "missing.js") is None


FONTS = ["/static/fonts/atkinson-hyperlegible-latin-400-normal.woff2",
         "/static/fonts/atkinson-hyperlegible-latin-700-normal.woff2"]


@pytest.mark.parametrize("name, path", PAGES, ids=[p[0] for p in PAGES])
def test_a_page_asks_for_its_fonts_with_its_css_and_the_browser_keeps_them_a_week(citizen, name, path):
    c = citizen.app.test_client()
    html = c.get(path(citizen)).data.decode()
    preloaded = re.findall(r'<link rel="preload" href="([^"]+)" as="font" type="font/woff2" crossorigin>', html)
    # The very URLs giliran.css names (no ?v=), or the browser would download them twice.
    assert preloaded == FONTS
    css = c.get("/static/giliran.css").data.decode()
    assert [f"/static/{u}" for u in re.findall(r'url\("([^"]+\.woff2)"\)', css)] == FONTS
    for url in FONTS:
        r = c.get(url)
        assert r.status_code == 200 and r.mimetype == "font/woff2"
        assert "max-age=604800" in r.headers["Cache-Control"] and "no-cache" not in r.headers["Cache-Control"]


# -- in a real browser, on the public instance -------------------------------------------


@pytest.fixture(scope="module")
def public_pages(tmp_path_factory):
    """The building's instance (demo MPP) and the public one on one file; a booking and a
    ticket, so that the three citizens' pages exist. Yields (public server, three paths)."""
    import json as _json

    from conftest import Server

    tmp = tmp_path_factory.mktemp("citizen-assets")
    building = Server(tmp / "mpp.db", env={"MPP_DEMO": "1"}).start(timeout=60)
    public = Server(tmp / "mpp.db", env={"MPP_SURFACE": "public"}).start(timeout=60)
    try:
        tokens = _json.loads((tmp / "demo-devices.json").read_text())
        admin = building.session("admin")
        services = {s["prefix"]: s for s in admin.get(building.url + "/api/v1/services").json()}
        sid = services["A"]["id"]
        r = admin.put(f"{building.url}/api/v1/services/{sid}/booking", json={"enabled": True, "days_ahead": 7})
        assert r.status_code == 200, r.text
        today = requests.get(public.url + "/api/v1/health", timeout=10).json()["service_day"]
        day = (datetime.fromisoformat(today) + timedelta(days=1)).date().isoformat()
        slot = next(s for s in requests.get(f"{public.url}/api/v1/services/{sid}/slots", params={"date": day},
                                            timeout=10).json() if s["open"] and s["left"] > 0)
        r = requests.post(public.url + "/api/v1/bookings", timeout=10, json={
            "service_id": sid, "start": slot["start"], "name": "Siti Aminah", "phone": "081234567890"})
        assert r.status_code == 201, r.text
        booking = r.json()["code"]
        r = requests.post(building.url + "/api/v1/tickets", json={"service_id": services["B"]["id"]},
                          headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
        assert r.status_code == 201, r.text
        yield public, {"booking": "/booking", "card": f"/b/{booking}", "tracking": f"/t/{r.json()['code']}"}
    finally:
        public.stop()
        building.stop()


@pytest.mark.server
@pytest.mark.browser
@pytest.mark.parametrize("name", ["booking", "card", "tracking"])
def test_a_phone_loads_each_file_once_with_no_error_or_warning(public_pages, page_at, name):
    """What Lighthouse's best practices look at, checked for good: no failed request, no console
    error or warning (a preload the page did not use is one), each font fetched once, and
    gzipped files unpacked by a real browser."""
    from conftest import screenshot

    public, paths = public_pages
    page = page_at("phone", bypass_csp=False)
    requested, failed, console = [], [], []
    page.on("request", lambda r: requested.append(r.url))
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append((r.failure, r.url)))
    page.on("console", lambda m: console.append((m.type, m.text)) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
    page.goto(public.url + paths[name])
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(3500)  # Chromium warns of an unused preload ~3 s after the load
    assert not failed, failed
    assert not console, console
    fonts = [u.split(public.url)[-1] for u in requested if u.endswith(".woff2")]
    assert sorted(fonts) == FONTS, fonts
    assert page.evaluate("document.fonts.check('700 16px \"Atkinson Hyperlegible\"')"
                         " && document.fonts.check('400 16px \"Atkinson Hyperlegible\"')")
    scripts = page.evaluate("[...document.scripts].map(s => s.src).filter(Boolean)")
    assert any("/static/giliran.js?v=" in s for s in scripts)
    assert page.evaluate("typeof window.Giliran") == "object"  # the gzipped script ran
    screenshot(page, f"citizen-{name}")
