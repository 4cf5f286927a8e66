"""The authorization matrix: every URL pattern of the project x every kind of user x the methods
the URL accepts, each with its expected outcome, and no health data in any refused response.

The users: anonymous, patient A (Alice, who owns every object named in a URL below), patient B
(Bob), A's clinician (Carol), an unlinked clinician (Dave), a clinician whose link A revoked
(Rhea), the support-group moderator (Mona, A is in her group) and an administrator (a superuser
made as ``createsuperuser`` makes one, so with the model's default role, patient).

Each cell runs in a transaction that is rolled back, so a POST that changes something (a
revocation, a deletion) leaves the next cell the same world.

READ THIS WHEN YOU ADD A URL: ``test_every_url_pattern_has_a_row`` fails until MATRIX (or, for
Django's admin, ADMIN_URLS) has a row for it, with the outcome for each user and method.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ldn_diary.accounts.models import Role, User
from ldn_diary.clinic.models import CareLink
from ldn_diary.clinic.services import invite_create, link_grant, link_revoke
from ldn_diary.community import services as community
from ldn_diary.diary.services import (
    dose_change_add,
    entry_save,
    import_stash_put,
    life_event_add,
    treatment_add,
)
from ldn_diary.reminders import tokens as reminder_tokens
from ldn_diary.reminders.services import push_device_add
from tests.conftest import PASSWORD, _default_instant, make_user

SECRET_NOTE = "matrix-secret-note-5e0b"
# What A shares with her clinicians (the context of other treatments and life events): it may
# reach A and her linked clinician, nobody else.
SHARED_NOTE = "matrix-shared-context-7c1d"
ALICE_NAME = "Alice Quillfeather"

ANON, A, B, CLIN, DAVE, REVOKED, MOD, ADMIN = (
    "anonymous", "patient_a", "patient_b", "clinician_a", "clinician_unlinked",
    "clinician_revoked", "moderator", "admin",
)  # fmt: skip
ROLES = (ANON, A, B, CLIN, DAVE, REVOKED, MOD, ADMIN)
CLINICIANS = (CLIN, DAVE, REVOKED)
PATIENTS = (A, B, ADMIN)  # the superuser has the default role, patient (see the docstring)


@dataclass(frozen=True)
class To:
    """A redirect (302) to a URL starting with ``prefix`` (a URL name or a path)."""

    prefix: str

    def url(self) -> str:
        return self.prefix if self.prefix.startswith("/") else reverse(self.prefix)


LOGIN = To("accounts:login")
Outcome = int | To
Cells = dict[str, Outcome]


def cells(default: Outcome, **by_role: Outcome) -> Cells:
    """Every role's outcome: ``default`` unless named (anon, a, b, clin, dave, revoked, mod,
    admin, or patients / clinicians for the groups)."""
    names = {
        "anon": (ANON,), "a": (A,), "b": (B,), "clin": (CLIN,), "dave": (DAVE,),
        "revoked": (REVOKED,), "mod": (MOD,), "admin": (ADMIN,), "patients": PATIENTS,
        "clinicians": CLINICIANS, "users": (A, B, CLIN, DAVE, REVOKED, MOD, ADMIN),
    }  # fmt: skip
    out: Cells = dict.fromkeys(ROLES, default)
    # Groups first, single roles after, whatever the order they were given in.
    for key in sorted(by_role, key=lambda k: len(names[k]) == 1):
        for role in names[key]:
            out[role] = by_role[key]
    return out


def everyone(outcome: Outcome) -> Cells:
    return cells(outcome)


def patient_page(outcome: Outcome) -> Cells:
    """``accounts.decorators.patient_view``: login, then any patient; another role gets 403
    (``WrongRole``: a page saying it is for patients)."""
    return cells(403, anon=LOGIN, patients=outcome)


def own_object(outcome: Outcome) -> Cells:
    """A page about one of A's own objects: only A; another patient gets the same 404 whether
    the object is missing or not theirs; another role gets 403 before any object is looked up."""
    return cells(403, anon=LOGIN, a=outcome, b=404, admin=404)


def membership_action() -> Cells:
    """A's own group membership (community.views): 404 for everyone else, any role."""
    return cells(404, anon=LOGIN, a=To("community:home"))


def clinician_page(outcome: Outcome) -> Cells:
    """clinic.views._clinician: 403 for any other role."""
    return cells(403, anon=LOGIN, clinicians=outcome)


def moderator_object(outcome: Outcome) -> Cells:
    return cells(404, anon=LOGIN, mod=outcome)


HOME = reverse("home")

# ---------------------------------------------------------------------------------------------
# The table. Adding a URL? Add its row here (or to ADMIN_URLS), with every role's outcome for
# every method it accepts; test_every_url_pattern_has_a_row fails until you do.
# ---------------------------------------------------------------------------------------------
MATRIX: dict[str, dict[str, Cells]] = {
    # core
    "home": {
        "GET": cells(
            200,
            patients=To("diary:today"),
            clinicians=To("clinic:roster"),
            mod=To("community:home"),
            admin=To("admin:index"),
        ),  # fmt: skip
    },
    "healthz": {"GET": everyone(200)},
    # The web app manifest and the service worker: no data, for every browser.
    "manifest": {"GET": everyone(200)},
    "service_worker": {"GET": everyone(200)},
    # Django's language switcher: sets a cookie, shows nothing, sends everyone back home.
    "set_language": {"GET": everyone(To(HOME)), "POST": everyone(To(HOME))},
    # accounts
    "accounts:login": {"GET": cells(To(HOME), anon=200), "POST": cells(To(HOME), anon=200)},
    "accounts:logout": {"POST": everyone(LOGIN)},
    "accounts:signup": {"GET": cells(To(HOME), anon=200), "POST": cells(To(HOME), anon=200)},
    "accounts:signup_sent": {"GET": everyone(200)},
    # A made-up activation link: refused for everyone, and says nothing about any account.
    "accounts:activate": {"GET": everyone(400), "POST": everyone(400)},
    # The second factor is for clinicians, moderators and administrators; patients get 404.
    # (The test sessions count as having just typed the password, so no re-authentication.)
    "accounts:two_factor": {
        "GET": cells(200, anon=LOGIN, a=404, b=404, admin=To("accounts:two_factor_setup")),
        "POST": cells(200, anon=LOGIN, a=404, b=404, admin=To("accounts:two_factor_setup")),
    },
    "accounts:two_factor_setup": {
        "GET": cells(200, anon=LOGIN, a=404, b=404),
        "POST": cells(200, anon=LOGIN, a=404, b=404),
    },
    "accounts:recovery_codes": {"POST": cells(200, anon=LOGIN, a=404, b=404)},
    "accounts:reauth": {"GET": cells(200, anon=LOGIN), "POST": cells(200, anon=LOGIN)},
    "accounts:password_change": {"GET": cells(200, anon=LOGIN), "POST": cells(200, anon=LOGIN)},
    "accounts:password_reset": {"GET": everyone(200), "POST": everyone(200)},
    "accounts:password_reset_done": {"GET": everyone(200)},
    "accounts:password_reset_confirm": {"GET": everyone(200), "POST": everyone(200)},
    "accounts:password_reset_complete": {"GET": everyone(200)},
    "accounts:profile": {"GET": cells(200, anon=LOGIN), "POST": cells(200, anon=LOGIN)},
    "accounts:export_csv": {"GET": patient_page(200)},
    "accounts:export_fhir": {"GET": patient_page(200)},
    "accounts:delete": {"GET": patient_page(200), "POST": patient_page(200)},
    # diary: the patient's own pages
    "diary:today": {"GET": patient_page(200)},
    "diary:entry_save": {"POST": patient_page(200)},
    # The offline shell holds no data; sync says who is signed in and takes queued entries.
    "diary:entry_shell": {"GET": patient_page(200)},
    "diary:entry_sync": {"GET": patient_page(200), "POST": patient_page(200)},
    "diary:doses": {"GET": patient_page(200)},
    "diary:dose_add": {"POST": patient_page(200)},
    "diary:dose_stop": {"POST": patient_page(200)},
    "diary:dose_edit": {"GET": own_object(200), "POST": own_object(200)},
    "diary:dose_delete": {"GET": own_object(200), "POST": own_object(To("diary:doses"))},
    "diary:plan": {"POST": patient_page(200)},
    "diary:plan_clear": {"POST": patient_page(To("diary:doses"))},
    "diary:plan_confirm": {"POST": patient_page(To("diary:doses"))},
    "diary:export": {"GET": patient_page(200)},
    "diary:import": {"GET": patient_page(200), "POST": patient_page(200)},
    # A has an upload waiting; B and the admin have none, and never see A's.
    "diary:import_preview": {
        "GET": cells(403, anon=LOGIN, a=200, b=To("diary:import"), admin=To("diary:import"))
    },  # fmt: skip
    "diary:import_confirm": {"POST": patient_page(To("diary:import"))},
    "diary:import_cancel": {"POST": patient_page(To("diary:history"))},
    "diary:history": {"GET": patient_page(200)},
    "diary:treatments": {"GET": patient_page(200)},
    "diary:treatment_add": {"POST": patient_page(200)},
    "diary:treatment_edit": {"GET": own_object(200), "POST": own_object(200)},
    "diary:treatment_delete": {
        "GET": own_object(200),
        "POST": own_object(To("diary:treatments")),
    },  # fmt: skip
    "diary:event_add": {"POST": patient_page(200)},
    "diary:event_delete": {"GET": own_object(200), "POST": own_object(To("diary:treatments"))},
    "diary:treatments_export": {"GET": patient_page(200)},
    # questionnaires: each patient's own (a URL names no patient: the week-0 FIQR is every
    # patient's own, open before and around the first dose).
    "questionnaires:index": {"GET": patient_page(200)},
    "questionnaires:due": {"GET": patient_page(To("questionnaires:index"))},
    # An empty part is a valid part (every question may be skipped): saved, on to the next.
    "questionnaires:fill": {
        "GET": patient_page(200),
        "POST": patient_page(To("/questionnaires/fiqr/week-0/")),
    },  # fmt: skip
    "questionnaires:dismiss": {"POST": patient_page(To("diary:today"))},
    # reminders: the patient's own; the emailed switch-off link works signed in or not (it
    # names its patient and one purpose, and only ever switches reminders off).
    "reminders:settings": {
        "GET": patient_page(200),
        "POST": patient_page(To("reminders:settings")),
    },  # fmt: skip
    "reminders:push_add": {"POST": patient_page(400)},
    "reminders:push_remove": {"POST": own_object(To("reminders:settings"))},
    "reminders:unsubscribe": {"GET": everyone(200), "POST": everyone(200)},
    # clinic: clinicians, and the patient's consent actions
    "clinic:roster": {"GET": clinician_page(200)},
    "clinic:link": {"GET": clinician_page(200), "POST": clinician_page(200)},
    "clinic:link_code": {"GET": clinician_page(200), "POST": clinician_page(200)},
    "clinic:patient": {"GET": cells(404, anon=LOGIN, clin=200)},
    "clinic:brief": {"GET": cells(404, anon=LOGIN, clin=200)},
    "clinic:note_add": {"POST": cells(404, anon=LOGIN, clin=To("/clinic/p/"))},
    "clinic:followup": {"POST": cells(404, anon=LOGIN, clin=To("/clinic/p/"))},
    "clinic:invite_create": {"POST": patient_page(To("accounts:profile"))},
    "clinic:invite_cancel": {"POST": own_object(To("accounts:profile"))},
    "clinic:link_revoke": {"POST": own_object(To("accounts:profile"))},
    # community: moderators, members, and the public release
    "community:home": {"GET": cells(404, anon=LOGIN, patients=200, mod=200)},
    "community:group_create": {"POST": cells(404, anon=LOGIN, mod=400)},
    "community:group": {"GET": moderator_object(200)},
    "community:code_regenerate": {"POST": moderator_object(To("/groups/g/"))},
    "community:code_close": {"POST": moderator_object(To("/groups/g/"))},
    "community:release_create": {"POST": moderator_object(400)},
    "community:release": {"GET": moderator_object(200)},
    "community:release_publish": {"POST": moderator_object(To("/groups/g/"))},
    "community:release_revoke": {"POST": moderator_object(To("/groups/g/"))},
    "community:join": {
        "GET": cells(404, anon=LOGIN, patients=200),
        "POST": cells(404, anon=LOGIN, patients=200),
    },  # fmt: skip
    "community:join_code": {
        "GET": cells(404, anon=LOGIN, patients=200),
        "POST": cells(404, anon=LOGIN, patients=200),
    },  # fmt: skip
    "community:agree": {"POST": membership_action()},
    "community:stop": {"POST": membership_action()},
    "community:leave": {"POST": membership_action()},
    "community:public": {"GET": everyone(200)},
    "community:public_csv": {"GET": everyone(200)},
}

# Django's admin: every URL under the "admin:" namespace is covered by this group (its own
# permission checks guard them all alike); these representatives are run.
ADMIN_LOGIN = To("admin:login")
ADMIN_ONLY = cells(ADMIN_LOGIN, admin=200)
ADMIN_URLS: dict[str, dict[str, Cells]] = {
    "admin:index": {"GET": ADMIN_ONLY},
    "admin:accounts_user_changelist": {"GET": ADMIN_ONLY},
    "admin:accounts_user_change": {"GET": ADMIN_ONLY},
    "admin:auth_group_changelist": {"GET": ADMIN_ONLY},
    "admin:login": {"GET": cells(200, admin=To("admin:index"))},
}


# --- The world -----------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    kwargs: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def _world_for_the_module(django_db_setup, django_db_blocker):
    """The world, built once per module (per test worker) inside a transaction that is rolled
    back at the end; each test then runs in a savepoint of it (the ``db`` fixture), as Django's
    ``TestCase.setUpTestData`` does. Building it took half of this module's time when every one
    of its 170 tests built it again. The clock stands at the suite's instant while it is built."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(_default_instant(), tick=True),
        transaction.atomic(),
    ):
        yield _build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(_world_for_the_module, db) -> World:
    return _world_for_the_module


def _build_world() -> World:
    alice = make_user("alice", Role.PATIENT, display_name=ALICE_NAME)
    bob = make_user("bob", Role.PATIENT, display_name="Bob")
    carol = make_user("carol", Role.CLINICIAN, display_name="Dr Carol")
    dave = make_user("dave", Role.CLINICIAN, display_name="Dr Dave")
    rhea = make_user("rhea", Role.CLINICIAN, display_name="Dr Rhea")
    mona = make_user("mona", Role.MODERATOR, display_name="Mona")
    root = User.objects.create_superuser("root", "root@example.org", PASSWORD)

    link = link_grant(patient=alice, clinician=carol)
    link_revoke(link=link_grant(patient=alice, clinician=rhea))
    today = alice.local_today()
    for n in range(3):
        entry_save(
            patient=alice, date=today - dt.timedelta(days=n), pain=6, fatigue=5, sleep=4,
            mood=5, dreams="vivid", side_effects=["headache"], dose_taken="yes",
            note=SECRET_NOTE, version=None, request_key=None,
        )  # fmt: skip
    change = dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    invite = invite_create(patient=alice)
    treatment = treatment_add(
        patient=alice, name="Pregabalin", category="gabapentinoid", start_date=today,
        note=SHARED_NOTE,
    )  # fmt: skip
    event = life_event_add(patient=alice, date=today, kind="flare", text=SHARED_NOTE)
    device = push_device_add(
        patient=alice, endpoint="https://push.example.org/send/matrix", p256dh="k", auth="a"
    )
    import_stash_put(patient=alice, name="d.csv", text=f"date,...\r\n{SECRET_NOTE}\r\n")
    group = community.group_create(moderator=mona, name="Leeds", slug="leeds")
    membership, _ = community.membership_join(patient=alice, code=group.join_code)
    community.membership_agree(patient=alice, membership_uuid=membership.uuid)
    release = community.release_request(group=group, enqueue=False)
    community.release_compute(release_id=release.pk)
    release = community.release_publish(release=release)

    group_kw = {"group_uuid": group.uuid}
    release_kw = {**group_kw, "release_uuid": release.uuid}
    return World(
        users={
            ANON: None,
            A: alice,
            B: bob,
            CLIN: carol,
            DAVE: dave,
            REVOKED: rhea,
            MOD: mona,
            ADMIN: root,
        },  # fmt: skip
        kwargs={
            "accounts:password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
            "accounts:activate": {"uidb64": "MQ", "token": "made-up-token"},
            "diary:dose_edit": {"code": change.uuid},
            "diary:dose_delete": {"code": change.uuid},
            "diary:treatment_edit": {"code": treatment.uuid},
            "diary:treatment_delete": {"code": treatment.uuid},
            "diary:event_delete": {"code": event.uuid},
            "reminders:push_remove": {"code": device.uuid},
            "reminders:unsubscribe": {"token": reminder_tokens.make(alice.uuid, "daily")},
            "questionnaires:fill": {"instrument": "fiqr", "week": 0},
            "questionnaires:dismiss": {"instrument": "fiqr", "week": 0},
            "clinic:link_code": {"code": "ABCD2345"},
            "clinic:patient": {"patient_uuid": alice.uuid},
            "clinic:brief": {"patient_uuid": alice.uuid},
            "clinic:note_add": {"patient_uuid": alice.uuid},
            "clinic:followup": {"patient_uuid": alice.uuid},
            "clinic:invite_cancel": {"invite_uuid": invite.uuid},
            "clinic:link_revoke": {"link_uuid": CareLink.objects.get(pk=link.pk).uuid},
            "community:group": group_kw,
            "community:code_regenerate": group_kw,
            "community:code_close": group_kw,
            "community:release_create": group_kw,
            "community:release": release_kw,
            "community:release_publish": release_kw,
            "community:release_revoke": release_kw,
            "community:join_code": {"code": "ABCD2345"},
            "community:agree": {"membership_uuid": membership.uuid},
            "community:stop": {"membership_uuid": membership.uuid},
            "community:leave": {"membership_uuid": membership.uuid},
            "community:public": {"token": release.public_token},
            "community:public_csv": {"token": release.public_token},
            "admin:accounts_user_change": {"object_id": alice.pk},
        },
    )


def run_cell(world: World, name: str, method: str, role: str) -> Any:
    """One request, rolled back afterwards; a fresh client that reports a 500 as a 500."""
    url = reverse(name, kwargs=world.kwargs.get(name, {}))
    client = Client(raise_request_exception=False)
    with transaction.atomic():
        cache.clear()
        user = world.users[role]
        if user is not None:
            client.force_login(user)
        response = client.generic(method, url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return response, body.decode("utf-8", "replace")


def check(world: World, name: str, table: dict[str, Cells]) -> list[str]:
    """Every cell of one URL; returns the cells that did not go as expected."""
    wrong = []
    for method, by_role in table.items():
        for role in ROLES:
            expected = by_role[role]
            response, body = run_cell(world, name, method, role)
            where = f"{name} {method} as {role}"
            if isinstance(expected, To):
                location = response.get("Location", "")
                if response.status_code != 302 or not location.startswith(expected.url()):
                    wrong.append(f"{where}: {response.status_code} {location!r}, not -> {expected}")
            elif response.status_code != expected:
                wrong.append(f"{where}: {response.status_code}, not {expected}")
            # No health data where it does not belong: A's note only ever reaches A, and a
            # refused (or redirected) response names nobody.
            if role != A and SECRET_NOTE in body:
                wrong.append(f"{where}: A's note is in the response")
            if role not in (A, CLIN) and SHARED_NOTE in body:
                wrong.append(f"{where}: what A shares with her clinician is in the response")
            # (A 400 is a form re-rendered for someone allowed in, not a refusal.)
            refused = isinstance(expected, To) or expected in (401, 403, 404, 405)
            if refused and any(text in body for text in (ALICE_NAME, SECRET_NOTE, SHARED_NOTE)):
                wrong.append(f"{where}: a refused response shows A's data")
            if role in (ANON, B, DAVE, REVOKED) and ALICE_NAME in body:
                wrong.append(f"{where}: A's name is shown to {role}")
    return wrong


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_url_answers_each_user_as_the_matrix_says(world, name):
    assert check(world, name, MATRIX[name]) == []


@pytest.mark.parametrize("name", sorted(ADMIN_URLS))
def test_the_admin_answers_only_the_administrator(world, name):
    assert check(world, name, ADMIN_URLS[name]) == []


# --- The table covers every URL --------------------------------------------------------------------


def url_names(resolver: URLResolver | None = None, namespace: str = "") -> list[str]:
    """Every URL pattern's full name (``namespace:name``), walking included URLconfs."""
    resolver = resolver or get_resolver()
    names = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}{pattern.name or f'<unnamed {pattern.pattern}>'}")
    return names


def test_every_url_pattern_has_a_row():
    missing = [name for name in url_names() if name not in MATRIX and not name.startswith("admin:")]
    assert missing == [], (
        "Add a row to MATRIX in tests/core/test_authorization_matrix.py for each new URL: "
        f"{missing}"
    )
    stale = sorted(set(MATRIX) - set(url_names()))
    assert stale == [], f"Rows for URLs that no longer exist: {stale}"


def test_every_row_has_every_role_and_only_methods_the_url_accepts():
    for name, table in {**MATRIX, **ADMIN_URLS}.items():
        for method, by_role in table.items():
            assert set(by_role) == set(ROLES), (name, method)
            assert method in {"GET", "POST"}, (name, method)


def _accepted_methods(world: World, name: str) -> set[str]:
    """The methods that do not answer 405 for the user most likely to be let in."""
    accepted = set()
    for method in ("GET", "POST"):
        statuses = {run_cell(world, name, method, role)[0].status_code for role in (A, CLIN, MOD)}
        if statuses != {405}:
            accepted.add(method)
    return accepted


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_rows_list_exactly_the_methods_each_url_accepts(world, name):
    assert _accepted_methods(world, name) == set(MATRIX[name])
