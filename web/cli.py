"""Commands an operator runs by hand: `flask --app wsgi <command>`."""

import json
from pathlib import Path

import click
from flask import current_app

import settings
from db import migrations
from db.connection import connect
from db.demo import DEMO_PASSWORD


def _base_url():
    host, _, port = settings.get("BIND").rpartition(":")
    if host in ("0.0.0.0", "", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


@click.command("init-db")
def init_db():
    """Create or upgrade the database (the server also does this at start)."""
    conn = connect(current_app.config["DATABASE"])
    ran = migrations.migrate(conn)
    conn.close()
    click.echo(f"{current_app.config['DATABASE']}: applied {ran or 'nothing'}; "
               f"schema version {migrations.latest()}")


@click.command("demo-links")
def demo_links():
    """Print where to open the demo MPP and how to log in."""
    path = Path(current_app.config["DATABASE"]).resolve().parent / "demo-devices.json"
    base = _base_url()
    click.echo(f"\nGiliran demo MPP: {base}")
    click.echo(f"  People (password {DEMO_PASSWORD}): admin, supervisor, petugas1..petugas4")
    click.echo(f"  Counter console:      {base}/counter  (petugas1/petugas2: Dukcapil, "
               "petugas3: Imigrasi, petugas4: Samsat)")
    if path.exists():
        tokens = json.loads(path.read_text())
        click.echo(f"  Kiosk device token:   {tokens['kiosk']}")
        click.echo(f"  Demo kiosk:           {base}/kiosk?token={tokens['kiosk']}")
        click.echo(f"  Display device token: {tokens['display']}")
        click.echo(f"  Demo display (TV):    {base}/display?token={tokens['display']}")
    click.echo(f"  API: {base}/api/v1/openapi.json\n")


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def backup(out):
    """Write a consistent copy of the live database to OUT (safe while the server runs; for cron)."""
    from db.admin import backup as backup_db

    conn = connect(current_app.config["DATABASE"])
    try:
        backup_db(conn, out)
    finally:
        conn.close()
    click.echo(f"{current_app.config['DATABASE']} -> {out}")


def register(app):
    """Add the commands to the app's CLI."""
    for command in (init_db, demo_links, backup):
        app.cli.add_command(command)
