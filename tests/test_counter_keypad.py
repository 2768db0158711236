"""The serial keypad bridge (python -m counter.keypad) against a pseudo-terminal pair
and a real gunicorn: bytes in -> the counter calls."""

import os
import select
import subprocess
import sys
import time

import pytest

from conftest import ROOT

pytestmark = pytest.mark.server


class Line:
    """The keypad's side of the pseudo-terminal: press keys, read the bridge's answers."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def press(self, data):
        os.write(self.fd, data)

    def answer(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no answer from the bridge (got {self.buffer!r})")
            if select.select([self.fd], [], [], left)[0]:
                self.buffer += os.read(self.fd, 100)
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line.decode()


@pytest.fixture
def keypad(demo_server):
    """A bridge for counter 1 (Dukcapil) on a pty; yields (line, officer session)."""
    officer = demo_server.session("admin")
    url = demo_server.url + "/api/v1"
    assert officer.post(url + "/counters/1/open").status_code == 200
    token = officer.post(url + "/counters/1/keypad-token").json()["token"]
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "counter.keypad", "--port", os.ttyname(slave), "--counter", "1",
         "--token", token, "--server", demo_server.url, "--debounce", "0.3"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = Line(master)
    try:
        yield line, officer, url, proc
    finally:
        proc.terminate()
        proc.wait(10)
        os.close(master)
        os.close(slave)


def _three_waiting(srv, proc):
    """A001-A003 wait in Dukcapil's KTP line, and the bridge has opened its port."""
    for _ in range(3):
        srv.kiosk.post(srv.url + "/api/v1/tickets", json={"service_id": 1})
    wait_listening(proc)


def test_bytes_in_the_counter_calls(demo_server, keypad):
    line, officer, url, proc = keypad
    _three_waiting(demo_server, proc)
    line.press(b"\r\n 1")                # CR/LF and spaces are ignored
    assert line.answer() == "OK A001"
    assert officer.get(url + "/counters/1").json()["ticket"]["number"] == "A001"
    line.press(b"2")
    assert line.answer() == "OK A001"
    assert officer.get(url + "/counters/1").json()["ticket"]["call_count"] == 2
    time.sleep(0.35)  # past the debounce of call-next
    line.press(b"1")
    assert line.answer() == "ERR counter_busy"
    line.press(b"3")                      # only called 0.4 s ago: the finish guard says no
    assert line.answer() == "ERR finish_too_soon"
    line.press(b"4")                      # start serving; now finish works at once
    assert line.answer() == "OK A001"
    time.sleep(0.35)  # past the debounce of finish
    line.press(b"3")
    assert line.answer() == "OK A001"
    ticket = officer.get(url + "/counters/1").json()["ticket"]
    assert ticket is None
    line.press(b"x")
    assert line.answer() == "ERR unknown_key"


def test_a_bouncing_button_calls_once(demo_server, keypad):
    line, officer, url, proc = keypad
    _three_waiting(demo_server, proc)
    line.press(b"NNN")  # three contacts within a few milliseconds
    assert line.answer() == "OK A001"
    line.press(b"S")
    assert line.answer() == "OK A001"
    line.press(b"F")
    assert line.answer() == "OK A001"
    waiting = officer.get(url + "/counters/1/waiting").json()
    assert [w["number"] for w in waiting] == ["A002", "A003"]
    time.sleep(0.35)  # past the debounce: a real second press
    line.press(b"n")
    assert line.answer() == "OK A002"


_seen = {}


def wait_listening(proc, timeout=30):
    """Until the bridge has opened its port (before that, the line echoes and buffers keys)."""
    deadline = time.monotonic() + timeout
    while "listening" not in _peek(proc):
        assert time.monotonic() < deadline, f"the bridge never listened: {bytes(_seen.get(proc.pid, b''))!r}"
        time.sleep(0.05)


def _peek(proc):
    """What the bridge has logged so far (non-blocking)."""
    out = _seen.setdefault(proc.pid, bytearray())
    while select.select([proc.stdout], [], [], 0)[0]:
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")
