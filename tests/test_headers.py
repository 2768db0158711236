"""Security headers on every page and answer (web/headers.py), and every page of the building
loading in a real browser under its CSP with no violation."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, login

# (id, path given the small MPP, logged in as admin?)
PAGES = [
    ("start", lambda a: "/", False),
    ("kiosk", lambda a: "/kiosk", False),
    ("tracking", lambda a: f"/t/{a.code}", False),
    ("survey", lambda a: f"/survey/{a.code}", False),
    ("counter-login", lambda a: "/counter", False),
    ("counter-console", lambda a: f"/counter/{a.c1}", True),
    ("admin-login", lambda a: "/admin", False),
    ("admin-board", lambda a: "/admin/board", True),
    ("admin-services", lambda a: "/admin/services", True),
    ("admin-reports", lambda a: "/admin/reports", True),
    ("error-page", lambda a: "/no-such-page", False),
    ("api-answer", lambda a: "/api/v1/health", False),
    ("api-error", lambda a: "/api/v1/agencies", False),
]


@pytest.fixture
def mpp(api):
    admin = login(api.app, "admin")
    api.code = admin.post("/api/v1/tickets", json={"service_id": api.ktp}).json["code"]
    return api


def _csp(headers):
    return dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";") if part.strip())


@pytest.mark.parametrize("name, path, as_admin", PAGES, ids=[p[0] for p in PAGES])
def test_security_headers_on_every_page(mpp, name, path, as_admin):
    c = login(mpp.app, "admin") if as_admin else mpp.app.test_client()
    r = c.get(path(mpp))
    assert r.status_code < 500
    h = r.headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Frame-Options"] == "SAMEORIGIN"
    csp = _csp(h)
    assert csp["frame-ancestors"] == "'self'"
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    # No outside host anywhere in the policy.
    for sources in csp.values():
        for source in sources.split():
            assert source.startswith("'") or source in ("blob:",), source
    assert "Strict-Transport-Security" not in h  # plain HTTP on the LAN


def test_the_display_may_be_framed_by_nothing(mpp):
    r = mpp.app.test_client().get("/display")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert _csp(r.headers)["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("name, path, as_admin", PAGES + [("display", lambda a: "/display", False)],
                         ids=[p[0] for p in PAGES] + ["display"])
def test_headers_made_once_per_endpoint_are_talismans_own(mpp, name, path, as_admin):
    """web.headers.FixedHeaders answers each endpoint with the headers flask-talisman
    itself builds for it, on the first answer and on later ones."""
    from flask_talisman import Talisman

    app = mpp.app
    c = login(app, "admin") if as_admin else app.test_client()
    answers = [c.get(path(mpp)).headers for _ in range(2)]
    with app.test_request_context(path(mpp)):
        expected = app.response_class()
        expected.headers.clear()
        Talisman._set_response_headers(app.extensions["talisman"], expected)
    assert len(expected.headers) >= 5
    for headers in answers:
        assert [(k, headers.get(k)) for k, _ in expected.headers.items()] == list(expected.headers.items())


def test_headers_leave_the_session_cookie_usable_over_plain_http(mpp):
    r = mpp.app.test_client().post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_no_page_template_carries_inline_script_or_style():
    """The CSP refuses inline code; keep it out of the templates so nothing breaks silently."""
    import re

    from conftest import ROOT

    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style|\sstyle=\"|\son[a-z]+=\"", text):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders


# -- a real browser ----------------------------------------------------------------------


def _watch(page):
    """Collect CSP violations (the console says 'Content Security Policy') and page errors."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text
            or m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.add_init_script("""document.addEventListener('securitypolicyviolation', e =>
        console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));""")
    return problems


@pytest.mark.server
@pytest.mark.browser
def test_every_page_loads_with_no_csp_violation(demo_server, page_at):
    srv = demo_server
    admin = srv.session("admin")
    ticket = admin.post(srv.url + "/api/v1/tickets", json={"service_id": 1}).json()
    admin.post(srv.url + "/api/v1/counters/1/open")

    def visit(screen, path, ready, logged_in=False, **kw):
        page = page_at(screen, bypass_csp=False, **kw)  # the CSP enforced, as in a real browser
        problems = _watch(page)
        if logged_in:
            assert page.context.request.post(srv.url + "/api/v1/auth/login",
                                             data={"username": "admin", "password": PASSWORD}).ok
        page.goto(srv.url + path)
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        return page, problems

    checks = [
        ("kiosk", f"/kiosk?token={srv.tokens['kiosk']}", ".k-agency", {"has_touch": True}, False),
        ("tv", f"/display?token={srv.tokens['display']}", "#time", {}, False),
        ("phone", f"/t/{ticket['code']}", "body", {}, False),
        ("phone", f"/survey/{ticket['code']}", "body", {}, False),
        ("counter", "/counter", "form", {}, False),
        ("counter", "/counter/1", "body", {}, True),
        ("counter", "/admin", "#login-form", {}, False),
        ("tv", "/admin/board", "main", {}, True),
        ("tv", "/admin/reports", "main", {}, True),
        ("tv", "/admin/devices", "main", {}, True),
        ("tv", "/admin/display", "main", {}, True),
        ("counter", "/", ".tile", {}, False),
        ("phone", "/booking", "body", {}, False),
    ]
    seen = {}
    for screen, path, ready, kw, logged_in in checks:
        page, problems = visit(screen, path, ready, logged_in, **kw)
        if path.startswith("/kiosk"):  # take a ticket: the QR code image and the agency colours
            page.locator(".k-agency").first.tap()
            page.locator(".k-service").first.tap()
            page.locator("#take-normal").tap()
            expect(page.locator("#ticket-qr")).to_be_visible()
            page.wait_for_load_state("networkidle")
        if path == "/admin":  # the login form's script runs: a wrong password is said so
            page.fill("#username", "admin")
            page.fill("#password", "salah")
            page.click("button[type=submit]")
            expect(page.locator("#login-error")).not_to_be_empty()
        seen[path.split("?")[0]] = problems
    assert {path: p for path, p in seen.items() if p} == {}
