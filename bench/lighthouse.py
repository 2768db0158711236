"""Lighthouse (mobile) on the citizens' pages: /booking, /b/<code> and /t/<code>.

    (cd bench/lighthouse && npm ci)      # once: Lighthouse 12.2.3 into bench/lighthouse/node_modules
    .venv/bin/python bench/lighthouse.py [--instance public|building|both] [--runs 3]

Starts the building's instance (demo MPP) and the public instance (MPP_SURFACE=public,
as deployed) on one fresh database file, switches bookings on for one service, books a
seat through the public API (so /b/<code> exists) and takes a ticket at the demo kiosk
(so /t/<code> exists), then runs Lighthouse's default mobile audit (a Moto G Power's
screen, simulated slow 4G and a 4x slower CPU) on each page in Debian's Chromium
(CHROME_PATH, default /usr/bin/chromium; Lighthouse never downloads a browser). Prints
the four category scores per page (the median of --runs runs) and every audit that
did not pass in the last run. Exits 1 when a page misses the goals: performance
>= 0.9, accessibility >= 0.95, best practices >= 0.95.

Scores depend on the machine's load (performance above all); this is run on demand,
not in the test suite (docs/performance.md, "Lighthouse").
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402

LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
GOALS = {"performance": 0.9, "accessibility": 0.95, "best-practices": 0.95}


def prepare(building, public):
    """Bookings on for KTP (A); one seat booked on the public instance, one ticket taken
    at the demo kiosk. Returns the booking's code and the ticket's code."""
    tokens = json.loads((building.db_path.parent / "demo-devices.json").read_text())
    admin = building.session("admin")
    services = {s["prefix"]: s for s in admin.get(building.url + "/api/v1/services").json()}
    sid = services["A"]["id"]
    r = admin.put(f"{building.url}/api/v1/services/{sid}/booking", json={"enabled": True, "days_ahead": 7})
    assert r.status_code == 200, r.text
    today = date.fromisoformat(requests.get(public.url + "/api/v1/health", timeout=10).json()["service_day"])
    start = None
    for i in range(8):
        day = (today + timedelta(days=i)).isoformat()
        free = [s for s in requests.get(f"{public.url}/api/v1/services/{sid}/slots", params={"date": day},
                                        timeout=10).json() if s["open"] and s["left"] > 0]
        if free:
            start = free[0]["start"]
            break
    assert start, "no free slot within a week"
    r = requests.post(public.url + "/api/v1/bookings", timeout=10, json={
        "service_id": sid, "start": start, "name": "Siti Aminah", "phone": "081234567890"})
    assert r.status_code == 201, r.text
    booking = r.json()["code"]
    r = requests.post(building.url + "/api/v1/tickets", json={"service_id": services["B"]["id"]},
                      headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
    assert r.status_code == 201, r.text
    return booking, r.json()["code"]


def lighthouse(url, out, chrome):
    """One Lighthouse mobile run; returns its JSON report."""
    flags = "--headless=new --disable-gpu --no-first-run" + (" --no-sandbox" if os.geteuid() == 0 else "")
    env = {**os.environ, "CHROME_PATH": chrome, "PUPPETEER_SKIP_DOWNLOAD": "1"}
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={flags}", "--max-wait-for-load=60000"]
    subprocess.run(cmd, env=env, check=True, timeout=300)
    return json.loads(Path(out).read_text())


def failing(report):
    """The audits of the four categories that did not pass: (category, id, score, title, detail)."""
    audits = report["audits"]
    rows = []
    for cat in CATEGORIES:
        for ref in report["categories"][cat]["auditRefs"]:
            a = audits[ref["id"]]
            if a["scoreDisplayMode"] in ("notApplicable", "manual", "informative") or a["score"] is None:
                continue
            if a["score"] < 1:
                rows.append((cat, a["id"], a["score"], a["title"], a.get("displayValue", "")))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", choices=("public", "building", "both"), default="public",
                        help="which instance serves the pages (public: as citizens at home get them)")
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the median score is printed")
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    parser.add_argument("--keep", help="folder to keep the JSON reports in")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: (cd bench/lighthouse && npm ci)")
    tmp = Path(tempfile.mkdtemp(prefix="giliran-lighthouse-"))
    reports = Path(args.keep) if args.keep else tmp
    reports.mkdir(parents=True, exist_ok=True)
    with loadgen.building_and_public(tmp / "mpp.db") as (building, public):
        booking, ticket = prepare(building, public)
        hosts = {"public": [public], "building": [building], "both": [public, building]}[args.instance]
        pages = [("booking", "/booking"), ("card", f"/b/{booking}"), ("track", f"/t/{ticket}")]
        results = []
        for srv in hosts:
            name = "public" if srv is public else "building"
            for label, path in pages:
                runs = [lighthouse(srv.url + path, reports / f"{name}-{label}-{i}.json", args.chrome)
                        for i in range(args.runs)]
                scores = {c: statistics.median(r["categories"][c]["score"] for r in runs) for c in CATEGORIES}
                scores["tbt"] = statistics.median(r["audits"]["total-blocking-time"]["numericValue"] for r in runs)
                # Lighthouse's measure of the host's CPU at that moment (~1,000+ on a quiet
                # desktop); far lower means a busy machine, and a TBT to be read with that.
                scores["bench"] = statistics.median(r["environment"]["benchmarkIndex"] for r in runs)
                results.append((name, path, scores, failing(runs[-1]), runs[-1]))
        print(f"\nLighthouse {results[0][4]['lighthouseVersion']}, mobile (default throttling), "
              f"{results[0][4]['environment']['hostUserAgent'].split(') ')[-1]}, median of {args.runs} run(s); "
              f"load average {os.getloadavg()[0]:.1f} at the end")
        print(f"{'instance':9} {'page':22} {'perf':>5} {'a11y':>5} {'b.p.':>5} {'seo':>5} {'TBT ms':>7} {'bench':>6}")
        missed = False
        for name, path, scores, _, _ in results:
            below = [c for c, goal in GOALS.items() if scores[c] < goal]
            missed |= bool(below)
            print(f"{name:9} {path:22} " + " ".join(f"{scores[c]:5.2f}" for c in CATEGORIES)
                  + f" {scores['tbt']:7.0f} {scores['bench']:6.0f}"
                  + (f"   below the goal: {', '.join(below)}" if below else ""))
        for name, path, _, rows, report in results:
            m = report["audits"]
            metrics = ", ".join(f"{k} {m[k]['displayValue']}" for k in (
                "first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
                "cumulative-layout-shift") if k in m)
            print(f"\n{name} {path}: {metrics}")
            for cat, audit, score, title, detail in rows:
                print(f"  {cat:15} {audit:32} {score:4.2f}  {title} {detail}")
        if args.keep:
            print(f"\nJSON reports in {reports}")
        return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
