import io
import re
import shutil
import string
import subprocess
import sys
import time
import wave
import zipfile
from pathlib import Path

import pytest

# The repository root is not on sys.path until the project's pytest set-up
# (tests/conftest.py, owned elsewhere) puts it there; harmless once it does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from display import voice  # noqa: E402
from display.numbers import words  # noqa: E402
from display.voice import (  # noqa: E402
    CLIP_TEXTS, audio_info, call_clips, generate_default_pack, import_pack_zip, load_pack, missing_clips,
    short_call_clips,
)


# --- composing a call ----------------------------------------------------------

@pytest.mark.parametrize("number, counter, kind, mode, expected", [
    ("A001", 3, "loket", "digits",
     "chime nomor_antrean huruf_a nol nol satu silakan_menuju loket tiga"),
    ("BK012", 12, "meja", "digits",
     "chime nomor_antrean huruf_b huruf_k nol satu dua silakan_menuju meja dua belas"),
    ("A1000", 1, "loket", "digits",
     "chime nomor_antrean huruf_a satu nol nol nol silakan_menuju loket satu"),
    ("A1000", 10, "ruang", "number",
     "chime nomor_antrean huruf_a seribu silakan_menuju ruang sepuluh"),
    ("A123", 111, "loket", "number",
     "chime nomor_antrean huruf_a seratus dua puluh tiga silakan_menuju loket seratus sebelas"),
    ("XYZ001", 2, "meja", "number",
     "chime nomor_antrean huruf_x huruf_y huruf_z satu silakan_menuju meja dua"),
    ("Q000", 9999, "loket", "number",
     "chime nomor_antrean huruf_q nol silakan_menuju loket sembilan ribu sembilan ratus sembilan puluh sembilan"),
    # No words exist past 9999, so number mode reads such a number digit by digit.
    ("A12345", 4, "loket", "number",
     "chime nomor_antrean huruf_a satu dua tiga empat lima silakan_menuju loket empat"),
])
def test_call_clips(number, counter, kind, mode, expected):
    assert call_clips(number, counter, kind, mode) == expected.split()


@pytest.mark.parametrize("number, counter, kind, mode, expected", [
    ("A001", 3, "loket", "digits", "huruf_a nol nol satu loket tiga"),
    ("BK012", 12, "meja", "digits", "huruf_b huruf_k nol satu dua meja dua belas"),
    ("A123", 111, "ruang", "number", "huruf_a seratus dua puluh tiga ruang seratus sebelas"),
])
def test_short_call_clips_leave_out_the_chime_and_the_phrases(number, counter, kind, mode, expected):
    assert short_call_clips(number, counter, kind, mode) == expected.split()


@pytest.mark.parametrize("args", [("A01", 1), ("A001", 0), ("A001", 1, "kamar"), ("A001", 1, "loket", "words")],
                         ids=["number", "counter", "kind", "mode"])
def test_short_call_clips_check_like_call_clips(args):
    with pytest.raises(ValueError):
        short_call_clips(*args)


def test_call_clips_defaults_to_loket_and_digits():
    assert call_clips("A001", 3) == call_clips("A001", 3, "loket", "digits")


@pytest.mark.parametrize("number", ["a001", "A01", "A", "001", "ABCD001", "A-001", "A001 ", "Á001", "A00١", "", None, 1])
def test_call_clips_rejects_bad_numbers(number):
    with pytest.raises(ValueError, match="ticket number"):
        call_clips(number, 1)


@pytest.mark.parametrize("counter, kind, mode, message", [
    (0, "loket", "digits", "counter number"),
    (10000, "loket", "digits", "counter number"),
    (True, "loket", "digits", "counter number"),
    ("3", "loket", "digits", "counter number"),
    (3, "kamar", "digits", "counter kind"),
    (3, "Loket", "digits", "counter kind"),
    (3, "loket", "words", "mode"),
])
def test_call_clips_rejects_bad_arguments(counter, kind, mode, message):
    with pytest.raises(ValueError, match=message):
        call_clips("A001", counter, kind, mode)


def test_every_clip_a_call_can_use_is_in_the_pack():
    used = {"chime", "nomor_antrean", "silakan_menuju", *voice.COUNTER_KINDS}
    used |= {f"huruf_{c}" for c in string.ascii_lowercase}
    for n in range(10000):
        used.update(words(n))
    for kind in voice.COUNTER_KINDS:
        for mode in voice.MODES:
            used.update(call_clips("ABC0123456789", 1234, kind, mode))
    assert used <= set(CLIP_TEXTS), used - set(CLIP_TEXTS)
    # And the pack holds nothing a call never says.
    assert set(CLIP_TEXTS) <= used


def test_clip_names_are_file_stems():
    for name, text in CLIP_TEXTS.items():
        assert re.fullmatch(r"[a-z][a-z_]*", name), name
        assert text.strip(), name


# --- the generated default pack -------------------------------------------------

def _require_tools():
    missing = [tool for tool in ("espeak-ng", "sox") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not installed: run the set-up (apt-get install espeak-ng sox)")


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    _require_tools()
    folder = tmp_path_factory.mktemp("packs") / "default"
    started = time.monotonic()
    assert generate_default_pack(folder) == folder
    seconds = time.monotonic() - started
    # The design allows well under a minute on two cores; it takes about half a second.
    assert seconds < 20, f"generating the default pack took {seconds:.1f} s"
    return folder


def test_default_pack_has_every_clip_as_wav(pack):
    manifest = load_pack(pack)
    assert manifest["version"] == voice.PACK_VERSION
    assert manifest["source"] == "espeak-ng"
    assert list(manifest["clips"]) == list(CLIP_TEXTS)
    assert missing_clips(pack) == []
    for name, clip in manifest["clips"].items():
        path = pack / clip["file"]
        assert path.name == f"{name}.wav"
        assert path.read_bytes()[:4] == b"RIFF"
        with wave.open(str(path)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2, name
            assert w.getnframes() > 0, name
            ms = w.getnframes() * 1000 // w.getframerate()
        assert clip["duration_ms"] == ms, name
        # A spoken word is short but not a blip; the chime is under half a second.
        assert 90 < ms < 1200, (name, ms)
    assert 350 <= manifest["clips"]["chime"]["duration_ms"] <= 500


def _samples(path):
    from array import array

    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return w.getframerate(), array("h", w.readframes(w.getnframes()))


def _ms(path):
    with wave.open(str(path)) as w:
        return w.getnframes() * 1000 / w.getframerate()


@pytest.mark.parametrize("name", [n for n in CLIP_TEXTS if n != "chime"])
def test_default_pack_clips_start_at_once_and_end_on_a_short_gap(pack, name):
    rate, data = _samples(pack / f"{name}.wav")
    # Sound is what rises above -40 dB of full scale (the threshold sox trimmed at).
    loud = [i for i, x in enumerate(data) if abs(x) > 0.01 * 32767]
    lead_ms = loud[0] * 1000 / rate
    tail_ms = (len(data) - 1 - loud[-1]) * 1000 / rate
    assert lead_ms <= 5, f"{name} starts with {lead_ms:.0f} ms of silence"
    assert tail_ms <= voice.CLIP_GAP_S * 1000 + 5, f"{name} ends with {tail_ms:.0f} ms of silence"


# Typical calls: a one-letter ticket at a counter whose number is one word. Two letters
# or a two-word counter number (12, 21) add 0.2-0.4 s; see docs/voice-packs.md.
SENTENCES = [("A001", 3, "loket"), ("A012", 1, "loket"), ("D105", 10, "loket"),
             ("G020", 9, "loket"), ("K287", 5, "meja")]


@pytest.mark.parametrize("number, counter, kind", SENTENCES, ids=[f"{n}-{c}" for n, c, _ in SENTENCES])
def test_default_pack_sentence_takes_at_most_3_5_s(pack, number, counter, kind):
    full = call_clips(number, counter, kind)
    chime = _ms(pack / "chime.wav")
    words = sum(_ms(pack / f"{name}.wav") for name in full[1:])
    short = sum(_ms(pack / f"{name}.wav") for name in short_call_clips(number, counter, kind))
    print(f"{number} {kind} {counter}: sentence {words / 1000:.2f} s (+ chime {chime / 1000:.2f} s), "
          f"short form {short / 1000:.2f} s")
    assert words <= 3500
    assert chime <= 500
    # The backlog form must keep up with a call a second for ten seconds (docs/display.md).
    assert short <= 1800


def test_default_pack_leaves_no_staging_folders(pack):
    assert sorted(p.name for p in pack.parent.iterdir()) == [".default.lock", "default"]


def test_default_pack_second_call_is_a_no_op(pack):
    manifest = pack / "manifest.json"
    before = manifest.stat().st_mtime_ns, manifest.stat().st_ino
    started = time.monotonic()
    generate_default_pack(pack)
    assert time.monotonic() - started < 0.5
    assert (manifest.stat().st_mtime_ns, manifest.stat().st_ino) == before


def test_default_pack_is_rebuilt_when_incomplete(pack, tmp_path):
    folder = tmp_path / "default"
    shutil.copytree(pack, folder)
    (folder / "ruang.wav").unlink()
    assert missing_clips(folder) == ["ruang"]
    generate_default_pack(folder)
    assert missing_clips(folder) == []


def test_failed_generation_keeps_the_old_pack(pack, tmp_path, monkeypatch):
    folder = tmp_path / "default"
    shutil.copytree(pack, folder)
    # An older version forces a rebuild, which then fails half-way.
    (folder / "manifest.json").write_text((pack / "manifest.json").read_text().replace(
        f'"version": {voice.PACK_VERSION}', '"version": 0'))
    real_speak = voice._speak

    def speak(name, *args):
        if name == "ruang":
            raise RuntimeError("espeak-ng crashed")
        return real_speak(name, *args)

    monkeypatch.setattr(voice, "_speak", speak)
    with pytest.raises(RuntimeError, match="crashed"):
        generate_default_pack(folder)
    assert load_pack(folder)["version"] == 0 and missing_clips(folder) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [".default.lock", "default"]


def test_failed_first_generation_leaves_no_folder(tmp_path, monkeypatch):
    _require_tools()
    monkeypatch.setattr(voice, "_chime", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        generate_default_pack(tmp_path / "default")
    assert not (tmp_path / "default").exists()


def test_will_not_replace_a_folder_that_is_not_a_pack(tmp_path):
    _require_tools()
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "giliran.db").write_text("precious")
    with pytest.raises(ValueError, match="refusing"):
        generate_default_pack(tmp_path / "instance")
    assert (tmp_path / "instance" / "giliran.db").read_text() == "precious"


# --- importing a recorded pack --------------------------------------------------

def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _pack_files(pack, prefix=""):
    return {f"{prefix}{p.name}": p.read_bytes() for p in sorted(pack.glob("*.wav"))}


def _mp3(frames: int) -> bytes:
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames of 1152 samples.
    # Zeroed frame bodies are valid (silent) for the header walk.
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + (b"\xff\xfb\x90\x64" + bytes(413)) * frames


def _expect_rejection(zip_bytes, folder, *fragments):
    with pytest.raises(ValueError) as raised:
        import_pack_zip(zip_bytes, folder)
    message = str(raised.value)
    assert message.startswith("voice pack rejected: ")
    for fragment in fragments:
        assert fragment in message
    return message


def test_import_flat_zip(pack, tmp_path):
    folder = tmp_path / "custom"
    manifest = import_pack_zip(_zip(_pack_files(pack)), folder)
    assert manifest == load_pack(folder)
    assert manifest["source"] == "upload"
    assert missing_clips(folder) == []
    assert manifest["clips"]["nol"] == load_pack(pack)["clips"]["nol"]
    assert (folder / "nol.wav").read_bytes() == (pack / "nol.wav").read_bytes()


def test_import_zip_with_one_folder_mixed_formats_and_mac_junk(pack, tmp_path):
    _require_tools()
    files = _pack_files(pack, "suara MPP/")
    del files["suara MPP/satu.wav"], files["suara MPP/dua.wav"]
    ogg = tmp_path / "satu.ogg"
    subprocess.run(["sox", str(pack / "satu.wav"), str(ogg)], check=True)
    files["suara MPP/Satu.OGG"] = ogg.read_bytes()
    files["suara MPP/dua.mp3"] = _mp3(10)
    files["__MACOSX/suara MPP/._dua.mp3"] = b"\x00\x05\x16\x07"
    files["suara MPP/.DS_Store"] = b"junk"
    manifest = import_pack_zip(_zip(files), tmp_path / "custom")
    assert manifest["clips"]["satu"]["file"] == "satu.ogg"
    assert abs(manifest["clips"]["satu"]["duration_ms"] - load_pack(pack)["clips"]["satu"]["duration_ms"]) <= 2
    assert manifest["clips"]["dua"] == {"file": "dua.mp3", "duration_ms": round(10 * 1152 / 44.1)}
    assert missing_clips(tmp_path / "custom") == []


def test_import_replaces_an_existing_pack(pack, tmp_path):
    folder = tmp_path / "custom"
    import_pack_zip(_zip(_pack_files(pack)), folder)
    files = _pack_files(pack)
    del files["nol.wav"]
    files["nol.mp3"] = _mp3(5)
    import_pack_zip(_zip(files), folder)
    assert load_pack(folder)["clips"]["nol"]["file"] == "nol.mp3"
    assert not (folder / "nol.wav").exists()


def test_import_rejects_a_missing_clip(pack, tmp_path):
    files = _pack_files(pack)
    del files["ruang.wav"], files["huruf_q.wav"]
    _expect_rejection(_zip(files), tmp_path / "custom", "missing 2 clip(s): huruf_q, ruang")
    assert not (tmp_path / "custom").exists()


def test_import_rejects_path_traversal(pack, tmp_path):
    files = _pack_files(pack)
    files["../evil.wav"] = files["nol.wav"]
    _expect_rejection(_zip(files), tmp_path / "custom", "unsafe file path(s) in the zip: ../evil.wav")
    assert not (tmp_path / "evil.wav").exists()


@pytest.mark.parametrize("name", ["/etc/evil.wav", "a/../../evil.wav", "..\\evil.wav", "C:/evil.wav"])
def test_import_rejects_other_unsafe_paths(pack, tmp_path, name):
    files = _pack_files(pack)
    files[name] = b"x"
    _expect_rejection(_zip(files), tmp_path / "custom", "unsafe file path")


def test_import_rejects_a_file_that_is_not_audio(pack, tmp_path):
    files = _pack_files(pack)
    files["nol.wav"] = b"This is a text file renamed to nol.wav\n" * 10
    _expect_rejection(_zip(files), tmp_path / "custom", "nol.wav (not a WAV, MP3 or OGG audio file)")


@pytest.mark.parametrize("data, fragment", [
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "WAV file has no data chunk"),
    (b"RIFF\x24\x00\x00\x00WAVEdata\x00\x00\x00\x00", "WAV data comes before its format chunk"),
    (b"OggS" + bytes(60), "neither Vorbis nor Opus"),
    (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" * 3, "no MP3 audio frames"),
    (b"\xff\xfb\x90\x64" + bytes(100), "no MP3 audio frames"),
])
def test_audio_info_rejects_broken_headers(data, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        audio_info(data)


def test_import_rejects_an_empty_wav(pack, tmp_path):
    files = _pack_files(pack)
    with wave.open(str(tmp_path / "empty.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
    files["nol.wav"] = (tmp_path / "empty.wav").read_bytes()
    _expect_rejection(_zip(files), tmp_path / "custom", "nol.wav (WAV file holds no sound)")


def test_import_rejects_unexpected_and_misplaced_files(pack, tmp_path):
    files = _pack_files(pack, "pack/")
    files["pack/silakan-menuju.wav"] = files.pop("pack/silakan_menuju.wav")
    files["pack/readme.txt"] = b"recorded by ..."
    files["other/loket.wav"] = files.pop("pack/loket.wav")
    _expect_rejection(
        _zip(files), tmp_path / "custom",
        "unexpected file(s), each clip must be named <clip>.wav, .mp3 or .ogg: ",
        "pack/silakan-menuju.wav", "pack/readme.txt",
        "put all clips at the top of the zip or in one folder, not in: other/, pack/",
        "missing 1 clip(s): silakan_menuju")


def test_import_rejects_two_files_for_one_clip(pack, tmp_path):
    files = _pack_files(pack)
    files["nol.mp3"] = _mp3(3)
    _expect_rejection(_zip(files), tmp_path / "custom", "two files for clip nol: nol.wav and nol.mp3")


def test_import_rejects_oversized_clips_and_zips(pack, tmp_path):
    files = _pack_files(pack)
    files["nol.wav"] = files["nol.wav"] + bytes(voice.MAX_CLIP_BYTES)
    _expect_rejection(_zip(files), tmp_path / "custom", "nol.wav (larger than 2 MB)")
    _expect_rejection(bytes(voice.MAX_ZIP_BYTES + 1), tmp_path / "custom", "larger than 20 MB")


def test_import_rejects_what_is_not_a_zip(tmp_path):
    _expect_rejection(b"%PDF-1.4 not a zip", tmp_path / "custom", "not a zip file")


def test_failed_import_keeps_the_current_pack(pack, tmp_path):
    folder = tmp_path / "custom"
    import_pack_zip(_zip(_pack_files(pack)), folder)
    before = load_pack(folder)
    files = _pack_files(pack)
    files["meja.wav"] = b"not audio"
    _expect_rejection(_zip(files), folder, "meja.wav")
    assert load_pack(folder) == before and missing_clips(folder) == []


def test_import_stores_a_clip_under_its_real_format(pack, tmp_path):
    files = _pack_files(pack)
    files["nol.mp3"] = files.pop("nol.wav")
    manifest = import_pack_zip(_zip(files), tmp_path / "custom")
    assert manifest["clips"]["nol"]["file"] == "nol.wav"
