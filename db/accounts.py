"""People, devices, printers and settings: who may do what, and with which hardware."""

import hashlib
import json
import re
import secrets
import sqlite3

from werkzeug.security import check_password_hash, generate_password_hash

import settings
from db.catalog import audit, get_agency, now_iso
from db.connection import write, write_soon
from db.clock import utc_iso
from db.errors import Conflict, check_fields, found

ROLES = ("admin", "supervisor", "officer")
# keypad: a hardware call button bound to one counter (counter/keypad.py).
DEVICE_KINDS = ("kiosk", "display", "keypad")
TRANSPORTS = ("network", "serial", "usb", "file", "agent")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 8
# werkzeug's default (scrypt). Tests lower it: hashing is deliberately slow.
HASH_METHOD = "scrypt"
# A hash that no password matches: checked against when the user is unknown,
# so a login takes as long for a wrong name as for a wrong password.
_DUMMY_HASH = generate_password_hash("giliran-no-such-user")


# -- users ---------------------------------------------------------------------


def agency_scope(role, own_agency_id, wanted=None):
    """The agency a person's lists and reports cover: for an admin the one wanted (None: every
    agency), for a supervisor or officer always their own."""
    return wanted if role == "admin" else own_agency_id


def list_users(conn, agency_id=None):
    """Every person, or the people of one agency."""
    if agency_id is None:
        rows = conn.execute("SELECT * FROM users ORDER BY id")
    else:
        rows = conn.execute("SELECT * FROM users WHERE agency_id = ? ORDER BY id", (agency_id,))
    return [user_dict(r) for r in rows]


def user_dict(row):
    """A user as the API shows it: never the password hash."""
    return {"id": row["id"], "username": row["username"], "role": row["role"],
            "agency_id": row["agency_id"], "full_name": row["full_name"],
            "active": bool(row["active"])}


def get_user(conn, user_id):
    """One user row by id, or None."""
    return conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def authenticate(conn, username, password, verify=None):
    """The active user with these credentials, or None.

    `verify(fn, *args)` runs the (slow) hash check; the web layer passes one
    that runs it off the event loop.
    """
    verify = verify or (lambda fn, *args: fn(*args))
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    if row is None:
        verify(check_password_hash, _DUMMY_HASH, password)
        return None
    if not verify(check_password_hash, row["password_hash"], password) or not row["active"]:
        return None
    return row


def check_role(role, agency_id, fields):
    """A sentence in `fields` unless the role is known and, below admin, has an agency."""
    if role not in ROLES:
        fields["role"] = f"One of: {', '.join(ROLES)}."
    elif role != "admin" and agency_id is None:
        fields["agency_id"] = "Officers and supervisors belong to an agency."


def insert_user(conn, username, password, role, agency_id, full_name, actor_id):
    """Insert a person inside the caller's write transaction (create_user's rule)."""
    fields = {}
    if not USERNAME_RE.match(username or ""):
        fields["username"] = "3-40 letters, digits, '.', '-' or '_'."
    if len(password or "") < MIN_PASSWORD:
        fields["password"] = f"At least {MIN_PASSWORD} characters."
    check_role(role, agency_id, fields)
    check_fields(fields)
    if agency_id is not None:
        get_agency(conn, agency_id)
    try:
        row = conn.execute(
            "INSERT INTO users (username, password_hash, role, agency_id, full_name, active, created_at) "
            "VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING *",
            (username, generate_password_hash(password, HASH_METHOD), role, agency_id, full_name, now_iso()),
        ).fetchone()
    except sqlite3.IntegrityError:
        raise Conflict("username_taken", f"The username {username} is taken.",
                       {"username": "Already taken."})
    audit(conn, "user.create", f"user:{row['id']}", {"username": username, "role": role,
                                                     "agency_id": agency_id}, user_id=actor_id)
    return user_dict(row)


def create_user(conn, username, password, role, *, agency_id=None, full_name=None, actor_id=None):
    """Add a person who logs in; the password is stored hashed."""
    return write(conn, insert_user, username, password, role, agency_id, full_name, actor_id)


def ensure_admin(conn, password):
    """Create user `admin` with this password if no such user exists (MPP_ADMIN_PASSWORD)."""
    if conn.execute("SELECT 1 FROM users WHERE username = 'admin'").fetchone():
        return False
    try:
        create_user(conn, "admin", password, "admin")
    except Conflict:
        return False  # another process created it first
    return True


# -- devices -------------------------------------------------------------------


def hash_token(token):
    """Tokens are long random strings, so a fast hash stores them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def device_agencies(row):
    """The agencies a device is limited to (admin: devices), or None for all of them."""
    config = row["config"]
    return json.loads(config).get("agency_ids") if config and config != "{}" else None


def device_dict(row):
    """A device as the API shows it: never its token."""
    return {"id": row["id"], "kind": row["kind"], "name": row["name"],
            "printer_id": row["printer_id"], "active": bool(row["active"]),
            "agency_ids": device_agencies(row),
            "last_seen_at": utc_iso(row["last_seen_ts"]) if row["last_seen_ts"] else None}


def get_device(conn, device_id):
    """One device row by id."""
    return found(conn.execute("SELECT * FROM devices WHERE id = ?", (device_id,)).fetchone(), "device")


def device_by_token(conn, token):
    """The active device holding this token, or None."""
    if not token:
        return None
    row = conn.execute(
        "SELECT * FROM devices WHERE token_hash = ? AND active = 1", (hash_token(token),)
    ).fetchone()
    return row


def _check_printer(conn, printer_id):
    if printer_id is not None:
        found(conn.execute("SELECT 1 FROM printers WHERE id = ?", (printer_id,)).fetchone(),
              "printer", field=True)


def insert_device(conn, kind, name, printer_id, token, actor_id, config=None):
    """Insert a device inside the caller's write transaction (create_device's rule)."""
    fields = {}
    if kind not in DEVICE_KINDS:
        fields["kind"] = f"One of: {', '.join(DEVICE_KINDS)}."
    if not (name or "").strip():
        fields["name"] = "Required."
    check_fields(fields)
    _check_printer(conn, printer_id)
    row = conn.execute(
        "INSERT INTO devices (kind, name, token_hash, printer_id, config, active, created_at) "
        "VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING *",
        (kind, name.strip(), hash_token(token), printer_id, json.dumps(config or {}), now_iso()),
    ).fetchone()
    audit(conn, "device.create", f"device:{row['id']}", {"kind": kind, "name": name},
          user_id=actor_id)
    return row


def create_device(conn, kind, name, *, printer_id=None, actor_id=None):
    """Register a kiosk or display; returns the device with its token, shown only now."""
    token = secrets.token_urlsafe(32)
    row = write(conn, insert_device, kind, name, printer_id, token, actor_id)
    return {**device_dict(row), "token": token}


def create_keypad(conn, counter, *, actor_id=None):
    """Register a keypad bound to one counter (a dict with id, number, name); returns the
    device with its token, shown only now."""
    token = secrets.token_urlsafe(32)
    row = write(conn, insert_device, "keypad", f"Keypad {counter['name'] or counter['number']}", None,
                token, actor_id, {"counter_id": counter["id"]})
    return {**device_dict(row), "token": token}


UNSET = object()


def _update_device(conn, device_id, name, printer_id, agency_ids, actor_id):
    row = get_device(conn, device_id)
    changes = {}
    if name is not UNSET:
        if not (name or "").strip():
            check_fields({"name": "Required."})
        changes["name"] = name.strip()
    if printer_id is not UNSET:
        _check_printer(conn, printer_id)
        changes["printer_id"] = printer_id
    if agency_ids is not UNSET:
        for aid in agency_ids or []:
            get_agency(conn, aid)
        config = json.loads(row["config"] or "{}")
        config["agency_ids"] = agency_ids
        changes["config"] = json.dumps(config)
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        conn.execute(f"UPDATE devices SET {sets} WHERE id = ?", (*changes.values(), device_id))
        audit(conn, "device.update", f"device:{device_id}",
              {k: v for k, v in changes.items()}, user_id=actor_id)
    return get_device(conn, device_id)


def update_device(conn, device_id, *, name=UNSET, printer_id=UNSET, agency_ids=UNSET,
                  actor_id=None):
    """Rename a device, attach or detach its printer, or limit a display to some agencies."""
    return device_dict(write(conn, _update_device, device_id, name, printer_id, agency_ids, actor_id))


def list_devices(conn):
    """Every device."""
    return [device_dict(r) for r in conn.execute("SELECT * FROM devices ORDER BY id")]


# last_seen_ts is written at most this often per device (a write per request would cost
# more than the request).
TOUCH_EVERY_S = 60


def _touch_device(conn, device_id, ts):
    conn.execute("UPDATE devices SET last_seen_ts = ? WHERE id = ?", (ts, device_id))


def touch_device(conn, device, ts):
    """Remember that this device row was seen at `ts`, at most once a minute (best effort:
    queued behind the request's own writes, never waited for; a busy database drops it and
    the device's next request records it)."""
    if device["last_seen_ts"] is not None and ts - device["last_seen_ts"] < TOUCH_EVERY_S:
        return
    write_soon(conn, _touch_device, device["id"], ts)


# -- printers ------------------------------------------------------------------


PRINTER_FIELDS = {
    "network": {"host": str, "port": int},
    "serial": {"device": str, "baudrate": int},
    "usb": {"vendor_id": int, "product_id": int},
    "file": {"path": str},
    "agent": {},
}


def printer_dict(row):
    """A printer as the API shows it."""
    return {"id": row["id"], "name": row["name"], "transport": row["transport"],
            "config": json.loads(row["config"] or "{}"), "paper_mm": row["paper_mm"],
            "status": row["status"], "status_detail": row["status_detail"]}


def printer_brief(conn, printer_id):
    """A printer's id, name and status (None when there is no such printer)."""
    row = conn.execute("SELECT id, name, status FROM printers WHERE id = ?", (printer_id,)).fetchone()
    return dict(row) if row else None


def database_file(conn):
    """The path of the connection's main database file ("" for an in-memory one)."""
    return next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")


def _printer_config(conn, transport, options, file_dirs):
    fields = {}
    config = {}
    for key, kind in PRINTER_FIELDS[transport].items():
        value = options.get(key)
        if transport == "network" and key == "port" and value is None:
            value = 9100
        if transport == "serial" and key == "baudrate" and value is None:
            value = 9600
        if value is None or value == "":
            fields[key] = "Required."
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            fields[key] = "Must be an integer."
        elif kind is str and not isinstance(value, str):
            fields[key] = "Must be a string."
        else:
            config[key] = value
    if transport == "network" and "port" in config and not 1 <= config["port"] <= 65535:
        fields["port"] = "1 to 65535."
    path = options.get("path")
    if isinstance(path, str) and path:
        # The one rule (a path given is checked whatever the transport), also checked
        # before every job by the transport itself.
        from printer.transports import file_path_problem

        problem = file_path_problem(path, database_file(conn) or None, file_dirs)
        if problem:
            fields["path"] = problem
    return config, fields


def _create_printer(conn, name, transport, options, paper_mm, file_dirs, actor_id):
    fields = {}
    if not (name or "").strip():
        fields["name"] = "Required."
    if transport not in TRANSPORTS:
        fields["transport"] = f"One of: {', '.join(TRANSPORTS)}."
        config = {}
    else:
        config, more = _printer_config(conn, transport, options, file_dirs)
        fields.update(more)
    if paper_mm not in (58, 80):
        fields["paper_mm"] = "58 or 80."
    check_fields(fields)
    row = conn.execute(
        "INSERT INTO printers (name, transport, config, paper_mm, status, created_at) "
        "VALUES (?, ?, ?, ?, 'unknown', ?) RETURNING *",
        (name.strip(), transport, json.dumps(config), paper_mm, now_iso()),
    ).fetchone()
    audit(conn, "printer.create", f"printer:{row['id']}",
          {"name": name, "transport": transport, "config": config}, user_id=actor_id)
    return printer_dict(row)


def create_printer(conn, name, transport, options, *, paper_mm=80, file_dirs=(), actor_id=None):
    """Add a ticket printer with its transport's settings; a `file` printer writes only where
    printer.transports.file_path_problem allows (below `file_dirs` too: MPP_PRINT_FILE_DIRS)."""
    return write(conn, _create_printer, name, transport, options, paper_mm, tuple(file_dirs), actor_id)


# -- settings ------------------------------------------------------------------


def mpp_name(conn):
    """The MPP's name as the admin set it, else the default name."""
    return get_setting(conn, "mpp_name") or settings.MPP_NAME


def get_setting(conn, key, default=None):
    """A JSON setting, or the default."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def put_setting(conn, key, value, actor_id):
    """Store a JSON setting, audited, inside the caller's write transaction."""
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value, ensure_ascii=False)),
    )
    audit(conn, "setting.set", f"setting:{key}", {"value": value}, user_id=actor_id)


def set_setting(conn, key, value, *, actor_id=None):
    """Store a JSON setting, audited."""
    write(conn, put_setting, key, value, actor_id)
