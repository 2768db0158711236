"""The display's API: its settings, the MPP's media and logo, voice packs, counter kinds.

Reads for displays and staff, writes for admins. Every write that changes what
a display shows sends `settings_changed` to the display rooms.
"""


from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Dict, File, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from flask import current_app, request

from db import accounts, catalog, queue
from db import display as display_db
from display import announce, packs, voice
from web.auth import current_actor, route
from web.database import clock, get_db
from web.events import present_counter, publish_display_settings
from web.schemas import CounterOut, In

bp = APIBlueprint("display_api", __name__, url_prefix="/api/v1", tag="Display")

UPLOAD_ERRORS = {413: "The file is too large"}
# The app's 1 MB body limit is for JSON; uploads get their own, checked again per kind.
UPLOAD_LIMITS = {"display_api.add_media": display_db.MAX_VIDEO_BYTES + 1024 * 1024,
                 "display_api.upload_logo": display_db.MAX_IMAGE_BYTES + 1024 * 1024,
                 "display_api.upload_voice_pack": voice.MAX_ZIP_BYTES + 1024 * 1024}


@bp.before_request
def _upload_limit():
    limit = UPLOAD_LIMITS.get(request.endpoint)
    if limit:
        request.max_content_length = limit
        request.max_form_memory_size = 1024 * 1024


# -- schemas ---------------------------------------------------------------------------


class DisplaySettingsIn(In):
    mpp_name = String(validate=Length(min=1, max=200))
    running_text = String(validate=Length(max=1000))
    voice_pack = String(validate=Regexp(display_db.PACK_NAME_RE))
    announce_mode = String(validate=OneOf(voice.MODES))
    reload_hour = Integer(strict=True, allow_none=True, validate=Range(min=0, max=23))


class DisplaySettingsOut(Schema):
    mpp_name = String()
    running_text = String()
    voice_pack = String()
    announce_mode = String()
    reload_hour = Integer(allow_none=True)


class UploadIn(In):
    file = File(required=True)


class VoicePackIn(In):
    file = File(required=True)
    name = String(required=True, validate=Regexp(display_db.PACK_NAME_RE))


class MediaOut(Schema):
    id = Integer()
    kind = String()
    name = String()
    mime = String()
    size = Integer()
    url = String()


class LogoOut(Schema):
    url = String()


class VoicePackOut(Schema):
    name = String()
    source = String()
    complete = Boolean()
    active = Boolean()


class CounterKindIn(In):
    kind = String(required=True, validate=OneOf(display_db.COUNTER_KINDS))


class DisplayConfigOut(DisplaySettingsOut):
    logo_url = String(allow_none=True)
    media = List(Nested(MediaOut))
    counter_kinds = Dict(keys=String(), values=String())
    agencies = List(Dict())
    device = Dict(allow_none=True)
    server_ms = Integer()
    voice_clips = List(String(), metadata={
        "description": "Every clip of the active voice pack: the display decodes them before the first call"})


# -- helpers -------------------------------------------------------------------------------


def _db_path():
    return current_app.config["DATABASE"]


def display_config(conn):
    """Everything a display shows besides the live queue."""
    return {
        **display_db.display_settings(conn),
        "logo_url": display_db.logo_url(conn),
        "media": display_db.list_media(conn),
        "counter_kinds": {str(k): v for k, v in display_db.counter_kinds(conn).items()},
        "agencies": catalog.list_agencies(conn),
        "voice_clips": announce.pack_urls(conn, _db_path()),
    }


def publish_settings(conn):
    """Tell every display (whatever agencies it shows) that its settings changed."""
    publish_display_settings(conn, display_config(conn))


# -- settings ----------------------------------------------------------------------------


@route(bp, "GET", "/settings/display", who="authenticated", out=DisplaySettingsOut,
       summary="The lobby display's settings")
def get_display_settings():
    return display_db.display_settings(get_db())


@route(bp, "PUT", "/settings/display", who="admin", body=DisplaySettingsIn, out=DisplaySettingsOut,
       summary="Change the lobby display's settings (fields left out stay as they are)")
def put_display_settings(body):
    conn = get_db()
    saved = display_db.save_settings(conn, body, current_actor().user_id, packs.ready_packs(_db_path()))
    publish_settings(conn)
    return saved


@route(bp, "POST", "/settings/logo", who="admin", files=UploadIn, out=LogoOut,
       summary="Upload the MPP's logo (PNG, JPEG, GIF or WebP, at most 10 MB)",
       errors=UPLOAD_ERRORS)
def upload_logo(body):
    conn = get_db()
    url = display_db.save_logo(conn, _db_path(), body["file"].stream, current_actor().user_id)
    publish_settings(conn)
    return {"url": url}


# -- media -------------------------------------------------------------------------------


@route(bp, "GET", "/media", who="authenticated", out=MediaOut(many=True),
       summary="The MPP's images and videos the displays play")
def list_media():
    return display_db.list_media(get_db())


@route(bp, "POST", "/media", who="admin", files=UploadIn, out=MediaOut, status=201,
       summary="Add an image (PNG, JPEG, GIF, WebP; 10 MB) or video (MP4, WebM; 200 MB)",
       errors=UPLOAD_ERRORS)
def add_media(body):
    conn = get_db()
    item = display_db.add_media(conn, _db_path(), body["file"].stream, body["file"].filename,
                           current_actor().user_id)
    publish_settings(conn)
    return item


@route(bp, "DELETE", "/media/<id:media_id>", who="admin", status=204,
       summary="Remove an image or video", errors={404: "No such media"})
def delete_media(media_id):
    conn = get_db()
    display_db.delete_media(conn, _db_path(), media_id, current_actor().user_id)
    publish_settings(conn)
    return ""


# -- voice packs ---------------------------------------------------------------------------


@route(bp, "GET", "/voice-packs", who="staff", out=VoicePackOut(many=True),
       summary="The voice packs on the server")
def list_voice_packs():
    active = display_db.display_settings(get_db())["voice_pack"]
    return packs.list_packs(_db_path(), active)


@route(bp, "POST", "/voice-packs", who="admin", files=VoicePackIn, out=VoicePackOut, status=201,
       summary="Upload a zip of recorded clips as a voice pack (see docs/voice-packs.md)",
       errors=UPLOAD_ERRORS)
def upload_voice_pack(body):
    name = display_db.check_pack_name(body["name"])
    data = packs.read_limited(body["file"].stream, voice.MAX_ZIP_BYTES)
    pack = packs.import_pack(_db_path(), name, data)
    pack["active"] = display_db.record_pack_upload(get_db(), name, current_actor().user_id)
    return pack


# -- counters and the display's own view -------------------------------------------------------


@route(bp, "PUT", "/counters/<id:counter_id>/kind", who="admin", body=CounterKindIn, out=CounterOut,
       summary="How a counter is called aloud: loket, meja or ruang",
       errors={404: "No such counter"})
def set_counter_kind(counter_id, body):
    conn = get_db()
    display_db.set_counter_kind(conn, counter_id, body["kind"], current_actor().user_id)
    publish_settings(conn)
    return present_counter(queue.counter_dict(conn, clock(), counter_id))


@route(bp, "GET", "/display/config", who=("display", "staff"), out=DisplayConfigOut,
       summary="Everything a lobby display shows besides the live queue",
       errors={403: "Not a display or staff"})
def get_display_config():
    conn = get_db()
    actor = current_actor()
    device = None
    if actor.kind == "device":
        info = accounts.device_dict(actor.row)
        device = {"id": info["id"], "name": info["name"], "agency_ids": info["agency_ids"]}
    return {**display_config(conn), "device": device, "server_ms": int(clock().ts() * 1000)}
