"""Releases: the budget, snapshots, names never leaking, the public page and CSV, the command."""

from __future__ import annotations

import io
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ldn_diary.clinical.privacy import SMALL_MARK
from ldn_diary.community import services
from ldn_diary.community.models import Release
from tests.clinic.conftest import recompute

from .conftest import diary_patient, join, members


def compute(group, *, epsilon=None, seed=1) -> Release:
    release = services.release_request(group=group, epsilon=epsilon, enqueue=False)
    return services.release_compute(release_id=release.pk, random_state=seed)


# --- Budget ---------------------------------------------------------------------------------------


def test_the_budget_refuses_a_release_past_it(group):
    for _ in range(3):
        compute(group)
    compute(group, epsilon=Decimal("0.5"))
    group.refresh_from_db()
    assert group.epsilon_spent == Decimal("3.5")
    with pytest.raises(services.BudgetError) as refused:
        services.release_request(group=group, enqueue=False)
    assert refused.value.messages[0].startswith(
        "This release needs ε = 1 but only 0.5 of the group's budget of 4 is left."
    )
    assert Release.objects.count() == 4
    # What is left can still be spent.
    compute(group, epsilon=Decimal("0.5"))
    group.refresh_from_db()
    assert group.epsilon_left == 0


def test_the_moderators_page_shows_the_refusal(client, mona, group):
    compute(group, epsilon=Decimal("3.5"))
    client.force_login(mona)
    url = reverse("community:release_create", args=[group.uuid])
    response = client.post(url, {"epsilon": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "only 0.5 of the group&#x27;s budget of 4 is left" in html
    assert Release.objects.count() == 1
    assert client.post(url, {"epsilon": "0.5"}).status_code == 302
    assert Release.objects.count() == 2


def test_the_command_refuses_past_the_budget_with_a_message_and_exit_code(group):
    compute(group, epsilon=Decimal("4"))
    with pytest.raises(CommandError, match="needs ε = 1 but only 0 of the group's budget of 4"):
        call_command("release_aggregates", "leeds", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("no-such-group", "There is no support group with the short name 'no-such-group'."),
        ("leeds", "This release needs ε = 1 but only 0 of the group's budget of 4 is left."),
    ],
)
def test_the_command_exits_non_zero_with_a_message(group, monkeypatch, slug, message):
    """As from a shell: run_from_argv prints the error and exits with status 1."""
    from ldn_diary.community.management.commands.release_aggregates import Command

    compute(group, epsilon=Decimal("4"))
    # run_from_argv closes the database connections when it ends; not the test's own, please.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    stderr = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        Command(stdout=io.StringIO(), stderr=stderr).run_from_argv(
            ["manage.py", "release_aggregates", slug]
        )
    assert exited.value.code == 1
    assert message in stderr.getvalue()


def test_a_computed_release_spends_its_epsilon_even_unpublished(group):
    release = compute(group, epsilon=Decimal("1.5"))
    group.refresh_from_db()
    assert release.published_at is None and group.epsilon_spent == Decimal("1.5")


# --- Snapshots and withdrawal ----------------------------------------------------------------------


def test_a_withdrawal_leaves_published_releases_alone_and_drops_her_from_the_next(group, alice):
    from django.utils import timezone

    from ldn_diary.clinical.aggregates import compute_release
    from ldn_diary.community import selectors
    from ldn_diary.diary.models import SideEffect

    crowd = members(group, 14, dose_ug=3000)
    alice_patient = diary_patient("alice2", "Alice Second", dose_ug=6000)
    recompute(alice_patient)
    membership = join(alice_patient, group)
    first = services.release_publish(release=compute(group, epsilon=Decimal("2"), seed=5))
    published = json.dumps(first.results, sort_keys=True)
    ids = selectors.contributing_patient_ids(group)
    assert alice_patient.pk in ids and len(ids) == 15

    services.membership_stop(patient=alice_patient, membership_uuid=membership.uuid)
    second = compute(group, epsilon=Decimal("2"), seed=5)
    first.refresh_from_db()
    assert json.dumps(first.results, sort_keys=True) == published
    # The second release is exactly the first's computation over the 14 others.
    today = timezone.now().date()
    expected = compute_release(
        selectors.member_outcomes([p.pk for p in crowd], today=today),
        epsilon=2.0,
        side_effects=list(SideEffect.choices),
        random_state=5,
    )
    assert second.results["tables"] == expected.tables
    with_her = compute_release(
        selectors.member_outcomes(ids, today=today),
        epsilon=2.0,
        side_effects=list(SideEffect.choices),
        random_state=5,
    )
    assert first.results["tables"] == with_her.tables
    assert first.results["tables"] != second.results["tables"]


# --- Nothing identifying in any output ------------------------------------------------------------


DISTINCTIVE = ("Zebulon Quixotic", "Xanthippe Marvolo")


def all_outputs(client, release) -> list[str]:
    token = release.public_token
    outs = [
        client.get(reverse("community:public", args=[token])).content.decode(),
        client.get(reverse("community:public_csv", args=[token])).content.decode(),
        json.dumps(release.results, ensure_ascii=False),
    ]
    stdout = io.StringIO()
    call_command("release_aggregates", "leeds", "--json", "--publish", stdout=stdout)
    outs.append(stdout.getvalue())
    stdout = io.StringIO()
    call_command("release_aggregates", "leeds", stdout=stdout)
    outs.append(stdout.getvalue())
    return outs


def test_no_release_output_names_a_member(client, group):
    patients = members(group, 16)
    for patient, name in zip(patients, DISTINCTIVE, strict=False):
        patient.display_name = name
        patient.save(update_fields=["display_name"])
    release = services.release_publish(release=compute(group, epsilon=Decimal("1")))
    client.logout()
    outputs = all_outputs(client, release)
    needles = [p.username for p in patients] + [p.email for p in patients] + list(DISTINCTIVE)
    needles += [p.display_name for p in patients] + [str(p.uuid) for p in patients]
    for text in outputs:
        for needle in needles:
            assert needle not in text, needle
        # No calendar date either (the page gives the month only).
        assert not __import__("re").search(r"\b20\d\d-\d\d-\d\d\b", text)


# --- Public page, CSV, revocation ------------------------------------------------------------------


def test_the_public_page_needs_no_login_and_a_revoked_link_is_a_404(client, mona, group):
    members(group, 12)
    release = services.release_publish(release=compute(group, epsilon=Decimal("4")))
    page = reverse("community:public", args=[release.public_token])
    data = reverse("community:public_csv", args=[release.public_token])
    response = client.get(page)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"].startswith("noindex")
    html = response.content.decode()
    assert "Not medical advice" in html and "ε = 4" in html and "&lt;11" in html
    assert 'data-figure="dose-figure"' in html
    csv_response = client.get(data)
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode().startswith("table,row,column,value\r\n")
    assert "sessionid" not in response.cookies

    client.force_login(mona)
    client.post(reverse("community:release_revoke", args=[group.uuid, release.uuid]))
    client.logout()
    assert client.get(page).status_code == 404
    assert client.get(data).status_code == 404
    # Publishing again makes a new link; the old one stays dead.
    again = services.release_publish(release=release)
    assert again.public_token != release.public_token
    assert client.get(page).status_code == 404
    assert client.get(reverse("community:public", args=[again.public_token])).status_code == 200


def test_every_table_heading_has_words_for_a_screen_reader(client, mona, group):
    # axe's empty-table-header: the corner above the row labels, the release list's link column.
    members(group, 12)
    release = services.release_publish(release=compute(group, epsilon=Decimal("4")))
    public = client.get(reverse("community:public", args=[release.public_token])).content.decode()
    client.force_login(mona)
    listing = client.get(reverse("community:group", args=[group.uuid])).content.decode()
    for html in (public, listing):
        headings = re.findall(r"<th\b[^>]*>(.*?)</th>", html, flags=re.S)
        assert headings
        assert [h for h in headings if not re.sub(r"<[^>]+>", "", h).strip()] == []
    assert '<th scope="col"><span class="vh">Current dose</span></th>' in public
    assert '<th scope="col"><span class="vh">Link</span></th>' in listing


def test_public_tokens_are_long_and_a_made_up_one_is_a_404(client, group):
    release = services.release_publish(release=compute(group))
    assert len(release.public_token) >= 43  # 32 bytes, base64: 256 bits
    assert client.get(reverse("community:public", args=["x" * 43])).status_code == 404
    unpublished = compute(group)
    assert unpublished.public_token is None


# --- Query counts ---------------------------------------------------------------------------------

# Session + user (2), the group (1), its releases (1), the roster with its patients (1), the
# audit rows of the members shown (1, one INSERT however many).
GROUP_PAGE_QUERIES = 6
# The release with its group, by token (1); no session for an anonymous visitor.
PUBLIC_PAGE_QUERIES = 1


@pytest.mark.parametrize("n", [1, 15])
def test_query_counts_do_not_grow_with_members(client, mona, group, n, django_assert_num_queries):
    members(group, n, prefix=f"m{n}x")
    release = services.release_publish(release=compute(group))
    compute(group)
    client.force_login(mona)
    with django_assert_num_queries(GROUP_PAGE_QUERIES):
        response = client.get(reverse("community:group", args=[group.uuid]))
    assert response.content.decode().count('<th scope="row">') == n
    client.logout()
    with django_assert_num_queries(PUBLIC_PAGE_QUERIES):
        assert (
            client.get(reverse("community:public", args=[release.public_token])).status_code == 200
        )
    with django_assert_num_queries(PUBLIC_PAGE_QUERIES):
        client.get(reverse("community:public_csv", args=[release.public_token]))


def test_member_outcomes_reads_in_four_queries_whatever_the_group_size(group):
    from django.utils import timezone

    from ldn_diary.community.selectors import member_outcomes

    patients = members(group, 6)
    for ids in ([patients[0].pk], [p.pk for p in patients]):
        with CaptureQueriesContext(connection) as ctx:
            outcomes = member_outcomes(ids, today=timezone.now().date())
        assert len(ctx.captured_queries) == 4 and len(outcomes) == len(ids)


def test_the_htmx_releases_list_polls_only_while_computing(client, mona, group):
    services.release_request(group=group, enqueue=False)
    client.force_login(mona)
    url = reverse("community:group", args=[group.uuid])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="releases"')
    assert 'hx-trigger="every 2s"' in fragment and "<h1>" not in fragment
    services.release_compute(release_id=Release.objects.get().pk, random_state=1)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and "Open" in fragment


# --- The command's JSON -----------------------------------------------------------------------------


def test_the_command_prints_exactly_the_documented_json(group, settings):
    settings.SITE_URL = "https://ldn.example.org"
    members(group, 12)
    out = io.StringIO()
    call_command("release_aggregates", "leeds", "--epsilon", "2", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert list(body) == ["group", "release", "epsilon", "budget", "mechanism", "tables"]
    assert body["group"] == "leeds" and uuid.UUID(body["release"])
    assert body["epsilon"] == 2.0 and body["budget"] == {"total": 4.0, "spent": 2.0}
    mechanism = body["mechanism"]
    assert {"name", "library", "count_scale"} <= set(mechanism) and mechanism["name"] == "laplace"
    assert mechanism["library"].startswith("diffprivlib")
    dose = next(q for q in mechanism["queries"] if q["name"] == "dose_bands")
    assert mechanism["count_scale"] == pytest.approx(1 / dose["epsilon"])
    for table in body["tables"]:
        assert list(table) == ["name", "rows"]
        for row in table["rows"]:
            assert list(row) == ["label", "cells"]
            for value in row["cells"].values():
                assert isinstance(value, int) or value == SMALL_MARK

    out = io.StringIO()
    call_command("release_aggregates", "leeds", "--epsilon", "1", "--publish", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert list(body) == [
        "group",
        "release",
        "epsilon",
        "budget",
        "mechanism",
        "public_url",
        "tables",
    ]
    release = Release.objects.get(uuid=body["release"])
    assert body["public_url"] == f"https://ldn.example.org/groups/r/{release.public_token}/"
    assert body["budget"] == {"total": 4.0, "spent": 3.0}


def test_the_command_refuses_a_bad_epsilon(group):
    with pytest.raises(CommandError, match="ε must be a number"):
        call_command("release_aggregates", "leeds", "--epsilon", "lots", stdout=io.StringIO())
    with pytest.raises(ValidationError):
        services.parse_epsilon("0")


def test_a_spent_budget_leaves_no_compute_button(client, mona, group):
    client.force_login(mona)
    url = reverse("community:group", args=[group.uuid])
    assert "Compute a release" in client.get(url).content.decode()
    compute(group, epsilon=Decimal("4"))
    html = client.get(url).content.decode()
    assert "Compute a release" not in html and "The budget is spent" in html
