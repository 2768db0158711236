import datetime
import io
import sys
import zoneinfo
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

# The repository root is not on sys.path until the project's pytest set-up
# (tests/conftest.py, owned elsewhere) puts it there; harmless once it does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from printer import layout, preview  # noqa: E402

PAPERS = [58, 80]


def demo(**changes):
    info = preview.demo_info()
    info.update(changes)
    return info


def texts(data, paper_mm):
    """The text items the preview interpreter finds in the bytes."""
    _, items = preview.render(data, paper_mm)
    return [item for item in items if item["kind"] == "text"]


def all_text(data, paper_mm):
    return "\n".join(item["text"] for item in texts(data, paper_mm))


def native_qr(url: str) -> bytes:
    """GS ( k, pL pH, cn=49 '1', fn=80 'P', m=48 '0', then the data."""
    return b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url.encode()


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_ticket_holds_number_qr_and_cut(paper_mm):
    info = demo()
    data = layout.ticket_bytes(info, paper_mm)
    assert data.startswith(b"\x1b@")  # ESC @ resets whatever the last job left
    assert b"A001" in data
    assert native_qr(info["tracking_url"]) in data
    assert data.rstrip(b"\x00\x01").endswith(b"\x1dV")


@pytest.mark.parametrize("paper_mm", PAPERS)
@pytest.mark.parametrize("number", ["A001", "B999", "A1000", "KTP1000"])
def test_number_is_largest_and_on_one_line(paper_mm, number):
    items = texts(layout.ticket_bytes(demo(number=number), paper_mm), paper_mm)
    found = [item for item in items if item["text"] == number]
    assert len(found) == 1, [item["text"] for item in items]
    big = found[0]
    assert not big["overflow"]
    assert big["width"] == max(item["width"] for item in items)
    assert big["height"] == max(item["height"] for item in items)
    assert big["width"] >= (4 if len(number) <= 5 else 3)


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_no_line_overflows_even_with_long_names(paper_mm):
    info = demo(
        mpp_name="Mal Pelayanan Publik Kabupaten Kepulauan Seribu Provinsi DKI Jakarta",
        agency_name="Badan Penyelenggara Jaminan Sosial Ketenagakerjaan Kantor Cabang",
        service_name="Pembuatan Surat Keterangan Catatan Kepolisian (SKCK) baru dan perpanjangan "
        + "untuk_keperluan_melamar_pekerjaan_di_luar_negeri",
        estimated_wait_s=4500,
        footer="Simpan karcis ini sampai Anda dipanggil. " * 3,
    )
    data = layout.ticket_bytes(info, paper_mm)
    items = texts(data, paper_mm)
    assert not [item["text"] for item in items if item["overflow"]]
    text = all_text(data, paper_mm)
    for word in ["Kepulauan", "Ketenagakerjaan", "(SKCK)", "perpanjangan", "Simpan"]:
        assert word in text


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_odd_characters_degrade_cleanly(paper_mm):
    info = demo(
        mpp_name="MPP Caf\u00e9 \u2018Nusantara\u2019",
        service_name="Layanan \u201cPrima\u201d \u2014 cepat\u2026 \u20ac \u4e2d \U0001f600",
        footer="Terima kasih \u2022 s\u0327ukses",
    )
    data = layout.ticket_bytes(info, paper_mm)
    text = " ".join(all_text(data, paper_mm).split())  # undo the wrapping
    assert b"\x82" in data  # "é" in CP437
    assert "\u00b1 15 menit" in text  # "±" survives (0xF1 in CP437)
    assert "Caf\u00e9 'Nusantara'" in text
    assert '"Prima" - cepat... EUR ? ?' in text
    assert "* sukses" in text


def test_control_characters_never_reach_the_printer():
    data = layout.ticket_bytes(demo(agency_name="Dukcapil\x1bi\x1d V\x00"), 80)
    assert b"\x1bi" not in data  # ESC i would be a cut in the middle of the ticket
    assert b"Dukcapil" in data


@pytest.mark.parametrize("tz, zone", [
    ("Asia/Jakarta", "WIB"),
    ("Asia/Makassar", "WITA"),
    ("Asia/Jayapura", "WIT"),
])
def test_date_in_indonesian_with_zone(tz, zone):
    when = datetime.datetime(2026, 11, 23, 9, 15, tzinfo=zoneinfo.ZoneInfo(tz))
    assert layout.indonesian_datetime(when) == f"Senin, 23 November 2026 09:15 {zone}"
    text = all_text(layout.ticket_bytes(demo(issued_at=when), 58), 58)
    assert "Senin, 23 November 2026" in text
    assert f"09:15 {zone}" in text


def test_other_offsets_are_spelled_out():
    when = datetime.datetime(2026, 8, 17, 10, 0, tzinfo=datetime.timezone.utc)
    assert layout.indonesian_datetime(when) == "Senin, 17 Agustus 2026 10:00 UTC+0"


@pytest.mark.parametrize("seconds, expected", [
    (None, None),
    (0, "< 1 menit"),
    (20, "< 1 menit"),
    (900, "\u00b1 15 menit"),
    (3600, "\u00b1 1 jam"),
    (4500, "\u00b1 1 jam 15 menit"),
])
def test_wait_text(seconds, expected):
    assert layout.wait_text(seconds) == expected


def test_ticket_without_estimate_has_no_wait_line():
    text = all_text(layout.ticket_bytes(demo(estimated_wait_s=None), 80), 80)
    assert "Perkiraan" not in text
    assert "Antrean di depan Anda: 3" in text


@pytest.mark.parametrize("kind, words", [
    ("lansia", "LANSIA"),
    ("disabilitas", "PENYANDANG DISABILITAS"),
    ("ibu_hamil", "IBU HAMIL"),
    ("balita", "IBU MEMBAWA BALITA"),
    ("veteran_perang", "VETERAN PERANG"),
])
@pytest.mark.parametrize("paper_mm", PAPERS)
def test_priority_mark(kind, words, paper_mm):
    items = texts(layout.ticket_bytes(demo(priority=kind), paper_mm), paper_mm)
    mark = [item for item in items if item["text"].strip() == "PRIORITAS"]
    assert mark and mark[0]["invert"]
    assert words in "\n".join(item["text"] for item in items)


def test_no_priority_mark_for_ordinary_tickets():
    assert b"PRIORITAS" not in layout.ticket_bytes(demo(priority=None), 80)


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_logo_is_printed_as_raster_image(tmp_path, paper_mm):
    logo = tmp_path / "logo.png"
    img = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(img).rectangle((20, 20, 380, 180), fill="navy")
    img.save(logo)
    data = layout.ticket_bytes(demo(logo_path=str(logo)), paper_mm)
    assert b"\x1dv0" in data
    _, items = preview.render(data, paper_mm)
    image = [item for item in items if item["kind"] == "image"]
    assert image and image[0]["box"][2] - image[0]["box"][0] <= layout.paper_dots(paper_mm)


def test_broken_logo_still_prints_the_ticket(tmp_path):
    bad = tmp_path / "logo.png"
    bad.write_bytes(b"not an image")
    for path in [str(bad), str(tmp_path / "missing.png")]:
        data = layout.ticket_bytes(demo(logo_path=path), 80)
        assert b"A001" in data and b"\x1dv0" not in data


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_test_page(paper_mm):
    data = layout.test_page_bytes("Kiosk Lantai 1", paper_mm)
    assert b"Kiosk Lantai 1" in data and b"\x1dV" in data
    assert not [item for item in texts(data, paper_mm) if item["overflow"]]


def test_unknown_paper_width_is_refused():
    with pytest.raises(ValueError):
        layout.ticket_bytes(demo(), 76)


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_preview_is_a_png_with_the_number_drawn(paper_mm):
    png = preview.preview_png(demo(), paper_mm)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width == paper_mm * preview.DOTS_PER_MM
    assert 600 < image.height < 3000
    _, items = preview.render(layout.ticket_bytes(demo(), paper_mm), paper_mm)
    number = next(item for item in items if item.get("text") == "A001")
    region = image.crop(number["box"])
    dark = sum(1 for value in region.getdata() if value < 128)
    assert dark > 0.15 * region.width * region.height
    qr = next(item for item in items if item["kind"] == "qr")
    assert qr["data"] == demo()["tracking_url"]
