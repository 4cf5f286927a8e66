"""The roster on crafted diaries: columns, flags, sorting and filtering with htmx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ldn_diary.accounts.models import User
from ldn_diary.clinic import presentation
from ldn_diary.clinic.services import note_add
from ldn_diary.diary.services import plan_set

from ..conftest import without_csrf_tokens
from .conftest import days_ago, linked_patient, recompute, write_diary


@pytest.fixture
def cohort(carol, today):
    """Eight patients, each built to show one thing, all linked to Carol (as is Alice, who has
    no entries yet); trends computed. Therapy days are chosen outside the review periods
    (days 25-42, 53-70, 81-98) except for Rev, whose review is the point."""
    p = {}
    # Ivy: pain 7 -> 3 from day 14; 1.5 -> 3 -> 4.5 mg; a few missed/partial doses lately.
    p["ivy"] = linked_patient(carol, "ivy", "Ivy")
    write_diary(
        p["ivy"],
        start=days_ago(today, 75),
        last=75,
        pain=lambda n: 7 if n < 14 else 3,
        dose_ug=lambda n: 1500 if n < 21 else 3000 if n < 42 else 4500,
        dose_taken=lambda n: {65: "no", 67: "no", 69: "partly", 71: "partly"}.get(n, "yes"),
    )
    plan_set(patient=p["ivy"], start_ug=1500, step_ug=1500, interval_days=21, target_ug=4500)
    # Wes: pain 4 at baseline, 8 on LDN: worse by 100 %; still on his first step, next one due.
    p["wes"] = linked_patient(carol, "wes", "Wes")
    write_diary(
        p["wes"], start=days_ago(today, 45), last=45, pain=lambda n: 4 if n < 0 else 8, dose_ug=1500
    )
    plan_set(patient=p["wes"], start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    # Sid: stopped logging 9 days ago.
    p["sid"] = linked_patient(carol, "sid", "Sid")
    write_diary(p["sid"], start=days_ago(today, 50), last=41, pain=5)
    # Nia: nausea on every other day since day 10 (persistent); Rita: every day, but only for
    # the last 10 days (recent); Sal: every third day (under half).
    p["nia"] = linked_patient(carol, "nia", "Nia")
    write_diary(
        p["nia"],
        start=days_ago(today, 50),
        last=50,
        side_effects=lambda n: ("nausea",) if n >= 10 and n % 2 == 0 else (),
    )
    p["rita"] = linked_patient(carol, "rita", "Rita")
    write_diary(
        p["rita"],
        start=days_ago(today, 50),
        last=50,
        side_effects=lambda n: ("nausea",) if n >= 40 else (),
    )
    p["sal"] = linked_patient(carol, "sal", "Sal")
    write_diary(
        p["sal"],
        start=days_ago(today, 50),
        last=50,
        side_effects=lambda n: ("headache",) if n % 3 == 0 else (),
    )
    # Rev: therapy day 27 today: the week-4 review is open.
    p["rev"] = linked_patient(carol, "rev", "Rev")
    write_diary(p["rev"], start=days_ago(today, 27), last=27, pain=5)
    # Nob: only 6 baseline days logged: no valid baseline.
    p["nob"] = linked_patient(carol, "nob", "Nob")
    write_diary(p["nob"], start=days_ago(today, 45), last=45, skip=lambda n: -14 <= n < -6)
    recompute(*p.values())
    return p


def rows_by_name(carol, **kw):
    return {r.name: r for r in presentation.roster(carol, **kw).rows}


def codes(row):
    return {f.code for f in row.flags}


def test_columns_of_a_responder(carol, today, cohort):
    ivy = rows_by_name(carol)["Ivy"]
    assert ivy.therapy_weeks == 10 and ivy.therapy_days == 75
    assert (ivy.dose_ug, ivy.days_at_dose) == (4500, 34)  # day 42 to day 75, both counted
    assert ivy.next_ug is None and ivy.at_target
    assert ivy.last_entry == today and ivy.days_since_entry == 0
    # The 14 days before today, all logged; 2 missed and 2 partial doses: (10 + 2 * 0.5) / 14.
    assert ivy.logged_14 == 14
    assert ivy.dose_adherence == pytest.approx(11 / 14)
    assert ivy.pain_r7 == pytest.approx(3.0)
    assert ivy.pain_pct == pytest.approx(100 * (7 - 3) / 7)
    assert (ivy.response, ivy.response_window) == ("substantial", "week_8")
    assert "worsening" not in codes(ivy)


def test_next_planned_step_is_current_plus_step_due_one_interval_after_the_change(
    carol, today, cohort
):
    wes = rows_by_name(carol)["Wes"]
    assert (wes.next_ug, wes.next_due) == (3000, days_ago(today, 45 - 14))


def test_worsening_flag(carol, cohort):
    rows = rows_by_name(carol)
    assert rows["Wes"].pain_pct == pytest.approx(-100.0)
    assert codes(rows["Wes"]) >= {"worsening"}
    assert rows["Wes"].response == "none"
    assert {name for name, r in rows.items() if "worsening" in codes(r)} == {"Wes"}


def test_no_entries_flag(carol, cohort):
    rows = rows_by_name(carol)
    assert "no_entries" in codes(rows["Sid"])
    assert "Last entry 9 days ago" in {f.detail for f in rows["Sid"].flags}
    assert "No diary entries yet" in {f.detail for f in rows["Alice"].flags}
    assert {name for name, r in rows.items() if "no_entries" in codes(r)} == {"Sid", "Alice"}


def test_persistent_side_effect_flag_only_for_three_weeks_on_half_the_days(carol, cohort):
    rows = rows_by_name(carol)
    assert {name for name, r in rows.items() if "side_effect" in codes(r)} == {"Nia"}
    (flag,) = [f for f in rows["Nia"].flags if f.code == "side_effect"]
    assert flag.detail == "For 3+ weeks: Nausea (11 days)"


def test_due_for_review_flag_and_a_note_clears_it(carol, cohort):
    rows = rows_by_name(carol)
    assert {name for name, r in rows.items() if "review" in codes(r)} == {"Rev"}
    note_add(clinician=carol, patient=cohort["rev"], text="Week-4 call: dreams settling.")
    assert "review" not in codes(rows_by_name(carol)["Rev"])


def test_response_without_a_valid_baseline(carol, cohort):
    nob = rows_by_name(carol)["Nob"]
    assert nob.response == "no_baseline" and nob.response_label == "No valid baseline"


def test_stale_results_are_marked_not_shown_as_current(carol, today, cohort):
    from ldn_diary.diary.services import entry_save

    assert rows_by_name(carol)["Sid"].trends_status == "current"
    entry_save(
        patient=cohort["sid"],
        date=today,
        pain=3,
        fatigue=3,
        sleep=3,
        mood=3,
        dreams="none",
        version=None,
        request_key=None,
        today=today,
    )
    # Inside the test's transaction the on-commit recompute never runs: the save is queued, so
    # the roster says the results are being computed (the same rule as trend_summary_for).
    from ldn_diary.trends.models import TrendState

    assert rows_by_name(carol)["Sid"].trends_status == "computing"
    # Behind the diary with no live task (e.g. the broker was down): stale.
    TrendState.objects.filter(patient=cohort["sid"]).update(data_version=999, queued_at=None)
    assert rows_by_name(carol)["Sid"].trends_status == "stale"


# --- Sorting and filtering ----------------------------------------------------------------------


def names(carol, **kw):
    return [r.name for r in presentation.roster(carol, **kw).rows]


def test_sorts(carol, cohort):
    assert names(carol, sort="name") == sorted(names(carol, sort="name"))
    assert names(carol, sort="-name") == sorted(names(carol), reverse=True)
    assert names(carol, sort="pain")[0] == "Wes"  # worst change first
    assert names(carol, sort="-pain")[0] == "Ivy"
    assert names(carol, sort="last_entry")[0] == "Sid"  # longest silence first
    assert names(carol, sort="-flags")[0] in {"Wes", "Nia"}  # most severe flag first
    assert names(carol, sort="-flags")[-1] not in {"Wes", "Nia", "Sid", "Rev"}
    adherence = [r.logged_14 for r in presentation.roster(carol, sort="adherence").rows]
    assert adherence == sorted(adherence)


def test_filters(carol, cohort):
    assert names(carol, flag="worsening") == ["Wes"]
    assert names(carol, flag="side_effect") == ["Nia"]
    assert names(carol, response="substantial") == ["Ivy"]
    assert names(carol, response="no_baseline") == ["Nob"]
    assert names(carol, search="RI") == ["Rita"]
    roster = presentation.roster(carol, flag="worsening")
    assert roster.total == 9 and roster.flag_counts["worsening"] == 1


def test_search_matches_how_names_start_never_usernames(carol, today):
    # Usernames all contain letters the term might hold ("patient-07"); a clinician searches by
    # the name the roster shows, and by first and last name.
    for username, display in (("pat-ana", "Ana"), ("pat-sara", "Sara"), ("pat-kim", "Kim")):
        linked_patient(carol, username, display)
    # No service edits first and last names (an administrator sets them), so set them directly.
    User.objects.filter(username="pat-kim").update(
        display_name="", first_name="Kim", last_name="Abbott"
    )
    # Alice and Ana; Kim Abbott by her last name; never Sara, whose name only holds an "a".
    assert names(carol, search="a") == ["Alice", "Ana", "Kim Abbott"]
    assert names(carol, search="pat") == []  # a username is not a name
    assert names(carol, search="kim ab") == ["Kim Abbott"]  # the full name
    assert names(carol, search="SA") == ["Sara"]


def test_the_page_sorts_and_filters_by_plain_links(client, carol, cohort):
    client.force_login(carol)
    response = client.get(reverse("clinic:roster"), {"flag": "worsening"})
    html = without_csrf_tokens(response.content).decode()
    assert "Wes" in html and "Ivy" not in html
    # Every htmx link also has a working href.
    assert 'href="?flag=worsening&amp;sort=pain"' in html or "sort=pain" in html
    html = client.get(reverse("clinic:roster"), {"sort": "-pain"}).content.decode()
    assert html.index(">Ivy<") < html.index(">Wes<")


def test_a_visible_sort_select_sorts_without_javascript(client, carol, cohort):
    # On a phone the column headers are hidden (display: none, so their links take no focus);
    # the "Sort by" select in the GET form sorts instead, with or without JavaScript.
    client.force_login(carol)
    html = client.get(reverse("clinic:roster"), {"sort": "-pain"}).content.decode()
    assert '<label for="roster-sort">Sort by</label>' in html
    assert '<option value="-pain" selected>Pain change, best first</option>' in html
    assert html.count('name="sort"') == 1  # one sort value is submitted, the select's
    assert html.index(">Ivy<") < html.index(">Wes<")
    for code, _label in presentation.SORT_CHOICES:  # every choice is a sort the view accepts
        assert code.lstrip("-") in presentation.SORTS
    # An htmx sort (a header link) also updates the select, out of band.
    html = client.get(
        reverse("clinic:roster"), {"sort": "name"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert '<select id="roster-sort" name="sort" hx-swap-oob="true">' in html
    assert '<option value="name" selected>' in html


def test_htmx_gets_only_the_table_fragment(client, carol, cohort):
    client.force_login(carol)
    response = client.get(
        reverse("clinic:roster"), {"response": "substantial"}, headers={"HX-Request": "true"}
    )
    html = without_csrf_tokens(response.content).decode()
    assert html.lstrip().startswith('<section id="roster-table"')
    assert "<html" not in html and "<header" not in html and 'id="roster-filters"' not in html
    assert 'id="roster-q"' not in html  # the search box is never replaced while typing
    assert "Ivy" in html and "Wes" not in html
    assert "HX-Request" in response["Vary"]
    # ... plus the filter selects, out of band, showing the filter the table was built with.
    assert '<select id="roster-response" name="response" hx-swap-oob="true">' in html
    assert '<option value="substantial" selected>' in html
    # A history restore (back button, cache evicted) gets the whole page.
    full = client.get(
        reverse("clinic:roster"),
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ).content.decode()
    assert "<html" in full


def test_bad_parameters_fall_back_instead_of_failing(client, carol, cohort):
    client.force_login(carol)
    response = client.get(reverse("clinic:roster"), {"sort": "password", "flag": "x", "page": "z"})
    assert response.status_code == 200 and "Ivy" in response.content.decode()


def test_an_empty_roster_says_how_to_link(client, dave):
    client.force_login(dave)
    html = client.get(reverse("clinic:roster")).content.decode()
    assert "No patients have shared their diary with you yet" in html


def test_the_cached_roster_follows_every_change_it_shows(client, carol, today, cohort):
    """The table is cached under the data version: each kind of change must show at once."""
    from ldn_diary.clinic.models import CareLink
    from ldn_diary.clinic.services import followup_set, link_revoke
    from ldn_diary.diary.services import entry_save

    client.force_login(carol)
    url = reverse("clinic:roster")

    def row_of(name):
        html = client.get(url, {"q": name}).content.decode()
        return html[html.index("<tbody>") : html.index("</tbody>")] if "<tbody>" in html else ""

    assert "Due for review" in row_of("Rev")
    note_add(clinician=carol, patient=cohort["rev"], text="Week-4 call.")
    assert "Due for review" not in row_of("Rev")

    assert "9 days ago" in row_of("Sid")
    entry_save(
        patient=cohort["sid"],
        date=today,
        pain=5,
        fatigue=5,
        sleep=5,
        mood=5,
        dreams="none",
        version=None,
        request_key=None,
        today=today,
    )
    assert "today" in row_of("Sid") and "9 days ago" not in row_of("Sid")

    followup_set(clinician=carol, patient=cohort["ivy"], due_on=today)
    assert client.get(url).status_code == 200  # a new version, recomputed without error

    link = CareLink.objects.get(patient=cohort["nia"], clinician=carol, revoked_at__isnull=True)
    assert "Nia" in row_of("Nia")
    link_revoke(link=link)
    assert "Nia" not in without_csrf_tokens(client.get(url).content).decode()
