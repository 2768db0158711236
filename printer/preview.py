"""PNG previews of tickets, drawn from the very ESC/POS bytes that get printed.

A small interpreter walks the bytes of printer/layout.py (text, sizes,
alignment, reverse print, GS v 0 images, GS ( k QR codes, feeds and the cut)
so that the preview cannot drift away from the printed layout.
"""

import datetime
import functools
import io
import os
import zoneinfo

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printer import layout

DOTS_PER_MM = 8  # 203 dpi
LINE_SPACING = 30  # ESC 2 default of most 203 dpi printers, in dots
FONT_CELLS = {0: (12, 24), 1: (9, 17)}  # font A, font B
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"]
CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865",
             16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858"}
QR_LEVELS = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M,
             50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}

# Parameter bytes that follow ESC x / GS x for the commands we only skip
# or read a fixed number of arguments from.
ESC_ARGS = {b"@": 0, b"2": 0, b"3": 1, b"+": 1, b"A": 1, b"!": 1, b"-": 1, b"E": 1,
            b"G": 1, b"M": 1, b"a": 1, b"t": 1, b"d": 1, b"J": 1, b"{": 1, b"R": 1,
            b"r": 1, b"c": 2, b"p": 3, b" ": 1, b"$": 2, b"\\": 2, b"e": 1}
GS_ARGS = {b"!": 1, b"B": 1, b"b": 1, b"|": 1, b"h": 1, b"w": 1, b"H": 1, b"f": 1,
           b"L": 2, b"W": 2, b"P": 2, b"a": 1}


def demo_info(tz: str = "Asia/Jakarta") -> dict:
    """A realistic ticket for previews, the admin page and tests."""
    return {
        "mpp_name": "Mal Pelayanan Publik Kota Bandung",
        "agency_name": "Dinas Kependudukan dan Pencatatan Sipil",
        "service_name": "Perekaman KTP elektronik dan pencetakan ulang Kartu Keluarga",
        "number": "A001",
        "priority": "lansia",
        "issued_at": datetime.datetime(2026, 11, 23, 9, 15, tzinfo=zoneinfo.ZoneInfo(tz)),
        "ahead": 3,
        "estimated_wait_s": 900,
        "tracking_url": "http://192.168.1.10:8000/t/Xk3p9QzT2mLwR7",
        "footer": "Terima kasih \u2014 \u201cMelayani dengan sepenuh hati\u201d",
        "logo_path": None,
    }


def booking_demo_info(tz: str = "Asia/Jakarta") -> dict:
    """The sample ticket of a booking checked in at the kiosk (for the docs' preview)."""
    return {**demo_info(tz), "priority": None, "booking_start": "2026-11-23T09:30:00+07:00"}


def preview_png(info: dict, paper_mm: int = 80) -> bytes:
    """Render the ticket of ticket_bytes(info, paper_mm) as PNG bytes."""
    return render_png(layout.ticket_bytes(info, paper_mm), paper_mm)


def render_png(data: bytes, paper_mm: int = 80) -> bytes:
    """Render any ESC/POS bytes of ours (ticket, test page) as PNG bytes."""
    image, _ = render(data, paper_mm)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@functools.cache
def _font_file(bold: bool) -> str | None:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for folder in FONT_DIRS:
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


@functools.cache
def _font(bold: bool, px: int):
    path = _font_file(bold)
    if path:
        return ImageFont.truetype(path, px)
    return ImageFont.load_default(size=px)  # Pillow's own font, if no DejaVu


@functools.cache
def _glyph(ch: str, font: int, width: int, height: int, bold: bool) -> Image.Image:
    """One character cell as a grey mask (255 = ink), scaled like the printer does."""
    cell_w, cell_h = FONT_CELLS[font]
    # Draw at the cell's true height, then stretch sideways for the width
    # multiplier, as the printer scales its bitmap font.
    w, h = cell_w * height, cell_h * height
    mask = Image.new("L", (w, h), 0)
    px = round(h * 0.83)
    ImageDraw.Draw(mask).text((w / 2, h * 0.06), ch, fill=255, font=_font(bold, px), anchor="ma")
    return mask.resize((cell_w * width, h), Image.LANCZOS) if width != height else mask


def _initial_state() -> dict:
    return {"align": 0, "bold": False, "invert": False, "underline": 0, "font": 0,
            "width": 1, "height": 1, "codepage": "cp437", "spacing": LINE_SPACING,
            "qr": {"size": 3, "ec": 49, "data": b""}}


def render(data: bytes, paper_mm: int = 80):
    """Interpret ESC/POS bytes; return (PIL image, items) where items describe what was drawn."""
    dots = layout.paper_dots(paper_mm)
    margin = (paper_mm * DOTS_PER_MM - dots) // 2
    strips = []  # (image of width `dots`, items with y relative to the strip)
    line = []  # [char, style] pairs waiting for LF
    state = _initial_state()

    def flush(feed_empty=True):
        if not line:
            if feed_empty:
                strips.append((Image.new("L", (dots, state["spacing"]), 255), []))
            return
        for row in _wrap(line, dots):
            strips.append(_draw_line(row, dots, state["spacing"], overflow=len(row) < len(line)))
        line.clear()

    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            flush()
            i += 1
        elif b == 0x1B and i + 1 < n:
            cmd = data[i + 1:i + 2]
            argc = ESC_ARGS.get(cmd, 0)
            args = data[i + 2:i + 2 + argc]
            i += 2 + argc
            if cmd == b"*":
                # ESC * m nL nH: column image; skipped, never produced by layout.py.
                m, nl, nh = data[i:i + 3]
                i += 3 + (nl + nh * 256) * (3 if m >= 32 else 1)
            else:
                _esc(cmd, args, state, flush, strips, dots)
        elif b == 0x1D and i + 1 < n:
            cmd = data[i + 1:i + 2]
            if cmd in (b"(",):
                sub, size = data[i + 2:i + 3], data[i + 3] + data[i + 4] * 256
                body = data[i + 5:i + 5 + size]
                i += 5 + size
                if sub == b"k":
                    _qr_command(body, state, flush, strips, dots)
            elif cmd == b"v":
                # GS v 0 m xL xH yL yH d...: raster bit image.
                m, xl, xh, yl, yh = data[i + 3:i + 8]
                wbytes, h = xl + xh * 256, yl + yh * 256
                raw = data[i + 8:i + 8 + wbytes * h]
                i += 8 + wbytes * h
                flush(feed_empty=False)
                img = Image.frombytes("1", (wbytes * 8, h), raw, "raw", "1;I").convert("L")
                if m & 1:
                    img = img.resize((img.width * 2, img.height))
                if m & 2:
                    img = img.resize((img.width, img.height * 2))
                strips.append(_block(img, state["align"], dots, {"kind": "image"}))
            elif cmd == b"V":
                m = data[i + 2]
                i += 3 + (1 if m in (65, 66, 97, 98, 103, 104) else 0)
                flush(feed_empty=False)
                strips.append(_cut(dots))
            else:
                argc = GS_ARGS.get(cmd, 0)
                _gs(cmd, data[i + 2:i + 2 + argc], state)
                i += 2 + argc
        elif b >= 0x20:
            ch = bytes([b]).decode(state["codepage"], errors="replace")
            line.append((ch, _style(state)))
            i += 1
        else:
            i += 1  # CR, HT and other controls do not move the preview
    flush(feed_empty=False)
    return _assemble(strips, dots, margin)


def _esc(cmd, args, state, flush, strips, dots):
    if cmd == b"@":
        state.update(_initial_state())
    elif cmd == b"a":
        state["align"] = args[0] % 48
    elif cmd == b"E":
        state["bold"] = bool(args[0] & 1)
    elif cmd == b"-":
        state["underline"] = args[0] % 48
    elif cmd == b"M":
        state["font"] = 1 if args[0] % 48 == 1 else 0
    elif cmd == b"!":
        mode = args[0]
        state.update(font=mode & 1, bold=bool(mode & 8), underline=1 if mode & 128 else 0,
                     width=2 if mode & 32 else 1, height=2 if mode & 16 else 1)
    elif cmd == b"t":
        state["codepage"] = CODEPAGES.get(args[0], "cp437")
    elif cmd == b"2":
        state["spacing"] = LINE_SPACING
    elif cmd == b"3":
        state["spacing"] = round(args[0] * 203 / 180)
    elif cmd == b"d":
        flush(feed_empty=False)
        strips.append((Image.new("L", (dots, max(1, args[0] * state["spacing"])), 255), []))
    elif cmd == b"J":
        flush(feed_empty=False)
        strips.append((Image.new("L", (dots, max(1, args[0])), 255), []))


def _gs(cmd, args, state):
    if cmd == b"!":
        state["width"], state["height"] = (args[0] >> 4) + 1, (args[0] & 15) + 1
    elif cmd == b"B":
        state["invert"] = bool(args[0] & 1)


def _qr_command(body, state, flush, strips, dots):
    """GS ( k with cn = 49 (QR): remember settings and data, draw on "print"."""
    if len(body) < 2 or body[0] != 49:
        return
    fn = body[1]
    if fn == 67:
        state["qr"]["size"] = body[2]
    elif fn == 69:
        state["qr"]["ec"] = body[2]
    elif fn == 80:
        state["qr"]["data"] = body[3:]
    elif fn == 81 and state["qr"]["data"]:
        flush(feed_empty=False)
        code = qrcode.QRCode(error_correction=QR_LEVELS.get(state["qr"]["ec"], QR_LEVELS[49]),
                             box_size=state["qr"]["size"], border=0)
        code.add_data(state["qr"]["data"])
        code.make(fit=True)
        img = code.make_image().get_image().convert("L")
        strips.append(_block(img, state["align"], dots,
                             {"kind": "qr", "data": state["qr"]["data"].decode("utf-8", "replace")}))


def _style(state):
    return (state["font"], state["width"], state["height"], state["bold"],
            state["invert"], state["underline"], state["align"])


def _char_width(style):
    return FONT_CELLS[style[0]][0] * style[1]


def _wrap(line, dots):
    """Split a line where the printer would: at the right edge of the paper."""
    rows, row, x = [], [], 0
    for ch, style in line:
        w = _char_width(style)
        if row and x + w > dots:
            rows.append(row)
            row, x = [], 0
        row.append((ch, style))
        x += w
    rows.append(row)
    return rows


def _draw_line(row, dots, spacing, overflow):
    """Draw one printed line; its height is the tallest cell or the line spacing."""
    cell_h = max(FONT_CELLS[s[0]][1] * s[2] for _, s in row)
    height = max(spacing, cell_h + 6)
    strip = Image.new("L", (dots, height), 255)
    width = sum(_char_width(s) for _, s in row)
    align = row[0][1][6]
    x = {0: 0, 1: (dots - width) // 2, 2: dots - width}.get(align, 0)
    items, run = [], None
    for ch, style in row:
        font, w, h, bold, invert, underline, _ = style
        cw, ch_h = FONT_CELLS[font][0] * w, FONT_CELLS[font][1] * h
        y = cell_h - ch_h  # cells share a baseline at the bottom of the line
        ink = _glyph(ch, font, w, h, bold)
        if invert:
            strip.paste(0, (x, y, x + cw, y + ch_h))
            strip.paste(255, (x, y), ink)
        else:
            strip.paste(0, (x, y), ink)
        if underline:
            strip.paste(0, (x, y + ch_h - underline, x + cw, y + ch_h))
        if run and run["style"] == style:
            run["text"] += ch
            run["box"][2] = x + cw
        else:
            run = {"kind": "text", "text": ch, "style": style, "box": [x, y, x + cw, y + ch_h],
                   "width": w, "height": h, "bold": bold, "invert": invert, "overflow": overflow}
            items.append(run)
        x += cw
    return strip, items


def _block(img, align, dots, item):
    """A QR code or image as its own strip, aligned like the printer does."""
    img = img.crop((0, 0, min(img.width, dots), img.height))
    strip = Image.new("L", (dots, img.height), 255)
    x = {0: 0, 1: (dots - img.width) // 2, 2: dots - img.width}.get(align, 0)
    strip.paste(img, (x, 0))
    return strip, [dict(item, box=[x, 0, x + img.width, img.height])]


def _cut(dots):
    strip = Image.new("L", (dots, 24), 255)
    draw = ImageDraw.Draw(strip)
    for x in range(0, dots, 16):
        draw.line((x, 12, x + 8, 12), fill=96, width=2)
    return strip, [{"kind": "cut", "box": [0, 12, dots, 13]}]


def _assemble(strips, dots, margin):
    top = 24
    height = top + sum(s.height for s, _ in strips) + 16
    page = Image.new("L", (dots + 2 * margin, height), 255)
    items, y = [], top
    for strip, strip_items in strips:
        page.paste(strip, (margin, y))
        for item in strip_items:
            x0, y0, x1, y1 = item["box"]
            items.append(dict(item, box=(x0 + margin, y0 + y, x1 + margin, y1 + y)))
        y += strip.height
    # A hairline shows the paper's edges on a white web page.
    ImageDraw.Draw(page).rectangle((0, 0, page.width - 1, page.height - 1), outline=200)
    return page.convert("RGB"), items


def main(argv=None) -> None:
    """Write the demo ticket's preview: python -m printer.preview OUT.png [58|80]."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    out, paper = args[0], int(args[1]) if len(args) > 1 else 80
    with open(out, "wb") as f:
        f.write(preview_png(demo_info(), paper))


if __name__ == "__main__":
    main()
