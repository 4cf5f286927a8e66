"""Settings come from the environment and are parsed strictly; each case starts a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Django's own loading of the settings module (and its checks of the values), in a fresh process
# with the environment given; not django.setup(), whose loading of every app took about 1 s more
# a probe and tells nothing about the settings.
PROBE = "from django.conf import settings as s; s.DEBUG; print({})"  # s.DEBUG loads the module


def run_settings(expr: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    base.update(DJANGO_SETTINGS_MODULE="ldn_diary.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(expr)],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_boolean_is_an_error_not_false():
    result = run_settings("s.DEBUG", DEBUG="maybe", SECRET_KEY="x")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr and "Not a valid boolean" in result.stderr


def test_booleans_accept_the_usual_spellings():
    for raw, expected in (("true", "True"), ("1", "True"), ("no", "False"), ("off", "False")):
        result = run_settings("s.DEBUG", DEBUG=raw, SECRET_KEY="x")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


def test_secret_key_is_required_when_debug_is_off():
    result = run_settings("s.SECRET_KEY", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "must be set" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = run_settings("bool(s.SECRET_KEY)", DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file\n")
    result = run_settings("s.SECRET_KEY", SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-a-file"


def test_an_unreadable_secret_key_file_is_an_error(tmp_path):
    result = run_settings("s.SECRET_KEY", SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "SECRET_KEY_FILE" in result.stderr


def test_database_defaults_to_sqlite_and_parses_postgres_urls():
    result = run_settings("s.DATABASES['default']['ENGINE']", SECRET_KEY="x", DATABASE_URL="")
    assert result.stdout.strip() == "django.db.backends.sqlite3", result.stderr
    result = run_settings(
        "(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'])",
        SECRET_KEY="x",
        DATABASE_URL="postgres://u:p@db.example:5432/ldn",
    )
    assert result.stdout.strip() == "('django.db.backends.postgresql', 'ldn')", result.stderr


def test_a_bad_database_url_is_an_error():
    result = run_settings("1", SECRET_KEY="x", DATABASE_URL="nonsense://")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_no_broker_means_eager_tasks_that_propagate_errors():
    result = run_settings(
        "(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_TASK_EAGER_PROPAGATES)",
        SECRET_KEY="x",
        CELERY_BROKER_URL="",
    )
    assert result.stdout.strip() == "(True, True)", result.stderr
    result = run_settings(
        "s.CELERY_TASK_ALWAYS_EAGER", SECRET_KEY="x", CELERY_BROKER_URL="redis://r:6379/0"
    )
    assert result.stdout.strip() == "False", result.stderr


def test_env_example_lists_every_variable_the_settings_read():
    settings_src = (ROOT / "ldn_diary" / "settings.py").read_text()
    import re

    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_src))
    read |= {f"{name}" for name in re.findall(r'_secret\(\s*"([A-Z_]+)"', settings_src)}
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - listed == set()


def test_models_and_migrations_agree(db):
    from django.core.management import call_command

    # Exits non-zero (SystemExit) if a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
