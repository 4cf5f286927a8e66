"""Only patients use these pages, and only on their own data. Clinicians, moderators and
visitors are refused; a clinician reads a diary through the clinic app instead."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from ldn_diary.diary.models import DiaryEntry, DoseChange
from ldn_diary.diary.services import dose_change_add

from .conftest import entry_post, save_entry

PAGES = [
    ("get", "diary:today", []),
    ("get", "diary:history", []),
    ("get", "diary:doses", []),
    ("get", "diary:export", []),
    ("get", "diary:import", []),
    ("get", "diary:import_preview", []),
    ("post", "diary:entry_save", []),
    ("post", "diary:dose_add", []),
    ("post", "diary:dose_stop", []),
    ("post", "diary:plan", []),
    ("post", "diary:plan_clear", []),
    ("post", "diary:plan_confirm", []),
    ("post", "diary:import_confirm", []),
    ("post", "diary:import_cancel", []),
    ("get", "diary:dose_edit", ["code"]),
    ("post", "diary:dose_delete", ["code"]),
]


def _url(name: str, args: list[str], code: uuid.UUID) -> str:
    return reverse(name, args=[code] if args else [])


@pytest.mark.parametrize(("method", "name", "args"), PAGES)
@pytest.mark.parametrize("who", ["carol", "dave", "mona"])
def test_clinicians_and_moderators_get_the_wrong_role_page(
    request, client, alice, today, method, name, args, who
):
    # 403 with a page saying whose page it is, before any object is looked up, so
    # it is the same whether the named dose change exists or not; nothing is read or written.
    save_entry(alice, today, note="alice private")
    change = dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    client.force_login(request.getfixturevalue(who))
    response = getattr(client, method)(_url(name, args, change.uuid), entry_post(today))
    assert response.status_code == 403
    assert b"This page is for patients" in response.content
    assert b"alice private" not in response.content
    assert DiaryEntry.objects.count() == 1 and DoseChange.objects.count() == 1


@pytest.mark.parametrize(("method", "name", "args"), PAGES[:3])
def test_visitors_are_sent_to_log_in(client, method, name, args):
    response = getattr(client, method)(_url(name, args, uuid.uuid4()))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_export_holds_only_her_own_days(alice_client, alice, bob, today):
    save_entry(alice, today, note="hers")
    save_entry(bob, today, note="his")
    body = b"".join(alice_client.get(reverse("diary:export")).streaming_content)
    assert b"hers" in body and b"his" not in body


def test_csrf_is_required(alice, today):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = strict.post(reverse("diary:entry_save"), entry_post(today))
    assert response.status_code == 403
    assert not DiaryEntry.objects.exists()
