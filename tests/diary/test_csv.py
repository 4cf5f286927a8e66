"""The diary CSV format: parse with line-numbered errors, all-or-nothing import, exact round trip,
and the import_diary command (the same parser and service as the page)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from ldn_diary.diary.csvio import (
    COLUMNS,
    decode_side_effects,
    encode_side_effects,
    parse_diary_csv,
)
from ldn_diary.diary.models import DiaryEntry, DoseChange
from ldn_diary.diary.selectors import dose_on
from ldn_diary.diary.services import diary_import, dose_change_add

from .conftest import save_entry, seed_days

HEADER = ",".join(COLUMNS)
TODAY = dt.date(2026, 11, 24)


def csv_text(*lines: str) -> str:
    return "\r\n".join([HEADER, *lines]) + "\r\n"


def export(client) -> bytes:
    response = client.get(reverse("diary:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="ldn-diary-')
    return b"".join(response.streaming_content)


def test_side_effects_encode_and_decode():
    assert encode_side_effects(["other", "headache", "vivid_dreams"], "ringing; ears") == (
        "vivid_dreams;headache;other:ringing; ears"
    )
    assert decode_side_effects("vivid_dreams;headache;other:ringing; ears") == (
        ["vivid_dreams", "headache", "other"],
        "ringing; ears",
    )
    assert decode_side_effects("") == ([], "")
    assert decode_side_effects("other") == (["other"], "")
    assert encode_side_effects([], "") == ""


def test_a_valid_file_parses_in_date_order():
    parsed = parse_diary_csv(
        csv_text(
            "2026-11-02,5,6,4,5,vivid,vivid_dreams,yes,1.5,",
            '2026-11-01,6,7,3,5,none,,no,,"first day, before LDN"',
        ),
        today=TODAY,
    )
    assert parsed.ok, parsed.errors
    assert [r.date.day for r in parsed.rows] == [1, 2]
    assert parsed.rows[0].note == "first day, before LDN" and parsed.rows[0].dose_ug is None
    assert parsed.rows[1].dose_ug == 1500 and parsed.rows[1].side_effects == ("vivid_dreams",)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "2026-11-01,11,6,4,5,none,,yes,1.5,",
            "line 3: pain must be a whole number from 0 to 10; got '11'.",
        ),
        (
            "2026-11-01,5,,4,5,none,,yes,1.5,",
            "line 3: fatigue must be a whole number from 0 to 10; got ''.",
        ),
        (
            "2026-11-01,5,6,4.5,5,none,,yes,1.5,",
            "line 3: sleep must be a whole number from 0 to 10; got '4.5'.",
        ),
        (
            "01/11/2026,5,6,4,5,none,,yes,1.5,",
            "line 3: date must be a real day written YYYY-MM-DD, got '01/11/2026'",
        ),
        (
            "2026-02-30,5,6,4,5,none,,yes,1.5,",
            "line 3: date must be a real day written YYYY-MM-DD, got '2026-02-30'",
        ),
        (
            "2026-11-25,5,6,4,5,none,,yes,1.5,",
            "line 3: 2026-11-25 is in the future (today is 2026-11-24)",
        ),
        (
            "2026-11-01,5,6,4,5,wild,,yes,1.5,",
            "line 3: dreams must be one of none, normal, vivid, nightmares; got 'wild'.",
        ),
        (
            "2026-11-01,5,6,4,5,none,dizzy,yes,1.5,",
            "line 3: side_effects has an unknown code 'dizzy'",
        ),
        (
            "2026-11-01,5,6,4,5,none,,sometimes,1.5,",
            "line 3: dose_taken must be one of yes, partly, no; got 'sometimes'.",
        ),
        (
            "2026-11-01,5,6,4,5,none,,yes,60,",
            "line 3: dose_mg must be a dose in mg between 0.001 and 50",
        ),
        ("2026-11-01,5,6,4,5,none,,yes,1.0001,", "got '1.0001'"),
        ("2026-11-01,5,6,4,5,none,,yes,1.5", "line 3: expected 10 fields, got 9"),
        (
            "2026-11-02,5,6,4,5,none,,yes,1.5,",
            "line 3: 2026-11-02 is also on line 2; each day may appear once",
        ),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_reason(line, message):
    parsed = parse_diary_csv(csv_text("2026-11-02,5,6,4,5,none,,yes,1.5,", line), today=TODAY)
    assert not parsed.ok and parsed.rows == []
    assert any(e.startswith(message) or message in e for e in parsed.errors), parsed.errors


def test_line_numbers_count_line_breaks_inside_quoted_notes():
    parsed = parse_diary_csv(
        csv_text(
            '2026-11-01,5,6,4,5,none,,yes,1.5,"a note\r\nover two lines"',
            "2026-11-02,12,6,4,5,none,,yes,1.5,",
        ),
        today=TODAY,
    )
    assert parsed.errors == ["line 4: pain must be a whole number from 0 to 10; got '12'."]


def test_an_empty_dose_after_a_dose_is_refused():
    parsed = parse_diary_csv(
        csv_text("2026-11-01,5,6,4,5,none,,yes,1.5,", "2026-11-02,5,6,4,5,none,,yes,,"),
        today=TODAY,
    )
    assert parsed.errors == [
        "line 3: dose_mg is empty, but 2026-11-01 (line 2) already has a dose; write 0 for "
        "stopped or paused, or the dose you took"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (HEADER.encode() + b"\r\n", "The file has only the header line"),
        (b"day,pain\r\n2026-11-01,5\r\n", "line 1: the first line must be exactly date,pain,"),
        ("date,pain".encode("utf-16"), "The file is not UTF-8 text."),
    ],
)
def test_a_wrong_file_says_what_is_wrong(data, message):
    parsed = parse_diary_csv(data, today=TODAY)
    assert parsed.errors[0].startswith(message)


def test_a_byte_order_mark_is_accepted():
    data = ("\ufeff" + csv_text("2026-11-01,5,6,4,5,none,,yes,1.5,")).encode()
    assert parse_diary_csv(data, today=TODAY).ok


def test_many_errors_are_capped_but_counted():
    lines = [f"2026-10-{d:02d},99,6,4,5,none,,yes,1.5," for d in range(1, 31)]
    lines += [f"2026-09-{d:02d},99,99,4,5,none,,yes,1.5," for d in range(1, 31)]
    parsed = parse_diary_csv(csv_text(*lines), today=TODAY)
    assert len(parsed.errors) == 50 and parsed.more_errors == 40


def test_export_then_import_round_trips_exactly(client, alice, bob, today):
    seed_days(alice, 40, end=today - dt.timedelta(days=20), dose_steps=[(5, 1500), (19, 3000)])
    save_entry(
        alice,
        today,
        side_effects=["vivid_dreams", "headache"],
        side_effect_other='ringing; "ears", bad',
        note='Line one, with comma\r\nline "two"\r\n\r\nÅsa’s café — ✓',
        dose_taken="partly",
        dreams="nightmares",
    )
    save_entry(alice, today - dt.timedelta(days=1), pain=0, fatigue=10, sleep=0, mood=10)
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=3), dose_ug=1)
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=1), dose_ug=0)
    dose_change_add(patient=alice, effective_date=today, dose_ug=12_345)
    client.force_login(alice)
    first = export(client)
    assert first.startswith(HEADER.encode() + b"\r\n")
    assert b",12.345," in first and b",0.001," not in first  # no entry on day -3
    assert b",0,Line" not in first and b",0," in first  # the paused day exports 0

    parsed = parse_diary_csv(first, today=today)
    assert parsed.ok, parsed.errors
    diary_import(patient=bob, rows=parsed.rows, today=today)
    client.force_login(bob)
    second = export(client)
    assert second == first


def test_export_writes_the_dose_of_each_day_and_empty_before_ldn(client, alice, today):
    save_entry(alice, today - dt.timedelta(days=2))
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=1), dose_ug=4500)
    save_entry(alice, today)
    client.force_login(alice)
    lines = export(client).decode().splitlines()
    assert lines[1].split(",")[8] == "" and lines[2].split(",")[8] == "4.5"


def test_a_bad_row_writes_nothing(alice, today):
    text = csv_text(
        f"{(today - dt.timedelta(days=40)).isoformat()},5,6,4,5,none,,yes,1.5,",
        f"{(today - dt.timedelta(days=39)).isoformat()},5,6,4,5,none,,yes,1.5,",
        f"{(today - dt.timedelta(days=38)).isoformat()},11,6,4,5,none,,yes,3,",
    )
    parsed = parse_diary_csv(text, today=today)
    assert parsed.errors == ["line 4: pain must be a whole number from 0 to 10; got '11'."]
    assert parsed.rows == []
    assert not DiaryEntry.objects.exists() and not DoseChange.objects.exists()


def test_import_writes_old_days_replaces_existing_and_records_dose_changes(alice, today):
    save_entry(alice, today, pain=1)
    save_entry(alice, today - dt.timedelta(days=1), pain=5)
    old = today - dt.timedelta(days=300)
    text = csv_text(
        f"{old.isoformat()},5,6,4,5,none,,no,,",
        f"{(old + dt.timedelta(days=1)).isoformat()},5,6,4,5,none,,yes,1.5,",
        f"{(old + dt.timedelta(days=2)).isoformat()},5,6,4,5,none,,yes,1.5,",
        f"{(old + dt.timedelta(days=9)).isoformat()},5,6,4,5,none,,yes,3,",
        f"{(today - dt.timedelta(days=1)).isoformat()},6,7,3,5,normal,,yes,3,",
        f"{today.isoformat()},8,6,4,5,none,,,0,",
    )
    parsed = parse_diary_csv(text, today=today)
    result = diary_import(patient=alice, rows=parsed.rows, today=today)
    assert (result.created, result.updated, result.unchanged) == (4, 2, 0)
    assert result.dose_changes == 3
    assert [
        (c.effective_date, c.dose_ug) for c in DoseChange.objects.order_by("effective_date")
    ] == [
        (old + dt.timedelta(days=1), 1500),
        (old + dt.timedelta(days=9), 3000),
        (today, 0),
    ]
    replaced = DiaryEntry.objects.get(patient=alice, date=today)
    assert replaced.pain == 8 and replaced.version == 2 and replaced.last_request_key is None
    # Paused at 0 mg, and before the first dose: "did you take it?" is not applicable.
    assert replaced.dose_taken == DiaryEntry.objects.get(date=old).dose_taken == "na"
    assert not DiaryEntry.objects.get(date=old).backfilled


def test_import_respects_dose_changes_already_recorded(alice, today):
    start = today - dt.timedelta(days=30)
    dose_change_add(patient=alice, effective_date=start + dt.timedelta(days=3), dose_ug=6000)
    rows = parse_diary_csv(
        csv_text(
            f"{start.isoformat()},5,6,4,5,none,,yes,1.5,",
            f"{(start + dt.timedelta(days=5)).isoformat()},5,6,4,5,none,,yes,1.5,",
        ),
        today=today,
    ).rows
    diary_import(patient=alice, rows=rows, today=today)
    # Every imported day shows the file's dose, even across the change already there.
    assert dose_on(alice, start).dose_ug == 1500
    assert dose_on(alice, start + dt.timedelta(days=5)).dose_ug == 1500


def test_importing_the_same_file_twice_changes_nothing(alice, today):
    seed_days(alice, 10, end=today, dose_steps=[(0, 1500)])
    before = list(DiaryEntry.objects.values_list("date", "version"))
    seed_days(alice, 10, end=today, dose_steps=[(0, 1500)])
    assert list(DiaryEntry.objects.values_list("date", "version")) == before
    assert DoseChange.objects.count() == 1


def test_the_command_imports_a_file(tmp_path, alice, capsys):
    path = tmp_path / "diary.csv"
    path.write_text(csv_text("2026-01-05,5,6,4,5,vivid,vivid_dreams,yes,1.5,"), encoding="utf-8")
    call_command("import_diary", "--patient", "alice", str(path))
    assert (
        "Imported for alice: 1 day: 1 new, 0 replaced, 0 already the same; 1 dose change recorded."
        in capsys.readouterr().out
    )
    assert DiaryEntry.objects.get(patient=alice).dreams == "vivid"


def test_the_command_reports_bad_rows_and_writes_nothing(tmp_path, alice, capsys):
    path = tmp_path / "diary.csv"
    path.write_text(
        csv_text("2026-01-05,5,6,4,5,none,,yes,1.5,", "2026-01-06,5,6,4,5,none,,yes,99,"),
        encoding="utf-8",
    )
    # CommandError is what makes manage.py print the message and exit with status 1.
    with pytest.raises(CommandError, match="has 1 problem; nothing was imported"):
        call_command("import_diary", "--patient", "alice", str(path))
    assert "line 3: dose_mg must be" in capsys.readouterr().err
    assert not DiaryEntry.objects.exists()


def test_the_command_refuses_an_unknown_patient_a_clinician_and_a_missing_file(
    tmp_path, alice, dave
):
    path = tmp_path / "diary.csv"
    path.write_text(csv_text("2026-01-05,5,6,4,5,none,,yes,1.5,"), encoding="utf-8")
    with pytest.raises(CommandError, match="No user with username 'nobody'"):
        call_command("import_diary", "--patient", "nobody", str(path))
    with pytest.raises(CommandError, match="is not an active patient"):
        call_command("import_diary", "--patient", "dave", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_diary", "--patient", "alice", str(tmp_path / "missing.csv"))
    assert not DiaryEntry.objects.exists()


def test_days_without_ldn_export_an_empty_dose_taken_and_import_empty_or_no(
    client, alice, bob, today
):
    save_entry(alice, today - dt.timedelta(days=3), dose_taken="no")  # before any dose: not asked
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=1), dose_ug=1500)
    save_entry(alice, today, dose_taken="partly")
    assert (
        DiaryEntry.objects.get(patient=alice, date=today - dt.timedelta(days=3)).dose_taken == "na"
    )
    client.force_login(alice)
    lines = export(client).decode().splitlines()
    assert [line.split(",")[7] for line in lines[1:]] == ["", "partly"]

    before = (today - dt.timedelta(days=5)).isoformat()
    text = csv_text(f"{before},5,6,4,5,none,,,,", f"{today.isoformat()},5,6,4,5,none,,no,,")
    parsed = parse_diary_csv(text, today=today)
    assert parsed.ok, parsed.errors
    diary_import(patient=bob, rows=parsed.rows, today=today)
    assert set(DiaryEntry.objects.filter(patient=bob).values_list("dose_taken", flat=True)) == {
        "na"
    }


def test_import_refuses_a_dose_taken_on_a_day_without_ldn(alice, today):
    text = csv_text(f"{today.isoformat()},5,6,4,5,none,,yes,,")
    parsed = parse_diary_csv(text, today=today)
    assert parsed.ok  # the file alone is well formed; the diary's doses decide
    with pytest.raises(Exception, match="line 2: dose_taken is 'yes' on .* a day without LDN"):
        diary_import(patient=alice, rows=parsed.rows, today=today)
    assert not DiaryEntry.objects.exists()


def test_a_corrected_first_dose_leaves_earlier_answers_not_applicable(alice, today):
    first = dose_change_add(
        patient=alice, effective_date=today - dt.timedelta(days=5), dose_ug=1500
    )
    for n in range(5):
        save_entry(alice, today - dt.timedelta(days=n), dose_taken="no")
    from ldn_diary.diary.services import dose_change_edit

    # The first dose was really two days ago: the three days before it had no LDN.
    dose_change_edit(
        dose_change=first,
        effective_date=today - dt.timedelta(days=2),
        dose_ug=1500,
        time_of_day=first.time_of_day,
        formulation=first.formulation,
    )
    taken = dict(DiaryEntry.objects.filter(patient=alice).values_list("date", "dose_taken"))
    assert [taken[today - dt.timedelta(days=n)] for n in range(5)] == ["no", "no", "no", "na", "na"]
