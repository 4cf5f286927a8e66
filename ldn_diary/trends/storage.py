"""How a recompute reads the diary and writes its results; used only by ``services.py``.

Two implementations of the same steps, called inside one transaction per batch:

* ``OrmStorage`` works on any database Django supports (SQLite in development and tests) and
  rewrites every result.
* ``PostgresStorage`` is the fast path the nightly job needs (bench/README.md): a batch is two
  round trips, each a psycopg pipeline of one statement per step with the patient ids as an
  array parameter. The diary comes out as one row of ``array_agg`` columns loaded straight
  into numpy; the series go in by one INSERT and the summaries' columns by one UPDATE, each
  slicing every column's batch-wide binary array per patient. It rewrites only the patients
  whose results changed, recognised by fingerprints kept on the summary row
  (``ResponseSummary.days_digest`` and ``data_digest``); ``force=True`` rewrites everyone
  regardless.

Both store exactly the same values; tests/trends/test_recompute.py checks that, and
tests/trends/test_summary_storage.py that a summary reads back exactly as computed.
"""

# The SQL below is formatted only with table and column names taken from the models; every
# value travels as a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from typing import Any, Protocol

import numpy as np
from django.db import connection
from django.db.models import Case, DateTimeField, F, Value, When

from ldn_diary.clinical import CohortInput, CohortResult, SummaryColumns, trend_values
from ldn_diary.clinical.constants import (
    SYMPTOMS,
    TAKEN_NO,
    TAKEN_NOT_ASKED,
    TAKEN_PARTLY,
    TAKEN_YES,
)
from ldn_diary.clinical.summary import NO_DAY, PATIENT_FIELDS
from ldn_diary.diary.models import DiaryEntry, DoseChange, DoseTaken

from . import arrays
from .models import (
    BASE_TOTAL_FIELDS,
    BASELINE_FIELDS,
    SYMPTOM_DTYPES,
    TOTAL7_FIELDS,
    WINDOW_DTYPES,
    ResponseSummary,
    TrendSeries,
    TrendState,
)


class Storage(Protocol):
    def read(self, ids: np.ndarray, now: dt.datetime) -> tuple[dict[int, int], CohortInput]:
        """Lock the patients (see OrmStorage._lock), then read their diary versions and their
        diary: the versions first, so that a write committed meanwhile leaves them stale."""
        ...

    def write(
        self,
        ids: np.ndarray,
        result: CohortResult,
        versions: dict[int, int],
        now: dt.datetime,
        engine_version: str,
    ) -> tuple[int, int]:
        """Store the patients' series and summaries and stamp their state; return the days
        and summaries written."""
        ...


def storage_for_connection(*, use_postgres: bool | None, force: bool = False) -> Storage:
    """A fresh storage for one batch (it carries the batch's fingerprints between steps)."""
    postgres = connection.vendor == "postgresql"
    if use_postgres is None:
        use_postgres = postgres
    if use_postgres and not postgres:
        raise ValueError("the PostgreSQL path needs PostgreSQL")
    return PostgresStorage(force=force) if use_postgres else OrmStorage()


def cohort_input(
    ids: np.ndarray,
    entry_patient: np.ndarray,
    entry_day: np.ndarray,
    entry_values: np.ndarray,
    dose_patient: np.ndarray,
    dose_day: np.ndarray,
    dose_ug: np.ndarray,
    entry_taken: np.ndarray,
) -> CohortInput:
    """The engine's input from rows sorted by (patient id, date); ``ids`` sorted ascending."""
    return CohortInput(
        n_patients=len(ids),
        entry_patient=np.searchsorted(ids, entry_patient).astype(np.int64),
        entry_day=entry_day.astype(np.int64),
        entry_values=entry_values.astype(np.float64).reshape(-1, len(SYMPTOMS)),
        dose_patient=np.searchsorted(ids, dose_patient).astype(np.int64),
        dose_day=dose_day.astype(np.int64),
        dose_ug=dose_ug.astype(np.int64),
        entry_taken=entry_taken.astype(np.int64),
    )


# Each entry's dose_taken as the engine's TAKEN_* code.
TAKEN_CODES = {
    DoseTaken.YES: TAKEN_YES,
    DoseTaken.PARTLY: TAKEN_PARTLY,
    DoseTaken.NO: TAKEN_NO,
    DoseTaken.NOT_APPLICABLE: TAKEN_NOT_ASKED,
}


# ResponseSummary's columns other than the patient: the scalars (HEAD_FIELDS), the arrays, the
# fingerprints and the stamp. OrmStorage upserts them all; tests check that none is missed.
HEAD_FIELDS = (
    "therapy_start",
    "data_start",
    "data_end",
    "baseline_valid",
    "baseline_days",
    *BASELINE_FIELDS,
    "assessed",
)
SUMMARY_FIELDS = (
    *HEAD_FIELDS,
    *WINDOW_DTYPES,
    *SYMPTOM_DTYPES,
    "data_digest",
    "days_digest",
    "computed_at",
    "data_version",
    "engine_version",
)
# The PostgreSQL types of HEAD_FIELDS, for the arrays the summaries' UPDATE takes them in.
HEAD_TYPES = {
    "therapy_start": "date",
    "data_start": "date",
    "data_end": "date",
    "baseline_valid": "bool",
    "baseline_days": "int2",
    **dict.fromkeys(BASELINE_FIELDS, "float8"),
    "assessed": "int2",
}
# What the summaries' UPDATE takes a value of per changed patient, with its PostgreSQL type: the
# fingerprints, the version, HEAD_FIELDS, and the patient's slice of the window arrays.
SUMMARY_UPDATE_VALUES = {
    "patient_id": "int8",
    "digest": "text",
    "days_digest": "text",
    "version": "int8",
    **HEAD_TYPES,
    "lo": "int4",
    "hi": "int4",
}


def summary_arrays(summary: SummaryColumns) -> tuple[list[int], dict[str, np.ndarray]]:
    """ResponseSummary's array columns over the batch's windows, in their stored dtypes (the
    window-and-symptom ones flattened, SYMPTOMS order within a window), and each patient's
    bounds: patient i's windows are rows ``bounds[i]:bounds[i + 1]``."""
    columns = {name: getattr(summary, name).astype(dtype) for name, dtype in WINDOW_DTYPES.items()}
    for name, dtype in SYMPTOM_DTYPES.items():
        columns[name] = getattr(summary, name).astype(dtype).reshape(-1)
    return summary.window_bounds.tolist(), columns


def array_bounds(name: str, bounds: list[int]) -> list[int]:
    """A patient's slice of column ``name`` (summary_arrays): a value per window, or four."""
    return [b * len(SYMPTOMS) for b in bounds] if name in SYMPTOM_DTYPES else bounds


def summary_heads(summary: SummaryColumns) -> list[dict[str, Any]]:
    """Each patient's ResponseSummary columns other than the arrays."""

    def days(values: np.ndarray) -> list[dt.date | None]:
        return [None if d == NO_DAY else dt.date.fromordinal(d) for d in values.tolist()]

    means = summary.baseline_mean.astype(object)
    means[np.isnan(summary.baseline_mean)] = None
    return [
        {
            "therapy_start": therapy,
            "data_start": first,
            "data_end": last,
            "baseline_valid": valid,
            "baseline_days": logged,
            **dict(zip(BASELINE_FIELDS, mean, strict=True)),
            "assessed": assessed,
        }
        for therapy, first, last, valid, logged, mean, assessed in zip(
            days(summary.therapy_start),
            days(summary.data_start),
            days(summary.data_end),
            summary.baseline_valid.tolist(),
            summary.baseline_days.tolist(),
            means.tolist(),
            summary.assessed.tolist(),
            strict=True,
        )
    ]


def _records(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Columns of equal length as one structured array, so a run of rows is a run of bytes."""
    layout = [
        (name, values.dtype.newbyteorder("<").str, values.shape[1:])
        for name, values in columns.items()
    ]
    rows = np.zeros(len(next(iter(columns.values()))), dtype=np.dtype(layout))
    for name, values in columns.items():
        rows[name] = values
    return rows


def summary_digests(summary: SummaryColumns) -> list[str]:
    """Per patient, a digest of their summary columns as stored (ResponseSummary.data_digest)."""
    heads = _records(
        {name: getattr(summary, name) for name in PATIENT_FIELDS if name != "window_bounds"}
    )
    bounds, columns = summary_arrays(summary)
    windows = _records(
        {
            name: values.reshape(-1, len(SYMPTOMS)) if name in SYMPTOM_DTYPES else values
            for name, values in columns.items()
        }
    )
    head_size, window_size = heads.dtype.itemsize, windows.dtype.itemsize
    head_bytes, window_bytes = heads.tobytes(), windows.tobytes()
    return [
        hashlib.blake2b(
            head_bytes[p * head_size : (p + 1) * head_size]
            + window_bytes[lo * window_size : hi * window_size],
            digest_size=16,
        ).hexdigest()
        for p, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]


def days_digests(ids: np.ndarray, result: CohortResult) -> list[str]:
    """Per patient, a digest of their trends as stored (ResponseSummary.days_digest).

    The days are laid out in one fixed-width array (the date, then TrendSeries' columns), in
    date order, so each patient's days are one contiguous run of bytes to hash; their baseline
    totals follow.
    """
    bounds, columns = series_columns(ids, result)
    layout = [("date", "<i8")] + [(name, values.dtype.str) for name, values in columns.items()]
    rows = np.zeros(len(result.day_day), dtype=np.dtype(layout))
    rows["date"] = result.day_day
    for name, values in columns.items():
        rows[name] = values
    data = rows.tobytes()
    size = rows.dtype.itemsize
    base = series_bases(result)
    return [
        hashlib.blake2b(data[lo * size : hi * size] + base[p].tobytes(), digest_size=16).hexdigest()
        for p, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]


# TrendSeries' array columns, in the order series_columns gives them.
SERIES_ARRAYS = ("dose_ug", "logged", *TOTAL7_FIELDS)
# TrendSeries' baseline columns, in the order series_bases gives them.
SERIES_BASE = ("base_n", *BASE_TOTAL_FIELDS)
# What the series' INSERT takes a value of per patient, with its PostgreSQL type: the patient,
# their first and last day (ordinals), their rows in the batch's arrays, the last day's pain
# mean and change (NaN = none) and SERIES_BASE.
SERIES_INSERT_VALUES = {
    "patient_id": "int8",
    "first": "int4",
    "last": "int4",
    "lo": "int4",
    "hi": "int4",
    "last_r7": "float8",
    "last_pct": "float8",
    **dict.fromkeys(SERIES_BASE, "int2"),
}


def _agreeing(counts: np.ndarray, what: str) -> np.ndarray:
    """The one count of rows whose four symptoms' counts agree (every entry has all four
    scores, which the series rely on: they keep one count for all four)."""
    if counts.size and (counts != counts[:, :1]).any():
        raise ValueError(f"the symptoms' {what} counts differ: an entry lacks a score")
    return counts[:, 0] if counts.size else np.zeros(len(counts), dtype=counts.dtype)


def series_columns(
    ids: np.ndarray, result: CohortResult
) -> tuple[list[int], dict[str, np.ndarray]]:
    """TrendSeries' array columns over every day row of the batch, and each patient's bounds:
    patient i's days are rows ``bounds[i]:bounds[i + 1]``."""
    _agreeing(result.day_rolling_n, "7-day")
    columns: dict[str, np.ndarray] = {
        "dose_ug": result.day_dose_ug.astype(np.int32),
        "logged": result.day_logged.astype(bool),
    }
    for k, name in enumerate(TOTAL7_FIELDS):
        columns[name] = result.day_rolling_total[:, k].astype(np.int16)
    bounds = np.searchsorted(result.day_patient, np.arange(len(ids) + 1)).tolist()
    return bounds, columns


def series_bases(result: CohortResult) -> np.ndarray:
    """(P, 5) int16: each patient's SERIES_BASE values (baseline days, then the totals)."""
    base_n = _agreeing(result.base_n, "baseline")
    return np.column_stack((base_n, result.base_total)).astype(np.int16)


def series_heads(result: CohortResult, bounds: list[int]) -> dict[str, np.ndarray]:
    """TrendSeries' columns other than the arrays, for each patient with days (bounds as
    series_columns gives them): first and last day (ordinals), the last day's pain mean and
    change (NaN = none), and the SERIES_BASE values."""
    lo, hi = np.asarray(bounds[:-1]), np.asarray(bounds[1:])
    has_days = hi > lo
    first, last = lo[has_days], hi[has_days] - 1
    pain = SYMPTOMS.index("pain")
    base = series_bases(result)[has_days]
    mean, pct = trend_values(
        result.day_rolling_total[last],
        result.day_rolling_n[last],
        base[:, 1:],
        base[:, :1],
    )
    return {
        "start": result.day_day[first],
        "end": result.day_day[last],
        "last_pain_r7": mean[:, pain],
        "last_pain_pct": pct[:, pain],
        **{name: base[:, k] for k, name in enumerate(SERIES_BASE)},
    }


# --------------------------------------------------------------------------------------------------
# Any database, through the ORM


class OrmStorage:
    """Any database; rewrites every result. One instance per batch."""

    def __init__(self) -> None:
        self._days_digests: dict[int, str] = {}

    def read(self, ids: np.ndarray, now: dt.datetime) -> tuple[dict[int, int], CohortInput]:
        id_list = ids.tolist()
        self._lock(id_list, now)
        return self._versions(id_list), self._read(ids)

    def write(
        self,
        ids: np.ndarray,
        result: CohortResult,
        versions: dict[int, int],
        now: dt.datetime,
        engine_version: str,
    ) -> tuple[int, int]:
        days = self._replace_series(ids, result)
        summaries = self._write_summaries(
            ids.tolist(), result.summary, versions, now, engine_version
        )
        self._stamp(versions, now)
        return days, summaries

    def _lock(self, ids: list[int], now: dt.datetime) -> None:
        """Serialise recomputes of the same patient without blocking diary writes.

        Two overlapping recomputes (a queued task and the nightly job) would otherwise both
        insert the patient's TrendSeries row, or an older result could overwrite a newer one. The
        lock is the patient's ResponseSummary row, which diary writes never touch. A first-time
        placeholder row is visible only inside this transaction, which fills it in before
        committing. Locks are taken in id order, so two batches cannot deadlock. (On SQLite
        the transaction holds the database's write lock from its start anyway.)
        """
        ResponseSummary.objects.bulk_create(
            [ResponseSummary(patient_id=i, computed_at=now) for i in ids], ignore_conflicts=True
        )
        list(
            ResponseSummary.objects.select_for_update()
            .filter(patient_id__in=ids)
            .order_by("patient_id")
            .values_list("patient_id", flat=True)
        )

    def _versions(self, ids: list[int]) -> dict[int, int]:
        TrendState.objects.bulk_create(
            [TrendState(patient_id=i) for i in ids], ignore_conflicts=True
        )
        return dict(
            TrendState.objects.filter(patient_id__in=ids).values_list("patient_id", "data_version")
        )

    def _read(self, ids: np.ndarray) -> CohortInput:
        id_list = ids.tolist()
        entries = list(
            DiaryEntry.objects.filter(patient_id__in=id_list)
            .order_by("patient_id", "date")
            .values_list("patient_id", "date", *SYMPTOMS, "dose_taken")
        )
        doses = list(
            DoseChange.objects.filter(patient_id__in=id_list)
            .order_by("patient_id", "effective_date")
            .values_list("patient_id", "effective_date", "dose_ug")
        )
        return cohort_input(
            ids,
            np.array([row[0] for row in entries], dtype=np.int64),
            np.array([row[1].toordinal() for row in entries], dtype=np.int64),
            np.array([row[2:6] for row in entries], dtype=np.float64),
            np.array([row[0] for row in doses], dtype=np.int64),
            np.array([row[1].toordinal() for row in doses], dtype=np.int64),
            np.array([row[2] for row in doses], dtype=np.int64),
            np.array([TAKEN_CODES[row[6]] for row in entries], dtype=np.int64),
        )

    def _replace_series(self, ids: np.ndarray, result: CohortResult) -> int:
        self._days_digests = dict(zip(ids.tolist(), days_digests(ids, result), strict=True))
        TrendSeries.objects.filter(patient_id__in=ids.tolist()).delete()
        bounds, columns = series_columns(ids, result)
        heads = series_heads(result, bounds)
        with_days = [
            (pid, lo, hi)
            for pid, lo, hi in zip(ids.tolist(), bounds[:-1], bounds[1:], strict=True)
            if hi > lo
        ]

        def optional(value: float) -> float | None:
            return None if np.isnan(value) else float(value)

        TrendSeries.objects.bulk_create(
            (
                TrendSeries(
                    patient_id=pid,
                    start=dt.date.fromordinal(int(heads["start"][k])),
                    end=dt.date.fromordinal(int(heads["end"][k])),
                    last_pain_r7=optional(heads["last_pain_r7"][k]),
                    last_pain_pct=optional(heads["last_pain_pct"][k]),
                    **{name: int(heads[name][k]) for name in SERIES_BASE},
                    **{name: values[lo:hi] for name, values in columns.items()},
                )
                for k, (pid, lo, hi) in enumerate(with_days)
            ),
            batch_size=100,
        )
        return len(result.day_day)

    def _write_summaries(
        self,
        ids: list[int],
        summary: SummaryColumns,
        versions: dict[int, int],
        now: dt.datetime,
        engine_version: str,
    ) -> int:
        bounds, columns = summary_arrays(summary)
        slices = {name: array_bounds(name, bounds) for name in columns}
        ResponseSummary.objects.bulk_create(
            [
                ResponseSummary(
                    patient_id=pid,
                    **head,
                    **{
                        name: values[slices[name][i] : slices[name][i + 1]]
                        for name, values in columns.items()
                    },
                    data_digest=digest,
                    days_digest=self._days_digests[pid],
                    computed_at=now,
                    data_version=versions[pid],
                    engine_version=engine_version,
                )
                for i, (pid, head, digest) in enumerate(
                    zip(ids, summary_heads(summary), summary_digests(summary), strict=True)
                )
            ],
            update_conflicts=True,
            unique_fields=["patient"],
            update_fields=list(SUMMARY_FIELDS),
            batch_size=500,
        )
        return len(ids)

    def _stamp(self, versions: dict[int, int], now: dt.datetime) -> None:
        """Mark each patient computed at the version read before its data, and clear any
        earlier failure (they were computed this time).

        ``dirty_since`` and ``queued_at`` clear only if no write came in after that version.
        The condition is part of the UPDATE, so it is judged against the row as committed
        writes left it (PostgreSQL re-reads a row a concurrent write changed first).
        """
        by_version: dict[int, list[int]] = {}
        for pid, version in versions.items():
            by_version.setdefault(version, []).append(pid)
        for version, pids in by_version.items():
            caught_up = When(data_version__lte=version, then=Value(None))
            TrendState.objects.filter(patient_id__in=pids).update(
                computed_version=version,
                computed_at=now,
                dirty_since=Case(caught_up, default=F("dirty_since"), output_field=DateTimeField()),
                queued_at=Case(caught_up, default=F("queued_at"), output_field=DateTimeField()),
                failed_at=None,
                failure="",
            )


# --------------------------------------------------------------------------------------------------
# PostgreSQL: whole batches as binary arrays, in two round trips

Statement = tuple[str, list[Any]]
# psycopg prepares a statement once it has run this many times, or at once with prepare=True.
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _ordinal(column: str) -> str:
    """SQL: a date column as Python's date ordinal (0001-01-01 is day 1)."""
    return f"({_qn(column)} - DATE '0001-01-01' + 1)::int4"


@cache
def _sql() -> dict[str, str]:
    """The statements PostgresStorage sends, built once (table and column names only)."""
    summary, state = _qn(ResponseSummary._meta.db_table), _qn(TrendState._meta.db_table)
    series = _qn(TrendSeries._meta.db_table)
    scores = ", ".join(f"array_agg({_qn(s)}::int2)" for s in SYMPTOMS)
    taken = " ".join(f"WHEN '{answer}' THEN {code}" for answer, code in TAKEN_CODES.items())
    window_arrays = [*WINDOW_DTYPES, *SYMPTOM_DTYPES]
    slices = [
        f"{_qn(name)} = a.{name}[v.lo * {n} + 1 : v.hi * {n}]"
        for name in window_arrays
        for n in [len(SYMPTOMS) if name in SYMPTOM_DTYPES else 1]
    ]
    return {
        # Creates the missing summary (lock) and state rows, and sets two things for this
        # transaction. synchronous_commit off: everything written here can be recomputed from
        # the diary, so a crash that loses the last few commits loses nothing, and not waiting
        # for the WAL flush saves a disk sync. The plan cache mode (plan_cache_mode_for): the
        # statements are prepared (see _pipeline), and a plan fit for one patient's ids must
        # not serve a batch of a thousand.
        "placeholders": (
            f"WITH sync AS (SELECT set_config('synchronous_commit', 'off', true), "
            f"set_config('plan_cache_mode', %b, true)), "
            f"summary AS (INSERT INTO {summary} "
            f"(patient_id, baseline_valid, baseline_days, assessed, data_digest, days_digest, "
            f"computed_at, data_version, engine_version) "
            f"SELECT id, false, 0, -1, '', '', %b, 0, '' FROM unnest(%b::int8[]) AS id "
            f"ON CONFLICT (patient_id) DO NOTHING), "
            f"state AS (INSERT INTO {state} (patient_id, data_version, computed_version) "
            f"SELECT id, 0, 0 FROM unnest(%b::int8[]) AS id ON CONFLICT (patient_id) DO NOTHING) "
            f"SELECT count(*) FROM sync"
        ),
        # The locks (in id order, like OrmStorage._lock), the fingerprints and the versions. A
        # version read at this statement's start is never newer than the diary read after it,
        # which is all the stamp needs (an older one only means one more recompute).
        "lock": (
            f"SELECT s.patient_id, s.data_digest, s.days_digest, t.data_version "
            f"FROM {summary} AS s JOIN {state} AS t USING (patient_id) "
            f"WHERE s.patient_id = ANY(%b::int8[]) ORDER BY s.patient_id FOR UPDATE OF s"
        ),
        # The diary as one row of arrays (array_agg feeds every aggregate the same rows in the
        # same order; read() sorts them by patient and day).
        "entries": (
            f"SELECT array_agg(patient_id::int8), array_agg({_ordinal('date')}), {scores}, "
            f"array_agg((CASE dose_taken {taken} ELSE {TAKEN_NOT_ASKED} END)::int2) "
            f"FROM {_qn(DiaryEntry._meta.db_table)} WHERE patient_id = ANY(%b::int8[])"
        ),
        "doses": (
            f"SELECT array_agg(patient_id::int8), array_agg({_ordinal('effective_date')}), "
            f"array_agg(dose_ug::int8) "
            f"FROM {_qn(DoseChange._meta.db_table)} WHERE patient_id = ANY(%b::int8[])"
        ),
        "delete_series": f"DELETE FROM {series} WHERE patient_id = ANY(%b::int8[])",
        # Each array column travels as one array over the batch's days, sliced per patient.
        "insert_series": (
            f"INSERT INTO {series} (patient_id, {_qn('start')}, {_qn('end')}, "
            f"{', '.join(map(_qn, (*SERIES_ARRAYS, *SERIES_BASE)))}, last_pain_r7, last_pain_pct) "
            f"SELECT v.patient_id, DATE '0001-01-01' + (v.first - 1), "
            f"DATE '0001-01-01' + (v.last - 1), "
            f"{', '.join(f'a.{name}[v.lo + 1 : v.hi]' for name in SERIES_ARRAYS)}, "
            f"{', '.join(f'v.{name}' for name in SERIES_BASE)}, "
            f"NULLIF(v.last_r7, 'NaN'), NULLIF(v.last_pct, 'NaN') "
            f"FROM unnest({', '.join(f'%b::{t}[]' for t in SERIES_INSERT_VALUES.values())}) "
            f"AS v({', '.join(SERIES_INSERT_VALUES)}), "
            f"(SELECT {', '.join(f'%b AS {name}' for name in SERIES_ARRAYS)}) AS a"
        ),
        "stamp_summaries": (
            f"UPDATE {summary} AS s SET days_digest = v.days_digest, "
            f"data_version = v.version, computed_at = %b, engine_version = %b "
            f"FROM unnest(%b::int8[], %b::text[], %b::int8[]) "
            f"AS v(patient_id, days_digest, version) "
            f"WHERE s.patient_id = v.patient_id"
        ),
        # The same rule as OrmStorage._stamp, for the whole batch in one statement.
        "stamp": (
            f"UPDATE {state} SET computed_version = v.version, computed_at = %b, "
            f"dirty_since = CASE WHEN {state}.data_version <= v.version THEN NULL "
            f"ELSE {state}.dirty_since END, "
            f"queued_at = CASE WHEN {state}.data_version <= v.version THEN NULL "
            f"ELSE {state}.queued_at END, failed_at = NULL, failure = '' "
            f"FROM unnest(%b::int8[], %b::int8[]) AS v(patient_id, version) "
            f"WHERE {state}.patient_id = v.patient_id"
        ),
        # Every column of the changed summaries: a value per patient, and each array column as
        # one array over the batch's windows, sliced per patient.
        "update_summaries": (
            f"UPDATE {summary} AS s SET "
            f"{', '.join(f'{_qn(f)} = v.{f}' for f in HEAD_FIELDS)}, {', '.join(slices)}, "
            f"data_digest = v.digest, days_digest = v.days_digest, "
            f"data_version = v.version, computed_at = %b, engine_version = %b "
            f"FROM unnest({', '.join(f'%b::{t}[]' for t in SUMMARY_UPDATE_VALUES.values())}) "
            f"AS v({', '.join(SUMMARY_UPDATE_VALUES)}), "
            f"(SELECT {', '.join(f'%b AS {name}' for name in window_arrays)}) AS a "
            f"WHERE s.patient_id = v.patient_id"
        ),
    }


def plan_cache_mode_for(patients: int) -> str:
    """How a batch's prepared statements are planned. One patient (a diary save): the generic
    plan, made once per connection, which finds each row by its primary key or index, so no
    statement is planned again on every save. A batch: a plan for its own ids every time (an
    array of a thousand ids may call for other joins and scans than the generic plan's)."""
    return "force_generic_plan" if patients == 1 else "force_custom_plan"


def _by_patient_and_day(columns: tuple[np.ndarray | None, ...]) -> list[np.ndarray]:
    """array_agg's columns (NULL when no row matched) sorted by patient, then day."""
    loaded = [np.empty(0, dtype=np.int64) if c is None else c for c in columns]
    order = np.lexsort((loaded[1], loaded[0]))
    return [c[order] for c in loaded]


class PostgresStorage:
    """The fast path; one instance per batch."""

    def __init__(self, *, force: bool = False) -> None:
        self._force = force
        # patient id -> (data_digest, days_digest) as stored, read under the lock.
        self._stored: dict[int, tuple[str, str]] = {}

    def _pipeline(self, statements: list[Statement]) -> list[list[tuple[Any, ...]]]:
        """Run the statements in order in one round trip (psycopg's pipeline mode) and return
        each one's rows.

        Parameters are bound on the server in binary (``%b``): Django's cursors quote them into
        the SQL text on the client, which for a batch's arrays costs seconds. The statements are
        prepared once per connection, and one patient's planned once (plan_cache_mode_for): a
        diary save's recompute then costs the server about 0.7 ms instead of 2.3 ms (measured
        on the bench's 10 000-patient database).
        Integer arrays in the results load as numpy arrays (``arrays.register``). Errors are
        raised as django.db errors (e.g. OperationalError, which the tasks retry).
        """
        import psycopg

        connection.ensure_connection()
        conn = connection.connection
        # Django opens connections with prepared statements off (prepare_threshold None), and
        # then psycopg ignores prepare=True; a threshold no query reaches turns on preparing
        # for these statements alone, while they run.
        threshold = conn.prepare_threshold
        conn.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
        with connection.wrap_database_errors:
            cursors = [psycopg.Cursor(conn) for _ in statements]
            try:
                with conn.pipeline():
                    for cursor, (sql, params) in zip(cursors, statements, strict=True):
                        cursor.execute(sql, params, binary=True, prepare=True)
                return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
            finally:
                conn.prepare_threshold = threshold
                for cursor in cursors:
                    cursor.close()

    def read(self, ids: np.ndarray, now: dt.datetime) -> tuple[dict[int, int], CohortInput]:
        """Placeholders, locks, versions and the diary: four statements, one round trip."""
        sql = _sql()
        batch = arrays.binary_array(ids.astype(np.int64))
        _, locked, entries, doses = self._pipeline(
            [
                (sql["placeholders"], [plan_cache_mode_for(len(ids)), now, batch, batch]),
                (sql["lock"], [batch]),
                (sql["entries"], [batch]),
                (sql["doses"], [batch]),
            ]
        )
        self._stored = {pid: (data, days) for pid, data, days, _ in locked}
        versions = {pid: version for pid, _, _, version in locked}
        patient, day, *scores, taken = _by_patient_and_day(entries[0])
        dose_patient, dose_day, dose_ug = _by_patient_and_day(doses[0])
        cohort = cohort_input(
            ids, patient, day, np.stack(scores, axis=1), dose_patient, dose_day, dose_ug, taken
        )
        return versions, cohort

    def write(
        self,
        ids: np.ndarray,
        result: CohortResult,
        versions: dict[int, int],
        now: dt.datetime,
        engine_version: str,
    ) -> tuple[int, int]:
        """Series, summaries and stamp: up to five statements, one round trip.

        Only patients whose results changed are written (all, if forced), recognised by the
        fingerprints stored with their summary: the engine gives bit-identical values for the
        same diary, so the digests compare exactly. Unchanged patients only get their
        fingerprints, version and time.
        """
        id_list = ids.tolist()
        stored = [self._stored.get(pid, ("", "")) for pid in id_list]
        days = days_digests(ids, result)
        data = summary_digests(result.summary)
        days_changed = np.array(
            [self._force or s[1] != d for s, d in zip(stored, days, strict=True)], dtype=bool
        )
        data_changed = np.array(
            [self._force or s[0] != d for s, d in zip(stored, data, strict=True)], dtype=bool
        )
        statements, days_written = self._series(ids, result, days_changed)
        statements += self._summaries(
            ids, result.summary, data_changed, data, days, versions, now, engine_version
        )
        statements.append((_sql()["stamp"], [now, list(versions), list(versions.values())]))
        self._pipeline(statements)
        return days_written, int(data_changed.sum())

    def _series(
        self, ids: np.ndarray, result: CohortResult, changed: np.ndarray
    ) -> tuple[list[Statement], int]:
        """Delete the changed patients' series and insert them again."""
        if not changed.any():
            return [], 0
        bounds, columns = series_columns(ids, result)
        lo, hi = np.asarray(bounds[:-1]), np.asarray(bounds[1:])
        heads = series_heads(result, bounds)
        keep = changed[hi > lo]  # heads hold the patients with days
        write = changed & (hi > lo)
        sql = _sql()
        statements = [(sql["delete_series"], [arrays.binary_array(ids[changed])])]
        if write.any():
            per_patient = {
                "patient_id": ids[write],
                "first": heads["start"][keep],
                "last": heads["end"][keep],
                "lo": lo[write],
                "hi": hi[write],
                "last_r7": heads["last_pain_r7"][keep],
                "last_pct": heads["last_pain_pct"][keep],
                **{name: heads[name][keep] for name in SERIES_BASE},
            }
            values = [
                per_patient[name].astype(arrays.DTYPES[pg_type])
                for name, pg_type in SERIES_INSERT_VALUES.items()
            ]
            batch = [columns[name] for name in SERIES_ARRAYS]
            statements.append(
                (sql["insert_series"], [arrays.binary_array(c) for c in [*values, *batch]])
            )
        return statements, int((hi - lo)[write].sum())

    def _summaries(
        self,
        ids: np.ndarray,
        summary: SummaryColumns,
        changed: np.ndarray,
        digests: list[str],
        days_digests: list[str],
        versions: dict[int, int],
        now: dt.datetime,
        engine_version: str,
    ) -> list[Statement]:
        """Update the summary rows: all columns where the digest changed, else the stamp.

        An UPDATE, not delete-and-insert: the rows are the locks other recomputes may be waiting
        on (see OrmStorage._lock). One statement for the changed summaries: each array column
        travels as one binary array over the whole batch's windows, sliced per patient by the
        UPDATE; the other columns as arrays of a value per patient.
        """
        id_list = ids.tolist()
        rows = np.flatnonzero(changed).tolist()
        same = np.flatnonzero(~changed).tolist()
        statements: list[Statement] = []
        if rows:
            bounds, columns = summary_arrays(summary)
            heads = summary_heads(summary)
            per_patient = {
                "patient_id": [id_list[i] for i in rows],
                "digest": [digests[i] for i in rows],
                "days_digest": [days_digests[i] for i in rows],
                "version": [versions[id_list[i]] for i in rows],
                **{f: [heads[i][f] for i in rows] for f in HEAD_FIELDS},
                "lo": [bounds[i] for i in rows],
                "hi": [bounds[i + 1] for i in rows],
            }
            statements.append(
                (
                    _sql()["update_summaries"],
                    [
                        now,
                        engine_version,
                        *(per_patient[name] for name in SUMMARY_UPDATE_VALUES),
                        *(arrays.binary_array(values) for values in columns.values()),
                    ],
                )
            )
        if same:
            statements.append(
                (
                    _sql()["stamp_summaries"],
                    [
                        now,
                        engine_version,
                        [id_list[i] for i in same],
                        [days_digests[i] for i in same],
                        [versions[id_list[i]] for i in same],
                    ],
                )
            )
        return statements
