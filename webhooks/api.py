"""The admin's webhook endpoints: add, list, change, test, deliveries, redeliver, resume.

The contract (shared/API.md, "Webhooks"): `POST /api/v1/webhooks` and
`GET /api/v1/webhooks/{id}/deliveries`; the rest is Giliran's own.
"""

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Integer, List, String
from apiflask.validators import Length, OneOf

from db import webhooks as store
from db.errors import Invalid
from web.auth import current_actor, requires
from web.database import clock, get_db
from web.events import wake_webhooks
from web.schemas import In
from webhooks.addresses import Refused, check_url
from webhooks.worker import own_bind

bp = APIBlueprint("webhooks_api", __name__, url_prefix="/api/v1", tag="Webhooks")

ERRORS = {401: "Not logged in", 403: "Not an admin"}
EVENT_NAMES = {"description": "One or more of: " + ", ".join(store.EVENTS)}
TIME = {"format": "date-time"}


class WebhookIn(In):
    url = String(required=True, validate=Length(min=1, max=store.MAX_URL),
                 metadata={"example": "http://127.0.0.1:9000/giliran"})
    events = List(String(validate=OneOf(store.EVENTS)), required=True,
                  validate=Length(min=1, max=len(store.EVENTS)), metadata=EVENT_NAMES)
    secret = String(load_default=None, allow_none=True, validate=Length(max=store.MAX_SECRET),
                    metadata={"description": "The HMAC key; made by the server when left out."})


class WebhookPatch(In):
    url = String(validate=Length(min=1, max=store.MAX_URL))
    events = List(String(validate=OneOf(store.EVENTS)), validate=Length(min=1, max=len(store.EVENTS)))
    active = Boolean()


class WebhookOut(Schema):
    id = Integer()
    url = String()
    events = List(String())
    active = Boolean()
    paused = Boolean(metadata={"description": "Failing for a day: deliveries wait for a resume."})
    paused_at = String(allow_none=True, metadata=TIME)
    failing_since = String(allow_none=True, metadata=TIME)
    failures = Integer(metadata={"description": "Failed tries in a row."})
    last_success_at = String(allow_none=True, metadata=TIME)
    created_at = String(metadata=TIME)
    pending = Integer(metadata={"description": "Deliveries not yet delivered."})


class WebhookCreatedOut(WebhookOut):
    secret = String(metadata={"description": "Shown only in this answer."})


class DeliveryOut(Schema):
    id = Integer(metadata={"description": "Also X-Giliran-Delivery and the body's id."})
    webhook_id = Integer()
    event = String()
    status = String(metadata={"description": "pending, sending or delivered"})
    attempts = Integer()
    last_error = String(allow_none=True)
    last_status = Integer(allow_none=True, metadata={"description": "The receiver's HTTP status."})
    response_ms = Integer(allow_none=True)
    created_at = String(metadata=TIME)
    last_try_at = String(allow_none=True, metadata=TIME)
    next_try_at = String(allow_none=True, metadata=TIME)
    delivered_at = String(allow_none=True, metadata=TIME)


class WebhookSettings(In):
    near_ahead = Integer(strict=True, allow_none=True,
                         metadata={"description": "ticket.near: tickets ahead (default 3)"})
    reminder_minutes = Integer(strict=True, allow_none=True,
                               metadata={"description": "booking.reminder: minutes before the slot (default 60)"})


class WebhookSettingsOut(Schema):
    near_ahead = Integer()
    reminder_minutes = Integer()


def _times(item):
    """Unix times (`*_at`, `failing_since`) as ISO 8601 in the MPP's zone."""
    c = clock()
    return {k: (c.iso(v) if (k.endswith("_at") or k == "failing_since")
                and isinstance(v, (int, float)) and not isinstance(v, bool) else v)
            for k, v in item.items()}


def _checked_url(url):
    from flask import current_app

    try:
        check_url(url, own_bind(current_app))
    except Refused as exc:
        raise Invalid("invalid_url", str(exc), {"url": str(exc)})
    return url.strip()


def _user():
    return current_actor().user_id


@bp.post("/webhooks")
@requires("admin")
@bp.input(WebhookIn, arg_name="body")
@bp.output(WebhookCreatedOut, status_code=201)
@bp.doc(summary="Add a webhook; its secret is answered only here",
        responses={**ERRORS, 400: "Invalid input, or a URL that may not receive webhooks"})
def create_webhook(body):
    url = _checked_url(body["url"])
    hook = store.create(get_db(), url, body["events"], body["secret"], now=clock().ts(),
                        user_id=_user())
    return _times({**hook, "pending": 0})


@bp.get("/webhooks")
@requires("admin")
@bp.output(WebhookOut(many=True))
@bp.doc(summary="Every webhook and its state (never its secret)", responses=ERRORS)
def list_webhooks():
    return [_times(h) for h in store.list_webhooks(get_db())]


@bp.get("/webhooks/settings")
@requires("admin")
@bp.output(WebhookSettingsOut)
@bp.doc(summary="ticket.near's count ahead and booking.reminder's lead time", responses=ERRORS)
def get_settings():
    return store.get_settings(get_db())


@bp.put("/webhooks/settings")
@requires("admin")
@bp.input(WebhookSettings, arg_name="body")
@bp.output(WebhookSettingsOut)
@bp.doc(summary="Set ticket.near's count ahead (1-50) and the reminder's lead time (5-1440 min)",
        responses={**ERRORS, 400: "Out of range"})
def put_settings(body):
    return store.set_settings(get_db(), near_ahead=body.get("near_ahead"),
                              reminder_minutes=body.get("reminder_minutes"), user_id=_user())


@bp.get("/webhooks/<id:webhook_id>")
@requires("admin")
@bp.output(WebhookOut)
@bp.doc(summary="One webhook", responses={**ERRORS, 404: "No such webhook"})
def get_webhook(webhook_id):
    conn = get_db()
    hook = store.get(conn, webhook_id)
    hook["pending"] = next((h["pending"] for h in store.list_webhooks(conn) if h["id"] == webhook_id), 0)
    return _times(hook)


@bp.patch("/webhooks/<id:webhook_id>")
@requires("admin")
@bp.input(WebhookPatch, arg_name="body")
@bp.output(WebhookOut)
@bp.doc(summary="Change a webhook's URL or events, or switch it off and on",
        responses={**ERRORS, 400: "Invalid input", 404: "No such webhook"})
def update_webhook(webhook_id, body):
    url = _checked_url(body["url"]) if "url" in body else None
    hook = store.update(get_db(), webhook_id, url=url, events=body.get("events"),
                        active=body.get("active"), now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(hook)


@bp.delete("/webhooks/<id:webhook_id>")
@requires("admin")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove a webhook and its deliveries", responses={**ERRORS, 404: "No such webhook"})
def delete_webhook(webhook_id):
    store.delete(get_db(), webhook_id, now=clock().ts(), user_id=_user())
    return ""


@bp.post("/webhooks/<id:webhook_id>/resume")
@requires("admin")
@bp.output(WebhookOut)
@bp.doc(summary="Un-pause a webhook: its held deliveries are tried now",
        responses={**ERRORS, 404: "No such webhook"})
def resume_webhook(webhook_id):
    hook = store.resume(get_db(), webhook_id, now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(hook)


@bp.post("/webhooks/<id:webhook_id>/test")
@requires("admin")
@bp.output(DeliveryOut, status_code=201)
@bp.doc(summary="Send a webhook.test delivery now",
        responses={**ERRORS, 404: "No such webhook", 409: "Paused or switched off"})
def test_webhook(webhook_id):
    delivery = store.test_delivery(get_db(), webhook_id, now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(delivery)


@bp.get("/webhooks/<id:webhook_id>/deliveries")
@requires("admin")
@bp.output(DeliveryOut(many=True))
@bp.doc(summary="The webhook's latest 100 deliveries, newest first",
        responses={**ERRORS, 404: "No such webhook"})
def list_deliveries(webhook_id):
    return [_times(d) for d in store.list_deliveries(get_db(), webhook_id)]


@bp.post("/webhooks/<id:webhook_id>/deliveries/<id:delivery_id>/redeliver")
@requires("admin")
@bp.output(DeliveryOut)
@bp.doc(summary="Send one delivery again now, with the same id",
        responses={**ERRORS, 404: "No such delivery", 409: "Paused, switched off, or being sent"})
def redeliver(webhook_id, delivery_id):
    delivery = store.redeliver(get_db(), webhook_id, delivery_id, now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(delivery)
