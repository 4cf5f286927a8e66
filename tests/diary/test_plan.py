"""The titration plan: the planned next step, its due date, and confirming it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ldn_diary.diary.models import DoseChange, TitrationPlan
from ldn_diary.diary.rules import day_label
from ldn_diary.diary.selectors import titration_status
from ldn_diary.diary.services import dose_change_add, plan_confirm_step, plan_set

DAY = dt.date(2026, 11, 24)


def _plan(**overrides) -> TitrationPlan:
    values = {"start_ug": 1500, "step_ug": 1500, "interval_days": 14, "target_ug": 4500}
    values.update(overrides)
    return TitrationPlan(**values)


def _change(dose_ug: int, days_ago: int) -> DoseChange:
    return DoseChange(dose_ug=dose_ug, effective_date=DAY - dt.timedelta(days=days_ago))


def test_with_no_dose_yet_the_start_dose_is_due_now():
    status = titration_status(_plan(), None, DAY)
    assert (status.next_ug, status.due, status.is_due) == (1500, DAY, True)


def test_the_next_step_is_due_one_interval_after_the_current_dose():
    status = titration_status(_plan(), _change(1500, 10), DAY)
    assert status.next_ug == 3000 and status.due == DAY + dt.timedelta(days=4)
    assert not status.is_due
    assert titration_status(_plan(), _change(1500, 14), DAY).is_due


def test_the_last_step_stops_at_the_target():
    assert titration_status(_plan(target_ug=4000), _change(3000, 20), DAY).next_ug == 4000
    done = titration_status(_plan(), _change(4500, 20), DAY)
    assert done.next_ug is None and done.reached_target


def test_nothing_is_due_while_paused():
    paused = titration_status(_plan(), _change(0, 3), DAY)
    assert paused.next_ug is None and paused.paused


def test_plan_set_explains_bad_values(alice):
    with pytest.raises(ValidationError) as refused:
        plan_set(patient=alice, start_ug=3000, step_ug=0, interval_days=0, target_ug=1500)
    errors = refused.value.message_dict
    assert set(errors) == {"step_mg", "interval_days"}
    with pytest.raises(ValidationError) as refused:
        plan_set(patient=alice, start_ug=3000, step_ug=500, interval_days=7, target_ug=1500)
    assert "below the start dose" in refused.value.message_dict["target_mg"][0]


def test_confirming_a_step_records_it_once(alice, today):
    dose_change_add(
        patient=alice,
        effective_date=today - dt.timedelta(days=14),
        dose_ug=1500,
        time_of_day="morning",
    )
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    step = plan_confirm_step(patient=alice, dose_ug=3000)
    assert step.from_plan and step.effective_date == today and step.time_of_day == "morning"
    again = plan_confirm_step(patient=alice, dose_ug=3000)  # double click
    assert again.pk == step.pk
    assert DoseChange.objects.filter(patient=alice).count() == 2


def test_confirming_an_out_of_date_step_is_refused(alice, today):
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=14), dose_ug=3000)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    with pytest.raises(ValidationError) as refused:
        plan_confirm_step(patient=alice, dose_ug=3000)
    assert "The plan's next step is 4.5 mg, not 3 mg" in refused.value.messages[0]
    assert DoseChange.objects.filter(patient=alice).count() == 1


def test_a_step_not_yet_due_is_refused(alice_client, alice, today):
    """The pages offer the step only once it is due; a post made sooner (an old tab, a
    crafted request) is refused with the date, and nothing is written."""
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=7), dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    due = today + dt.timedelta(days=7)
    with pytest.raises(ValidationError) as refused:
        plan_confirm_step(patient=alice, dose_ug=3000)
    assert f"The step to 3 mg is due on {day_label(due)}" in refused.value.messages[0]
    response = alice_client.post(
        reverse("diary:plan_confirm"), {"dose_ug": "3000", "back": "today"}, follow=True
    )
    assert "The step to 3 mg is due on" in response.content.decode()
    assert DoseChange.objects.filter(patient=alice).count() == 1
    # On the day it is due, it is taken.
    step = plan_confirm_step(patient=alice, dose_ug=3000, date=due, today=due)
    assert step.effective_date == due and step.dose_ug == 3000


def test_the_plan_form_and_the_confirm_button(alice_client, alice, today):
    response = alice_client.post(
        reverse("diary:plan"),
        {"start_mg": "1.5", "step_mg": "1.5", "interval_days": "14", "target_mg": "4.5"},
    )
    assert response.status_code == 302
    plan = TitrationPlan.objects.get(patient=alice)
    assert (plan.start_ug, plan.step_ug, plan.interval_days, plan.target_ug) == (
        1500,
        1500,
        14,
        4500,
    )
    page = alice_client.get(reverse("diary:doses")).content.decode()
    assert "Next planned step: <strong>1.5 mg</strong>" in page
    response = alice_client.post(
        reverse("diary:plan_confirm"), {"dose_ug": "1500", "back": "today"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("diary:today")
    assert "Step recorded: 1.5 mg" in response.content.decode()
    assert DoseChange.objects.get(patient=alice).dose_ug == 1500


def test_the_plan_form_explains_a_bad_dose(alice_client):
    response = alice_client.post(
        reverse("diary:plan"),
        {"start_mg": "1.5", "step_mg": "0.0001", "interval_days": "200", "target_mg": "4.5"},
    )
    body = response.content.decode()
    assert "more than 3 decimals" in body and "1 to 90" in body
    assert not TitrationPlan.objects.exists()


def test_removing_the_plan_keeps_the_doses(alice_client, alice, today):
    dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    alice_client.post(reverse("diary:plan_clear"))
    assert not TitrationPlan.objects.exists() and DoseChange.objects.exists()
