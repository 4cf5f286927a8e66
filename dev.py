#!/usr/bin/env python3
"""The two commands a newcomer needs; only Python 3.11+ is required on the machine.

    python3 dev.py up      # make .venv, install, migrate, load demo data, serve on :8000
    python3 dev.py up 0.0.0.0:8080   # the same, served on another address and port
    python3 dev.py test    # make .venv, install, run the whole test suite in parallel (args go to pytest)

Both create the virtual environment in .venv on first use and install exactly the versions
locked, with hashes, in requirements/dev.txt (with uv, itself locked there); they reinstall only
when that lock, the runtime lock or pyproject.toml changes. Configuration comes from the
environment (see .env.example): with no DATABASE_URL the app uses a SQLite file, with no
CELERY_BROKER_URL tasks run in-process.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
UV = "Scripts/uv.exe" if os.name == "nt" else "bin/uv"
STAMP = VENV / ".ldn-installed"
# The dev lock is compiled against the runtime lock (README "Dependencies"), so it holds every
# runtime pin too; all three files go into the stamp so an edit to any of them reinstalls.
DEV_LOCK = "requirements/dev.txt"
STAMPED = ("pyproject.toml", "requirements/base.txt", DEV_LOCK)


def run(*args: str, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(args), flush=True)
    result = subprocess.run(args, cwd=ROOT, env=env, check=False)  # noqa: S603
    if result.returncode:
        sys.exit(result.returncode)


def locked_block(lock: str, name: str) -> str:
    """The pin of one package in a pip-compile lock, with its --hash lines and nothing else."""
    lines = (ROOT / lock).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}=="))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.strip().startswith("--hash="):
            break
        block.append(line)
    return "\n".join(block) + "\n"


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"LDN Diary needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        print(f"Creating the virtual environment in {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256()
    for name in STAMPED:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    wanted = digest.hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        # Exactly the locked versions, each checked against its hash; pip, setuptools and uv are
        # in the lock too, so nothing here resolves or fetches an unpinned version. The venv's
        # own pip installs only the locked uv; uv installs the rest (about 5 s, where pip took a
        # minute, most of it compiling every installed module: Python compiles what is imported).
        uv_lock = VENV / "uv-lock.txt"
        uv_lock.write_text(locked_block(DEV_LOCK, "uv"))
        run(str(PY), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(uv_lock))
        uv_install = (str(VENV / UV), "pip", "install", "--quiet", "--python", str(PY))
        run(*uv_install, "--require-hashes", "-r", DEV_LOCK)
        # The project itself, editable, so manage.py, pytest, the Celery worker that
        # tests/trends/test_worker.py starts and the bench/ scripts all import this checkout.
        # --no-deps: its dependencies came from the lock; --no-build-isolation: build with the
        # locked setuptools instead of fetching one.
        run(*uv_install, "--no-deps", "--no-build-isolation", "-e", ".")
        STAMP.write_text(wanted)


def writing_bytecode() -> dict[str, str]:
    """This environment, with Python writing bytecode. Both commands start several Python
    processes (migrate, seed_demo, runserver and its reloader; the test workers, subprocess tests
    and real Celery workers). uv installs without compiling, so the first import of each module
    writes its bytecode for the others; where PYTHONDONTWRITEBYTECODE is set (as on the CI
    machine), each process compiled Django, numpy, scipy and pandas from source again, about 4 s
    each."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def up(extra: list[str]) -> None:
    ensure_env()
    env = writing_bytecode()
    # Local serving is development: DEBUG on unless the caller says otherwise.
    env.setdefault("DEBUG", "true")
    # runserver's ADDR:PORT (or PORT); the demo's printed links (SITE_URL) point at it too.
    addr = extra[0] if extra else "127.0.0.1:8000"
    if addr.isdigit():
        addr = f"127.0.0.1:{addr}"
    env.setdefault("SITE_URL", f"http://{addr}")
    manage = [str(PY), "manage.py"]
    run(*manage, "migrate", "--no-input", env=env)
    run(*manage, "seed_demo", env=env)
    print(f"\nLDN Diary is starting on http://{addr}/ (Ctrl+C stops it)\n", flush=True)
    run(*manage, "runserver", addr, env=env)


def test(extra: list[str]) -> None:
    ensure_env()
    # One pytest-xdist worker per CPU: the whole suite takes about half the time on two cores.
    # Each worker has its own test database (test_<name>_gw0, …) and the broker tests use queues
    # of their own, so workers never share state. "-n 0" (or any -n given) overrides this.
    given = any(arg.startswith(("-n", "--numprocesses")) for arg in extra)
    parallel = [] if given else ["-n", "auto"]
    run(str(PY), "-m", "pytest", *parallel, *extra, env=writing_bytecode())


def main() -> None:
    commands = {"up": up, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
