"""The daily entry page and its save endpoint, with and without htmx."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse

from ldn_diary.diary.models import DiaryEntry
from ldn_diary.diary.services import dose_change_add, plan_set

from .conftest import checked, entry_post, save_entry, seed_days

TODAY_URL = reverse("diary:today")
SAVE_URL = reverse("diary:entry_save")


def test_it_shows_an_empty_form_with_a_fresh_key_and_the_scale_ends(alice_client):
    response = alice_client.get(TODAY_URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "0 no pain" in body and "10 worst imaginable" in body
    assert "0 no fatigue" in body and "10 exhausted" in body
    assert "0 very poor" in body and "10 excellent" in body
    assert "0 very low" in body and "10 very good" in body
    assert 'name="request_key"' in body
    keys = {alice_client.get(TODAY_URL).context["form"].initial["request_key"] for _ in range(2)}
    assert len(keys) == 2  # a new key per render
    assert "diary.css" in body


def test_reopening_a_day_shows_what_was_saved(alice_client, alice, today):
    save_entry(alice, today, pain=8, dreams="vivid", side_effects=["headache"], note="rough day")
    form = alice_client.get(TODAY_URL).context["form"]
    assert form.initial["pain"] == 8 and form.initial["dreams"] == "vivid"
    assert form.initial["side_effects"] == ["headache"] and form.initial["version"] == 1
    body = alice_client.get(TODAY_URL).content.decode()
    assert checked(body, "pain") == ["8"] and checked(body, "side_effects") == ["headache"]
    assert "rough day" in body and "Save changes" in body


def test_a_no_js_post_saves_and_redirects(alice_client, alice, today):
    response = alice_client.post(SAVE_URL, entry_post(today))
    assert response.status_code == 302 and response["Location"] == TODAY_URL
    page = alice_client.get(TODAY_URL)
    assert "Saved for" in page.content.decode()
    assert DiaryEntry.objects.get(patient=alice, date=today).pain == 6


def test_a_no_js_backfill_redirects_back_to_that_day(alice_client, today):
    day = today - dt.timedelta(days=3)
    response = alice_client.post(SAVE_URL, entry_post(day))
    assert response["Location"] == f"{TODAY_URL}?date={day.isoformat()}"
    assert DiaryEntry.objects.get(date=day).backfilled


def test_an_htmx_save_returns_only_the_fragment_with_a_confirmation(alice_client, today):
    response = alice_client.post(SAVE_URL, entry_post(today), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<header" not in body
    assert body.lstrip().startswith('<section id="entry-form"')
    assert f"Saved for {today.strftime('%A')}" in body
    assert "pain 6, fatigue 7, sleep 3, mood 5" in body
    # The missed-days list is refreshed out of band, and the new form carries version 1.
    assert 'id="missed-days" class="missed" hx-swap-oob="true"' in body
    assert 'name="version" value="1"' in body


def test_a_double_submit_through_the_page_saves_once(alice_client, alice, today):
    data = entry_post(today)
    alice_client.post(SAVE_URL, data, headers={"HX-Request": "true"})
    again = alice_client.post(SAVE_URL, data, headers={"HX-Request": "true"})
    assert "Saved for" in again.content.decode()
    entry = DiaryEntry.objects.get(patient=alice)
    assert entry.version == 1


def test_a_stale_form_is_refused_with_the_saved_values_and_the_unsaved_change(
    alice_client, alice, today
):
    save_entry(alice, today, pain=6)
    save_entry(alice, today, pain=4, version=1)  # saved on the phone meanwhile
    response = alice_client.post(
        SAVE_URL, entry_post(today, pain="9", version="1"), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "This day was changed in another tab or device at" in body
    assert "re-apply your change" in body
    assert "What you tried to save (not saved): pain 9" in body
    assert checked(body, "pain") == ["4"]
    assert 'name="version" value="2"' in body
    assert DiaryEntry.objects.get(patient=alice).pain == 4


def test_missing_scores_are_named_and_nothing_is_saved(alice_client, today):
    today_data = entry_post(today, fatigue=None, dreams=None)
    response = alice_client.post(SAVE_URL, today_data, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Not saved yet." in body
    assert "Choose a number from 0 to 10 for fatigue." in body
    assert "Choose how you dreamt: none, normal, vivid or nightmares." in body
    assert not DiaryEntry.objects.exists()


def test_an_out_of_range_score_is_refused(alice_client, today):
    response = alice_client.post(SAVE_URL, entry_post(today, pain="11"))
    assert response.status_code == 200
    assert "Choose a number from 0 to 10 for pain." in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_a_future_date_is_refused_through_the_page(alice_client, today):
    response = alice_client.post(SAVE_URL, entry_post(today + dt.timedelta(days=1)))
    assert "is in the future" in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_a_day_outside_the_backfill_window_is_not_offered(alice_client, today):
    old = today - dt.timedelta(days=15)
    response = alice_client.get(TODAY_URL, {"date": old.isoformat()}, follow=True)
    assert response.redirect_chain[-1][0] == TODAY_URL
    assert "import" in response.content.decode()
    response = alice_client.get(TODAY_URL, {"date": "not-a-date"}, follow=True)
    assert response.context["date"] == today


def test_missed_days_are_offered_as_links(alice_client, alice, today):
    save_entry(alice, today - dt.timedelta(days=1))
    missed = alice_client.get(TODAY_URL).context["missed"]
    assert len(missed) == 13
    assert today - dt.timedelta(days=1) not in missed
    assert today - dt.timedelta(days=14) in missed


def test_the_page_shows_the_dose_and_a_due_step(alice_client, alice, today):
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=20), dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    body = alice_client.get(TODAY_URL).content.decode()
    assert "<strong>1.5 mg</strong>" in body
    assert "Planned step: 3 mg" in body and "I started 3 mg today" in body


def test_dose_taken_is_not_asked_before_any_ldn(alice_client, alice, today):
    page = alice_client.get(TODAY_URL)
    assert not page.context["on_ldn"] and 'name="dose_taken"' not in page.content.decode()
    alice_client.post(SAVE_URL, {k: v for k, v in entry_post(today).items() if k != "dose_taken"})
    assert DiaryEntry.objects.get(patient=alice, date=today).dose_taken == "na"
    dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    page = alice_client.get(TODAY_URL)
    assert page.context["form"].initial["dose_taken"] == "yes"  # proposed, since not answered
    assert 'name="dose_taken"' in page.content.decode()


def test_on_a_day_with_ldn_the_dose_question_must_be_answered(alice_client, alice, today):
    dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    data = {k: v for k, v in entry_post(today).items() if k != "dose_taken"}
    body = alice_client.post(SAVE_URL, data).content.decode()
    assert "Choose whether you took your dose: yes, partly or no." in body
    assert not DiaryEntry.objects.exists()


@pytest.mark.parametrize("entries", [10, 100])
def test_the_entry_page_query_count_does_not_grow(
    alice_client, alice, today, entries, django_assert_max_num_queries
):
    seed_days(alice, entries, end=today, dose_steps=[(0, 1500), (5, 3000)])
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    with django_assert_max_num_queries(7):
        response = alice_client.get(TODAY_URL)
    assert response.status_code == 200


def test_another_patients_day_is_never_shown(alice_client, bob, today):
    save_entry(bob, today, pain=9, note="bob's secret")
    body = alice_client.get(TODAY_URL).content.decode()
    assert "bob&#x27;s secret" not in body and "bob's secret" not in body
    alice_client.post(SAVE_URL, entry_post(today, pain="2"))
    assert DiaryEntry.objects.get(patient=bob).pain == 9  # her save wrote her own day


def test_a_request_key_of_another_patient_is_only_a_key(alice_client, alice, bob, today):
    key = uuid.uuid4()
    save_entry(bob, today, request_key=key)
    alice_client.post(SAVE_URL, entry_post(today, request_key=str(key)))
    assert DiaryEntry.objects.filter(patient=alice).count() == 1
