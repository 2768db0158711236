"""The SKM satisfaction survey (Permenpan RB 14/2017): answers and the IKM index.

A citizen rates a finished ticket once: nine elements, each 1-4, and a
comment. Per element NRR = the average answer; IKM = sum(NRR) x 1/9 x 25,
on a 25-100 scale, read as a band A-D.
"""

import math
import time

from db.catalog import get_service
from db.connection import write
from db.errors import Conflict, check_fields, found

# (column, Indonesian name, English name): the nine elements, in the regulation's order.
ELEMENTS = [
    ("u1", "Persyaratan", "Requirements"),
    ("u2", "Sistem, mekanisme, dan prosedur", "System, mechanism and procedure"),
    ("u3", "Waktu pelayanan", "Service time"),
    ("u4", "Biaya/tarif", "Cost/fee"),
    ("u5", "Produk spesifikasi jenis pelayanan", "Product specification of the service"),
    ("u6", "Kompetensi pelaksana", "Staff competence"),
    ("u7", "Perilaku pelaksana", "Staff behaviour"),
    ("u8", "Sarana dan prasarana", "Facilities and infrastructure"),
    ("u9", "Penanganan pengaduan, saran dan masukan", "Handling of complaints, suggestions and feedback"),
]
KEYS = [k for k, _, _ in ELEMENTS]
MAX_COMMENT = 1000

# (lowest IKM of the band, letter, Indonesian quality, English quality), highest first.
BANDS = [
    (88.31, "A", "Sangat Baik", "Very good"),
    (76.61, "B", "Baik", "Good"),
    (65.00, "C", "Kurang Baik", "Poor"),
    (25.00, "D", "Tidak Baik", "Bad"),
]


def ikm(nrr):
    """IKM from the nine elements' NRR: sum x 1/9 x 25, rounded to two decimals."""
    return round(sum(nrr) * (1 / 9) * 25, 2)


def band(value):
    """{letter, quality_id, quality_en} of an IKM (rounded to two decimals first)."""
    if value is None:
        return None
    value = round(value, 2)
    for low, letter, q_id, q_en in BANDS:
        if value >= low:
            return {"letter": letter, "quality_id": q_id, "quality_en": q_en}
    return {"letter": "D", "quality_id": "Tidak Baik", "quality_en": "Bad"}


def response_for(conn, ticket_id):
    """The survey answer of a ticket, or None."""
    return conn.execute("SELECT * FROM survey_responses WHERE ticket_id = ?", (ticket_id,)).fetchone()


def ticket_for_survey(conn, code):
    """The ticket row of a code, or NotFound."""
    return found(conn.execute("SELECT * FROM tickets WHERE code = ?", (code,)).fetchone(), "ticket", by="code")


def _submit(conn, code, answers, comment, source, now):
    ticket = ticket_for_survey(conn, code)
    fields = {}
    for key in KEYS:
        value = answers.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            fields[key] = "A whole number from 1 to 4."
    if comment is not None and len(comment) > MAX_COMMENT:
        fields["comment"] = f"At most {MAX_COMMENT} characters."
    check_fields(fields)
    if ticket["status"] != "done":
        raise Conflict("ticket_not_done", "The survey opens once the ticket has been served.")
    if response_for(conn, ticket["id"]) is not None:
        raise Conflict("survey_done", "This ticket has already been rated. Thank you.")
    service = get_service(conn, ticket["service_id"])
    row = conn.execute(
        f"""INSERT INTO survey_responses (ticket_id, service_id, agency_id, service_day, ts,
                {', '.join(KEYS)}, comment, source)
            VALUES (?, ?, ?, ?, ?, {', '.join('?' * 9)}, ?, ?) RETURNING id""",
        (ticket["id"], ticket["service_id"], service["agency_id"], ticket["service_day"], now,
         *[answers[k] for k in KEYS], (comment or "").strip() or None, source),
    ).fetchone()
    return {"id": row[0], "ticket_id": ticket["id"], "number": ticket["number"]}


def submit(conn, code, answers, *, comment=None, source="tracking", now=None):
    """Store one citizen's answers for a done ticket; a second answer is refused."""
    return write(conn, _submit, code, answers, comment, source, now or time.time())


def min_sample(population):
    """The smallest sample for a population, by the Krejcie & Morgan table that Permenpan RB
    14/2017's guide uses (95 % confidence, 5 % error, P = 0.5): 100 served -> 80, 1000 -> 278."""
    if population <= 0:
        return 0
    x2, p, d = 3.841, 0.5, 0.05
    return math.ceil(x2 * population * p * (1 - p) / (d * d * (population - 1) + x2 * p * (1 - p)))


def _summary(count, sums, population=0):
    # The citizens served in the range are the survey's population; fewer respondents than
    # the minimum sample make the IKM a small-sample figure, and the page says so.
    population = max(population, count)
    sample = {"population": population, "min_sample": min_sample(population),
              "small_sample": count < min_sample(population)}
    if not count:
        return {"respondents": 0, "nrr": dict.fromkeys(KEYS), "ikm": None, "band": None, **sample}
    nrr = [s / count for s in sums]
    value = ikm(nrr)  # from the exact averages; the NRR shown are rounded
    return {"respondents": count, "nrr": {k: round(n, 3) for k, n in zip(KEYS, nrr)},
            "ikm": value, "band": band(value), **sample}


def _served_total(conn, day_from, day_to, agency_id):
    """Citizens served in the range (of one agency): the whole survey's population."""
    sql = ("SELECT count(*) FROM tickets t JOIN services s ON s.id = t.service_id "
           "WHERE t.status = 'done' AND t.service_day BETWEEN ? AND ?")
    params = [day_from, day_to]
    if agency_id is not None:
        sql += " AND s.agency_id = ?"
        params.append(agency_id)
    return conn.execute(sql, params).fetchone()[0]


def report(conn, day_from, day_to, agency_id=None):
    """IKM per service, per agency and for the whole MPP over a range of service days."""
    where = "r.service_day BETWEEN ? AND ?"
    params = [day_from, day_to]
    if agency_id is not None:
        where += " AND r.agency_id = ?"
        params.append(agency_id)
    sums = ", ".join(f"sum(r.{k})" for k in KEYS)
    rows = conn.execute(
        f"""SELECT r.agency_id, r.service_id, count(*), {sums} FROM survey_responses r
            WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2""", params).fetchall()
    served = dict(conn.execute(
        "SELECT service_id, count(*) FROM tickets WHERE status = 'done' "
        "AND service_day BETWEEN ? AND ? GROUP BY service_id", (day_from, day_to)).fetchall())
    names = {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
        "SELECT s.id, s.prefix || ' ' || s.name, a.name, a.id FROM services s "
        "JOIN agencies a ON a.id = s.agency_id")}
    agencies = {}
    total = [0, [0] * 9]
    services = []
    for r in rows:
        count, element_sums = r[2], list(r[3:12])
        name = names.get(r[1], (str(r[1]), "", r[0]))
        services.append({"service_id": r[1], "agency_id": r[0], "label": name[0],
                         **_summary(count, element_sums, served.get(r[1], 0))})
        agg = agencies.setdefault(r[0], {"label": name[1], "count": 0, "sums": [0] * 9})
        agg["count"] += count
        agg["sums"] = [a + b for a, b in zip(agg["sums"], element_sums)]
        total[0] += count
        total[1] = [a + b for a, b in zip(total[1], element_sums)]
    return {
        "from": day_from, "to": day_to,
        "elements": [{"key": k, "name_id": i, "name_en": e} for k, i, e in ELEMENTS],
        "services": services,
        "agencies": [{"agency_id": aid, "label": a["label"],
                      **_summary(a["count"], a["sums"], _served_total(conn, day_from, day_to, aid))}
                     for aid, a in agencies.items()],
        "total": {"label": "MPP", **_summary(total[0], total[1], _served_total(
            conn, day_from, day_to, agency_id))},
        "comments": [
            {"service_id": c[0], "comment": c[1], "day": c[2]} for c in conn.execute(
                f"""SELECT r.service_id, r.comment, r.service_day FROM survey_responses r
                    WHERE {where} AND r.comment IS NOT NULL ORDER BY r.ts DESC LIMIT 50""", params)
        ],
    }
