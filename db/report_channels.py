"""Reports: walk-in and booked citizens side by side (the report's channel columns).

Per group of db/reports.py (total, agency, service, counter, officer, day):

- walk_in / booked: tickets taken at the kiosk vs checked in from a booking
- wait medians: booked tickets in their first line, from check-in to the first call; every
  other visit (walk-ins, and any ticket transferred to a new line, where a booking's ticket
  is a normal one) from joining the line to the first call
- bookings (not cancelled), checked_in, missed; check_in_rate and missed_rate over the
  bookings already decided (checked in, or their check-in window closed). Bookings belong
  to a service and a day, so grouping by counter or officer leaves these empty.
- punctuality: slot start to the first call of a booked ticket (negative: called early)

Only the booked tickets are read (through the bookings, a small share of the tickets); the
walk-in figures are the report's own totals less them, so a year's report still comes from
the monthly summaries of db/reports.py.
"""

from db.reports import GROUP_KEYS, bucket, percentile, round1

# Bookings belong to a service and a day, not to a counter or an officer.
_BOOKING_KEYS = {"total": "0", "agency": "s.agency_id", "service": "b.service_id", "day": "b.service_day"}
CHANNELS = ("walk_in", "booked", "bookings", "checked_in", "missed", "check_in_rate", "missed_rate",
            "wait_walk_in_median_s", "wait_booked_median_s", "punctuality_median_s", "punctuality_p90_s")


# Marks a group whose walk-in waits are all its waits (no booked ones): db/reports.py then
# takes the walk-in median from its own, instead of this module sorting the histogram again.
ALL_WAITS = "_walk_in_waits_are_all"


def no_channels(group_by):
    """The channel figures of a group with no tickets and no bookings."""
    empty = dict.fromkeys(CHANNELS)
    empty.update(walk_in=0, booked=0)
    if group_by in _BOOKING_KEYS:
        empty.update(bookings=0, checked_in=0, missed=0)
    return empty


def channels(conn, clock, day_from, day_to, group_by="service", agency_id=None, acc=None, months=()):
    """Walk-in vs booked citizens per group of a range of service days: {key: figures}.

    Only the booked tickets are read here (from the bookings, a small set); the walk-in
    figures are the report's own totals less them: `acc` holds the report's counts and
    wait histograms per group, `months` the months it took from summaries (whose waits
    are bucketed, so the booked waits are taken off in the same buckets).
    """
    key = GROUP_KEYS[group_by]
    months = set(months)
    where = ("b.ticket_id IS NOT NULL AND b.service_day BETWEEN ? AND ? AND v.service_day BETWEEN ? AND ?"
             + (" AND s.agency_id = ?" if agency_id else ""))
    params = [day_from, day_to, day_from, day_to] + ([agency_id] if agency_id else [])
    counts, hists, taken = {}, {}, {}
    for k, day, wait, late in conn.execute(
            f"""SELECT {key}, v.service_day, CAST(round(v.first_called_ts - v.queued_ts) AS INTEGER),
                       CAST(round(v.first_called_ts - t.slot_ts) AS INTEGER)
                FROM bookings b JOIN tickets t ON t.id = b.ticket_id
                JOIN ticket_visits v ON v.ticket_id = t.id AND v.first = 1
                JOIN services s ON s.id = v.service_id
                WHERE {where}""", params):
        counts[k] = counts.get(k, 0) + 1
        if wait is not None:
            h = hists.setdefault((k, "booked"), {})
            h[wait] = h.get(wait, 0) + 1
            # The same wait as the report's histogram holds it (bucketed in a summarised month).
            x = bucket(wait) if day[:7] in months else wait
            t = taken.setdefault(k, {})
            t[x] = t.get(x, 0) + 1
        if late is not None:
            h = hists.setdefault((k, "punctuality"), {})
            h[late] = h.get(late, 0) + 1
    issued = {}
    if acc is not None:
        for k, vec in acc.counts.items():
            issued[k] = vec[0]
            if k not in taken:
                continue  # no booked waits: the walk-ins' median is the report's (ALL_WAITS)
            rest = {}
            for x, n in acc.sorted_hist(k, "wait"):
                n -= taken[k].get(x, 0)
                if n > 0:
                    rest[x] = n
            hists[(k, "walk_in")] = rest
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
                    WHERE {bwhere} GROUP BY 1""",
                [clock.ts(), day_from, day_to] + ([agency_id] if agency_id else [])):
            booking_counts[k] = (live or 0, checked_in or 0, missed or 0)
    out = {}
    for k in set(counts) | set(booking_counts) | set(issued):
        booked = counts.get(k, 0)
        row = no_channels(group_by)
        row.update(walk_in=max(0, issued.get(k, booked) - booked), booked=booked)
        if k in booking_counts:
            live, checked_in, missed = booking_counts[k]
            decided = checked_in + missed
            row.update(bookings=live, checked_in=checked_in, missed=missed,
                       check_in_rate=round(checked_in / decided, 4) if decided else None,
                       missed_rate=round(missed / decided, 4) if decided else None)
        if acc is not None and k not in taken:
            row[ALL_WAITS] = True
        for name, kind, p in (("wait_walk_in_median_s", "walk_in", 0.5), ("wait_booked_median_s", "booked", 0.5),
                              ("punctuality_median_s", "punctuality", 0.5),
                              ("punctuality_p90_s", "punctuality", 0.9)):
            row[name] = round1(percentile(sorted(hists.get((k, kind), {}).items()), p))
        out[k] = row
    return out
