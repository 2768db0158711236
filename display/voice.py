"""Spoken calls for the lobby display: the clips a call is made of, and the voice packs that hold them.

A voice pack is a folder with one audio file per clip and a manifest.json
(see docs/voice-packs.md). The display plays a call's clips one after another.
"""

import concurrent.futures
import contextlib
import fcntl
import io
import json
import os
import re
import shutil
import string
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from db.display import COUNTER_KINDS  # noqa: F401 - the kinds a call names, kept with the counters
from display.numbers import MAX_NUMBER, UNITS, digits, words

# Bump when the clip list or the default pack's sound changes: packs with an
# older version are then regenerated instead of served from the cache (and the
# clips' URLs change with the manifest, so every TV decodes the new ones).
PACK_VERSION = 4
MANIFEST = "manifest.json"

MODES = ("digits", "number")
AUDIO_FORMATS = ("wav", "mp3", "ogg")

MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_CLIP_BYTES = 2 * 1024 * 1024
MAX_CLIP_MS = 10_000
# Far more than a pack needs; stops a zip with a huge directory from costing time.
MAX_ZIP_ENTRIES = 500

# The longest the sentence after the chime may take (issue 18): a call said in
# full when it fits, else without "silakan menuju", else without "nomor antrean"
# too (fit_call).
SENTENCE_MS = 3500

# espeak-ng's rate in words a minute (its default is 175). A word said alone is
# drawn out (its last syllable lengthens as at the end of a sentence), so the
# one-word clips are spoken faster than espeak's default to come out at a
# conversational pace once composed. Counter kinds at 230; the two phrases at 230
# too (they were 205: 0.23 s more a call for nothing a listener needs); the letters
# and the number words, which are most of a call and are heard as one group
# ("A nol nol satu"), at 250. No clip is faster than MAX_RATE (1.6 x the default), beyond which
# espeak's Indonesian turns hard to follow (tests/test_voice_pack.py checks
# every clip against espeak at that rate).
ESPEAK_VOICE = ["-v", "id"]
ESPEAK_DEFAULT_RATE = 175
MAX_RATE = int(ESPEAK_DEFAULT_RATE * 1.6)
WORD_RATE, PHRASE_RATE, NUMBER_RATE = 230, 230, 250
# Sox's silence threshold, relative to full scale after peak-normalising: 1 %
# (-40 dB) keeps the quiet final consonants ("lokeT", "belaS"); 2-3 % cut them.
SILENCE_THRESHOLD = "1%"
# What each generated clip ends with. The words of one group ("A nol nol satu",
# "loket dua belas") follow each other with 10 ms, as in connected speech (it was
# 15 ms); the phrases keep 15 ms, all the display plays after a clip's sound.
WORD_GAP_S, PHRASE_GAP_S = 0.010, 0.015
SETUP_HINT = "install them with: apt-get install espeak-ng sox"

# How the letters are named aloud in Indonesian (Q is "ki", X is "eks").
LETTER_NAMES = dict(zip(string.ascii_uppercase, [
    "a", "be", "ce", "de", "e", "ef", "ge", "ha", "i", "je", "ka", "el", "em",
    "en", "o", "pe", "ki", "er", "es", "te", "u", "ve", "we", "eks", "ye", "zet",
]))

CLIP_TEXTS: dict[str, str] = {
    "chime": "(two-tone ding-dong chime, no speech)",
    "nomor_antrean": "nomor antrean",
    **{f"huruf_{letter.lower()}": name for letter, name in LETTER_NAMES.items()},
    **{word: word for word in UNITS},
    "sepuluh": "sepuluh",
    "sebelas": "sebelas",
    "belas": "belas",
    "puluh": "puluh",
    "seratus": "seratus",
    "ratus": "ratus",
    "seribu": "seribu",
    "ribu": "ribu",
    "silakan_menuju": "silakan menuju",
    "loket": "loket",
    "meja": "meja",
    "ruang": "ruang",
}

_TICKET = re.compile(r"([A-Z]{1,3})([0-9]{3,})")


def _call_parts(number, counter_number, counter_kind, mode):
    """(letter clips, number clips, counter clips) of a call, after checking every argument."""
    match = _TICKET.fullmatch(number) if isinstance(number, str) else None
    if not match:
        raise ValueError(f"ticket number {number!r} must be 1-3 letters A-Z followed by 3 or more digits")
    if counter_kind not in COUNTER_KINDS:
        raise ValueError(f"counter kind {counter_kind!r} must be one of {', '.join(COUNTER_KINDS)}")
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} must be one of {', '.join(MODES)}")
    if isinstance(counter_number, bool) or not isinstance(counter_number, int) \
            or not 1 <= counter_number <= MAX_NUMBER:
        raise ValueError(f"counter number {counter_number!r} must be a whole number from 1 to {MAX_NUMBER}")
    prefix, number_digits = match.groups()
    # A pack has no words past 9999, so a longer number is read digit by digit.
    if mode == "number" and int(number_digits) <= MAX_NUMBER:
        spoken = words(int(number_digits))
    else:
        spoken = digits(number_digits)
    letters = [f"huruf_{letter.lower()}" for letter in prefix]
    return letters, spoken, [counter_kind, *words(counter_number)]


def call_clips(number: str, counter_number: int, counter_kind: str = "loket",
               mode: str = "digits") -> list[str]:
    """Clip names, in order, announcing ticket `number` to counter `counter_number`.

    mode "digits" reads A001 as "nol nol satu", mode "number" as "satu"."""
    letters, spoken, counter = _call_parts(number, counter_number, counter_kind, mode)
    return ["chime", "nomor_antrean", *letters, *spoken, "silakan_menuju", *counter]


def short_call_clips(number: str, counter_number: int, counter_kind: str = "loket",
                     mode: str = "digits") -> list[str]:
    """The short form the display speaks while other calls wait: "A nol nol satu, loket tiga".

    No chime, no "nomor antrean", no "silakan menuju"; same checks as call_clips."""
    letters, spoken, counter = _call_parts(number, counter_number, counter_kind, mode)
    return [*letters, *spoken, *counter]


def clip_ms(manifest: dict) -> dict[str, int]:
    """{clip name: ms it is heard} of a pack's manifest: its sound without the silence at its
    ends where the manifest knows it (`speech_ms`), else the file's length."""
    return {name: int(clip.get("speech_ms", clip.get("duration_ms", 0)))
            for name, clip in manifest["clips"].items()}


def sentence_ms(clips: list[str], lengths: dict[str, int]) -> int:
    """How long the clips take after the chime, with a pack's clip lengths."""
    return sum(lengths.get(name, 0) for name in clips if name != "chime")


def _first_fitting(candidates: list[list[str]], lengths: dict[str, int], limit_ms: int) -> list[str]:
    for clips in candidates:
        if sentence_ms(clips, lengths) <= limit_ms:
            return clips
    return min(candidates, key=lambda clips: sentence_ms(clips, lengths))


def _readings(mode: str) -> list[str]:
    # A number read as a number ("sembilan ratus sembilan puluh sembilan") may be read digit
    # by digit ("sembilan sembilan sembilan") when nothing else makes it fit: never the reverse.
    return [mode] if mode == "digits" else [mode, "digits"]


def fit_call(number: str, counter_number: int, lengths: dict[str, int], counter_kind: str = "loket",
             mode: str = "digits", limit_ms: int = SENTENCE_MS) -> list[str]:
    """The full form as said with a pack whose clips last `lengths` (clip_ms): call_clips when
    its sentence after the chime lasts at most `limit_ms`; else without "silakan menuju"
    ("Nomor antrean, A, nol nol satu, loket, dua belas"); else without "nomor antrean" too;
    else, in mode "number", the same three read digit by digit. When none fits, the shortest.
    The chime, the letters, the number and the counter are always said."""
    candidates = []
    for reading in _readings(mode):
        full = call_clips(number, counter_number, counter_kind, reading)
        for leave_out in ((), ("silakan_menuju",), ("silakan_menuju", "nomor_antrean")):
            candidates.append([name for name in full if name not in leave_out])
    return _first_fitting(candidates, lengths, limit_ms)


def fit_short_call(number: str, counter_number: int, lengths: dict[str, int], counter_kind: str = "loket",
                   mode: str = "digits", limit_ms: int = SENTENCE_MS) -> list[str]:
    """short_call_clips within `limit_ms` with the pack: in mode "number", read digit by digit
    when the number's words are too long."""
    return _first_fitting([short_call_clips(number, counter_number, counter_kind, reading)
                           for reading in _readings(mode)], lengths, limit_ms)


# --- reading packs -----------------------------------------------------------

def load_pack(folder: Path) -> dict:
    """The pack's manifest: {"version", "source", "clips": {name: {"file", "duration_ms"}}}."""
    manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("clips"), dict):
        raise ValueError(f"{Path(folder) / MANIFEST} is not a voice pack manifest")
    return manifest


def missing_clips(folder: Path) -> list[str]:
    """Clip names of CLIP_TEXTS that the pack in `folder` lacks (all of them if there is no pack)."""
    try:
        clips = load_pack(folder)["clips"]
    except (OSError, ValueError):
        return list(CLIP_TEXTS)
    return [name for name in CLIP_TEXTS
            if not isinstance(clips.get(name), dict)
            or not _is_file(Path(folder) / str(clips[name].get("file", "")))]


def _is_file(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _is_current(folder: Path) -> bool:
    try:
        version = load_pack(folder).get("version")
    except (OSError, ValueError):
        return False
    return version == PACK_VERSION and not missing_clips(folder)


# --- writing packs -----------------------------------------------------------

@contextlib.contextmanager
def _locked(folder: Path):
    """Hold an exclusive lock on writing the pack in `folder`."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    # A flock beside the pack: two gunicorn processes starting at once must
    # not both build and swap the same folder.
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Left-overs from a crash; safe to delete because we hold the lock.
        for kind in ("staging", "old"):
            for stale in folder.parent.glob(f".{folder.name}.{kind}-*"):
                shutil.rmtree(stale, ignore_errors=True)
        yield


@contextlib.contextmanager
def _replacing(folder: Path):
    """Yield a staging folder that replaces `folder` if the block succeeds; call it under _locked."""
    if folder.exists() and not (folder / MANIFEST).exists() and any(folder.iterdir()):
        # Replacing the folder deletes it: never do that to something that is not a pack.
        raise ValueError(f"{folder} holds files but no {MANIFEST}; refusing to replace it with a voice pack")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
    # mkdtemp makes it private (0700); a web server serving the clips must be able to read them.
    staging.chmod(0o755)
    try:
        yield staging
        _swap_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, folder: Path) -> None:
    # Flush the files before the rename, so a power cut cannot leave a
    # complete-looking pack of empty files.
    for path in staging.iterdir():
        with open(path, "rb") as f:
            os.fsync(f.fileno())
    old = staging.with_name(staging.name.replace(".staging-", ".old-"))
    if folder.exists():
        os.rename(folder, old)
    os.rename(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    dir_fd = os.open(folder.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_manifest(staging: Path, source: str, files: dict[str, str]) -> dict:
    clips = {}
    for name in CLIP_TEXTS:
        data = (staging / files[name]).read_bytes()
        _, duration_ms = audio_info(data)
        clips[name] = {"file": files[name], "duration_ms": duration_ms}
        speech = wav_speech_ms(data)
        if speech is not None:
            clips[name]["speech_ms"] = speech
    manifest = {"version": PACK_VERSION, "source": source, "clips": clips}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()}")


def _trim(threshold=SILENCE_THRESHOLD):
    """Sox effects that cut the silence at both ends (the reverse trick trims the end)."""
    cut = ["silence", "1", "0.005", threshold]
    return [*cut, "reverse", *cut, "reverse"]


# The clips said as numbers: digits and the number words.
NUMBER_WORDS = frozenset(w for w in CLIP_TEXTS if w in UNITS or w in (
    "sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu"))
PHRASES = ("nomor_antrean", "silakan_menuju")


def espeak_rate(name: str) -> int:
    """The rate, in words a minute, the default pack speaks clip `name` at."""
    if name in PHRASES:
        return PHRASE_RATE
    return NUMBER_RATE if name in NUMBER_WORDS or name.startswith("huruf_") else WORD_RATE


def clip_gap_s(name: str) -> float:
    """The silence a generated clip ends with."""
    return PHRASE_GAP_S if name in PHRASES else WORD_GAP_S


def _speak(name: str, text: str, raw_dir: Path, out_dir: Path) -> str:
    raw = raw_dir / f"{name}.wav"
    _run(["espeak-ng", *ESPEAK_VOICE, "-s", str(espeak_rate(name)), "-w", str(raw), text])
    # Peak-normalise first, so every word is as loud as the next and the
    # silence threshold means the same for each; then trim espeak's silences,
    # which made a call of ten clips drag, and end on a short, even gap.
    _run(["sox", str(raw), str(out_dir / f"{name}.wav"),
          "norm", "-3", *_trim(), "pad", "0", str(clip_gap_s(name))])
    return f"{name}.wav"


def _chime(raw_dir: Path, out_dir: Path) -> str:
    # Ding (E5) then dong (C5), each with a soft octave above it; the dong
    # starts while the ding still rings. A 10 ms half-sine attack avoids a
    # click, and the log fade-out decays like a struck bell. 0.45 s in all
    # (it was 1 s): enough to turn heads, short enough not to hold up a call.
    ding, dong = raw_dir / "ding.wav", raw_dir / "dong.wav"
    tone = ["-r", "22050", "-c", "2", "-n", "-b", "16"]
    _run(["sox", *tone, str(ding), "synth", "0.26", "sine", "659.25", "sine", "1318.5",
          "remix", "1v0.8,2v0.2", "fade", "h", "0.01", "fade", "l", "0", "0.26", "0.24"])
    _run(["sox", *tone, str(dong), "synth", "0.3", "sine", "523.25", "sine", "1046.5",
          "remix", "1v0.8,2v0.2", "fade", "h", "0.01", "fade", "l", "0", "0.3", "0.28", "pad", "0.15", "0"])
    # Not trimmed: its quiet tail is the bell's decay, part of the sound.
    _run(["sox", "-m", str(ding), str(dong), str(out_dir / "chime.wav"), "norm", "-4", "pad", "0", "0.03"])
    return "chime.wav"


def generate_default_pack(folder: Path) -> Path:
    """Build the espeak-ng pack in `folder` unless a complete pack of this version is already there.

    Needs espeak-ng and sox; the folder is replaced atomically."""
    folder = Path(folder)
    if _is_current(folder):
        return folder
    missing = [tool for tool in ("espeak-ng", "sox") if not shutil.which(tool)]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not found; {SETUP_HINT}")
    with _locked(folder):
        # Another process may have finished the pack while we waited for the lock.
        if _is_current(folder):
            return folder
        with _replacing(folder) as staging, tempfile.TemporaryDirectory() as raw:
            raw_dir = Path(raw)
            # espeak-ng and sox are single-threaded; one per core makes 50 clips quick.
            with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
                jobs = {name: pool.submit(_speak, name, text, raw_dir, staging)
                        for name, text in CLIP_TEXTS.items() if name != "chime"}
                jobs["chime"] = pool.submit(_chime, raw_dir, staging)
                files = {name: job.result() for name, job in jobs.items()}
            _write_manifest(staging, "espeak-ng", files)
    return folder


# --- importing a recorded pack -------------------------------------------------

# What Finder and Explorer slip into zips: skipped, not reported.
_IGNORED = ("__MACOSX", ".", "Thumbs.db", "desktop.ini")


def import_pack_zip(zip_bytes: bytes, folder: Path) -> dict:
    """Check a zip of recorded clips (<clip>.wav/.mp3/.ogg), install it in `folder`, return its manifest.

    Raises ValueError naming every problem found (missing clips, bad files, unsafe paths, sizes)."""
    clips = _read_pack_zip(zip_bytes)
    folder = Path(folder)
    with _locked(folder), _replacing(folder) as staging:
        files = {}
        for name, (kind, data) in clips.items():
            files[name] = f"{name}.{kind}"
            (staging / files[name]).write_bytes(data)
        manifest = _write_manifest(staging, "upload", files)
    return manifest


def _read_pack_zip(zip_bytes: bytes) -> dict[str, tuple[str, bytes]]:
    """{clip name: (format, bytes)} from a pack zip, or ValueError listing what is wrong."""
    size_mb = MAX_ZIP_BYTES // (1024 * 1024)
    if len(zip_bytes) > MAX_ZIP_BYTES:
        raise ValueError(f"voice pack rejected: the zip is larger than {size_mb} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    except zipfile.BadZipFile:
        raise ValueError("voice pack rejected: the upload is not a zip file") from None
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ValueError(f"voice pack rejected: the zip holds {len(entries)} files; a pack needs {len(CLIP_TEXTS)}")

    problems, unsafe, unexpected, bad = [], [], [], []
    found: dict[str, zipfile.ZipInfo] = {}
    folders, seen = set(), set()
    for entry in entries:
        name = entry.filename
        parts = name.split("/")
        # We never write to entry names, but a zip carrying such paths was
        # built to attack some unzipper; refuse it outright.
        if "\\" in name or name.startswith("/") or ":" in name or ".." in parts:
            unsafe.append(name)
            continue
        if entry.is_dir() or any(part.startswith(_IGNORED) for part in parts):
            continue
        folders.add("/".join(parts[:-1]))
        stem, _, ext = parts[-1].rpartition(".")
        stem, ext = stem.lower(), ext.lower()
        if stem not in CLIP_TEXTS or ext not in AUDIO_FORMATS:
            unexpected.append(name)
            continue
        seen.add(stem)
        if stem in found:
            problems.append(f"two files for clip {stem}: {found[stem].filename} and {name}")
        elif entry.file_size > MAX_CLIP_BYTES:
            bad.append(f"{name} (larger than {MAX_CLIP_BYTES // (1024 * 1024)} MB)")
        else:
            found[stem] = entry
    if unsafe:
        raise ValueError(f"voice pack rejected: unsafe file path(s) in the zip: {', '.join(unsafe)}")
    if len(folders) > 1 or any("/" in f for f in folders):
        problems.append("put all clips at the top of the zip or in one folder, not in: "
                        + ", ".join(sorted(f"{f}/" if f else "(top)" for f in folders)))
    if unexpected:
        problems.append("unexpected file(s), each clip must be named <clip>.wav, .mp3 or .ogg: "
                        + ", ".join(unexpected))
    if sum(entry.file_size for entry in found.values()) > MAX_ZIP_BYTES:
        problems.append(f"the clips add up to more than {size_mb} MB")
    missing = [name for name in CLIP_TEXTS if name not in seen]
    if missing:
        problems.append(f"missing {len(missing)} clip(s): {', '.join(missing)}")

    clips = {}
    if not problems:
        for stem, entry in found.items():
            try:
                with archive.open(entry) as f:
                    # Read at most one byte past the limit: file_size is only what the zip claims.
                    data = f.read(MAX_CLIP_BYTES + 1)
                if len(data) > MAX_CLIP_BYTES:
                    raise ValueError(f"larger than {MAX_CLIP_BYTES // (1024 * 1024)} MB")
                kind, duration_ms = audio_info(data)
                if duration_ms > MAX_CLIP_MS:
                    raise ValueError(f"{duration_ms / 1000:.1f} s long; a clip may last {MAX_CLIP_MS // 1000} s")
            except (ValueError, zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as e:
                bad.append(f"{entry.filename} ({e})")
                continue
            clips[stem] = (kind, data)
    if bad:
        problems.append(f"unusable clip(s): {'; '.join(bad)}")
    if problems:
        raise ValueError("voice pack rejected: " + "; ".join(problems))
    return clips


# --- audio headers -------------------------------------------------------------
# Uploaded files are checked by parsing their headers in Python rather than by
# handing untrusted bytes to a codec; the duration for the manifest comes free.

def audio_info(data: bytes) -> tuple[str, int]:
    """("wav" | "mp3" | "ogg", duration in ms) of an audio file's bytes; ValueError if it is none of them."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        kind, duration_ms = "wav", _wav_ms(data)
    elif data[:4] == b"OggS":
        kind, duration_ms = "ogg", _ogg_ms(data)
    elif data[:3] == b"ID3" or _mp3_frame(data, 0):
        kind, duration_ms = "mp3", _mp3_ms(data)
    else:
        raise ValueError("not a WAV, MP3 or OGG audio file")
    if duration_ms <= 0:
        raise ValueError(f"{kind.upper()} file holds no sound")
    return kind, duration_ms


def _wav_ms(data: bytes) -> int:
    pos, byte_rate = 12, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        body = pos + 8
        if chunk == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise ValueError("WAV format chunk is cut short")
            _, channels, rate, byte_rate, _, _ = struct.unpack_from("<HHIIHH", data, body)
            if not channels or not rate or not byte_rate:
                raise ValueError("WAV format chunk is invalid")
        elif chunk == b"data":
            if not byte_rate:
                raise ValueError("WAV data comes before its format chunk")
            # Streamed WAVs may claim a size larger than the file; count what is there.
            return min(size, len(data) - body) * 1000 // byte_rate
        pos = body + size + (size & 1)
    raise ValueError("WAV file has no data chunk")


# What the display plays of a clip (display/static/announcer.js): from 5 ms before its first
# sample louder than 1 % of its peak to 15 ms after its last.
_SPEECH_LIMIT, _KEEP_START_S, _KEEP_END_S = 0.01, 0.005, 0.015


def wav_speech_ms(data: bytes) -> int | None:
    """How long a 16-bit PCM WAV clip is heard on the display, its silent ends left out as the
    display leaves them out; None for any other audio (MP3, OGG: no decoder runs here)."""
    from array import array

    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        body = pos + 8
        if chunk == b"fmt " and size >= 16 and body + 16 <= len(data):
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif chunk == b"data":
            if fmt is None or fmt[0] != 1 or fmt[5] != 16 or not fmt[1] or not fmt[2]:
                return None
            channels, rate = fmt[1], fmt[2]
            raw = data[body:body + min(size, len(data) - body)]
            samples = array("h", raw[:len(raw) // (2 * channels) * 2 * channels])
            if sys.byteorder == "big":
                samples.byteswap()
            if not samples:
                return None
            peak = max(max(samples), -min(samples))
            limit = peak * _SPEECH_LIMIT
            frames = len(samples) // channels
            first = next((i for i, x in enumerate(samples) if abs(x) > limit), None) if peak else None
            if first is None:
                return frames * 1000 // rate
            last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > limit)
            first, last = first // channels, last // channels
            start = max(0.0, first / rate - _KEEP_START_S)
            end = min(frames / rate, (last + 1) / rate + _KEEP_END_S)
            return round((end - start) * 1000)
        pos = body + size + (size & 1)
    return None


def _ogg_ms(data: bytes) -> int:
    if len(data) < 28:
        raise ValueError("OGG file is cut short")
    packet = data[27 + data[26]:][:64]
    if packet.startswith(b"\x01vorbis") and len(packet) >= 16:
        rate, preskip = int.from_bytes(packet[12:16], "little"), 0
    elif packet.startswith(b"OpusHead") and len(packet) >= 12:
        # Opus granules always count 48 kHz samples, after a pre-skip.
        rate, preskip = 48000, int.from_bytes(packet[10:12], "little")
    else:
        raise ValueError("OGG file holds neither Vorbis nor Opus audio")
    last = data.rfind(b"OggS")
    if not rate or last + 14 > len(data) or data[last + 4] != 0:
        raise ValueError("OGG file is damaged")
    granule = int.from_bytes(data[last + 6:last + 14], "little", signed=True)
    return max(0, granule - preskip) * 1000 // rate


_MP3_KBPS = {
    "v1": (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    "v2": (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Keyed by the header's version bits: 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5.
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame(data: bytes, pos: int) -> tuple[int, float] | None:
    """(length in bytes, duration in s) of the MPEG layer III frame at `pos`, or None if there is none."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (data[pos + 1] >> 3) & 3, (data[pos + 1] >> 1) & 3
    bitrate_i, rate_i, padding = data[pos + 2] >> 4, (data[pos + 2] >> 2) & 3, (data[pos + 2] >> 1) & 1
    if version == 1 or layer != 1 or bitrate_i in (0, 15) or rate_i == 3:
        return None
    kbps = _MP3_KBPS["v1" if version == 3 else "v2"][bitrate_i]
    rate = _MP3_RATES[version][rate_i]
    samples = 1152 if version == 3 else 576
    return samples // 8 * kbps * 1000 // rate + padding, samples / rate


def _mp3_ms(data: bytes) -> int:
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        tag_size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
        pos = 10 + tag_size + (10 if data[5] & 0x10 else 0)
    # Allow some junk before the first frame, but want the frame after it to
    # line up too, so random bytes with an 0xFF in them do not pass as MP3.
    for start in range(pos, min(pos + 4096, len(data))):
        frame = _mp3_frame(data, start)
        if frame and (start + frame[0] == len(data) or _mp3_frame(data, start + frame[0])):
            break
    else:
        raise ValueError("no MP3 audio frames found")
    seconds = 0.0
    while frame:
        seconds += frame[1]
        start += frame[0]
        frame = _mp3_frame(data, start)
    return round(seconds * 1000)
