"""Reading saved views (with their row counts) and the user's grid columns."""

from __future__ import annotations

from django.db.models import Q

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.grids.models import ColumnPreference, SavedView
from kartoteka.grids.services import view_conditions
from kartoteka.records.selectors import list_records
from kartoteka.tables.models import Field, Table


def list_views(
    actor: Actor, table: Table, *, with_counts: bool = True
) -> list[tuple[SavedView, int | None]]:
    """Views of ``table`` the actor may use — his own and those shared with his groups."""
    qs = SavedView.objects.filter(table=table)
    if actor.user is not None:
        groups = actor.user.groups.all()
        qs = qs.filter(Q(owner=actor.user) | Q(owner__isnull=True, groups__in=groups)).distinct()
    result: list[tuple[SavedView, int | None]] = []
    for view in qs:
        count: int | None = None
        if with_counts:
            try:
                count = list_records(
                    actor,
                    table,
                    conditions=view_conditions(view),
                    match=view.match,
                    search=view.search,
                ).count()
            except KartotekaError:
                count = None  # a field it used was removed: the view is shown as broken
        result.append((view, count))
    return result


def get_view(actor: Actor, table: Table, pk: int) -> SavedView:
    for view, _count in list_views(actor, table, with_counts=False):
        if view.pk == pk:
            return view
    raise NotFound("view")


def grid_fields(actor: Actor, table: Table) -> list[Field]:
    """The columns the user shows: his choice in his order, or the table's grid fields — only
    fields his group may see in the grid."""
    from kartoteka.access.rights import grid_fields_allowed

    fields = grid_fields_allowed(actor, table)
    pref = None
    if actor.user is not None:
        pref = ColumnPreference.objects.filter(user=actor.user, table=table).first()
    if pref:
        by_key = {f.key: f for f in fields}
        chosen = [by_key[k] for k in pref.columns if k in by_key]
        if chosen:
            return chosen
    return [f for f in fields if f.show_in_grid]
