"""Help text reaches screen readers: every ``aria-describedby`` on a page names elements that are
on that page, and every field's help text is named by its field. Django (5.0 on) points a field
with help text at ``<id>_helptext``; the templates must give the help that id.

Checked on the pages with the most fields: the entry, the profile, and the dose pages (adding,
and correcting a dose), and on every form of the signup and reminder pages.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from ldn_diary.diary.services import dose_change_add, plan_set


class Ids(HTMLParser):
    """Ids on the page, the ids each element's aria-describedby names, and the help texts."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described: list[tuple[str, list[str]]] = []
        self.helps: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if a.get("aria-describedby"):
            what = f"<{tag} name={a.get('name')} id={a.get('id')}>"
            self.described.append((what, (a["aria-describedby"] or "").split()))
        if "helptext" in (a.get("class") or "").split():
            self.helps.append(a.get("id") or f"(a help text with no id, after {self.described})")


def problems(html: str) -> tuple[list[str], int]:
    page = Ids()
    page.feed(html)
    out = [
        f"{what} names #{ref}, which is not on the page"
        for what, refs in page.described
        for ref in refs
        if ref not in page.ids
    ]
    named = {ref for _, refs in page.described for ref in refs}
    out += [f"help text #{h} is named by no field" for h in page.helps if h not in named]
    return out, len(page.helps)


def test_the_check_catches_the_old_mismatch():
    html = (
        '<input name="dose_mg" id="id_dose_mg" aria-describedby="id_dose_mg_helptext">'
        '<span class="helptext" id="id_dose_mg_help">In mg</span>'
    )
    found, helps = problems(html)
    assert helps == 1
    assert found == [
        "<input name=dose_mg id=id_dose_mg> names #id_dose_mg_helptext, which is not on the page",
        "help text #id_dose_mg_help is named by no field",
    ]


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def page_urls(alice) -> list[str]:
    today = alice.local_today()
    change = dose_change_add(
        patient=alice, effective_date=today - dt.timedelta(days=20), dose_ug=1500
    )
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    return [
        reverse("diary:today"),
        reverse("accounts:profile"),
        reverse("diary:doses"),
        reverse("diary:dose_edit", args=[change.uuid]),
        reverse("diary:treatments"),
        reverse("reminders:settings"),
    ]


def test_every_help_text_on_the_patients_form_pages_is_read_out(alice_client, alice):
    helps = 0
    for url in page_urls(alice):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        found, n = problems(response.content.decode())
        assert found == [], url
        helps += n
    # The dose form's "dose in mg" and "from" help, the profile's, at least.
    assert helps >= 4


def test_help_text_is_read_out_on_a_form_sent_back_with_errors(alice_client, alice):
    page_urls(alice)
    response = alice_client.post(reverse("diary:dose_add"), {"dose_mg": "lots"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode() or "field-error" in response.content.decode()
    found, n = problems(response.content.decode())
    assert found == [] and n >= 1


def test_signup_help_text_is_read_out(client):
    found, _ = problems(client.get(reverse("accounts:signup")).content.decode())
    assert found == []


def test_fields_sent_back_with_errors_name_their_errors(alice_client, alice):
    """Django also points a field with errors at ``<id>_error``: each page gives its errors that
    id (the entry's note, the account deletion's password and box, the reminder time)."""
    from tests.diary.conftest import entry_post

    page_urls(alice)
    today = alice.local_today()
    sent_back = [
        alice_client.post(reverse("diary:entry_save"), entry_post(today, note="x" * 2001)),
        alice_client.post(reverse("accounts:delete"), {"password": ""}),
        alice_client.post(reverse("reminders:settings"), {"remind_at": "25:99", "daily": "on"}),
    ]
    for response in sent_back:
        html = response.content.decode()
        assert response.status_code == 200 and 'aria-invalid="true"' in html, html[:300]
        found, _ = problems(html)
        assert found == [], response.request["PATH_INFO"]
