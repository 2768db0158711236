"""The web side of the print spool: what printer/spool.py needs of the server.

The spool is the device layer (OctoPrint keeps it apart from the web): it
imports nothing from web/. The server hands it a `SpoolRuntime` (tasks,
sleeps and wake-up events of the server's async mode, the agents' rooms) and
subscribes to its changes with `publish_print`.
"""

from web.events import publish_print, send_print_job, socketio


class SpoolRuntime:
    """Tasks, sleeps, events and print-agent rooms, through Flask-SocketIO."""

    @property
    def cooperative(self):
        """Whether device I/O must leave the event loop (gevent) to not freeze it."""
        return socketio.async_mode == "gevent"

    def spawn(self, fn, *args):
        return socketio.start_background_task(fn, *args)

    def sleep(self, seconds):
        socketio.sleep(seconds)

    def event(self):
        return socketio.server.eio.create_event()

    def to_agent(self, room, payload):
        send_print_job(room, payload)

    def agent_connected(self, room):
        """Whether a print agent listens in this room (this process's view; True if unknown)."""
        try:
            return bool(socketio.server.manager.rooms.get("/", {}).get(room))
        except Exception:  # noqa: BLE001 - another manager (Redis): assume it does
            return True


def spool_of(app):
    """The server's running spool, or one for a single call (CLI, tests)."""
    from printer.spool import Spool

    return app.extensions.get("giliran_spool") or Spool(app, SpoolRuntime(), publish_print)
