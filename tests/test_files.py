"""Files: the database, its WAL/SHM, the secret key and the instance folder are owner-only from
the start; a `file` printer may not name them, a block device, or follow a symlink."""

import os
import stat
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import Server
from printer.transports import PrinterError, file_path_problem, send


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_instance_is_owner_only(tmp_path):
    from web import create_app

    db = tmp_path / "instance" / "mpp.db"
    old = os.umask(0o022)  # the usual umask, which would give 0644 / 0755
    try:
        app = create_app({"DATABASE": str(db), "TESTING": True, "SOCKETIO_ASYNC_MODE": "threading",
                          "DEMO": True})
        with app.test_client() as c:
            assert c.get("/api/v1/health").status_code == 200
    finally:
        os.umask(old)
    assert mode(db.parent) == 0o700
    assert mode(db) == 0o600
    for companion in ("mpp.db-wal", "mpp.db-shm"):
        assert mode(db.parent / companion) == 0o600, companion
    assert mode(db.parent / "secret_key") == 0o600
    assert mode(db.parent / "demo-devices.json") == 0o600
    assert not list(db.parent.glob(".secret_key.*"))  # no temporary key left behind


@pytest.fixture
def printer_dir():
    folder = Path(tempfile.mkdtemp(prefix="giliran-printer-"))
    yield folder
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


def _block_device():
    for name in ("/dev/vda", "/dev/sda", "/dev/loop0", "/dev/zram0", "/dev/nvme0n1"):
        if os.path.exists(name) and stat.S_ISBLK(os.stat(name).st_mode):
            return name
    pytest.fail("no block device on this machine to test with")


# (id, path given the database's folder `db` and a scratch folder `tmp`)
REFUSED = [
    ("the-database", lambda db, tmp: str(db)),
    ("its-wal", lambda db, tmp: f"{db}-wal"),
    ("its-shm", lambda db, tmp: f"{db}-shm"),
    ("its-journal", lambda db, tmp: f"{db}-journal"),
    ("the-secret-key", lambda db, tmp: str(db.parent / "secret_key")),
    ("anything-in-the-instance-folder", lambda db, tmp: str(db.parent / "tickets.bin")),
    ("the-instance-folder-below", lambda db, tmp: str(db.parent / "media" / "x.bin")),
    ("a-symlink-to-the-database", lambda db, tmp: _link(tmp / "innocent.bin", db)),
    ("a-block-device", lambda db, tmp: _block_device()),
    ("a-device-that-is-no-printer", lambda db, tmp: "/dev/mem"),
    ("outside-the-allowed-folders", lambda db, tmp: "/etc/cron.d/x"),
    ("a-folder", lambda db, tmp: str(tmp)),
    ("relative", lambda db, tmp: "tickets.bin"),
    ("nul-byte", lambda db, tmp: str(tmp / "a\x00b")),
]
ALLOWED = [
    ("a-file-in-the-temporary-folder", lambda db, tmp: str(tmp / "tickets.bin")),
    ("a-line-printer-not-plugged-in", lambda db, tmp: "/dev/usb/lp0"),
    ("the-null-device", lambda db, tmp: "/dev/null"),
    ("a-serial-port", lambda db, tmp: "/dev/ttyUSB0"),
]


def _link(link, target):
    link.symlink_to(target)
    return str(link)


@pytest.mark.parametrize("name, make", REFUSED, ids=[r[0] for r in REFUSED])
def test_file_printer_paths_refused(api, printer_dir, name, make):
    from conftest import login

    db = Path(api.app.config["DATABASE"])
    path = make(db, printer_dir)
    assert file_path_problem(path, str(db)) is not None
    r = login(api.app, "admin").post("/api/v1/printers", json={"name": "P", "transport": "file", "path": path})
    assert r.status_code == 400, r.json
    assert r.json["error"]["code"] == "validation_error" and "path" in r.json["error"]["fields"]


@pytest.mark.parametrize("name, make", ALLOWED, ids=[a[0] for a in ALLOWED])
def test_file_printer_paths_allowed(api, printer_dir, name, make):
    from conftest import login

    path = make(Path(api.app.config["DATABASE"]), printer_dir)
    r = login(api.app, "admin").post("/api/v1/printers", json={"name": "P", "transport": "file", "path": path})
    assert r.status_code == 201, r.json


def test_print_file_dirs_setting_adds_a_folder(api, printer_dir, tmp_path):
    extra = tmp_path.parent / (tmp_path.name + "-spool")
    extra.mkdir()
    db = api.app.config["DATABASE"]
    assert file_path_problem(str(extra / "t.bin"), db) is not None or str(extra).startswith(tempfile.gettempdir())
    assert file_path_problem(str(extra / "t.bin"), db, [str(extra)]) is None
    # Never the database's folder, whatever the setting says.
    assert file_path_problem(str(Path(db).parent / "t.bin"), db, [str(Path(db).parent)]) is not None


def test_the_open_refuses_a_symlink_even_without_the_database(printer_dir):
    decoy = printer_dir / "decoy.bin"
    decoy.write_bytes(b"keep")
    link = printer_dir / "ticket.bin"
    link.symlink_to(decoy)
    with pytest.raises(PrinterError) as caught:
        send("file", {"path": str(link)}, b"ESC/POS")
    assert "symbolic link" in caught.value.message
    assert decoy.read_bytes() == b"keep"


@pytest.mark.server
def test_symlink_swapped_in_after_validation_is_refused_by_the_real_server(tmp_path, printer_dir):
    srv = Server(tmp_path / "mpp.db").start()
    try:
        admin = srv.session()
        url = srv.url + "/api/v1"
        agency = admin.post(url + "/agencies", json={"code": "D", "name": "Dukcapil"}).json()
        service = admin.post(url + "/services", json={"agency_id": agency["id"], "prefix": "A", "name": "KTP"}).json()
        assert admin.post(url + "/counters", json={"agency_id": agency["id"], "number": 1,
                                                   "service_ids": [service["id"]]}).status_code == 201
        sink = printer_dir / "ticket.bin"
        printer = admin.post(url + "/printers", json={"name": "Berkas", "transport": "file", "path": str(sink)})
        assert printer.status_code == 201, printer.text
        kiosk = admin.post(url + "/devices", json={"kind": "kiosk", "name": "K", "printer_id": printer.json()["id"]}).json()
        kiosk_s = requests.Session()
        kiosk_s.headers["Authorization"] = f"Bearer {kiosk['token']}"

        def issue_and_wait():
            ticket = kiosk_s.post(url + "/tickets", json={"service_id": service["id"]}).json()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                jobs = admin.get(url + f"/print-jobs?ticket_id={ticket['id']}").json()
                if jobs and (jobs[0]["status"] == "printed" or jobs[0]["attempts"] >= 1 and jobs[0]["error"]):
                    return ticket, jobs[0]
                time.sleep(0.1)
            raise AssertionError(f"the job never ended: {jobs}")

        ticket, job = issue_and_wait()
        assert job["status"] == "printed" and ticket["number"].encode() in sink.read_bytes()
        assert stat.S_IMODE(sink.stat().st_mode) == 0o600  # created owner-only
        # Now swap in a symlink to the secret key (the kind of swap a local user could make).
        key = tmp_path / "secret_key"
        before = key.read_bytes()
        sink.unlink()
        sink.symlink_to(key)
        ticket, job = issue_and_wait()
        # Refused by the check before each job (the path now resolves to the key), and
        # the open's O_NOFOLLOW would refuse it too (test above).
        assert job["status"] != "printed" and "secret key" in (job["error"] or "")
        assert key.read_bytes() == before
        assert "Traceback" not in srv.log.read_text()
    finally:
        srv.stop()
