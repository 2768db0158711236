"""The SQLite connection: WAL, foreign keys, and the one way to write.

Every write in Giliran goes through `write(conn, fn)`: it opens a
`BEGIN IMMEDIATE` transaction (so the write lock is taken up front and two
processes can never interleave), runs `fn(conn)`, and commits. If another
process holds the lock, it waits in short cooperative sleeps (which yield to
other greenlets under gevent, instead of blocking the whole worker inside
SQLite's own busy handler) until `busy_wait_s` is spent, then raises
`DatabaseBusy`, which the API answers with 503.
"""

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from db.errors import DatabaseBusy, DatabaseUnavailable

# SQLite's own busy handler blocks the calling thread (the whole gevent hub),
# so it is kept short; the longer wait happens in write() with time.sleep.
SQLITE_BUSY_TIMEOUT_MS = 50
DEFAULT_BUSY_WAIT_S = 5.0


class Connection(sqlite3.Connection):
    """A connection that may hand its writes to a shared `db.writer.Writer`."""

    writer = None
    # The writer's memo while it runs `steady` writes in one transaction (see remember());
    # None everywhere else, where every read goes to SQLite.
    memo = None


def steady(fn):
    """Mark a write function (for `write`) whose own writes change none of the reads made
    through `remember`: the service, holiday and counter rows, who shares a counter, the
    day's service times, the webhooks' subscriptions. The writer then keeps those reads
    from one steady write to the next in the same transaction (a batch of tickets issued
    reads each service once), and starts afresh after any other write or a refusal."""
    fn.steady = True
    return fn


def remember(conn, key, read):
    """`read()`, or what it gave earlier in this transaction of steady writes (`steady`).

    Only the writer's connection has a memo, only while it runs steady writes, and only
    with its write lock held: nobody else can change a row in the meantime."""
    memo = conn.memo
    if memo is None:
        return read()
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = read()
        return value


def private_folder(folder):
    """Make `folder` if missing, owner-only (0700) from the start; its parents as usual."""
    folder = Path(folder)
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass


def create_private(path, data=b""):
    """Create `path` owner-only (0600) holding `data`; False if it already exists.

    The mode is given to open() itself, so the file is never readable by others,
    not even between its creation and a chmod.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return True


def connect(path, *, synchronous="FULL"):
    """Open a connection to the database file with Giliran's pragmas.

    A new database starts as an empty owner-only file (and folder): SQLite gives
    its -wal, -shm and -journal the database file's mode, so they are 0600 too.
    """
    if str(path) != ":memory:":
        private_folder(Path(path).parent)
        create_private(path)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                           factory=Connection)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # FULL: a power cut must not lose a ticket that a kiosk has shown.
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


class Pool:
    """A few open connections reused across requests.

    A new SQLite connection starts with a cold page cache and must parse the
    schema again; reusing one saves most of a millisecond per request.
    """

    def __init__(self, path, size=64, writer=None, **options):
        self.path = path
        self.size = size
        self.writer = writer
        self.options = options
        self._idle = []

    def get(self):
        """An idle connection, or a new one (whose writes go through the pool's writer)."""
        try:
            return self._idle.pop()
        except IndexError:
            conn = connect(self.path, **self.options)
            conn.writer = self.writer
            return conn

    def put(self, conn):
        """Give a connection back (closed if the pool is full or it is mid-transaction)."""
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                conn.close()
                return
        if len(self._idle) < self.size:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self):
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()


def enable_wal(conn):
    """Switch the file to write-ahead logging (persistent, done once at start)."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    return mode


def is_busy(exc):
    """Whether an SQLite error means another connection holds the lock."""
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def begin(conn, deadline, poll_s=None):
    """`BEGIN IMMEDIATE`, trying again while another connection holds the lock, until
    `deadline` (then `DatabaseBusy`): in growing pauses, or every `poll_s` seconds."""
    pause = poll_s or 0.005
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            if time.monotonic() >= deadline:
                raise DatabaseBusy() from exc
            time.sleep(pause)
            if poll_s is None:
                pause = min(pause * 2, 0.1)


@contextmanager
def transaction(conn, busy_wait_s=DEFAULT_BUSY_WAIT_S, *, begin_with=begin):
    """A `BEGIN IMMEDIATE` transaction, waiting cooperatively for the lock
    (`begin_with(conn, deadline)` takes it: db/writer.py passes its turnstile first)."""
    deadline = time.monotonic() + busy_wait_s
    begin_with(conn, deadline)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
            conn.execute("ROLLBACK")
        raise
    else:
        _commit(conn, deadline)


def _commit(conn, deadline):
    pause = 0.005
    while True:
        try:
            conn.execute("COMMIT")
            return
        except sqlite3.OperationalError as exc:
            if is_busy(exc) and time.monotonic() < deadline:
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
                continue
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if is_busy(exc):
                raise DatabaseBusy() from exc
            raise DatabaseUnavailable(str(exc)) from exc


def write_soon(conn, fn, *args, **kwargs):
    """Best effort: run `fn(conn, ...)` in a write transaction without holding up the caller.

    A pooled connection hands it to the writer and returns at once (its outcome is not
    read); a plain one runs it now but waits at most SQLite's short busy timeout for the
    lock. Either way a failure is dropped: only for writes whose loss costs nothing.
    """
    if conn.writer is not None:
        conn.writer.submit(fn, *args, **kwargs)
        return
    try:
        with transaction(conn, busy_wait_s=0):
            fn(conn, *args, **kwargs)
    except (sqlite3.Error, DatabaseBusy, DatabaseUnavailable):
        pass


def write(conn, fn, *args, **kwargs):
    """Run `fn(conn, *args, **kwargs)` inside one write transaction; return its result.

    A connection from the server's pool hands the call to its writer, which
    runs it on the one write connection, possibly sharing a commit with
    other writes (see db/writer.py); `fn` sees the same rules either way.
    """
    if conn.writer is not None:
        return conn.writer.run(fn, *args, **kwargs)
    try:
        with transaction(conn):
            return fn(conn, *args, **kwargs)
    except sqlite3.Error as exc:
        # Disk full, read-only file, I/O error: the transaction rolled back.
        if is_busy(exc):
            raise DatabaseBusy() from exc
        raise DatabaseUnavailable(str(exc)) from exc
