"""Live events over Socket.IO: who hears what, the snapshot, and publishing.

`publish(conn, change)` is the one dispatcher of side effects after a
commit: routes call it with the `Change` an engine function returned, so an
event is never sent for a write that rolled back.

Rooms: each client joins exactly one room per agency it may see, so no event
reaches a client twice.
- `staff:all` (admins), `staff:<agency>` (supervisors, officers)
- `display:all`, `display:<agency>` (displays and kiosks, limited by the device's agencies)
- `ticket:<id>` (a tracking page)
- `track:<service_id>` (tracking pages of that service: queue_changed, to refresh their place)
- `device:<id>`, `user:<id>`, `session:<id>`: one client's sockets, for its own events and
  for `disconnect_sockets` when its token is revoked, the person deactivated or the session ended
"""


from urllib.parse import quote

from flask import current_app, has_app_context, has_request_context, request, session
from flask_socketio import SocketIO, join_room
# python-socketio's, not the builtin: its message reaches the client (kiosk.js unpairs on it).
from socketio.exceptions import ConnectionRefusedError

from db import accounts, catalog, queue, tickets
from display import announce
from web.auth import actor_from
from web.database import db_session
from web.surface import socket_refusal

socketio = SocketIO()


# -- presenting ----------------------------------------------------------------


def _citizen_url(page, code):
    """A citizen's page (`/<page>/<code>`), absolute where the server knows its address."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + f"/{page}/{code}"
    if has_request_context():
        # The host the client reached us by (url_for does the same, at twice the cost).
        return f"{request.host_url}{page}/{quote(code)}"
    return f"/{page}/{quote(code)}"


def tracking_url(code):
    """The citizen's page for a ticket (`/t/<code>`)."""
    return _citizen_url("t", code)


def booking_url(code):
    """The citizen's page for a booking (`/b/<code>`)."""
    return _citizen_url("b", code)


def _with_url(row, key, url):
    """`row` with `url(row["code"])` (its citizen page) under `key`; None stays None."""
    if row is None:
        return None
    return {**row, key: url(row["code"])}


def present_ticket(ticket):
    """A ticket with its tracking URL, as every answer and event carries it."""
    return _with_url(ticket, "tracking_url", tracking_url)


def present_booking(booking):
    """A booking with its page's URL, as every answer carries it."""
    return _with_url(booking, "booking_url", booking_url)


def present_counter(counter, codes=True):
    """A counter with its ticket presented; `codes=False` leaves out the ticket's code
    (and its tracking URL, which holds the code) for callers who may not hold it."""
    if counter is None:
        return None
    ticket = present_ticket(counter["ticket"])
    if ticket is not None and not codes:
        ticket = without_code(ticket)
    return {**counter, "ticket": ticket}


def without_code(ticket):
    """A ticket without what lets one act as its holder (track it, answer its survey,
    look up its booking)."""
    return {k: v for k, v in ticket.items() if k not in ("code", "tracking_url", "booking_code")}


def sees_codes(actor, agency_id):
    """Ticket codes go to the ticket's own page and to staff of its agency (admins: all)."""
    return actor.kind == "user" and (actor.role == "admin" or actor.agency_id == agency_id)


# -- rooms ---------------------------------------------------------------------


def _service_agency(conn, service_id, cache):
    if service_id not in cache:
        cache[service_id] = catalog.get_service(conn, service_id)["agency_id"]
    return cache[service_id]


def _rooms(agency_id, staff=True, display=True):
    rooms = []
    if staff:
        rooms += ["staff:all", f"staff:{agency_id}"]
    if display:
        rooms += ["display:all", f"display:{agency_id}"]
    return rooms


def publish(conn, change):
    """Send the events of a committed change to the rooms that may see them."""
    if change is None or change.replayed:
        return
    if getattr(change, "print_job_id", None):
        wake_spool()  # first: the printer starts while the events go out
    wake_webhooks()
    agencies = dict(getattr(change, "agencies", None) or {})
    emit = socketio.emit
    if change.call is not None:
        aid = _service_agency(conn, change.call["service_id"], agencies)
        # The displays play `clips` (the spoken call) and label the counter by `counter_kind`.
        call = announce.enrich_call(conn, current_app.config["DATABASE"], change.call)
        emit("ticket_called", call, to=_rooms(aid) + [f"ticket:{change.call['ticket_id']}"])
    for ticket in ([change.ticket] if change.ticket else []) + list(change.tickets):
        aid = _service_agency(conn, ticket["service_id"], agencies)
        emit("ticket_changed", present_ticket(ticket),
             to=_rooms(aid, display=False) + [f"ticket:{ticket['id']}"])
    for service_id, waiting in change.queues.items():
        aid = _service_agency(conn, service_id, agencies)
        emit("queue_changed", {"service_id": service_id, "waiting": waiting},
             to=_rooms(aid) + [f"track:{service_id}"])
    for counter in ([change.counter] if change.counter else []) + list(change.counters):
        aid = counter["agency_id"]
        emit("counter_changed", present_counter(counter), to=_rooms(aid, display=False))
        emit("counter_changed", present_counter(counter, codes=False), to=_rooms(aid, staff=False))
    publish_bookings(conn, change, agencies)


def publish_bookings(conn, change, agencies=None):
    """`booking_changed` to the staff of the booking's agency, one per booking event.

    The events themselves (`change.booking_events`: name, booking with the full phone)
    are what the citizen's messages (webhooks) are made from; the staff get the masked
    booking only.
    """
    agencies = {} if agencies is None else agencies
    for name, booking in getattr(change, "booking_events", None) or []:
        aid = _service_agency(conn, booking["service_id"], agencies)
        public = {k: v for k, v in booking.items() if k not in ("phone", "cancel_reason")}
        from db.identity import mask_phone

        public["phone"] = mask_phone(booking["phone"])
        socketio.emit("booking_changed", {"event": name, "booking": present_booking(public),
                                          "reason": booking.get("cancel_reason")},
                      to=_rooms(aid, display=False))


def publish_catalog(conn, agency_id=None, service_id=None):
    """After a catalog commit (agency, service, holiday): kiosks, displays and staff refresh.

    `services_changed` says what changed (`agency_id` None: the whole MPP, e.g.
    a holiday); `queue_changed` for the service makes pages that only refresh
    on queue changes pick it up too.
    """
    rooms = ["staff:all", "display:all"]
    if agency_id is not None:
        rooms += [f"staff:{agency_id}", f"display:{agency_id}"]
    socketio.emit("services_changed", {"agency_id": agency_id, "service_id": service_id}, to=rooms)
    if service_id is not None:
        publish(conn, tickets.Change(queues={service_id: queue.waiting_count(conn, service_id)}))


def publish_display_settings(conn, config):
    """After a display-settings commit: every display, whatever agencies it shows."""
    rooms = ["display:all"] + [f"display:{a['id']}" for a in catalog.list_agencies(conn)]
    socketio.emit("settings_changed", config, to=rooms)


def publish_followed(event, data, room):
    """An event the public instance's follower (web/follow.py) read off the database, to one
    tracking page's or one line's room."""
    socketio.emit(event, data, to=room)


def send_print_job(room, job):
    """A print job to the kiosk print agent listening in `room` (web/printing.py)."""
    socketio.emit("print_job", job, to=room)


def wake_spool():
    """Tell the print spool (printer/spool.py) that a job may be waiting."""
    spool = current_app.extensions.get("giliran_spool") if has_app_context() else None
    if spool is not None:
        spool.wake()


def wake_webhooks():
    """Tell the webhook worker (webhooks/worker.py) that a commit may have queued deliveries."""
    deliverer = current_app.extensions.get("giliran_webhooks") if has_app_context() else None
    if deliverer is not None:
        deliverer.wake()


def publish_print(change):
    """After a print-job commit: `print_status` to the issuing kiosk and staff,
    `printer_status` to the kiosks using that printer and to staff:all."""
    if change is None or change.replayed:
        return
    if change.print_status and change.ticket_id is not None:
        rooms = ["staff:all"] + ([f"device:{change.device_id}"] if change.device_id else [])
        socketio.emit("print_status", {"ticket_id": change.ticket_id,
                                       "print_status": change.print_status,
                                       "error": change.error}, to=rooms)
    if change.printer is not None:
        p = change.printer
        socketio.emit("printer_status", {"printer_id": p["id"], "status": p["status"],
                                         "detail": p["status_detail"]},
                      to=["staff:all"] + [f"device:{d}" for d in change.printer_devices])
    if change.print_job_id:
        wake_spool()


# -- connecting ----------------------------------------------------------------


def snapshot(conn, clock, agency_ids=None, codes=False):
    """What a staff or display client needs to be whole: queues, counters, recent calls.
    `codes`: the counters' tickets keep their codes (staff of those agencies only)."""
    services = catalog.list_services(conn, clock)
    counters = queue.list_counters(conn, clock)
    if agency_ids is not None:
        services = [s for s in services if s["agency_id"] in agency_ids]
        counters = [c for c in counters if c["agency_id"] in agency_ids]
    return {
        "services": services,
        "counters": [present_counter(c, codes) for c in counters],
        "recent_calls": announce.enrich_calls(conn, current_app.config["DATABASE"],
                                              queue.recent_calls(conn, clock, agency_ids=agency_ids)),
        "service_day": clock.service_day(),
    }


@socketio.on("connect")
def on_connect(auth=None):
    refusal = socket_refusal(current_app, auth)
    if refusal:
        raise ConnectionRefusedError(refusal)
    auth = auth if isinstance(auth, dict) else {}
    clock = current_app.extensions["giliran"].clock
    with db_session() as conn:
        code = auth.get("ticket")
        if isinstance(code, str) and code:
            try:
                ticket = queue.get_ticket_by_code(conn, clock, code)
            except Exception:
                raise ConnectionRefusedError("unknown_ticket")
            join_room(f"ticket:{ticket['id']}")
            join_room(f"track:{ticket['service_id']}")
            socketio.emit("snapshot", present_ticket(ticket), to=request.sid)
            follower = current_app.extensions.get("giliran_follower")
            if follower is not None:
                follower.note(conn, ticket)
            return True
        token = auth.get("token")
        token = token if isinstance(token, str) and token else None
        actor = actor_from(conn, token=token, session_token=None if token else session.get("sid"),
                           ts=clock.ts())
        if actor is None or actor.kind is None:
            raise ConnectionRefusedError("not_authenticated")
        if actor.kind == "user":
            # Where revocation finds this socket (disconnect_sockets).
            join_room(f"user:{actor.id}")
            join_room(f"session:{actor.session_id}")
        if actor.kind == "device":
            agency_ids = accounts.device_dict(actor.row)["agency_ids"] or None
            for room in ([f"display:{a}" for a in agency_ids] if agency_ids else ["display:all"]):
                join_room(room)
            join_room(f"device:{actor.id}")
        elif actor.role == "admin":
            agency_ids = None
            join_room("staff:all")
        else:
            agency_ids = [actor.agency_id]
            join_room(f"staff:{actor.agency_id}")
        socketio.emit("snapshot", snapshot(conn, clock, agency_ids, codes=actor.kind == "user"),
                      to=request.sid)
    return True


def disconnect_sockets(*rooms):
    """Disconnect every socket in these rooms (a revoked device, an ended session ...).

    The pages reconnect a second later, are refused, and show their pairing or
    login screen. With several instances each disconnects its own sockets
    (python-socketio lists only local participants).
    """
    server = socketio.server
    if server is None:
        return 0
    sids = set()
    for room in rooms:
        sids.update(sid for sid, _eio in server.manager.get_participants("/", room))
    for sid in sids:
        server.disconnect(sid, namespace="/", ignore_queue=True)
    return len(sids)


def sweep_sockets(conn, now, idle_s, max_s):
    """Disconnect the sockets whose session timed out or ended elsewhere (another
    instance, the CLI), or whose device was revoked there; run every few seconds."""
    server = socketio.server
    rooms = server.manager.rooms.get("/", {}) if server is not None else {}
    names = [r for r in list(rooms) if isinstance(r, str)]  # also None (everyone) and sids
    sessions_open = [int(r.split(":")[1]) for r in names if r.startswith("session:")]
    devices_open = [int(r.split(":")[1]) for r in names if r.startswith("device:")]
    dead = []
    if sessions_open:
        marks = ",".join("?" * len(sessions_open))
        dead += [f"session:{r[0]}" for r in conn.execute(
            f"SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id IN ({marks}) "
            "AND (s.ended_ts IS NOT NULL OR u.active = 0 OR ? - s.created_ts > ? OR ? - s.last_seen_ts > ?)",
            (*sessions_open, now, max_s, now, idle_s))]
    if devices_open:
        marks = ",".join("?" * len(devices_open))
        dead += [f"device:{r[0]}" for r in conn.execute(
            f"SELECT id FROM devices WHERE id IN ({marks}) AND active = 0", devices_open)]
    return disconnect_sockets(*dead) if dead else 0
