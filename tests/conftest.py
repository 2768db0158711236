"""Fixtures every test takes by name: a clock, a real database file, the app, a live server."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from db import accounts, catalog, migrations
from db.clock import FixedClock
from db.connection import connect

ROOT = Path(__file__).resolve().parent.parent


def _retry_stale_connections():
    """Test clients reuse keep-alive connections that gunicorn closes after 2 idle seconds;
    a request racing that close is reset before the server reads it. Browsers retry such a
    request by themselves; make `requests` do the same, so a test fails only on real errors."""
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    original = HTTPAdapter.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("max_retries", Retry(total=2, connect=2, read=1, status=0, other=0,
                                               allowed_methods=None, raise_on_status=False))
        original(self, *args, **kwargs)

    HTTPAdapter.__init__ = init


_retry_stale_connections()
PASSWORD = "rahasia-123"
# Password hashing is slow on purpose; the tests are not about its strength.
accounts.HASH_METHOD = "pbkdf2:sha256:1000"
# A Tuesday morning in Jakarta, inside every service's hours.
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture(autouse=True)
def fresh_login_limits():
    """The limiter (web/limits.py) counts in memory; each test starts with none."""
    from web.limits import limiter

    if limiter.initialized:
        limiter.reset()
    yield
    if limiter.initialized:
        limiter.reset()


@pytest.fixture
def clock():
    return FixedClock("Asia/Jakarta", MORNING.timestamp())


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "mpp.db"


@pytest.fixture
def conn(db_path):
    c = connect(db_path)
    migrations.migrate(c)
    yield c
    c.close()


class World:
    """A small MPP built through the engine: two agencies, their services and counters."""

    def __init__(self, conn, clock):
        self.conn, self.clock = conn, clock
        self.dukcapil = catalog.create_agency(conn, "DUKCAPIL", "Dukcapil")["id"]
        self.samsat = catalog.create_agency(conn, "SAMSAT", "Samsat")["id"]
        self.ktp = catalog.create_service(conn, clock, self.dukcapil, "A", "KTP-el")["id"]
        self.kk = catalog.create_service(conn, clock, self.dukcapil, "B", "Kartu Keluarga")["id"]
        self.pajak = catalog.create_service(conn, clock, self.samsat, "K", "Pajak")["id"]
        self.c1 = catalog.create_counter(conn, clock, self.dukcapil, 1, [self.ktp, self.kk])["id"]
        self.c2 = catalog.create_counter(conn, clock, self.dukcapil, 2, [self.ktp])["id"]
        self.c3 = catalog.create_counter(conn, clock, self.samsat, 3, [self.pajak])["id"]


@pytest.fixture
def world(conn, clock):
    return World(conn, clock)


# -- the app -------------------------------------------------------------------


@pytest.fixture
def app(db_path, clock):
    from web import create_app

    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "TESTING": True,
                      "SOCKETIO_ASYNC_MODE": "threading", "GROUP_COMMIT": True})
    app.extensions["giliran"].clock = clock
    yield app
    giliran = app.extensions["giliran"]
    if giliran.writer is not None:
        giliran.writer.close()
    giliran.pool.close()


@pytest.fixture
def client(app):
    return app.test_client()


class People:
    """Accounts of every role, and device tokens, in an app's database."""

    def __init__(self, app, conn):
        self.admin = accounts.create_user(conn, "admin", PASSWORD, "admin")
        self.kiosk_token = accounts.create_device(conn, "kiosk", "Kiosk 1")["token"]
        self.display_token = accounts.create_device(conn, "display", "TV 1")["token"]


@pytest.fixture
def api(app, db_path, clock):
    """The app with a small MPP, its people and devices."""
    c = connect(db_path)
    w = World(c, clock)
    w.people = People(app, c)
    accounts.create_user(c, "officer", PASSWORD, "officer", agency_id=w.dukcapil)
    accounts.create_user(c, "other", PASSWORD, "officer", agency_id=w.samsat)
    accounts.create_user(c, "super", PASSWORD, "supervisor", agency_id=w.dukcapil)
    w.app = app
    yield w
    c.close()


def login(app, username):
    """A test client logged in as `username`."""
    c = app.test_client()
    r = c.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.json
    return c


# -- a real server -------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_voice_pack(db_path):
    """Put the default voice pack beside a fresh database before its server starts.

    A server on a new database makes the pack in the background (espeak-ng and sox on
    every core for a few seconds), as a new building does once; a running building has it
    already. Made once per machine and pack version in the temp folder (by the same code,
    tests/test_voice_pack.py tests the making itself), then copied: a test's server works
    as a building's does on any day after its first, and the suite does not pay the pack's
    CPU at every server start.
    """
    import shutil
    import tempfile

    from db import display as store
    from display import voice

    cache = voice.generate_default_pack(
        Path(tempfile.gettempdir()) / f"giliran-voicepack-v{voice.PACK_VERSION}")
    target = store.packs_dir(db_path) / store.DEFAULT_PACK
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(cache, target, dirs_exist_ok=True)


class Server:
    """A real gunicorn (gunicorn.conf.py, wsgi:app) on a loopback port; a fresh database gets
    the default voice pack made already (seed_voice_pack)."""

    def __init__(self, db_path, env=None):
        self.db_path = Path(db_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "MPP_DATABASE": str(db_path),
                    "MPP_BIND": f"127.0.0.1:{self.port}", "MPP_ADMIN_PASSWORD": PASSWORD,
                    "MPP_LOG_LEVEL": "warning", **(env or {})}
        self.proc = None
        log_dir = self.db_path.parent if self.db_path.parent.exists() else self.db_path.parent.parent
        self.log = log_dir / f"gunicorn-{self.port}.log"

    def start(self, timeout=20):
        if not self.db_path.exists() and self.db_path.parent.exists():
            seed_voice_pack(self.db_path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a drill can kill -9 it whole
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode if self.proc else None

    def device(self, token):
        """A requests session that carries a device's token (a kiosk, a display ...)."""
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        return s

    def session(self, username="admin"):
        """A logged-in requests session that sends its Origin, as the pages' fetches do."""
        s = requests.Session()
        s.headers["Origin"] = self.url
        r = s.post(self.url + "/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return s


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "mpp.db").start()
    yield srv
    srv.stop()


# -- the Indonesian catalogs ------------------------------------------------------


def _compile_catalogs():
    """Compile any .po newer than its .mo (./test.sh does it too; this covers plain pytest)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in ROOT.glob("*/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        with mo.open("wb") as f:
            write_mo(f, catalog)


_compile_catalogs()


# -- a real browser ----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]
SCREENS = {"kiosk": (1080, 1920), "kiosk_landscape": (1920, 1080), "tv": (1920, 1080),
           "tv_portrait": (1080, 1920), "counter": (1366, 768), "phone": (360, 800)}
# The suite writes its screenshots to a scratch folder, so a run leaves the
# checkout clean; scripts/screenshots.sh sets GILIRAN_SCREENSHOTS=docs to
# refresh the committed ones in docs/screenshots.
if os.environ.get("GILIRAN_SCREENSHOTS") == "docs":
    SCREENSHOTS = ROOT / "docs" / "screenshots"
else:
    SCREENSHOTS = Path(os.environ.get("GILIRAN_SCREENSHOT_DIR")
                       or Path(os.environ.get("TMPDIR", "/tmp")) / "giliran-screenshots")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run ./test.sh (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_at(browser):
    """page_at("kiosk") -> a new page at that screen size; closed after the test."""
    contexts = []

    def make(screen="counter", **kw):
        width, height = SCREENS[screen]
        # Playwright's wait_for_function polls with eval, which the pages' CSP refuses;
        # tests/test_headers.py loads every page with the CSP enforced (bypass_csp=False).
        kw.setdefault("bypass_csp", True)
        ctx = browser.new_context(viewport={"width": width, "height": height}, **kw)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def offset_to(when):
    """MPP_CLOCK_OFFSET_S that puts a server's clock at `when` (an aware datetime) now."""
    return str(when.timestamp() - time.time())


def morning_offset(hour=10):
    """MPP_CLOCK_OFFSET_S that puts a server's clock at `hour`:00 today in the MPP (Jakarta),
    whatever the hour of the run: a server started so never sees its day roll over during
    a test file (a ticket issued at 23:59:59 is gone from "today" a moment later)."""
    return offset_to(datetime.now(ZoneInfo("Asia/Jakarta")).replace(
        hour=hour, minute=0, second=0, microsecond=0))


def demo_mpp(folder, env=None, timeout=20):
    """A started real gunicorn with the demo MPP in `folder` (stop it when done): `.tokens`,
    the demo devices' tokens; `.admin`, an admin's session; `.kiosk`, the demo kiosk's;
    `.services`, the services by prefix; `.local_now()`, the server's time in the MPP. Its
    clock starts at 10:00 of the MPP's day (morning_offset) unless `env` sets another."""
    env = {"MPP_DEMO": "1", "MPP_CLOCK_OFFSET_S": morning_offset(), **(env or {})}
    srv = Server(folder / "mpp.db", env=env).start(timeout=timeout)
    offset = float(env["MPP_CLOCK_OFFSET_S"])
    srv.local_now = lambda: datetime.fromtimestamp(time.time() + offset, ZoneInfo("Asia/Jakarta"))
    srv.tokens = json.loads((folder / "demo-devices.json").read_text())
    srv.admin = srv.session("admin")
    srv.kiosk = srv.device(srv.tokens["kiosk"])
    srv.services = {s["prefix"]: s for s in srv.admin.get(srv.url + "/api/v1/services").json()}
    return srv


def shared_demo_mpp(name, env=None, prepare=None):
    """A module-scoped fixture: one demo MPP (demo_mpp) for a test file's tests, each of which
    uses its own services; `prepare(srv)` runs once after the start. In the file:
    `mpp = shared_demo_mpp("console")`."""
    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory):
        srv = demo_mpp(tmp_path_factory.mktemp(name), env)
        if prepare:
            prepare(srv)
        yield srv
        srv.stop()
    return fixture


@pytest.fixture
def demo_server(tmp_path):
    """A real gunicorn with the demo MPP for one test (see demo_mpp)."""
    srv = demo_mpp(tmp_path)
    yield srv
    srv.stop()


def screenshot(page, name):
    """Save a screenshot of the page (docs/screenshots/ only when refreshing them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


class Listener:
    """A python-socketio client that records every event in a queue."""

    def __init__(self, url, auth):
        import queue

        import socketio

        self.events = queue.Queue()
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2,
                                      reconnection_delay_max=1)
        self.client.on("*", lambda name, data: self.events.put((name, data)))
        self.client.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)

    def wait_for(self, name, timeout=10, where=lambda d: True):
        """The data of the next `name` event matching `where`; fails after `timeout` s."""
        import queue

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if got == name and where(data):
                return data
        raise AssertionError(f"no matching {name} within {timeout}s")

    def close(self):
        self.client.disconnect()
