"""The spoken call as the display gets it: clip URLs of the active voice pack, composed server-side."""

import hashlib
import logging
import threading

from db import display as display_db
from db.accounts import get_setting
from display import voice

log = logging.getLogger("giliran")

# folder -> (manifest mtime, manifest, version); a pack is replaced as a whole,
# so a new mtime means a new manifest and new URLs for every clip.
_manifests = {}
_lock = threading.Lock()


def pack_manifest(db_path, name):
    """(manifest, version) of a complete pack, or (None, None) when it is missing or incomplete."""
    folder = display_db.packs_dir(db_path) / name
    path = folder / voice.MANIFEST
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None, None
    with _lock:
        cached = _manifests.get(folder)
        if cached and cached[0] == mtime:
            return cached[1], cached[2]
    try:
        manifest = voice.load_pack(folder)
        if voice.missing_clips(folder):
            return None, None
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except (OSError, ValueError):
        return None, None
    with _lock:
        if len(_manifests) > 20:
            _manifests.clear()
        _manifests[folder] = (mtime, manifest, version)
    return manifest, version


def active_pack(conn, db_path):
    """(name, manifest, version) of the pack to speak with: the chosen one, else the default."""
    name = get_setting(conn, "voice_pack", display_db.DEFAULT_PACK)
    for candidate in (name, display_db.DEFAULT_PACK):
        manifest, version = pack_manifest(db_path, candidate)
        if manifest:
            return candidate, manifest, version
    return None, None, None


def pack_urls(conn, db_path):
    """Every clip of the active pack as a URL, for a display to decode before the first call."""
    name, manifest, version = active_pack(conn, db_path)
    if manifest is None:
        return []
    return [f"/display/voice/{name}/{clip['file']}?v={version}" for clip in manifest["clips"].values()]


def clip_urls(conn, db_path, number, counter_number, counter_kind):
    """The call's clips as URLs, (full form, short form); ([], []) when no pack is ready or
    the call cannot be spoken. Both are fitted to voice.SENTENCE_MS (voice.fit_call)."""
    name, manifest, version = active_pack(conn, db_path)
    if manifest is None:
        return [], []
    mode = get_setting(conn, "announce_mode", "digits")
    mode = mode if mode in voice.MODES else "digits"
    try:
        # Within 3.5 s with this pack's clips: a long call leaves out its phrases.
        lengths = voice.clip_ms(manifest)
        full = voice.fit_call(number, counter_number, lengths, counter_kind, mode)
        short = voice.fit_short_call(number, counter_number, lengths, counter_kind, mode)
    except ValueError:
        log.warning("cannot announce %r at counter %r", number, counter_number)
        return [], []
    clips = manifest["clips"]

    def urls(names):
        return [f"/display/voice/{name}/{clips[n]['file']}?v={version}" for n in names]
    return urls(full), urls(short)


def enrich_call(conn, db_path, call, kinds=None):
    """A call with `counter_kind`, `clips` and `clips_short` added (the announcement the
    displays play, in full and in the short form they use while other calls wait)."""
    if call is None:
        return None
    if kinds is None:
        kind = display_db.counter_kind(conn, call.get("counter_id"))
    else:
        kind = kinds.get(call.get("counter_id")) or "loket"
    clips, short = clip_urls(conn, db_path, call["number"], call["counter_number"], kind) \
        if call.get("counter_number") else ([], [])
    return {**call, "counter_kind": kind, "clips": clips, "clips_short": short}


def enrich_calls(conn, db_path, calls):
    """enrich_call for a list (the snapshot's recent calls) with one query for the kinds."""
    kinds = display_db.counter_kinds(conn) if calls else {}
    return [enrich_call(conn, db_path, c, kinds) for c in calls]


def ensure_default_pack(db_path):
    """Generate the espeak-ng pack beside the database once (a no-op when it is there)."""
    try:
        voice.generate_default_pack(display_db.packs_dir(db_path) / display_db.DEFAULT_PACK)
    except Exception:
        # No espeak-ng or sox: the display still shows calls, silently.
        log.exception("could not generate the default voice pack; calls will not be spoken")
