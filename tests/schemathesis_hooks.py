"""Schemathesis hooks: point generated path ids at things that exist in the demo MPP,
so fuzzing reaches the queue's rules instead of stopping at 404."""

import schemathesis

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
