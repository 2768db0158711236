"""The live board, reports (JSON, CSV, XLSX, SVG charts), the SKM survey and the backup."""

import csv
import io
import os
import tempfile
import time

from apiflask.schemas import FileSchema
from flask import Response, current_app, send_file
from flask_babel import gettext as _

from admin import charts
from admin.api import bp
from admin.schemas import (Board, RangeQuery, ReportOut, SurveyIn, SurveyReportOut, SurveyState,
                           SurveyStored)
from db import admin as admin_db
from db import reports, survey
from db.errors import Invalid
from web.auth import agency_scope, current_actor, route
from web.database import clock, get_db

MAX_RANGE_DAYS = 400
MAX_DAY_ROWS = 92  # grouping by day reads every visit: keep it to a quarter
FILE = FileSchema(type="string", format="binary")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope(query):
    """(from, to, agency_id) of a query; a supervisor is held to their own agency."""
    today = clock().local().date()
    day_from = query["day_from"] or today
    day_to = query["day_to"] or day_from
    if day_to < day_from:
        raise Invalid("validation_error", "Some fields are not valid.", {"to": "Must not be before from."})
    if (day_to - day_from).days > MAX_RANGE_DAYS:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"to": f"At most {MAX_RANGE_DAYS} days after from."})
    if query["group_by"] == "day" and (day_to - day_from).days >= MAX_DAY_ROWS:
        raise Invalid("validation_error", "Some fields are not valid.",
                      {"group_by": f"By day, at most {MAX_DAY_ROWS} days."})
    return day_from.isoformat(), day_to.isoformat(), agency_scope(query["agency_id"])


def _report(query):
    day_from, day_to, agency_id = _scope(query)
    return reports.report(get_db(), clock(), day_from, day_to, query["group_by"], agency_id)


def _headers():
    return {"label": _("Group"), "issued": _("Issued"), "transferred_in": _("Transferred in"),
            "called": _("Called"), "served": _("Served"), "no_show": _("No-show"),
            "cancelled": _("Cancelled"), "expired": _("Expired"),
            "transferred_out": _("Transferred out"), "wait_median_s": _("Wait median (s)"),
            "wait_p90_s": _("Wait p90 (s)"), "service_median_s": _("Service median (s)"),
            "service_p90_s": _("Service p90 (s)"), "target_compliance": _("Within target wait (%)"),
            **_channel_headers()}


def _channel_headers():
    """The walk-in / booking columns (db/report_channels.py)."""
    return {"walk_in": _("Walk-in tickets"), "booked": _("Booked tickets"), "bookings": _("Bookings"),
            "check_in_rate": _("Bookings checked in (%)"), "missed_rate": _("Bookings missed (%)"),
            "wait_walk_in_median_s": _("Wait median, walk-in (s)"),
            "wait_booked_median_s": _("Wait median, booked (s)"),
            "punctuality_median_s": _("Slot start to call, median (s)"),
            "punctuality_p90_s": _("Slot start to call, p90 (s)")}


def _filename(rep, ext):
    return f"giliran-{rep['group_by']}-{rep['from']}_{rep['to']}.{ext}"


@route(bp, "GET", "/board", who=("admin", "supervisor"), out=Board,
       summary="The live board: queues, longest waits, counters, printers")
def board():
    return admin_db.board(get_db(), clock(), agency_scope())


@route(bp, "GET", "/reports", who=("admin", "supervisor"), query=RangeQuery, out=ReportOut,
       summary="Figures of a day or range, grouped by agency, service, counter, officer or day")
def report(query):
    return _report(query)


@route(bp, "GET", "/reports.csv", who=("admin", "supervisor"), query=RangeQuery, out=FILE,
       content_type="text/csv", returns="The report's table",
       summary="The report as CSV (UTF-8 with BOM, for spreadsheets)")
def report_csv(query):
    rep = _report(query)
    head, body = reports.table(rep, _headers())
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs then read the file as UTF-8
    writer = csv.writer(out)
    writer.writerow(head)
    writer.writerows(body)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(rep, "csv")}"'})


@route(bp, "GET", "/reports.xlsx", who=("admin", "supervisor"), query=RangeQuery, out=FILE,
       content_type=XLSX, returns="The report's table and arrivals per hour",
       summary="The report as an Excel workbook")
def report_xlsx(query):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rep = _report(query)
    head, body = reports.table(rep, _headers())
    book = Workbook()
    sheet = book.active
    sheet.title = f"{rep['from']}_{rep['to']}"[:31]
    sheet.append(head)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in body:
        sheet.append(row)
    sheet.column_dimensions["A"].width = 40
    hours = book.create_sheet(_("Arrivals per hour"))
    hours.append([_("Hour"), _("Issued")])
    for hour, count in enumerate(rep["arrivals_per_hour"]):
        hours.append([f"{hour:02d}:00", count])
    data = io.BytesIO()
    book.save(data)
    return Response(data.getvalue(),
                    mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{_filename(rep, "xlsx")}"'})


@route(bp, "GET", "/reports/chart.svg", who=("admin", "supervisor"), query=RangeQuery, out=FILE,
       content_type="image/svg+xml", returns="A bar chart",
       summary="A chart of the report as SVG: counts, waits or arrivals per hour")
def report_chart(query):
    rep = _report(query)
    rows = [r for r in rep["rows"] if r["label"] is not None]
    labels = [r["label"] for r in rows]
    if query["chart"] == "arrivals":
        first = next((h for h, c in enumerate(rep["arrivals_per_hour"]) if c), 7)
        last = max([h for h, c in enumerate(rep["arrivals_per_hour"]) if c] or [16])
        hours = range(min(first, 7), max(last, 16) + 1)
        svg = charts.bars(_("Arrivals per hour"), [f"{h:02d}" for h in hours],
                          [(_("Issued"), [rep["arrivals_per_hour"][h] for h in hours])])
    elif query["chart"] == "waits":
        svg = charts.bars(_("Waiting time (minutes)"), labels, [
            (_("Median"), [_minutes(r["wait_median_s"]) for r in rows]),
            (_("90th percentile"), [_minutes(r["wait_p90_s"]) for r in rows])])
    else:
        svg = charts.bars(_("Tickets"), labels, [
            (_("Issued"), [r["issued"] for r in rows]), (_("Served"), [r["served"] for r in rows]),
            (_("No-show"), [r["no_show"] for r in rows])])
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def _minutes(seconds):
    return None if seconds is None else round(seconds / 60, 1)


# -- the SKM survey ----------------------------------------------------------------


@route(bp, "GET", "/survey/report", who=("admin", "supervisor"), query=RangeQuery,
       out=SurveyReportOut,
       summary="IKM per service, agency and the whole MPP (Permenpan RB 14/2017)")
def survey_report(query):
    day_from, day_to, agency_id = _scope(query)
    return survey.report(get_db(), day_from, day_to, agency_id)


@route(bp, "GET", "/tickets/<string:code>/survey", who="anyone", out=SurveyState,
       summary="Whether a ticket can be rated now", errors={404: "Unknown ticket"})
def survey_state(code):
    conn = get_db()
    ticket = survey.ticket_for_survey(conn, code[:100])
    answered = survey.response_for(conn, ticket["id"]) is not None
    return {"number": ticket["number"], "status": ticket["status"], "answered": answered,
            "open": ticket["status"] == "done" and not answered}


@route(bp, "POST", "/tickets/<string:code>/survey", who="anyone", body=SurveyIn, out=SurveyStored,
       status=201,
       summary="Rate a finished ticket's service: nine elements 1-4 and a comment; once per ticket",
       errors={404: "Unknown ticket", 409: "ticket_not_done or survey_done"})
def submit_survey(code, body):
    answers = {k: body[k] for k in survey.KEYS}
    return survey.submit(get_db(), code[:100], answers, comment=body["comment"], source=body["source"])


# -- backup --------------------------------------------------------------------------


@route(bp, "GET", "/backup", who="admin", out=FILE, content_type="application/vnd.sqlite3",
       returns="A SQLite database file",
       summary="A consistent copy of the database, taken while the MPP runs (SQLite backup API)")
def backup():
    folder = os.path.dirname(os.path.abspath(current_app.config["DATABASE"]))
    fd, path = tempfile.mkstemp(prefix="backup-", suffix=".db", dir=folder)
    os.close(fd)
    admin_db.backup(get_db(), path, actor_id=current_actor().user_id)
    stamp = time.strftime("%Y%m%d-%H%M", clock().local().timetuple())
    response = send_file(path, mimetype="application/vnd.sqlite3", as_attachment=True,
                         download_name=f"giliran-{stamp}.db")
    response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
    return response
