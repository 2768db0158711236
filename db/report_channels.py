"""Reports: walk-in and booked citizens side by side (the report's channel columns).

Per group of db/reports.py (total, agency, service, counter, officer, day):

- walk_in / booked: tickets taken at the kiosk vs checked in from a booking (first visits;
  a booking's ticket transferred to another line is a normal ticket there)
- bookings (not cancelled), checked_in, missed; check_in_rate and missed_rate over the
  bookings already decided (checked in, or their check-in window closed). Bookings belong
  to a service and a day, so grouping by counter or officer leaves these empty.
- wait medians per channel: issue (or check-in) to the first call
- punctuality: slot start to the first call of a booked ticket (negative: called early)

Read from the raw rows for every range: bookings are a small share of the tickets, and the
monthly summaries of db/reports.py predate them.
"""

from db.reports import _KEYS, _round, percentile

# Bookings belong to a service and a day, not to a counter or an officer.
_BOOKING_KEYS = {"total": "0", "agency": "s.agency_id", "service": "b.service_id", "day": "b.service_day"}
CHANNELS = ("walk_in", "booked", "bookings", "checked_in", "missed", "check_in_rate", "missed_rate",
            "wait_walk_in_median_s", "wait_booked_median_s", "punctuality_median_s", "punctuality_p90_s")


def no_channels(group_by):
    """The channel figures of a group with no tickets and no bookings."""
    empty = dict.fromkeys(CHANNELS)
    empty.update(walk_in=0, booked=0)
    if group_by in _BOOKING_KEYS:
        empty.update(bookings=0, checked_in=0, missed=0)
    return empty


def channels(conn, clock, day_from, day_to, group_by="service", agency_id=None):
    """Walk-in vs booked citizens per group of a range of service days: {key: figures}."""
    key = _KEYS[group_by]
    where = "v.service_day BETWEEN ? AND ? AND v.first = 1" + (" AND s.agency_id = ?" if agency_id else "")
    params = [day_from, day_to] + ([agency_id] if agency_id else [])
    src = (f"FROM ticket_visits v JOIN services s ON s.id = v.service_id "
           f"JOIN tickets t ON t.id = v.ticket_id WHERE {where}")
    counts, hists = {}, {}
    for k, booked, x, n in conn.execute(
            f"""SELECT {key}, t.booking_id IS NOT NULL,
                       CAST(round(v.first_called_ts - v.queued_ts) AS INTEGER), count(*)
                {src} GROUP BY 1, 2, 3""", params):
        c = counts.setdefault(k, [0, 0])
        c[1 if booked else 0] += n
        if x is not None:
            h = hists.setdefault((k, "booked" if booked else "walk_in"), {})
            h[x] = h.get(x, 0) + n
    for k, x, n in conn.execute(
            f"""SELECT {key}, CAST(round(v.first_called_ts - t.slot_ts) AS INTEGER), count(*)
                {src} AND t.booking_id IS NOT NULL AND v.first_called_ts IS NOT NULL
                      AND t.slot_ts IS NOT NULL GROUP BY 1, 2""", params):
        h = hists.setdefault((k, "punctuality"), {})
        h[x] = h.get(x, 0) + n
    booking_counts = {}
    if group_by in _BOOKING_KEYS:
        bwhere = "b.service_day BETWEEN ? AND ?" + (" AND s.agency_id = ?" if agency_id else "")
        # A booking past its window reads missed even before the roll-over marks it.
        for k, live, checked_in, missed in conn.execute(
                f"""SELECT {_BOOKING_KEYS[group_by]}, sum(b.status != 'cancelled'),
                           sum(b.status = 'checked_in'),
                           sum(b.status = 'missed' OR (b.status = 'booked' AND
                               b.slot_start_ts + 60 * coalesce(bs.check_in_late_minutes, 15) < ?))
                    FROM bookings b JOIN services s ON s.id = b.service_id
                    LEFT JOIN booking_settings bs ON bs.service_id = b.service_id
                    WHERE {bwhere} GROUP BY 1""", [clock.ts(), *params]):
            booking_counts[k] = (live or 0, checked_in or 0, missed or 0)
    out = {}
    for k in set(counts) | set(booking_counts):
        walk_in, booked = counts.get(k, (0, 0))
        row = no_channels(group_by)
        row.update(walk_in=walk_in, booked=booked)
        if k in booking_counts:
            live, checked_in, missed = booking_counts[k]
            decided = checked_in + missed
            row.update(bookings=live, checked_in=checked_in, missed=missed,
                       check_in_rate=round(checked_in / decided, 4) if decided else None,
                       missed_rate=round(missed / decided, 4) if decided else None)
        for name, kind, p in (("wait_walk_in_median_s", "walk_in", 0.5), ("wait_booked_median_s", "booked", 0.5),
                              ("punctuality_median_s", "punctuality", 0.5),
                              ("punctuality_p90_s", "punctuality", 0.9)):
            row[name] = _round(percentile(sorted(hists.get((k, kind), {}).items()), p))
        out[k] = row
    return out
