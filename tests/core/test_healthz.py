from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_reports_the_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] in {"ok", "not_configured"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_is_503_when_the_database_is_down():
    # A real unreachable PostgreSQL (nothing listens on port 1), in a fresh process.
    env = dict(os.environ, SECRET_KEY="x", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    code = (
        "import django, json; django.setup(); from django.test import Client;"
        "r = Client().get('/healthz'); print(r.status_code); print(r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    status, body = result.stdout.strip().split("\n", 1)
    assert status == "503", result.stderr
    assert json.loads(body)["database"]["status"] == "error"


def test_a_dead_broker_is_reported_but_the_app_stays_up(client, db, settings):
    # Nothing listens on port 1: a real refused connection.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"]["status"] == "error"


def test_a_live_broker_is_ok(client, db, settings):
    import os

    import pytest

    url = os.environ.get("CELERY_BROKER_URL")
    if not url:
        pytest.skip("CELERY_BROKER_URL is not set: no broker to check (CI sets it).")
    settings.CELERY_BROKER_URL = url
    assert client.get("/healthz").json()["broker"] == {"status": "ok"}
