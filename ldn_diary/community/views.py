"""Support-group pages: the moderator's groups, roster and releases; the patient's groups and
consent; and the public page of a published release.

Access, in one place per kind of view:
- moderator pages fetch their group through ``selectors.get_group_for_moderator``: a patient, a
  clinician or another group's moderator gets the same 404 as a made-up UUID;
- patient actions fetch the membership through ``selectors.get_membership_for_patient``, scoped
  to the patient, so another patient's membership is a 404 too;
- the public page needs no login and finds a release only by its unguessable token while it is
  published and not revoked.
"""

from __future__ import annotations

import uuid as uuid_mod
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import json_script
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from ldn_diary import caching
from ldn_diary.accounts import audit, throttle
from ldn_diary.accounts.models import AuditAction, User

from . import charts, display, selectors, services
from .forms import GroupForm, JoinForm, ReleaseForm
from .models import Release

# Wrong join codes a patient may enter per JOIN_WINDOW seconds (2^40 codes make guessing
# hopeless anyway, but a script should not get to try).
JOIN_MAX_FAILURES = 10
JOIN_WINDOW = 15 * 60
# And per client address, across accounts, so that many patient accounts behind one address get
# no more guesses between them (ldn_diary.accounts.throttle).
JOIN_MAX_FAILURES_PER_ADDRESS = 20


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware, for the type checker."""

    htmx: HtmxDetails


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - behind @login_required
    return user


# --- Home ---------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Moderators: their groups. Patients: the groups they joined. Anyone else: 404."""
    user = _user(request)
    if user.is_moderator:
        return render(
            request,
            "community/moderator_home.html",
            {"groups": selectors.groups_for_moderator(user), "form": GroupForm()},
        )
    if user.is_patient:
        return render(
            request,
            "community/member_home.html",
            {"memberships": selectors.memberships_for_patient(user), "form": JoinForm()},
        )
    raise Http404("No support groups here.")


# --- Moderator ------------------------------------------------------------------------------------


@login_required
@require_POST
def group_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_moderator:
        raise Http404("Only moderators create groups.")
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            group = services.group_create(
                moderator=user, name=form.cleaned_data["name"], slug=form.cleaned_data["slug"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"{group.name} is ready. Give its code to your members.")
            return redirect("community:group", group_uuid=group.uuid)
    return render(
        request,
        "community/moderator_home.html",
        {"groups": selectors.groups_for_moderator(user), "form": form},
        status=400,
    )


def _group_context(request: HttpRequest, group: Any) -> dict[str, Any]:
    releases = list(selectors.releases_of(group))
    roster = list(selectors.roster(group))
    # Who joined is the one thing about a member the moderator sees: audited as a read of
    # each member's membership, never of their diary.
    audit.record_reads(
        actor=_user(request),
        patient_ids=[m.patient_id for m in roster],
        action=AuditAction.GROUP_ROSTER,
        objects={m.patient_id: m for m in roster},
    )
    return {
        "group": group,
        "roster": roster,
        "releases": releases,
        "computing": any(r.status == Release.Status.COMPUTING for r in releases),
        "join_link": request.build_absolute_uri(
            reverse("community:join_code", args=[group.join_code])
        )
        if group.join_code
        else "",
        "epsilon_left": services.eps(group.epsilon_left),
        "budget_total": services.eps(group.budget_total),
        "epsilon_spent": services.eps(group.epsilon_spent),
    }


@login_required
@require_GET
def group(request: HtmxHttpRequest, group_uuid: uuid_mod.UUID) -> HttpResponse:
    """The moderator's group page: join code, budget, releases, and who joined. With htmx, only
    the releases list (which polls itself while one is computing)."""
    group = selectors.get_group_for_moderator(_user(request), group_uuid)
    if request.htmx and not request.htmx.history_restore_request:
        releases = list(selectors.releases_of(group))
        computing = any(r.status == Release.Status.COMPUTING for r in releases)
        return render(
            request,
            "community/group.html#releases",
            {"group": group, "releases": releases, "computing": computing},
        )
    context = _group_context(request, group)
    context["release_form"] = ReleaseForm(
        initial={"epsilon": services.eps(min(group.epsilon_per_release, group.epsilon_left))}
    )
    return render(request, "community/group.html", context)


@login_required
@require_POST
def join_code_regenerate(request: HttpRequest, group_uuid: uuid_mod.UUID) -> HttpResponse:
    group = selectors.get_group_for_moderator(_user(request), group_uuid)
    services.join_code_regenerate(group=group)
    messages.success(
        request, f"New code {group.display_join_code}. The old code and link stopped working."
    )
    return redirect(reverse("community:group", args=[group.uuid]) + "#joining")


@login_required
@require_POST
def join_code_close(request: HttpRequest, group_uuid: uuid_mod.UUID) -> HttpResponse:
    group = selectors.get_group_for_moderator(_user(request), group_uuid)
    services.join_code_close(group=group)
    messages.success(request, _("Joining is closed. Members who joined stay in the group."))
    return redirect(reverse("community:group", args=[group.uuid]) + "#joining")


@login_required
@require_POST
def release_create(request: HttpRequest, group_uuid: uuid_mod.UUID) -> HttpResponse:
    """Spend ε and queue the computation; the group page shows it arrive."""
    group = selectors.get_group_for_moderator(_user(request), group_uuid)
    form = ReleaseForm(request.POST)
    if form.is_valid():
        epsilon: Decimal = form.cleaned_data["epsilon"]
        try:
            release = services.release_request(group=group, epsilon=epsilon)
        except ValidationError as exc:
            form.add_error("epsilon", exc.messages[0])
        else:
            messages.success(
                request,
                f"Computing a release with ε = {services.eps(release.epsilon)}; "
                f"{services.eps(group.epsilon_left)} of the budget is left.",
            )
            return redirect(reverse("community:group", args=[group.uuid]) + "#releases")
    context = _group_context(request, group)
    context["release_form"] = form
    return render(request, "community/group.html", context, status=400)


def _release_context(release: Release) -> dict[str, Any]:
    results = release.results or {}
    return {
        "release": release,
        "results": results,
        "tables": display.tables(results),
        "accounting": display.accounting(results),
        "figures": [
            (element_id, json_script(figure, element_id, encoder=charts.CompactJSONEncoder))
            for element_id, figure in charts.figures(results)
        ],
        "epsilon": services.eps(release.epsilon),
    }


@login_required
@require_GET
def release(
    request: HttpRequest, group_uuid: uuid_mod.UUID, release_uuid: uuid_mod.UUID
) -> HttpResponse:
    """The moderator's preview: exactly what the public page would show, and the link."""
    rel = selectors.get_release_for_moderator(_user(request), group_uuid, release_uuid)
    context = _release_context(rel)
    context["group"] = rel.group
    # The link as this server is reached (the command, with no request, uses SITE_URL).
    context["public_url"] = (
        request.build_absolute_uri(reverse("community:public", args=[rel.public_token]))
        if rel.is_public
        else ""
    )
    return render(request, "community/release.html", context)


@login_required
@require_POST
def release_publish(
    request: HttpRequest, group_uuid: uuid_mod.UUID, release_uuid: uuid_mod.UUID
) -> HttpResponse:
    rel = selectors.get_release_for_moderator(_user(request), group_uuid, release_uuid)
    try:
        rel = services.release_publish(release=rel)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Published. Anyone with the link below can see this release."))
    return redirect("community:release", group_uuid=group_uuid, release_uuid=release_uuid)


@login_required
@require_POST
def release_revoke(
    request: HttpRequest, group_uuid: uuid_mod.UUID, release_uuid: uuid_mod.UUID
) -> HttpResponse:
    rel = selectors.get_release_for_moderator(_user(request), group_uuid, release_uuid)
    services.release_revoke(release=rel)
    messages.success(
        request, _("The public link no longer works. Publishing again makes a new one.")
    )
    return redirect("community:release", group_uuid=group_uuid, release_uuid=release_uuid)


# --- Patient --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str = "") -> HttpResponse:
    """Enter a group's code (its link fills it in). A GET never joins: the patient confirms."""
    user = _user(request)
    if not user.is_patient:
        raise Http404("Only patients join support groups.")
    form = JoinForm(request.POST or None, initial={"code": code})
    if request.method == "POST" and form.is_valid():
        failures_key = f"community:join-failures:{user.pk}"
        address = throttle.client_address(request)
        if caching.peek(failures_key) >= JOIN_MAX_FAILURES or throttle.over(
            "community-join", address, limit=JOIN_MAX_FAILURES_PER_ADDRESS
        ):
            form.add_error(
                "code", _("Too many codes that did not work. Wait 15 minutes, then try again.")
            )
        else:
            try:
                membership, created = services.membership_join(
                    patient=user, code=form.cleaned_data["code"]
                )
            except ValidationError as exc:
                caching.incr(failures_key, JOIN_WINDOW)
                throttle.count("community-join", address, window=JOIN_WINDOW)
                form.add_error("code", exc.messages[0])
            else:
                messages.success(
                    request,
                    gettext(
                        "You joined %(group)s. Nothing from your diary is shared unless you "
                        "agree below."
                    )
                    % {"group": membership.group.name}
                    if created
                    else gettext("You are already in %(group)s.")
                    % {"group": membership.group.name},
                )
                return redirect(reverse("community:home") + f"#m-{membership.uuid}")
    return render(request, "community/join.html", {"form": form})


def _membership_action(
    request: HttpRequest, membership_uuid: uuid_mod.UUID, action: Any, text: str
) -> HttpResponse:
    try:
        membership = action(patient=_user(request), membership_uuid=membership_uuid)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("community:home")
    messages.success(request, text.format(group=membership.group.name))
    return redirect(reverse("community:home") + f"#m-{membership.uuid}")


@login_required
@require_POST
def membership_agree(request: HttpRequest, membership_uuid: uuid_mod.UUID) -> HttpResponse:
    return _membership_action(
        request,
        membership_uuid,
        services.membership_agree,
        "Thank you. {group}'s next releases will count you.",
    )


@login_required
@require_POST
def membership_stop(request: HttpRequest, membership_uuid: uuid_mod.UUID) -> HttpResponse:
    return _membership_action(
        request,
        membership_uuid,
        services.membership_stop,
        "You no longer contribute to {group}. Releases from now on leave you out.",
    )


@login_required
@require_POST
def membership_leave(request: HttpRequest, membership_uuid: uuid_mod.UUID) -> HttpResponse:
    return _membership_action(
        request, membership_uuid, services.membership_leave, "You left {group}."
    )


# --- Public ---------------------------------------------------------------------------------------


def _no_index(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_GET
def public_release(request: HttpRequest, token: str) -> HttpResponse:
    """A published release for anyone with the link; 404 once revoked."""
    rel = selectors.get_public_release(token)
    context = _release_context(rel)
    context["group"] = rel.group
    context["csv_url"] = reverse("community:public_csv", args=[token])
    return _no_index(render(request, "community/public.html", context))


@never_cache
@require_GET
def public_release_csv(request: HttpRequest, token: str) -> HttpResponse:
    rel = selectors.get_public_release(token)
    response = HttpResponse(display.csv_text(rel.results), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{rel.group.slug}-aggregates.csv"'
    return _no_index(response)
