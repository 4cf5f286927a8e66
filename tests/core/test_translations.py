"""Spanish: every patient page and email is translated, and the catalogue is sound.

How the untranslated-string check works: each page (and each email) is rendered twice for the
same seeded patient, once in English and once in Spanish. Its visible text nodes are collected
(no tags, scripts, styles or comments; the offline messages kept in <template> count). A node that reads the same in both languages and holds
an English-looking word (three letters or more) that is not a number, a date, a name from the
seeded data, the brand or a unit, and not on ALLOWED, is a string somebody forgot to translate;
the test lists them all. The catalogue tests fail on a stale .mo (the .po was edited and not
compiled), and on any empty or fuzzy Spanish entry.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from ldn_diary.accounts.models import Role, User
from ldn_diary.accounts.services import profile_update, signup_activate
from ldn_diary.community import services as community
from ldn_diary.diary import rules
from ldn_diary.diary.csvio import parse_diary_csv
from ldn_diary.diary.models import DoseChange, LifeEventKind, Treatment, TreatmentCategory
from ldn_diary.diary.services import (
    ImportResult,
    dose_change_add,
    entry_save,
    life_event_add,
    plan_set,
    treatment_add,
)
from ldn_diary.reminders import messages as reminder_messages
from ldn_diary.reminders import tokens as reminder_tokens
from ldn_diary.reminders.models import ReminderKind
from ldn_diary.reminders.services import reminder_settings_save
from ldn_diary.trends.charts import EventMark, TreatmentMark, context_lane, history_figure
from tests.conftest import PASSWORD, make_user

LOCALE = Path(settings.BASE_DIR) / "locale"
SEEDED_WORDS = {"Rosa", "rosa", "Mona", "Naproxen", "Pregabalin", "Tuesday", "Dreamy"}
# Text that is rightly the same in both languages: the brand, units, the CSV file's own column
# names and header (the import reads them in English whatever the page's language), and names
# of validated instruments.
ALLOWED = {
    "LDN Diary",
    "LDN",
    "date,pain,fatigue,sleep,mood,dreams,side_effects,dose_taken,dose_mg,note",
    "date",
    "pain, fatigue, sleep, mood",
    "dreams",
    "side_effects",
    "dose_taken",
    "dose_mg",
    "note",
    "English",
    "Español",
    "FIQR",
    "ACR 2016",
    "PGIC",
    "Sublingual",
    "Normal",
}
WORD = re.compile(r"[^\W\d_]{3,}")
# Dates and times in either language ("Tue 1 Dec", "1 Dec 2026, 14:30", "mar 1 dic") and doses.
NUMBERISH = re.compile(r"^[\d\s.,:·/–—()+\-%µgm]*$")
# Time zone names in the profile's list (IANA names, the same in every language).
URL = re.compile(r"^https?://\S+$")
TIME_ZONE = re.compile(r"^(UTC|[A-Z][\w\-]*(/[\w\- +]+)+)$")


class _Text(HTMLParser):
    """The visible text nodes of an HTML page, stripped, without scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # The time zone list is IANA names, the same in every language.
        if tag in ("script", "style", "title") or (
            tag == "select" and ("name", "time_zone") in attrs
        ):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title", "select") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.nodes.append(text)


def text_nodes(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def untranslated(english: list[str], spanish: list[str]) -> list[str]:
    """Spanish nodes that are also in the English page and still hold an English word."""
    same = set(english) & set(spanish)
    found = []
    for node in sorted(same):
        if node in ALLOWED or NUMBERISH.match(node) or TIME_ZONE.match(node) or URL.match(node):
            continue
        if _is_instrument_text(node):
            continue
        words = [w for w in WORD.findall(node) if w not in SEEDED_WORDS and w not in ALLOWED]
        # Month and weekday abbreviations are dates, whichever language printed them.
        words = [w for w in words if not _is_date_word(w)]
        if words:
            found.append(node)
    return found


def _strings_in(value: object, seen: set[int] | None = None) -> set[str]:
    """Every string reachable from a module's tables (dicts, tuples, dataclasses)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return set()
    seen.add(id(value))
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    elif hasattr(value, "__dataclass_fields__"):
        items = [getattr(value, name) for name in value.__dataclass_fields__]
    else:
        return set()
    found: set[str] = set()
    for item in items:
        found |= _strings_in(item, seen)
    return found


def _instrument_text() -> set[str]:
    """The questionnaires' own wording, which stays in English until the licensed validated
    Spanish versions replace it (docs/clinical-rules.md §4, "Languages"); the page says so."""
    from ldn_diary.clinical import questionnaires as clinical
    from ldn_diary.questionnaires import forms, rules

    found: set[str] = set()
    for module in (clinical, rules, forms):
        for name, value in vars(module).items():
            if name.isupper():
                found |= _strings_in(value)
    return {text for text in found if WORD.search(text)}


INSTRUMENT_TEXT = _instrument_text()


def _is_instrument_text(node: str) -> bool:
    core = re.sub(r"^[\d\s.·:]+", "", node).strip()
    return any(core and core in text for text in INSTRUMENT_TEXT)


def _listing(problems: dict[str, list[str]]) -> str:
    return "Untranslated in Spanish:\n" + "\n".join(
        f"  {url}: {node!r}" for url, nodes in problems.items() for node in nodes
    )


def _is_date_word(word: str) -> bool:
    from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR

    names = set()
    for lang in ("en-gb", "es"):
        with translation.override(lang):
            for table in (MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR):
                names.update(str(v).lower() for v in table.values())
    return word.lower() in names


# --- The seeded patient ----------------------------------------------------------------------


@pytest.fixture
def rosa(db) -> User:
    """A patient with something on every page: a diary, doses and a plan, another treatment, a
    flare, reminders, a support group she contributes to."""
    user = make_user("rosa", Role.PATIENT, display_name="Rosa", time_zone="America/Chicago")
    today = user.local_today()
    dose_change_add(patient=user, effective_date=today - dt.timedelta(days=40), dose_ug=1500)
    dose_change_add(patient=user, effective_date=today - dt.timedelta(days=20), dose_ug=3000)
    plan_set(patient=user, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    for back in (1, 2, 3, 5, 8):
        entry_save(
            patient=user,
            date=today - dt.timedelta(days=back),
            pain=5,
            fatigue=6,
            sleep=4,
            mood=5,
            dreams="vivid",
            side_effects=["headache"],
            note="Dreamy",
            version=None,
            request_key=None,
        )
    treatment_add(
        patient=user,
        name="Pregabalin",
        category=TreatmentCategory.GABAPENTINOID,
        start_date=today - dt.timedelta(days=60),
    )
    life_event_add(patient=user, date=today - dt.timedelta(days=4), kind=LifeEventKind.FLARE)
    reminder_settings_save(patient=user, remind_at=dt.time(20, 0), daily=True, titration=True)
    mona = make_user("mona", Role.MODERATOR, display_name="Mona")
    group = community.group_create(moderator=mona, name="Mona")
    membership, _created = community.membership_join(patient=user, code=group.join_code)
    community.membership_agree(patient=user, membership_uuid=membership.uuid)
    return user


def patient_urls(user: User) -> list[str]:
    today = user.local_today()
    dose = DoseChange.objects.filter(patient=user).order_by("effective_date").first()
    treatment = Treatment.objects.get(patient=user)
    token = reminder_tokens.make(user.uuid, "daily")
    return [
        reverse("diary:today"),
        f"{reverse('diary:today')}?date={(today - dt.timedelta(days=4)).isoformat()}",
        reverse("diary:history"),
        reverse("diary:doses"),
        reverse("diary:dose_edit", args=[dose.uuid]),
        reverse("diary:dose_delete", args=[dose.uuid]),
        reverse("diary:treatments"),
        reverse("diary:treatment_edit", args=[treatment.uuid]),
        reverse("diary:treatment_delete", args=[treatment.uuid]),
        reverse("diary:import"),
        reverse("diary:entry_shell"),
        reverse("questionnaires:index"),
        reverse("questionnaires:due"),
        *(
            f"{reverse('questionnaires:fill', args=[code, 4])}?part={part}"
            for code, parts in (("fiqr", 3), ("acr2016", 2), ("pgic", 1))
            for part in range(1, parts + 1)
        ),
        reverse("questionnaires:fill", args=["fiqr", 0]),
        reverse("reminders:settings"),
        reverse("reminders:unsubscribe", args=[token]),
        reverse("reminders:unsubscribe", args=["damaged"]),
        reverse("accounts:profile"),
        reverse("accounts:delete"),
        reverse("accounts:password_change"),
        reverse("community:home"),
        reverse("community:join"),
        "/no-such-page/",
    ]


ANONYMOUS_URLS = [
    reverse("accounts:login"),
    reverse("accounts:signup"),
    reverse("accounts:signup_sent"),
    reverse("accounts:password_reset"),
    reverse("accounts:password_reset_done"),
    reverse("accounts:activate", args=["MQ", "bad-token"]),
    "/no-such-page/",
]


def _set_language(user: User, language: str) -> None:
    profile_update(
        user=user,
        display_name=user.display_name,
        email=user.email,
        time_zone=user.time_zone,
        language=language,
    )


def _page(client: Client, url: str) -> str:
    # The questionnaire cards are an htmx fragment of the entry page.
    headers = {"HTTP_HX_REQUEST": "true"} if url == reverse("questionnaires:due") else {}
    response = client.get(url, **headers)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    return response.content.decode()


def test_every_patient_page_is_translated(rosa, client, settings):
    settings.DEBUG = False  # the styled 404 page, as in production
    client.force_login(rosa)
    problems = {}
    for url in patient_urls(rosa):
        _set_language(rosa, "en-gb")
        english = text_nodes(_page(client, url))
        _set_language(rosa, "es")
        spanish_page = _page(client, url)
        assert '<html lang="es">' in spanish_page or url == reverse("questionnaires:due"), url
        if found := untranslated(english, text_nodes(spanish_page)):
            problems[url] = found
    assert problems == {}, _listing(problems)


def test_every_signed_out_page_follows_accept_language(client, db, settings):
    settings.DEBUG = False
    problems = {}
    for url in ANONYMOUS_URLS:
        english = text_nodes(_page(client, url))
        spanish_page = client.get(url, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content.decode()
        assert '<html lang="es">' in spanish_page, url
        if found := untranslated(english, text_nodes(spanish_page)):
            problems[url] = found
    assert problems == {}, _listing(problems)


@pytest.mark.parametrize("kind", [ReminderKind.DAILY, ReminderKind.TITRATION, ReminderKind.STOPPED])
def test_every_reminder_is_translated_for_a_spanish_patient(rosa, kind):
    date = rosa.local_today()

    def build(language: str) -> reminder_messages.Message:
        _set_language(rosa, language)
        rosa.refresh_from_db()
        return reminder_messages.build(patient=rosa, kind=kind, date=date, dose_ug=4500)

    english, spanish = build("en-gb"), build("es")
    assert untranslated(text_nodes(english.html), text_nodes(spanish.html)) == []
    for part in ("subject", "text"):
        en_lines = [line.strip() for line in getattr(english, part).splitlines() if line.strip()]
        es_lines = [line.strip() for line in getattr(spanish, part).splitlines() if line.strip()]
        assert untranslated(en_lines, es_lines) == [], part
    assert untranslated([english.push["body"]], [spanish.push["body"]]) == []
    assert '<html lang="es">' in spanish.html
    if kind == ReminderKind.TITRATION:
        # Numbers follow the locale: 4,5 mg in Spanish, 4.5 mg in English.
        assert "4,5 mg" in spanish.text and "4.5 mg" in english.text


def test_a_reminder_goes_out_in_the_patients_language_whatever_is_active(rosa):
    _set_language(rosa, "es")
    rosa.refresh_from_db()
    with translation.override("en-gb"):
        message = reminder_messages.build(
            patient=rosa, kind=ReminderKind.DAILY, date=rosa.local_today(), dose_ug=None
        )
        # build() leaves the caller's language active afterwards.
        assert translation.get_language() == "en-gb"
    assert "todavía no está registrado" in message.subject


def _account_emails(client: Client, language_header: str) -> list[str]:
    """Sign-up (activation), sign-up again (already registered), a taken username, a reset."""
    mail.outbox.clear()
    form = {
        "username": "newpatient",
        "email": "new@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "time_zone": "America/Chicago",
    }
    headers = {"HTTP_ACCEPT_LANGUAGE": language_header}
    client.post(reverse("accounts:signup"), form, **headers)
    User.objects.filter(username="newpatient").update(
        is_active=True, last_login=dt.datetime.now(dt.UTC)
    )
    client.post(reverse("accounts:signup"), form, **headers)
    client.post(reverse("accounts:signup"), {**form, "email": "other@example.org"}, **headers)
    client.post(reverse("accounts:password_reset"), {"email": "new@example.org"}, **headers)
    return [f"{m.subject}\n{m.body}" for m in mail.outbox]


def test_the_account_emails_are_translated(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    english = _account_emails(Client(), "en-GB")
    User.objects.filter(username="newpatient").delete()
    spanish = _account_emails(Client(), "es-MX")
    assert len(english) == len(spanish) == 4
    for en, es in zip(english, spanish, strict=True):
        en_lines = [line.strip() for line in en.splitlines() if line.strip()]
        es_lines = [line.strip() for line in es.splitlines() if line.strip()]
        assert untranslated(en_lines, es_lines) == [], es


def test_a_patient_who_signed_up_in_spanish_keeps_spanish_in_every_email(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = Client()
    form = {
        "username": "lupe",
        "email": "lupe@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "time_zone": "America/Chicago",
    }
    client.post(reverse("accounts:signup"), form, HTTP_ACCEPT_LANGUAGE="es")
    lupe = User.objects.get(username="lupe")
    assert lupe.language == "es"
    signup_activate(user=lupe)
    mail.outbox.clear()
    # A reset asked for from an English browser still goes out in her language.
    client.post(
        reverse("accounts:password_reset"), {"email": "lupe@example.org"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Alguien pidió restablecer la contraseña" in mail.outbox[0].body


# --- The history chart ------------------------------------------------------------------------
# Its words are in the figure's JSON (drawn by plotly.js in a <script>, which the page check
# above skips): trace names, hover templates, panel titles, window and baseline labels.


def chart_words(figure: dict) -> list[str]:
    """Every text of a plotly figure a patient can read, with plotly's placeholders removed."""
    layout = figure["layout"]
    texts = [t.get("name", "") for t in figure["data"]]
    texts += [t.get("hovertemplate", "") for t in figure["data"]]
    texts += [a.get("text", "") for a in layout.get("annotations", [])]
    texts += [s.get("name", "") for s in layout.get("shapes", [])]
    texts += [s.get("label", {}).get("text", "") for s in layout.get("shapes", [])]
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            texts += [str(t) for t in axis.get("ticktext", [])]
            texts.append(str(axis.get("title", {}).get("text", "")))
    cleaned = (re.sub(r"%\{[^}]*\}|<extra></extra>", " ", text) for text in texts)
    return [" ".join(text.split()) for text in cleaned if text.strip()]


def _history_figure(client: Client) -> dict:
    page = client.get(reverse("diary:history")).content.decode()
    found = re.search(
        r'<script id="history-fig" type="application/json">(.*?)</script>', page, re.S
    )
    assert found, "the history page has no chart"
    return json.loads(found.group(1))


def test_the_history_chart_speaks_spanish(rosa, client):
    client.force_login(rosa)
    _set_language(rosa, "en-gb")
    english = chart_words(_history_figure(client))
    _set_language(rosa, "es")
    spanish = chart_words(_history_figure(client))
    assert "Pain 0–10, lower is better" in english  # the check reads the words it should
    assert untranslated(english, spanish) == []
    assert "Dolor 0–10, menos es mejor" in spanish


def test_every_word_of_the_history_chart_is_translated():
    """The parts rosa's page does not reach: baselines and pain's thresholds, every week window,
    a stopped treatment, both kinds of event, and the note naming treatments beyond the lane's
    rows."""
    today = dt.date(2026, 11, 18)
    start = today - dt.timedelta(days=83)
    treatments = [
        TreatmentMark(f"Pregabalin {n}", "Other", today - dt.timedelta(days=60 - n), None)
        for n in range(5)
    ] + [TreatmentMark("Naproxen", "NSAID", start, today - dt.timedelta(days=3))]
    events = [
        EventMark(today - dt.timedelta(days=4), LifeEventKind.FLARE),
        EventMark(today - dt.timedelta(days=9), LifeEventKind.LIFE_EVENT),
    ]

    def build(language: str) -> list[str]:
        with translation.override(language):
            return chart_words(
                history_figure(
                    [],
                    [],
                    [],
                    start,
                    today,
                    treatments,
                    events,
                    baseline={"pain": 7.0, "fatigue": 6.0, "sleep": 4.0, "mood": 5.0},
                    therapy_start=today - dt.timedelta(days=84),
                )
            )

    english, spanish = build("en-gb"), build("es")
    for word in ("wk 4", "wk 12", "Pain baseline", "baseline 7.0", "Flare", "Life event"):
        assert word in english, word
    assert any(text.startswith("Also: ") for text in english)
    assert untranslated(english, spanish) == []
    assert "línea base 7,0" in spanish


def test_the_history_charts_months_are_in_the_patients_language():
    # Written by the server: plotly.js would write "1 Dec" and "1 Jan" whatever the language.
    end = dt.date(2027, 1, 10)
    with translation.override("es"):
        figure = history_figure([], [], [], end - dt.timedelta(days=83), end)
    assert figure["layout"]["xaxis"]["ticktext"] == ["1 Nov", "1 Dic", "1 Ene"]
    with translation.override("en-gb"):
        figure = history_figure([], [], [], end - dt.timedelta(days=83), end)
    assert figure["layout"]["xaxis"]["ticktext"] == ["1 Nov", "1 Dec", "1 Jan"]


def test_the_clinicians_chart_stays_english_after_a_spanish_patients_chart(alice, carol, client):
    """Same thread, one request after the other: the patient's Spanish does not carry over."""
    _set_language(alice, "es")
    today = alice.local_today()
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=30), dose_ug=1500)
    treatment_add(
        patient=alice,
        name="Naproxen",
        category=TreatmentCategory.ANALGESIC,
        start_date=today - dt.timedelta(days=20),
    )
    life_event_add(patient=alice, date=today - dt.timedelta(days=4), kind=LifeEventKind.FLARE)
    client.force_login(alice)
    assert "Crisis" in chart_words(_history_figure(client))
    client.force_login(carol)
    page = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    found = re.search(r'<script id="timeline-figure" type="application/json">(.*?)</script>', page)
    assert found, "the clinician's page has no chart"
    words = chart_words(json.loads(found.group(1)))
    assert "Flare" in words and "Crisis" not in words
    assert not [w for w in words if re.search(r"ahora|desde|Otros tratamientos|Dolor", w)], words


def test_the_clinicians_lane_stays_english_whatever_language_is_active():
    """The treatment and event lane is shared with the clinician's chart, which is English."""
    today = dt.date(2026, 11, 18)
    with translation.override("es"):
        lane = context_lane(
            [TreatmentMark("Naproxen", "NSAID", today - dt.timedelta(days=9), None)],
            [EventMark(today - dt.timedelta(days=4), LifeEventKind.FLARE)],
            x=lambda d: d.isoformat(),
            first=today - dt.timedelta(days=30),
            last=today,
        )
    assert [t.name for t in lane.traces] == ["Flare", "Other treatments"]
    assert lane.traces[1].hovertemplate.endswith(" to now<extra></extra>")


# --- Messages built in Python: the import's, the diary rules', the field-naming ones ------------
# They are not on the seeded pages (rosa's data has no mistakes), so each is made here, in both
# languages. A Spanish message may quote the file's own column names and values (English on
# purpose), so it is checked for English sentence words rather than compared whole.

ENGLISH_WORDS = {
    "the", "is", "are", "must", "got", "line", "file", "remove", "with", "and", "before", "future",
    "enter", "keep", "choose", "from", "has", "have", "expected", "fields", "only", "empty",
    "already", "write", "this", "not", "valid", "was", "nothing", "imported", "day", "days",
    "characters", "needs", "split", "unknown", "record", "stop", "start", "note", "name",
    "date", "contains", "which", "cannot", "you", "your", "new", "replaced", "same", "change",
    "recorded", "speak", "prescriber", "opioid", "opioids", "taking", "leave", "without", "at",
    "most", "least", "typed", "choices", "pick", "those", "shown", "required", "field",
}  # fmt: skip
# The file's column names and values, quoted in messages as the file has them.
FILE_WORDS = {"date", "pain", "dreams", "side_effects", "dose_taken", "dose_mg", "other", "none",
              "normal", "vivid", "nightmares", "yes", "partly", "no", "your", "text", "wild",
              "dizzy", "sometimes", "day"}  # fmt: skip


def english_in(message: str) -> list[str]:
    """The English sentence words in ``message``, outside quotes and the file's own words."""
    unquoted = re.sub(r"'[^']*'|“[^”]*”", " ", message)
    unquoted = unquoted.replace("other:your text", " ").replace(HEADER, " ")
    words = re.findall(r"[A-Za-z_]+", unquoted)
    return [w for w in words if w.lower() in ENGLISH_WORDS and w not in FILE_WORDS]


HEADER = "date,pain,fatigue,sleep,mood,dreams,side_effects,dose_taken,dose_mg,note"
BAD_FILES = [
    b"",
    b"date,pain\r\n",
    "date,pain".encode("utf-16"),
    b"x" * 3_000_001,
    *(
        (HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()
        for rows in (
            [],
            [
                "2026-02-30,5,6,4,5,none,,yes,1.5,",
                "2026-11-25,5,6,4,5,none,,yes,1.5,",
                "1800-01-01,5,6,4,5,none,,yes,1.5,",
                "2026-11-01,12,6,4,5,wild,dizzy,sometimes,60,",
                "2026-11-02,5,6,4,5,none,,yes,1.5",
                "2026-11-03,5,6,4,5,none,other:" + "x" * 300 + ",yes,1.5," + "y" * 2100,
                "2026-11-04,5,6,4,5,none,,yes,1.5,a\x00b",
            ],
            ["2026-11-01,5,6,4,5,none,,yes,1.5,", "2026-11-01,5,6,4,5,none,,yes,1.5,"],
            ["2026-11-01,5,6,4,5,none,,yes,1.5,", "2026-11-02,5,6,4,5,none,,yes,,"],
        )
    ),
]


@pytest.mark.parametrize("data", BAD_FILES, ids=range(len(BAD_FILES)))
def test_every_import_error_is_translated(data):
    today = dt.date(2026, 11, 24)
    with translation.override("en-gb"):
        english = parse_diary_csv(data, today=today).errors
    with translation.override("es"):
        spanish = parse_diary_csv(data, today=today).errors
    assert english and len(spanish) == len(english)
    assert [m for m in english if english_in(m)], "the check reads English"
    assert {m: english_in(m) for m in spanish if english_in(m)} == {}


def test_every_diary_rule_message_is_translated():
    today = dt.date(2026, 11, 24)
    future, ancient = today + dt.timedelta(days=3), dt.date(1800, 1, 1)

    def messages() -> list[str]:
        found = [
            rules.entry_date_problem(future, today),
            rules.entry_date_problem(today - dt.timedelta(days=60), today),
            rules.dose_date_problem(future, today),
            rules.dose_date_problem(ancient, today),
            rules.import_date_problem(future, today),
            rules.opioid_warning(["Tramadol"]),
            ImportResult(created=1, updated=2, unchanged=0, dose_changes=1).summary(),
            ImportResult(created=2, updated=0, unchanged=1, dose_changes=2).summary(),
        ]
        _values, entry = rules.check_entry(
            pain=12,
            fatigue="x",
            sleep=4,
            mood=5,
            dreams="wild",
            side_effects=["dizzy"],
            side_effect_other="x" * 300,
            dose_taken="sometimes",
            note="y" * 2100,
        )
        _values, nul = rules.check_entry(
            pain=1, fatigue=1, sleep=1, mood=1, dreams="none", side_effects=[],
            side_effect_other="a\x00", dose_taken="yes", note="b\x00",
        )  # fmt: skip
        found += [*entry.values(), *nul.values()]
        found += rules.dose_choice_problems(
            time_of_day="noon", formulation="gas", note="z" * 600
        ).values()
        found += rules.dose_choice_problems(
            time_of_day="bedtime", formulation="capsule", note="a\x00"
        ).values()
        for start, stop, name, note in (
            (future, None, "", "n\x00"),
            (ancient, ancient, "x" * 101, "n" * 501),
            (today, today - dt.timedelta(days=2), "a\x00", ""),
            (today - dt.timedelta(days=2), future, "Tramadol", ""),
        ):
            found += rules.treatment_problems(
                name=name, category="nope", start_date=start, stop_date=stop, note=note,
                today=today,
            ).values()  # fmt: skip
        for date, text in ((future, "t" * 201), (ancient, "a\x00")):
            found += rules.life_event_problems(
                date=date, kind="nope", text=text, today=today
            ).values()
        return [m for m in found if m]

    with translation.override("en-gb"):
        english = messages()
    with translation.override("es"):
        spanish = messages()
    assert len(english) == len(spanish) > 30
    assert all(english_in(m) for m in english if "LDN" not in m or "opioid" in m)
    assert {m: english_in(m) for m in spanish if english_in(m)} == {}


def test_djangos_own_messages_name_their_field_in_spanish(rosa, client):
    # The profile form: Django's too-long message, in Spanish, starts with the field's label.
    _set_language(rosa, "es")
    client.force_login(rosa)

    def display_name_errors(display_name: str) -> list[str]:
        form = {
            "display_name": display_name,
            "email": rosa.email,
            "language": "es",
            "time_zone": rosa.time_zone,
        }
        response = client.post(reverse("accounts:profile"), form)
        return response.context["form"].errors["display_name"]

    assert display_name_errors("x" * 200) == [
        "Nombre que se muestra: como máximo 80 caracteres (escribió 200)."
    ]
    rosa.refresh_from_db()
    assert rosa.display_name == "Rosa"  # nothing saved is lost


def test_the_time_zone_groups_are_translated(client, db):
    page = client.get(reverse("accounts:signup"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    groups = re.findall(r'<optgroup label="([^"]+)">', page)
    assert groups[0] == "Zonas horarias frecuentes"
    assert {"África", "Europa", "Pacífico", "EE. UU."} <= set(groups)
    # In Spanish alphabetical order, accents aside; "Otro" (zones without a region) last.
    regions = groups[1:]
    assert regions.index("Antártida") < regions.index("Ártico") < regions.index("Asia")
    assert regions[-1] == "Otro"


# --- Language choice -------------------------------------------------------------------------


def test_the_profile_language_wins_over_accept_language(rosa, client):
    client.force_login(rosa)
    response = client.get(reverse("diary:today"), HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="en-gb">' in response.content.decode()
    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Rosa",
            "email": rosa.email,
            "language": "es",
            "time_zone": rosa.time_zone,
        },
        follow=True,
    )
    # The confirmation is already in the new language.
    assert "Perfil guardado." in response.content.decode()
    rosa.refresh_from_db()
    assert rosa.language == "es"
    page = client.get(reverse("diary:today"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in page
    assert "Guardar el día de hoy" in page


def test_the_profile_refuses_a_language_we_do_not_have_and_keeps_the_old(rosa, client):
    client.force_login(rosa)
    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Rosa",
            "email": rosa.email,
            "language": "xx",
            "time_zone": rosa.time_zone,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["language"]
    rosa.refresh_from_db()
    assert rosa.language == "en-gb"


def test_the_signed_out_switcher_sets_the_language(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    assert 'name="language" value="es"' in page
    response = client.post(
        reverse("set_language"), {"language": "es", "next": reverse("accounts:login")}
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="es">' in page
    assert 'name="language" value="en-gb"' in page


def test_dates_and_doses_follow_the_locale(rosa, client):
    _set_language(rosa, "es")
    client.force_login(rosa)
    page = client.get(reverse("diary:doses")).content.decode()
    assert "3 mg" in page and "1,5 mg" in page
    assert "1.5 mg" not in page


# --- The catalogue ---------------------------------------------------------------------------


def catalogues() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def test_there_is_a_spanish_catalogue():
    assert LOCALE / "es" / "LC_MESSAGES" / "django.po" in catalogues()


@pytest.mark.parametrize("po_path", catalogues(), ids=lambda p: str(p.relative_to(LOCALE)))
def test_the_catalogue_is_complete(po_path):
    catalogue = polib.pofile(str(po_path))
    empty = [e.msgid for e in catalogue if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in catalogue if "fuzzy" in e.flags]
    assert empty == [], f"untranslated entries in {po_path}"
    assert fuzzy == [], f"fuzzy entries in {po_path}"
    assert not catalogue.metadata_is_fuzzy


@pytest.mark.parametrize("po_path", catalogues(), ids=lambda p: str(p.relative_to(LOCALE)))
def test_the_compiled_catalogue_matches_its_source(po_path):
    """The committed .mo holds exactly the .po's translations: run compilemessages after editing
    the .po (README "Languages")."""
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run compilemessages"
    source = {
        (e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural))
        for e in polib.pofile(str(po_path))
        if e.translated()
    }
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural))
        for e in polib.mofile(str(mo_path))
        if e.msgid
    }
    stale = sorted(key[1] for key in source.keys() ^ compiled.keys())
    stale += sorted(
        key[1] for key in source.keys() & compiled.keys() if source[key] != compiled[key]
    )
    assert stale == [], f"{mo_path} is stale: run compilemessages"


def test_a_request_leaves_no_language_behind(rosa, client, settings):
    """Without LanguageResetMiddleware the thread kept Spanish after the request, and a clinician
    summary computed next in it said "2 horas ago"."""
    _set_language(rosa, "es")
    client.force_login(rosa)
    assert '<html lang="es">' in client.get(reverse("diary:today")).content.decode()
    assert translation.get_language() == settings.LANGUAGE_CODE
