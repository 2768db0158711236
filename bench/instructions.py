"""Instructions per ticket in the real gunicorn worker, counted by valgrind (callgrind).

    .venv/bin/python bench/instructions.py [--requests 300] [--checkout PATH ...]

CPU time per ticket on a shared machine swings by 2x with what the other jobs do (the
same code gave 1.9 and 3.5 ms within minutes); the number of instructions the worker
runs does not. This starts the real server (gunicorn.conf.py, wsgi:app, one gevent worker)
under `valgrind --tool=callgrind` with counting off, sets up 16 services and a kiosk,
sends 30 tickets to warm up, then counts only while one keep-alive client takes
`--requests` tickets one after another (`POST /api/v1/tickets`, so every commit holds one
ticket: the worst case for group commit). The figure covers the whole worker: gunicorn's
parsing, gevent, Flask, the engine's SQL in SQLite and the writer thread; not the kernel's
side of system calls (count those with strace). With several `--checkout`s (other
checkouts of Giliran, e.g. `git worktree add /tmp/before <commit>`) they run side by side:
the counts do not depend on the load. Needs the Debian package valgrind.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402
from conftest import PASSWORD, free_port, seed_voice_pack  # noqa: E402
from issue_load import prepare  # noqa: E402


class _Server:
    """What issue_load.prepare needs of a server: its URL and an admin session."""

    def __init__(self, url):
        self.url = url

    def session(self, username="admin"):
        s = requests.Session()
        s.headers["Origin"] = self.url
        r = s.post(self.url + "/api/v1/auth/login", json={"username": username, "password": PASSWORD},
                   timeout=300)
        assert r.status_code == 200, r.text
        return s


def count(checkout, n, services=16):
    """Instructions the worker of `checkout` runs per ticket over `n` sequential tickets."""
    workdir = Path(tempfile.mkdtemp(prefix="giliran-instructions-"))
    seed_voice_pack(workdir / "mpp.db")
    port = free_port()
    env = {**os.environ, "MPP_DATABASE": str(workdir / "mpp.db"), "MPP_BIND": f"127.0.0.1:{port}",
           "MPP_ADMIN_PASSWORD": PASSWORD, "MPP_LOG_LEVEL": "warning",
           "MPP_KIOSK_ISSUES_PER_MINUTE": "1000000"}
    master = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--trace-children=yes", "--instr-atstart=no",
         f"--callgrind-out-file={workdir / 'callgrind.%p'}", sys.executable, "-m", "gunicorn",
         "-c", "gunicorn.conf.py", "--timeout", "600", "wsgi:app"],
        cwd=checkout, env=env, stdout=open(workdir / "valgrind.log", "w"), stderr=subprocess.STDOUT)
    srv = _Server(f"http://127.0.0.1:{port}")
    try:
        # valgrind starts Python slowly
        loadgen.wait_answering(srv.url + "/api/v1/health", 600,
                               f"the server under valgrind ({workdir / 'valgrind.log'})", interval=1)
        ids, token = prepare(srv, services)
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {token}"

        def issue(i):
            r = kiosk.post(srv.url + "/api/v1/tickets", json={"service_id": ids[i % len(ids)]}, timeout=120)
            assert r.status_code == 201, r.text

        for i in range(30):
            issue(i)
        worker = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True,
                                text=True).stdout.split()[0]
        subprocess.run(["callgrind_control", "-z", worker], capture_output=True, check=True)
        subprocess.run(["callgrind_control", "-i", "on", worker], capture_output=True, check=True)
        for i in range(n):
            issue(i)
        subprocess.run(["callgrind_control", "-i", "off", worker], capture_output=True, check=True)
        subprocess.run(["callgrind_control", "-d", worker], capture_output=True, check=True)
        for _ in range(60):
            dumps = list(workdir.glob(f"callgrind.{worker}.*"))
            if dumps:
                break
            time.sleep(1)
        totals = next(line for line in dumps[0].read_text().splitlines() if line.startswith("totals:"))
        return int(totals.split()[1]) / n
    finally:
        master.terminate()
        try:
            master.wait(120)
        except subprocess.TimeoutExpired:
            master.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--checkout", type=Path, nargs="+", default=[ROOT])
    args = parser.parse_args()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(args.checkout)) as pool:
        results = list(pool.map(lambda c: count(c.resolve(), args.requests), args.checkout))
    for checkout, per_ticket in zip(args.checkout, results):
        print(f"{per_ticket / 1e6:6.3f} M instructions per ticket  {checkout}")


if __name__ == "__main__":
    main()
