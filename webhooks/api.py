"""The admin's webhook endpoints: add, list, change, test, deliveries, redeliver, resume.

The contract (shared/API.md, "Webhooks"): `POST /api/v1/webhooks` and
`GET /api/v1/webhooks/{id}/deliveries`; the rest is Giliran's own.
"""

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Integer, List, String
from apiflask.validators import Length, OneOf

from db import webhooks as store
from db.errors import Invalid
from web.auth import current_actor, route
from web.database import clock, get_db
from web.events import wake_webhooks
from web.schemas import In
from webhooks.addresses import Refused, check_url
from webhooks.worker import own_bind

bp = APIBlueprint("webhooks_api", __name__, url_prefix="/api/v1", tag="Webhooks")

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


@route(bp, "POST", "/webhooks", who="admin", body=WebhookIn, out=WebhookCreatedOut, status=201,
       summary="Add a webhook; its secret is answered only here",
       errors={400: "Invalid input, or a URL that may not receive webhooks"})
def create_webhook(body):
    url = _checked_url(body["url"])
    hook = store.create(get_db(), url, body["events"], body["secret"], now=clock().ts(),
                        user_id=_user())
    return _times({**hook, "pending": 0})


@route(bp, "GET", "/webhooks", who="admin", out=WebhookOut(many=True),
       summary="Every webhook and its state (never its secret)")
def list_webhooks():
    return [_times(h) for h in store.list_webhooks(get_db())]


@route(bp, "GET", "/webhooks/settings", who="admin", out=WebhookSettingsOut,
       summary="ticket.near's count ahead and booking.reminder's lead time")
def get_settings():
    return store.get_settings(get_db())


@route(bp, "PUT", "/webhooks/settings", who="admin", body=WebhookSettings, out=WebhookSettingsOut,
       summary="Set ticket.near's count ahead (1-50) and the reminder's lead time (5-1440 min)",
       errors={400: "Out of range"})
def put_settings(body):
    return store.set_settings(get_db(), near_ahead=body.get("near_ahead"),
                              reminder_minutes=body.get("reminder_minutes"), user_id=_user())


@route(bp, "GET", "/webhooks/<id:webhook_id>", who="admin", out=WebhookOut, summary="One webhook",
       errors={404: "No such webhook"})
def get_webhook(webhook_id):
    conn = get_db()
    hook = store.get(conn, webhook_id)
    hook["pending"] = next((h["pending"] for h in store.list_webhooks(conn) if h["id"] == webhook_id), 0)
    return _times(hook)


@route(bp, "PATCH", "/webhooks/<id:webhook_id>", who="admin", body=WebhookPatch, out=WebhookOut,
       summary="Change a webhook's URL or events, or switch it off and on",
       errors={400: "Invalid input", 404: "No such webhook"})
def update_webhook(webhook_id, body):
    url = _checked_url(body["url"]) if "url" in body else None
    hook = store.update(get_db(), webhook_id, url=url, events=body.get("events"),
                        active=body.get("active"), now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(hook)


@route(bp, "DELETE", "/webhooks/<id:webhook_id>", who="admin", status=204,
       summary="Remove a webhook and its deliveries", errors={404: "No such webhook"})
def delete_webhook(webhook_id):
    store.delete(get_db(), webhook_id, now=clock().ts(), user_id=_user())
    return ""


@route(bp, "POST", "/webhooks/<id:webhook_id>/resume", who="admin", out=WebhookOut,
       summary="Un-pause a webhook: its held deliveries are tried now",
       errors={404: "No such webhook"})
def resume_webhook(webhook_id):
    hook = store.resume(get_db(), webhook_id, now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(hook)


@route(bp, "POST", "/webhooks/<id:webhook_id>/test", who="admin", out=DeliveryOut, status=201,
       summary="Send a webhook.test delivery now",
       errors={404: "No such webhook", 409: "Paused or switched off"})
def test_webhook(webhook_id):
    delivery = store.test_delivery(get_db(), webhook_id, now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(delivery)


@route(bp, "GET", "/webhooks/<id:webhook_id>/deliveries", who="admin", out=DeliveryOut(many=True),
       summary="The webhook's latest 100 deliveries, newest first", errors={404: "No such webhook"})
def list_deliveries(webhook_id):
    return [_times(d) for d in store.list_deliveries(get_db(), webhook_id)]


@route(bp, "POST", "/webhooks/<id:webhook_id>/deliveries/<id:delivery_id>/redeliver", who="admin",
       out=DeliveryOut, summary="Send one delivery again now, with the same id",
       errors={404: "No such delivery", 409: "Paused, switched off, or being sent"})
def redeliver(webhook_id, delivery_id):
    delivery = store.redeliver(get_db(), webhook_id, delivery_id, now=clock().ts(), user_id=_user())
    wake_webhooks()
    return _times(delivery)
