"""Reliability drills against a real gunicorn: kill -9, SIGTERM, a locked file, a full disk,
and the service day rolling over while kiosks issue."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from conftest import ROOT, Server, free_port, offset_to

# The drills load the server through one kiosk token far faster than a person
# taps: lift the per-device issue limit (tests/test_kiosk_limits.py tests it).
DRILL = {"MPP_KIOSK_ISSUES_PER_MINUTE": "1000000"}

pytestmark = pytest.mark.server


def setup_mpp(srv, services=1):
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "D", "name": "Dukcapil"}).json()
    ids = [admin.post(url + "/services", json={"agency_id": agency["id"], "prefix": "ABCDEFG"[i],
                                               "name": f"Layanan {i}"}).json()["id"]
           for i in range(services)]
    counter = admin.post(url + "/counters", json={"agency_id": agency["id"], "number": 1,
                                                   "service_ids": ids}).json()
    token = admin.post(url + "/devices", json={"kind": "kiosk", "name": "K"}).json()["token"]
    return admin, ids, counter, token


class Kiosks:
    """A few threads taking tickets as fast as they can, remembering every 201 they saw."""

    def __init__(self, url, token, service_ids, threads=4, limit_s=30):
        self.url, self.token, self.service_ids = url, token, service_ids
        self.issued = []  # tickets whose 201 reached us
        self.failures = []  # (status or exception name)
        self.stop = threading.Event()
        self.deadline = time.monotonic() + limit_s
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, i):
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.token}"
        n = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            sid = self.service_ids[(i + n) % len(self.service_ids)]
            n += 1
            try:
                r = s.post(self.url + "/api/v1/tickets", json={"service_id": sid}, timeout=10)
            except requests.RequestException as exc:
                self.failures.append(type(exc).__name__)
                time.sleep(0.05)
                continue
            if r.status_code == 201:
                self.issued.append(r.json())
            else:
                self.failures.append(r.status_code)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)


def wait_until(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def db_tickets(path):
    conn = sqlite3.connect(path)
    try:
        return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
            "SELECT id, number, status, service_id FROM tickets")}
    finally:
        conn.close()


def test_kill_9_mid_load_loses_no_ticket_a_kiosk_was_given(tmp_path):
    srv = Server(tmp_path / "mpp.db", env=DRILL).start()
    _, ids, _, token = setup_mpp(srv, services=2)
    with Kiosks(srv.url, token, ids) as kiosks:
        assert wait_until(lambda: len(kiosks.issued) >= 200, 20)
        # The whole process group, master and worker, dies at once.
        os.killpg(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(10)
        time.sleep(0.3)
    seen = {t["id"]: t for t in kiosks.issued}
    assert len(seen) >= 200
    srv.start()
    try:
        stored = db_tickets(srv.db_path)
        for tid, t in seen.items():
            assert tid in stored, f"ticket {t['number']} was shown to a kiosk but is gone"
            assert stored[tid][0] == t["number"]
            assert stored[tid][1] == "waiting"
        numbers = [(sid, number) for number, _, sid in stored.values()]
        assert len(numbers) == len(set(numbers)), "a number was issued twice"
        for sid in ids:
            seqs = sorted(int(n[1:]) for s, n in numbers if s == sid)
            assert seqs == list(range(1, len(seqs) + 1)), "a gap in the sequence"
        # The day continues after the restart.
        r = requests.post(srv.url + "/api/v1/tickets", json={"service_id": ids[0]},
                          headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201
        assert int(r.json()["number"][1:]) == len([1 for s, _ in numbers if s == ids[0]]) + 1
        assert sqlite3.connect(srv.db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        srv.stop()


def test_sigterm_finishes_in_flight_requests_and_exits_cleanly(tmp_path):
    srv = Server(tmp_path / "mpp.db", env=DRILL).start()
    _, ids, _, token = setup_mpp(srv)
    import socketio

    display = socketio.Client(reconnection=False)
    display_token = srv.session().post(srv.url + "/api/v1/devices",
                                       json={"kind": "display", "name": "TV"}).json()["token"]
    display.connect(srv.url, auth={"token": display_token}, transports=["websocket"], wait_timeout=5)
    with Kiosks(srv.url, token, ids) as kiosks:
        assert wait_until(lambda: len(kiosks.issued) >= 100, 20)
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(30)
        took = time.monotonic() - started
    assert code == 0
    assert took < 10, f"SIGTERM took {took:.1f}s"
    # Nothing half-answered: every failure is a refused connection, never a 5xx.
    assert all(not isinstance(f, int) or f < 500 for f in kiosks.failures), kiosks.failures[:10]
    assert wait_until(lambda: not display.connected, 5), "the display socket was left open"
    stored = db_tickets(srv.db_path)
    assert all(t["id"] in stored for t in kiosks.issued)
    log = srv.log.read_text()
    assert "Traceback" not in log, log[-3000:]


def _hold_lock(path, seconds, ready):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.parametrize("hold_s, expect", [(2, 201), (7, 503)])
def test_database_locked_by_another_process(tmp_path, hold_s, expect):
    srv = Server(tmp_path / "mpp.db").start()
    try:
        _, ids, _, token = setup_mpp(srv)
        ready = threading.Event()
        holder = threading.Thread(target=_hold_lock, args=(str(srv.db_path), hold_s, ready))
        holder.start()
        assert ready.wait(5)
        started = time.monotonic()
        r = requests.post(srv.url + "/api/v1/tickets", json={"service_id": ids[0]},
                          headers={"Authorization": f"Bearer {token}"}, timeout=20)
        waited = time.monotonic() - started
        # While one request waits for the lock, the worker still answers others.
        assert requests.get(srv.url + "/api/v1/health", timeout=2).status_code == 200
        holder.join()
        assert r.status_code == expect, r.text
        if expect == 503:
            assert r.json()["error"]["code"] == "database_busy"
            assert r.headers["Retry-After"]
            assert 4 < waited < 7
            assert db_tickets(srv.db_path) == {}
        else:
            assert r.json()["number"] == "A001"
        ok = requests.post(srv.url + "/api/v1/tickets", json={"service_id": ids[0]},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert ok.status_code == 201
        assert ok.json()["number"] == ("A002" if expect == 201 else "A001")
        assert sqlite3.connect(srv.db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        srv.stop()


class Confined:
    """gunicorn in a private mount namespace (`unshare -rm`, no root needed) whose database
    folder is a small tmpfs."""

    def __init__(self, tmp_path, size="1m"):
        if not shutil.which("unshare"):
            pytest.fail("util-linux's unshare is needed for the disk drills")
        self.data = tmp_path / "small"
        self.data.mkdir()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "MPP_DATABASE": str(self.data / "mpp.db"),
               "MPP_BIND": f"127.0.0.1:{port}", "MPP_ADMIN_PASSWORD": "rahasia-123",
               "MPP_LOG_LEVEL": "warning"}
        script = (f"mount -t tmpfs -o size={size} tmpfs {self.data} && "
                  f"exec {sys.executable} -m gunicorn -c gunicorn.conf.py wsgi:app")
        self.log = tmp_path / "gunicorn.log"
        self.proc = subprocess.Popen(["unshare", "-rm", "sh", "-c", script], cwd=ROOT, env=env,
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        assert wait_until(lambda: _up(self.url), 20), self.log.read_text()[-2000:]
        srv = Server.__new__(Server)
        srv.url = self.url
        _, self.ids, _, token = setup_mpp(srv)
        self.kiosk = requests.Session()
        self.kiosk.headers["Authorization"] = f"Bearer {token}"

    def issue(self):
        return self.kiosk.post(self.url + "/api/v1/tickets", json={"service_id": self.ids[0]}, timeout=10)

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def _no_partial_ticket(box, issued, refusal, space_may_come_back=False):
    assert refusal.status_code == 503, refusal.text
    assert refusal.json()["error"]["code"] == "database_unavailable"
    assert "nothing was changed" in refusal.json()["error"]["message"]
    # Reads still work, and the queue holds exactly the tickets that were answered.
    services = box.kiosk.get(box.url + "/api/v1/services", timeout=5).json()
    assert services[0]["waiting"] == len(issued)
    assert services[0]["issued_today"] == len(issued)
    assert issued == [f"A{n:03d}" for n in range(1, len(issued) + 1)]
    again = box.issue()
    if space_may_come_back and again.status_code == 201:
        # The WAL's checkpoint (beside the writer) freed the log's pages meanwhile: the
        # refused ticket left no trace, the next one takes the next number.
        assert again.json()["number"] == f"A{len(issued) + 1:03d}"
    else:
        assert again.status_code == 503, again.text


def test_full_disk_is_a_clear_error_and_leaves_no_partial_ticket(tmp_path):
    box = Confined(tmp_path)
    try:
        issued, refusal = [], None
        for _ in range(2000):
            r = box.issue()
            if r.status_code != 201:
                refusal = r
                break
            issued.append(r.json()["number"])
        assert refusal is not None, "the 1 MB disk never filled"
        _no_partial_ticket(box, issued, refusal, space_may_come_back=True)
    finally:
        box.stop()


def test_read_only_database_is_a_clear_error_and_leaves_no_partial_ticket(tmp_path):
    srv = Server(tmp_path / "mpp.db").start()
    files = [str(srv.db_path), f"{srv.db_path}-wal"]
    try:
        _, ids, _, token = setup_mpp(srv)
        box = Confined.__new__(Confined)
        box.url, box.ids = srv.url, ids
        box.kiosk = requests.Session()
        box.kiosk.headers["Authorization"] = f"Bearer {token}"
        issued = [box.issue().json()["number"] for _ in range(3)]
        # The file can no longer be written, by anyone (root's immutable flag, as a failing
        # or remounted-read-only disk would): every write now fails with an I/O error.
        made = subprocess.run(["chattr", "+i", *files], capture_output=True, text=True)
        assert made.returncode == 0, f"the read-only drill needs root on ext4: {made.stderr}"
        _no_partial_ticket(box, issued, box.issue())
    finally:
        subprocess.run(["chattr", "-i", *files], capture_output=True)
        srv.stop()


def _up(url):
    try:
        return requests.get(url + "/api/v1/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Jayapura"])
def test_midnight_passes_while_kiosks_issue(tmp_path, zone):
    tz = ZoneInfo(zone)
    now = datetime.now(tz)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    # The server's clock reaches the MPP's midnight 10 s from now (start-up takes a few).
    offset = offset_to(midnight - timedelta(seconds=10))
    srv = Server(tmp_path / "mpp.db", env={**DRILL, "MPP_TIMEZONE": zone,
                                                  "MPP_CLOCK_OFFSET_S": offset}).start()
    try:
        admin, ids, counter, token = setup_mpp(srv)
        url = srv.url + "/api/v1"
        admin.post(url + f"/counters/{counter['id']}/open")
        server_now = datetime.fromisoformat(requests.get(url + "/health").json()["now"])
        assert server_now < midnight, "start-up took longer than the 10 s before midnight"
        with Kiosks(srv.url, token, ids, threads=2, limit_s=20) as kiosks:
            assert wait_until(lambda: any(t["service_day"] == midnight.date().isoformat()
                                          for t in kiosks.issued), 18)
            time.sleep(0.5)
        before = [t for t in kiosks.issued if t["service_day"] < midnight.date().isoformat()]
        after = [t for t in kiosks.issued if t["service_day"] == midnight.date().isoformat()]
        assert before and after
        assert [t["number"] for t in after][:1] == ["A001"]
        assert sorted(int(t["number"][1:]) for t in after) == list(range(1, len(after) + 1))
        stored = db_tickets(srv.db_path)
        assert all(stored[t["id"]][1] == "expired" for t in before)
        assert all(stored[t["id"]][1] == "waiting" for t in after)
        called = admin.post(url + f"/counters/{counter['id']}/call-next").json()
        assert called["service_day"] == midnight.date().isoformat() and called["number"] == "A001"
    finally:
        srv.stop()
