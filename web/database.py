"""The connection's lifetime: one per request (or per socket handler), closed after."""

from contextlib import contextmanager

from flask import current_app, g

from db.connection import connect


def get_db():
    """This request's connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(exc=None):
    """Close this request's connection, if one was opened."""
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


@contextmanager
def db_session(app=None):
    """A connection for code outside a request: socket handlers, workers, CLI."""
    app = app or current_app
    conn = connect(app.config["DATABASE"])
    try:
        yield conn
    finally:
        conn.close()


def clock():
    """The MPP's clock."""
    return current_app.extensions["giliran"].clock
