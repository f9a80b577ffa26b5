"""Template context shared by every page: the menu of categories and tables."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    from kartoteka.core.actor import Actor
    from kartoteka.records.selectors import list_tables

    menu: list[dict[str, Any]] = []
    for table in list_tables(Actor.for_user(request.user)):
        category = table.category
        if not menu or menu[-1]["category"] != category:
            menu.append({"category": category, "tables": []})
        menu[-1]["tables"].append(table)
    return {"menu": menu, "nav_is_admin": Actor.for_user(request.user).is_admin}
