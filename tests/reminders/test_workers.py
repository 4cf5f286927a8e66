"""Two real Celery worker processes each take one of two beat ticks published together, against the real
broker (Redis), PostgreSQL and a real SMTP server on this machine: every reminder arrives once.

The workers run on the machine's own clock, not the tests' frozen one, so the patients here
are reminded at 00:00 UTC: due whatever the time of the run. Each test uses its own queue.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import redis

from ldn_diary.reminders.models import Reminder, ReminderStatus
from ldn_diary.reminders.tasks import send_due_reminders

from ..conftest import make_user
from ..core.test_mail import smtp_server  # noqa: F401  (the fixture)
from ..trends.conftest import celery_conf
from ..trends.test_worker import REPO, worker_database_url
from .conftest import remind

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL"),
        reason="CELERY_BROKER_URL is not set: these tests need a real Redis broker",
    ),
]
TIMEOUT = 90
PATIENTS = 8


@pytest.fixture
def queue():
    name = f"test-reminders-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    client.close()


@pytest.fixture
def two_workers(transactional_db, queue, smtp_server):  # noqa: F811
    port, inbox = smtp_server
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DJANGO_SETTINGS_MODULE": "ldn_diary.settings",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }
    processes, logs = [], []
    for n in range(2):
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
            prefix=f"reminder-worker{n}-", suffix=".log", delete=False
        )
        command = [
            sys.executable, "-m", "celery", "-A", "ldn_diary", "worker", "--pool=solo",
            "--concurrency=1", "--prefetch-multiplier=1", "-Q", queue, "-n", f"{queue}-{n}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
        ]  # fmt: skip
        processes.append(
            subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        logs.append(log)
    try:
        yield processes, [Path(log.name) for log in logs], inbox
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for log in logs:
            log.close()
            print(f"--- {log.name} ---\n{Path(log.name).read_text(errors='replace')[-3000:]}")
            Path(log.name).unlink()


def wait_until(condition, processes, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert all(p.poll() is None for p in processes), "a worker exited"
        assert time.monotonic() < deadline, f"{what} within {TIMEOUT} s"
        time.sleep(0.1)


def test_two_workers_ticking_at_once_send_each_reminder_once(two_workers, queue):
    processes, logs, inbox = two_workers
    patients = [make_user(f"w{i}", "patient", time_zone="UTC") for i in range(PATIENTS)]
    for patient in patients:
        remind(patient, "00:00")

    def ready() -> bool:
        return all(" ready." in log.read_text(errors="replace") for log in logs)

    wait_until(ready, processes, "both workers ready")
    with celery_conf(task_always_eager=False):
        tasks = [send_due_reminders.apply_async(queue=queue) for _ in range(2)]

    def both_ticks_done() -> bool:
        text = "".join(log.read_text(errors="replace") for log in logs)
        return all(f"[{task.id}] succeeded" in text for task in tasks)

    wait_until(both_ticks_done, processes, "both ticks finished")
    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == sorted(p.email for p in patients)
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == PATIENTS
