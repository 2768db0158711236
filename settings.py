"""What an installation sets in its environment, with the defaults, in one place.

Every setting NAME is the environment variable `MPP_<NAME>`; the app's config
(`create_app(test_config)`) wins over the environment, the environment over
the default here. The README's table lists them all. This module imports
nothing of the app: gunicorn.conf.py and worker.py read it before gevent
patches the worker. Defaults that are a rule of the queue (a webhook's
back-off, a print job's attempts) stay beside their rule in db/ and are passed
in by the caller.
"""

import os

# The MPP's name until the admin sets one (the `mpp_name` setting).
MPP_NAME = "Mal Pelayanan Publik"

DEFAULTS = {
    "DATABASE": "instance/mpp.db",
    "BIND": "0.0.0.0:8000",
    "SECRET_KEY": None,  # generated once and kept beside the database
    "ADMIN_PASSWORD": None,
    "TIMEZONE": "Asia/Jakarta",
    "CLOCK_OFFSET_S": 0.0,  # tests and drills shift the server's clock
    "DEMO": None,  # "1": load the demo MPP into an empty database
    "PUBLIC_URL": None,
    "MESSAGE_QUEUE": None,
    "SURFACE": None,  # "public": only the citizens' pages
    "PRINT_FILE_DIRS": None,
    "TRUSTED_PROXIES": None,
    "WORKER_CLASS": "gevent",
    "ACCESS_LOG": None,
    "LOG_LEVEL": "info",
    "KIOSK_ISSUES_PER_MINUTE": 120,
    "LOGIN_FAILURES_PER_ADDRESS": "20 per 5 minutes",
    "LOGIN_FAILURES_PER_ACCOUNT": "10 per 5 minutes",
    "BODY_TIMEOUT_S": 5.0,
    "BODY_MIN_RATE": 50_000,  # bytes per second
    "SOCKET_CONNECT_TIMEOUT_S": 10.0,
    "MAX_CONNECTIONS_PER_ADDRESS": 200,
    "KIOSK_IDLE_S": 60,
    "KIOSK_TICKET_S": 30,
    # A scanner types a character every few milliseconds; a finger on a screen
    # never comes close. Keystrokes closer than this, ending in Enter, are a scan.
    "KIOSK_SCAN_GAP_MS": 50,
    "PRINT_MAX_ATTEMPTS": None,  # db/printjobs.py DEFAULT_MAX_ATTEMPTS, or the admin's setting
    "PRINT_RETRY_MIN_S": 2.0,
    "PRINT_RETRY_MAX_S": 30.0,
    "PRINTER_STATUS_S": 10.0,
    "WEBHOOK_CONNECT_TIMEOUT_S": 3.0,
    "WEBHOOK_TIMEOUT_S": 10.0,
    "WEBHOOK_LEASE_S": 60.0,
    "WEBHOOK_SCHEDULE_S": 15.0,
    # None: the rule's own default in db/webhooks.py (RETRY_MIN_S, RETRY_MAX_S, PAUSE_AFTER_S, KEEP_S).
    "WEBHOOK_RETRY_MIN_S": None,
    "WEBHOOK_RETRY_MAX_S": None,
    "WEBHOOK_PAUSE_AFTER_S": None,
    "WEBHOOK_KEEP_DAYS": None,
}

# Set in the environment, these become the app's config of the same name.
APP_CONFIG = ("DATABASE", "TIMEZONE", "ADMIN_PASSWORD", "PUBLIC_URL", "MESSAGE_QUEUE",
              "CLOCK_OFFSET_S", "PRINT_FILE_DIRS", "TRUSTED_PROXIES", "BIND", "SURFACE",
              "KIOSK_ISSUES_PER_MINUTE", "LOGIN_FAILURES_PER_ADDRESS",
              "LOGIN_FAILURES_PER_ACCOUNT", "SECRET_KEY")


def raw(name, config=None):
    """The setting as given (config, then MPP_<name>), or None if neither sets it."""
    value = (config or {}).get(name)
    if value is None or value == "":
        value = os.environ.get(f"MPP_{name}") or None
    return value


def get(name, config=None, default=None):
    """The setting as text (or the config's own value), else `default`, else DEFAULTS."""
    value = raw(name, config)
    if value is not None:
        return value
    return default if default is not None else DEFAULTS.get(name)


def number(name, config=None, default=None, *, low=None, high=None, cast=float):
    """The setting as a number kept within [low, high]; the default if unset or not a number."""
    fallback = default if default is not None else DEFAULTS.get(name)
    value = raw(name, config)
    try:
        value = cast(value) if value is not None else fallback
    except (TypeError, ValueError):
        value = fallback
    if value is None:
        return None
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    return value


def app_config():
    """The app's config given by the environment (only what it sets)."""
    config = {name: os.environ[f"MPP_{name}"] for name in APP_CONFIG if os.environ.get(f"MPP_{name}")}
    if os.environ.get("MPP_DEMO") == "1":
        config["DEMO"] = True
    return config
