"""The display's API: settings, media, logo, voice packs, counter kinds, and the spoken call on ticket_called."""

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from conftest import login
from db import display as display_db
from display import announce, voice
from display.voice import CLIP_TEXTS, audio_info
from display_helpers import quick_pack_zip
from web.events import socketio


def png_bytes(size=(40, 20), color=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def upload(client, path, data, name="file.bin", extra=None):
    """A multipart upload as the admin page sends it: from its own origin."""
    return client.post(path, data={"file": (io.BytesIO(data), name), **(extra or {})},
                       content_type="multipart/form-data", headers={"Origin": "http://localhost"})


def display_headers(api):
    return {"Authorization": f"Bearer {api.people.display_token}"}


@pytest.fixture(scope="module")
def generated_pack(tmp_path_factory):
    """The espeak-ng pack, generated once for this file the way the server does at start."""
    db_path = tmp_path_factory.mktemp("packs") / "mpp.db"
    announce.ensure_default_pack(db_path)
    folder = display_db.packs_dir(db_path) / display_db.DEFAULT_PACK
    assert not voice.missing_clips(folder)
    return folder


@pytest.fixture
def default_pack(api, generated_pack):
    """The generated pack in this app's instance folder."""
    folder = display_db.packs_dir(api.app.config["DATABASE"]) / display_db.DEFAULT_PACK
    shutil.copytree(generated_pack, folder)
    return folder


# -- settings -----------------------------------------------------------------------


def test_settings_have_defaults_and_only_admins_change_them(api):
    client = api.app.test_client()
    got = client.get("/api/v1/settings/display", headers=display_headers(api))
    assert got.status_code == 200
    assert got.json == {"mpp_name": "Mal Pelayanan Publik", "running_text": "", "voice_pack": "default",
                        "announce_mode": "digits", "reload_hour": 3}
    assert client.get("/api/v1/settings/display").status_code == 401
    body = {"running_text": "Tutup pukul 15.00"}
    assert client.put("/api/v1/settings/display", json=body).status_code == 401
    assert client.put("/api/v1/settings/display", json=body, headers=display_headers(api)).status_code == 403
    assert login(api.app, "officer").put("/api/v1/settings/display", json=body).status_code == 403
    assert login(api.app, "super").put("/api/v1/settings/display", json=body).status_code == 403

    admin = login(api.app, "admin")
    r = admin.put("/api/v1/settings/display", json={"mpp_name": "MPP Kota Contoh",
                                                    "running_text": "  <b>Halo</b>\n  & selamat   datang ",
                                                    "announce_mode": "number", "reload_hour": None})
    assert r.status_code == 200
    # Stored as typed (whitespace folded to one line); the page shows it as text, never HTML.
    assert r.json == {"mpp_name": "MPP Kota Contoh", "running_text": "<b>Halo</b> & selamat datang",
                      "voice_pack": "default", "announce_mode": "number", "reload_hour": None}
    assert client.get("/api/v1/settings/display", headers=display_headers(api)).json == r.json


@pytest.mark.parametrize("body, field", [
    ({"reload_hour": 24}, "reload_hour"),
    ({"reload_hour": "3"}, "reload_hour"),
    ({"announce_mode": "words"}, "announce_mode"),
    ({"mpp_name": ""}, "mpp_name"),
    ({"running_text": "x" * 1001}, "running_text"),
    ({"voice_pack": "../etc"}, "voice_pack"),
    ({"voice_pack": "nosuchpack"}, "voice_pack"),
])
def test_bad_settings_are_refused_field_by_field(api, body, field):
    r = login(api.app, "admin").put("/api/v1/settings/display", json=body)
    assert r.status_code == 400
    assert field in r.json["error"]["fields"]


def test_settings_changed_reaches_every_display_whatever_its_agencies(api):
    admin = login(api.app, "admin")
    r = admin.patch(f"/api/v1/devices/{2}", json={"agency_ids": [api.samsat]})
    assert r.status_code == 200, r.json
    limited = socketio.test_client(api.app, auth={"token": api.people.display_token})
    limited.get_received()
    admin.put("/api/v1/settings/display", json={"running_text": "Antrean ditutup pukul 15.00"})
    got = [e["args"][0] for e in limited.get_received() if e["name"] == "settings_changed"]
    assert len(got) == 1
    assert got[0]["running_text"] == "Antrean ditutup pukul 15.00"
    assert got[0]["media"] == [] and got[0]["logo_url"] is None


def test_display_config_for_a_display_and_refused_to_a_kiosk(api):
    client = api.app.test_client()
    r = client.get("/api/v1/display/config", headers=display_headers(api))
    assert r.status_code == 200
    assert r.json["device"]["name"] == "TV 1"
    assert r.json["counter_kinds"] == {str(api.c1): "loket", str(api.c2): "loket", str(api.c3): "loket"}
    kiosk = {"Authorization": f"Bearer {api.people.kiosk_token}"}
    assert client.get("/api/v1/display/config", headers=kiosk).status_code == 403
    assert r.json["voice_clips"] == []  # no pack generated yet


def test_display_config_lists_every_clip_of_the_pack_to_decode_ahead(api, default_pack):
    clips = api.app.test_client().get("/api/v1/display/config", headers=display_headers(api)).json["voice_clips"]
    assert sorted(re.match(r"^/display/voice/default/(\w+)\.wav\?v=\w+$", u).group(1) for u in clips) \
        == sorted(CLIP_TEXTS)
    # The same URLs a call carries, so what is decoded ahead is what a call plays.
    assert set(call_event(api, api.c1)["clips"]) <= set(clips)


# -- media and logo ------------------------------------------------------------------------


def test_media_upload_serve_and_delete(api):
    admin = login(api.app, "admin")
    r = upload(admin, "/api/v1/media", png_bytes(), name="../../brosur <script>.png")
    assert r.status_code == 201, r.json
    item = r.json
    assert item["kind"] == "image" and item["mime"] == "image/png" and item["url"] == f"/media/{item['id']}"
    assert item["name"] == "brosur <script>.png"  # the uploader's name is only a label
    files = list(display_db.media_dir(api.app.config["DATABASE"]).iterdir())
    assert [f.name for f in files if not f.name.startswith(".")][0].startswith("m-")

    served = api.app.test_client().get(item["url"])
    assert served.status_code == 200 and served.data == png_bytes()
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert admin.get("/api/v1/media").json == [item]

    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
    video = upload(admin, "/api/v1/media", mp4, name="promo.mp4")
    assert video.status_code == 201 and video.json["kind"] == "video"

    assert admin.delete(f"/api/v1/media/{item['id']}").status_code == 204
    assert api.app.test_client().get(item["url"]).status_code == 404
    assert admin.delete(f"/api/v1/media/{item['id']}").status_code == 404
    assert [m["id"] for m in admin.get("/api/v1/media").json] == [video.json["id"]]


@pytest.mark.parametrize("data, name, code", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.png", "unsupported_file"),
    (b"MZ\x90\x00 not a picture", "photo.jpg", "unsupported_file"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "broken.png", "invalid_image"),
    (b"", "empty.png", "unsupported_file"),
])
def test_media_checks_the_content_not_the_name(api, data, name, code):
    r = upload(login(api.app, "admin"), "/api/v1/media", data, name=name)
    assert r.status_code == 400 and r.json["error"]["code"] == code


def test_media_needs_an_admin_and_a_file(api):
    assert upload(login(api.app, "officer"), "/api/v1/media", png_bytes()).status_code == 403
    assert upload(api.app.test_client(), "/api/v1/media", png_bytes()).status_code == 401
    r = login(api.app, "admin").post("/api/v1/media", data={}, content_type="multipart/form-data",
                                     headers={"Origin": "http://localhost"})
    assert r.status_code == 400 and "file" in r.json["error"]["fields"]


def test_logo_upload_replaces_the_old_one(api):
    admin = login(api.app, "admin")
    assert api.app.test_client().get("/media/logo").status_code == 404
    first = upload(admin, "/api/v1/settings/logo", png_bytes(color=(0, 0, 255)), name="logo.png")
    assert first.status_code == 200 and first.json["url"].startswith("/media/logo?v=")
    second = upload(admin, "/api/v1/settings/logo", png_bytes(color=(0, 255, 0)), name="logo.png")
    assert second.json["url"] != first.json["url"]
    served = api.app.test_client().get(second.json["url"])
    assert served.status_code == 200 and served.data == png_bytes(color=(0, 255, 0))
    logos = [f for f in display_db.media_dir(api.app.config["DATABASE"]).iterdir() if f.name.startswith("logo-")]
    assert len(logos) == 1
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
    assert upload(admin, "/api/v1/settings/logo", mp4).status_code == 400


# -- voice packs and the spoken call -------------------------------------------------------------


def call_event(api, counter_id):
    display = socketio.test_client(api.app, auth={"token": api.people.display_token})
    display.get_received()
    officer = login(api.app, "officer")
    officer.post(f"/api/v1/counters/{counter_id}/open")
    api.app.test_client().post("/api/v1/tickets", json={"service_id": api.ktp},
                               headers={"Authorization": f"Bearer {api.people.kiosk_token}"})
    assert officer.post(f"/api/v1/counters/{counter_id}/call-next").status_code == 200
    return next(e["args"][0] for e in display.get_received() if e["name"] == "ticket_called")


def test_default_pack_clips_are_served_as_valid_audio_with_long_caching(api, default_pack):
    call = call_event(api, api.c2)
    assert call["counter_kind"] == "loket"
    names = [re.match(r"^/display/voice/default/(\w+)\.wav\?v=\w+$", url).group(1) for url in call["clips"]]
    assert names == "chime nomor_antrean huruf_a nol nol satu silakan_menuju loket dua".split()
    # The short form a display uses while other calls wait: "A nol nol satu, loket dua".
    short = [re.match(r"^/display/voice/default/(\w+)\.wav\?v=\w+$", url).group(1) for url in call["clips_short"]]
    assert short == "huruf_a nol nol satu loket dua".split()
    client = api.app.test_client()
    for name in CLIP_TEXTS:  # every clip of the pack, not only this call's
        r = client.get(f"/display/voice/default/{name}.wav?v=1")
        assert r.status_code == 200, name
        kind, duration_ms = audio_info(r.data)
        assert kind == "wav" and duration_ms > 0
        assert "immutable" in r.headers["Cache-Control"] and "max-age=31536000" in r.headers["Cache-Control"]
    packs = login(api.app, "admin").get("/api/v1/voice-packs").json
    assert packs == [{"name": "default", "source": "espeak-ng", "complete": True, "active": True}]


@pytest.mark.parametrize("counter_number, mode, expected", [
    # "A nol nol satu" at loket 12: 3.1 s, every word said.
    (12, "digits", "chime nomor_antrean huruf_a nol nol satu silakan_menuju loket dua belas"),
    # At loket 97 the sentence would take 3.6 s: the server leaves out "silakan menuju".
    (97, "digits", "chime nomor_antrean huruf_a nol nol satu loket sembilan puluh tujuh"),
    # In words ("satu") the same call fits in full.
    (97, "number", "chime nomor_antrean huruf_a satu silakan_menuju loket sembilan puluh tujuh"),
], ids=["loket-12", "loket-97-fitted", "loket-97-number-mode"])
def test_a_call_too_long_for_3_5_s_comes_without_a_phrase(api, default_pack, counter_number, mode, expected):
    admin = login(api.app, "admin")
    assert admin.put("/api/v1/settings/display", json={"announce_mode": mode}).status_code == 200
    r = admin.post("/api/v1/counters", json={"agency_id": api.dukcapil, "number": counter_number,
                                             "service_ids": [api.ktp]})
    assert r.status_code == 201, r.json
    call = call_event(api, r.json["id"])
    names = [re.match(r"^/display/voice/default/(\w+)\.wav\?v=\w+$", url).group(1) for url in call["clips"]]
    assert names == expected.split()
    lengths = voice.clip_ms(voice.load_pack(default_pack))
    assert voice.sentence_ms(names, lengths) <= voice.SENTENCE_MS


@pytest.mark.parametrize("path", [
    "/display/voice/default/..%2Fmpp.db", "/display/voice/default/manifest.json",
    "/display/voice/..%2F..%2Fetc/passwd.wav", "/display/voice/default/nosuch.wav",
])
def test_clip_urls_reach_nothing_else(api, default_pack, path):
    assert api.app.test_client().get(path).status_code == 404


def test_uploaded_pack_and_counter_kind_change_the_call(api, default_pack):
    admin = login(api.app, "admin")
    r = upload(admin, "/api/v1/voice-packs", quick_pack_zip(), name="pack.zip", extra={"name": "rekaman"})
    assert r.status_code == 201, r.json
    assert r.json == {"name": "rekaman", "source": "upload", "complete": True, "active": False}
    assert admin.put("/api/v1/settings/display", json={"voice_pack": "rekaman"}).status_code == 200
    kind = admin.put(f"/api/v1/counters/{api.c1}/kind", json={"kind": "meja"})
    assert kind.status_code == 200 and kind.json["id"] == api.c1
    assert admin.put(f"/api/v1/counters/{api.c1}/kind", json={"kind": "bilik"}).status_code == 400
    assert admin.put("/api/v1/counters/999/kind", json={"kind": "meja"}).status_code == 404

    call = call_event(api, api.c1)
    assert call["counter_kind"] == "meja"
    assert all(url.startswith("/display/voice/rekaman/") for url in call["clips"])
    assert [Path(u.split("?")[0]).stem for u in call["clips"]][-2:] == ["meja", "satu"]
    packs = {p["name"]: p["active"] for p in admin.get("/api/v1/voice-packs").json}
    assert packs == {"default": False, "rekaman": True}


def test_bad_packs_are_refused_and_change_nothing(api, default_pack):
    admin = login(api.app, "admin")
    r = upload(admin, "/api/v1/voice-packs", quick_pack_zip(), extra={"name": "default"})
    assert r.status_code == 400 and r.json["error"]["code"] == "reserved_pack_name"
    r = upload(admin, "/api/v1/voice-packs", quick_pack_zip(), extra={"name": "../x"})
    assert r.status_code == 400 and "name" in r.json["error"]["fields"]
    r = upload(admin, "/api/v1/voice-packs", b"not a zip", extra={"name": "rusak"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_voice_pack"
    partial = io.BytesIO()
    with zipfile.ZipFile(partial, "w") as z, zipfile.ZipFile(io.BytesIO(quick_pack_zip())) as full:
        for info in full.infolist()[:-3]:
            z.writestr(info, full.read(info))
    r = upload(admin, "/api/v1/voice-packs", partial.getvalue(), extra={"name": "kurang"})
    assert r.status_code == 400 and "missing 3 clip(s)" in r.json["error"]["message"]
    assert upload(login(api.app, "officer"), "/api/v1/voice-packs", quick_pack_zip(),
                  extra={"name": "x"}).status_code == 403
    assert [p["name"] for p in admin.get("/api/v1/voice-packs").json] == ["default"]


def test_no_pack_yet_means_a_silent_call_not_an_error(api):
    call = call_event(api, api.c1)
    assert call["clips"] == [] and call["clips_short"] == [] and call["counter_kind"] == "loket"


def test_the_page_loads_only_from_this_server(api):
    page = api.app.test_client().get("/display")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nomor antrean" in html and "Aktifkan suara" in html
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert ref.startswith("/"), ref
    english = api.app.test_client().get("/display?lang=en").get_data(as_text=True)
    assert "Queue number" in english and "Turn on sound" in english


def test_the_display_reads_the_servers_clock_not_the_machines(api, clock):
    """server_ms is the app's clock (shifted in tests and drills), in the API and in the page."""
    expected = int(clock.ts() * 1000)
    client = api.app.test_client()
    assert client.get("/api/v1/display/config", headers=display_headers(api)).json["server_ms"] == expected
    page = client.get("/display").get_data(as_text=True)
    config = re.search(r'<script id="giliran-config" type="application/json">(.*?)</script>', page, re.S)
    assert json.loads(config.group(1))["server_ms"] == expected
