"""Against a real Redis broker: a real Celery worker process, and coalescing on the wire.

Run with CELERY_BROKER_URL set (e.g. redis://127.0.0.1:6379/15) and DATABASE_URL pointing at
PostgreSQL; the worker is a separate process, so it must be able to open the test database.
Each test uses its own queue name, so a stray worker or another run cannot take its messages.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.result import EagerResult
from django.db import connection
from django.utils import timezone

from ldn_diary.accounts.models import Role
from ldn_diary.trends.models import (
    RecomputeBatch,
    RecomputeRun,
    ResponseSummary,
    RunKind,
    TrendState,
)
from ldn_diary.trends.selectors import CURRENT, trend_days_for, trend_summary_for
from ldn_diary.trends.services import trends_run_start
from ldn_diary.trends.tasks import recompute_patient
from tests.conftest import make_user

from .conftest import celery_conf, save_entry

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL"),
        reason="CELERY_BROKER_URL is not set: these tests need a real Redis broker",
    ),
]

REPO = Path(__file__).resolve().parents[2]
D0 = dt.date(2024, 1, 1)
WORKER_TIMEOUT = 60


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"test-trends-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    client.close()


def worker_database_url() -> str:
    """The URL of the database this test run uses (pytest-django renamed it ``test_...``)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot open the in-memory SQLite test database")
    user = quote(s["USER"] or "", safe="")
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    return f"postgres://{user}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def running_worker(queue: str, name: str) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A Celery worker process (one at a time: solo pool) on this queue; yields it and its log."""
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DJANGO_SETTINGS_MODULE": "ldn_diary.settings",
    }
    log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        sys.executable, "-m", "celery", "-A", "ldn_diary", "worker",
        "--pool=solo", "--concurrency=1", "-Q", queue, "-n", f"{name}@%h",
        # Nothing to talk to other workers about: starts faster and stays out of their way.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel=INFO",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process, Path(log.name)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        output = Path(log.name).read_text(errors="replace")
        Path(log.name).unlink()
        # Shown by pytest only when the test failed.
        print(f"--- worker log ({name}) ---\n{output[-5000:]}")


@pytest.fixture
def worker(transactional_db, queue) -> Iterator[subprocess.Popen]:
    with running_worker(queue, queue) as (process, _):
        yield process


def wait_until_ready(process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WORKER_TIMEOUT
    while " ready." not in log.read_text(errors="replace"):
        assert process.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "the worker did not start within 60 s"
        time.sleep(0.1)


def test_a_real_worker_recomputes_a_patient(alice, worker):
    # Claim the queue slot first so these saves queue nothing themselves; the task below is
    # the only one, and it must run in the worker, not eagerly here.
    TrendState.objects.create(patient=alice, queued_at=timezone.now())
    for n in range(10):
        save_entry(alice, D0 + dt.timedelta(days=n), 6, 5, 4, 5)
    queue = worker.args[worker.args.index("-Q") + 1]

    assert not ResponseSummary.objects.filter(patient=alice).exists()

    with celery_conf(task_always_eager=False):
        result = recompute_patient.apply_async(args=[alice.pk], queue=queue)
    assert not isinstance(result, EagerResult)  # published, not run here

    deadline = time.monotonic() + WORKER_TIMEOUT
    while not ResponseSummary.objects.filter(patient=alice).exists():
        assert worker.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "no summary from the worker within 60 s"
        time.sleep(0.1)
    summary = ResponseSummary.objects.get(patient=alice)
    assert summary.data_version == 10
    assert summary.data["data_end"] == "2024-01-10"
    assert len(trend_days_for(alice)) == 10
    state = TrendState.objects.get(patient=alice)
    assert (state.computed_version, state.dirty_since, state.queued_at) == (10, None, None)


def test_a_burst_of_saves_publishes_one_task(alice, queue, django_capture_on_commit_callbacks):
    routes = {"ldn_diary.trends.tasks.*": {"queue": queue}}
    with celery_conf(task_always_eager=False, task_routes=routes):
        for n in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                save_entry(alice, D0 + dt.timedelta(days=n), 5, 5, 5, 5)

    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    assert client.llen(queue) == 1
    client.close()
    assert TrendState.objects.get(patient=alice).data_version == 5


def test_two_workers_share_a_run_and_no_patient_is_computed_twice(
    transactional_db, queue, django_capture_on_commit_callbacks
):
    """The weekly run's batches go to the broker; two worker processes take them between them."""
    patients = [make_user(f"p{k}", Role.PATIENT) for k in range(8)]
    for patient in patients:
        # Claim the queue slot so these saves queue no recompute of their own.
        TrendState.objects.create(patient=patient, queued_at=timezone.now())
        for n in range(40):
            save_entry(patient, D0 + dt.timedelta(days=n), (n + patient.pk) % 11, 5, 4, 5)
    TrendState.objects.update(queued_at=None)

    with (
        running_worker(queue, f"{queue}-a") as first,
        running_worker(queue, f"{queue}-b") as second,
    ):
        wait_until_ready(*first)
        wait_until_ready(*second)
        with celery_conf(task_always_eager=False), django_capture_on_commit_callbacks(execute=True):
            run = trends_run_start(kind=RunKind.WEEKLY, batch_size=1, queue=queue)

        deadline = time.monotonic() + WORKER_TIMEOUT
        while not RecomputeRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
            assert first[0].poll() is None and second[0].poll() is None, "a worker exited"
            assert time.monotonic() < deadline, "the run did not finish within 60 s"
            time.sleep(0.1)

    run.refresh_from_db()
    assert (run.patients, run.batches, run.batches_done, run.failed) == (8, 8, 8, 0)
    batches = list(RecomputeBatch.objects.filter(run=run))
    # Both worker processes took batches (host:pid differs), and every patient is in exactly
    # one batch that was computed exactly once.
    assert len({b.claimed_by for b in batches}) == 2
    computed = [pid for b in batches for pid in b.patient_ids]
    assert sorted(computed) == sorted(p.pk for p in patients)
    for patient in patients:
        assert trend_summary_for(patient).status == CURRENT
        assert len(trend_days_for(patient)) == 40
