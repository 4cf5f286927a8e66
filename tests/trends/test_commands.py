"""recompute_trends and response_report, including a response worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ldn_diary.clinical import compare_windows
from ldn_diary.trends.models import ResponseSummary, TrendState
from ldn_diary.trends.selectors import CURRENT, trend_days_for
from ldn_diary.trends.services import trends_recompute_patients

from .conftest import change_dose, save_entry

REPO = Path(__file__).resolve().parents[2]
T = dt.date(2024, 3, 1)  # therapy start: first non-zero dose
SKIPPED = {16, 17} | {44, 45, 46, 47, 48}  # days after T with no entry


def on(offset: int) -> dt.date:
    return T + dt.timedelta(days=offset)


@pytest.fixture
def alice_on_ldn(alice):
    """Baseline: pain alternating 5/7 (mean 6), fatigue 6, sleep 4, mood 5, all 14 days.

    On LDN (1.5 mg from T, 4.5 mg from T+42, diary to T+83): pain alternating 2/4 (mean 3),
    fatigue 4 except 5 on days 70-73, sleep 6, mood 5; days 16-17 and 44-48 not logged.
    """
    for offset in range(-14, 0):
        save_entry(alice, on(offset), 5 if offset % 2 == 0 else 7, 6, 4, 5)
    for offset in range(84):
        if offset not in SKIPPED:
            fatigue = 5 if 70 <= offset <= 73 else 4
            save_entry(alice, on(offset), 2 if offset % 2 == 0 else 4, fatigue, 6, 5)
    change_dose(alice, on(0), 1500)
    change_dose(alice, on(42), 4500)
    return alice


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_response_report_json_matches_the_hand_computed_response(alice_on_ldn):
    out, err = run("response_report", "--patient", "alice", "--json")

    assert "recomputing" in err  # never computed before: the command computes first
    report = json.loads(out)
    assert report["patient"] == "alice"
    assert report["status"] == CURRENT
    assert report["data_version"] == TrendState.objects.get(patient=alice_on_ldn).data_version
    assert report["computed_at"]
    assert report["therapy_start"] == "2024-03-01"
    assert report["baseline"] == {
        "valid": True,
        "days_logged": 14,
        "start": "2024-02-16",
        "end": "2024-02-29",
        "pain": 6.0,
        "fatigue": 6.0,
        "sleep": 4.0,
        "mood": 5.0,
    }

    week_4, week_8, week_12 = report["windows"]
    assert [w["label"] for w in report["windows"]] == ["week_4", "week_8", "week_12"]
    # Week w covers days 7w-14 .. 7w-1 after T.
    assert (week_4["start"], week_4["end"], week_4["days_logged"]) == (
        "2024-03-15",
        "2024-03-28",
        12,
    )
    assert week_4["valid"] is True
    assert week_4["symptoms"]["pain"]["mean"] == 3.0  # six 2s and six 4s
    assert (week_8["start"], week_8["end"], week_8["days_logged"]) == (
        "2024-04-12",
        "2024-04-25",
        9,
    )
    assert week_8["valid"] is False  # 9 < 10 logged days: reported, not classified
    assert {s["class"] for s in week_8["symptoms"].values()} == {None}
    assert (week_12["start"], week_12["end"], week_12["days_logged"]) == (
        "2024-05-10",
        "2024-05-23",
        14,
    )

    pain, fatigue, sleep, mood = (
        week_12["symptoms"][k] for k in ("pain", "fatigue", "sleep", "mood")
    )
    # Pain 6 -> 3: 50 % better, substantial; 3 points >= 2.
    assert (pain["mean"], pain["change_points"], pain["change_pct"]) == (3.0, 3.0, 50.0)
    assert (pain["class"], pain["two_point"]) == ("substantial", True)
    # Beyond day-to-day variation? Exactly compare_windows on the baseline's and the window's
    # days (baseline 5, 7, 5, ... from day -14; week 12 is days 70-83: 2, 4, 2, ...).
    expected = compare_windows([5.0, 7.0] * 7, [2.0, 4.0] * 7)
    assert (pain["ci_low"], pain["ci_high"]) == (expected.ci_low, expected.ci_high)
    assert pain["beyond_noise"] is expected.beyond_noise is True
    assert 0 < pain["ci_low"] < 3 < pain["ci_high"]
    # Fatigue 6 -> 60/14: 100 (6 - 60/14) / 6 = 28.57 %, minimal; 1.71 points.
    assert fatigue["mean"] == pytest.approx(60 / 14)
    assert fatigue["change_pct"] == pytest.approx(100 * (6 - 60 / 14) / 6)
    assert (fatigue["class"], fatigue["two_point"]) == ("minimal", False)
    # Sleep 4 -> 6 (higher is better) is the problem 6 -> 4: 33.3 % better, 2 points; with no
    # day-to-day variation at all, whether that is beyond it is not assessable.
    assert sleep["change_pct"] == pytest.approx(100 * 2 / 6)
    assert (sleep["class"], sleep["two_point"]) == ("moderate", True)
    assert (sleep["ci_low"], sleep["ci_high"], sleep["beyond_noise"]) == (None, None, None)
    # Mood unchanged and constant: no class above none, not assessable either.
    assert (mood["change_pct"], mood["class"], mood["beyond_noise"]) == (0.0, "none", None)
    # The doses were recorded after the entries, so no day's "did you take it?" was answered:
    # adherence is unknown, not 0 %.
    assert (week_12["adherence"], week_12["low_adherence"]) == (None, None)
    assert "reliable" not in json.dumps(report)
    # Composite: pain >= 30 % and sleep >= 30 %.
    assert report["composite_responder"] is True

    low, high = report["phases"]
    assert (low["dose_mg"], low["start"], low["end"]) == (1.5, "2024-03-01", "2024-04-11")
    # Its window is its last 14 days (T+28 .. T+41), all logged; fatigue 4 there: 33.3 %.
    assert (low["days_logged"], low["valid"]) == (14, True)
    assert low["symptoms"]["pain"]["change_pct"] == 50.0
    assert low["symptoms"]["fatigue"]["class"] == "moderate"
    assert (high["dose_mg"], high["start"], high["end"]) == (4.5, "2024-04-12", "2024-05-23")
    assert high["symptoms"] == week_12["symptoms"]  # the same 14 days


def test_the_stored_daily_trend_of_the_hand_computed_case(alice_on_ldn):
    trends_recompute_patients(patient_ids=[alice_on_ldn.pk])
    rows = {row.date: row for row in trend_days_for(alice_on_ldn, start=on(20), end=on(48))}

    # T+14..T+20 without 16 and 17: pain 2, 4, 2, 4, 2.
    assert (rows[on(20)].logged_7, rows[on(20)].pain_r7) == (5, pytest.approx(14 / 5))
    assert rows[on(20)].pain_pct == pytest.approx(100 * (6 - 14 / 5) / 6)
    assert rows[on(20)].dose_ug == 1500
    # T+42..T+48 has only 2 logged days: no mean, no change.
    assert (rows[on(48)].logged_7, rows[on(48)].pain_r7, rows[on(48)].pain_pct) == (2, None, None)
    assert rows[on(48)].dose_ug == 4500


def test_response_report_reads_a_current_summary_without_recomputing(alice_on_ldn):
    trends_recompute_patients(patient_ids=[alice_on_ldn.pk])
    computed_at = ResponseSummary.objects.get(patient=alice_on_ldn).computed_at

    out, err = run("response_report", "--patient", "alice", "--json")

    assert err == ""
    assert json.loads(out)["computed_at"] == computed_at.isoformat()


def test_response_report_recomputes_a_stale_summary_and_says_so(alice_on_ldn):
    trends_recompute_patients(patient_ids=[alice_on_ldn.pk])
    save_entry(alice_on_ldn, on(84), 0, 0, 10, 10)

    out, err = run("response_report", "--patient", "alice", "--json")

    assert "computing; recomputing it now" in err or "stale; recomputing it now" in err
    report = json.loads(out)
    assert report["status"] == CURRENT
    assert report["data_end"] == "2024-05-24"


def test_response_report_plain_text(alice_on_ldn):
    out, _ = run("response_report", "--patient", "alice")

    assert "Response report for alice" in out
    assert "Therapy start: 2024-03-01" in out
    assert "14 of 14 days logged, valid" in out
    assert "week_8: 2024-04-12 to 2024-04-25, 9 days logged (too few, needs 10)" in out
    assert "change +50.0 % (substantial)" in out
    assert "1.5 mg: 2024-03-01 to 2024-04-11" in out
    assert "Composite responder (week_12): yes" in out


def test_response_report_for_a_patient_without_therapy(alice):
    save_entry(alice, T, 5, 5, 5, 5)

    out, _ = run("response_report", "--patient", "alice")

    assert "Therapy start: no dose recorded" in out
    assert "Composite responder: not assessable" in out


@pytest.mark.parametrize("command", ["response_report", "recompute_trends"])
@pytest.mark.parametrize("username", ["nobody", "carol"])  # carol is a clinician
def test_commands_refuse_an_unknown_patient(carol, command, username):
    with pytest.raises(CommandError, match=f"No patient with the username '{username}'") as exc:
        run(command, "--patient", username)
    assert exc.value.returncode == 1


def test_recompute_trends_one_patient(alice_on_ldn, bob):
    save_entry(bob, T, 5, 5, 5, 5)

    out, _ = run("recompute_trends", "--patient", "ALICE")

    assert "Recomputed 1 patient(s): 91 entries, 98 trend days" in out
    assert "(98 rewritten" in out
    assert not TrendState.objects.get(patient=alice_on_ldn).is_stale
    assert TrendState.objects.get(patient=bob).is_stale


def test_recompute_trends_all_shows_progress(alice_on_ldn, bob):
    save_entry(bob, T, 5, 5, 5, 5)

    out, err = run("recompute_trends", "--all", "--batch-size", "1")

    assert "Recomputed 2 patient(s)" in out
    assert "2/2" in err  # the tqdm bar, on stderr
    assert not TrendState.objects.filter(dirty_since__isnull=False).exists()


@pytest.mark.parametrize("args", [[], ["--all", "--patient", "alice"]])
def test_recompute_trends_needs_exactly_one_choice(args):
    with pytest.raises(CommandError, match="Give either --patient USERNAME or --all"):
        run("recompute_trends", *args)


def test_manage_py_exits_non_zero_with_a_clear_message():
    # No database is touched before the options are checked, so a plain subprocess will do.
    done = subprocess.run(
        [sys.executable, "manage.py", "recompute_trends"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Give either --patient USERNAME or --all." in done.stderr


def test_response_report_gives_the_finished_questionnaires(alice_on_ldn, clock):
    """The ``questionnaires`` key beside every other key: FIQR at weeks 0 and 4 (all 6: total
    60; all 5: total 50, 16.7 % lower, the MCID met), a PGIC; a draft is left out."""
    from ldn_diary.questionnaires.services import questionnaire_finish, questionnaire_save

    def finish(instrument, week, answers, day):
        clock.move_to(dt.datetime.combine(on(day), dt.time(12), dt.UTC))
        questionnaire_save(
            patient=alice_on_ldn, instrument=instrument, week=week, answers=answers, today=on(day)
        )
        questionnaire_finish(patient=alice_on_ldn, instrument=instrument, week=week, today=on(day))

    finish("fiqr", 0, {str(n): 6 for n in range(1, 22)}, -3)
    finish("fiqr", 4, {str(n): 5 for n in range(1, 22)}, 28)
    finish("pgic", 4, {"answer": 2}, 29)
    questionnaire_save(
        patient=alice_on_ldn, instrument="acr2016", week=4, answers={"fatigue": 2}, today=on(29)
    )
    # Back to after the diary's last day: a diary day after today is refused by the engine.
    clock.move_to(dt.datetime.combine(on(84), dt.time(12), dt.UTC))
    out, _ = run("response_report", "--patient", "alice", "--json")
    report = json.loads(out)
    assert {"baseline", "windows", "phases", "status", "questionnaires"} <= set(report)
    q = report["questionnaires"]
    assert q["fiqr_mcid_pct"] == 14.0
    assert [(r["week"], r["total"], r["mcid_met"]) for r in q["fiqr"]] == [
        (0, 60.0, None),
        (4, 50.0, True),
    ]
    assert q["fiqr"][1]["fall_from_baseline_pct"] == pytest.approx(100 / 6)
    assert q["fiqr"][1]["completed_on"] == on(28).isoformat()
    assert q["pgic"] == [
        {
            "week": 4,
            "completed_on": on(29).isoformat(),
            "answer": 2,
            "label": "Much improved",
            "responder": True,
        }
    ]
    assert q["acr2016"] == []  # only a draft
    text, _ = run("response_report", "--patient", "alice")
    assert "FIQR week 4" in text and "16.7 % lower than week 0 (MCID met)" in text
    assert "PGIC week 4" in text and "Much improved (responder)" in text
