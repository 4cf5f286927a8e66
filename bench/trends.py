"""Benchmark of the trend recompute against PostgreSQL. Not a test.

    .venv/bin/python bench/trends.py [--patients 10000] [--days 120] [--repeat 3] [--phases] [--keep]
                                     [--broker redis://127.0.0.1:6379/6] [--workers 1,2]

Creates a scratch database (default ``ldn_bench``; dropped afterwards unless --keep), migrates
it with Django, loads a synthetic cohort by COPY, and times in one run:

  (a) the full recompute through ``trends_recompute_all``: reading the diary, the clinical
      engine, writing TrendSeries / ResponseSummary / TrendState; into empty tables, with every
      value changed, and over an unchanged diary; then the weekly run (``trends_run_start``)
      with every value changed, fanned out to 1 and 2 Celery worker processes on the real
      broker (--broker; skipped with --workers ""), and the nightly run over an unchanged
      diary (which finds nobody to recompute);
  (b) the same 7-day rolling means inside PostgreSQL, a window function written with
      INSERT ... SELECT into a scratch table (the in-database baseline);
  (c) naive pandas: read the frame from the database, ``groupby().rolling()``;
  (d) one patient's recompute through the service (median of 50).

Rows per second are diary entries processed per second, the same input for every method.
--admin-url names a database to connect to for CREATE/DROP DATABASE.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SYMPTOMS = ("pain", "fatigue", "sleep", "mood")
DOSE_LADDER = (1500, 3000, 4500, 6000)  # micrograms, one step every 2-4 weeks


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--database", default="ldn_bench")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument(
        "--phases", action="store_true", help="Also time each step of (a), on one thread."
    )
    parser.add_argument("--repeat", type=int, default=3, help="Runs of (a), (b), (c); best kept.")
    parser.add_argument(
        "--threads", type=int, default=None, help="Batches in flight (default: the service's)."
    )
    parser.add_argument("--single-runs", type=int, default=50)
    parser.add_argument(
        "--broker",
        default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6"),
        help="Redis for the worker runs (a database of its own: the bench's queue is private).",
    )
    parser.add_argument(
        "--workers", default="1,2", help="Worker process counts to time the run with ('' = none)."
    )
    return parser.parse_args()


def recreate_database(admin_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --------------------------------------------------------------------------------------------------
# Synthetic cohort


def synthetic_cohort(n_patients: int, n_days: int, seed: int) -> dict[str, np.ndarray]:
    """Daily diaries with noise SD 1.6 (docs/clinical-rules.md §3), missed days and 3-4 dose steps.

    Each patient starts their diary on a day within the first month, takes the first dose
    16-27 days in (so a 14-day baseline exists), then steps up every 2-4 weeks. Symptoms
    improve by a per-patient fraction (0-50 %) over the first four weeks on LDN.
    """
    rng = np.random.default_rng(seed)
    day0 = date(2024, 1, 1).toordinal()
    first = day0 + rng.integers(0, 30, n_patients)
    patient = np.repeat(np.arange(n_patients), n_days)
    offset = np.tile(np.arange(n_days), n_patients)
    adherence = rng.uniform(0.80, 0.98, n_patients)
    keep = rng.random(len(patient)) < adherence[patient]

    therapy = rng.integers(16, 28, n_patients)
    n_steps = rng.integers(3, 5, n_patients)
    gaps = rng.integers(14, 29, (n_patients, len(DOSE_LADDER)))
    gaps[:, 0] = 0
    step_offset = therapy[:, None] + np.cumsum(gaps, axis=1)
    step_mask = np.arange(len(DOSE_LADDER))[None, :] < n_steps[:, None]
    dose_patient = np.repeat(np.arange(n_patients), len(DOSE_LADDER))[step_mask.reshape(-1)]
    dose_day = (first[:, None] + step_offset)[step_mask]
    dose_ug = np.tile(np.array(DOSE_LADDER), (n_patients, 1))[step_mask]

    level = np.column_stack(
        [
            rng.uniform(5, 8, n_patients),  # pain, higher is worse
            rng.uniform(5, 8, n_patients),  # fatigue
            rng.uniform(2, 5, n_patients),  # sleep quality, higher is better
            rng.uniform(3, 6, n_patients),  # mood
        ]
    )
    response = rng.uniform(0.0, 0.5, n_patients)
    ramp = np.clip((offset - therapy[patient]) / 28, 0, 1) * response[patient]
    gain = np.column_stack([-level[:, 0], -level[:, 1], 10 - level[:, 2], 10 - level[:, 3]])
    mean = level[patient] + gain[patient] * ramp[:, None] * np.array([1, 0.8, 0.6, 0.5])
    values = np.clip(np.rint(mean + rng.normal(0, 1.6, mean.shape)), 0, 10).astype(np.int64)
    return {
        "entry_patient": patient[keep],
        "entry_day": (first[patient] + offset)[keep],
        "entry_values": values[keep],
        "dose_patient": dose_patient,
        "dose_day": dose_day,
        "dose_ug": dose_ug,
    }


def load_cohort(cohort: dict[str, np.ndarray], n_patients: int) -> None:
    """COPY users, entries and dose changes in (text format; setup time is not measured)."""
    from django.db import connection

    now = "2024-01-01 00:00:00+00"
    ids = np.arange(1, n_patients + 1)
    n_uuids = n_patients + len(cohort["entry_day"]) + len(cohort["dose_day"])
    random_hex = os.urandom(16 * n_uuids).hex()  # PostgreSQL reads 32 hex digits as a uuid
    hexes = iter(range(0, len(random_hex), 32))

    def uuid_hex() -> str:
        start = next(hexes)
        return random_hex[start : start + 32]

    def iso(ordinals: np.ndarray) -> list[str]:
        distinct, inverse = np.unique(ordinals, return_inverse=True)
        text = np.array([date.fromordinal(d).isoformat() for d in distinct.tolist()], dtype=object)
        return text[inverse].tolist()

    with connection.cursor() as cursor:
        raw = cursor.cursor
        users = "".join(
            f"{i}\t!\tf\tbench{i:06d}\t\t\tbench{i:06d}@example.org\tf\tt\t{now}\t{uuid_hex()}"
            f"\tpatient\t\tEurope/London\ten\n"
            for i in ids.tolist()
        )
        with raw.copy(
            "COPY accounts_user (id, password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined, uuid, role, display_name, time_zone, "
            "language) "
            "FROM STDIN"
        ) as copy:
            copy.write(users)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), %s)", [n_patients]
        )

        v = cohort["entry_values"]
        entry_rows = zip(
            (ids[cohort["entry_patient"]]).tolist(),
            iso(cohort["entry_day"]),
            v[:, 0].tolist(),
            v[:, 1].tolist(),
            v[:, 2].tolist(),
            v[:, 3].tolist(),
            strict=True,
        )
        with raw.copy(
            "COPY diary_diaryentry (uuid, patient_id, date, pain, fatigue, sleep, mood, dreams, "
            "side_effects, side_effect_other, dose_taken, note, backfilled, version, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            chunk: list[str] = []
            for p, d, a, b, c, e in entry_rows:
                chunk.append(
                    f"{uuid_hex()}\t{p}\t{d}\t{a}\t{b}\t{c}\t{e}\tnone\t[]\t\tyes\t\tf\t1"
                    f"\t{now}\t{now}\n"
                )
                if len(chunk) == 100_000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))

        dose_rows = zip(
            ids[cohort["dose_patient"]].tolist(),
            iso(cohort["dose_day"]),
            cohort["dose_ug"].tolist(),
            strict=True,
        )
        with raw.copy(
            "COPY diary_dosechange (uuid, patient_id, effective_date, dose_ug, time_of_day, "
            "formulation, note, from_plan, created_at) FROM STDIN"
        ) as copy:
            copy.write(
                "".join(
                    f"{uuid_hex()}\t{p}\t{d}\t{u}\tbedtime\tcapsule\t\tf\t{now}\n"
                    for p, d, u in dose_rows
                )
            )


def flip_pain() -> None:
    """Change every diary value (pain -> 10 - pain), so a recompute must rewrite every result."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE diary_diaryentry SET pain = 10 - pain")


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --------------------------------------------------------------------------------------------------
# The measured methods


def time_full_recompute(threads: int | None) -> tuple[float, object]:
    from ldn_diary.trends.services import trends_recompute_all

    started = time.perf_counter()
    counts = trends_recompute_all(threads=threads)
    return time.perf_counter() - started, counts


def time_nightly_unchanged() -> tuple[float, int]:
    """The nightly run over an unchanged diary, without a broker (its tasks would run here)."""
    from ldn_diary.trends.models import RunKind
    from ldn_diary.trends.services import trends_run_start

    started = time.perf_counter()
    run = trends_run_start(kind=RunKind.NIGHTLY)
    return time.perf_counter() - started, run.patients


def time_worker_run(n_workers: int, broker: str) -> float:
    """The weekly run, every value changed, on ``n_workers`` worker processes via the broker.

    Timed from starting the run (choosing patients, queueing batches) until the last batch
    closed it; the workers are started and ready before.
    """
    import subprocess
    import tempfile

    from ldn_diary.celery import app
    from ldn_diary.trends.models import RecomputeRun, RunKind
    from ldn_diary.trends.services import trends_run_start

    queue = f"bench-trends-{os.getpid()}"
    workers = []
    try:
        for k in range(n_workers):
            log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
            command = [
                sys.executable, "-m", "celery", "-A", "ldn_diary", "worker", "--pool=solo",
                "-Q", queue, "-n", f"{queue}-{k}@%h", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "--loglevel=INFO",
            ]  # fmt: skip
            env = {**os.environ, "CELERY_BROKER_URL": broker}
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
            workers.append((process, Path(log.name)))
        for process, log_path in workers:
            while "ready." not in log_path.read_text(errors="replace"):  # logged at INFO
                if process.poll() is not None:
                    raise RuntimeError(log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.1)
        flip_pain()
        vacuum_analyze()
        eager, url = app.conf.task_always_eager, app.conf.broker_url
        app.conf.task_always_eager, app.conf.broker_url = False, broker
        os.environ["CELERY_BROKER_URL"] = broker  # Celery prefers it to its configuration
        try:
            started = time.perf_counter()
            run = trends_run_start(kind=RunKind.WEEKLY, queue=queue)
            deadline = started + 600
            while not RecomputeRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
                if time.perf_counter() > deadline or any(p.poll() is not None for p, _ in workers):
                    logs = "\n".join(
                        path.read_text(errors="replace")[-2000:] for _, path in workers
                    )
                    raise RuntimeError(f"the workers did not finish the run:\n{logs}")
                time.sleep(0.02)
            return time.perf_counter() - started
        finally:
            app.conf.task_always_eager, app.conf.broker_url = eager, url
            os.environ.pop("CELERY_BROKER_URL", None)
    finally:
        for process, log_path in workers:
            process.terminate()
            process.wait(timeout=30)
            log_path.unlink()


def phase_breakdown() -> str:
    """One more full recompute on one thread, timing each step of every batch.

    The storage methods and the engine are wrapped with timers for this run only.
    """
    from ldn_diary.trends import services, storage
    from ldn_diary.trends.services import trends_recompute_all

    spent: dict[str, float] = {}
    originals = []

    def timed(label: str, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

        return wrapper

    read = "locks, versions, diary: 4 statements in 1 round trip"
    engine = "clinical engine (compute_cohort)"
    write = "series, summaries, stamp: 5 statements in 1 round trip"
    parts = {
        "days_digests": "  of which trend fingerprints",
        "summary_digests": "  of which summary fingerprints",
        "_pipeline": "  of which waiting for the database",
    }
    wrapped = [
        (storage.PostgresStorage, "read", read),
        (services, "compute_cohort", engine),
        (storage.PostgresStorage, "write", write),
        *((storage, name, label) for name, label in parts.items() if name != "_pipeline"),
    ]
    for owner, name, label in wrapped:
        original = getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, timed(label, original))
    # The write's round trip alone: the read's pipeline is timed with the read.
    pipeline = storage.PostgresStorage._pipeline
    originals.append((storage.PostgresStorage, "_pipeline", pipeline))
    writing = timed(parts["_pipeline"], pipeline)

    def either(self, statements):
        return (writing if statements[0][0] != storage._sql()["placeholders"] else pipeline)(
            self, statements
        )

    storage.PostgresStorage._pipeline = either
    started = time.perf_counter()
    try:
        trends_recompute_all(threads=1)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    total = time.perf_counter() - started
    steps = (read, engine, write)
    lines = [
        f"    {label:<56} {spent.get(label, 0.0):6.2f} s" for label in (*steps, *parts.values())
    ]
    lines.append(
        f"    {'other (queries for ids, commits)':<56} "
        f"{total - sum(spent.get(label, 0.0) for label in steps):6.2f} s"
    )
    lines.append(f"    {'total on one thread':<56} {total:6.2f} s")
    return "\n".join(lines)


def time_sql_window() -> tuple[float, int]:
    from django.db import connection, transaction

    avg = ",\n  ".join(
        f"CASE WHEN COUNT({s}) OVER w >= 4 THEN AVG({s}) FILTER (WHERE {s} IS NOT NULL) OVER w END"
        for s in SYMPTOMS
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_sql_rolling")
        cursor.execute(
            "CREATE TABLE bench_sql_rolling (patient_id bigint, date date, "
            + ", ".join(f"{s}_r7 double precision" for s in SYMPTOMS)
            + ")"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # The same commit setting as the recompute, so neither pays a WAL flush the other skips.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"INSERT INTO bench_sql_rolling\n"
            f"SELECT patient_id, date,\n  {avg}\n"
            f"FROM diary_diaryentry\n"
            f"WINDOW w AS (PARTITION BY patient_id ORDER BY date "
            f"RANGE BETWEEN INTERVAL '6 days' PRECEDING AND CURRENT ROW)"
        )
        rows = cursor.rowcount
    return time.perf_counter() - started, rows


def time_pandas() -> tuple[float, float, int]:
    import pandas as pd
    from django.db import connection

    started = time.perf_counter()
    connection.ensure_connection()
    with warnings.catch_warnings():
        # pandas prefers SQLAlchemy, but reads a DB-API connection all the same.
        warnings.simplefilter("ignore", UserWarning)
        frame = pd.read_sql_query(
            "SELECT patient_id, date, pain, fatigue, sleep, mood FROM diary_diaryentry",
            connection.connection,
        )
    read = time.perf_counter() - started
    frame["date"] = pd.to_datetime(frame["date"])
    rolled = (
        frame.sort_values(["patient_id", "date"])
        .set_index("date")
        .groupby("patient_id")[list(SYMPTOMS)]
        .rolling("7D", min_periods=4)
        .mean()
    )
    return time.perf_counter() - started, read, len(rolled)


def time_single_patient(runs: int, n_patients: int, seed: int) -> list[float]:
    """One patient's recompute right after an edit of their latest entry (what the task does)."""
    from django.db import connection

    from ldn_diary.trends.services import trends_recompute_patients

    rng = np.random.default_rng(seed + 1)
    ids = rng.choice(np.arange(1, n_patients + 1), size=runs, replace=runs > n_patients)
    trends_recompute_patients(patient_ids=[int(ids[0])])  # warm the connection and caches
    seconds = []
    for pid in ids.tolist():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE diary_diaryentry SET pain = 10 - pain WHERE patient_id = %s AND date = "
                "(SELECT max(date) FROM diary_diaryentry WHERE patient_id = %s)",
                [pid, pid],
            )
        started = time.perf_counter()
        trends_recompute_patients(patient_ids=[pid])
        seconds.append(time.perf_counter() - started)
    return seconds


TREND_TABLES = ("trends_trendseries", "trends_responsesummary")


def table_sizes(n_patients: int, *, compact: bool = False) -> str:
    """Each table's ``pg_total_relation_size`` (and per patient for the trend tables); with
    ``compact``, after ``VACUUM FULL`` of the trend tables (without the rewrites' dead rows)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if compact:
            for table in TREND_TABLES:
                cursor.execute(f"VACUUM FULL {table}")
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relname IN ('diary_diaryentry', 'trends_trendseries', 'trends_responsesummary', "
            "'bench_sql_rolling') ORDER BY relname"
        )
        sizes = dict(cursor.fetchall())
    if compact:
        sizes = {name: size for name, size in sizes.items() if name in TREND_TABLES}

    def text(size: int) -> str:
        return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} kB"

    parts = [
        f"{name} {text(size)}"
        + (f" ({size / n_patients / 1000:.2f} kB per patient)" if name in TREND_TABLES else "")
        for name, size in sizes.items()
    ]
    trends = sum(sizes.get(name, 0) for name in TREND_TABLES)
    parts.append(f"trend storage (both trends tables) {text(trends)}")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = recreate_database(args.admin_url, args.database)
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("STATIC_PLAIN", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Settings demand a mail server when DEBUG is off; the benchmark sends no mail.
    os.environ.setdefault("EMAIL_HOST", "localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_diary.settings")
    # The benchmark calls the services directly; no task may go to a broker.
    os.environ.pop("CELERY_BROKER_URL", None)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        cohort = synthetic_cohort(args.patients, args.days, args.seed)
        load_cohort(cohort, args.patients)
        vacuum_analyze()
        n_entries = len(cohort["entry_day"])
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        print(
            f"cohort: {args.patients} patients x {args.days} days = {n_entries} entries "
            f"({n_entries / (args.patients * args.days):.0%} of days logged), "
            f"{len(cohort['dose_day'])} dose changes; {server}; {os.cpu_count()} CPUs; "
            f"setup {time.perf_counter() - started:.1f} s\n"
        )

        # As a Celery worker does when it starts (ldn_diary.celery, worker_init): otherwise the
        # first run below would also time this process importing scipy.stats (about a second).
        import scipy.stats  # noqa: F401

        load_before = os.getloadavg()
        first, first_counts = time_full_recompute(args.threads)
        unchanged, changed, sql, pandas_runs = [], [], [], []
        for _ in range(args.repeat):
            vacuum_analyze()
            unchanged.append(time_full_recompute(args.threads))
            flip_pain()
            vacuum_analyze()
            changed.append(time_full_recompute(args.threads))
            vacuum_analyze()
            sql.append(time_sql_window())
            pandas_runs.append(time_pandas())
        phases = ""
        if args.phases:
            flip_pain()
            vacuum_analyze()
            phases = phase_breakdown()
        nightly_seconds, nightly_patients = min(
            time_nightly_unchanged() for _ in range(args.repeat)
        )
        worker_runs = {
            int(n): min(time_worker_run(int(n), args.broker) for _ in range(args.repeat))
            for n in args.workers.split(",")
            if n.strip()
        }
        single = time_single_patient(args.single_runs, args.patients, args.seed)
        load_after = os.getloadavg()

        def rate(seconds: float) -> str:
            return f"{n_entries / seconds / 1e6:5.2f} M entries/s"

        def runs(seconds: list[float]) -> str:
            return "best of " + ", ".join(f"{x:.2f}" for x in seconds)

        def written(counts) -> str:
            return (
                f"({counts.days_written} of {counts.days} trend days and "
                f"{counts.summaries_written} of {counts.patients} summaries written)"
            )

        same_seconds, same_counts = min(unchanged, key=lambda run: run[0])
        all_seconds, all_counts = min(changed, key=lambda run: run[0])
        sql_seconds, sql_rows = min(sql)
        pandas_seconds, pandas_read, pandas_rows = min(pandas_runs)
        print(f"(a) full recompute, empty tables       {first:6.2f} s  {rate(first)}")
        print(f"      {written(first_counts)}")
        print(
            f"    full recompute, every value changed {all_seconds:6.2f} s  {rate(all_seconds)}"
            f"  {runs([run[0] for run in changed])}"
        )
        print(f"      {written(all_counts)}")
        print(
            f"    full recompute, diary unchanged    {same_seconds:6.2f} s  {rate(same_seconds)}"
            f"  {runs([run[0] for run in unchanged])}"
        )
        print(f"      {written(same_counts)}")
        print(
            f"    nightly run, diary unchanged       {nightly_seconds:6.2f} s"
            f"  ({nightly_patients} patients to recompute)"
        )
        for n, seconds in worker_runs.items():
            print(
                f"    weekly run, every value changed, {n} worker process{'es' if n > 1 else ''}"
                f"  {seconds:6.2f} s  {rate(seconds)}"
            )
        if phases:
            print("    steps of one more run (every value changed), on one thread:\n" + phases)
        print(
            f"(b) SQL window INSERT ... SELECT       {sql_seconds:6.2f} s  {rate(sql_seconds)}"
            f"  {runs([x[0] for x in sql])}"
        )
        print(f"      ({sql_rows} rows: one per entry, 4 means each, into an unindexed table)")
        print(
            f"(c) pandas groupby().rolling()         {pandas_seconds:6.2f} s  {rate(pandas_seconds)}"
            f"  {runs([x[0] for x in pandas_runs])}"
        )
        print(f"      (read_sql {pandas_read:.2f} s of it; {pandas_rows} rows, not written back)")
        print(
            f"(d) one patient after an edit, through the service: median "
            f"{statistics.median(single) * 1000:.1f} ms, "
            f"p95 {sorted(single)[int(0.95 * (len(single) - 1))] * 1000:.1f} ms, "
            f"max {max(single) * 1000:.1f} ms over {len(single)} runs"
        )
        print()
        for label, seconds in (
            ("(a, empty tables)", first),
            ("(a, every value changed)", all_seconds),
            ("(a, diary unchanged)", same_seconds),
            ("(a, nightly, unchanged)", nightly_seconds),
            *((f"(a, {n} worker{'s' if n > 1 else ''})", s) for n, s in worker_runs.items()),
            ("(c)", pandas_seconds),
        ):
            print(f"ratio {label:<26} / (b) = {seconds / sql_seconds:.2f}")
        print(
            f"load average (1, 5, 15 min) before {', '.join(f'{x:.1f}' for x in load_before)};"
            f" after {', '.join(f'{x:.1f}' for x in load_after)}"
        )
        print(f"sizes: {table_sizes(args.patients)}")
        print(f"sizes after VACUUM FULL: {table_sizes(args.patients, compact=True)}")
    finally:
        connection.close()
        if not args.keep:
            drop_database(args.admin_url, args.database)


if __name__ == "__main__":
    main()
