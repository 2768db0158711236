"""Password checks off the event loop, a few at a time.

scrypt takes tens of milliseconds of CPU by design. Run on the gevent loop,
twenty wrong logins at once stall every kiosk and display of the building, so
each check runs in gevent's thread pool (hashlib releases the GIL while it
hashes) and at most `HASH_SLOTS` run at once. A login that finds every slot
taken waits up to `HASH_WAIT_S` for one, then gets 429 `login_busy`: a real
user retries in a second, a flood gets nothing more out of the machine.
"""

import os
import threading

from db.errors import DomainError

# One core stays free for the event loop (the kiosks, displays and consoles).
HASH_SLOTS = max(1, (os.cpu_count() or 2) - 1)
HASH_WAIT_S = 3.0
# Logins of one client address in flight at once (waiting or hashing); more are
# refused at once, so one machine cannot fill the queue in front of the others.
PER_ADDRESS_IN_FLIGHT = 2
# The hashing threads also run at a lower CPU priority than the loop (Linux nice
# values are per thread), so a flood takes only the CPU the building leaves idle.
HASH_NICE = 10
_niced = threading.local()


def _in_background(fn, args):
    if not getattr(_niced, "done", False):
        _niced.done = True
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)
        except (AttributeError, OSError):
            pass  # not Linux, or not allowed: still off the loop
    return fn(*args)


class LoginBusy(DomainError):
    status = 429
    code = "login_busy"
    message = "Too many logins at once; try again in a moment."


class Checker:
    """Runs password checks in a bounded pool: threads under gevent, inline otherwise."""

    def __init__(self, gevent_mode, slots=HASH_SLOTS, wait_s=HASH_WAIT_S):
        self.gevent_mode = gevent_mode
        self.wait_s = wait_s
        self.in_flight = {}  # client address -> logins in flight
        self.lock = threading.Lock()
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
                return self.pool.apply(_in_background, (fn, args))
            return fn(*args)
        finally:
            self.slots.release()

    def for_address(self, address):
        """A `run` that refuses (LoginBusy) a client with PER_ADDRESS_IN_FLIGHT logins in flight."""
        def run(fn, *args):
            with self.lock:
                if self.in_flight.get(address, 0) >= PER_ADDRESS_IN_FLIGHT:
                    raise LoginBusy()
                self.in_flight[address] = self.in_flight.get(address, 0) + 1
            try:
                return self.run(fn, *args)
            finally:
                with self.lock:
                    left = self.in_flight.pop(address) - 1
                    if left:
                        self.in_flight[address] = left
        return run
