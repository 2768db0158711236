"""What the benchmarks share: the Lua reporter, one wrk run, a percentile, the servers.

A benchmark's Lua script defines `request` (and maybe `setup`) and ends with
`REPORT_LUA`, whose `done` prints one `JSON {...}` line that `run` reads back:
requests, errors (socket: connect, read, write, timeout), non2xx, p50/p99/max
latency in microseconds and the run's seconds.
"""

import json
import sqlite3
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPORT_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %d, \\"errors\\": %d, \\"non2xx\\": %d, " ..
    "\\"p50\\": %d, \\"p99\\": %d, \\"max\\": %d, \\"seconds\\": %f}\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(99),
    latency.max, summary.duration / 1e6))
end
"""


def run(url, script, clients, seconds, timeout="5s"):
    """Drive `url` with wrk and `script` (ending with REPORT_LUA); the reported numbers."""
    out = subprocess.run(
        ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds}s", "--timeout", timeout,
         "-s", str(script), url],
        capture_output=True, text=True, timeout=seconds + 60,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith("JSON "))
    return json.loads(line[5:])


def answered(r):
    """How many requests of a run were answered 2xx."""
    return r["requests"] - r["non2xx"]


def row(clients, r):
    """The columns every wrk table starts with: clients, 2xx/s, p50, p99, max (ms), errors."""
    return (f"{clients:>7} {answered(r) / r['seconds']:>10.0f} {r['p50'] / 1000:>7.1f} "
            f"{r['p99'] / 1000:>7.1f} {r['max'] / 1000:>7.1f} {r['errors'] + r['non2xx']:>6}")


def query(workdir, sql):
    """One row from the benchmark's database (workdir/mpp.db), after its server stopped."""
    conn = sqlite3.connect(Path(workdir) / "mpp.db")
    try:
        return conn.execute(sql).fetchone()
    finally:
        conn.close()


def pct(values, p):
    """The p-th percentile of `values` (nearest rank)."""
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def wait_answering(url, timeout, what, interval=0.1):
    """Wait until GET `url` answers 2xx, for at most `timeout` seconds; RuntimeError if never."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=max(1, interval * 5)).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{what} did not start")


@contextmanager
def load_server(prefix):
    """A real gunicorn on a new database in a fresh temp folder (`prefix`), warnings only, the
    kiosk's tickets/min limit and the per-address connection cap off (every client of a
    benchmark comes from 127.0.0.1); stopped after. The script has put tests/ on sys.path."""
    from conftest import Server

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    srv = Server(workdir / "mpp.db", env={"MPP_LOG_LEVEL": "warning",
                                          "MPP_KIOSK_ISSUES_PER_MINUTE": "1000000",
                                          "MPP_MAX_CONNECTIONS_PER_ADDRESS": "0"}).start()
    try:
        yield srv
    finally:
        srv.stop()


@contextmanager
def building_and_public(db_path, building_env=None, timeout=90):
    """The building's instance (demo MPP) and the public instance (MPP_SURFACE=public) on one
    database file, as a site runs them; both stopped after."""
    from conftest import Server

    building = Server(db_path, env={"MPP_DEMO": "1", **(building_env or {})}).start(timeout=timeout)
    try:
        public = Server(db_path, env={"MPP_SURFACE": "public"}).start(timeout=timeout)
        try:
            yield building, public
        finally:
            public.stop()
    finally:
        building.stop()
