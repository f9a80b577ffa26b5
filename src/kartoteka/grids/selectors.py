"""Reading saved views (with their row counts) and the user's grid columns."""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Q, QuerySet

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.core.registry import Registry
from kartoteka.grids.models import ColumnPreference, SavedView
from kartoteka.grids.services import view_conditions
from kartoteka.records.paging import count_rows
from kartoteka.records.selectors import list_records
from kartoteka.tables.models import Field, Table


class ListedView(NamedTuple):
    """A saved view and how many rows it matches: ``rows`` is ``None`` when the view cannot run
    (a field it used was removed); ``exactness`` is ``"exact"`` or ``"at_least"`` (capped)."""

    view: SavedView
    rows: int | None
    exactness: str


def _views(actor: Actor, table: Table) -> QuerySet[SavedView]:
    """Views of ``table`` the actor may use: his own and those shared with his groups; an
    administrator also every shared view (he is the one who shares them, and must be able to
    open and delete a view shared with a group he is not in)."""
    qs = SavedView.objects.filter(table=table)
    if actor.user is None:
        return qs
    if actor.is_admin:
        return qs.filter(Q(owner=actor.user) | Q(owner__isnull=True))
    groups = actor.user.groups.all()
    return qs.filter(Q(owner=actor.user) | Q(owner__isnull=True, groups__in=groups)).distinct()


def list_views(actor: Actor, table: Table, *, with_counts: bool = True) -> list[ListedView]:
    """Views of ``table`` the actor may use, with how many of his rows each matches.

    Each count stops at :data:`kartoteka.records.paging.COUNT_CAP`, as the grid's own total does:
    the counts run on every grid load, and «более 10 000» is all a person needs there.
    """
    result: list[ListedView] = []
    for view in _views(actor, table):
        count: int | None = None
        exactness = "exact"
        if with_counts:
            try:
                qs = list_records(
                    actor,
                    table,
                    conditions=view_conditions(view),
                    match=view.match,
                    search=view.search,
                )
                count, exactness = count_rows(qs, filtered=True)
            except KartotekaError:
                count = None  # a field it used was removed: the view is shown as broken
        result.append(ListedView(view, count, exactness))
    return result


def get_view(actor: Actor, table: Table, pk: int) -> SavedView:
    """A view the actor may open and manage: one he may use, or — for an administrator — any
    view of the table (someone's own view included, so he can remove it)."""
    qs = SavedView.objects.filter(table=table) if actor.is_admin else _views(actor, table)
    view = qs.filter(pk=pk).first()
    if view is None:
        raise NotFound("view")
    return view


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
    shown = [f for f in fields if f.show_in_grid]
    first = key_columns.find(table.key) or ()
    rank = {k: i for i, k in enumerate(first)}
    return sorted(shown, key=lambda f: rank.get(f.key, len(rank)))


#: Table key → the keys of the columns a grid shows first until the user orders them himself
#: (the rest follow in field order): on a laptop the columns people work by are on screen.
key_columns: Registry[tuple[str, ...]] = Registry("key_columns")
