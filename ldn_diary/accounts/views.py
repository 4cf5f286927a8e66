from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import ProfileForm, SignupForm
from .models import Role


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save(commit=False)
            user.role = Role.PATIENT
            user.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome. Add your LDN dose, then log your first day.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile")
    context: dict[str, object] = {"form": form}
    if request.user.is_patient:
        # The consent section (who may see the diary, invite codes): clinic/_consent.html.
        from ldn_diary.clinic.selectors import consent_context

        context.update(consent_context(request.user))
    return render(request, "accounts/profile.html", context)
