"""A stored release as people read it: table rows of strings, the CSV, the accounting.

Works only on ``Release.results`` (what ``services.release_compute`` stored), so the moderator's
preview, the public page, the CSV and ``manage.py release_aggregates`` show the same numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from ldn_diary.clinical.privacy import SMALL_MARK

from .models import Release

WITHHELD_MARK = "—"
WITHHELD_CSV = "withheld"
WITHHELD_REASONS = {
    "too_noisy": (
        "Not shown: for a group this size, the noise this release could afford for this table "
        "would be larger than the numbers themselves."
    ),
    "too_few_members": "Not shown: too few members contributed to show more than the count.",
}
QUERY_LABELS = {
    "dose_bands": "Members by current dose",
    "pain_response": "Pain response, all members",
    "pain_response_by_dose_band": "Pain response by current dose",
    "first_response_count": "Members reaching a moderate response",
    "first_response_weeks": "Week of the first moderate response (for the median)",
    "side_effects": "Side effects",
    "adherence": "Adherence",
}


# What each table's row labels are: the heading of its first column, for screen readers (the
# column is plain to see, so the heading is visually hidden).
ROW_HEADINGS = {
    "members_by_dose_band": "Current dose",
    "pain_response": "Week",
    "pain_response_by_dose_band": "Current dose and week",
    "first_moderate_response": "Response",
    "side_effects": "Side effect",
    "adherence": "Days with the dose taken",
}


@dataclass(frozen=True)
class DisplayTable:
    name: str
    title: str
    row_heading: str
    withheld: str | None
    columns: list[str]
    rows: list[tuple[str, list[tuple[str, str]]]]  # (row label, [(column label, text)])
    margin: float | None


def cell_text(value: Any, kind: str) -> str:
    if value is None:
        return WITHHELD_MARK
    if value == SMALL_MARK:
        return SMALL_MARK
    if kind == "percent":
        return f"{value} %"
    if kind == "week":
        return f"week {value}"
    return str(value)


def tables(results: dict[str, Any]) -> list[DisplayTable]:
    margins = {
        q["name"]: q.get("margin_95") for q in results.get("mechanism", {}).get("queries", [])
    }
    out = []
    for table in results.get("tables", []):
        columns = table["columns"]
        out.append(
            DisplayTable(
                name=table["name"],
                title=table["title"],
                row_heading=ROW_HEADINGS.get(table["name"], table["title"]),
                withheld=WITHHELD_REASONS.get(table.get("withheld") or ""),
                columns=[c["label"] for c in columns],
                rows=[
                    (
                        row["label"],
                        [
                            (c["label"], cell_text(row["cells"].get(c["key"]), c["kind"]))
                            for c in columns
                        ],
                    )
                    for row in table["rows"]
                ],
                margin=margins.get(table["query"]),
            )
        )
    return out


def accounting(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each query of the release with a label, for the 'how this was protected' list."""
    queries = results.get("mechanism", {}).get("queries", [])
    return [{**q, "label": QUERY_LABELS.get(q["name"], q["name"])} for q in queries]


def command_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The tables as ``manage.py release_aggregates --json`` prints them: name and rows only."""
    return [
        {
            "name": table["name"],
            "rows": [{"label": row["label"], "cells": row["cells"]} for row in table["rows"]],
        }
        for table in results.get("tables", [])
    ]


def csv_text(results: dict[str, Any]) -> str:
    """One line per cell: table, row, column, value ("<11" for a small count, "withheld" for a
    cell hidden so that a small count cannot be worked out, or for a table not shown)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["table", "row", "column", "value"])
    for table in results.get("tables", []):
        for row in table["rows"]:
            for column in table["columns"]:
                value = row["cells"].get(column["key"])
                writer.writerow(
                    [
                        table["name"],
                        row["label"],
                        column["key"],
                        WITHHELD_CSV if value is None else value,
                    ]
                )
    return out.getvalue()


def public_url(release: Release) -> str:
    """The absolute public link of a published release, from settings.SITE_URL."""
    path = reverse("community:public", args=[release.public_token])
    return settings.SITE_URL.rstrip("/") + path
