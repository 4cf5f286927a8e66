"""The patient's questionnaire pages: cards on the entry page (loaded by htmx, dismissible for a
week), answering in parts over several sittings, finishing, clear refusals that lose nothing
saved, and nobody else's answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ldn_diary.questionnaires.models import QuestionnaireResponse
from ldn_diary.questionnaires.services import questionnaire_save

from .conftest import fiqr_post, start_ldn

DUE = reverse("questionnaires:due")
INDEX = reverse("questionnaires:index")
HTMX = {"HTTP_HX_REQUEST": "true"}


def fill_url(code: str, week: int, part: int | None = None) -> str:
    url = reverse("questionnaires:fill", args=[code, week])
    return f"{url}?part={part}" if part else url


def cards(client) -> str:
    return client.get(DUE, **HTMX).content.decode()


def stored(patient, code="fiqr", week=4) -> QuestionnaireResponse:
    return QuestionnaireResponse.objects.get(patient=patient, instrument=code, week=week)


# --- The entry page's cards -----------------------------------------------------------------------


def test_the_entry_page_loads_the_cards_after_the_form_with_a_link_without_js(alice_client):
    html = alice_client.get(reverse("diary:today")).content.decode()
    loader = html.index('<section id="due-questionnaires"')
    assert html.index('id="entry-form"') < html.index('class="save-bar"') < loader
    section = html[loader : html.index("</section>", loader)]
    assert f'hx-get="{DUE}"' in section and 'hx-trigger="load"' in section
    assert f'href="{INDEX}"' in section  # the way in without JavaScript


def test_cards_come_back_as_a_fragment_and_without_htmx_the_schedule_page(alice_client):
    fragment = cards(alice_client)
    assert fragment.lstrip().startswith('<section id="due-questionnaires"')
    assert "<html" not in fragment and "<body" not in fragment
    response = alice_client.get(DUE)
    assert response.status_code == 302 and response["Location"] == INDEX


def test_before_the_first_dose_the_baseline_fiqr_and_acr_are_due(alice_client):
    html = cards(alice_client)
    assert 'id="q-fiqr-0"' in html and 'id="q-acr2016-0"' in html
    assert "q-pgic" not in html  # no change to rate before LDN


def test_week_4_offers_all_three_and_nothing_between_windows(alice_client, alice, today):
    start_ldn(alice, 30, today)
    html = cards(alice_client)
    assert all(f'id="q-{c}-4"' in html for c in ("fiqr", "acr2016", "pgic"))
    assert "q-fiqr-0" not in html  # the baseline closed on the first dose day


def test_between_windows_nothing_is_due(alice_client, alice, today):
    start_ldn(alice, 45, today)  # therapy day 45: week 4 closed on day 42, week 8 opens day 53
    assert "q-card" not in cards(alice_client)
    assert "Closed" in alice_client.get(INDEX).content.decode()


def test_not_now_hides_a_card_for_that_week_only(alice_client, alice, today, clock):
    start_ldn(alice, 28, today)
    url = reverse("questionnaires:dismiss", args=["fiqr", 4])
    html = alice_client.post(url, **HTMX).content.decode()
    assert "q-fiqr-4" not in html and 'id="q-acr2016-4"' in html  # the others stay
    assert "q-fiqr-4" not in cards(alice_client)
    # Still reachable from the schedule page while open.
    assert fill_url("fiqr", 4) in alice_client.get(INDEX).content.decode()
    # Four weeks on, the week-8 card shows.
    clock.shift(dt.timedelta(days=28))
    alice_client.force_login(alice)  # the session would have expired
    assert 'id="q-fiqr-8"' in cards(alice_client)


def test_not_now_without_javascript_goes_back_to_today(alice_client, alice, today):
    start_ldn(alice, 28, today)
    response = alice_client.post(reverse("questionnaires:dismiss", args=["pgic", 4]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("diary:today")
    assert "Hidden for now." in response.content.decode()


# --- Answering in parts ---------------------------------------------------------------------------


def test_the_fiqr_in_three_sittings(alice_client, alice, today):
    start_ldn(alice, 28, today)
    # Sitting 1: five of the nine daily tasks, then "finish later".
    response = alice_client.post(
        fill_url("fiqr", 4, 1), fiqr_post({1: 2, 2: 6, 3: 4, 4: 7, 5: 6}, "later"), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("diary:today")
    assert "Saved: 5 of 21 answered." in response.content.decode()
    assert "5 of 21 answered" in cards(alice_client)  # the card says where they are
    draft = stored(alice, "fiqr", 4)
    assert draft.completed_at is None and draft.answers["1"] == 2
    # Sitting 2: opening the questionnaire goes to the first part with gaps; finish part 1.
    page = alice_client.get(fill_url("fiqr", 4)).content.decode()
    assert 'aria-current="step">1. Daily tasks' in page
    assert (
        'name="item_2" value="6"' in page
        and "checked" in page.split('name="item_2" value="6"')[1][:40]
    )
    answers = {1: 2, 2: 6, 3: 4, 4: 7, 5: 6, 6: 5, 7: 6, 8: 4, 9: 5}
    assert alice_client.post(fill_url("fiqr", 4, 1), fiqr_post(answers))["Location"] == fill_url(
        "fiqr", 4, 2
    )
    assert alice_client.post(fill_url("fiqr", 4, 2), fiqr_post({10: 7, 11: 6}))[
        "Location"
    ] == fill_url("fiqr", 4, 3)
    # Sitting 3: the symptoms, and finish.
    symptoms = dict(zip(range(12, 22), [7, 8, 6, 7, 4, 6, 5, 7, 3, 6], strict=True))
    response = alice_client.post(fill_url("fiqr", 4, 3), fiqr_post(symptoms, "finish"), follow=True)
    assert "Thank you: your week 4 FIQR is finished." in response.content.decode()
    done = stored(alice, "fiqr", 4)
    assert done.completed_at is not None and len(done.answers) == 21
    assert "q-fiqr-4" not in cards(alice_client)


def test_saving_a_part_keeps_the_other_parts(alice, today):
    start_ldn(alice, 28, today)
    questionnaire_save(patient=alice, instrument="fiqr", week=4, answers={"1": 3, "10": 4})
    questionnaire_save(patient=alice, instrument="fiqr", week=4, answers={"1": 5, "2": None})
    assert stored(alice).answers == {"1": 5, "2": None, "10": 4}


def test_going_back_saves_too(alice_client, alice, today):
    start_ldn(alice, 28, today)
    response = alice_client.post(fill_url("fiqr", 4, 2), fiqr_post({10: 3}, "back"))
    assert response["Location"] == fill_url("fiqr", 4, 1)
    assert stored(alice).answers["10"] == 3


def test_finishing_the_fiqr_with_gaps_says_what_is_not_scored(alice_client, alice, today):
    start_ldn(alice, 28, today)
    alice_client.post(fill_url("fiqr", 4, 1), fiqr_post(dict.fromkeys(range(1, 10), 5)))
    response = alice_client.post(fill_url("fiqr", 4, 3), fiqr_post({12: 5}, "finish"), follow=True)
    html = response.content.decode()
    assert "You left 11 questions unanswered" in html
    assert "that part and the total cannot be scored" in html
    assert stored(alice).completed_at is not None


def test_an_empty_fiqr_cannot_be_finished(alice_client, alice, today):
    start_ldn(alice, 28, today)
    response = alice_client.post(fill_url("fiqr", 4, 3), {"action": "finish"})
    assert "Answer at least one question before finishing." in response.content.decode()
    assert stored(alice).completed_at is None


def test_the_acr_needs_every_answer_and_keeps_what_was_saved(alice_client, alice, today):
    start_ldn(alice, 28, today)
    part1 = {
        "painful_areas": ["neck", "left_hip", "right_hip"],
        "symptoms_3_months": "yes",
        "action": "next",
    }
    assert alice_client.post(fill_url("acr2016", 4, 1), part1).status_code == 302
    response = alice_client.post(
        fill_url("acr2016", 4, 2), {"fatigue": "2", "headaches": "no", "action": "finish"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "To finish, answer: waking unrefreshed, trouble thinking or remembering, pain or cramps "
        "in the lower abdomen, depression. Your other answers are saved."
    ) in html
    saved = stored(alice, "acr2016").answers
    assert saved["painful_areas"] == ["left_hip", "right_hip", "neck"]  # the form's order
    assert (
        saved["fatigue"] == 2 and saved["headaches"] is False and saved["symptoms_3_months"] is True
    )
    finished = {
        "fatigue": "2",
        "waking_unrefreshed": "1",
        "cognitive": "0",
        "headaches": "no",
        "lower_abdominal": "no",
        "depression": "yes",
        "action": "finish",
    }
    alice_client.post(fill_url("acr2016", 4, 2), finished)
    assert stored(alice, "acr2016").completed_at is not None


def test_the_pgic_is_one_question(alice_client, alice, today):
    start_ldn(alice, 56, today)
    page = alice_client.get(fill_url("pgic", 8)).content.decode()
    assert "Very much improved" in page and "Very much worse" in page and "Finish" in page
    alice_client.post(fill_url("pgic", 8), {"answer": "2", "action": "finish"})
    assert stored(alice, "pgic", 8).answers == {"answer": 2}
    assert stored(alice, "pgic", 8).completed_at is not None


def test_a_tampered_answer_is_refused_by_name_and_nothing_is_lost(alice_client, alice, today):
    start_ldn(alice, 28, today)
    alice_client.post(fill_url("fiqr", 4, 1), fiqr_post({1: 4, 2: 5}))
    response = alice_client.post(fill_url("fiqr", 4, 1), fiqr_post({1: 9, 3: 11}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose one of the listed answers for question 3." in html
    saved = stored(alice).answers
    assert (saved["1"], saved["2"], saved["3"]) == (4, 5, None)


def test_a_closed_week_refuses_with_its_date_and_saves_nothing(alice_client, alice, today):
    start = start_ldn(alice, 50, today)  # day 50: week 4 closed on day 42
    page = alice_client.get(fill_url("fiqr", 4)).content.decode()
    closed = start + dt.timedelta(days=42)
    assert f"This questionnaire closed on {closed:%A} {closed.day} {closed:%b}" in page
    response = alice_client.post(fill_url("fiqr", 4, 1), fiqr_post({1: 3}))
    assert (
        "closed on" in response.content.decode()
        and "Nothing new was saved." in response.content.decode()
    )
    assert not QuestionnaireResponse.objects.exists()


def test_a_week_not_open_yet_says_when(alice_client, alice, today):
    start = start_ldn(alice, 10, today)
    page = alice_client.get(fill_url("fiqr", 8)).content.decode()
    opens = start + dt.timedelta(days=53)
    assert f"opens on {opens:%A} {opens.day} {opens:%b}" in page
    assert '<form method="post" action="?part' not in page


@pytest.mark.parametrize(("code", "week"), [("pgic", 0), ("fiqr", 6), ("sf36", 4)])
def test_a_questionnaire_that_is_not_scheduled_is_a_404(alice_client, code, week):
    assert alice_client.get(fill_url(code, week)).status_code == 404
    assert (
        alice_client.post(reverse("questionnaires:dismiss", args=[code, week])).status_code == 404
    )


# --- Only the patient's own -----------------------------------------------------------------------

URLS = [
    ("get", INDEX),
    ("get", DUE),
    ("get", fill_url("fiqr", 4)),
    ("post", fill_url("fiqr", 4, 1)),
    ("post", reverse("questionnaires:dismiss", args=["fiqr", 4])),
]


@pytest.mark.parametrize(("method", "url"), URLS)
@pytest.mark.parametrize("who", ["carol", "dave", "mona"])
def test_clinicians_and_moderators_get_the_wrong_role_page(
    request, client, alice, today, method, url, who
):
    start_ldn(alice, 28, today)
    questionnaire_save(patient=alice, instrument="fiqr", week=4, answers={"1": 7})
    client.force_login(request.getfixturevalue(who))
    result = getattr(client, method)(url, fiqr_post({1: 2}), **HTMX)
    assert result.status_code == 403  # another role: the wrong-role page
    assert stored(alice).answers == {"1": 7} and stored(alice).dismissed_at is None


def test_another_patient_sees_and_changes_only_their_own(client, alice, bob, today):
    start_ldn(alice, 28, today)
    start_ldn(bob, 2, bob.local_today())
    questionnaire_save(patient=alice, instrument="fiqr", week=4, answers={"1": 7, "2": 7})
    client.force_login(bob)
    assert "2 of 21 answered" not in client.get(INDEX).content.decode()
    # Bob's week 4 is not open (his therapy day 2): refused, and Alice's answers untouched.
    client.post(fill_url("fiqr", 4, 1), fiqr_post({1: 0}))
    client.post(reverse("questionnaires:dismiss", args=["fiqr", 4]))
    assert stored(alice).answers == {"1": 7, "2": 7} and stored(alice).dismissed_at is None
    assert not QuestionnaireResponse.objects.filter(patient=bob).exists()
    # And Alice's own request still works.
    client.force_login(alice)
    assert "2 of 21 answered" in client.get(INDEX).content.decode()


def test_visitors_are_sent_to_log_in(client):
    for url in (INDEX, DUE, fill_url("fiqr", 4)):
        result = client.get(url)
        assert result.status_code == 302 and reverse("accounts:login") in result["Location"]


# --- The services on their own --------------------------------------------------------------------


def test_finishing_twice_keeps_the_first_time_and_an_incomplete_acr_is_a_draft_again(
    alice, today, clock
):
    from ldn_diary.questionnaires.services import questionnaire_finish

    from .test_summary import ACR_MET

    start_ldn(alice, 28, today)
    questionnaire_save(patient=alice, instrument="acr2016", week=4, answers=ACR_MET)
    first = questionnaire_finish(patient=alice, instrument="acr2016", week=4).completed_at
    clock.shift(dt.timedelta(hours=2))
    assert questionnaire_finish(patient=alice, instrument="acr2016", week=4).completed_at == first
    questionnaire_save(patient=alice, instrument="acr2016", week=4, answers={"fatigue": None})
    assert stored(alice, "acr2016").completed_at is None


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"1": 11}, "Question 1: choose a number from 0 to 10; got 11."),
        ({"1": True}, "Question 1: choose a number from 0 to 10; got True."),
        ({"99": 3}, "FIQR has no question '99'."),
    ],
)
def test_the_service_refuses_answers_the_form_would_not_send(alice, today, answers, words):
    from django.core.exceptions import ValidationError

    start_ldn(alice, 28, today)
    with pytest.raises(ValidationError) as refused:
        questionnaire_save(patient=alice, instrument="fiqr", week=4, answers=answers)
    assert refused.value.messages == [words]
    assert not QuestionnaireResponse.objects.exists()
