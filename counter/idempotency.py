"""Idempotency-Key for counter actions: a retried request is answered, not redone.

A console or keypad bridge that does not know whether its request arrived
(a lagging network, a timeout) sends it again with the same key; the server
answers with the first answer instead of calling a second ticket. Keys are
remembered briefly in the worker's memory, per counter and caller: the
queue's own atomicity still comes from SQLite, this only spots repeats.
With several instances, sticky sessions keep a console on one of them.
"""

import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import Response, request

from db.errors import Conflict
from web.auth import idempotency_key

TTL_S = 120
MAX_ENTRIES = 5000
_PENDING = object()


class Replays:
    """Recent answers by (counter, caller, key), bounded in time and size."""

    def __init__(self, ttl_s=TTL_S, max_entries=MAX_ENTRIES):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def _prune(self, now):
        while self._entries:
            scope, entry = next(iter(self._entries.items()))
            if len(self._entries) <= self.max_entries and entry["ts"] > now - self.ttl_s:
                break
            self._entries.pop(scope)

    def claim(self, scope, action):
        """("new", None) for a first request; ("replay", answer), ("busy", None) or
        ("reused", None) for a repeat."""
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            entry = self._entries.get(scope)
            if entry is None:
                self._entries[scope] = {"ts": now, "action": action, "answer": _PENDING}
                return "new", None
        if entry["action"] != action:
            return "reused", None
        if entry["answer"] is _PENDING:
            return "busy", None
        return "replay", entry["answer"]

    def store(self, scope, answer):
        """Remember the answer of a claimed request."""
        with self._lock:
            if scope in self._entries:
                self._entries[scope]["answer"] = answer

    def release(self, scope):
        """Forget a claim whose request failed: a retry runs it for real."""
        with self._lock:
            self._entries.pop(scope, None)


REPLAYS = Replays()


def idempotent(caller_id):
    """Decorate a counter action view(counter_id, ...) to honour `Idempotency-Key`.

    `caller_id()` names who is asking, so one caller's key never replays for another.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(counter_id, *args, **kwargs):
            key = idempotency_key()
            if key is None:
                return view(counter_id, *args, **kwargs)
            scope = (counter_id, caller_id(), key)
            state, answer = REPLAYS.claim(scope, request.endpoint)
            if state == "reused":
                raise Conflict("idempotency_key_reused",
                               "This Idempotency-Key was used for another action.")
            if state == "busy":
                raise Conflict("request_in_progress",
                               "The same request is still being processed; wait for its answer.")
            if state == "replay":
                return Response(status=204) if answer is None else answer
            try:
                result = view(counter_id, *args, **kwargs)
            except BaseException:
                REPLAYS.release(scope)
                raise
            REPLAYS.store(scope, None if isinstance(result, Response) else result)
            return result

        return wrapper

    return decorator
