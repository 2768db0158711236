"""One write connection that lets waiting writes share a commit (group commit).

At `synchronous=FULL` each commit waits for the disk; that wait, not the
SQL, bounds how many tickets a second the server can take. The writer runs
in its own thread (a greenlet under gevent) and takes every write that is
waiting when it wakes: it opens one `BEGIN IMMEDIATE`, runs each write inside
its own SAVEPOINT (so a refused write rolls back alone, exactly as if it had
had its own transaction), commits once, and only then answers the callers.
If the commit fails (disk full, I/O error), every write of the batch is
answered with the error: none of them happened.

This is the single write path of Datasette's `execute_write_fn`; the rules
themselves stay in the engine functions, which do not know about it.
"""

import queue
import sqlite3
import threading

from db.connection import _is_busy, connect, transaction
from db.errors import DatabaseBusy, DatabaseUnavailable

MAX_BATCH = 64


class _Job:
    __slots__ = ("fn", "args", "kwargs", "done", "result", "error")

    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.done = threading.Event()
        self.result = None
        self.error = None


class Writer:
    """The server's single writer for one database file."""

    def __init__(self, path, max_batch=MAX_BATCH):
        self.path = path
        self.max_batch = max_batch
        self._queue = queue.Queue()
        self._thread = None
        self._lock = threading.Lock()
        self.batches = 0  # for the benchmark: how many commits
        self.writes = 0

    def run(self, fn, *args, **kwargs):
        """Run `fn(conn, *args, **kwargs)` in a write transaction; return or raise its outcome."""
        self._start()
        job = _Job(fn, args, kwargs)
        self._queue.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def _start(self):
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="giliran-writer",
                                                    daemon=True)
                    self._thread.start()

    def _loop(self):
        conn = connect(self.path)
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._run_batch(conn, batch)
            for job in batch:
                job.done.set()

    def _run_batch(self, conn, batch):
        try:
            with transaction(conn):
                for job in batch:
                    conn.execute("SAVEPOINT job")
                    try:
                        job.result = job.fn(conn, *job.args, **job.kwargs)
                    except sqlite3.Error:
                        raise  # disk full, I/O: the whole batch fails, nothing is committed
                    except Exception as exc:  # a rule refused this write: undo it alone
                        job.error = exc
                        conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
        except (DatabaseBusy, DatabaseUnavailable) as exc:
            self._fail(batch, exc)
        except sqlite3.Error as exc:
            self._fail(batch, DatabaseBusy() if _is_busy(exc) else DatabaseUnavailable(str(exc)))
        except Exception as exc:  # a bug: never leave a caller waiting
            self._fail(batch, exc)
        else:
            self.batches += 1
            self.writes += len(batch)

    @staticmethod
    def _fail(batch, exc):
        for job in batch:
            job.result = None
            job.error = exc
