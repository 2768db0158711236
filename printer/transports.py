"""Sending ESC/POS bytes to a printer, and asking it how it is.

Transports: "network" {host, port} raw TCP, "serial" {device, baudrate}
through pyserial, "usb" {vendor_id, product_id} through python-escpos, and
"file" {path}. "agent" printers are fed by the kiosk's print agent instead.

Status comes from the real-time request DLE EOT n (0x10 0x04 n), which a
printer answers with one byte even while busy. Bits 0 and 7 of each answer
are 0 and bits 1 and 4 are 1; a byte without that pattern is not a status.
  n=1 printer status:  bit 3 = offline.
  n=2 offline cause:   bit 2 = cover open, bit 3 = paper fed by the button,
                       bit 5 = stopped at paper end, bit 6 = error.
  n=4 roll paper:      bits 2-3 = paper near its end, bits 5-6 = paper out.
Some printers never answer; silence is tolerated when printing and shown
as "unknown" (network) or "offline" (serial) by read_status(). An answer
without the fixed bits (wrong baud rate?) shows as "error" there, but does
not stop a print.
"""

import os
import socket
import time

from escpos.constants import DLE, EOT

STATUS_WAIT = 0.5  # how long send() waits for a status answer before printing anyway
CLOSE_WAIT = 0.3  # how long send() waits for the printer to close its side


class PrinterError(Exception):
    """A printer could not take a job; status is "offline", "paper_out" or "error"."""

    def __init__(self, status: str, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def send(transport: str, config: dict, data: bytes, timeout: float = 5.0) -> None:
    """Send raw ESC/POS bytes to a printer or raise PrinterError, within about timeout seconds."""
    if transport == "network":
        _send_network(config, data, timeout)
    elif transport == "serial":
        _send_serial(config, data, timeout)
    elif transport == "usb":
        _send_usb(config, data, timeout)
    elif transport == "file":
        _send_file(config, data)
    elif transport == "agent":
        raise ValueError("agent printers are fed by the kiosk's print agent, not by send()")
    else:
        raise ValueError(f"unknown printer transport {transport!r}")


def read_status(transport: str, config: dict, timeout: float = 2.0) -> str:
    """Return "online", "offline", "paper_out", "paper_near_end", "error" or "unknown"."""
    if transport == "network":
        return _status_network(config, timeout)
    if transport == "serial":
        return _status_serial(config, timeout)
    if transport == "usb":
        return _status_usb(config, timeout)
    if transport == "file":
        return _status_file(config)
    if transport == "agent":
        raise ValueError("agent printers report their status through the print agent")
    raise ValueError(f"unknown printer transport {transport!r}")


def _setting(config: dict, key: str):
    try:
        value = config[key]
    except (KeyError, TypeError):
        raise PrinterError("error", f"printer settings lack {key!r}") from None
    if value in (None, ""):
        raise PrinterError("error", f"printer setting {key!r} is empty")
    return value


def _number(config: dict, key: str, default=None) -> int:
    value = config.get(key, default) if default is not None else _setting(config, key)
    try:
        # Accept 9100, "9100" and USB ids written as "0x0416".
        return int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise PrinterError("error", f"printer setting {key!r} is not a number: {value!r}") from None


def _left(deadline: float, cap: float | None = None) -> float:
    left = max(0.01, deadline - time.monotonic())
    return min(left, cap) if cap else left


# --- decoding DLE EOT answers -------------------------------------------------

def _is_status_byte(value) -> bool:
    return value is not None and value & 0x93 == 0x12


def _decode(ask, deadline: float, cap: float | None = None) -> str | None:
    """Ask DLE EOT 1, 4 and (when offline) 2; None when the printer stays silent.

    ask(n, wait) sends DLE EOT n and returns the answer byte or None.
    "unreadable" means it answered, but not as ESC/POS (wrong baud rate?).
    """
    printer = ask(1, _left(deadline, cap))
    if printer is None:
        return None
    if not _is_status_byte(printer):
        return "unreadable"
    paper = ask(4, _left(deadline, cap))
    if _is_status_byte(paper) and paper & 0x60:
        return "paper_out"
    if printer & 0x08:
        cause = ask(2, _left(deadline, cap))
        if _is_status_byte(cause):
            if cause & 0x20:
                return "paper_out"
            if cause & 0x40:
                return "error"
        return "offline"  # cover open, feed button held, or no cause given
    if _is_status_byte(paper) and paper & 0x0C:
        return "paper_near_end"
    return "online"


def _refuse_unless_ready(ask, where: str, config: dict, deadline: float) -> None:
    """Raise PrinterError before printing when the printer says it cannot print."""
    if not config.get("status_check", True):
        return
    status = _decode(ask, deadline, cap=STATUS_WAIT)
    # Only a clear answer stops the job: a silent printer may still print,
    # and an unreadable answer proves nothing.
    if status == "paper_out":
        raise PrinterError("paper_out", f"{where} is out of paper")
    if status == "offline":
        raise PrinterError("offline", f"{where} is offline (cover open?)")
    if status == "error":
        raise PrinterError("error", f"{where} reports an error (cutter jammed?)")


def _shown(status: str | None, silent: str) -> str:
    """Map a decoded status to what read_status() reports."""
    if status is None:
        return silent
    return "error" if status == "unreadable" else status


# --- network ------------------------------------------------------------------

def _socket_ask(sock: socket.socket):
    def ask(n: int, wait: float):
        _drain(sock)
        sock.settimeout(wait)
        sock.sendall(DLE + EOT + bytes([n]))
        try:
            answer = sock.recv(1)
        except (TimeoutError, socket.timeout):
            return None
        if not answer:
            raise ConnectionResetError("the printer closed the connection")
        return answer[0]
    return ask


def _drain(sock: socket.socket) -> None:
    # Late answers to an earlier question must not be read as this one's.
    sock.settimeout(0)
    try:
        while sock.recv(64):
            pass
    except (BlockingIOError, OSError):
        pass


def _close_gently(sock: socket.socket) -> None:
    # Half-close and let the printer hang up first: closing with unread
    # bytes would reset the connection and may drop the job's tail.
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(CLOSE_WAIT)
        while sock.recv(64):
            pass
    except OSError:
        pass


def _network_error(exc: OSError, where: str, timeout: float) -> PrinterError:
    if isinstance(exc, ConnectionRefusedError):
        return PrinterError("offline", f"{where} refused the connection (printer off or wrong port)")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return PrinterError("offline", f"{where} did not answer within {timeout:g} s")
    return PrinterError("offline", f"{where}: {exc.strerror or exc}")


def _host(config: dict) -> str:
    host = str(_setting(config, "host"))
    try:
        # Checked here: the resolver would fail the same way, but inside
        # gevent's threadpool, which prints a traceback for it.
        host.encode("idna")
    except UnicodeError:
        raise PrinterError("error", f"{host[:60]!r} is not a valid host name") from None
    return host


def _send_network(config: dict, data: bytes, timeout: float) -> None:
    host, port = _host(config), _number(config, "port", 9100)
    where = f"printer {host}:{port}"
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            _refuse_unless_ready(_socket_ask(sock), where, config, deadline)
            # Since Python 3.5 the timeout bounds the whole sendall.
            sock.settimeout(_left(deadline))
            sock.sendall(data)
            _close_gently(sock)
    except UnicodeError as exc:  # a host name that IDNA cannot encode
        raise PrinterError("error", f"{where}: not a valid host name") from exc
    except OSError as exc:
        raise _network_error(exc, where, timeout) from exc


def _status_network(config: dict, timeout: float) -> str:
    try:
        host, port = _host(config), _number(config, "port", 9100)
    except PrinterError:
        return "error"
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            status = _decode(_socket_ask(sock), deadline)
            _close_gently(sock)
    except UnicodeError:  # a host name that IDNA cannot encode
        return "error"
    except OSError:
        return "offline"
    # Connected but silent: a print server whose printer does not answer.
    return _shown(status, silent="unknown")


# --- serial -------------------------------------------------------------------

def _open_serial(config: dict, timeout: float):
    import serial

    device = _setting(config, "device")
    try:
        return serial.Serial(
            port=device,
            baudrate=_number(config, "baudrate", 9600),
            timeout=min(timeout, STATUS_WAIT),
            write_timeout=timeout,
            rtscts=bool(config.get("rtscts", False)),
            dsrdtr=bool(config.get("dsrdtr", False)),
        )
    except (serial.SerialException, OSError) as exc:
        raise PrinterError("offline", f"cannot open {device}: {exc}") from exc
    except ValueError as exc:
        raise PrinterError("error", f"bad serial settings for {device}: {exc}") from exc


def _serial_ask(port):
    def ask(n: int, wait: float):
        port.reset_input_buffer()
        port.timeout = wait
        port.write(DLE + EOT + bytes([n]))
        answer = port.read(1)
        return answer[0] if answer else None
    return ask


def _send_serial(config: dict, data: bytes, timeout: float) -> None:
    import serial

    deadline = time.monotonic() + timeout
    port = _open_serial(config, timeout)
    where = f"printer on {port.port}"
    try:
        _refuse_unless_ready(_serial_ask(port), where, config, deadline)
        port.write_timeout = _left(deadline)
        port.write(data)
    except serial.SerialTimeoutException as exc:
        # With flow control on, a printer that is off never lets data through.
        raise PrinterError("offline", f"{where} did not take the data within {timeout:g} s") from exc
    except (serial.SerialException, OSError) as exc:
        raise PrinterError("offline", f"{where}: {exc}") from exc
    finally:
        port.close()


def _status_serial(config: dict, timeout: float) -> str:
    import serial

    deadline = time.monotonic() + timeout
    try:
        port = _open_serial(config, timeout)
    except PrinterError as exc:
        return exc.status
    try:
        # A serial line cannot tell a silent printer from a missing one.
        return _shown(_decode(_serial_ask(port), deadline), silent="offline")
    except (serial.SerialException, OSError):
        return "offline"
    finally:
        port.close()


# --- usb ----------------------------------------------------------------------

def _open_usb(config: dict, timeout: float):
    # Imported here: without pyusb and libusb, USB printing is unavailable
    # but the rest of the server must still start.
    try:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import usb
    except Exception as exc:  # noqa: BLE001 - any import failure means "no USB here"
        raise PrinterError("error", f"USB printing is unavailable: {exc}") from exc
    if not usb.is_usable():
        raise PrinterError("error", "USB printing needs pyusb and libusb on this computer")
    vendor, product = _number(config, "vendor_id"), _number(config, "product_id")
    printer = usb.Usb(
        vendor, product, timeout=int(timeout * 1000),
        in_ep=_number(config, "in_ep", 0x82), out_ep=_number(config, "out_ep", 0x01),
        profile="default",
    )
    try:
        printer.open()
    except DeviceNotFoundError as exc:
        raise PrinterError("offline", f"USB printer {vendor:04x}:{product:04x} not found") from exc
    return printer


def _send_usb(config: dict, data: bytes, timeout: float) -> None:
    printer = _open_usb(config, timeout)
    try:
        printer._raw(data)  # python-escpos' way to write raw bytes
    except Exception as exc:  # noqa: BLE001 - pyusb raises many kinds; all mean the job failed
        status = "offline" if "timeout" in str(exc).lower() else "error"
        raise PrinterError(status, f"USB printer: {exc}") from exc
    finally:
        printer.close()


def _status_usb(config: dict, timeout: float) -> str:
    try:
        printer = _open_usb(config, timeout)
    except PrinterError as exc:
        return "offline" if exc.status == "offline" else "unknown"
    deadline = time.monotonic() + timeout

    def ask(n: int, wait: float):
        printer._raw(DLE + EOT + bytes([n]))
        answer = printer._read()
        return answer[0] if answer else None

    try:
        return _shown(_decode(ask, deadline), silent="unknown")
    except Exception:  # noqa: BLE001 - many USB printers have no readable endpoint
        return "unknown"
    finally:
        printer.close()


# --- file ---------------------------------------------------------------------

def _send_file(config: dict, data: bytes) -> None:
    path = _setting(config, "path")
    try:
        with open(path, "ab") as sink:
            sink.write(data)
    except FileNotFoundError as exc:
        # For a device file such as /dev/usb/lp0 this means "unplugged".
        raise PrinterError("offline", f"{path}: no such file or folder") from exc
    except OSError as exc:
        raise PrinterError("error", f"{path}: {exc.strerror or exc}") from exc


def _status_file(config: dict) -> str:
    try:
        path = os.path.abspath(_setting(config, "path"))
    except PrinterError:
        return "error"
    if os.path.exists(path):
        return "online" if os.access(path, os.W_OK) else "error"
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        return "offline"
    return "online" if os.access(folder, os.W_OK) else "error"
