"""Report figures and the IKM against hand computations on a fixed day of events."""

import csv
import io

import pytest
from openpyxl import load_workbook

from db import accounts, reports, survey, tickets
from tests.conftest import PASSWORD, login


def play_day(w, conn, clock):
    """A fixed morning: a transfer, a no-show, an expired ticket (times in s after 09:00)."""
    start = clock.ts()
    at = lambda s: clock.set(start + s)  # noqa: E731
    u1 = accounts.create_user(conn, "budi", PASSWORD, "officer", agency_id=w.dukcapil)["id"]
    u2 = accounts.create_user(conn, "dewi", PASSWORD, "officer", agency_id=w.dukcapil)["id"]
    u3 = accounts.create_user(conn, "rina", PASSWORD, "officer", agency_id=w.samsat)["id"]
    for c, u in ((w.c1, u1), (w.c2, u2), (w.c3, u3)):
        tickets.open_counter(conn, clock, c, user_id=u)
    t = {}
    at(0); t[1] = tickets.issue(conn, clock, w.ktp).ticket  # A001
    at(60); t[2] = tickets.issue(conn, clock, w.ktp).ticket  # A002
    at(120); t[3] = tickets.issue(conn, clock, w.kk).ticket  # B001
    at(180); t[4] = tickets.issue(conn, clock, w.pajak).ticket  # K001
    at(300); tickets.call_next(conn, clock, w.c1, user_id=u1)  # A001, waited 300
    at(400); tickets.call_next(conn, clock, w.c2, user_id=u2)  # A002, waited 340
    at(500); tickets.start(conn, clock, w.c1, user_id=u1)
    at(900); tickets.finish(conn, clock, w.c1, user_id=u1)  # served 600
    at(1000); tickets.transfer(conn, clock, w.c2, w.kk, "last", user_id=u2)  # A002 -> KK
    at(1100); tickets.call_next(conn, clock, w.c1, user_id=u1)  # B001, waited 980
    at(1200); tickets.call_next(conn, clock, w.c3, user_id=u3)  # K001, waited 1020
    at(1300); tickets.no_show(conn, clock, w.c3, user_id=u3)
    at(1400); tickets.finish(conn, clock, w.c1, user_id=u1)  # served 300
    at(1500); assert tickets.call_next(conn, clock, w.c1, user_id=u1).ticket["number"] == "A002"
    at(1800); tickets.finish(conn, clock, w.c1, user_id=u1)  # served 300; waited 500 in KK
    at(1900); t[5] = tickets.issue(conn, clock, w.ktp).ticket  # A003: never called
    day = clock.service_day()
    clock.advance(24 * 3600)
    tickets.rollover(conn, clock)  # A003 expires
    return day, t, (u1, u2, u3)


def by_key(rep):
    return {r["key"]: r for r in rep["rows"]}


def test_report_by_service_matches_hand_computation(world, conn, clock):
    day, _, _ = play_day(world, conn, clock)
    rows = by_key(reports.report(conn, clock, day, day, "service"))
    ktp, kk, pajak = rows[world.ktp], rows[world.kk], rows[world.pajak]
    assert (ktp["issued"], ktp["called"], ktp["served"], ktp["expired"], ktp["transferred_out"]) == (3, 2, 1, 1, 1)
    assert (ktp["wait_median_s"], ktp["wait_p90_s"]) == (320, 336)
    assert (ktp["service_median_s"], ktp["service_p90_s"]) == (600, 600)
    assert ktp["target_compliance"] == 1.0
    # The transferred ticket's wait restarts in KK: 500 s, next to B001's 980 s.
    assert (kk["issued"], kk["transferred_in"], kk["called"], kk["served"]) == (1, 1, 2, 2)
    assert (kk["wait_median_s"], kk["wait_p90_s"]) == (740, 932)
    assert (kk["service_median_s"], kk["service_p90_s"]) == (300, 300)
    assert kk["target_compliance"] == 0.5
    assert (pajak["issued"], pajak["no_show"], pajak["served"], pajak["wait_median_s"]) == (1, 1, 0, 1020)
    assert pajak["service_median_s"] is None and pajak["target_compliance"] == 0.0


def test_report_totals_officers_and_arrivals(world, conn, clock):
    day, _, (u1, u2, u3) = play_day(world, conn, clock)
    rep = reports.report(conn, clock, day, day, "total")
    total = rep["rows"][0]
    assert (total["issued"], total["served"], total["no_show"], total["expired"], total["cancelled"]) == (5, 3, 1, 1, 0)
    assert (total["wait_median_s"], total["wait_p90_s"]) == (500, 1004)
    assert (total["service_median_s"], total["service_p90_s"]) == (300, 540)
    assert total["target_compliance"] == 0.6
    assert rep["arrivals_per_hour"][9] == 5 and sum(rep["arrivals_per_hour"]) == 5
    officers = by_key(reports.report(conn, clock, day, day, "officer"))
    assert (officers[u1]["called"], officers[u1]["served"], officers[u1]["wait_median_s"]) == (3, 3, 500)
    assert (officers[u2]["called"], officers[u2]["transferred_out"]) == (1, 1)
    assert officers[u3]["no_show"] == 1
    assert officers[None]["expired"] == 1  # never reached a counter
    agencies = by_key(reports.report(conn, clock, day, day, "agency", agency_id=world.samsat))
    assert list(agencies) == [world.samsat] and agencies[world.samsat]["issued"] == 1
    assert reports.report(conn, clock, "2026-11-25", "2026-11-30", "total")["rows"] == []


def test_percentile_is_percentile_inc():
    assert reports.percentile([(1, 1), (2, 1), (3, 1), (4, 1)], 0.5) == 2.5
    assert reports.percentile([(10, 9), (100, 1)], 0.9) == pytest.approx(19)
    assert reports.percentile([], 0.5) is None


ANSWERS = [[4] * 9, [3] * 9, [4, 3, 4, 3, 4, 3, 4, 3, 4], [2, 3, 3, 4, 4, 4, 3, 3, 2]]


def test_ikm_of_fixed_answers_and_band_edges(world, conn, clock):
    codes = []
    tickets.open_counter(conn, clock, world.c2)
    for _ in ANSWERS:
        codes.append(tickets.issue(conn, clock, world.ktp).ticket["code"])
        tickets.call_next(conn, clock, world.c2)
        tickets.start(conn, clock, world.c2)
        tickets.finish(conn, clock, world.c2)
    for code, answers in zip(codes, ANSWERS):
        survey.submit(conn, code, dict(zip(survey.KEYS, answers)), comment="Cepat")
    day = clock.service_day()
    rep = survey.report(conn, day, day)
    # NRR: 3.25 3.25 3.5 3.5 3.75 3.5 3.5 3.25 3.25 -> sum 30.75 -> x 1/9 x 25 = 85.42
    assert rep["total"]["nrr"]["u5"] == 3.75 and rep["total"]["nrr"]["u1"] == 3.25
    assert rep["total"]["ikm"] == 85.42 and rep["total"]["band"]["letter"] == "B"
    assert rep["total"]["respondents"] == 4
    assert rep["services"][0]["ikm"] == 85.42 and rep["agencies"][0]["respondents"] == 4
    assert survey.ikm([4] * 9) == 100 and survey.ikm([1] * 9) == 25
    edges = {100: "A", 88.31: "A", 88.30: "B", 76.61: "B", 76.60: "C", 65.00: "C",
             64.99: "D", 25.00: "D"}
    for value, letter in edges.items():
        assert survey.band(value)["letter"] == letter, value
    assert survey.band(85.42)["quality_id"] == "Baik"


def test_survey_only_once_and_only_when_done(world, conn, clock):
    from db.errors import Conflict, Invalid

    code = tickets.issue(conn, clock, world.ktp).ticket["code"]
    good = dict.fromkeys(survey.KEYS, 4)
    with pytest.raises(Conflict, match="served"):
        survey.submit(conn, code, good)
    tickets.open_counter(conn, clock, world.c2)
    tickets.call_next(conn, clock, world.c2)
    tickets.start(conn, clock, world.c2)
    tickets.finish(conn, clock, world.c2)
    with pytest.raises(Invalid):
        survey.submit(conn, code, {**good, "u3": 5})
    survey.submit(conn, code, good)
    with pytest.raises(Conflict, match="already"):
        survey.submit(conn, code, good)


def test_csv_and_xlsx_hold_the_same_figures(api, clock):
    conn = api.app.extensions["giliran"].pool.get()
    day, _, _ = play_day(api, conn, clock)
    admin = login(api.app, "admin")
    query = f"?from={day}&to={day}&group_by=service"
    data = admin.get("/api/v1/reports" + query).json
    r = admin.get("/api/v1/reports.csv" + query)
    assert r.status_code == 200 and "text/csv" in r.content_type
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    r = admin.get("/api/v1/reports.xlsx" + query)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    xrows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == len(xrows) == 1 + len(data["rows"])
    assert rows[0] == [str(h) for h in xrows[0]]
    for crow, xrow in zip(rows[1:], xrows[1:]):
        assert crow == ["" if v is None else str(v) for v in xrow]
    kk = next(x for x in xrows if x[0].endswith("Kartu Keluarga"))
    assert kk[1:6] == [1, 1, 2, 2, 0] and kk[9] == 740 and kk[13] == 50
    api.app.extensions["giliran"].pool.put(conn)


def test_an_ended_month_comes_from_its_summary_with_the_same_counts(world, conn, clock):
    day, _, (u1, _, _) = play_day(world, conn, clock)
    month = ("2026-11-01", "2026-11-30")
    live = by_key(reports.report(conn, clock, *month, "service"))
    clock.set(clock.ts() + 10 * 24 * 3600)  # December: November has ended
    tickets.rollover(conn, clock)
    summary = reports.report(conn, clock, *month, "service")
    assert conn.execute("SELECT count(*) FROM report_months").fetchone()[0] == 1
    rows = by_key(summary)
    for sid in (world.ktp, world.kk, world.pajak):
        for count in reports.COUNTS + ("within_target",):
            assert rows[sid][count] == live[sid][count], (sid, count)
    # Times in a summary are bucketed: 980 s is kept as 975 s (15 s buckets from 10 min).
    assert rows[world.kk]["wait_median_s"] == 737.5 and rows[world.ktp]["wait_median_s"] == 320
    assert summary["arrivals_per_hour"][9] == 5
    officers = by_key(reports.report(conn, clock, *month, "officer"))
    assert (officers[u1]["served"], officers[None]["expired"]) == (3, 1)
    total = reports.report(conn, clock, "2026-11-01", "2026-12-05", "total")["rows"][0]
    assert total["issued"] == 5  # a summarised month and raw December days
