"""What an actor may do with a table, its fields and its rows — the questions, not the checks.

The selectors (every read) and the records service (every write) ask these; pages, the API,
exports, reports and documents ask them only to decide what to *show* (a button, a column).

- :func:`can` / :func:`can_action` — a verb or a table action on a table;
- :func:`visible_fields`, :func:`editable_fields`, :func:`grid_fields_allowed`,
  :func:`export_fields`, :func:`import_fields` — the field rights;
- :func:`row_q` — the row filter as a ``Q`` (subtables inherit their parent's through the link,
  as ``link IN (SELECT id FROM parent WHERE …)``): always SQL, never Python.

Administrators (and the system) have every right. Rights are read once per user object and
table (a request's user lives one request); a change of rights bumps :data:`_generation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from kartoteka.access.models import (
    EDITABLE,
    HIDDEN,
    MANAGE_EMPLOYEES,
    VERBS,
    FieldRight,
    TableRight,
)
from kartoteka.core.actor import Actor
from kartoteka.tables.modelfactory import fields_of, model_for
from kartoteka.tables.models import Field, Table

CURRENT_USER_TOKEN = "{current user}"
CURRENT_GROUP_TOKEN = "{current user's group}"
#: Subtables inherit row filters through at most this many parents (a cycle stops here).
MAX_DEPTH = 5

_generation = 0


def rights_changed() -> None:
    """Forget cached rights (called by :mod:`kartoteka.access.services` on every change)."""
    global _generation
    _generation += 1


@dataclass(frozen=True)
class FieldAccess:
    access: str = EDITABLE
    in_grid: bool = True
    in_export: bool = True
    in_import: bool = True


OPEN_FIELD = FieldAccess()


@dataclass(frozen=True)
class TableAccess:
    """A group's rights on one table. ``actions`` ``None`` means every action."""

    verbs: frozenset[str]
    actions: frozenset[str] | None = None
    row_filter: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, FieldAccess] = field(default_factory=dict)

    def field(self, key: str) -> FieldAccess:
        return self.fields.get(key, OPEN_FIELD)


FULL = TableAccess(verbs=frozenset(VERBS))
NOTHING = TableAccess(verbs=frozenset(), actions=frozenset())


def privileged(actor: Actor) -> bool:
    """Administrators, the system, and writes a business rule makes on someone's behalf."""
    return actor.is_admin or actor.reason.startswith("rule:")


def can_manage_employees(actor: Actor) -> bool:
    """Administrators, and active members of a group given «Управление сотрудниками»."""
    if actor.is_admin:
        return True
    user = actor.user
    return bool(user.is_active and user.has_perm(f"access.{MANAGE_EMPLOYEES}"))


def group_of(user: Any) -> Any:
    """The user's access group (each user is in one), or ``None``."""
    if user is None:
        return None
    cached = getattr(user, "_kartoteka_group", False)
    if cached is False:
        cached = user.groups.order_by("id").first()
        user._kartoteka_group = cached
    return cached


def table_access(actor: Actor, table: Table) -> TableAccess:
    if actor.is_admin:
        return FULL
    user = actor.user
    if not user.is_active:
        return NOTHING
    cache = getattr(user, "_kartoteka_access", None)
    if cache is None or cache[0] != _generation:
        cache = (_generation, _load(group_of(user)))
        user._kartoteka_access = cache
    if cache[1] is None:
        return NOTHING
    return cache[1].get(table.pk) or _open(cache[1].get(("fields", table.pk)))


def _open(fields: Any) -> TableAccess:
    return TableAccess(verbs=frozenset(VERBS), actions=None, fields=fields or {})


def _load(group: Any) -> dict[Any, Any] | None:
    """Every right of the group, in two queries: ``{table id: TableAccess}``."""
    if group is None:
        return None
    by_table: dict[int, dict[str, FieldAccess]] = {}
    for fr in FieldRight.objects.filter(group=group).select_related("field"):
        by_table.setdefault(fr.field.table_id, {})[fr.field.key] = FieldAccess(
            fr.access, fr.in_grid, fr.in_export, fr.in_import
        )
    out: dict[Any, Any] = {("fields", pk): fields for pk, fields in by_table.items()}
    for right in TableRight.objects.filter(group=group):
        out[right.table_id] = TableAccess(
            verbs=frozenset(right.verbs),
            actions=frozenset(right.actions),
            row_filter=right.row_filter or {},
            fields=by_table.get(right.table_id, {}),
        )
    return out


# -- verbs -------------------------------------------------------------------------------------


def can(actor: Actor, table: Table, verb: str) -> bool:
    """May the actor use ``verb`` (see :data:`~kartoteka.access.models.VERBS`) on ``table``?
    Every verb needs ``view`` too."""
    verbs = table_access(actor, table).verbs
    return "view" in verbs and verb in verbs


def can_action(actor: Actor, table: Table, action: Any) -> bool:
    """May the actor run the table action (a ``TableAction`` or its key)?"""
    access = table_access(actor, table)
    if "view" not in access.verbs:
        return False
    key = getattr(action, "key", action)
    verb = getattr(action, "verb", "")
    if verb and verb not in access.verbs:
        return False
    return access.actions is None or key in access.actions


# -- fields ------------------------------------------------------------------------------------


def _fields(table: Table) -> list[Field]:
    return fields_of(table)


def hidden_keys(actor: Actor, table: Table) -> set[str]:
    if actor.is_admin:
        return set()
    access = table_access(actor, table)
    return {key for key, fa in access.fields.items() if fa.access == HIDDEN}


def visible_fields(actor: Actor, table: Table) -> list[Field]:
    """The fields the actor may see, in the table's order (the card, the API, history)."""
    hidden = hidden_keys(actor, table)
    return [f for f in _fields(table) if f.key not in hidden]


def editable_fields(actor: Actor, table: Table) -> list[Field]:
    """Fields the actor may write (the field's own read-only flag is the service's business)."""
    access = table_access(actor, table)
    return [f for f in _fields(table) if access.field(f.key).access == EDITABLE]


def grid_fields_allowed(actor: Actor, table: Table) -> list[Field]:
    access = table_access(actor, table)
    return [
        f
        for f in _fields(table)
        if access.field(f.key).access != HIDDEN and access.field(f.key).in_grid
    ]


def export_fields(actor: Actor, table: Table) -> list[Field]:
    access = table_access(actor, table)
    return [
        f
        for f in _fields(table)
        if access.field(f.key).access != HIDDEN and access.field(f.key).in_export
    ]


def import_fields(actor: Actor, table: Table) -> list[Field]:
    access = table_access(actor, table)
    return [
        f
        for f in _fields(table)
        if access.field(f.key).access == EDITABLE and access.field(f.key).in_import
    ]


# -- rows --------------------------------------------------------------------------------------


def row_q(actor: Actor, table: Table, _depth: int = 0) -> Q | None:
    """The rows of ``table`` the actor is confined to, or ``None`` for all of them.

    The table's own filter AND, for each subtable link, ``link IN (visible parent ids)``.
    A parent the actor may not view leaves no rows.
    """
    if actor.is_admin:
        return None
    access = table_access(actor, table)
    parts: list[Q] = []
    own = _filter_q(actor, table, access.row_filter)
    if own is not None:
        parts.append(own)
    if _depth < MAX_DEPTH:
        for link in _fields(table):
            if link.type != "link" or not link.options.get("subtable") or link.link_table is None:
                continue
            parent = link.link_table
            if parent.pk == table.pk:
                continue
            if not can(actor, parent, "view"):
                parts.append(Q(pk__in=[]))
                continue
            parent_q = row_q(actor, parent, _depth + 1)
            if parent_q is None:
                continue
            ids = model_for(parent).objects.filter(parent_q).values("pk")
            parts.append(Q(**{f"{link.key}_id__in": ids}))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined &= part
    return combined


def _filter_q(actor: Actor, table: Table, row_filter: dict[str, Any]) -> Q | None:
    conditions = row_filter.get("conditions") or []
    if not conditions:
        return None
    fields = {f.key: f for f in _fields(table)}
    parts: list[Q] = []
    for item in conditions:
        key, op, value = item
        fld = fields.get(key)
        if fld is None:
            # A field the filter used was removed: confine to nothing rather than open up.
            parts.append(Q(pk__in=[]))
            continue
        parts.append(_condition_q(actor, fld, op, value))
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined | part) if row_filter.get("match") == "any" else (combined & part)
    return combined


def _condition_q(actor: Actor, fld: Field, op: str, value: Any) -> Q:
    user = actor.user
    group = group_of(user)
    if value == CURRENT_USER_TOKEN:
        if fld.type == "user":
            q = Q(**{f"{fld.key}_id": user.pk})
            return q if op != "ne" else ~q
        value = user.get_username()
    elif value == CURRENT_GROUP_TOKEN:
        if fld.type == "user":
            members = get_user_model().objects.filter(groups=group).values("pk")
            q = Q(**{f"{fld.key}_id__in": members})
            return q if op != "ne" else ~q
        value = group.name if group is not None else ""
    return fld.field_type.filter_q(fld, op, value, user=user)


def readable_table(actor: Actor, table: Table) -> bool:
    return can(actor, table, "view")
