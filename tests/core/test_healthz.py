from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def test_it_reports_the_database_and_broker(client, db):
    # The test client calls from 127.0.0.1: this machine sees the detail.
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


def test_a_remote_caller_learns_only_ok(client, db):
    response = client.get("/healthz", **REMOTE)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_remote_caller_learns_only_error_when_the_database_is_down():
    env = dict(os.environ, SECRET_KEY="x", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    code = (
        "import django; django.setup(); from django.test import Client;"
        "r = Client().get('/healthz', REMOTE_ADDR='203.0.113.9');"
        "print(r.status_code); print(r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    status, body = result.stdout.strip().split("\n", 1)
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "error"}


def test_the_token_gives_the_detail_to_a_remote_caller(client, db, settings):
    settings.HEALTHZ_TOKEN = "s3cret-token-for-monitoring"
    by_header = client.get("/healthz", HTTP_X_HEALTHZ_TOKEN=settings.HEALTHZ_TOKEN, **REMOTE)
    assert by_header.json()["database"]["status"] == "ok"
    by_query = client.get(f"/healthz?token={settings.HEALTHZ_TOKEN}", **REMOTE)
    assert "broker" in by_query.json()
    wrong = client.get("/healthz", HTTP_X_HEALTHZ_TOKEN="guess", **REMOTE)
    assert wrong.json() == {"status": "ok"}


def test_no_token_configured_means_no_token_works(client, db, settings):
    settings.HEALTHZ_TOKEN = ""
    assert client.get("/healthz?token=", **REMOTE).json() == {"status": "ok"}


def test_a_forged_forwarded_for_does_not_pass_for_localhost(client, db):
    response = client.get("/healthz", HTTP_X_FORWARDED_FOR="127.0.0.1", **REMOTE)
    assert response.json() == {"status": "ok"}


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
