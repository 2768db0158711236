"""MPP_MESSAGE_QUEUE for real: two building instances share events through Debian's
redis-server, behind nginx with ip_hash (deploy/nginx/giliran-building-cluster.conf)."""

import json
import time

import pytest
import requests

from conftest import Listener, Server
from deploy_helpers import Nginx, RedisServer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    redis = RedisServer(tmp).start(timeout=60)
    env = {"MPP_MESSAGE_QUEUE": redis.url}
    one = Server(tmp / "mpp.db", env={**env, "MPP_DEMO": "1"}).start(timeout=60)
    two = Server(tmp / "mpp.db", env=env).start(timeout=60)
    nginx = Nginx(tmp, "giliran-building-cluster.conf", {
        "listen 10.0.0.5:80;": "listen 127.0.0.1:{port};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{one.port};",
        "server 127.0.0.1:8002;": f"server 127.0.0.1:{two.port};",
    }).start(timeout=60)
    tokens = json.loads((tmp / "demo-devices.json").read_text())
    try:
        yield one, two, nginx, tokens
    finally:
        nginx.stop()
        two.stop()
        one.stop()
        redis.stop()


def test_a_call_on_either_instance_reaches_a_display_behind_nginx(cluster):
    one, two, nginx, tokens = cluster
    # The display goes through nginx; ip_hash puts it on one of the two, whichever.
    display = Listener(nginx.url, {"token": tokens["display"]})
    try:
        display.wait_for("snapshot")
        admin = {srv: srv.session("admin") for srv in (one, two)}
        services = {s["prefix"]: s for s in admin[one].get(one.url + "/api/v1/services").json()}
        sid = services["K"]["id"]  # Samsat: three counters, one service each way
        counters = [c for c in admin[one].get(one.url + "/api/v1/counters").json() if sid in c["service_ids"]]
        took = {}
        for srv, counter in ((one, counters[0]), (two, counters[1])):
            r = requests.post(srv.url + "/api/v1/tickets", json={"service_id": sid},
                              headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
            assert r.status_code == 201, r.text
            number = r.json()["number"]
            url = f"{srv.url}/api/v1/counters/{counter['id']}"
            assert admin[srv].post(url + "/open").status_code == 200
            t0 = time.monotonic()
            assert admin[srv].post(url + "/call-next").json()["number"] == number
            call = display.wait_for("ticket_called", timeout=5, where=lambda d, n=number: d["number"] == n)
            took[srv.port] = time.monotonic() - t0
            assert call["counter_id"] == counter["id"]
        # One of the two calls crossed instances through Redis; both were heard in time.
        assert all(t < 1.0 for t in took.values()), took
        print("call reached the display after", {k: f"{v * 1000:.0f} ms" for k, v in took.items()})
    finally:
        display.close()


def test_without_redis_the_other_instance_is_not_heard(tmp_path):
    """The control: the same two instances without the queue do not share events."""
    one = Server(tmp_path / "mpp.db", env={"MPP_DEMO": "1"}).start(timeout=60)
    two = Server(tmp_path / "mpp.db").start(timeout=60)
    try:
        tokens = json.loads((tmp_path / "demo-devices.json").read_text())
        display = Listener(one.url, {"token": tokens["display"]})
        display.wait_for("snapshot")
        admin = two.session("admin")
        sid = [s for s in admin.get(two.url + "/api/v1/services").json() if s["prefix"] == "M"][0]["id"]
        counter = [c for c in admin.get(two.url + "/api/v1/counters").json() if sid in c["service_ids"]][0]
        requests.post(two.url + "/api/v1/tickets", json={"service_id": sid},
                      headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
        admin.post(f"{two.url}/api/v1/counters/{counter['id']}/open")
        assert admin.post(f"{two.url}/api/v1/counters/{counter['id']}/call-next").status_code == 200
        with pytest.raises(AssertionError):
            display.wait_for("ticket_called", timeout=1.5)
        display.close()
    finally:
        two.stop()
        one.stop()
