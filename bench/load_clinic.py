"""Load test of the clinician's pages against gunicorn on PostgreSQL. Not a test.

    .venv/bin/python bench/load_clinic.py [--patients 500] [--users 20] [--duration 30]
                                          [--workers 4] [--threads 1] [--keep] [--reuse]

1. Creates a scratch PostgreSQL database (default ``ldn_bench_clinic``), migrates it, and loads
   ``--patients`` patients linked (through the consent services) to one clinician. Diaries come
   from the demo generator (ldn_diary/core/demo.py: a 14-day baseline, titration, 90-120 days on
   LDN, SD 1.6 noise, missed days, side effects); trends are computed by the trends service.
   A third of the patients get a note and a follow-up date. The planner statistics are
   refreshed (VACUUM ANALYZE), as autovacuum would have done on a live database.
2. Starts ``gunicorn ldn_diary.wsgi`` on 127.0.0.1 with DEBUG off, a throwaway SECRET_KEY and
   STATIC_PLAIN (no collectstatic needed), logs in as the clinician through the login form.
3. For each scenario (the roster; one patient's dashboard), runs ``--users`` concurrent
   closed-loop users (threads with http.client keep-alive connections, no think time) for
   ``--duration`` seconds after a short warm-up, and prints p50 / p95 / p99 latency and requests
   per second. The target is p95 <= 200 ms at 20 users.

--reuse skips step 1 (use with a database kept by --keep). --admin-url names the database to
connect to for CREATE/DROP DATABASE.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
CLINICIAN = "bench-clinician"
PASSWORD = "bench-password-2026"  # noqa: S105 - a scratch database's only login


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=0, help="0: pick a free port")
    parser.add_argument("--database", default="ldn_bench_clinic")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        help="Load generator (default: wrk if installed, else Python threads).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--reuse", action="store_true", help="Use the kept database as it is.")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=("roster", "dashboard", "brief", "roster-filtered"),
        help="Repeatable; default: roster and dashboard.",
    )
    return parser.parse_args()


# --- Database ------------------------------------------------------------------------------------


def database_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def server_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        STATIC_PLAIN="true",
        SECURE_COOKIES="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="600",
    )
    env.pop("CELERY_BROKER_URL", None)  # no worker here: nothing is written during the run
    return env


def load_data(n_patients: int) -> str:
    """Build the cohort in this process (Django set up on the scratch database); returns the
    UUID of the patient whose dashboard is loaded."""
    import django

    django.setup()
    from django.db import transaction

    from ldn_diary.accounts.models import Role, User
    from ldn_diary.accounts.services import user_create
    from ldn_diary.clinic.services import followup_set, link_grant, note_add
    from ldn_diary.core import demo
    from ldn_diary.diary.models import DiaryEntry, DoseChange, TitrationPlan
    from ldn_diary.trends.services import trends_recompute_patients

    started = time.perf_counter()
    today = dt.date.today()
    clinician, _ = user_create(
        username=CLINICIAN, role=Role.CLINICIAN, password=PASSWORD, display_name="Dr Bench"
    )
    profiles = demo.profiles()
    patients: list[User] = []
    entries: list[DiaryEntry] = []
    doses: list[DoseChange] = []
    plans: list[TitrationPlan] = []
    with transaction.atomic():
        for i in range(n_patients):
            spec = demo.build_patient(i, profiles[i % len(profiles)], today=today, seed=11 + i)
            patient = User(
                username=f"bench-patient-{i:04d}",
                role=Role.PATIENT,
                display_name=f"{demo.FIRST_NAMES[i % len(demo.FIRST_NAMES)]} {i:04d}",
            )
            patient.set_unusable_password()
            patients.append(patient)
            patient_entries, patient_doses, plan = demo.diary_rows(patient, spec)
            entries += patient_entries
            doses += patient_doses
            plans.append(plan)
        # Bulk inserts for the diary (a bench, not the app); consent goes through the services.
        User.objects.bulk_create(patients, batch_size=1000)
        DiaryEntry.objects.bulk_create(entries, batch_size=5000)
        DoseChange.objects.bulk_create(doses, batch_size=5000)
        TitrationPlan.objects.bulk_create(plans, batch_size=1000)
    for i, patient in enumerate(patients):
        link_grant(patient=patient, clinician=clinician)
        if i % 3 == 0:
            note_add(clinician=clinician, patient=patient, text="Reviewed at the last visit.")
            followup_set(
                clinician=clinician, patient=patient, due_on=today + dt.timedelta(days=i % 40)
            )
    trends_recompute_patients(patient_ids=[p.pk for p in patients])
    # Fresh planner statistics, as autovacuum would have gathered by the time anyone looks;
    # without them PostgreSQL plans the bulk-loaded tables as if they were empty.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded {n_patients} patients, {len(entries)} entries, {len(doses)} dose changes "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return str(patients[0].uuid)


def dashboard_uuid() -> str:
    import django

    django.setup()
    from ldn_diary.accounts.models import User

    return str(User.objects.filter(username="bench-patient-0000").values_list("uuid", flat=True)[0])


# --- Server --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    cmd = [
        str(GUNICORN),
        "ldn_diary.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--backlog",
        "256",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def stop(proc: subprocess.Popen) -> None:
    """Stop the gunicorn we started (its own process group: master and workers)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def log_in(port: int) -> str:
    """The session cookie of the clinician, through the real login form (CSRF and all)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    html = response.read().decode()
    cookies = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, value = header.split(";", 1)[0].split("=", 1)
        cookies[name] = value
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "username": CLINICIAN, "password": PASSWORD})
    conn.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    for header in response.headers.get_all("Set-Cookie") or []:
        name, value = header.split(";", 1)[0].split("=", 1)
        if name == "sessionid":
            return value
    raise SystemExit(f"login failed: HTTP {response.status}")


# --- Load ----------------------------------------------------------------------------------------


def run_users(port: int, session: str, path: str, users: int, warmup: float, duration: float):
    """Closed loop: each user sends the next request as soon as the last one is read."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_at = time.monotonic() + warmup
    stop_at = start_at + duration
    headers = {"Cookie": f"sessionid={session}", "Accept-Encoding": "identity"}

    def user() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while True:
            t0 = time.monotonic()
            if t0 >= stop_at:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    errors.append(type(exc).__name__)
                continue
            t1 = time.monotonic()
            if status != 200:
                with lock:
                    errors.append(f"HTTP {status}")
            elif t0 >= start_at and t1 <= stop_at:
                mine.append(t1 - t0)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=user, daemon=True) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


# wrk's own percentiles, printed by its Lua done() hook (wrk --latency stops at p90 and p99).
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def run_wrk(port: int, session: str, path: str, users: int, warmup: float, duration: float):
    """The same closed loop driven by wrk (C, two threads): far less CPU than Python threads,
    which matters when client and server share two cores. Returns (count, seconds, p50, p95,
    p99, max in ms, errors)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT)
        script = f.name
    try:
        base = [
            "wrk",
            "-t",
            "2",
            "-c",
            str(users),
            "--timeout",
            "10s",
            "-s",
            script,
            "-H",
            f"Cookie: sessionid={session}",
            f"http://127.0.0.1:{port}{path}",
        ]
        if warmup > 0:
            subprocess.run(
                [*base[:1], "-d", f"{warmup:.0f}s", *base[1:]], capture_output=True, check=True
            )
        out = subprocess.run(
            [*base[:1], "-d", f"{duration:.0f}s", *base[1:]],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    fields = next(line for line in out.splitlines() if line.startswith("WRK ")).split()[1:]
    count, micros, p50, p95, p99, top, errors = (int(x) for x in fields)
    return count, micros / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, top / 1000, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    args = parse_args()
    scenarios = args.scenario or ["roster", "dashboard"]
    url = database_url(args.admin_url, args.database)
    env = server_env(url)
    os.environ.update(
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY=env["SECRET_KEY"],
        STATIC_PLAIN="true",
        DJANGO_SETTINGS_MODULE="ldn_diary.settings",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(REPO))
    if not args.reuse:
        recreate_database(args.admin_url, args.database)
        subprocess.run(
            [str(PYTHON), "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=REPO,
            env=env,
            check=True,
        )
        patient = load_data(args.patients)
    else:
        patient = dashboard_uuid()
    paths = {
        "roster": "/clinic/",
        "roster-filtered": "/clinic/?sort=-pain&flag=review",
        "dashboard": f"/clinic/p/{patient}/",
        "brief": f"/clinic/p/{patient}/brief/",
    }
    port = args.port or free_port()
    proc = start_gunicorn(env, port, args.workers, args.threads)
    try:
        session = log_in(port)
        client = args.client or ("wrk" if shutil.which("wrk") else "python")
        print(
            f"gunicorn: {args.workers} workers x {args.threads} threads, "
            f"{os.cpu_count()} CPUs; {args.users} users ({client}), "
            f"{args.duration:.0f} s per scenario after {args.warmup:.0f} s warm-up"
        )
        print(
            f"{'scenario':<16}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
            f"{'p99 ms':>8}{'max ms':>8}  errors"
        )
        for name in scenarios:
            if client == "wrk":
                count, seconds, p50, p95, p99, top, errors = run_wrk(
                    port, session, paths[name], args.users, args.warmup, args.duration
                )
            else:
                lat, error_list = run_users(
                    port, session, paths[name], args.users, args.warmup, args.duration
                )
                if not lat:
                    print(f"{name:<16} no successful requests; errors: {error_list[:5]}")
                    continue
                ms = [x * 1000 for x in lat]
                count, seconds, errors = len(ms), args.duration, len(error_list)
                p50, p95, p99, top = (
                    statistics.median(ms),
                    percentile(ms, 95),
                    percentile(ms, 99),
                    max(ms),
                )
            verdict = "ok" if p95 <= 200 else "over"
            print(
                f"{name:<16}{count:>9}{count / seconds:>8.1f}{p50:>8.0f}{p95:>8.0f}"
                f"{p99:>8.0f}{top:>8.0f}  {errors}  p95 {verdict}"
            )
    finally:
        stop(proc)
        if not args.keep:
            drop_database(args.admin_url, args.database)


if __name__ == "__main__":
    main()
