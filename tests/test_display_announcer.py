"""The lobby display's announcer keeping up, measured with the real thing: the default espeak-ng
voice pack, a real gunicorn with the demo MPP, the display page in Debian's Chromium at
1920x1080 (autoplay allowed by the launch flags in conftest), and calls made through the API by
several counters. The announcer records what became of every call (window.giliranDisplay.calls):
when it arrived, when its sound began and ended on the audio clock, the form spoken and the
clips' lengths as decoded; the tests compare that with the moment the API was asked to call.

The figures are printed (run with -s) and kept in docs/performance.md."""

import json
import time

import pytest

from conftest import Server, screenshot
from display import voice

pytestmark = [pytest.mark.browser, pytest.mark.server]

# The goals of issue 18. The idle start allows 0.5 s on top of the 1 s goal for a CPU shared
# with other jobs (the announcer itself starts 30 ms after the call reaches it).
IDLE_START_MS = 1500
BURST_LAG_MS = 10_000
SENTENCE_MS = 3500

# Demo ids (counter id: the service id it serves): Dukcapil A 1-4, Imigrasi D 5-6, Polres F 7-8,
# BPJS Kesehatan G 9-10; ten counters numbered 1 to 10, so each is named in one word.
COUNTERS = {1: 1, 2: 1, 3: 1, 4: 1, 5: 4, 6: 4, 7: 6, 8: 6, 9: 7, 10: 7}
# For the dropped and recalled calls: BPJS TK J 11-12, Samsat K 13-15.
OTHERS = {11: 9, 12: 9, 13: 10, 14: 10}


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """A demo server with the default pack ready, every counter above open and a line at each."""
    path = tmp_path_factory.mktemp("announcer") / "mpp.db"
    srv = Server(path, env={"MPP_DEMO": "1"}).start()
    srv.tokens = json.loads((path.parent / "demo-devices.json").read_text())
    admin = srv.session("admin")
    deadline = time.monotonic() + 30
    while not any(p["name"] == "default" and p["complete"]
                  for p in admin.get(srv.url + "/api/v1/voice-packs").json()):
        assert time.monotonic() < deadline, "the default voice pack was not generated"
        time.sleep(0.2)
    for counter_id, service_id in {**COUNTERS, **OTHERS}.items():
        assert admin.post(srv.url + f"/api/v1/counters/{counter_id}/open").status_code == 200
        for _ in range(3):
            r = admin.post(srv.url + "/api/v1/tickets", json={"service_id": service_id})
            assert r.status_code == 201, r.text
    srv.admin = admin
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def tv(hall, browser):
    """One display page for the whole module, as a TV stays open all day."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(hall.url + f"/display?token={hall.tokens['display']}")
    page.wait_for_function("() => window.giliranDisplay && window.giliranDisplay.online()"
                           " && window.giliranDisplay.state.sound === 'on'")
    yield page
    ctx.close()


def now_ms():
    return time.time() * 1000  # the browser's Date.now() reads the same clock


def post(hall, counter_id, action, body=None):
    r = hall.admin.post(hall.url + f"/api/v1/counters/{counter_id}/{action}", json=body or {})
    assert r.status_code == 200, r.text
    return r.json()


def call(hall, counter_id):
    """Call the counter's next ticket (finishing the one it holds); (ticket, when it was asked)."""
    # Started first: a ticket being served may be finished at once (a called one may be held).
    # Nothing held: 409, and nothing changes.
    hall.admin.post(hall.url + f"/api/v1/counters/{counter_id}/start", json={})
    asked = now_ms()
    return post(hall, counter_id, "call-next", {"finish_current": True}), asked


def records(page):
    return page.evaluate("() => window.giliranDisplay.calls.map(c => Object.assign({}, c))")


def wait_quiet(page, timeout=60000):
    """Until every call received has been spoken, dropped or failed."""
    page.wait_for_function("""() => window.giliranDisplay.calls.every(
        c => ['spoken', 'dropped', 'failed', 'skipped'].includes(c.outcome))
        && window.giliranDisplay.queueLength() === 0""", timeout=timeout)


def record_of(page, ticket_id, recall=False):
    found = [r for r in records(page) if r["ticket_id"] == ticket_id and r["recall"] == recall]
    assert len(found) == 1, found
    return found[0]


def test_an_idle_display_starts_speaking_within_a_second(hall, tv):
    lags, arrivals, sentences = [], [], []
    for counter_id in (1, 5, 7, 9):
        # Idle: the pause that follows an announcement (0.35 s) is over too.
        time.sleep(1)
        ticket, asked = call(hall, counter_id)
        tv.wait_for_function(f"() => window.giliranDisplay.calls.some(c => c.ticket_id === {ticket['id']}"
                             " && c.outcome === 'spoken')", timeout=15000)
        rec = record_of(tv, ticket["id"])
        assert rec["form"] == "full" and rec["number"] == ticket["number"]
        lags.append(rec["start"] - asked)
        arrivals.append(rec["received"] - asked)
        # The sentence is what follows the chime, as the browser decoded and trimmed it.
        sentences.append((ticket["number"], counter_id, rec["clip_ms"][0], sum(rec["clip_ms"][1:])))
    print(f"\nidle: call -> speech start ms {[round(x) for x in lags]}, max {max(lags):.0f}"
          f" (of which call -> event at the page {[round(x) for x in arrivals]})")
    for number, counter, chime, sentence in sentences:
        print(f"full form {number} loket {counter}: chime {chime} ms + sentence {sentence} ms")
    assert max(lags) <= IDLE_START_MS, lags
    assert all(sentence <= SENTENCE_MS for *_, sentence in sentences), sentences


def test_a_two_letter_ticket_at_a_counter_past_eleven_is_said_within_3_5_s(hall, tv):
    """The calls that took 3.56-3.72 s with the version 2 pack: two letters ("XZ", two of the
    longest letter names) at counters named in two or three words. At counter 12 said in full;
    at counter 97 ("sembilan puluh tujuh") the sentence would take 3.96 s, and the server
    leaves out "silakan menuju" (display/voice.py fit_call)."""
    admin = hall.admin
    r = admin.post(hall.url + "/api/v1/services", json={"agency_id": 1, "prefix": "XZ", "name": "Uji Suara"})
    assert r.status_code == 201, r.text
    service_id = r.json()["id"]
    counters = {}
    for number in (12, 97):
        r = admin.post(hall.url + "/api/v1/counters",
                       json={"agency_id": 1, "number": number, "service_ids": [service_id]})
        assert r.status_code == 201, r.text
        counters[number] = r.json()["id"]
        assert admin.post(hall.url + f"/api/v1/counters/{counters[number]}/open").status_code == 200
        assert admin.post(hall.url + "/api/v1/tickets", json={"service_id": service_id}).status_code == 201
    said = {}
    for number, counter_id in counters.items():
        wait_quiet(tv)
        time.sleep(0.5)  # idle: the pause after the last announcement is over
        ticket, _ = call(hall, counter_id)
        tv.wait_for_function(f"() => window.giliranDisplay.calls.some(c => c.ticket_id === {ticket['id']}"
                             " && c.outcome === 'spoken')", timeout=15000)
        rec = record_of(tv, ticket["id"])
        assert rec["form"] == "full" and rec["number"] == ticket["number"]
        said[number] = (ticket["number"], rec["clips"], sum(rec["clip_ms"][1:]))
        print(f"\nfull form {ticket['number']} loket {number}: {rec['clips']} clips,"
              f" chime {rec['clip_ms'][0]} ms + sentence {said[number][2]} ms")
    # Counter 12: every word, "nomor antrean ... silakan menuju loket dua belas".
    assert said[12][:2] == ("XZ001", len(voice.call_clips("XZ001", 12)))
    # Counter 97: one clip fewer, the phrase "silakan menuju".
    assert said[97][:2] == ("XZ002", len(voice.call_clips("XZ002", 97)) - 1)
    assert all(sentence <= SENTENCE_MS for *_, sentence in said.values()), said


def test_a_burst_of_ten_calls_from_ten_counters_keeps_up(hall, tv):
    wait_quiet(tv)
    began = time.monotonic()
    calls = []
    for k, counter_id in enumerate(COUNTERS):
        # One call a second, from a different counter each time.
        time.sleep(max(0.0, began + k - time.monotonic()))
        calls.append(call(hall, counter_id))
    wait_quiet(tv)
    recs = [record_of(tv, ticket["id"]) for ticket, _ in calls]
    lags = [rec["start"] - asked for rec, (_, asked) in zip(recs, calls)]
    forms = [rec["form"] for rec in recs]
    short = [rec["planned_ms"] for rec in recs if rec["form"] == "short"]
    print(f"\nburst of 10 calls at 1/s: lag ms {[round(x) for x in lags]}, max {max(lags):.0f}")
    print(f"forms {forms}; short form ms {short}")
    assert [rec["outcome"] for rec in recs] == ["spoken"] * 10
    # In the order called, one at a time.
    assert sorted(recs, key=lambda r: r["audio_start"]) == recs
    # Never two at once, on the audio clock that plays them.
    assert all(b["audio_start"] >= a["audio_end"] + 0.1 for a, b in zip(recs, recs[1:]))
    # The first finds the announcer idle; the rest come while others wait.
    assert forms[0] == "full" and forms.count("short") >= 7
    assert max(lags) <= BURST_LAG_MS, lags
    screenshot(tv, "display-announcer-burst")


def test_calls_of_finished_no_show_or_recalled_tickets_are_dropped(hall, tv):
    wait_quiet(tv)
    # A first call keeps the announcer busy for about 3.7 s while the others queue behind it.
    busy, _ = call(hall, 11)
    done, _ = call(hall, 12)
    post(hall, 12, "start")
    post(hall, 12, "finish")
    absent, _ = call(hall, 13)
    post(hall, 13, "no-show")
    recalled, _ = call(hall, 14)
    post(hall, 14, "recall")
    wait_quiet(tv)
    assert record_of(tv, busy["id"])["outcome"] == "spoken"
    for ticket in (done, absent):
        rec = record_of(tv, ticket["id"])
        assert (rec["outcome"], rec["reason"], rec["start"]) == ("dropped", "ticket_left", None), rec
    first = record_of(tv, recalled["id"])
    assert (first["outcome"], first["reason"]) == ("dropped", "called_again")
    again = record_of(tv, recalled["id"], recall=True)
    assert again["outcome"] == "spoken"
    spoken = [r["number"] for r in records(tv) if r["outcome"] == "spoken"]
    assert spoken.count(recalled["number"]) == 1
    assert done["number"] not in spoken and absent["number"] not in spoken
    # The screen still shows every call, whatever was said.
    assert tv.text_content("#now-number") == recalled["number"]
