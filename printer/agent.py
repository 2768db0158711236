"""The kiosk print agent: prints the server's jobs on a printer that hangs on
the kiosk computer (USB, serial, or a device file).

    python -m printer.agent --server http://10.0.0.5:8000 --token KIOSK_TOKEN \\
        --serial /dev/ttyUSB0 --baudrate 9600      # or --usb 0x0416:0x5011, --file PATH

It connects over Socket.IO as the kiosk device, says `agent_hello`, and
receives `print_job` {id, data (base64 ESC/POS)}; it prints each job, then
answers `print_ack` {id}. It reconnects by itself; the server sends every
unacknowledged job again after a reconnect, and the agent remembers the jobs
it printed (a small state file), so none prints twice.
"""

import argparse
import base64
import json
import logging
import os
import queue
import threading
import time

import socketio

from printer.transports import PrinterError, read_status, send

log = logging.getLogger("giliran.agent")
KEEP = 2000  # printed job keys remembered
STATUS_EVERY_S = 30.0


class Agent:
    """One kiosk's print agent; run() blocks until stop()."""

    def __init__(self, server, token, transport, config, state_path):
        self.server, self.token = server.rstrip("/"), token
        self.transport, self.config = transport, config
        self.state_path = state_path
        self.printed = self._load()
        self.jobs = queue.Queue()
        self.busy = set()  # keys queued or being printed
        self.lock = threading.Lock()
        self.device_lock = threading.Lock()  # one conversation with the printer at a time
        self.stopped = threading.Event()
        self.ready = threading.Event()  # hello answered: jobs will come
        self.after_print = None  # test hook: called between printing and acknowledging
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.5,
                                      reconnection_delay_max=5, reconnection_attempts=0)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self._on_disconnect)
        self.client.on("print_job", self._on_job)

    # -- remembered jobs ---------------------------------------------------------

    def _load(self):
        try:
            with open(self.state_path) as f:
                return list(json.load(f).get("printed", []))
        except (OSError, ValueError, AttributeError):
            return []

    def _remember(self, key):
        with self.lock:
            self.printed.append(key)
            del self.printed[:-KEEP]
            tmp = f"{self.state_path}.tmp"
            with open(tmp, "w") as f:
                json.dump({"printed": self.printed}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_path)  # atomic: a crash leaves the old or the new list

    @staticmethod
    def key(job):
        # The id alone could repeat if the server's database were ever replaced.
        return f"{job['id']}@{job.get('created_ts')}"

    # -- the connection ----------------------------------------------------------

    def _on_connect(self):
        log.info("connected to %s", self.server)
        self.client.emit("agent_hello", {"token": self.token}, callback=self._on_hello)

    def _on_hello(self, answer=None):
        if isinstance(answer, dict) and answer.get("ok"):
            log.info("printing for printer %s (%s)", answer.get("printer_id"), answer.get("name"))
            self.ready.set()
            threading.Thread(target=self._report_status, daemon=True).start()
        else:
            log.error("the server refused this agent: %s", answer)

    def _on_disconnect(self, *args):
        self.ready.clear()
        log.warning("disconnected; reconnecting")

    def _on_job(self, job):
        if not isinstance(job, dict) or not isinstance(job.get("id"), int):
            return
        key = self.key(job)
        with self.lock:
            if key in self.busy:
                return  # sent again while still waiting here: print it once
            self.busy.add(key)
        self.jobs.put(job)

    def _emit(self, event, data):
        try:
            self.client.emit(event, data)
        except Exception as exc:  # noqa: BLE001 - disconnected: the server will ask again
            log.warning("could not send %s: %s", event, exc)

    # -- printing ----------------------------------------------------------------

    def _work(self):
        while not self.stopped.is_set():
            try:
                job = self.jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.handle(job)
            except Exception:
                log.exception("job %s", job.get("id"))
            finally:
                with self.lock:
                    self.busy.discard(self.key(job))

    def handle(self, job):
        """Print one job unless it was printed before; then acknowledge it."""
        key = self.key(job)
        if key not in self.printed:
            try:
                with self.device_lock:
                    send(self.transport, self.config, base64.b64decode(job["data"]), timeout=10.0)
            except (PrinterError, ValueError) as exc:
                status = getattr(exc, "status", "error")
                log.warning("job %s not printed: %s", job["id"], exc)
                self._emit("print_ack", {"id": job["id"], "ok": False, "status": status,
                                         "error": str(exc)})
                return
            self._remember(key)
            log.info("printed job %s", job["id"])
        if self.after_print:
            self.after_print(job)
        self._emit("print_ack", {"id": job["id"], "ok": True})

    def _report_status(self):
        try:
            with self.device_lock:
                status = read_status(self.transport, self.config, timeout=2.0)
        except (PrinterError, ValueError, OSError):
            status = "unknown"
        if status != "unknown":
            self._emit("agent_status", {"status": status})

    # -- running -----------------------------------------------------------------

    def run(self):
        """Connect (retrying until the server answers), print jobs, until stop()."""
        worker = threading.Thread(target=self._work, daemon=True)
        worker.start()
        pause = 0.5
        while not self.stopped.is_set() and not self.client.connected:
            try:
                self.client.connect(self.server, auth={"token": self.token},
                                    transports=["websocket"], wait_timeout=10)
            except socketio.exceptions.ConnectionError as exc:
                log.warning("cannot reach %s: %s", self.server, exc)
                self.stopped.wait(pause)
                pause = min(pause * 2, 10.0)
        last_status = time.monotonic()
        while not self.stopped.wait(1.0):
            if self.ready.is_set() and time.monotonic() - last_status > STATUS_EVERY_S:
                last_status = time.monotonic()
                self._report_status()
        self.client.disconnect()
        worker.join(timeout=12)

    def stop(self):
        """Stop after the job being printed."""
        self.stopped.set()


def printer_settings(args):
    """(transport, config) from the command line."""
    if args.serial:
        return "serial", {"device": args.serial, "baudrate": args.baudrate}
    if args.usb:
        vendor, _, product = args.usb.partition(":")
        return "usb", {"vendor_id": int(vendor, 16), "product_id": int(product, 16)}
    if args.network:
        host, _, port = args.network.partition(":")
        return "network", {"host": host, "port": int(port or 9100)}
    return "file", {"path": args.file}


def main(argv=None):
    """The command line: python -m printer.agent --server URL --token TOKEN --serial DEV ..."""
    parser = argparse.ArgumentParser(prog="python -m printer.agent", description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="the Giliran server, e.g. http://10.0.0.5:8000")
    parser.add_argument("--token", default=os.environ.get("GILIRAN_KIOSK_TOKEN"),
                        help="the kiosk's device token (or GILIRAN_KIOSK_TOKEN)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--serial", metavar="DEVICE", help="serial port, e.g. /dev/ttyUSB0 or COM3")
    where.add_argument("--usb", metavar="VID:PID", help="USB ids in hex, e.g. 0416:5011")
    where.add_argument("--file", metavar="PATH", help="a device file such as /dev/usb/lp0")
    where.add_argument("--network", metavar="HOST[:PORT]", help="a network printer next to the kiosk")
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--state", default=os.path.expanduser("~/.giliran-print-agent.json"),
                        help="where the agent remembers the jobs it printed")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    transport, config = printer_settings(args)
    agent = Agent(args.server, args.token, transport, config, args.state)
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stop()


if __name__ == "__main__":
    main()
