"""Password checks off the event loop, a few at a time.

scrypt takes tens of milliseconds of CPU by design. Run on the gevent loop,
twenty wrong logins at once stall every kiosk and display of the building, so
each check runs in gevent's thread pool (hashlib releases the GIL while it
hashes) and at most `HASH_SLOTS` run at once. A login that finds every slot
taken waits up to `HASH_WAIT_S` for one, then gets 429 `login_busy`: a real
user retries in a second, a flood gets nothing more out of the machine.
"""

import threading

from db.errors import DomainError

HASH_SLOTS = 2
HASH_WAIT_S = 3.0


class LoginBusy(DomainError):
    status = 429
    code = "login_busy"
    message = "Too many logins at once; try again in a moment."


class Checker:
    """Runs password checks in a bounded pool: threads under gevent, inline otherwise."""

    def __init__(self, gevent_mode, slots=HASH_SLOTS, wait_s=HASH_WAIT_S):
        self.gevent_mode = gevent_mode
        self.wait_s = wait_s
        if gevent_mode:
            from gevent.lock import BoundedSemaphore
            from gevent.threadpool import ThreadPool

            self.slots = BoundedSemaphore(slots)
            self.pool = ThreadPool(slots)
        else:
            # Threaded servers (gthread, tests) already hash outside any event loop.
            self.slots = threading.BoundedSemaphore(slots)
            self.pool = None

    def run(self, fn, *args):
        """fn(*args) in a free slot; LoginBusy if none frees up in time."""
        if not self.slots.acquire(timeout=self.wait_s):
            raise LoginBusy()
        try:
            if self.pool is not None:
                return self.pool.apply(fn, args)
            return fn(*args)
        finally:
            self.slots.release()
