"""settings.py: the installation's MPP_* settings, their defaults, and the README's table of them."""

import re
from pathlib import Path

import pytest

import settings

ROOT = Path(__file__).resolve().parent.parent


def test_readme_table_lists_every_setting():
    table = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"`MPP_([A-Z0-9_]+)`", table))
    assert set(settings.DEFAULTS) - listed == set()


def test_no_module_of_the_app_reads_the_environment_itself():
    readers = []
    for path in ROOT.glob("**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "tests", "bench", "examples") or rel.name == "settings.py":
            continue
        text = path.read_text()
        if "os.environ.get(\"MPP_" in text or "environ.get(f\"MPP_" in text:
            readers.append(str(rel))
    assert readers == []


@pytest.mark.parametrize("config, env, expected", [
    ({}, None, 60),
    ({}, "90", 90),
    ({"KIOSK_IDLE_S": 20}, "90", 20),
    ({}, "1", 5),
    ({}, "100000", 600),
    ({}, "soon", 60),
], ids=["default", "environment", "config-wins", "clamped-low", "clamped-high", "not-a-number"])
def test_number_config_then_environment_then_default(monkeypatch, config, env, expected):
    if env is None:
        monkeypatch.delenv("MPP_KIOSK_IDLE_S", raising=False)
    else:
        monkeypatch.setenv("MPP_KIOSK_IDLE_S", env)
    assert settings.number("KIOSK_IDLE_S", config, low=5, high=600, cast=int) == expected


def test_a_rules_own_default_is_passed_in(monkeypatch):
    monkeypatch.delenv("MPP_WEBHOOK_RETRY_MIN_S", raising=False)
    assert settings.number("WEBHOOK_RETRY_MIN_S", {}, 10.0) == 10.0
    monkeypatch.setenv("MPP_WEBHOOK_RETRY_MIN_S", "0.5")
    assert settings.number("WEBHOOK_RETRY_MIN_S", {}, 10.0) == 0.5


def test_app_config_takes_only_what_the_environment_sets(monkeypatch):
    for name in settings.APP_CONFIG + ("DEMO",):
        monkeypatch.delenv(f"MPP_{name}", raising=False)
    monkeypatch.setenv("MPP_TIMEZONE", "Asia/Makassar")
    monkeypatch.setenv("MPP_DEMO", "1")
    monkeypatch.setenv("MPP_PUBLIC_URL", "")
    assert settings.app_config() == {"TIMEZONE": "Asia/Makassar", "DEMO": True}


def test_the_default_mpp_name_shows_until_the_admin_sets_one(client):
    assert settings.MPP_NAME in client.get("/").get_data(as_text=True)
