"""Queue ticket layout as ESC/POS bytes, built with python-escpos.

The bytes made here are the one source of truth for a ticket: the printer
gets them as they are, and printer/preview.py draws its PNG from them.
"""

import copy
import datetime
import functools
import logging
import math
import textwrap
import unicodedata

from escpos.capabilities import BaseProfile, get_profile_class
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# Printable dots per line at 203 dpi, and columns of font A (12 x 24 dots).
PAPER_DOTS = {58: 384, 80: 576}
FONT_A = (12, 24)

# CP437 is the power-on code page of nearly every ESC/POS printer, so text
# stays readable even on a printer that ignores the code page command.
CODEPAGE = "CP437"

# GS ! accepts 1..8 for both width and height.
MAX_MULTIPLIER = 8

# Dots per QR module are picked so that the code is this wide, about 30 mm:
# large enough for a cheap phone camera, small enough to save paper.
QR_TARGET_DOTS = 240

HARI = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
BULAN = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
    "Agustus", "September", "Oktober", "November", "Desember",
]
ZONES = {7: "WIB", 8: "WITA", 9: "WIT"}

PRIORITY_NAMES = {
    "lansia": "LANSIA",
    "disabilitas": "PENYANDANG DISABILITAS",
    "ibu_hamil": "IBU HAMIL",
    "balita": "IBU MEMBAWA BALITA",
    "lainnya": "LAYANAN PRIORITAS",
}

# Typography that CP437 lacks, mapped to what a reader expects to see.
SUBSTITUTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2032": "'", "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "\u2022": "*", "\u00b7": ".", "\u20ac": "EUR", "\u2122": "TM",
    "\u00a9": "(c)", "\u00ae": "(R)", "\u00d7": "x",
}


def columns(paper_mm: int) -> int:
    """Characters per line of font A at normal size on this paper."""
    return paper_dots(paper_mm) // FONT_A[0]


def paper_dots(paper_mm: int) -> int:
    """Printable width in dots; only 58 and 80 mm rolls exist in the field."""
    if paper_mm not in PAPER_DOTS:
        raise ValueError(f"paper_mm must be 58 or 80, not {paper_mm!r}")
    return PAPER_DOTS[paper_mm]


def printable(text) -> str:
    """Return text reduced to what CP437 can print, with ASCII stand-ins for the rest."""
    out = []
    # NFC first, so that "s" + combining cedilla is one "ş" that can fall back to "s".
    for ch in unicodedata.normalize("NFC", str(text or "")):
        if ch in SUBSTITUTES:
            out.append(SUBSTITUTES[ch])
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            # Control characters in a name must never reach the printer as
            # commands (an ESC in an agency name would change its state).
            out.append(" ")
        elif unicodedata.category(ch) == "Cf" or unicodedata.combining(ch):
            out.append("")  # soft hyphens, joiners, stray accents: nothing to print
        elif _in_codepage(ch):
            out.append(ch)
        else:
            # "ş" -> "s", "ﬁ" -> "fi"; whatever still does not fit becomes "?".
            plain = unicodedata.normalize("NFKD", ch)
            plain = "".join(c for c in plain if not unicodedata.combining(c))
            out.append(plain if plain and all(_in_codepage(c) for c in plain) else "?")
    return "".join(out)


def _in_codepage(ch: str) -> bool:
    try:
        ch.encode(CODEPAGE.lower())
    except UnicodeEncodeError:
        return False
    return ord(ch) >= 32


def indonesian_datetime(dt) -> str:
    """Format a datetime as "Senin, 23 November 2026 09:15 WIB"."""
    return " ".join(_date_and_time(dt))


def _date_and_time(dt):
    if isinstance(dt, str):
        dt = datetime.datetime.fromisoformat(dt)  # tickets travel as JSON too
    date = f"{HARI[dt.weekday()]}, {dt.day} {BULAN[dt.month - 1]} {dt.year}"
    time = dt.strftime("%H:%M")
    offset = dt.utcoffset()
    if offset is not None:
        hours = offset.total_seconds() / 3600
        zone = ZONES.get(hours) or "UTC{:+g}".format(hours)
        time = f"{time} {zone}"
    return date, time


def wait_text(seconds) -> str | None:
    """The estimate as "± 15 menit", "± 1 jam 5 menit" or "< 1 menit"; None if unknown."""
    if seconds is None:
        return None
    minutes = round(max(0, seconds) / 60)
    if minutes < 1:
        return "< 1 menit"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"\u00b1 {minutes} menit"
    return f"\u00b1 {hours} jam" + (f" {minutes} menit" if minutes else "")


def number_multiplier(number: str, paper_mm: int) -> int:
    """The largest GS ! multiplier at which the ticket number still fits one line."""
    # One column stays free on each side: a line filled to the last dot makes
    # some printers wrap an empty line, and the number should not touch the edge.
    room = columns(paper_mm) - 2
    return max(1, min(MAX_MULTIPLIER, room // max(1, len(number))))


def qr_module_dots(url: str, paper_mm: int) -> int:
    """Dots per QR module so that the code is about QR_TARGET_DOTS wide."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    modules = code.modules_count
    limit = paper_dots(paper_mm) // modules
    return max(2, min(8, QR_TARGET_DOTS // modules, limit))


@functools.cache
def _profile(paper_mm: int):
    # The generic profile knows cuts and native QR but not the paper width;
    # a copy with the width lets python-escpos centre and check images.
    data = copy.deepcopy(get_profile_class("default").profile_data)
    data["name"] = f"Giliran {paper_mm} mm"
    data["media"] = {"width": {"mm": paper_mm, "pixels": paper_dots(paper_mm)}, "dpi": 203}
    data["fonts"] = {"0": {"name": "Font A", "columns": columns(paper_mm)},
                     "1": {"name": "Font B", "columns": paper_dots(paper_mm) // 9}}
    return type(f"Giliran{paper_mm}Profile", (BaseProfile,), {"profile_data": data})()


def _new_printer(paper_mm: int) -> Dummy:
    p = Dummy(profile="default")
    p.profile = _profile(paper_mm)
    p.hw("INIT")
    # A fixed code page, emitted once: magic encoding would otherwise switch
    # pages mid-line, which cheap printers get wrong.
    p.charcode(CODEPAGE)
    return p


def _size(p: Dummy, width: int = 1, height: int = 1) -> None:
    # GS ! only, never ESC !, so one command owns the character size.
    p.set(custom_size=True, width=width, height=height)


def _lines(p: Dummy, text: str, paper_mm: int, width: int = 1) -> None:
    """Print text wrapped to the columns left at this character width."""
    cols = columns(paper_mm) // width
    text = " ".join(printable(text).split())
    for line in textwrap.wrap(text, cols, break_long_words=True, break_on_hyphens=False):
        p.textln(line)


def _label_value(p: Dummy, label: str, value: str, paper_mm: int) -> None:
    """Print "label value" on one line, or the value under its label if too long."""
    if len(printable(label)) + 1 + len(printable(value)) <= columns(paper_mm):
        p.textln(printable(f"{label} {value}"))
    else:
        _lines(p, label, paper_mm)
        _lines(p, value, paper_mm)


def _logo(p: Dummy, path: str, paper_mm: int) -> None:
    """Print the logo centred, scaled to at most 60% of the width and 120 dots high."""
    try:
        with Image.open(path) as src:
            img = ImageOps.exif_transpose(src).convert("RGBA")
    except (OSError, ValueError) as exc:
        # A broken logo must not cost the citizen the ticket.
        log.warning("logo %s skipped: %s", path, exc)
        return
    white = Image.new("RGBA", img.size, "white")
    img = Image.alpha_composite(white, img).convert("L")
    dots = paper_dots(paper_mm)
    img.thumbnail((int(dots * 0.6), 120), Image.LANCZOS)
    canvas = Image.new("L", (dots, img.height), 255)
    canvas.paste(img, ((dots - img.width) // 2, 0))
    # Logos are flat artwork: stretch the contrast and threshold, so a
    # coloured logo prints solid and its lettering stays sharp (dithering
    # would turn it into grey noise).
    canvas = ImageOps.autocontrast(canvas).point(lambda v: 255 if v >= 128 else 0, "1")
    # GS v 0 (raster) is the image command the most printers understand.
    p.image(canvas, impl="bitImageRaster")


def _rule(p: Dummy, paper_mm: int) -> None:
    p.textln("-" * columns(paper_mm))


def _badge(p: Dummy, title: str, under: str, paper_mm: int) -> None:
    """A mark that stands out on a one-colour ticket: the title in reverse print, a line under it."""
    p.ln()
    _size(p, 2, 2)
    p.set(bold=True, invert=True)
    p.textln(f" {title} ")
    p.set(invert=False)
    _size(p, 1, 2)
    _lines(p, under, paper_mm)
    p.set(bold=False)
    _size(p)


def ticket_bytes(info: dict, paper_mm: int = 80) -> bytes:
    """Lay out one queue ticket and return its ESC/POS bytes, ending with a cut.

    `info["booking_start"]` (ISO or datetime), when set, marks a booking's ticket with its slot.
    """
    p = _new_printer(paper_mm)
    p.set(align="center")
    if info.get("logo_path"):
        _logo(p, info["logo_path"], paper_mm)

    _size(p, 1, 2)
    p.set(bold=True)
    _lines(p, info["mpp_name"], paper_mm)
    _size(p)
    _rule(p, paper_mm)
    _lines(p, info["agency_name"], paper_mm)
    p.set(bold=False)
    _lines(p, info["service_name"], paper_mm)
    p.ln()

    p.textln("NOMOR ANTREAN")
    number = printable(info["number"]).strip()
    big = number_multiplier(number, paper_mm)
    _size(p, big, big)
    p.set(bold=True)
    p.textln(number)
    p.set(bold=False)
    _size(p)

    if info.get("priority"):
        kind = str(info["priority"])
        _badge(p, "PRIORITAS", PRIORITY_NAMES.get(kind, kind.replace("_", " ").upper()), paper_mm)
    if info.get("booking_start"):
        # A booking's ticket: RESERVASI and the slot's time.
        _badge(p, "RESERVASI", f"Jadwal {_date_and_time(info['booking_start'])[1]}", paper_mm)
    p.ln()

    # Break between date and time rather than inside either.
    _label_value(p, *_date_and_time(info["issued_at"]), paper_mm)
    _label_value(p, "Antrean di depan Anda:", str(int(info.get("ahead") or 0)), paper_mm)
    wait = wait_text(info.get("estimated_wait_s"))
    if wait:
        _label_value(p, "Perkiraan tunggu:", wait, paper_mm)
    p.ln()

    url = info.get("tracking_url") or ""
    if url:
        # Native QR (GS ( k) is crisp and short; the printer follows ESC a.
        p.qr(url, size=qr_module_dots(url, paper_mm), native=True, ec=QR_ECLEVEL_M)
        p.ln()
        _lines(p, "Pindai untuk memantau antrean", paper_mm)
    if info.get("footer"):
        p.ln()
        _lines(p, info["footer"], paper_mm)
    p.cut()
    return p.output


def test_page_bytes(printer_name: str, paper_mm: int = 80) -> bytes:
    """A short page that shows the width, sizes, code page and cutter of a printer."""
    cols = columns(paper_mm)
    p = _new_printer(paper_mm)
    p.set(align="center")
    _size(p, 2, 2)
    p.set(bold=True)
    _lines(p, "UJI CETAK", paper_mm, width=2)
    _size(p)
    p.set(bold=False)
    _lines(p, printer_name, paper_mm)
    _lines(p, f"Kertas {paper_mm} mm, {cols} kolom", paper_mm)
    p.set(align="left")
    # A ruler: its last digit must sit on the right edge, not wrap.
    p.textln(("1234567890" * math.ceil(cols / 10))[:cols])
    _rule(p, paper_mm)
    _lines(p, printable("Huruf: \u00e9 \u00e8 \u00fc \u00b1 \u00b0 \u00bd \u201cok\u201d"), paper_mm)
    for mult in (2, 3, 4):
        _size(p, mult, mult)
        p.textln(f"{mult}x")
    _size(p)
    p.set(align="center")
    p.qr("GILIRAN TEST", size=6, native=True, ec=QR_ECLEVEL_M)
    p.ln()
    _lines(p, "Jika kertas terpotong rapi, printer siap.", paper_mm)
    p.cut()
    return p.output


# Its name starts with "test_"; keep pytest from collecting it where imported.
test_page_bytes.__test__ = False
