"""The ceiling: Giliran's real issue path beside two reference handlers, in one run.

    .venv/bin/python bench/ceiling.py [--clients 50] [--seconds 10] [--services 16]

Starts, one after another, each under gunicorn with one gevent worker:
  bare     a Flask-SocketIO handler that emits and touches no database;
  trivial  a handler with one `BEGIN IMMEDIATE` number + insert at
           `synchronous=FULL` per request, then an emit (bench/ceiling_app.py);
  giliran  the real server (gunicorn.conf.py, wsgi:app), POST /api/v1/tickets
           with a kiosk token, tickets spread over 16 services.
Two more, on the real server, show what its request path costs without the ticket:
  refused  the same POST for a service no counter serves (409 no_counter: the
           token, the body's check, the writer's turn and an error answer);
  read     GET /api/v1/me/device with the same token (the token and an answer).
Drives each with the same wrk load and prints tickets/s, p50/p99/max, the
worker's CPU time per request (user + system, from /proc: what bounds the rate
on an idle machine, and far less disturbed by other jobs than the rate) and the
ratio of Giliran to the trivial handler (the goal of issue 17 is >= 1.0 with
p99 <= 100 ms). `--rounds N` keeps the three servers up and drives them in turn
N times: on a shared machine each round's ratio is taken within one moment.
wrk's max is over every connection (a kiosk each): no kiosk waited longer.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402
from conftest import Server, free_port  # noqa: E402
from issue_load import LUA, prepare, seed_voice_pack  # noqa: E402

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PATHS = {"read": "/api/v1/me/device"}  # the others POST to /api/v1/tickets


class Reference:
    """bench/ceiling_app.py under gunicorn, one gevent worker, on a loopback port."""

    def __init__(self, mode, workdir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, CEILING_MODE=mode, CEILING_DB=str(workdir / f"{mode}.db"))
        self.proc = subprocess.Popen(
            [GUNICORN, "-k", "gevent", "-w", "1", "--worker-connections", "2000",
             "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "ceiling_app:app"],
            cwd=ROOT / "bench", env=env)
        try:
            loadgen.wait_answering(self.url + "/health", 20, f"reference {mode}")
        except RuntimeError:
            self.stop()
            raise

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def worker_cpu_s(master_pid):
    """CPU seconds (user + system) used so far by the gunicorn worker under this master."""
    kids = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in kids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--services", type=int, default=16)
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout of Giliran (e.g. `git worktree add /tmp/before main`), "
                             "driven as a fourth handler `before` in every round")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the three one after another this many times (servers kept up); "
                             "on a shared machine the ratio of each round is taken at one moment")
    parser.add_argument("--only", nargs="+", choices=["bare", "trivial", "giliran", "before",
                                                     "refused", "read"],
                        help="start and drive only these handlers (e.g. `--only giliran` for a short "
                             "run of the CPU per ticket; no ratio unless both giliran and trivial run)")
    args = parser.parse_args()
    wanted = set(args.only or ["bare", "trivial", "giliran", "before"])
    if wanted & {"refused", "read"}:
        wanted.add("giliran")
    workdir = Path(tempfile.mkdtemp(prefix="giliran-ceiling-"))
    servers, scripts = {}, {}
    try:
        for mode in [m for m in ("bare", "trivial") if m in wanted]:
            servers[mode] = Reference(mode, workdir)
            scripts[mode] = workdir / f"{mode}.lua"
            scripts[mode].write_text(LUA % {
                "service_ids": ", ".join(str(i + 1) for i in range(args.services)), "token": "none"})
        # The real server: no per-device issue limit in the way of a benchmark, and its voice
        # pack already made (a new database makes it in the background, on every core).
        if "giliran" in wanted:
            seed_voice_pack(workdir / "mpp.db")
            srv = servers["giliran"] = Server(workdir / "mpp.db", env={
                "MPP_LOG_LEVEL": "warning", "MPP_KIOSK_ISSUES_PER_MINUTE": "1000000"}).start()
            ids, token = prepare(srv, args.services)
            scripts["giliran"] = workdir / "giliran.lua"
            scripts["giliran"].write_text(LUA % {"service_ids": ", ".join(map(str, ids)), "token": token})
            if "refused" in wanted:  # a service of the same agency that no counter serves
                lone = srv.session().post(srv.url + "/api/v1/services", json={
                    "agency_id": 1, "prefix": "Z", "name": "No counter"}).json()["id"]
                servers["refused"] = srv
                scripts["refused"] = workdir / "refused.lua"
                scripts["refused"].write_text(LUA % {"service_ids": str(lone), "token": token})
            if "read" in wanted:
                servers["read"] = srv
                scripts["read"] = workdir / "read.lua"
                scripts["read"].write_text(loadgen.REPORT_LUA + f'\nwrk.headers["Authorization"] = '
                                                                f'"Bearer {token}"\n')
        if args.before is not None and "before" in wanted:
            import conftest

            (workdir / "before").mkdir()
            seed_voice_pack(workdir / "before" / "mpp.db")
            conftest.ROOT, root = args.before.resolve(), conftest.ROOT  # Server runs gunicorn there
            try:
                old = servers["before"] = Server(workdir / "before" / "mpp.db", env={
                    "MPP_LOG_LEVEL": "warning", "MPP_KIOSK_ISSUES_PER_MINUTE": "1000000"}).start()
            finally:
                conftest.ROOT = root
            ids, token = prepare(old, args.services)
            scripts["before"] = workdir / "before.lua"
            scripts["before"].write_text(LUA % {"service_ids": ", ".join(map(str, ids)), "token": token})
        rounds = []
        for _ in range(args.rounds):
            row = {}
            for name, server in servers.items():
                cpu = worker_cpu_s(server.proc.pid)
                path = PATHS.get(name, "/api/v1/tickets")
                r = loadgen.run(server.url + path, scripts[name], args.clients, args.seconds)
                r["cpu_ms"] = (worker_cpu_s(server.proc.pid) - cpu) * 1000 / max(1, r["requests"])
                row[name] = r
            rounds.append(row)
    finally:
        for server in set(servers.values()):
            server.stop()
    print(f"wrk: {args.clients} connections, {args.seconds} s, {args.services} services, "
          f"{os.cpu_count()} cores, one gunicorn gevent worker each; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'round':<5} {'handler':<9} {'tickets/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'errors':>6} {'cpu ms/req':>10}")
    ratios = []
    for i, row in enumerate(rounds, 1):
        rates = {}
        for name, r in row.items():
            # The refused handler's answers are all 409: its rate is of answers, not tickets.
            rates[name] = (r["requests"] - (0 if name == "refused" else r["non2xx"])) / r["seconds"]
            wrong = r["errors"] + (r["requests"] - r["non2xx"] if name == "refused" else r["non2xx"])
            print(f"{i:<5} {name:<9} {rates[name]:>10.0f} {r['p50'] / 1000:>7.1f} {r['p99'] / 1000:>7.1f} "
                  f"{r['max'] / 1000:>7.1f} {wrong:>6} {r['cpu_ms']:>10.2f}")
        if not {"giliran", "trivial", "bare"} <= rates.keys():
            continue
        ratios.append((rates["giliran"] / rates["trivial"], rates["giliran"] / rates["bare"],
                       rates["before"] / rates["trivial"] if "before" in rates else None))
        print(f"{i:<5} ratio giliran / trivial = {ratios[-1][0]:.2f}, giliran / bare = {ratios[-1][1]:.2f}"
              + (f", before / trivial = {ratios[-1][2]:.2f}" if "before" in rates else ""))
    if len(rounds) > 1 and ratios:
        trivial = [r[0] for r in ratios]
        print(f"ratio giliran / trivial: median {median(trivial):.2f}, range {min(trivial):.2f}-{max(trivial):.2f}; "
              f"giliran / bare: median {median([r[1] for r in ratios]):.2f}")
        if "before" in servers:
            before = [r[2] for r in ratios]
            print(f"ratio before / trivial: median {median(before):.2f}, range {min(before):.2f}-{max(before):.2f}")
    if len(rounds) > 1:
        for name in servers:
            print(f"  {name:<8} cpu ms/request: median "
                  f"{median([row[name]['cpu_ms'] for row in rounds]):.2f}; worst p99 "
                  f"{max(row[name]['p99'] for row in rounds) / 1000:.1f} ms, max "
                  f"{max(row[name]['max'] for row in rounds) / 1000:.1f} ms")


if __name__ == "__main__":
    main()
