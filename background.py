"""What the server's background workers share: their life and their dispatcher loop.

The print spool (printer/spool.py) and the webhook deliverer
(webhooks/worker.py) each run a dispatcher that a commit wakes at once and a
slow timer wakes otherwise, and start lanes of work from it. `runtime` gives
the tasks, sleeps and wake-up events of the server's async mode
(web/printing.py's SpoolRuntime); this module imports nothing of web/.
"""

import logging

from db.connection import connect


class Background:
    """A dispatcher woken by `wake()` (or after the seconds `_dispatch` returns), plus `loops`.

    A subclass sets `name` (for the log), `poll_s`, `log`, and `_dispatch(conn)`;
    `loops()` names the other long-running tasks `start()` spawns.
    """

    name = "background worker"
    poll_s = 1.0
    log = logging.getLogger("giliran")

    def __init__(self, app, runtime):
        self.app = app
        self.runtime = runtime
        self.clock = app.extensions["giliran"].clock
        self.stopping = False
        self._event = None

    def loops(self):
        """The tasks besides the dispatcher."""
        return []

    def start(self):
        """Start the dispatcher and the other loops; returns their tasks."""
        if self._event is not None:
            return []
        self._event = self.runtime.event()
        return [self.runtime.spawn(loop) for loop in (self._dispatch_loop, *self.loops())]

    def wake(self):
        """A commit may have queued work: look now."""
        if self._event is not None:
            self._event.set()

    def stop(self):
        """Take no more work; what is being done finishes, the rest waits in the database."""
        self.stopping = True
        self.wake()

    def _connect(self):
        # Reads on its own connection; writes (claims, outcomes) go through the
        # server's one writer like every other write, sharing its commits.
        conn = connect(self.app.config["DATABASE"])
        conn.writer = self.app.extensions["giliran"].writer
        return conn

    def _dispatch_loop(self):
        conn = self._connect()
        try:
            while not self.stopping:
                try:
                    timeout = self._dispatch(conn)
                except Exception:
                    self.log.exception("%s failed", self.name)
                    timeout = self.poll_s
                self._event.wait(timeout)
                self._event.clear()
        finally:
            conn.close()

    def _dispatch(self, conn):
        """Start what is due; seconds until the next thing is due."""
        raise NotImplementedError
