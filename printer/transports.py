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

import errno
import os
import re
import socket
import stat
import tempfile
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


def send(transport: str, config: dict, data: bytes, timeout: float = 5.0, *,
         database: str | None = None, extra_dirs=()) -> None:
    """Send raw ESC/POS bytes to a printer or raise PrinterError, within about timeout seconds.

    `database` (the server's) makes a `file` printer check its path again first.
    """
    if transport == "network":
        _send_network(config, data, timeout)
    elif transport == "serial":
        _send_serial(config, data, timeout)
    elif transport == "usb":
        _send_usb(config, data, timeout)
    elif transport == "file":
        _send_file(config, data, database, extra_dirs)
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

# Character devices a printer may be: line printers, serial and Bluetooth ports, the null sink.
PRINTER_DEVICES = re.compile(r"^/dev/(usb/lp\d+|lp\d+|tty[A-Za-z]*\d+|rfcomm\d+|null)$")
DATABASE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def file_dirs(setting: str | None) -> list[str]:
    """MPP_PRINT_FILE_DIRS (`:`-separated) as a list of folders."""
    return [d for d in (setting or "").split(":") if d]


def protected_files(database: str | None) -> list[str]:
    """The files a `file` printer must never touch: the database, its companions, the secret key."""
    if not database:
        return []
    real = os.path.realpath(database)
    return [real + suffix for suffix in DATABASE_COMPANIONS] + [
        os.path.join(os.path.dirname(real), "secret_key")]


def _below(path: str, root: str) -> bool:
    root = os.path.realpath(root).rstrip("/") or "/"
    return path == root or path.startswith(root.rstrip("/") + "/")


def file_path_problem(path, database: str | None = None, extra_dirs=()) -> str | None:
    """Why a `file` printer may not write to `path` (None when it may): the one rule.

    Allowed: below the temporary folder, /var/tmp or MPP_PRINT_FILE_DIRS, or a
    printer's device in /dev. Never the database's (instance) folder or anything
    in it (the database, its -wal/-shm/-journal, the secret key, media), never a
    block device (a disk). Checked on the resolved path when the printer is
    made and again before every job; the open itself refuses a symlink.
    """
    if not isinstance(path, str) or "\x00" in path or not os.path.isabs(path):
        return "An absolute path, e.g. /dev/usb/lp0 or /tmp/tickets.bin."
    real = os.path.realpath(path)
    if database:
        if real in protected_files(database):
            return "Must not be the database, its journal or the secret key."
        if _below(real, os.path.dirname(os.path.realpath(database))):
            return "Must not be in the database's folder."
    roots = [tempfile.gettempdir(), "/var/tmp", *[d for d in extra_dirs if d]]
    if not (any(_below(real, r) for r in roots) or PRINTER_DEVICES.match(real)):
        return (f"Must be a printer device (/dev/usb/lp0, /dev/ttyUSB0) or below one of: "
                f"{', '.join(roots)} (or MPP_PRINT_FILE_DIRS).")
    try:
        info = os.stat(real)
    except OSError:
        return None  # not there yet: created on the first job (or unplugged)
    if stat.S_ISBLK(info.st_mode):
        return "A block device (a disk) cannot be a printer."
    if stat.S_ISDIR(info.st_mode):
        return "A folder cannot be a printer; name a file in it."
    return None


def _send_file(config: dict, data: bytes, database: str | None = None, extra_dirs=()) -> None:
    path = _setting(config, "path")
    problem = file_path_problem(path, database, extra_dirs) if database else None
    if problem:
        raise PrinterError("error", f"{path}: {problem}")
    # O_NOFOLLOW: a symlink swapped in after the check is refused, not followed;
    # a new file is owner-only from the start.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError as exc:
        # For a device file such as /dev/usb/lp0 this means "unplugged".
        raise PrinterError("offline", f"{path}: no such file or folder") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PrinterError("error", f"{path}: is a symbolic link; name the file itself") from exc
        raise PrinterError("error", f"{path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        protected = set()
        for name in protected_files(database):
            try:
                other = os.stat(name)
                protected.add((other.st_dev, other.st_ino))
            except OSError:
                pass
        if stat.S_ISBLK(info.st_mode) or (info.st_dev, info.st_ino) in protected:
            raise PrinterError("error", f"{path}: not a printer (a disk or the database)")
        with os.fdopen(fd, "ab", closefd=False) as sink:
            sink.write(data)
    except OSError as exc:
        raise PrinterError("error", f"{path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


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
