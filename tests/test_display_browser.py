"""The lobby display in Debian's Chromium against a real gunicorn with the demo MPP:
calls show within a second, bursts are announced in order without overlap, a restart heals,
a browser that blocks sound asks once, and screenshots for the docs."""

import json
import time

import pytest

from conftest import Server, screenshot
from display.voice import call_clips, short_call_clips
from display_helpers import display_state, logo_png, poster_png, quick_pack_zip

pytestmark = [pytest.mark.browser, pytest.mark.server]

# Demo ids: service 1 is A (Dukcapil, counters 1-4), 4 is D (Imigrasi, counters 5-6),
# 6 is F (Polres, counters 7-8), 7 is G (BPJS Kesehatan, counters 9-10).
KTP = 1
COUNTER = 1


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """One demo gunicorn for this file (each test uses its own counters and services)."""
    path = tmp_path_factory.mktemp("display") / "mpp.db"
    srv = Server(path, env={"MPP_DEMO": "1"}).start()
    srv.tokens = json.loads((path.parent / "demo-devices.json").read_text())
    yield srv
    srv.stop()


def use_quick_pack(srv, admin):
    r = admin.post(srv.url + "/api/v1/voice-packs", data={"name": "beep"},
                   files={"file": ("beep.zip", quick_pack_zip(), "application/zip")})
    assert r.status_code == 201, r.text
    r = admin.put(srv.url + "/api/v1/settings/display", json={"voice_pack": "beep"})
    assert r.status_code == 200, r.text


def issue(srv, admin, n, service_id=KTP):
    for _ in range(n):
        assert admin.post(srv.url + "/api/v1/tickets", json={"service_id": service_id}).status_code == 201


def call_next(srv, admin, counter_id=COUNTER):
    r = admin.post(srv.url + f"/api/v1/counters/{counter_id}/call-next", json={"finish_current": True})
    assert r.status_code == 200, r.text
    return r.json()["number"]


def open_display(page_at, srv, screen="tv"):
    page = page_at(screen)
    page.goto(srv.url + f"/display?token={srv.tokens['display']}")
    page.wait_for_function("() => window.giliranDisplay && window.giliranDisplay.online()")
    return page


def wait_announced(page, count, timeout=20000):
    page.wait_for_function(f"() => window.giliranDisplay.announced.length >= {count}", timeout=timeout)


# Ten counters of four agencies (counter id: service id), for a burst from different counters.
BURST = {1: KTP, 2: KTP, 3: KTP, 4: KTP, 11: 9, 12: 9, 13: 10, 14: 10, 15: 10, 16: 12}


def call_at(srv, admin, counter_id):
    # Started first: a ticket being served may be finished at once (a called one may be held).
    admin.post(srv.url + f"/api/v1/counters/{counter_id}/start")
    r = admin.post(srv.url + f"/api/v1/counters/{counter_id}/call-next", json={"finish_current": True})
    assert r.status_code == 200, r.text
    return r.json()["number"]


def test_call_shows_within_a_second_and_a_burst_is_announced_in_order(demo_server, page_at):
    srv = demo_server
    admin = srv.session("admin")
    use_quick_pack(srv, admin)
    assert admin.post(srv.url + "/api/v1/settings/logo",
                      files={"file": ("logo.png", logo_png(), "image/png")}).status_code == 200
    poster = admin.post(srv.url + "/api/v1/media", files={"file": ("poster.png", poster_png(), "image/png")})
    assert poster.status_code == 201
    for counter_id, service_id in BURST.items():
        admin.post(srv.url + f"/api/v1/counters/{counter_id}/open")
        issue(srv, admin, 1, service_id)
    issue(srv, admin, 1)
    page = open_display(page_at, srv)
    page.wait_for_selector("#logo", state="visible")
    page.wait_for_function(f"() => document.getElementById('media-img').getAttribute('src') === '{poster.json()['url']}'")
    # The token is kept by the page and gone from the address bar.
    assert "token" not in page.url
    assert page.evaluate("localStorage.getItem('giliran.display.token')") == srv.tokens["display"]

    started = time.monotonic()
    first = call_next(srv, admin)
    page.wait_for_function(f"() => document.getElementById('now-number').textContent === '{first}'",
                           timeout=1000)
    assert time.monotonic() - started < 1.0
    assert page.text_content("#now-kind") == "Loket" and page.text_content("#now-counter") == "1"
    wait_announced(page, 1)

    # Ten counters call at once: every call is spoken, in order, one at a time.
    burst = [call_at(srv, admin, counter_id) for counter_id in BURST]
    page.wait_for_function(f"() => document.getElementById('now-number').textContent === '{burst[-1]}'")
    wait_announced(page, 11)
    state = display_state(page)
    assert state["announced"] == [first] + burst
    assert state["queue"] == 0 and state["sound"] == "on"
    log = state["log"]
    # In full, "nomor antrean, A, nol nol satu, silakan menuju, loket, satu" after the chime;
    # in the short form, while other calls wait, "A, nol nol satu, loket, satu".
    counters = [COUNTER] + list(BURST)
    compose = {"full": call_clips, "short": short_call_clips}
    assert [(e["ok"], e["clips"]) for e in log] == [
        (True, len(compose[e["form"]](e["number"], counter))) for e, counter in zip(log, counters)]
    assert log[0]["form"] == "full"
    # Never two at once: each announcement starts after the one before has ended.
    assert all(b["audio_start"] >= a["audio_end"] for a, b in zip(log, log[1:]))
    # The page stays bounded however many calls it has seen.
    assert page.locator("#recent li").count() == 5
    screenshot(page, "display-landscape")


def test_an_uploaded_pack_is_played_without_the_silence_around_its_clips(demo_server, page_at):
    srv = demo_server
    admin = srv.session("admin")
    # Every clip: 0.3 s of silence, a 40 ms beep, 0.3 s of silence (0.64 s as uploaded).
    r = admin.post(srv.url + "/api/v1/voice-packs", data={"name": "padded"},
                   files={"file": ("padded.zip", quick_pack_zip(silence_ms=300), "application/zip")})
    assert r.status_code == 201, r.text
    assert admin.put(srv.url + "/api/v1/settings/display", json={"voice_pack": "padded"}).status_code == 200
    admin.post(srv.url + "/api/v1/counters/17/open")
    issue(srv, admin, 1, service_id=13)
    page = open_display(page_at, srv)
    page.wait_for_function("() => window.giliranDisplay.state.sound === 'on'")
    number = call_next(srv, admin, counter_id=17)
    page.wait_for_function(f"() => window.giliranDisplay.calls.some(c => c.number === '{number}'"
                           " && c.outcome === 'spoken')")
    rec = [c for c in display_state(page)["calls"] if c["number"] == number][0]
    # Played: the beep and 20 ms around it, not the 0.6 s of silence.
    assert len(rec["clip_ms"]) == len(call_clips(number, 17))
    assert all(40 <= ms <= 70 for ms in rec["clip_ms"]), rec["clip_ms"]
    assert rec["planned_ms"] < 700
    use_quick_pack(srv, admin)


def test_restart_shows_offline_then_the_right_current_call(demo_server, page_at):
    srv = demo_server
    admin = srv.session("admin")
    admin.post(srv.url + "/api/v1/counters/7/open")
    issue(srv, admin, 3, service_id=6)
    page = open_display(page_at, srv)
    call_next(srv, admin, counter_id=7)
    page.wait_for_function("() => document.getElementById('now-number').textContent === 'F001'")

    srv.stop()
    page.wait_for_selector("#offline-mark", state="visible", timeout=5000)
    assert not page.is_visible("#offline")  # the small mark, not the large page banner
    srv.start()
    admin = srv.session("admin")
    number = call_next(srv, admin, counter_id=7)
    assert number == "F002"
    page.wait_for_function("() => document.getElementById('now-number').textContent === 'F002'",
                           timeout=15000)
    page.wait_for_selector("#offline-mark", state="hidden")
    assert page.text_content("#recent li:first-child .recent-number") == "F001"


def test_portrait_layout_and_running_text_is_never_html(demo_server, page_at):
    srv = demo_server
    admin = srv.session("admin")
    text = "<b>Tutup</b> pukul 15.00 & <img src=x onerror=alert(1)>"
    assert admin.put(srv.url + "/api/v1/settings/display", json={"running_text": text}).status_code == 200
    admin.post(srv.url + "/api/v1/counters/5/open")
    issue(srv, admin, 2, service_id=4)
    page = open_display(page_at, srv, "tv_portrait")
    call_next(srv, admin, counter_id=5)
    page.wait_for_function("() => document.getElementById('now-number').textContent === 'D001'")
    assert page.text_content("#ticker-text") == text
    assert page.locator("#ticker-text *").count() == 0
    # A change by the admin reaches the open display at once.
    admin.put(srv.url + "/api/v1/settings/display", json={"mpp_name": "MPP Kota Contoh"})
    page.wait_for_function("() => document.getElementById('mpp-name').textContent === 'MPP Kota Contoh'")
    screenshot(page, "display-portrait")


# Headless Chromium plays sound without a gesture whatever the flags say, so this context
# behaves like a TV browser with Chrome's default autoplay policy: audio stays suspended
# until someone taps the page.
BLOCK_AUTOPLAY = """
(() => {
  const Real = window.AudioContext;
  let tapped = false;
  window.addEventListener('pointerdown', () => { tapped = true; }, true);
  window.AudioContext = class extends Real {
    constructor(...a) { super(...a); super.suspend(); }
    resume() { return tapped ? super.resume() : Promise.resolve(); }
  };
})();
"""


def test_blocked_autoplay_asks_once_then_announces(demo_server, page_at):
    srv = demo_server
    admin = srv.session("admin")
    use_quick_pack(srv, admin)
    admin.post(srv.url + "/api/v1/counters/9/open")
    issue(srv, admin, 2, service_id=7)
    page = page_at("tv")
    page.add_init_script(BLOCK_AUTOPLAY)
    page.goto(srv.url + f"/display?token={srv.tokens['display']}")
    page.wait_for_selector("#sound-button", state="visible")
    assert page.text_content("#sound-button").strip() == "Aktifkan suara"
    call_next(srv, admin, counter_id=9)
    page.wait_for_function("() => document.getElementById('now-number').textContent === 'G001'")
    screenshot(page, "display-sound-blocked")
    assert display_state(page)["announced"] == []  # held, not dropped

    page.click("#sound-button")
    page.wait_for_selector("#sound", state="hidden")
    wait_announced(page, 1)
    assert display_state(page)["announced"] == ["G001"]
    # Remembered once the tap's unlock has settled (the short call may be over before that).
    page.wait_for_function("() => localStorage.getItem('giliran.display.sound') === 'on'", timeout=3000)


def test_pairing_screen_without_a_token_and_with_a_bad_one(demo_server, page_at):
    srv = demo_server
    page = page_at("tv")
    page.goto(srv.url + "/display")
    page.wait_for_selector("#pair", state="visible")
    assert page.is_hidden("#screen")
    page.fill("#pair-token", "not-a-token")
    page.click("#pair-form button")
    page.wait_for_selector("#pair-error", state="visible")
    assert "tidak dikenal" in page.text_content("#pair-error")
    screenshot(page, "display-pairing")
    page.fill("#pair-token", srv.tokens["display"])
    page.click("#pair-form button")
    page.wait_for_function("() => window.giliranDisplay.online()")
    assert page.is_visible("#screen")
