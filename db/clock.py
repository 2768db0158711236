"""The MPP's clock: service days in its own zone (WIB, WITA, WIT).

Every rule asks the clock, never `date.today()`: the server may run on UTC
while the building lives on Asia/Jayapura time. Tests hand the engine a
clock whose time they set.
"""

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


class Clock:
    """Wall time in the MPP's zone; `offset_s` shifts it (diagnostics, drills)."""

    def __init__(self, tz_name="Asia/Jakarta", offset_s=0.0):
        if tz_name not in ZONES:
            raise ValueError(f"MPP_TIMEZONE must be one of {', '.join(ZONES)}, not {tz_name!r}")
        self.tz_name = tz_name
        self.tz = ZoneInfo(tz_name)
        self.offset_s = float(offset_s)

    @property
    def zone_abbr(self):
        """WIB, WITA or WIT."""
        return ZONES[self.tz_name]

    def ts(self):
        """Now, as Unix seconds."""
        return time.time() + self.offset_s

    def local(self, ts=None):
        """A Unix time as an aware datetime in the MPP's zone."""
        return datetime.fromtimestamp(self.ts() if ts is None else ts, self.tz)

    def service_day(self, ts=None):
        """The service day (YYYY-MM-DD in the MPP's zone) of a Unix time."""
        return self.local(ts).date().isoformat()

    def iso(self, ts):
        """ISO 8601 with the zone's offset, or None."""
        if ts is None:
            return None
        return self.local(ts).isoformat(timespec="seconds")


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and simulations."""

    def __init__(self, tz_name="Asia/Jakarta", at=None):
        super().__init__(tz_name)
        self.now = at if at is not None else time.time()

    def ts(self):
        return self.now

    def set(self, when):
        """Move to a Unix time or an aware datetime."""
        self.now = when.timestamp() if isinstance(when, datetime) else float(when)

    def advance(self, seconds):
        """Move forward by `seconds`."""
        self.now += seconds


def parse_hhmm(text):
    """'08:30' -> minutes since midnight; raises ValueError on anything else."""
    hh, mm = text.split(":")
    if len(hh) != 2 or len(mm) != 2:
        raise ValueError(text)
    h, m = int(hh), int(mm)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(text)
    return h * 60 + m


def utc_iso(ts):
    """ISO 8601 in UTC (for logs and audit rows)."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")
