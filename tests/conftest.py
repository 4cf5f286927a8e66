"""Named users, in the manner of healthchecks' tests: Alice the patient, Bob another patient,
Carol her clinician, Dave a clinician with no access to her, Mona a support-group moderator."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldn_diary.accounts.models import Role, User
from ldn_diary.accounts.services import user_create

PASSWORD = "correct horse battery staple"


def make_user(username: str, role: str, **extra: str) -> User:
    user, _ = user_create(
        username=username, role=role, email=f"{username}@example.org", password=PASSWORD, **extra
    )
    return user


@pytest.fixture
def alice(db) -> User:
    return make_user("alice", Role.PATIENT, display_name="Alice", time_zone="Europe/London")


@pytest.fixture
def bob(db) -> User:
    return make_user("bob", Role.PATIENT, display_name="Bob")


@pytest.fixture
def carol(db, alice) -> User:
    """Alice's clinician: linked to Alice through the consent service."""
    from ldn_diary.clinic.services import link_grant

    carol = make_user("carol", Role.CLINICIAN, display_name="Dr Carol")
    link_grant(patient=alice, clinician=carol)
    return carol


@pytest.fixture
def dave(db) -> User:
    return make_user("dave", Role.CLINICIAN, display_name="Dr Dave")


@pytest.fixture
def mona(db) -> User:
    return make_user("mona", Role.MODERATOR, display_name="Mona")


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Run Celery tasks eagerly in tests even when CI sets CELERY_BROKER_URL.

    The real broker and a real worker are exercised on purpose in tests marked ``integration``
    (tests/trends/test_worker.py), which switch this off through the ``real_broker`` fixture.
    """
    from ldn_diary.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def real_broker(_tasks_run_in_process):
    """Publish tasks to the configured broker (Redis) instead of running them in-process."""
    import os

    from ldn_diary.celery import app

    if not os.environ.get("CELERY_BROKER_URL"):
        pytest.skip("CELERY_BROKER_URL is not set: no broker to test against (CI sets it).")
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


def pytest_collection_modifyitems(config, items):
    """Browser tests skip without Chromium, except in CI (LDN_REQUIRE_BROWSER=1), where they fail."""
    import os
    from pathlib import Path

    if Path("/usr/bin/chromium").exists() or os.environ.get("LDN_REQUIRE_BROWSER"):
        return
    skip = pytest.mark.skip(reason="/usr/bin/chromium not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# Where browser tests leave screenshots and PDFs for a human to look at.
SHOTS = Path("/tmp/shots")  # noqa: S108


@pytest.fixture
def chromium(transactional_db, live_server):
    """Debian's Chromium driven by Playwright; yields ``new_page(width, height)``.

    transactional_db comes first so the test database exists before the live server starts.
    Browser tests are skipped without /usr/bin/chromium, except in CI (see below).
    """
    import os

    from django.db import connections

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told that this is deliberate (tests only).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        contexts = []

        def new_page(width: int = 1280, height: int = 900, timeout_ms: int = 15_000):
            context = browser.new_context(viewport={"width": width, "height": height})
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            return page

        yield new_page
        for context in contexts:
            context.close()
        browser.close()
    # Code run inside sync_playwright() runs in a greenlet with its own context variables, so
    # Django opened a second connection for it; close it, or it would keep the test database
    # from being dropped at the end of the session.
    connections.close_all()
