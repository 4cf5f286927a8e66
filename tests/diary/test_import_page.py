"""Import from the page: upload, preview (kept server-side), confirm, all or nothing."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ldn_diary.diary.csvio import COLUMNS
from ldn_diary.diary.models import DiaryEntry, DoseChange, ImportStash

from .conftest import save_entry

IMPORT_URL = reverse("diary:import")
PREVIEW_URL = reverse("diary:import_preview")
CONFIRM_URL = reverse("diary:import_confirm")


def upload(client, text: str, name: str = "diary.csv"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def diary_csv(today: dt.date, *, pain_today: int = 8) -> str:
    lines = [",".join(COLUMNS)]
    for n in range(30, 0, -1):
        day = today - dt.timedelta(days=n)
        dose = "1.5" if n > 10 else "3"
        lines.append(f"{day.isoformat()},5,6,4,5,normal,,yes,{dose},")
    lines.append(f"{today.isoformat()},{pain_today},6,4,5,vivid,vivid_dreams,yes,3,new note")
    return "\r\n".join(lines) + "\r\n"


def test_the_upload_page_documents_the_format(alice_client):
    body = alice_client.get(IMPORT_URL).content.decode()
    assert ",".join(COLUMNS) in body and "other:your text" in body


def test_upload_preview_then_confirm(alice_client, alice, today):
    save_entry(alice, today, pain=2)
    response = upload(alice_client, diary_csv(today))
    assert response.status_code == 302 and response["Location"] == PREVIEW_URL
    assert not DiaryEntry.objects.filter(date__lt=today).exists()  # nothing written yet

    preview = alice_client.get(PREVIEW_URL)
    body = preview.content.decode()
    assert "31 days" in body and "30 new days" in body
    assert "1 day already in your diary that the file <strong>replaces</strong>" in body
    assert "2 dose changes to record" in body
    assert "2/7/3/5" in body and "8/6/4/5" in body  # the replaced day, now and from the file

    token = preview.context["confirm_form"].initial["token"]
    done = alice_client.post(CONFIRM_URL, {"token": token}, follow=True)
    assert "Imported 31 days: 30 new, 1 replaced" in done.content.decode()
    assert DiaryEntry.objects.filter(patient=alice).count() == 31
    assert DiaryEntry.objects.get(patient=alice, date=today).pain == 8
    assert DoseChange.objects.filter(patient=alice).count() == 2
    assert not ImportStash.objects.exists()


def test_a_bad_file_lists_every_problem_and_writes_nothing(alice_client, today):
    text = diary_csv(today).replace(",5,6,4,5,normal,,yes,3,", ",5,66,4,5,normal,,yes,3,", 1)
    response = upload(alice_client, text)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported." in body
    assert "line 22: fatigue must be a whole number from 0 to 10; got &#x27;66&#x27;." in body
    assert not ImportStash.objects.exists()
    assert not DiaryEntry.objects.exists()


def test_confirm_never_trusts_posted_data(alice_client, today):
    upload(alice_client, diary_csv(today))
    # A forged or stale token (or a re-posted preview) imports nothing.
    response = alice_client.post(CONFIRM_URL, {"token": "A" * 43}, follow=True)
    assert "Nothing was imported" in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_confirming_twice_imports_once(alice_client, alice, today):
    upload(alice_client, diary_csv(today))
    token = alice_client.get(PREVIEW_URL).context["confirm_form"].initial["token"]
    alice_client.post(CONFIRM_URL, {"token": token})
    response = alice_client.post(CONFIRM_URL, {"token": token}, follow=True)
    assert "no longer current" in response.content.decode()
    assert DiaryEntry.objects.filter(patient=alice).count() == 31


def test_a_preview_belongs_to_its_session(alice_client, client, bob, today):
    upload(alice_client, diary_csv(today))
    token = alice_client.get(PREVIEW_URL).context["confirm_form"].initial["token"]
    client.force_login(bob)
    client.post(CONFIRM_URL, {"token": token})
    assert not DiaryEntry.objects.exists()


def test_cancel_discards_the_preview(alice_client, today):
    upload(alice_client, diary_csv(today))
    alice_client.post(reverse("diary:import_cancel"))
    assert not ImportStash.objects.exists()
    assert alice_client.get(PREVIEW_URL)["Location"] == IMPORT_URL


def test_a_non_utf8_file_is_explained(alice_client):
    response = alice_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("d.csv", "dâte".encode("utf-16"), "text/csv")}
    )
    assert "not UTF-8 text" in response.content.decode()


# --- The upload waits server-side, for an hour at most ------------------------------------------


def test_an_upload_waits_server_side_and_never_in_the_session(alice_client, alice, today):
    upload(alice_client, diary_csv(today), name="my\x00diary.csv")
    stash = ImportStash.objects.get(patient=alice)
    assert stash.text == diary_csv(today) and stash.name == "mydiary.csv"
    assert len(stash.token) >= 43  # 256 random bits
    session = dict(alice_client.session.items())
    assert "new note" not in repr(session) and stash.token not in repr(session)


def test_a_new_upload_replaces_the_waiting_one(alice_client, alice, today):
    upload(alice_client, diary_csv(today))
    first = alice_client.get(PREVIEW_URL).context["confirm_form"].initial["token"]
    upload(alice_client, diary_csv(today, pain_today=3))
    assert ImportStash.objects.filter(patient=alice).count() == 1
    response = alice_client.post(CONFIRM_URL, {"token": first}, follow=True)
    assert "no longer current" in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_a_preview_expires_after_an_hour(alice_client, alice, today, clock):
    upload(alice_client, diary_csv(today))
    token = alice_client.get(PREVIEW_URL).context["confirm_form"].initial["token"]
    # Looking at it now and then keeps the session alive (it ends after 30 idle minutes).
    for minutes in (25, 25, 9):
        clock.shift(dt.timedelta(minutes=minutes))
        assert alice_client.get(PREVIEW_URL).status_code == 200
    clock.shift(dt.timedelta(minutes=1, seconds=1))
    assert alice_client.get(PREVIEW_URL)["Location"] == IMPORT_URL
    response = alice_client.post(CONFIRM_URL, {"token": token}, follow=True)
    assert "expired" in response.content.decode()
    assert not DiaryEntry.objects.exists()
    assert not ImportStash.objects.exists()  # refused and deleted


def test_the_purge_deletes_only_expired_uploads(alice_client, alice, bob, today, clock):
    from ldn_diary.diary.services import import_stash_put
    from ldn_diary.diary.tasks import purge_import_stashes

    import_stash_put(patient=bob, name="old.csv", text=diary_csv(today))
    clock.shift(dt.timedelta(minutes=30))
    upload(alice_client, diary_csv(today))
    clock.shift(dt.timedelta(minutes=31))
    assert purge_import_stashes.delay().get() == 1
    assert list(ImportStash.objects.values_list("patient", flat=True)) == [alice.pk]


def test_the_purge_runs_on_the_beat_schedule(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-import-stashes"]
    assert schedule["task"] == "ldn_diary.diary.tasks.purge_import_stashes"
    assert schedule["schedule"] <= 15 * 60
