"""Schemathesis hooks: point generated path ids at things that exist in the demo MPP,
so fuzzing reaches the queue's rules instead of stopping at 404."""

import schemathesis

DEMO_COUNTERS = 21
DEMO_DEVICES = 2


@schemathesis.hook
def map_path_parameters(ctx, path):
    if path and isinstance(path.get("counter_id"), int):
        path["counter_id"] = path["counter_id"] % (DEMO_COUNTERS + 2) + 1  # a few unknown too
    if path and isinstance(path.get("device_id"), int):
        path["device_id"] = path["device_id"] % (DEMO_DEVICES + 1) + 1
    return path


@schemathesis.hook
def map_body(ctx, body):
    # A generated webhook URL that would pass the checks points at a closed loopback port:
    # fuzzing must not make the server call hosts on the network.
    if isinstance(body, dict) and isinstance(body.get("url"), str) and "://" in body["url"]:
        body["url"] = "http://127.0.0.1:9/fuzz"
    return body
