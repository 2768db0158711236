"""Server-side sessions: a copied cookie dies at logout, at a password reset, at
deactivation, after the idle time and after a shift, however busy (issue 12, point 4)."""

import sqlite3

import pytest

from conftest import PASSWORD, login
from db import migrations
from db.connection import connect


def me(client):
    return client.get("/api/v1/auth/me").status_code


def copied(app, client):
    """A second client holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("giliran_session")
    thief.set_cookie("giliran_session", cookie.value)
    return thief


def _user_id(api, username):
    admin = login(api.app, "admin")
    return next(u["id"] for u in admin.get("/api/v1/users").json if u["username"] == username)


def test_login_answers_exactly_the_contract_and_a_session_row(api):
    r = api.app.test_client().post("/api/v1/auth/login", json={"username": "officer", "password": PASSWORD})
    assert r.status_code == 200
    assert set(r.json) == {"user"}
    assert {"id", "username", "role", "agency_id"} <= set(r.json["user"])
    assert "password" not in str(r.json) and "token" not in str(r.json)
    with sqlite3.connect(api.app.config["DATABASE"]) as db:
        rows = db.execute("SELECT user_id, ended_ts FROM sessions").fetchall()
    assert rows == [(r.json["user"]["id"], None)]


def end_by_logout(api, victim):
    assert victim.post("/api/v1/auth/logout").status_code == 204


def end_by_password_reset(api, victim):
    admin = login(api.app, "admin")
    r = admin.post(f"/api/v1/users/{_user_id(api, 'officer')}/password", json={"password": "sandi-baru-99"})
    assert r.status_code == 204, r.json


def end_by_deactivation(api, victim):
    admin = login(api.app, "admin")
    r = admin.patch(f"/api/v1/users/{_user_id(api, 'officer')}", json={"active": False})
    assert r.status_code == 200, r.json


def end_by_idle(api, victim):
    api.clock.advance(api.app.config["SESSION_IDLE_S"] + 1)


def end_by_shift(api, victim):
    # Busy all day (a request every hour, never idle): still ends after the absolute lifetime.
    for _ in range(13):
        api.clock.advance(3600)
        assert me(victim) == 200
    api.clock.advance(3601)


@pytest.mark.parametrize("end", [end_by_logout, end_by_password_reset, end_by_deactivation,
                                 end_by_idle, end_by_shift],
                         ids=["logout", "password_reset", "deactivation", "idle_4h", "shift_14h"])
def test_a_copied_cookie_dies_with_its_session(api, end):
    victim = login(api.app, "officer")
    thief = copied(api.app, victim)
    assert me(thief) == 200
    end(api, victim)
    assert me(thief) == 401
    assert thief.post(f"/api/v1/counters/{api.c1}/open").status_code == 401


def test_a_password_reset_ends_every_session_of_that_user_only(api):
    a, b = login(api.app, "officer"), login(api.app, "officer")
    other = login(api.app, "super")
    end_by_password_reset(api, a)
    assert (me(a), me(b), me(other)) == (401, 401, 200)
    # The new password opens a new session.
    r = api.app.test_client().post("/api/v1/auth/login", json={"username": "officer", "password": "sandi-baru-99"})
    assert r.status_code == 200


def test_logout_ends_only_its_own_session(api):
    a, b = login(api.app, "officer"), login(api.app, "officer")
    end_by_logout(api, a)
    assert (me(a), me(b)) == (401, 200)


def test_an_admin_resetting_their_own_password_is_logged_out(api):
    admin = login(api.app, "admin")
    r = admin.post(f"/api/v1/users/{_user_id(api, 'admin')}/password", json={"password": "sandi-baru-99"})
    assert r.status_code == 204
    assert me(admin) == 401


def test_an_old_style_cookie_with_only_a_user_id_is_refused(api):
    """A cookie signed before the upgrade (uid, no session id) no longer logs anyone in."""
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(api.app)
    c = api.app.test_client()
    c.set_cookie("giliran_session", serializer.dumps({"uid": 1, "_permanent": True}))
    assert me(c) == 401


def test_migration_6_adds_sessions_to_a_database_with_users(tmp_path, clock):
    from db import accounts

    conn = connect(tmp_path / "old.db")
    migrations.migrate(conn, upto=5)
    accounts.create_user(conn, "lama", PASSWORD, "admin")
    assert migrations.migrate(conn) == [6]
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    assert conn.execute("SELECT username FROM users").fetchall()[0][0] == "lama"
    from db import sessions

    sid, token = sessions.start_session(conn, 1, clock.ts())
    assert sessions.live_session(conn, token, clock.ts())["id"] == sid
    assert sessions.live_session(conn, token + "x", clock.ts()) is None
    conn.close()
