"""The voice packs on disk: list them, install an uploaded zip (display/voice.py checks it).

The packs live beside the database in <db dir>/voicepacks/<name>/; their names and the
active pack's setting are db/display.py's.
"""

import io

from db.display import DEFAULT_PACK, PACK_NAME_RE, check_pack_name, packs_dir
from db.errors import Invalid
from display import voice


def list_packs(db_path, active=None):
    """Every voice pack on disk: [{name, source, complete, active}]."""
    root = packs_dir(db_path)
    out = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or not PACK_NAME_RE.match(folder.name):
            continue
        try:
            source = voice.load_pack(folder).get("source", "")
        except (OSError, ValueError):
            continue
        out.append({"name": folder.name, "source": source, "complete": not voice.missing_clips(folder),
                    "active": folder.name == active})
    return out


def ready_packs(db_path):
    """The names of the complete packs: those a display may speak with."""
    return {pack["name"] for pack in list_packs(db_path) if pack["complete"]}


def import_pack(db_path, name, zip_bytes):
    """Install an uploaded zip of clips as pack `name` (never over the generated default)."""
    check_pack_name(name)
    if name == DEFAULT_PACK:
        raise Invalid("reserved_pack_name", "The name 'default' belongs to the generated pack; choose another.",
                      {"name": "Reserved for the generated pack."})
    try:
        manifest = voice.import_pack_zip(zip_bytes, packs_dir(db_path) / name)
    except ValueError as e:
        raise Invalid("invalid_voice_pack", str(e), {"file": str(e)[:500]})
    return {"name": name, "source": manifest.get("source", "upload"), "complete": True, "active": False}


def read_limited(stream, limit):
    """All of a binary stream, refusing more than `limit` bytes."""
    buf = io.BytesIO()
    while True:
        chunk = stream.read(1024 * 1024)
        if not chunk:
            return buf.getvalue()
        buf.write(chunk)
        if buf.tell() > limit:
            raise Invalid("file_too_large", f"The file is larger than {limit // (1024 * 1024)} MB.",
                          {"file": "Too large."})
