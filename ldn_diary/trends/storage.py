"""How a recompute reads the diary and writes its results; used only by ``services.py``.

Two implementations of the same steps, called inside one transaction per batch:

* ``OrmStorage`` works on any database Django supports (SQLite in development and tests) and
  rewrites every result.
* ``PostgresStorage`` is the fast path the nightly job needs (bench/README.md): the diary comes
  out by binary ``COPY ... TO STDOUT`` straight into numpy arrays, trend rows go in by binary
  ``COPY ... FROM STDIN`` encoded by numpy, the summaries' columns by one UPDATE that slices
  each column's batch-wide binary array per patient, and everything else is one statement per
  batch with the patient ids as an array parameter. It rewrites only the patients whose results
  changed, recognised by fingerprints kept on the summary row (``ResponseSummary.days_digest``
  and ``data_digest``); ``force=True`` rewrites everyone regardless.

Both store exactly the same values; tests/trends/test_recompute.py checks that, and
tests/trends/test_summary_storage.py that a summary reads back exactly as computed.
"""

# The SQL below is formatted only with table and column names taken from the models; every
# value travels as a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
from django.db import connection
from django.db.models import Case, DateTimeField, F, Value, When

from ldn_diary.clinical import CohortInput, CohortResult, SummaryColumns
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
    BASELINE_FIELDS,
    SYMPTOM_DTYPES,
    WINDOW_DTYPES,
    ResponseSummary,
    TrendSeries,
    TrendState,
)


class Storage(Protocol):
    def begin(self) -> None: ...
    def lock(self, ids: list[int], now: dt.datetime) -> None: ...
    def versions(self, ids: list[int]) -> dict[int, int]: ...
    def read(self, ids: np.ndarray) -> CohortInput: ...
    def replace_series(self, ids: np.ndarray, result: CohortResult) -> int: ...
    def write_summaries(
        self,
        ids: list[int],
        summary: SummaryColumns,
        versions: dict[int, int],
        now: dt.datetime,
        engine_version: str,
    ) -> int: ...
    def stamp(self, versions: dict[int, int], now: dt.datetime) -> None: ...


def storage_for_connection(*, use_copy: bool | None, force: bool = False) -> Storage:
    """A fresh storage for one batch (it carries the batch's fingerprints between steps)."""
    postgres = connection.vendor == "postgresql"
    if use_copy is None:
        use_copy = postgres
    if use_copy and not postgres:
        raise ValueError("the COPY path needs PostgreSQL")
    return PostgresStorage(force=force) if use_copy else OrmStorage()


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
# The PostgreSQL types of HEAD_FIELDS, for the arrays write_summaries sends them in.
HEAD_TYPES = {
    "therapy_start": "date",
    "data_start": "date",
    "data_end": "date",
    "baseline_valid": "bool",
    "baseline_days": "int2",
    **dict.fromkeys(BASELINE_FIELDS, "float8"),
    "assessed": "int2",
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
    date order, so each patient's days are one contiguous run of bytes to hash.
    """
    bounds, columns = series_columns(ids, result)
    layout = [("date", "<i8")] + [(name, values.dtype.str) for name, values in columns.items()]
    rows = np.zeros(len(result.day_day), dtype=np.dtype(layout))
    rows["date"] = result.day_day
    for name, values in columns.items():
        rows[name] = values
    data = rows.tobytes()
    size = rows.dtype.itemsize
    return [
        hashlib.blake2b(data[lo * size : hi * size], digest_size=16).hexdigest()
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def series_columns(
    ids: np.ndarray, result: CohortResult
) -> tuple[list[int], dict[str, np.ndarray]]:
    """TrendSeries' array columns over every day row of the batch, and each patient's bounds:
    patient i's days are rows ``bounds[i]:bounds[i + 1]``."""
    columns: dict[str, np.ndarray] = {
        "dose_ug": result.day_dose_ug.astype(np.int32),
        "logged": result.day_logged.astype(bool),
        # Diary entries always carry all four scores, so the symptoms' counts agree; the
        # largest is the number of logged days in the window.
        "logged_7": result.day_rolling_n.max(axis=1, initial=0).astype(np.int16),
    }
    for kind, values in (("r7", result.day_rolling), ("pct", result.day_change_pct)):
        for k, symptom in enumerate(SYMPTOMS):
            columns[f"{symptom}_{kind}"] = np.ascontiguousarray(values[:, k], dtype=np.float64)
    bounds = np.searchsorted(result.day_patient, np.arange(len(ids) + 1)).tolist()
    return bounds, columns


def series_head(result: CohortResult, lo: int, hi: int) -> dict[str, Any]:
    """A patient's TrendSeries columns other than the arrays, from their rows lo:hi."""
    pain = SYMPTOMS.index("pain")
    last_r7, last_pct = result.day_rolling[hi - 1, pain], result.day_change_pct[hi - 1, pain]
    return {
        "start": dt.date.fromordinal(int(result.day_day[lo])),
        "end": dt.date.fromordinal(int(result.day_day[hi - 1])),
        "last_pain_r7": None if np.isnan(last_r7) else float(last_r7),
        "last_pain_pct": None if np.isnan(last_pct) else float(last_pct),
    }


# --------------------------------------------------------------------------------------------------
# Any database, through the ORM


class OrmStorage:
    """Any database; rewrites every result. One instance per batch."""

    def __init__(self) -> None:
        self._days_digests: dict[int, str] = {}

    def begin(self) -> None:
        pass

    def lock(self, ids: list[int], now: dt.datetime) -> None:
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

    def versions(self, ids: list[int]) -> dict[int, int]:
        TrendState.objects.bulk_create(
            [TrendState(patient_id=i) for i in ids], ignore_conflicts=True
        )
        return dict(
            TrendState.objects.filter(patient_id__in=ids).values_list("patient_id", "data_version")
        )

    def read(self, ids: np.ndarray) -> CohortInput:
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

    def replace_series(self, ids: np.ndarray, result: CohortResult) -> int:
        self._days_digests = dict(zip(ids.tolist(), days_digests(ids, result), strict=True))
        TrendSeries.objects.filter(patient_id__in=ids.tolist()).delete()
        bounds, columns = series_columns(ids, result)
        TrendSeries.objects.bulk_create(
            (
                TrendSeries(
                    patient_id=pid,
                    **series_head(result, lo, hi),
                    **{name: values[lo:hi] for name, values in columns.items()},
                )
                for pid, lo, hi in zip(ids.tolist(), bounds[:-1], bounds[1:], strict=True)
                if hi > lo
            ),
            batch_size=100,
        )
        return len(result.day_day)

    def write_summaries(
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

    def stamp(self, versions: dict[int, int], now: dt.datetime) -> None:
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
# PostgreSQL: binary COPY and array parameters

# The binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html), read by
# _copy_out: signature, flags, header-extension length; then per row a field count and
# (length, bytes) per field; then a field count of -1.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_TRAILER = b"\xff\xff"
PG_EPOCH = dt.date(2000, 1, 1).toordinal()  # binary dates count days from 2000-01-01


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


class PostgresStorage:
    """The fast path; one instance per batch."""

    def __init__(self, *, force: bool = False) -> None:
        self._force = force
        self._summary = _qn(ResponseSummary._meta.db_table)
        self._state = _qn(TrendState._meta.db_table)
        self._series = _qn(TrendSeries._meta.db_table)
        # patient id -> (data_digest, days_digest) as stored, read under the lock.
        self._stored: dict[int, tuple[str, str]] = {}
        # patient id -> TrendState.data_version, read with the lock.
        self._versions: dict[int, int] = {}
        self._days_digests: dict[int, str] = {}

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A psycopg cursor that binds parameters on the server, with Django's error classes.

        Django's cursors quote parameters into the SQL text on the client, which for an array of
        2000 JSON documents costs seconds; bound parameters travel as they are (``%b``: binary).
        Errors are raised as django.db errors (e.g. OperationalError, which the tasks retry).
        """
        import psycopg

        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            yield cursor

    def begin(self) -> None:
        """Nothing to send yet: lock() sets the transaction's synchronous_commit (a round trip
        less for the one-patient recompute that follows every diary save)."""

    def lock(self, ids: list[int], now: dt.datetime) -> None:
        """The same protocol as OrmStorage.lock and versions, in two statements.

        The first creates the missing summary (lock) and state rows and turns synchronous_commit
        off for this transaction: everything written here can be recomputed from the diary, so a
        crash that loses the last few commits loses nothing, and not waiting for the WAL flush
        saves a disk sync. The second takes the locks and reads the fingerprints and the diary
        versions. A version read at that statement's start is never newer than the diary read
        after it, which is all the stamp needs (an older one only means one more recompute).
        """
        with self._cursor() as cursor:
            cursor.execute(
                f"WITH sync AS (SELECT set_config('synchronous_commit', 'off', true)), "
                f"summary AS (INSERT INTO {self._summary} "
                f"(patient_id, baseline_valid, baseline_days, assessed, data_digest, days_digest, "
                f"computed_at, data_version, engine_version) "
                f"SELECT id, false, 0, -1, '', '', %b, 0, '' FROM unnest(%b::int8[]) AS id "
                f"ON CONFLICT (patient_id) DO NOTHING), "
                f"state AS (INSERT INTO {self._state} (patient_id, data_version, computed_version) "
                f"SELECT id, 0, 0 FROM unnest(%b::int8[]) AS id ON CONFLICT (patient_id) DO NOTHING) "
                f"SELECT count(*) FROM sync",
                [now, ids, ids],
            )
            cursor.execute(
                f"SELECT s.patient_id, s.data_digest, s.days_digest, t.data_version "
                f"FROM {self._summary} AS s JOIN {self._state} AS t USING (patient_id) "
                f"WHERE s.patient_id = ANY(%b::int8[]) ORDER BY s.patient_id FOR UPDATE OF s",
                [ids],
            )
            rows = cursor.fetchall()
        self._stored = {pid: (data, days) for pid, data, days, _ in rows}
        self._versions = {pid: version for pid, _, _, version in rows}

    def versions(self, ids: list[int]) -> dict[int, int]:
        return {pid: self._versions[pid] for pid in ids}

    def _copy_out(self, sql: str, ids: list[int], fields: list[tuple[str, str]]) -> np.ndarray:
        """Run ``COPY (sql) TO STDOUT (FORMAT BINARY)`` for NOT NULL fixed-width columns.

        Such rows all have the same layout, so the whole stream is one numpy structured array:
        no per-row Python work. ``sql`` must cast each column to the wire type in ``fields``.
        """
        layout: list[tuple[str, str]] = [("_count", ">i2")]
        for name, wire in fields:
            layout += [(f"_len_{name}", ">i4"), (name, wire)]
        dtype = np.dtype(layout)
        buffer = bytearray()
        with (
            self._cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", [ids]) as copy,
        ):
            # PostgreSQL sends a message per row; appending each to one bytearray is several
            # times faster than b"".join() over the memoryviews psycopg hands out.
            while chunk := copy.read():
                buffer += chunk
        body = len(buffer) - len(COPY_HEADER) - len(COPY_TRAILER)
        if not buffer.startswith(COPY_HEADER) or body % dtype.itemsize:
            raise RuntimeError("unexpected binary COPY stream (a column changed type?)")
        rows = np.frombuffer(
            buffer, dtype=dtype, count=body // dtype.itemsize, offset=len(COPY_HEADER)
        )
        for name, wire in fields:
            if not (rows[f"_len_{name}"] == np.dtype(wire).itemsize).all():
                raise RuntimeError(f"column {name} is NULL or not {wire} in the COPY stream")
        return rows

    def read(self, ids: np.ndarray) -> CohortInput:
        id_list = ids.tolist()
        scores = ", ".join(f"{_qn(s)}::int2" for s in SYMPTOMS)
        taken = " ".join(f"WHEN '{answer}' THEN {code}" for answer, code in TAKEN_CODES.items())
        entries = self._copy_out(
            f"SELECT patient_id::int8, ({_qn('date')} - DATE '2000-01-01')::int4, {scores}, "
            f"(CASE dose_taken {taken} ELSE {TAKEN_NOT_ASKED} END)::int2 "
            f"FROM {_qn(DiaryEntry._meta.db_table)} WHERE patient_id = ANY(%s::int8[]) "
            f"ORDER BY patient_id, {_qn('date')}",
            id_list,
            [("patient", ">i8"), ("day", ">i4"), *((s, ">i2") for s in SYMPTOMS), ("taken", ">i2")],
        )
        doses = self._copy_out(
            f"SELECT patient_id::int8, (effective_date - DATE '2000-01-01')::int4, dose_ug::int8 "
            f"FROM {_qn(DoseChange._meta.db_table)} WHERE patient_id = ANY(%s::int8[]) "
            f"ORDER BY patient_id, effective_date",
            id_list,
            [("patient", ">i8"), ("day", ">i4"), ("dose", ">i8")],
        )
        values = np.empty((len(entries), len(SYMPTOMS)), dtype=np.float64)
        for k, symptom in enumerate(SYMPTOMS):
            values[:, k] = entries[symptom]
        return cohort_input(
            ids,
            entries["patient"].astype(np.int64),
            entries["day"].astype(np.int64) + PG_EPOCH,
            values,
            doses["patient"].astype(np.int64),
            doses["day"].astype(np.int64) + PG_EPOCH,
            doses["dose"].astype(np.int64),
            entries["taken"].astype(np.int64),
        )

    def replace_series(self, ids: np.ndarray, result: CohortResult) -> int:
        """Replace the series of patients whose trends changed (all, if forced); return the days
        written.

        Whether a patient's trends changed is read off the fingerprint stored with their
        summary, so an unchanged patient costs neither a read nor a write of their row. The
        engine gives bit-identical values for the same diary, so the digests compare exactly.
        Rows go in by psycopg's binary COPY, their arrays encoded by numpy for the whole batch
        (``arrays.binary_arrays``).
        """
        digests = days_digests(ids, result)
        id_list = ids.tolist()
        self._days_digests = dict(zip(id_list, digests, strict=True))
        changed = [
            self._force or self._stored.get(pid, ("", ""))[1] != digest
            for pid, digest in zip(id_list, digests, strict=True)
        ]
        if not any(changed):
            return 0
        bounds, columns = series_columns(ids, result)
        encoded = {name: arrays.binary_arrays(values, bounds) for name, values in columns.items()}
        names = ["patient_id", "start", "end", *columns, "last_pain_r7", "last_pain_pct"]
        written = 0
        with self._cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {self._series} WHERE patient_id = ANY(%b::int8[])",
                [[pid for pid, change in zip(id_list, changed, strict=True) if change]],
            )
            sql = f"COPY {self._series} ({', '.join(map(_qn, names))}) FROM STDIN (FORMAT BINARY)"
            with cursor.copy(sql) as copy:
                for i, (pid, change) in enumerate(zip(id_list, changed, strict=True)):
                    lo, hi = bounds[i], bounds[i + 1]
                    if not change or hi == lo:
                        continue
                    head = series_head(result, lo, hi)
                    copy.write_row(
                        (
                            np.int64(pid),
                            head["start"],
                            head["end"],
                            *(encoded[name][i] for name in columns),
                            head["last_pain_r7"],
                            head["last_pain_pct"],
                        )
                    )
                    written += hi - lo
        return written

    def write_summaries(
        self,
        ids: list[int],
        summary: SummaryColumns,
        versions: dict[int, int],
        now: dt.datetime,
        engine_version: str,
    ) -> int:
        """Update the summary rows; their columns only where the digest changed.

        An UPDATE, not delete-and-insert: the rows are the locks other recomputes may be waiting
        on (see lock()). One statement for the changed summaries: each array column travels as
        one binary array over the whole batch's windows (``arrays.binary_array``), sliced per
        patient by the UPDATE; the other columns as arrays of a value per patient. Unchanged
        summaries only get their fingerprints, version and time.
        """
        digests = summary_digests(summary)
        changed = [
            self._force or self._stored.get(pid, ("", ""))[0] != digest
            for pid, digest in zip(ids, digests, strict=True)
        ]
        rows = [i for i, change in enumerate(changed) if change]
        same = [i for i, change in enumerate(changed) if not change]
        stamped = "computed_at = %b, engine_version = %b"
        with self._cursor() as cursor:
            if rows:
                bounds, columns = summary_arrays(summary)
                heads = summary_heads(summary)
                per_patient = {
                    "patient_id": ("int8", [ids[i] for i in rows]),
                    "digest": ("text", [digests[i] for i in rows]),
                    "days_digest": ("text", [self._days_digests[ids[i]] for i in rows]),
                    "version": ("int8", [versions[ids[i]] for i in rows]),
                    **{f: (HEAD_TYPES[f], [heads[i][f] for i in rows]) for f in HEAD_FIELDS},
                    "lo": ("int4", [bounds[i] for i in rows]),
                    "hi": ("int4", [bounds[i + 1] for i in rows]),
                }
                slices = [
                    f"{_qn(name)} = a.{name}[v.lo * {n} + 1 : v.hi * {n}]"
                    for name in columns
                    for n in [len(SYMPTOMS) if name in SYMPTOM_DTYPES else 1]
                ]
                cursor.execute(
                    f"UPDATE {self._summary} AS s SET "
                    f"{', '.join(f'{_qn(f)} = v.{f}' for f in HEAD_FIELDS)}, {', '.join(slices)}, "
                    f"data_digest = v.digest, days_digest = v.days_digest, "
                    f"data_version = v.version, {stamped} "
                    f"FROM unnest({', '.join(f'%b::{t}[]' for t, _ in per_patient.values())}) "
                    f"AS v({', '.join(per_patient)}), "
                    f"(SELECT {', '.join(f'%b AS {name}' for name in columns)}) AS a "
                    f"WHERE s.patient_id = v.patient_id",
                    [
                        now,
                        engine_version,
                        *(values for _, values in per_patient.values()),
                        *(arrays.binary_array(values) for values in columns.values()),
                    ],
                )
            if same:
                cursor.execute(
                    f"UPDATE {self._summary} AS s SET days_digest = v.days_digest, "
                    f"data_version = v.version, {stamped} "
                    f"FROM unnest(%b::int8[], %b::text[], %b::int8[]) "
                    f"AS v(patient_id, days_digest, version) "
                    f"WHERE s.patient_id = v.patient_id",
                    [
                        now,
                        engine_version,
                        [ids[i] for i in same],
                        [self._days_digests[ids[i]] for i in same],
                        [versions[ids[i]] for i in same],
                    ],
                )
        return len(rows)

    def stamp(self, versions: dict[int, int], now: dt.datetime) -> None:
        # The same rule as OrmStorage.stamp, for the whole batch in one statement.
        table = self._state
        with self._cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET computed_version = v.version, computed_at = %b, "
                f"dirty_since = CASE WHEN {table}.data_version <= v.version THEN NULL "
                f"ELSE {table}.dirty_since END, "
                f"queued_at = CASE WHEN {table}.data_version <= v.version THEN NULL "
                f"ELSE {table}.queued_at END, failed_at = NULL, failure = '' "
                f"FROM unnest(%b::int8[], %b::int8[]) AS v(patient_id, version) "
                f"WHERE {table}.patient_id = v.patient_id",
                [now, list(versions), list(versions.values())],
            )
