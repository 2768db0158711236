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

Under gevent the writer greenlet gathers the batch, but runs it (the SQL and
the commit's fsync) on one real OS thread of its own: SQLite releases the GIL
while it works and while it waits for the disk, so the event loop keeps
parsing and answering requests meanwhile, and the writes that arrive during
one commit form the next batch. On the loop itself every fsync stalled every
request of the server.

Two instances on one file (the building's and the public one) take turns,
the building first. Without a rule the public writer, busy during a booking
rush, took SQLite's lock again microseconds after each commit while the
building's writer slept between tries, and a kiosk's ticket waited 0.4 s.
So every writer passes a turnstile, an advisory `flock` on `<db>-turn`,
before it takes SQLite's lock: the building's writer holds it until its
transaction ends, a yielding writer (`yields=True`, the public instance)
lets go as soon as it has begun. A building write thus waits for at most
the one public transaction already running, which a yielding writer keeps
to one write (`YIELDING_BATCH`: batches of 8 cost the building a p99 of
60-80 ms in the rush, batches of 1 or 2 25-32 ms, and 1 answered the
phones fastest too), and writers poll for SQLite's lock every half
millisecond instead of backing off.

The writer never checkpoints the WAL itself: SQLite's automatic checkpoint
runs inside the commit that crosses 1,000 pages, copying and fsyncing the
database file while every write queued behind it waits (a quarter of a
second in the booking rush). A second OS thread with a connection of its
own runs a passive checkpoint instead, at most once every CHECKPOINT_EVERY_S
after writes, beside the writer rather than in its way.

Nor does Python's garbage collector run while a writer holds the lock: a
full collection stops every thread of the process (100-260 ms in the public
instance during a rush), and one that starts while the public writer is
inside its transaction held every building write just as long. Automatic
collection is paused for the length of each batch's transaction, and a
refusal kept for its caller (a rule's `DomainError`) drops its traceback,
whose frames made a reference cycle with the batch for every refused write.
"""

import fcntl
import gc
import os
import queue
import sqlite3
import threading
import time

from db.connection import begin, connect, is_busy, transaction
from db.errors import DatabaseBusy, DatabaseUnavailable, DomainError

MAX_BATCH = 64
# A yielding writer's batch, which the building's writer may have to wait for (one write).
YIELDING_BATCH = 1
# How often a writer tries again for a lock (SQLite's or the turnstile) held elsewhere.
POLL_S = 0.0005
# How often, at most, the WAL is checkpointed beside the writer.
CHECKPOINT_EVERY_S = 1.0
# How long a caller waits for its write to start before it is told the
# database is busy (the write is then dropped, never run later). Longer than
# the busy wait of one transaction, so a lock held by another process is
# reported as that process's, not as ours.
DEFAULT_WAIT_S = 15.0


def _gevent_patched():
    """Whether threads are greenlets here (gunicorn's gevent worker patched them)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


class _Job:
    __slots__ = ("fn", "args", "kwargs", "done", "result", "error", "state")

    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.done = threading.Event()
        self.result = None
        self.error = None
        self.state = "queued"  # queued -> running -> done, or queued -> abandoned


class Writer:
    """The server's single writer for one database file."""

    def __init__(self, path, max_batch=None, wait_s=DEFAULT_WAIT_S, yields=False):
        self.path = path
        self.yields = yields
        self.max_batch = max_batch or (YIELDING_BATCH if yields else MAX_BATCH)
        self.wait_s = wait_s
        self._queue = queue.Queue()
        self._thread = None
        self._lock = threading.Lock()
        self._os_thread = None  # gevent: the one OS thread that runs the batches
        self._turnstile = None  # its file descriptor, opened with the connection
        self._side = None  # gevent: the OS thread that checkpoints
        self._checkpoint_conn = None
        self._checkpoint_due = time.monotonic() + CHECKPOINT_EVERY_S
        self._checkpointing = False
        self.checkpoints = 0
        self.batches = 0  # for the benchmark: how many commits
        self.writes = 0

    def run(self, fn, *args, **kwargs):
        """Run `fn(conn, *args, **kwargs)` in a write transaction; return or raise its outcome."""
        self._start()
        job = _Job(fn, args, kwargs)
        self._queue.put(job)
        if not job.done.wait(self.wait_s):
            with self._lock:
                if job.state == "queued":  # never started: it will not run, say so
                    job.state = "abandoned"
                    raise DatabaseBusy()
            job.done.wait()  # already running: its outcome is moments away
        if job.error is not None:
            raise job.error
        return job.result

    def submit(self, fn, *args, **kwargs):
        """Queue `fn(conn, *args, **kwargs)` to run in a write transaction and return at once,
        its outcome unread: for a best-effort write that must never hold up its caller."""
        self._start()
        self._queue.put(_Job(fn, args, kwargs))

    def close(self):
        """Stop the writer thread after the writes already queued, and close its connection."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(30)
            self._thread = None

    def _start(self):
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="giliran-writer",
                                                    daemon=True)
                    self._thread.start()

    def _loop(self):
        conn = None
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = self._take([first])
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:  # close(): finish this batch, then stop
                    stop = True
                    break
                batch = self._take(batch + [job])
            if not batch:
                continue
            if conn is None:
                try:
                    conn = connect(self.path)
                    conn.execute("PRAGMA busy_timeout = 0")  # it polls itself (POLL_S)
                    conn.execute("PRAGMA wal_autocheckpoint = 0")  # _checkpoint() does it
                except Exception as exc:  # no write connection: tell these callers, retry later
                    self._fail(batch, DatabaseUnavailable(f"cannot open the database: {exc}"))
                    for job in batch:
                        job.done.set()
                    continue
            self._off_loop(self._run_batch, conn, batch)
            for job in batch:
                job.done.set()
            self._checkpoint_soon()
        if conn is not None:
            conn.close()
        if self._turnstile is not None:
            os.close(self._turnstile)
            self._turnstile = None
        if self._os_thread is not None:
            self._os_thread.kill()
            self._os_thread = None
        if self._side is not None:
            self._side.kill()
            self._side = None

    def _checkpoint_soon(self):
        """Start a checkpoint on the side thread if one is due and none is running."""
        if self._checkpointing or time.monotonic() < self._checkpoint_due:
            return
        self._checkpointing = True
        if not _gevent_patched():
            threading.Thread(target=self._checkpoint, name="giliran-checkpoint", daemon=True).start()
            return
        if self._side is None:
            from gevent.threadpool import ThreadPool

            self._side = ThreadPool(1)
        self._side.spawn(self._checkpoint)

    def _checkpoint(self):
        """Copy what the WAL holds into the database file, never waiting for a lock."""
        try:
            if self._checkpoint_conn is None:
                self._checkpoint_conn = connect(self.path)
            self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error:
            pass  # tried again on the next one; the WAL only grows meanwhile
        finally:
            self._checkpoint_due = time.monotonic() + CHECKPOINT_EVERY_S
            self._checkpointing = False

    def _off_loop(self, fn, *args):
        """Run `fn(*args)` off gevent's loop (on the writer's own OS thread), else inline."""
        if not _gevent_patched():
            return fn(*args)
        if self._os_thread is None:
            from gevent.threadpool import ThreadPool

            self._os_thread = ThreadPool(1)
        return self._os_thread.apply(fn, args)

    def _take(self, batch):
        """The jobs of `batch` still wanted, marked running (abandoned ones are dropped)."""
        with self._lock:
            kept = [job for job in batch if job.state != "abandoned"]
            for job in kept:
                job.state = "running"
        return kept

    def _begin(self, conn, deadline):
        """Pass the turnstile, then take SQLite's lock (the module's docstring says why)."""
        if self._turnstile is None:
            self._turnstile = open_turnstile(self.path)
        take_turnstile(self._turnstile, deadline)
        try:
            begin(conn, deadline, poll_s=POLL_S)
        finally:
            if self.yields:
                fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        gc.disable()  # no collection pause while the lock is held; _run_batch turns it back on

    def _run_batch(self, conn, batch):
        collecting = gc.isenabled()  # _begin pauses collection once it holds the lock
        try:
            with transaction(conn, begin_with=self._begin):
                memo = {}  # reads kept across this transaction's steady writes (remember())
                for job in batch:
                    conn.memo = memo if getattr(job.fn, "steady", False) else None
                    conn.execute("SAVEPOINT job")
                    try:
                        job.result = job.fn(conn, *job.args, **job.kwargs)
                    except sqlite3.Error:
                        raise  # disk full, I/O: the whole batch fails, nothing is committed
                    except DomainError as exc:  # a rule refused this write: undo it alone
                        job.error = exc.with_traceback(None)
                        conn.execute("ROLLBACK TO job")
                        memo.clear()  # what it read may have been its own undone writes
                    except Exception as exc:  # a bug: undo it alone, keep where it happened
                        job.error = exc
                        conn.execute("ROLLBACK TO job")
                        memo.clear()
                    conn.execute("RELEASE job")
                    if conn.memo is None:  # any other write may change what was kept
                        memo.clear()
        except (DatabaseBusy, DatabaseUnavailable) as exc:
            self._fail(batch, exc)
        except sqlite3.Error as exc:
            self._fail(batch, DatabaseBusy() if is_busy(exc) else DatabaseUnavailable(str(exc)))
        except Exception as exc:  # a bug: never leave a caller waiting
            self._fail(batch, exc)
        else:
            self.batches += 1
            self.writes += len(batch)
        finally:
            conn.memo = None
            if not self.yields and self._turnstile is not None:  # held through the transaction
                fcntl.flock(self._turnstile, fcntl.LOCK_UN)
            if collecting:
                gc.enable()

    @staticmethod
    def _fail(batch, exc):
        for job in batch:
            job.result = None
            job.error = exc


def open_turnstile(db_path):
    """The file descriptor of the database's turnstile file (made owner-only)."""
    return os.open(f"{db_path}-turn", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)


def take_turnstile(fd, deadline):
    """Take the turnstile's lock, trying every POLL_S until `deadline` (then `DatabaseBusy`)."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise DatabaseBusy() from None
            time.sleep(POLL_S)
