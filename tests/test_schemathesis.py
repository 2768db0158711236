"""Schemathesis over the served OpenAPI document, against a real gunicorn with the demo MPP:
no 5xx, every status documented, every answer matching its schema."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT, Server

pytestmark = pytest.mark.server

EXAMPLES = int(os.environ.get("GILIRAN_FUZZ_EXAMPLES", "25"))


def test_api_conforms_to_its_openapi_document(tmp_path):
    srv = Server(tmp_path / "mpp.db", env={"MPP_DEMO": "1"}).start()
    try:
        admin = srv.session("admin")
        # Some counters open with tickets waiting, so actions reach their real rules.
        for service_id in (1, 2, 4):
            for _ in range(3):
                admin.post(srv.url + "/api/v1/tickets", json={"service_id": service_id})
        for counter_id in (1, 2, 5):
            admin.post(srv.url + f"/api/v1/counters/{counter_id}/open")
        cookie = admin.cookies.get("giliran_session")
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
               "PYTHONPATH": str(ROOT / "tests")}
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", srv.url + "/api/v1/openapi.json",
             "-H", f"Cookie: giliran_session={cookie}",
             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                         "response_schema_conformance",
             "--exclude-path", "/api/v1/auth/logout",
             "--max-examples", str(EXAMPLES), "--phases", "examples,coverage,fuzzing",
             "--workers", "2", "--seed", "20261124"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "passed" in run.stdout
        assert "5xx" not in run.stdout
        assert "Traceback" not in srv.log.read_text()
    finally:
        srv.stop()
