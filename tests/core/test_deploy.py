"""Production settings: `manage.py check --deploy` is clean, HTTPS and HSTS are on by default."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra: str) -> dict[str, str]:
    # Not the test process's own switches; DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests'
    # fixture (tests/conftest.py) and would be a deployment error of its own.
    test_only = {
        "DEBUG",
        "SECRET_KEY",
        "HTTPS",
        "SECURE_COOKIES",
        "STATIC_PLAIN",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        DJANGO_SETTINGS_MODULE="ldn_diary.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="ldn.example.org",
        EMAIL_HOST="smtp.example.org",
        **extra,
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_no_warnings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_tls_check_deploy_says_what_is_missing():
    """HTTPS=false (a deployment without TLS) is allowed, and check --deploy says what it costs."""
    result = run(["manage.py", "check", "--deploy"], production_env(HTTPS="false"))
    output = result.stdout + result.stderr
    assert "security.W004" in output and "security.W008" in output


PROBE = """
import django; django.setup()
from django.test import Client
r = Client(HTTP_HOST="ldn.example.org").get("/accounts/login/", secure=True)
print(r.status_code)
print(r.get("Strict-Transport-Security", ""))
print(Client(HTTP_HOST="ldn.example.org").get("/accounts/login/")["Location"])
print(Client(HTTP_HOST="ldn.example.org").get("/healthz").status_code)
"""


def test_production_sends_hsts_and_redirects_plain_http(tmp_path):
    # An empty database: none of these requests reads a table (the health check runs SELECT 1).
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", STATIC_PLAIN="true")
    result = run(["-c", PROBE], env)
    status, hsts, location, health = result.stdout.strip().splitlines()[-4:]
    assert status == "200", result.stderr
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert location == "https://ldn.example.org/accounts/login/"
    # Health checks call over plain HTTP from inside the container.
    assert health == "200"
