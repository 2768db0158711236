"""The kiosk print agent against a real gunicorn, printing on a fake serial printer:
it prints and acknowledges, catches up after being away, and never prints a job
twice when the connection drops between printing and acknowledging."""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import ROOT, Listener
from fakeprinter import FakeSerialPrinter
from printer.agent import Agent
from test_printer_spool import add_kiosk, copies, jobs_of, kill_hard, wait_until
from test_server import setup_mpp

pytestmark = pytest.mark.server


def start_agent(srv, token, fake, state):
    return subprocess.Popen(
        [sys.executable, "-m", "printer.agent", "--server", srv.url, "--token", token,
         "--serial", fake.device, "--baudrate", "9600", "--state", str(state)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(state.with_suffix(".log"), "ab"))


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_agent_prints_acknowledges_and_catches_up_after_being_away(server, tmp_path):
    srv = server
    admin, service, _, _, _ = setup_mpp(srv)
    url = srv.url + "/api/v1"
    printer, kiosk, device = add_kiosk(srv, admin, transport="agent")
    screen = Listener(srv.url, {"token": device["token"]})
    agent = None
    try:
        with FakeSerialPrinter(lifetime=60) as fake:
            agent = start_agent(srv, device["token"], fake, tmp_path / "agent.json")
            first = kiosk.post(url + "/tickets", json={"service_id": service["id"]}).json()
            assert wait_until(lambda: copies(fake, first) == 1, 15, 0.02)
            done = screen.wait_for("print_status", where=lambda d: d["print_status"] == "printed")
            assert done["ticket_id"] == first["id"]
            assert wait_until(lambda: jobs_of(admin, srv, first)[0]["status"] == "printed", 5, 0.05)
            assert admin.get(url + "/printers").json()[0]["status"] == "online"

            stop(agent)  # the kiosk computer is switched off for a while
            second = kiosk.post(url + "/tickets", json={"service_id": service["id"]}).json()
            assert wait_until(lambda: admin.get(url + "/printers").json()[0]["status"] == "offline", 5)
            assert jobs_of(admin, srv, second)[0]["status"] in ("pending", "printing")
            assert copies(fake, second) == 0

            agent = start_agent(srv, device["token"], fake, tmp_path / "agent.json")
            assert wait_until(lambda: copies(fake, second) == 1, 15, 0.02)
            assert wait_until(lambda: jobs_of(admin, srv, second)[0]["status"] == "printed", 5, 0.05)
            time.sleep(1.0)
            assert copies(fake, first) == 1 and copies(fake, second) == 1
            state = json.loads((tmp_path / "agent.json").read_text())
            assert len(state["printed"]) == 2
    finally:
        if agent:
            stop(agent)
        screen.close()


def test_connection_lost_between_print_and_ack_prints_once(server, tmp_path):
    srv = server
    admin, service, _, _, _ = setup_mpp(srv)
    url = srv.url + "/api/v1"
    _, kiosk, device = add_kiosk(srv, admin, transport="agent")
    agent = None
    try:
        with FakeSerialPrinter(lifetime=60) as fake:
            agent = Agent(srv.url, device["token"], "serial", fake.config, str(tmp_path / "a.json"))
            killed, issued = threading.Event(), threading.Event()

            def lose_the_server(job):
                # Printed, not yet acknowledged: the server dies right now.
                if not killed.is_set():
                    issued.wait(10)  # the kiosk has its answer
                    kill_hard(srv)
                    killed.set()
                    raise ConnectionError("the acknowledgement is lost with the server")

            agent.after_print = lose_the_server
            threading.Thread(target=agent.run, daemon=True).start()
            assert agent.ready.wait(15)
            ticket = kiosk.post(url + "/tickets", json={"service_id": service["id"]}).json()
            issued.set()
            assert killed.wait(15)
            assert copies(fake, ticket) == 1
            srv.start()  # the same database: the job is still unacknowledged
            admin = srv.session()
            assert wait_until(lambda: jobs_of(admin, srv, ticket)[0]["status"] == "printed", 20, 0.1)
            job = jobs_of(admin, srv, ticket)[0]
            assert job["attempts"] >= 2  # it was sent again after the reconnect...
            time.sleep(1.0)
            assert copies(fake, ticket) == 1  # ...and not printed again
            more = requests.post(url + "/tickets", json={"service_id": service["id"]},
                                 headers=dict(kiosk.headers)).json()
            assert wait_until(lambda: copies(fake, more) == 1, 10, 0.02)
    finally:
        if agent:
            agent.stop()


def test_agent_hello_needs_an_agent_printer(server):
    admin, _, _, kiosk_token, _ = setup_mpp(server)
    import socketio

    client = socketio.Client(reconnection=False)
    client.connect(server.url, auth={"token": kiosk_token}, transports=["websocket"], wait_timeout=5)
    try:
        assert client.call("agent_hello", {"token": kiosk_token}, timeout=5)["error"] == "no_agent_printer"
        assert client.call("agent_hello", {"token": "wrong"}, timeout=5)["error"] == "not_authenticated"
        assert client.call("print_ack", {"id": 1}, timeout=5)["error"] == "not_an_agent"
    finally:
        client.disconnect()
