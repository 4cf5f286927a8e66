"""Named users, in the manner of healthchecks' tests: Alice the patient, Bob another patient,
Carol her clinician, Dave a clinician with no access to her, Mona a support-group moderator.

One clock for every test: the autouse ``clock`` fixture puts the whole process at a fixed
instant (time-machine), so "today" is the same on every run and on every machine, whatever
day or time zone the machine is in. Time then runs on from that instant (``tick=True``), so
consecutive writes still get increasing timestamps. A test that needs another instant says so
with ``@pytest.mark.parametrize("instant", [...], indirect=True)`` (see ``INSTANTS`` for the
awkward ones every date-sensitive behaviour is checked at), or moves the clock itself with
``clock.move_to(...)``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import time_machine

from ldn_diary.accounts.models import Role, User
from ldn_diary.accounts.services import user_create

from ._screens import SCREENSHOTS

PASSWORD = "correct horse battery staple"
# The authenticator secret of every named clinician and moderator (hex, as django-otp stores it),
# so a test can compute their current code with totp_code().
TOTP_KEY = "3132333435363738393031323334353637383930"

UTC = dt.UTC
# An ordinary weekday morning in the middle of a month, in the past of any machine that runs the
# suite (a real Celery worker in tests/trends/test_worker.py runs on the machine's own clock,
# and must see the tasks published here as due). LDN_TEST_INSTANT (ISO 8601 with an offset)
# runs the whole suite at another instant instead.
DEFAULT_INSTANT = dt.datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

# The instants where dates go wrong, for tests of date-sensitive behaviour. Each is named for
# what makes it awkward; the ids show in test names.
INSTANTS = {
    "first-of-month-after-midnight-utc": dt.datetime(2026, 12, 1, 0, 5, tzinfo=UTC),
    "new-years-eve-2350-utc": dt.datetime(2026, 12, 31, 23, 50, tzinfo=UTC),
    "leap-day-2028": dt.datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
    # Clocks go forward at 01:00 UTC (London) and 07:00 UTC (New York), back at 01:00 and 06:00.
    "london-spring-forward": dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
    "london-fall-back": dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    "new-york-spring-forward": dt.datetime(2027, 3, 14, 7, 30, tzinfo=UTC),
    "new-york-fall-back": dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
}
# Time zones whose "today" differs most from UTC's, and the two with daylight saving above.
ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/London", "America/New_York")

# Each zone's local date at each instant, worked out by hand from the zones' offsets (Kiritimati
# UTC+14, Pago Pago UTC-11, London GMT/BST, New York EST/EDT), not by the code under test.
D = dt.date
LOCAL_DATES = {
    "first-of-month-after-midnight-utc": {
        "Pacific/Kiritimati": D(2026, 12, 1),
        "Pacific/Pago_Pago": D(2026, 11, 30),
        "Europe/London": D(2026, 12, 1),
        "America/New_York": D(2026, 11, 30),
    },
    "new-years-eve-2350-utc": {
        "Pacific/Kiritimati": D(2027, 1, 1),
        "Pacific/Pago_Pago": D(2026, 12, 31),
        "Europe/London": D(2026, 12, 31),
        "America/New_York": D(2026, 12, 31),
    },
    "leap-day-2028": {
        "Pacific/Kiritimati": D(2028, 3, 1),
        "Pacific/Pago_Pago": D(2028, 2, 29),
        "Europe/London": D(2028, 2, 29),
        "America/New_York": D(2028, 2, 29),
    },
    "london-spring-forward": {
        "Pacific/Kiritimati": D(2027, 3, 28),
        "Pacific/Pago_Pago": D(2027, 3, 27),
        "Europe/London": D(2027, 3, 28),
        "America/New_York": D(2027, 3, 27),
    },
    "london-fall-back": {
        "Pacific/Kiritimati": D(2026, 10, 25),
        "Pacific/Pago_Pago": D(2026, 10, 24),
        "Europe/London": D(2026, 10, 25),
        "America/New_York": D(2026, 10, 24),
    },
    "new-york-spring-forward": {
        "Pacific/Kiritimati": D(2027, 3, 14),
        "Pacific/Pago_Pago": D(2027, 3, 13),
        "Europe/London": D(2027, 3, 14),
        "America/New_York": D(2027, 3, 14),
    },
    "new-york-fall-back": {
        "Pacific/Kiritimati": D(2026, 11, 1),
        "Pacific/Pago_Pago": D(2026, 10, 31),
        "Europe/London": D(2026, 11, 1),
        "America/New_York": D(2026, 11, 1),
    },
}
# (instant, zone, local date) cases for ``@pytest.mark.parametrize(..., indirect=["instant"])``.
INSTANT_CASES = [
    pytest.param(INSTANTS[name], zone, local, id=f"{name}-{zone.split('/')[-1]}")
    for name, zones in LOCAL_DATES.items()
    for zone, local in zones.items()
]


def _default_instant() -> dt.datetime:
    raw = os.environ.get("LDN_TEST_INSTANT", "")
    if not raw:
        return DEFAULT_INSTANT
    instant = dt.datetime.fromisoformat(raw)
    if instant.tzinfo is None:
        raise ValueError(f"LDN_TEST_INSTANT={raw!r} needs an offset, e.g. 2027-03-01T00:30+00:00")
    return instant


@pytest.fixture
def instant(request) -> dt.datetime:
    """The instant this test runs at; parametrize it (``indirect=True``) to choose another."""
    return getattr(request, "param", None) or _default_instant()


@pytest.fixture(autouse=True)
def clock(instant):
    """The process's clock, at ``instant`` (see the module docstring); yields the traveller."""
    with time_machine.travel(instant, tick=True) as traveller:
        yield traveller


def make_user(username: str, role: str, **extra: str) -> User:
    """A user with PASSWORD; clinicians and moderators also get an authenticator (TOTP_KEY)."""
    user, _ = user_create(
        username=username, role=role, email=f"{username}@example.org", password=PASSWORD, **extra
    )
    if role in (Role.CLINICIAN, Role.MODERATOR):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.create(user=user, name="authenticator", key=TOTP_KEY, confirmed=True)
    return user


def totp_code(key: str = TOTP_KEY) -> str:
    """The code an authenticator app shows now (at the frozen clock) for ``key``."""
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key)):06d}"


def without_csrf_tokens(content: bytes) -> bytes:
    """A page with its CSRF tokens emptied: each is masked afresh on every response, and its
    random letters can spell a short name a test looks for (or must not find)."""
    import re

    return re.sub(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', rb"\1", content)


def browser_log_in(page, base_url: str, username: str, *, lands_on: str | None = None) -> None:
    """Sign ``username`` in through the login form in a browser test, giving the second factor
    when the login asks for it; with ``lands_on``, wait for that page (a path) too."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    # The form's own button: signed-out pages also have the language switcher's.
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    browser_second_factor(page, None, username)
    page.wait_for_load_state()
    if lands_on is not None:
        page.wait_for_url(f"{base_url}{lands_on}")


def browser_session(page, base_url: str, username: str, *, lands_on: str | None = None) -> None:
    """Give the page's browser context ``username``'s session without the login form: the
    session a login makes (``Client.force_login``, which counts the second factor as given, see
    below), as a cookie. With ``lands_on``, open that page (a path).

    For tests of a page behind the login. The login form and the second factor are driven by
    ``browser_log_in`` in their own tests and in the end-to-end paths (tests/e2e/); here each
    sign-in cost a form, a redirect and a landing page, and a clinician's the second-factor
    page too, about 0.5-1 s of Chromium a time.
    """
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
    )
    if lands_on is not None:
        page.goto(f"{base_url}{lands_on}")


def browser_second_factor(page, live_server, username: str) -> None:
    """In a browser test, give the second factor if the login asked for it.

    A fresh recovery code each time, not the authenticator's code: a TOTP code is accepted once,
    so a second login within the same 30 seconds (a second browser window) would be refused.
    """
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/2fa/" in page.url:
        from ldn_diary.accounts import twofactor

        code = twofactor.recovery_codes_replace(user=User.objects.get(username=username))[0]
        page.fill("input[name=code]", code)
        # The form's own button: the header's "Log out" is a submit button too.
        page.click("main button[type=submit]")
        page.wait_for_load_state()


@pytest.fixture(autouse=True)
def _force_login_gives_the_second_factor(monkeypatch):
    """``client.force_login(user)`` signs in fully: for a user who must give a second factor
    (ldn_diary.accounts.twofactor) the session counts as having given it. Tests of the second
    factor itself log in with the password (``client.post`` to the login page) instead."""
    from django.test import Client

    from ldn_diary.accounts import twofactor

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if twofactor.requires_second_factor(user):
            session = self.session
            session[twofactor.VERIFIED_KEY] = "tests.force_login"
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


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


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """After each transactional test (live server, browser, real workers) Django empties every
    table. On PostgreSQL it does so with one TRUNCATE of all of them, which gives each table and
    index a new file: 0.35-0.6 s here, with a few rows in all, 56 times a run. DELETE empties the
    same tables in about 0.02 s. Django runs the flush in one transaction and its foreign keys
    are deferred to the commit, so the order of the tables does not matter. Tables whose own
    triggers refuse DELETE (the append-only audit trail) are still truncated, and a reset of
    sequences (``reset_sequences=True``) still goes through Django's own statement."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal"
            )
            guarded = {name for (name,) in cursor.fetchall()}
        delete = style.SQL_KEYWORD("DELETE FROM")
        statements = [
            f"{delete} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
            if table not in guarded
        ]
        kept = [table for table in tables if table in guarded]
        return statements + (truncate(self, style, kept) if kept else [])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached rosters and figures are keyed by data versions and ids, which repeat across tests
    (SQLite reuses ids after a rollback), and rate-limit counters must start at zero: every test
    starts from an empty cache."""
    from ldn_diary import caching

    caching.clear()
    yield
    caching.clear()


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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n`` (and the default ``--dist load``), hand each worker its next test only when it
    is ready for it: every worker holds the test it is running and one more, never a backlog.

    pytest-xdist's own "load" scheduler tops each worker's queue up to an eighth of the tests
    left, and pytest-django runs the live-server and browser tests together, after the other
    database tests: one worker took most of the browser tests into its queue while running fast
    ones, then ran them for three minutes after the other had finished everything else. Tests
    still run in pytest-django's order on each worker, as a worker only ever takes the next ones.
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScheduling

    class NextTestWhenReady(LoadScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            self.maxschedchunk = 2  # the first tests each worker gets

        def check_schedule(self, node, duration=0):
            if node.shutting_down:
                return
            if not self.pending:
                node.shutdown()
                return
            # A worker needs its next test before it finishes one (to tear down fixtures).
            self._send_tests(node, max(0, 2 - len(self.node2pending[node])))

    return NextTestWhenReady(config, log)


def pytest_collection_modifyitems(config, items):
    """Browser tests skip without Chromium, except in CI (LDN_REQUIRE_BROWSER=1), where they fail."""
    import os

    if Path("/usr/bin/chromium").exists() or os.environ.get("LDN_REQUIRE_BROWSER"):
        return
    skip = pytest.mark.skip(reason="/usr/bin/chromium not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# Where browser tests leave screenshots and PDFs for a human to look at: the one directory of
# tests/_screens.py (test-artifacts/screenshots/, git-ignored, kept by CI).
SHOTS = SCREENSHOTS


@pytest.fixture(scope="session")
def _chromium_browser(django_db_setup, django_db_blocker):
    """One Chromium per test process, shared by its browser tests (each gets fresh contexts:
    no cookie or storage survives a test). Launching Chromium and Playwright's driver for every
    test cost about a second each.

    Depends on django_db_setup so that it closes first at the end of the session: the test body
    ran inside sync_playwright(), whose greenlet has context variables of its own, so Django gave
    it connections of its own; they are closed here, in that context, or they would keep the test
    database from being dropped.
    """
    import os

    from django.db import connections

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told that this is deliberate (tests only).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
        with django_db_blocker.unblock():
            connections.close_all()
    with django_db_blocker.unblock():
        connections.close_all()


@pytest.fixture
def chromium(_chromium_browser, transactional_db, live_server):
    """Debian's Chromium driven by Playwright; yields ``new_page(width, height)``, each page in
    a context of its own, all closed after the test.

    transactional_db comes first so the test database exists before the live server starts.
    Browser tests are skipped without /usr/bin/chromium, except in CI (see below).
    """
    from django.db import connections

    SHOTS.mkdir(parents=True, exist_ok=True)
    contexts = []

    def new_page(width: int = 1280, height: int = 900, timeout_ms: int = 15_000):
        context = _chromium_browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        return page

    yield new_page
    for context in contexts:
        context.close()
    connections.close_all()
