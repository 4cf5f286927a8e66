"""The offline queue's server side: the shell (nothing of anyone's diary in it) and the sync
endpoint (saved, a retry answered as saved, a newer server version answered as a conflict with
both versions, refused values explained, never filed under another account)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse

from ldn_diary.diary.models import DiaryEntry
from ldn_diary.diary.services import dose_change_add, entry_save

SHELL = reverse("diary:entry_shell")
SYNC = reverse("diary:entry_sync")


def queued(patient, **extra) -> dict:
    """What offline.js sends: the entry form's fields and the patient it was saved for."""
    data = {
        "date": patient.local_today().isoformat(),
        "pain": "6", "fatigue": "7", "sleep": "3", "mood": "5", "dreams": "vivid",
        "side_effects": ["headache"], "side_effect_other": "", "dose_taken": "yes",
        "note": "on the bus", "version": "", "request_key": str(uuid.uuid4()),
        "patient": str(patient.uuid),
    }  # fmt: skip
    data.update(extra)
    return data


def test_the_shell_holds_no_diary_data_and_no_token(client, alice):
    dose_change_add(patient=alice, effective_date=alice.local_today(), dose_ug=4500)
    entry_save(patient=alice, date=alice.local_today(), pain=9, fatigue=9, sleep=1, mood=1,
               dreams="nightmares", note="very private", version=None, request_key=uuid.uuid4())  # fmt: skip
    client.force_login(alice)
    body = client.get(SHELL).content.decode()
    assert 'id="offline-entry"' in body and 'data-shell="1"' in body
    for private in ("very private", "4.5 mg", str(alice.uuid), "Alice", "alice@example.org",
                    "csrfmiddlewaretoken"):  # fmt: skip
        assert private not in body, private
    # Nothing chosen but the usual answer to "took the dose".
    assert body.count(" checked") == 1 and 'id="id_dose_taken_0" checked' in body
    assert '"X-CSRFToken": ""' in body
    # The same bytes for another patient: nothing in it is Alice's.
    client.force_login(alice)
    first = client.get(SHELL).content
    from ..conftest import make_user

    other = make_user("zed", "patient")
    client.force_login(other)
    assert client.get(SHELL).content == first


def test_the_entry_page_carries_the_queue_for_its_patient(client, alice):
    client.force_login(alice)
    body = client.get(reverse("diary:today")).content.decode()
    assert f'data-patient="{alice.uuid}"' in body
    assert "Saved on this phone — it will be sent when you are online." in body
    assert 'src="/static/js/offline.js" data-sw="/sw.js"' in body


def test_a_queued_entry_is_saved_and_a_retry_writes_nothing(client, alice):
    client.force_login(alice)
    who = client.get(SYNC).json()
    assert who["patient"] == str(alice.uuid) and who["csrf"]
    data = queued(alice)
    answer = client.post(SYNC, data).json()
    assert answer["status"] == "saved"
    assert answer["summary"] == "Saved for Wednesday 18 Nov: pain 6, fatigue 7, sleep 3, mood 5."
    entry = DiaryEntry.objects.get(patient=alice)
    assert (entry.pain, entry.side_effects, entry.note, entry.version) == (
        6,
        ["headache"],
        "on the bus",
        1,
    )
    # The connection dropped before the answer: the phone sends the same again.
    again = client.post(SYNC, data).json()
    assert again["status"] == "saved" and again["version"] == 1
    assert DiaryEntry.objects.get(patient=alice).version == 1


def test_a_newer_version_on_the_server_is_a_conflict_with_both(client, alice):
    client.force_login(alice)
    entry_save(patient=alice, date=alice.local_today(), pain=2, fatigue=2, sleep=8, mood=8,
               dreams="none", version=None, request_key=uuid.uuid4())  # fmt: skip
    answer = client.post(SYNC, queued(alice)).json()
    assert answer["status"] == "conflict"
    assert answer["server"].startswith("pain 2, fatigue 2, sleep 8, mood 8; dreams none")
    assert answer["local"].startswith("pain 6, fatigue 7, sleep 3, mood 5; dreams vivid")
    assert answer["version"] == 1 and answer["at"] == "10:00"
    assert DiaryEntry.objects.get(patient=alice).pain == 2
    # The patient chose the phone's: sent with the server's version, it replaces it.
    answer = client.post(SYNC, queued(alice, version="1")).json()
    assert answer["status"] == "saved"
    assert DiaryEntry.objects.get(patient=alice).pain == 6


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"pain": "11"}, "Choose a number from 0 to 10 for pain."),
        ({"date": "2026-10-01"}, "more than 14 days ago"),
        ({"date": "2026-11-19"}, "is in the future"),
        ({"dreams": ""}, "Choose how you dreamt"),
    ],
)
def test_refused_values_are_explained_and_nothing_is_written(client, alice, extra, message):
    client.force_login(alice)
    answer = client.post(SYNC, queued(alice, **extra)).json()
    assert answer["status"] == "invalid"
    assert any(message in e for e in answer["errors"]), answer
    assert not DiaryEntry.objects.exists()


def test_an_entry_saved_for_another_account_is_never_filed_here(client, alice, bob):
    client.force_login(bob)
    answer = client.post(SYNC, queued(alice)).json()
    assert answer == {"status": "other_account"}
    assert not DiaryEntry.objects.exists()


@pytest.mark.parametrize("who", ["carol", "dave", "mona"])
def test_other_roles_get_the_wrong_role_page(client, alice, carol, dave, mona, who):
    client.force_login({"carol": carol, "dave": dave, "mona": mona}[who])
    for response in (client.get(SHELL), client.get(SYNC), client.post(SYNC, queued(alice))):
        assert response.status_code == 403  # another role: the wrong-role page
        assert str(alice.uuid).encode() not in response.content
    assert not DiaryEntry.objects.exists()


def test_anonymous_is_sent_to_log_in_and_nothing_is_saved(client, alice):
    for response in (client.get(SHELL), client.get(SYNC), client.post(SYNC, queued(alice))):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not DiaryEntry.objects.exists()


def test_the_sync_needs_the_csrf_token(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(SYNC, queued(alice)).status_code == 403
    token = client.get(SYNC).json()["csrf"]
    response = client.post(SYNC, queued(alice), HTTP_X_CSRFTOKEN=token)
    assert response.json()["status"] == "saved"


def test_a_day_off_ldn_stores_not_asked_whatever_the_shell_sent(client, alice):
    client.force_login(alice)
    client.post(SYNC, queued(alice, date=(alice.local_today() - dt.timedelta(days=1)).isoformat()))
    assert DiaryEntry.objects.get(patient=alice).dose_taken == "na"
