"""Import from the page: upload, preview (kept server-side), confirm, all or nothing."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ldn_diary.diary.csvio import COLUMNS
from ldn_diary.diary.models import DiaryEntry, DoseChange
from ldn_diary.diary.views import IMPORT_SESSION_KEY

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
    assert IMPORT_SESSION_KEY not in alice_client.session


def test_a_bad_file_lists_every_problem_and_writes_nothing(alice_client, today):
    text = diary_csv(today).replace(",5,6,4,5,normal,,yes,3,", ",5,66,4,5,normal,,yes,3,", 1)
    response = upload(alice_client, text)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported." in body
    assert "line 22: fatigue must be a whole number from 0 to 10; got &#x27;66&#x27;." in body
    assert IMPORT_SESSION_KEY not in alice_client.session
    assert not DiaryEntry.objects.exists()


def test_confirm_never_trusts_posted_data(alice_client, today):
    upload(alice_client, diary_csv(today))
    # A forged or stale token (or a re-posted preview) imports nothing.
    response = alice_client.post(
        CONFIRM_URL, {"token": "00000000-0000-0000-0000-000000000000"}, follow=True
    )
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
    assert IMPORT_SESSION_KEY not in alice_client.session
    assert alice_client.get(PREVIEW_URL)["Location"] == IMPORT_URL


def test_a_non_utf8_file_is_explained(alice_client):
    response = alice_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("d.csv", "dâte".encode("utf-16"), "text/csv")}
    )
    assert "not UTF-8 text" in response.content.decode()
