"""Numpy arrays as database arrays: PostgreSQL arrays on PostgreSQL, raw bytes on SQLite.

``TrendSeries`` keeps a patient's daily series as one array per column. On PostgreSQL they are
real arrays (``double precision[]``, ``integer[]``, ...), readable by any SQL client; psycopg
loads them as lists. Writing goes the other way as ``PgArray``: arrays already in PostgreSQL's
binary array format, encoded by numpy for a whole batch at once, that psycopg's own machinery
(COPY, bound parameters) sends as they are. psycopg's list dumper takes about 1 us per element:
10 s for a full recompute's 10 million values (bench/README.md).

Arrays are one-dimensional and hold no NULL: a missing float is NaN, a missing dose NO_DOSE.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

# numpy dtype -> (PostgreSQL element type, its oid, big-endian wire dtype).
ELEMENTS: dict[str, tuple[str, int, str]] = {
    "float64": ("double precision", 701, ">f8"),
    "int32": ("integer", 23, ">i4"),
    "int16": ("smallint", 21, ">i2"),
    "bool": ("boolean", 16, "?"),
}
ARRAY_OIDS = {"float64": 1022, "int32": 1007, "int16": 1005, "bool": 1000}


@dataclass(frozen=True)
class PgArray:
    """One array in PostgreSQL's binary array format, ready for psycopg to send as it is."""

    oid: int  # the array type's oid
    data: bytes


def to_bytes(values: np.ndarray) -> bytes:
    """SQLite's form: the values little-endian, back to back (the dtype is the column's)."""
    return values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()


def from_db(value: Any, dtype: str) -> np.ndarray:
    """A stored array (PostgreSQL's list, or SQLite's bytes) as a numpy array."""
    if isinstance(value, bytes | memoryview):
        return np.frombuffer(value, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
    return np.asarray(value, dtype=dtype)


def binary_arrays(values: np.ndarray, bounds: list[int]) -> list[PgArray]:
    """``values[bounds[i]:bounds[i + 1]]`` for each i as binary arrays, encoded in one pass.

    The format: ndim 1, no NULLs, element oid, length, lower bound 1, then a (length, value)
    pair per element. Every element has the same length, so all of them are one numpy
    structured array and each patient's elements are one slice of its bytes.
    """
    name = values.dtype.name
    _, oid, wire = ELEMENTS[name]
    items = np.empty(len(values), dtype=[("len", ">i4"), ("v", wire)])
    items["len"] = np.dtype(wire).itemsize
    items["v"] = values
    data, size, array_oid = items.tobytes(), items.dtype.itemsize, ARRAY_OIDS[name]
    return [
        PgArray(
            array_oid, struct.pack(">iiiii", 1, 0, oid, hi - lo, 1) + data[lo * size : hi * size]
        )
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def binary_array(values: np.ndarray) -> PgArray:
    return binary_arrays(values, [0, len(values)])[0]


def register(context: Any) -> None:
    """Teach psycopg (globally, or one connection) to send ``PgArray`` as it is."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class PgArrayDumper(Dumper):
        format = Format.BINARY

        def get_key(self, obj: PgArray, format: Any) -> Any:
            return (PgArray, obj.oid)

        def upgrade(self, obj: PgArray, format: Any) -> Dumper:
            dumper = PgArrayDumper(PgArray, self.connection)
            dumper.oid = obj.oid
            return dumper

        def dump(self, obj: PgArray) -> bytes:
            return obj.data

    context.adapters.register_dumper(PgArray, PgArrayDumper)
