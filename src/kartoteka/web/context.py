"""Template context shared by every page: the menu of categories and tables, the unread count
of the notification bell."""

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
    from kartoteka.notifications.selectors import unread_count

    actor = Actor.for_user(request.user)
    return {"menu": menu, "nav_is_admin": actor.is_admin, "nav_unread": unread_count(actor)}
