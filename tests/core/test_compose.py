"""No Docker engine runs here, so the compose file is checked by reading it."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_has_the_six_services_with_health_checks():
    services = load()["services"]
    assert set(services) == {"postgres", "redis", "mailpit", "web", "worker", "beat"}
    for name in ("postgres", "redis", "mailpit", "web", "worker"):
        assert "test" in services[name]["healthcheck"], name


def test_the_app_sends_mail_to_mailpit_by_smtp():
    """Reset and sign-up links go to the local mail catcher, never to the log."""
    services = load()["services"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    # Its web inbox is published on this machine only.
    assert services["mailpit"]["ports"] == ["127.0.0.1:8025:8025"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
        assert env["EMAIL_HOST"] == "${EMAIL_HOST:-mailpit}"
        assert env["EMAIL_PORT"] == "${EMAIL_PORT:-1025}"
        assert services[name]["depends_on"]["mailpit"]["condition"] == "service_healthy"


def test_the_demo_runs_without_tls_and_the_image_builds_with_debug_off():
    services = load()["services"]
    assert services["web"]["environment"]["HTTPS"] == "${HTTPS:-false}"
    # collectstatic runs with DEBUG off, so it needs a (throwaway) mail host.
    assert "EMAIL_HOST=build-only" in (ROOT / "Dockerfile").read_text()


def test_the_database_lives_on_a_named_volume():
    compose = load()
    assert "pgdata" in compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


def test_web_migrates_then_serves_with_gunicorn():
    command = load()["services"]["web"]["command"]
    assert command.index("migrate") < command.index("gunicorn ldn_diary.wsgi:application")


def test_worker_and_beat_run_celery_against_this_app():
    services = load()["services"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "ldn_diary", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "ldn_diary", "beat"]


def test_app_services_share_env_and_wait_for_healthy_dependencies():
    services = load()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "false" and "SECRET_KEY" in env
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_every_app_variable_is_one_the_settings_know():
    example = (ROOT / ".env.example").read_text()
    for name in load()["services"]["web"]["environment"]:
        assert f"{name}=" in example, name


def test_the_image_builds_from_our_dockerfile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "collectstatic" in dockerfile
    assert load()["services"]["web"]["build"] == "."


def test_the_image_installs_the_runtime_lock_with_hashes_and_nothing_else():
    """Every pip install in the image is of requirements/base.txt, in hash-checking mode."""
    installs = [
        line.split()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if "pip install" in line
    ]
    assert installs, "the Dockerfile installs nothing"
    for words in installs:
        assert "--require-hashes" in words, words
        assert words[words.index("-r") + 1] == "requirements/base.txt", words
        assert "-e" not in words and "." not in words, words
    # The lock it names is a real hashed lock of the runtime dependencies only.
    lock = (ROOT / "requirements/base.txt").read_text()
    assert "--hash=sha256:" in lock
    for dev_only in ("pytest==", "mypy==", "ruff==", "pip-tools=="):
        assert dev_only not in lock, dev_only


def test_dockerignore_keeps_secrets_local_state_and_caches_out_of_the_image():
    entries = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    wanted = {
        ".git",
        ".env",
        ".venv",
        "db.sqlite3*",
        "**/__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        ".mypy_cache",
        ".hypothesis",
        "staticfiles/",
        "bench/out/",
    }
    assert wanted <= entries, sorted(wanted - entries)
