"""The profile page of API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.api import tokens
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError


def _actor(request: HttpRequest) -> Actor:
    user: Any = request.user
    return Actor.for_user(user, source="form")


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """``/profile/tokens/``: the user's tokens; POST creates one and shows its secret once."""
    actor = _actor(request)
    created = None
    error = ""
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            created = tokens.create_token(actor, request.user, name)
        except KartotekaError as exc:
            error = exc.message
        else:
            name = ""
    response = render(
        request,
        "api/tokens.html",
        {
            "tokens": tokens.list_tokens(actor, request.user),
            "created": created,
            "error": error,
            "name": name,
        },
        status=400 if error else 200,
    )
    # The secret is on this page only once: never keep it in a cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = tokens.revoke_token(_actor(request), pk)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Токен «%(name)s» отозван.") % {"name": token.name})
    return redirect("api_tokens")
