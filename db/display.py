"""What the lobby display keeps: its settings, counter kinds, the MPP's media files and logo.

Functions take a connection and plain values (a file arrives as a binary stream and its
name); files live in the instance folder beside the database: <db dir>/media/, and the
voice packs (display/packs.py) in <db dir>/voicepacks/<name>/.
"""

import re
import secrets
import time
from pathlib import Path

import settings

from db.accounts import get_setting, put_setting
from db.catalog import audit
from db.clock import utc_iso
from db.connection import write
from db.errors import Invalid, NotFound

DEFAULT_PACK = "default"
# How a counter is called aloud ("silakan menuju loket / meja / ruang ...").
COUNTER_KINDS = ("loket", "meja", "ruang")
PACK_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
SETTINGS = {
    "mpp_name": settings.MPP_NAME,
    "running_text": "",
    "voice_pack": DEFAULT_PACK,
    "announce_mode": "digits",
    "reload_hour": 3,
}
MAX_MEDIA = 50
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 200 * 1024 * 1024


def instance_dir(db_path):
    """The folder beside the database that holds packs and media."""
    return Path(db_path).resolve().parent


def packs_dir(db_path):
    """The folder of the voice packs."""
    return instance_dir(db_path) / "voicepacks"


def media_dir(db_path):
    """The folder of the uploaded images, videos and logo."""
    return instance_dir(db_path) / "media"


# -- settings --------------------------------------------------------------------


def display_settings(conn):
    """The display settings with their defaults filled in."""
    return {key: get_setting(conn, key, default) for key, default in SETTINGS.items()}


def save_settings(conn, values, actor_id=None, ready_packs=()):
    """Store some display settings in one transaction; returns them all.

    `voice_pack` must name one of `ready_packs` (the complete packs on disk); the running
    text is kept with its runs of white space made single spaces."""
    values = dict(values)
    if "voice_pack" in values and values["voice_pack"] not in ready_packs:
        raise Invalid("unknown_voice_pack", "No complete voice pack with that name.",
                      {"voice_pack": "No complete voice pack with that name."})
    if isinstance(values.get("running_text"), str):
        values["running_text"] = " ".join(values["running_text"].split())

    def fn(c):
        for key, value in values.items():
            if key in SETTINGS:
                put_setting(c, key, value, actor_id)
    write(conn, fn)
    return display_settings(conn)


def counter_kinds(conn):
    """{counter id: "loket" | "meja" | "ruang"}."""
    return {r[0]: r[1] for r in conn.execute("SELECT id, kind FROM counters")}


def counter_kind(conn, counter_id):
    """How one counter is called aloud ("loket" unless set, or for no such counter)."""
    row = conn.execute("SELECT kind FROM counters WHERE id = ?", (counter_id,)).fetchone()
    return row[0] if row and row[0] else "loket"


def set_counter_kind(conn, counter_id, kind, actor_id=None):
    """Say how a counter is called aloud: loket, meja or ruang."""
    if kind not in COUNTER_KINDS:
        raise Invalid("invalid_kind", "kind must be loket, meja or ruang.", {"kind": "Not one of loket, meja, ruang."})

    def fn(c):
        if c.execute("UPDATE counters SET kind = ? WHERE id = ?", (kind, counter_id)).rowcount == 0:
            raise NotFound("counter_not_found", "No counter with that id.")
        audit(c, "counter.kind", f"counter:{counter_id}", {"kind": kind}, user_id=actor_id)
    write(conn, fn)


# -- uploaded files: type by content, never by name --------------------------------------

IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
VIDEO_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}


def sniff(head):
    """(kind, ext, mime) of a file from its first bytes, or None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png", IMAGE_TYPES["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpg", IMAGE_TYPES["jpeg"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif", IMAGE_TYPES["gif"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp", IMAGE_TYPES["webp"]
    if head[4:8] == b"ftyp":
        return "video", "mp4", VIDEO_TYPES["mp4"]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "webm", VIDEO_TYPES["webm"]
    return None


def check_image(path):
    """Refuse a file that is not a whole image or has more than 40 megapixels."""
    # Pillow parses the header and checks the structure without decoding the pixels.
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.verify()
            if img.width * img.height > 40_000_000:
                raise Invalid("image_too_large", "The image has too many pixels (at most 40 megapixels).",
                              {"file": "Too many pixels."})
    except Invalid:
        raise
    except Exception:
        raise Invalid("invalid_image", "The file is not a valid image.", {"file": "Not a valid image."})


def store_file(stream, folder, kinds, stem):
    """Save a file read from a binary stream under a name we choose; returns (kind, ext,
    mime, size, path). `kinds` limits what is accepted ("image", "video")."""
    head = stream.read(16)
    found = sniff(head)
    if found is None or found[0] not in kinds:
        what = " or ".join({"image": "PNG, JPEG, GIF or WebP image", "video": "MP4 or WebM video"}[k] for k in kinds)
        raise Invalid("unsupported_file", f"The file must be a {what}.", {"file": f"Not a {what}."})
    kind, ext, mime = found
    limit = MAX_IMAGE_BYTES if kind == "image" else MAX_VIDEO_BYTES
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".upload-{secrets.token_hex(8)}"
    size = len(head)
    try:
        with open(tmp, "wb") as out:
            out.write(head)
            while True:
                chunk = stream.read(1024 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise Invalid("file_too_large", f"The file is larger than {limit // (1024 * 1024)} MB.",
                                  {"file": "Too large."})
                out.write(chunk)
        if kind == "image":
            check_image(tmp)
        path = folder / f"{stem}.{ext}"
        tmp.rename(path)
        return kind, ext, mime, size, path
    finally:
        tmp.unlink(missing_ok=True)


# -- media ---------------------------------------------------------------------------


def media_dict(row):
    """A media item as the API shows it."""
    return {"id": row["id"], "kind": row["kind"], "name": row["name"], "mime": row["mime"],
            "size": row["size"], "url": f"/media/{row['id']}"}


def list_media(conn):
    """The MPP's images and videos in the order the display plays them."""
    return [media_dict(r) for r in conn.execute("SELECT * FROM media ORDER BY sort, id")]


def get_media(conn, media_id):
    """A media item's row, or NotFound."""
    row = conn.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
    if row is None:
        raise NotFound("media_not_found", "No media with that id.")
    return row


def _clean_name(name):
    # Shown to the admin only; keep it short and printable, never used as a path.
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "", Path(name or "").name)[:100].strip()
    return name or "media"


def add_media(conn, db_path, stream, filename, actor_id=None):
    """Store an image or video (a binary stream and the name it came with) and list it;
    returns the media item."""
    if conn.execute("SELECT count(*) FROM media").fetchone()[0] >= MAX_MEDIA:
        raise Invalid("too_many_media", f"At most {MAX_MEDIA} media files; delete one first.")
    stem = f"m-{int(time.time())}-{secrets.token_hex(6)}"
    kind, ext, mime, size, path = store_file(stream, media_dir(db_path), ("image", "video"), stem)

    def fn(c):
        sort = c.execute("SELECT coalesce(max(sort), 0) + 1 FROM media").fetchone()[0]
        cur = c.execute(
            "INSERT INTO media (kind, name, file, mime, size, sort, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, _clean_name(filename), path.name, mime, size, sort, utc_iso(time.time())))
        audit(c, "media.add", f"media:{cur.lastrowid}", {"name": _clean_name(filename)}, user_id=actor_id)
        return cur.lastrowid
    try:
        media_id = write(conn, fn)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return media_dict(get_media(conn, media_id))


def delete_media(conn, db_path, media_id, actor_id=None):
    """Remove a media item and its file."""
    row = get_media(conn, media_id)

    def fn(c):
        c.execute("DELETE FROM media WHERE id = ?", (media_id,))
        audit(c, "media.delete", f"media:{media_id}", {"name": row["name"]}, user_id=actor_id)
    write(conn, fn)
    (media_dir(db_path) / row["file"]).unlink(missing_ok=True)


def media_path(conn, db_path, media_id):
    """(path, mime) of a media item's file."""
    row = get_media(conn, media_id)
    return media_dir(db_path) / row["file"], row["mime"]


def save_logo(conn, db_path, stream, actor_id=None):
    """Store the MPP's logo (an image, read from a binary stream); returns its URL."""
    stem = f"logo-{secrets.token_hex(6)}"
    _, _, mime, _, path = store_file(stream, media_dir(db_path), ("image",), stem)
    old = get_setting(conn, "logo")
    write(conn, lambda c: put_setting(c, "logo", {"file": path.name, "mime": mime}, actor_id))
    if old and old.get("file") and old["file"] != path.name:
        (media_dir(db_path) / Path(old["file"]).name).unlink(missing_ok=True)
    return logo_url(conn)


def logo_url(conn):
    """/media/logo?v=... when a logo was uploaded, else None."""
    logo = get_setting(conn, "logo")
    return f"/media/logo?v={logo['file'].split('-')[-1].split('.')[0]}" if logo else None


def logo_path(conn, db_path):
    """(path, mime) of the logo's file, or NotFound."""
    logo = get_setting(conn, "logo")
    if not logo:
        raise NotFound("no_logo", "No logo was uploaded.")
    return media_dir(db_path) / Path(logo["file"]).name, logo["mime"]


# -- voice pack names (the packs themselves: display/packs.py) -----------------------------


def record_pack_upload(conn, name, actor_id=None):
    """Audit a voice pack's upload; returns whether it is the active pack."""
    write(conn, audit, "voice_pack.upload", f"voice_pack:{name}", user_id=actor_id)
    return display_settings(conn)["voice_pack"] == name


def check_pack_name(name):
    """The name, or Invalid when it is not 1-32 lowercase letters, digits, - or _."""
    if not isinstance(name, str) or not PACK_NAME_RE.match(name):
        raise Invalid("invalid_pack_name", "A pack name is 1-32 lowercase letters, digits, - or _.",
                      {"name": "Use 1-32 lowercase letters, digits, - or _."})
    return name
