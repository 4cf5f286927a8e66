"""Numpy arrays as database arrays: PostgreSQL arrays on PostgreSQL, raw bytes on SQLite.

``TrendSeries`` keeps a patient's daily series as one array per column, ``ResponseSummary`` their
windows. On PostgreSQL they are real arrays (``smallint[]``, ``double precision[]``, ...), readable by any SQL client; psycopg
loads them as lists. The recompute moves whole batches as single arrays both ways, in
PostgreSQL's binary array format, so that no value costs a Python object (psycopg's list dumper
takes about 1 us per element: 10 s for a full recompute's 10 million values, bench/README.md):

* out: ``PgArray``, a numpy array encoded for a batch at once, which psycopg sends as it is;
* in: integer arrays a query returns in binary (``array_agg`` over the batch's diary) load
  straight into numpy (``register``).

Arrays are one-dimensional and hold no NULL: a missing float is NaN, a missing dose NO_DOSE.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

# numpy dtype -> (PostgreSQL element type, its oid, big-endian wire dtype, the array's oid).
ELEMENTS: dict[str, tuple[str, int, str, int]] = {
    "float64": ("double precision", 701, ">f8", 1022),
    "int64": ("bigint", 20, ">i8", 1016),
    "int32": ("integer", 23, ">i4", 1007),
    "int16": ("smallint", 21, ">i2", 1005),
    "bool": ("boolean", 16, "?", 1000),
}
_WIRE_BY_ELEMENT = {oid: wire for _, oid, wire, _ in ELEMENTS.values()}
# PostgreSQL's short type names (as in a cast) -> the numpy dtype sent for them.
DTYPES = {"float8": "float64", "int8": "int64", "int4": "int32", "int2": "int16", "bool": "bool"}
_HEADER = struct.Struct(">iiiii")  # ndim, has-NULL flag, element oid, length, lower bound


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


def _items(wire: str) -> np.dtype:
    # Every element is a (length, value) pair, all of one width: one numpy structured array.
    return np.dtype([("len", ">i4"), ("v", wire)])


def binary_array(values: np.ndarray) -> PgArray:
    """``values`` (1-D) as one binary array: ndim 1, no NULLs, element oid, length, lower
    bound 1, then a (length, value) pair per element."""
    _, oid, wire, array_oid = ELEMENTS[values.dtype.name]
    items = np.empty(len(values), dtype=_items(wire))
    items["len"] = np.dtype(wire).itemsize
    items["v"] = values
    return PgArray(array_oid, _HEADER.pack(1, 0, oid, len(values), 1) + items.tobytes())


def load_array(data: Any) -> np.ndarray:
    """A one-dimensional integer array without NULLs, in binary, as int64 values."""
    ndim, has_null, oid = struct.unpack_from(">iii", data)
    if ndim == 0:
        return np.empty(0, dtype=np.int64)
    wire = _WIRE_BY_ELEMENT.get(oid)
    if ndim != 1 or has_null or wire is None or wire[1] != "i":
        raise ValueError(f"expected a 1-D integer array without NULLs, got ndim {ndim}, oid {oid}")
    length = _HEADER.unpack_from(data)[3]
    items = np.frombuffer(data, dtype=_items(wire), count=length, offset=_HEADER.size)
    if (items["len"] != np.dtype(wire).itemsize).any():
        raise ValueError("an array element has an unexpected length")
    return items["v"].astype(np.int64)


def register(context: Any) -> None:
    """Teach psycopg (globally, or one connection) to send ``PgArray`` as it is, and to load
    ``smallint[]``, ``integer[]`` and ``bigint[]`` results in binary as int64 numpy arrays
    (``load_array``). Only queries that ask for binary results (the recompute's) get those:
    Django's own queries get text, and lists as before."""
    from psycopg.adapt import Dumper, Loader
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

    class NumpyArrayLoader(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> np.ndarray:
            return load_array(data)

    context.adapters.register_dumper(PgArray, PgArrayDumper)
    for name in ("int64", "int32", "int16"):
        context.adapters.register_loader(ELEMENTS[name][3], NumpyArrayLoader)
