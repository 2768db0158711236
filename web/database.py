"""The connection's lifetime: one per request (or per socket handler), closed after."""

from contextlib import contextmanager

from flask import current_app, g



def get_db():
    """This request's connection, taken from the pool on first use."""
    if "db" not in g:
        g.db = current_app.extensions["giliran"].pool.get()
    return g.db


def close_db(exc=None):
    """Give this request's connection back to the pool."""
    conn = g.pop("db", None)
    if conn is not None:
        current_app.extensions["giliran"].pool.put(conn)


@contextmanager
def db_session(app=None):
    """A connection for code outside a request (socket handlers, workers), from the pool.

    Its writes go through the server's one writer, like a request's.
    """
    pool = (app or current_app).extensions["giliran"].pool
    conn = pool.get()
    try:
        yield conn
    finally:
        pool.put(conn)


def clock():
    """The MPP's clock."""
    return current_app.extensions["giliran"].clock
