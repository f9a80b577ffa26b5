"""Saving and removing views and column choices; actor first, like every service."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, PermissionDenied
from kartoteka.grids.models import ColumnPreference, SavedView
from kartoteka.records.selectors import Condition, list_records
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table


class ViewError(KartotekaError):
    code = "view"


def save_view(
    actor: Actor,
    table: Table,
    *,
    name: str,
    conditions: list[Condition],
    match: str = "all",
    search: str = "",
    ordering: str = "",
    groups: list[Group] | None = None,
) -> SavedView:
    """Save the grid's current filter under a name, for oneself or (administrators) for groups.

    The conditions are checked by running them once, so a view that cannot run is never saved.
    """
    name = name.strip()
    if not name:
        raise ViewError(_("Укажите название фильтра."), code="no_name")
    if groups and not actor.is_admin:
        raise PermissionDenied(_("Делиться фильтрами с группами может только администратор."))
    list_records(actor, table, conditions=conditions, match=match, search=search).exists()
    with transaction.atomic():
        view = SavedView.objects.create(
            table=table,
            name=name[:200],
            owner=None if groups else actor.user,
            conditions=[[c.field, c.op, c.value] for c in conditions],
            match="any" if match == "any" else "all",
            search=search[:200],
            ordering=ordering[:80],
        )
        if groups:
            view.groups.set(groups)
    return view


def delete_view(actor: Actor, view: SavedView) -> None:
    if view.owner_id != actor.user_id and not actor.is_admin:
        raise PermissionDenied(_("Этот фильтр может удалить только его автор или администратор."))
    view.delete()


def set_columns(actor: Actor, table: Table, columns: list[str]) -> list[str]:
    """Remember which columns the user shows, in order; unknown keys are dropped."""
    known = {f.key for f in fields_of(table)}
    kept: list[str] = []
    for key in columns:
        if key in known and key not in kept:
            kept.append(key)
    if not kept:
        raise ViewError(_("Оставьте хотя бы один столбец."), code="no_columns")
    ColumnPreference.objects.update_or_create(
        user=actor.user, table=table, defaults={"columns": kept}
    )
    return kept


def reset_columns(actor: Actor, table: Table) -> None:
    ColumnPreference.objects.filter(user=actor.user, table=table).delete()


def view_conditions(view: SavedView) -> list[Condition]:
    return [Condition(field, op, value) for field, op, value in _triples(view.conditions)]


def _triples(raw: Any) -> list[tuple[str, str, Any]]:
    out = []
    for item in raw or []:
        if isinstance(item, list | tuple) and len(item) == 3:
            out.append((str(item[0]), str(item[1]), item[2]))
    return out
