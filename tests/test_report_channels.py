"""The report's walk-in / booking figures (db/report_channels.py) against a hand-computed morning,
in the JSON, the CSV and the XLSX."""

import csv
import io

import pytest
from openpyxl import load_workbook

from db import bookings, checkin, reports, tickets
from tests.conftest import login


def play_booked_morning(w, conn, clock):
    """KTP (A) takes bookings; two walk-ins, two booked citizens, one missed, one cancelled.

    09:00 W1 issued          09:05 W2 issued          09:10 call: W1 (waited 600 s)
    09:20 B1 checks in early (slot 09:30)             09:35 call: B1 (slot started: before W2;
          waited 900 s, called 300 s after its slot)  09:40 B2 checks in (slot 09:30)
    09:45 call: B2 (waited 300, 900 s after its slot) 09:50 call: W2 (waited 2700 s)
    B3 (slot 10:00) never comes: missed after 10:15. B4 was cancelled.
    """
    start = clock.ts()
    at = lambda s: clock.set(start + s)  # noqa: E731
    bookings.put_settings(conn, w.ktp, {"enabled": True, "slot_minutes": 30, "seats_per_slot": 4,
                                        "check_in_early_minutes": 30, "check_in_late_minutes": 15})
    day = clock.service_day()
    codes = []
    clock.set(start - 24 * 3600)  # booked the day before
    for i, slot in enumerate(["09:30", "09:30", "10:00", "10:00"]):
        codes.append(bookings.book(conn, clock, w.ktp, f"{day}T{slot}:00+07:00", f"Warga {i}",
                                   f"0812-3456-78{i:02d}", secret="s").booking["code"])
    bookings.cancel(conn, clock, codes[3])
    at(0); tickets.open_counter(conn, clock, w.c1)
    at(0); tickets.issue(conn, clock, w.ktp)
    at(300); tickets.issue(conn, clock, w.ktp)
    at(600); tickets.call_next(conn, clock, w.c1)
    at(1200); checkin.check_in(conn, clock, codes[0])
    at(2100); assert tickets.call_next(conn, clock, w.c1, finish_current=True).ticket["booking_code"] == codes[0]
    at(2400); checkin.check_in(conn, clock, codes[1])
    at(2700); assert tickets.call_next(conn, clock, w.c1, finish_current=True).ticket["booking_code"] == codes[1]
    at(3000); assert tickets.call_next(conn, clock, w.c1, finish_current=True).ticket["booking_code"] is None
    at(3300); tickets.finish(conn, clock, w.c1)
    at(2 * 3600)  # 11:00: B3's window (until 10:15) has closed
    return day


EXPECTED = {"walk_in": 2, "booked": 2, "bookings": 3, "checked_in": 2, "missed": 1,
            "check_in_rate": 0.6667, "missed_rate": 0.3333,
            "wait_walk_in_median_s": 1650, "wait_booked_median_s": 600,
            "punctuality_median_s": 600, "punctuality_p90_s": 840}


@pytest.mark.parametrize("group_by", ["service", "agency", "total", "day"])
def test_channel_figures_match_the_hand_computation(world, conn, clock, group_by):
    day = play_booked_morning(world, conn, clock)
    rows = reports.report(conn, clock, day, day, group_by)["rows"]
    row = next(r for r in rows if r["issued"] == 4)
    assert {k: row[k] for k in EXPECTED} == EXPECTED
    assert row["wait_median_s"] == 750  # all four: 300, 600, 900, 2700


def test_by_counter_has_channels_but_no_booking_counts(world, conn, clock):
    day = play_booked_morning(world, conn, clock)
    row = next(r for r in reports.report(conn, clock, day, day, "counter")["rows"] if r["key"] == world.c1)
    assert (row["walk_in"], row["booked"], row["punctuality_median_s"]) == (2, 2, 600)
    assert row["bookings"] is None and row["check_in_rate"] is None


def test_a_service_whose_bookings_all_missed_still_has_a_row(world, conn, clock):
    bookings.put_settings(conn, world.kk, {"enabled": True})
    day = clock.service_day()
    clock.set(clock.ts() - 3600 * 24)
    bookings.book(conn, clock, world.kk, f"{day}T09:00:00+07:00", "Tidak Datang", "081234567890", secret="s")
    clock.set(clock.ts() + 3600 * 26)  # 11:00 on the day
    rows = {r["key"]: r for r in reports.report(conn, clock, day, day, "service")["rows"]}
    assert rows[world.kk]["issued"] == 0 and rows[world.kk]["missed"] == 1
    assert rows[world.kk]["missed_rate"] == 1.0 and rows[world.kk]["wait_booked_median_s"] is None


def test_walk_ins_only_report_zero_booked(world, conn, clock):
    tickets.issue(conn, clock, world.pajak)
    day = clock.service_day()
    row = reports.report(conn, clock, day, day, "service")["rows"][0]
    assert (row["walk_in"], row["booked"], row["bookings"], row["check_in_rate"]) == (1, 0, 0, None)


def test_csv_and_xlsx_carry_the_channel_columns(api, clock):
    conn = api.app.extensions["giliran"].pool.get()
    try:
        day = play_booked_morning(api, conn, clock)
    finally:
        api.app.extensions["giliran"].pool.put(conn)
    admin = login(api.app, "admin")
    query = f"?from={day}&to={day}&group_by=service&lang=en"
    rows = list(csv.reader(io.StringIO(admin.get("/api/v1/reports.csv" + query).data.decode("utf-8-sig"))))
    head = rows[0]
    ktp = dict(zip(head, next(r for r in rows[1:] if r[0].endswith("KTP-el"))))
    assert (ktp["Walk-in tickets"], ktp["Booked tickets"], ktp["Bookings"]) == ("2", "2", "3")
    assert (ktp["Bookings checked in (%)"], ktp["Bookings missed (%)"]) == ("66.7", "33.3")
    assert (ktp["Wait median, walk-in (s)"], ktp["Wait median, booked (s)"]) == ("1650", "600")
    assert (ktp["Slot start to call, median (s)"], ktp["Slot start to call, p90 (s)"]) == ("600", "840")
    book = load_workbook(io.BytesIO(admin.get("/api/v1/reports.xlsx" + query).data)).active
    xrows = list(book.iter_rows(values_only=True))
    assert list(xrows[0]) == head
    xktp = dict(zip(head, next(r for r in xrows[1:] if r[0].endswith("KTP-el"))))
    assert (xktp["Booked tickets"], xktp["Bookings checked in (%)"], xktp["Slot start to call, p90 (s)"]) == (2, 66.7, 840)
    # Indonesian headers by default.
    indonesian = admin.get(f"/api/v1/reports.csv?from={day}&to={day}&group_by=service&lang=id")
    assert "Tiket reservasi" in indonesian.data.decode("utf-8-sig").splitlines()[0]


def test_an_ended_month_from_its_summary_gives_the_same_channel_figures(world, conn, clock):
    play_booked_morning(world, conn, clock)
    live = next(r for r in reports.report(conn, clock, "2026-11-01", "2026-11-30", "service")["rows"]
                if r["key"] == world.ktp)
    clock.set(clock.ts() + 10 * 24 * 3600)  # December: November is summarised
    tickets.rollover(conn, clock)
    summary = reports.report(conn, clock, "2026-11-01", "2026-11-30", "service")
    assert conn.execute("SELECT count(*) FROM report_months").fetchone()[0] == 1
    row = next(r for r in summary["rows"] if r["key"] == world.ktp)
    assert {k: row[k] for k in EXPECTED} == {k: live[k] for k in EXPECTED} == EXPECTED
