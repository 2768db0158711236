"""Rules that used to live in the surfaces, called as db/ functions with plain values (the
routes call the same ones): who a supervisor's lists cover, a keypad, a file printer's path,
the display settings, the counter's figures."""

import io
import json

import pytest

from db import accounts, counter_stats, queue, tickets
from db import display as display_db
from db.errors import Invalid

SCOPES = [
    ("admin-every-agency", "admin", None, None, None),
    ("admin-one-agency", "admin", None, 7, 7),
    ("supervisor-own-agency", "supervisor", 3, None, 3),
    ("supervisor-cannot-widen", "supervisor", 3, 7, 3),
    ("officer-own-agency", "officer", 3, 7, 3),
]


@pytest.mark.parametrize("role, own, wanted, scope", [s[1:] for s in SCOPES], ids=[s[0] for s in SCOPES])
def test_agency_scope(role, own, wanted, scope):
    assert accounts.agency_scope(role, own, wanted) == scope


def test_users_listed_for_one_agency(world):
    accounts.create_user(world.conn, "sup-dukcapil", "rahasia-123", "supervisor", agency_id=world.dukcapil)
    accounts.create_user(world.conn, "sup-samsat", "rahasia-123", "supervisor", agency_id=world.samsat)
    assert [u["username"] for u in accounts.list_users(world.conn, world.dukcapil)] == ["sup-dukcapil"]
    assert {"sup-dukcapil", "sup-samsat"} <= {u["username"] for u in accounts.list_users(world.conn)}


def test_a_keypad_is_bound_to_its_counter(world):
    counter = queue.counter_dict(world.conn, world.clock, world.c2)
    keypad = accounts.create_keypad(world.conn, counter)
    row = accounts.device_by_token(world.conn, keypad["token"])
    assert row["kind"] == "keypad" and keypad["name"] == "Keypad Loket 2"
    assert json.loads(row["config"]) == {"counter_id": world.c2}


@pytest.mark.parametrize("where", ["the-database-folder", "relative", "etc"])
def test_a_file_printer_is_refused_by_the_db_rule(world, db_path, where):
    path = {"the-database-folder": str(db_path.parent / "tickets.bin"), "relative": "tickets.bin",
            "etc": "/etc/cron.d/giliran"}[where]
    with pytest.raises(Invalid) as refused:
        accounts.create_printer(world.conn, "P", "file", {"path": path})
    assert "path" in refused.value.fields
    assert world.conn.execute("SELECT count(*) FROM printers").fetchone()[0] == 0


def test_a_file_printer_below_an_extra_folder(world, tmp_path_factory):
    extra = tmp_path_factory.mktemp("spool")
    printer = accounts.create_printer(world.conn, "P", "file", {"path": str(extra / "t.bin")},
                                      file_dirs=[str(extra)])
    assert printer["config"] == {"path": str(extra / "t.bin")}


def test_display_settings_rules(conn):
    with pytest.raises(Invalid) as refused:
        display_db.save_settings(conn, {"voice_pack": "rekaman", "mpp_name": "MPP Baru"}, ready_packs={"default"})
    assert refused.value.code == "unknown_voice_pack"
    assert display_db.display_settings(conn)["mpp_name"] == "Mal Pelayanan Publik"  # nothing changed
    saved = display_db.save_settings(conn, {"voice_pack": "rekaman", "running_text": " Tutup \n pukul  15.00 "},
                                     ready_packs={"default", "rekaman"})
    assert saved["voice_pack"] == "rekaman" and saved["running_text"] == "Tutup pukul 15.00"


def test_media_from_a_stream_typed_by_its_content(conn, db_path):
    with pytest.raises(Invalid) as refused:
        display_db.add_media(conn, db_path, io.BytesIO(b"MZ\x90\x00 not a picture"), "foto.png")
    assert refused.value.code == "unsupported_file"
    assert display_db.list_media(conn) == []


def test_counter_figures_and_no_show_rules(world):
    tickets.open_counter(world.conn, world.clock, world.c1)
    tickets.issue(world.conn, world.clock, world.ktp)
    tickets.call_next(world.conn, world.clock, world.c1)
    tickets.no_show(world.conn, world.clock, world.c1)
    figures = counter_stats.counter_stats(world.conn, world.clock, world.c1)
    assert figures["counter"]["no_shows"] == 1 and figures["me"] is None
    assert counter_stats.no_show_rules(world.conn) is None
    assert counter_stats.console_no_show_rules(world.conn)["enforced"] is False
    accounts.set_setting(world.conn, "no_show_rules", {"min_calls": 3, "min_wait_s": 60})
    assert counter_stats.console_no_show_rules(world.conn) == {"min_calls": 3, "min_wait_s": 60, "enforced": True}
