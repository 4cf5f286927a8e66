"""seed_demo's support group: who contributes, and a published release a newcomer can open."""

from __future__ import annotations

import io

from django.core.management import call_command

from ldn_diary.accounts.models import User
from ldn_diary.community.models import Membership, Release, SupportGroup


def test_the_demo_group_has_a_published_release_without_names(client, db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    group = SupportGroup.objects.get(slug="demo-group")
    assert group.moderator.username == "demo-moderator"
    memberships = Membership.objects.filter(group=group)
    assert memberships.filter(contributing_since__isnull=False).count() == 25
    assert (
        memberships.filter(contributing_since__isnull=True, stopped_contributing_at=None).count()
        == 3
    )
    assert memberships.filter(stopped_contributing_at__isnull=False).count() == 1
    release = Release.objects.get(group=group)
    assert release.is_public and group.epsilon_spent == release.epsilon
    assert f"/groups/r/{release.public_token}/" in out.getvalue()
    html = client.get(f"/groups/r/{release.public_token}/").content.decode()
    for patient in User.objects.filter(username__startswith="demo-patient-"):
        assert patient.username not in html and patient.email not in html
        assert f">{patient.display_name}<" not in html
    # Run again: nothing new, and the link is printed again.
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert Release.objects.count() == 1 and release.public_token in out.getvalue()


def test_a_requested_release_is_computed_by_the_task_once_the_request_commits(
    mona, alice, django_capture_on_commit_callbacks
):
    from ldn_diary.community import services

    group = services.group_create(moderator=mona, name="Queued", slug="queued")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        release = services.release_request(group=group)
        assert Release.objects.get(pk=release.pk).status == "computing"
    assert len(callbacks) == 1
    release.refresh_from_db()
    assert release.status == "ready" and release.results["tables"]
    # The task is idempotent: running it again changes nothing.
    from ldn_diary.community.tasks import compute_release

    before = release.results
    compute_release(release.pk)
    release.refresh_from_db()
    assert release.results == before
