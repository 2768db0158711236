import sys
import time
from pathlib import Path

import pytest

# The repository root is not on sys.path until the project's pytest set-up
# (tests/conftest.py, owned elsewhere) puts it there; harmless once it does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakeprinter import FakeNetworkPrinter, FakeSerialPrinter, closed_port  # noqa: E402
from printer import layout, preview  # noqa: E402
from printer.transports import PrinterError, read_status, send  # noqa: E402

PAPERS = [58, 80]
STATUSES = ["online", "paper_near_end", "paper_out", "offline", "error"]
FAKES = {"network": FakeNetworkPrinter, "serial": FakeSerialPrinter}


def ticket(paper_mm=80):
    info = preview.demo_info()
    return info, layout.ticket_bytes(info, paper_mm)


def assert_whole_ticket(received: bytes, info: dict):
    url = info["tracking_url"].encode()
    assert info["number"].encode() in received
    qr = received.find(b"\x1d(k")
    assert qr >= 0 and url in received[qr:]
    assert b"\x1b@" in received and b"\x1dV" in received


@pytest.mark.parametrize("paper_mm", PAPERS)
@pytest.mark.parametrize("transport", ["network", "serial"])
def test_ticket_reaches_the_printer(transport, paper_mm):
    info, data = ticket(paper_mm)
    with FAKES[transport]() as fake:
        send(transport, fake.config, data, timeout=3.0)
        assert fake.wait_for(b"\x1dV", timeout=3.0)
        assert_whole_ticket(fake.received, info)
        assert data in fake.received  # byte for byte, after the status check


@pytest.mark.parametrize("transport", ["network", "serial"])
@pytest.mark.parametrize("status", ["paper_out", "offline", "error"])
def test_send_refuses_a_printer_that_says_it_cannot_print(transport, status):
    _, data = ticket()
    with FAKES[transport](status=status) as fake:
        with pytest.raises(PrinterError) as caught:
            send(transport, fake.config, data, timeout=3.0)
        assert caught.value.status == status
        time.sleep(0.1)
        assert b"A001" not in fake.received  # the job waits for paper, it is not lost


@pytest.mark.parametrize("transport", ["network", "serial"])
def test_send_to_a_silent_printer_still_prints(transport):
    info, data = ticket()
    with FAKES[transport](answer_status=False) as fake:
        started = time.monotonic()
        send(transport, fake.config, data, timeout=3.0)
        assert time.monotonic() - started < 2.0
        assert fake.wait_for(b"\x1dV")
        assert_whole_ticket(fake.received, info)


def test_status_check_can_be_turned_off():
    _, data = ticket()
    with FakeNetworkPrinter(status="paper_out") as fake:
        send("network", dict(fake.config, status_check=False), data, timeout=3.0)
        assert fake.wait_for(b"\x1dV")
        assert b"\x10\x04" not in fake.received


def test_printer_that_is_off_is_offline_quickly():
    started = time.monotonic()
    with pytest.raises(PrinterError) as caught:
        send("network", {"host": "127.0.0.1", "port": closed_port()}, b"\x1b@x", timeout=5.0)
    assert caught.value.status == "offline"
    assert "refused" in caught.value.message
    assert time.monotonic() - started < 1.0


def test_two_tickets_are_two_connections():
    _, data = ticket()
    with FakeNetworkPrinter() as fake:
        send("network", fake.config, data)
        send("network", fake.config, data)
        deadline = time.monotonic() + 3
        while len(fake.jobs()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(fake.jobs()) == 2


@pytest.mark.parametrize("transport", ["network", "serial"])
@pytest.mark.parametrize("status", STATUSES)
def test_read_status(transport, status):
    with FAKES[transport](status=status) as fake:
        assert read_status(transport, fake.config, timeout=2.0) == status


def test_read_status_follows_a_live_change():
    with FakeNetworkPrinter() as fake:
        assert read_status("network", fake.config) == "online"
        fake.status = "paper_out"
        assert read_status("network", fake.config) == "paper_out"


@pytest.mark.parametrize("transport, expected", [("network", "unknown"), ("serial", "offline")])
def test_read_status_of_a_silent_printer_is_bounded(transport, expected):
    with FAKES[transport](answer_status=False) as fake:
        started = time.monotonic()
        assert read_status(transport, fake.config, timeout=0.5) == expected
        assert time.monotonic() - started < 1.5


def test_read_status_of_garbage_is_error():
    with FakeNetworkPrinter(status={1: 0xFF, 2: 0xFF, 3: 0xFF, 4: 0xFF}) as fake:
        assert read_status("network", fake.config) == "error"


def test_read_status_of_a_printer_that_is_off():
    started = time.monotonic()
    assert read_status("network", {"host": "127.0.0.1", "port": closed_port()}) == "offline"
    assert read_status("serial", {"device": "/dev/does-not-exist", "baudrate": 9600}) == "offline"
    assert time.monotonic() - started < 1.0


def test_serial_device_missing_is_offline():
    with pytest.raises(PrinterError) as caught:
        send("serial", {"device": "/dev/does-not-exist", "baudrate": 9600}, b"x", timeout=1.0)
    assert caught.value.status == "offline"


def test_file_transport_appends(tmp_path):
    path = tmp_path / "printer.bin"
    first, second = ticket(58)[1], ticket(80)[1]
    send("file", {"path": str(path)}, first)
    send("file", {"path": str(path)}, second)
    assert path.read_bytes() == first + second
    assert read_status("file", {"path": str(path)}) == "online"


def test_file_transport_without_folder(tmp_path):
    config = {"path": str(tmp_path / "gone" / "printer.bin")}
    with pytest.raises(PrinterError) as caught:
        send("file", config, b"x")
    assert caught.value.status == "offline"
    assert read_status("file", config) == "offline"
    assert read_status("file", {"path": str(tmp_path / "new.bin")}) == "online"


def test_usb_without_a_printer_is_a_printer_error():
    # No USB printer (and usually no pyusb) here: a clear error, never a crash.
    config = {"vendor_id": "0x0416", "product_id": "0x5011"}
    with pytest.raises(PrinterError) as caught:
        send("usb", config, b"x", timeout=1.0)
    assert caught.value.status in ("offline", "error")
    assert read_status("usb", config, timeout=1.0) in ("unknown", "offline")


@pytest.mark.parametrize("transport, config", [
    ("network", {}),
    ("network", {"host": "127.0.0.1", "port": "nine"}),
    ("serial", {"baudrate": 9600}),
    ("file", {}),
    ("usb", {"vendor_id": 1046}),
])
def test_bad_settings_are_printer_errors(transport, config):
    with pytest.raises(PrinterError) as caught:
        send(transport, config, b"x", timeout=1.0)
    assert caught.value.status == "error"


@pytest.mark.parametrize("transport", ["agent", "bluetooth"])
def test_agent_and_unknown_transports_are_value_errors(transport):
    with pytest.raises(ValueError):
        send(transport, {}, b"x")
    with pytest.raises(ValueError):
        read_status(transport, {})
