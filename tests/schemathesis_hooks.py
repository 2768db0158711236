"""Schemathesis hooks: point generated path ids at things that exist in the demo MPP,
so fuzzing reaches the queue's rules instead of stopping at 404."""

import sys

import schemathesis

# The hostile 5,000-digit integer below must be printable into a JSON body.
sys.set_int_max_str_digits(0)

DEMO_COUNTERS = 21
DEMO_DEVICES = 2
# User 1 is the admin the run is logged in as (MPP_ADMIN_PASSWORD, created first): a
# fuzzed password reset or deactivation of it would end the run's own session.
DEMO_USERS = 6


@schemathesis.hook
def map_path_parameters(ctx, path):
    if path and isinstance(path.get("counter_id"), int):
        path["counter_id"] = path["counter_id"] % (DEMO_COUNTERS + 2) + 1  # a few unknown too
    if path and isinstance(path.get("device_id"), int):
        path["device_id"] = path["device_id"] % (DEMO_DEVICES + 1) + 1
    if path and isinstance(path.get("user_id"), int):
        path["user_id"] = path["user_id"] % DEMO_USERS + 2  # never 1; one unknown too
    return path


# Hostile values (web/input.py refuses them with 400): every third generated JSON
# body gets one, in turn, so the run also proves they never yield a 5xx.
HOSTILE = [
    ("text", "Dinas \ud800"),  # a lone surrogate, sent as the escape \ud800
    ("int", 2**63),
    ("int", 10**5000 - 1),
    ("deep", None),
]
_bodies = {"n": 0}


def _deep(levels=500):
    value = []
    for _ in range(levels):
        value = [value]
    return value


@schemathesis.hook
def map_body(ctx, body):
    # A generated webhook URL that would pass the checks points at a closed loopback port:
    # fuzzing must not make the server call hosts on the network.
    if isinstance(body, dict) and isinstance(body.get("url"), str) and "://" in body["url"]:
        body["url"] = "http://127.0.0.1:9/fuzz"
    media = {b.media_type for b in getattr(ctx.operation, "body", [])} if ctx.operation else set()
    if not isinstance(body, dict) or "application/json" not in media:
        return body  # multipart uploads carry files, not JSON
    _bodies["n"] += 1
    if _bodies["n"] % 3:
        return body
    kind, value = HOSTILE[(_bodies["n"] // 3) % len(HOSTILE)]
    body = dict(body)
    if kind == "deep":
        body["nested"] = _deep()
        return body
    wanted = str if kind == "text" else int
    key = next((k for k, v in body.items() if isinstance(v, wanted) and not isinstance(v, bool)), None)
    body[key or ("name" if kind == "text" else "service_id")] = value
    return body
