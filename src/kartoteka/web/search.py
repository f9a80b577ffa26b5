"""The global search page: matching records of every table the user may see, table by table."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kartoteka.core.actor import Actor
from kartoteka.search.selectors import search_everywhere

#: Longer queries are cut: nobody types more, and every word is a condition.
MAX_QUERY = 200


@login_required
def search(request: HttpRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
    groups = search_everywhere(Actor.for_user(request.user), query) if query else []
    return render(
        request,
        "web/search.html",
        {"search_query": query, "groups": groups, "total": sum(g.total for g in groups)},
    )
