"""``dev.py up`` prints what a newcomer needs and little else: no setuptools licence warning
when it installs the project, no "Task ... succeeded" for each demo recompute, no axes banner
from every process, and no line twice (runserver's reloader runs Django in two processes, and
Django's own console handler used to print beside ours). Each case starts a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Set Django up as dev.py does (DEBUG on, no broker), then log what the demo's start logged.
PROBE = """
import logging, django
django.setup()
logging.getLogger("celery.app.trace").info("Task recompute_patient[1] succeeded in 0.02s: None")
logging.getLogger("axes.apps").info("AXES: BEGIN version 8, blocking by ip_address")
logging.getLogger("kombu.connection").warning("No hostname was supplied.")
logging.getLogger("django.utils.autoreload").info("Watching for file changes with StatReloader")
logging.getLogger("ldn_diary.trends").warning("a warning of ours")
"""


def run_probe(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "CELERY_BROKER_URL"}}
    base.update(DJANGO_SETTINGS_MODULE="ldn_diary.settings", SECRET_KEY="x", **env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_local_development_logs_each_line_once_and_no_task_chatter():
    lines = run_probe(DEBUG="true").splitlines()
    assert lines.count("Watching for file changes with StatReloader") == 1, lines
    assert "a warning of ours" in lines
    assert not [line for line in lines if "succeeded" in line or "AXES" in line], lines
    assert not [line for line in lines if "hostname" in line], lines


def test_production_still_logs_task_results_and_the_broker_warning():
    lines = run_probe(DEBUG="false", CELERY_BROKER_URL="redis://127.0.0.1:6379/7").splitlines()
    assert any("succeeded" in line for line in lines), lines
    assert "No hostname was supplied." in lines
    assert lines.count("Watching for file changes with StatReloader") == 1, lines


def test_the_licence_is_an_spdx_expression_that_setuptools_reads_without_a_warning():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "AGPL-3.0-or-later"
    # The SPDX string form needs setuptools 77 or newer to build.
    assert project["build-system"]["requires"] == ["setuptools>=77"]
