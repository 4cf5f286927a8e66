from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase

from .selectors import get_own_patient

View = Callable[..., HttpResponseBase]


def patient_view(view: View) -> View:
    """Log-in required, and the signed-in user must be an active patient (another role gets
    ``WrongRole``: 403, a page saying the page is for patients).

    The view receives the patient as its second argument.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        patient = get_own_patient(request.user)  # type: ignore[arg-type]
        return view(request, patient, *args, **kwargs)

    return login_required(wrapper)
