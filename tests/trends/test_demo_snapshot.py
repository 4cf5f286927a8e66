"""The stored trends of the demo cohort equal those the old storage kept (the storage rewrite).

``demo_snapshot.json`` was written by this module from the code before the storage rewrite
(one ``TrendDay`` row per patient per day, the full summary JSON; migration 0004 replaced it), at the default frozen
instant: per demo patient, each stored day's dose, logged flag, coverage (``logged_7``), 7-day
means and change from baseline, and the digest of the summary document. Whatever shape the
storage takes, reading a patient's stored trends back must give exactly these values.

To write the snapshot again (only when the engine itself changes, with ENGINE_VERSION):
``LDN_WRITE_TREND_SNAPSHOT=1 .venv/bin/python -m pytest tests/trends/test_demo_snapshot.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from ldn_diary.accounts.models import User
from ldn_diary.clinical.constants import SYMPTOMS
from ldn_diary.core import demo

SNAPSHOT = Path(__file__).with_name("demo_snapshot.json")
DAY_FIELDS = (
    "dose_ug",
    "logged",
    "logged_7",
    *(f"{s}_r7" for s in SYMPTOMS),
    *(f"{s}_pct" for s in SYMPTOMS),
)


def _no_negative_zero(value: Any) -> Any:
    """PostgreSQL's jsonb keeps numbers as numeric, which has no -0.0: it reads back as 0.0
    (with the old storage as with the new), while SQLite keeps the JSON text as written."""
    if isinstance(value, dict):
        return {k: _no_negative_zero(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_negative_zero(v) for v in value]
    return value + 0.0 if isinstance(value, float) else value


def summary_digest(data: dict[str, Any]) -> str:
    text = json.dumps(_no_negative_zero(data), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def stored_trends() -> dict[str, Any]:
    """Every demo patient's stored trends, as plain JSON values (floats exactly, by repr)."""
    from ldn_diary.trends.selectors import trend_days_for, trend_summary_for

    out: dict[str, Any] = {}
    for patient in User.objects.filter(username__startswith=demo.PATIENT_PREFIX).order_by(
        "username"
    ):
        days = list(trend_days_for(patient))
        summary = trend_summary_for(patient)
        out[patient.username] = {
            "start": days[0].date.isoformat() if days else None,
            "end": days[-1].date.isoformat() if days else None,
            # One list per field, a value per day: compact and easy to diff.
            **{name: [getattr(day, name) for day in days] for name in DAY_FIELDS},
            "summary": summary_digest(summary.data or {}),
        }
    return out


def test_the_demo_cohorts_stored_trends_equal_the_snapshot(db):
    call_command("seed_demo", stdout=io.StringIO())
    # Through JSON and back, so both sides hold the same types (bools, ints, floats, None).
    stored = json.loads(json.dumps(stored_trends()))
    if os.environ.get("LDN_WRITE_TREND_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(stored, separators=(",", ":")) + "\n")
        pytest.skip("snapshot written")
    expected = json.loads(SNAPSHOT.read_text())
    assert sorted(stored) == sorted(expected)
    assert len(expected) >= 20
    for username, trends in expected.items():
        for key, values in trends.items():
            assert stored[username][key] == values, (username, key)
