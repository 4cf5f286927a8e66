"""Architecture rules import-linter cannot express (its contracts are in pyproject.toml and run
in .ci/run): services answer in domain terms and never in HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted((ROOT / "ldn_diary").glob("*/services.py"))


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_there_are_services_to_check():
    assert len(SERVICES) >= 4


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.parent.name)
def test_services_do_not_raise_http_errors(path):
    """ "Not found or not yours" is a 404 decided by the fetch helpers (selectors) and views."""
    imported = _imported_names(path)
    http = {n for n in imported if n.startswith(("django.http", "django.shortcuts"))}
    assert not http, f"{path.relative_to(ROOT)} imports {sorted(http)}"
    assert "Http404" not in path.read_text()


def test_only_ldn_diary_caching_touches_the_cache():
    """Caching goes through one module, which keeps the app working while the cache is down."""
    users = []
    for path in sorted((ROOT / "ldn_diary").rglob("*.py")):
        if any(n.startswith("django.core.cache") for n in _imported_names(path)):
            users.append(str(path.relative_to(ROOT)))
    assert users == ["ldn_diary/caching.py"]


# Imported only where they are used: together they cost about three seconds of start-up in every
# process that loads the app (manage.py, gunicorn, each Celery worker, the suite's subprocesses).
HEAVY_AT_START_UP = ("scipy.stats", "scipy.optimize", "sklearn", "diffprivlib", "pywebpush")


def test_loading_the_app_and_its_urls_imports_no_heavy_library():
    import os
    import subprocess
    import sys

    probe = (
        "import sys, django; django.setup();"
        "from django.urls import resolve; resolve('/');"
        f"print(' '.join(m for m in {HEAVY_AT_START_UP!r} if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ldn_diary.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_a_worker_imports_the_engines_scipy_when_it_starts_not_in_its_first_task():
    import os
    import subprocess
    import sys

    probe = (
        "import sys, django; django.setup();"
        "from celery.signals import worker_init; from ldn_diary.celery import app;"
        "before = 'scipy.stats' in sys.modules; worker_init.send(sender=None);"
        "print(before, 'scipy.stats' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ldn_diary.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("module", ["ldn_diary.clinical", "ldn_diary.clinical.engine"])
def test_one_mypy_run_checks_the_pure_maths_with_every_flag_of_strict(module):
    """.ci/run runs mypy once; pyproject.toml must give ldn_diary/clinical every setting that
    ``mypy --strict`` would (the per-module ones in its override, the rest globally), as mypy
    itself reads the file and lists what --strict turns on."""
    import io

    from mypy import config_parser, main, options

    _, _, strict = main.define_options()
    read = options.Options()
    config_parser.parse_config_file(
        read, lambda: None, str(ROOT / "pyproject.toml"), io.StringIO(), io.StringIO()
    )
    checked = read.clone_for_module(module)
    missing = [name for name, value in strict if getattr(checked, name) != value]
    assert len(strict) >= 14
    assert missing == [], f"pyproject.toml does not give {module} these --strict settings"
