"""The booking card as a PNG (Pillow): what the citizen keeps in the phone's gallery
and shows at the kiosk, readable without the internet."""

import functools
import io
import os

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
WIDTH = 720
INK, MUTED, BRAND, PAPER = "#0d1b2a", "#4a5568", "#0b4f9c", "#ffffff"


@functools.cache
def _font(px, bold=False):
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return ImageFont.truetype(path, px)
    return ImageFont.load_default(size=px)


def _wrap(draw, text, font, width):
    lines = []
    for paragraph in str(text).splitlines() or [""]:
        words, line = paragraph.split(), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=font) <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def render(view, qr_image, labels):
    """PNG bytes of the card for `view` (booking.pages.card_view) and its QR image."""
    pad, inner = 40, WIDTH - 80
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    rows = []  # (text, font, colour, gap after)

    def add(text, px, bold=False, colour=INK, gap=8):
        font = _font(px, bold)
        for line in _wrap(scratch, text, font, inner):
            rows.append((line, font, colour, 4))
        rows[-1] = rows[-1][:3] + (gap,)

    add(view["service_name"], 34, True, gap=4)
    add(view["agency_name"], 26, colour=MUTED, gap=24)
    add(labels["when"], 22, colour=MUTED, gap=2)
    add(view["day"], 30, True, gap=2)
    add(view["time"], 30, True, gap=12)
    add(view["window"], 24, gap=20)
    if view["requirements"]:
        add(labels["bring"], 22, colour=MUTED, gap=2)
        add(view["requirements"], 24, gap=20)
    add(view["mpp_name"] + (", " + view["mpp_address"] if view["mpp_address"] else ""), 22,
        colour=MUTED, gap=4)
    add(view["booking"]["booking_url"], 20, colour=MUTED, gap=0)

    qr_px = 420
    header = 110
    code_h = 150
    body_h = sum(f.size + 4 + gap for _, f, _, gap in rows)
    height = header + code_h + qr_px + 30 + body_h + pad
    img = Image.new("RGB", (WIDTH, height), PAPER)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, WIDTH, header), fill=BRAND)
    d.text((pad, 28), view["mpp_name"], font=_font(30, True), fill=PAPER)
    d.text((pad, 70), f"{labels['state']}", font=_font(22), fill=PAPER)
    y = header + 20
    d.text((WIDTH // 2, y), labels["code"], font=_font(24), fill=MUTED, anchor="mt")
    d.text((WIDTH // 2, y + 34), view["code_spaced"], font=_font(84, True), fill=INK, anchor="mt")
    y = header + code_h
    qr = qr_image.convert("RGB").resize((qr_px, qr_px), Image.NEAREST)
    img.paste(qr, ((WIDTH - qr_px) // 2, y))
    y += qr_px + 30
    for text, font, colour, gap in rows:
        d.text((pad, y), text, font=font, fill=colour)
        y += font.size + 4 + gap
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()
