"""Real redis-server and nginx for the deployment tests, on loopback ports, in tmp dirs.

Both binaries come from Debian (scripts/setup.sh installs redis-server and nginx);
a missing one fails the test, it is never skipped.
"""

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, free_port

DEPLOY = ROOT / "deploy"


def _binary(name, *candidates):
    for path in (shutil.which(name), *candidates):
        if path and Path(path).exists():
            return path
    pytest.fail(f"{name} is missing: run ./scripts/setup.sh (it installs Debian's {name})")


def _wait_port(port, proc, log, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited: {Path(log).read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened: {Path(log).read_text()[-2000:]}")


def end(proc, sig):
    """Ask a process we started to stop with `sig`; kill it after 10 s."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Process:
    proc = None

    def stop(self):
        end(self.proc, signal.SIGTERM)


class RedisServer(Process):
    """Debian's redis-server on a free loopback port, nothing kept on disk."""

    def __init__(self, tmp):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tmp) / f"redis-{self.port}"
        self.dir.mkdir(parents=True)
        self.log = self.dir / "redis.log"

    def start(self, timeout=20):
        binary = _binary("redis-server", "/usr/bin/redis-server")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no"],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(self.port, self.proc, self.log, timeout)
        return self


class Nginx(Process):
    """Debian's nginx running one of deploy/nginx's sites, with its own prefix, pid and logs.

    `replace` maps strings of the site file (its LAN/public listen lines and
    upstream addresses) to the test's loopback ports.
    """

    def __init__(self, tmp, site, replace):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prefix = Path(tmp) / f"nginx-{self.port}"
        (self.prefix / "logs").mkdir(parents=True)
        text = (DEPLOY / "nginx" / site).read_text()
        for old, new in {**replace, "listen [::]:80;": ""}.items():
            assert old in text or old == "listen [::]:80;", f"{old!r} not in {site}"
            text = text.replace(old, new.replace("{port}", str(self.port)))
        (self.prefix / "site.conf").write_text(text)
        user = "" if os.geteuid() else f"user {getpass.getuser()};"
        (self.prefix / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {self.prefix}/logs/access.log;
    client_body_temp_path {self.prefix}/body;
    proxy_temp_path {self.prefix}/proxy;
    fastcgi_temp_path {self.prefix}/fastcgi;
    uwsgi_temp_path {self.prefix}/uwsgi;
    scgi_temp_path {self.prefix}/scgi;
    include {self.prefix}/site.conf;
}}
""")
        self.log = self.prefix / "logs" / "error.log"

    def start(self, timeout=20):
        binary = _binary("nginx", "/usr/sbin/nginx")
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-e", str(self.log), "-c", str(self.prefix / "nginx.conf")],
            stdout=open(self.prefix / "logs" / "stdout.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        _wait_port(self.port, self.proc, self.log, timeout)
        return self

    def stop(self):
        end(self.proc, signal.SIGQUIT)  # nginx's graceful stop; its workers leave with the master
