"""Bridge a serial keypad or call button to one counter.

    python -m counter.keypad --port /dev/ttyUSB0 --counter 3 --token TOKEN \
        [--server http://127.0.0.1:8000] [--baud 9600]

The token is a keypad device's, bound to that counter (POST
/api/v1/counters/{id}/keypad-token). Bytes in (ASCII, one per press):

    '1' or 'N'  call next          '2' or 'R'  recall
    '3' or 'F'  finish             '4' or 'S'  start serving
    CR, LF, space, NUL: ignored    anything else: answered "ERR unknown_key"

Each accepted press is answered on the same line with one text line:
"OK <number>", "EMPTY" (nobody waits), "ERR <code>" or "OFFLINE". A press of the
same key again within --debounce seconds is ignored (a bouncing contact).
"""

import argparse
import logging
import os
import sys
import time
import uuid

import requests
import serial

log = logging.getLogger("giliran.keypad")

COMMANDS = {
    ord("1"): "call-next", ord("N"): "call-next", ord("n"): "call-next",
    ord("2"): "recall", ord("R"): "recall", ord("r"): "recall",
    ord("3"): "finish", ord("F"): "finish", ord("f"): "finish",
    ord("4"): "start", ord("S"): "start", ord("s"): "start",
}
IGNORED = {ord("\r"), ord("\n"), ord(" "), 0}
RETRIES = 2  # only after a lost connection, with the same Idempotency-Key


class Bridge:
    """Turns key bytes into counter actions over the HTTP API."""

    def __init__(self, server, counter_id, token, debounce_s=0.5, timeout_s=5.0):
        self.base = f"{server.rstrip('/')}/api/v1/counters/{counter_id}/"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.debounce_s = debounce_s
        self.timeout_s = timeout_s
        self.last = {}  # action -> monotonic time its last request ended

    def handle(self, byte):
        """One byte in -> the reply line (None when the byte is ignored)."""
        if byte in IGNORED:
            return None
        action = COMMANDS.get(byte)
        if action is None:
            return "ERR unknown_key"
        if time.monotonic() - self.last.get(action, -1e9) < self.debounce_s:
            log.info("%s ignored: pressed again within %.1f s", action, self.debounce_s)
            return None
        try:
            return self.send(action)
        finally:
            self.last[action] = time.monotonic()

    def send(self, action):
        """POST the action; retry a lost request with the same key, so it acts once."""
        key = uuid.uuid4().hex
        body = {"finish_current": False} if action == "call-next" else None
        for attempt in range(RETRIES + 1):
            try:
                r = self.http.post(self.base + action, json=body, timeout=self.timeout_s,
                                   headers={"Idempotency-Key": key})
            except requests.RequestException as exc:
                log.warning("%s: no answer (%s)%s", action, exc.__class__.__name__,
                            "; retrying" if attempt < RETRIES else "")
                time.sleep(0.3 * (attempt + 1))
                continue
            if r.status_code == 204:
                return "EMPTY"
            if r.ok:
                ticket = r.json()
                log.info("%s: %s", action, ticket["number"])
                return f"OK {ticket['number']}"
            try:
                code = r.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = f"http_{r.status_code}"
            log.warning("%s refused: %s", action, code)
            return f"ERR {code}"
        return "OFFLINE"


def serve(port, bridge, baud=9600, stop=lambda: False):
    """Read the port until `stop()`; reopen it if it disappears (a cable pulled)."""
    while not stop():
        try:
            with serial.Serial(port, baud, timeout=0.5) as line:
                log.info("listening on %s", port)
                while not stop():
                    data = line.read(1)
                    if not data:
                        continue
                    reply = bridge.handle(data[0])
                    if reply is not None:
                        line.write(reply.encode("ascii", "replace") + b"\r\n")
        except (serial.SerialException, OSError) as exc:
            log.warning("%s: %s; trying again in 2 s", port, exc)
            time.sleep(2)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m counter.keypad", description=__doc__.split("\n")[0])
    parser.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyUSB0")
    parser.add_argument("--counter", required=True, type=int, help="the counter's id")
    parser.add_argument("--token", default=os.environ.get("GILIRAN_KEYPAD_TOKEN"),
                        help="the keypad device token (or GILIRAN_KEYPAD_TOKEN)")
    parser.add_argument("--server", default=os.environ.get("GILIRAN_SERVER", "http://127.0.0.1:8000"))
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--debounce", type=float, default=0.5, help="seconds (default 0.5)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s keypad %(message)s")
    bridge = Bridge(args.server, args.counter, args.token, args.debounce)
    try:
        serve(args.port, bridge, args.baud)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
