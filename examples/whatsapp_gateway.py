#!/usr/bin/env python3
"""A small Giliran webhook receiver that sends WhatsApp messages through an HTTP gateway.

It listens for Giliran's deliveries, checks each one's signature, drops repeats by
their id, and turns two events into a message to the citizen:

- booking.reminder: "Pengingat: reservasi Anda (kode ...) pukul 10.00 ..."
- ticket.called (for a ticket that came from a booking, so it carries a phone):
  "Nomor antrean A012 dipanggil. Silakan menuju loket 3."

Each message is POSTed as JSON {"to": "6281234567890", "message": "..."} to the
gateway URL (most WhatsApp gateways used in Indonesia take such a call; adapt
`send()` to yours), with `Authorization: Bearer <token>` when a token is given.
When the gateway fails, the receiver answers 502, so Giliran retries later.

Standard library only. Run it beside the server (another port of the same machine
is allowed as a webhook URL):

    GILIRAN_WEBHOOK_SECRET=... GATEWAY_URL=https://gateway.example/send \\
        python3 examples/whatsapp_gateway.py --port 9000

and add the webhook http://127.0.0.1:9000/giliran for booking.reminder and
ticket.called on the admin's Webhooks page, with the same secret.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import urllib.request
from collections import OrderedDict
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret, raw_body, header):
    """True if `header` (X-Giliran-Signature) is sha256=<HMAC-SHA256 of the raw body>."""
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


class Seen:
    """Delivery ids already handled (the newest 10,000; keep them in a database in production)."""

    def __init__(self, size=10000):
        self.size, self.ids, self.lock = size, OrderedDict(), threading.Lock()

    def __contains__(self, delivery_id):
        with self.lock:
            return delivery_id in self.ids

    def add(self, delivery_id):
        with self.lock:
            self.ids[delivery_id] = True
            while len(self.ids) > self.size:
                self.ids.popitem(last=False)


def hhmm(iso):
    """'2026-11-25T10:00:00+07:00' -> '10.00' (the MPP's own time, as Indonesians write it)."""
    return datetime.fromisoformat(iso).strftime("%H.%M")


def message_for(event, data):
    """(phone, text) for an event worth a WhatsApp message, else None."""
    phone = data.get("phone")
    if not phone:
        return None
    if event == "booking.reminder":
        return phone, (f"Halo {data.get('name') or 'Bapak/Ibu'}, pengingat: reservasi Anda "
                       f"(kode {data['code']}) pukul {hhmm(data['start'])}. Check-in di kios MPP "
                       f"mulai pukul {hhmm(data['check_in_from'])}; bawa kode atau QR reservasi.")
    if event == "ticket.called":
        again = " ulang" if data.get("recall") else ""
        return phone, (f"Nomor antrean {data['number']} dipanggil{again}. "
                       f"Silakan menuju loket {data.get('counter_number')}.")
    return None


def send(gateway_url, token, phone, text, timeout=10):
    """POST the message to the gateway; raises on anything but 2xx."""
    body = json.dumps({"to": phone.lstrip("+"), "message": text}).encode("utf-8")
    request = urllib.request.Request(gateway_url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"gateway answered {response.status}")


def make_handler(secret, gateway_url, token, seen):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, status, text):
            payload = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not verify(secret, raw, self.headers.get("X-Giliran-Signature")):
                return self.answer(401, "bad signature")
            delivery = json.loads(raw)
            if delivery["id"] in seen:
                return self.answer(200, "already handled")  # a retry of one we sent
            wanted = message_for(delivery["event"], delivery.get("data") or {})
            if wanted is not None:
                try:
                    send(gateway_url, token, *wanted)
                except Exception as exc:  # noqa: BLE001 - Giliran will retry
                    self.log_message("gateway failed for delivery %s: %s", delivery["id"], exc)
                    return self.answer(502, "gateway failed")
            seen.add(delivery["id"])
            return self.answer(200, "ok")

        def log_message(self, fmt, *args):
            # Ids and events only: the bodies carry names and phone numbers.
            sys.stderr.write("whatsapp_gateway: " + (fmt % args) + "\n")

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", default=os.environ.get("GILIRAN_WEBHOOK_SECRET"))
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL"))
    parser.add_argument("--token", default=os.environ.get("GATEWAY_TOKEN"))
    args = parser.parse_args(argv)
    if not args.secret or not args.gateway:
        parser.error("give --secret (or GILIRAN_WEBHOOK_SECRET) and --gateway (or GATEWAY_URL)")
    server = ThreadingHTTPServer((args.host, args.port),
                                 make_handler(args.secret, args.gateway, args.token, Seen()))
    print(f"whatsapp_gateway: listening on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
