"""Helpers for the display tests: a quick voice pack of short beeps, and the page's observable state."""

import io
import math
import struct
import wave
import zipfile

from display.voice import CLIP_TEXTS


def beep_wav(ms=40, hz=660, rate=8000, silence_ms=0):
    """A short sine tone as WAV bytes, with `silence_ms` of silence before and after it."""
    frames = int(rate * ms / 1000)
    quiet = b"\x00\x00" * int(rate * silence_ms / 1000)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(quiet + b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
                                       for i in range(frames)) + quiet)
    return buf.getvalue()


def quick_pack_zip(ms=40, silence_ms=0):
    """A complete voice pack whose every clip is a short beep, so a call lasts well under a second
    (with silence_ms, each beep sits between silences, as a carelessly recorded clip would)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in CLIP_TEXTS:
            z.writestr(f"{name}.wav", beep_wav(ms, silence_ms=silence_ms))
    return buf.getvalue()


def display_state(page):
    """What the display page exposes about its announcements and connection."""
    return page.evaluate("""() => ({
        announced: window.giliranDisplay.announced.slice(),
        log: window.giliranDisplay.log.slice(),
        calls: window.giliranDisplay.calls.map(c => Object.assign({}, c)),
        queue: window.giliranDisplay.queueLength(),
        sound: window.giliranDisplay.state.sound,
        online: window.giliranDisplay.online(),
        current: window.giliranDisplay.current()
    })""")


def poster_png(text="Layanan gratis, tanpa calo", size=(1280, 720)):
    """A simple poster image, as an MPP might upload for the display's media area."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", size, (16, 94, 60))
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 64)
    except OSError:
        font = ImageFont.load_default()
    draw.rectangle([40, 40, size[0] - 40, size[1] - 40], outline=(255, 213, 74), width=8)
    draw.text((size[0] // 2, size[1] // 2), text, fill=(255, 255, 255), font=font, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def logo_png(size=200):
    """A round logo."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.ellipse([10, 10, size - 10, size - 10], fill=(11, 79, 156))
    draw.ellipse([60, 60, size - 60, size - 60], fill=(255, 213, 74))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
