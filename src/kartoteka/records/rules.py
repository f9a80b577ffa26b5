"""Table rules: the business rules of built-in tables, hooked into the records service.

A :class:`TableRules` subclass is registered per table key in :data:`table_rules`. The records
service calls its hooks in a fixed, documented order for every batch, whatever the path (form,
bulk edit, import, API, web form, action, CLI):

1. access check (by the service);
2. values coerced by field types; unknown and read-only fields refused;
3. ``prepare`` — fill values the rule owns (e.g. ``status_before``) before required/unique checks;
4. required, unique and link checks (by the service);
5. ``clean`` — refuse what breaks a rule by raising
   :class:`~kartoteka.core.exceptions.RuleViolation`;
6. ``before_save``;
7. the write (``update_fields`` always) and the history rows;
8. ``after_save`` — follow-up writes through services (e.g. recompute a parent's status);
9. ``ctx.on_commit`` callbacks after the transaction commits.

State changes (archive, trash, restore, purge) call ``clean_state`` and ``after_state``.
Hooks get an explicit :class:`RuleContext`; there is no global state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.core.registry import Registry
from kartoteka.tables.models import Field, Table


@dataclass
class RowChange:
    """One row of a batch: ``record`` is ``None`` on create; ``values`` are the new values
    (cleaned, keyed by field key) and ``old`` the values they replace (on update)."""

    index: int
    values: dict[str, Any]
    record: Any = None
    old: dict[str, Any] = field(default_factory=dict)

    @property
    def is_create(self) -> bool:
        return self.record is None

    def get(self, key: str, default: Any = None) -> Any:
        """The value the record will have: the new one if given, else the current one."""
        if key in self.values:
            return self.values[key]
        if self.record is not None:
            return _current(self.record, key)
        return default


def _current(record: Any, key: str) -> Any:
    model_field = record._meta.get_field(key)
    return getattr(record, model_field.attname)


@dataclass
class RuleContext:
    actor: Actor
    table: Table
    model: Any
    fields: dict[str, Field]
    operation: str
    callbacks: list[Callable[[], None]] = field(default_factory=list)

    def on_commit(self, fn: Callable[[], None]) -> None:
        self.callbacks.append(fn)


class TableRules:
    """Base class: every hook does nothing. Subclasses override what their table needs."""

    table_key: str = ""

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        """Fill values the rule owns, before the service's required/unique checks."""

    def clean(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        """Raise ``RuleViolation`` when a row breaks a rule."""

    def before_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        """Last changes to values before the write."""

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        """Follow-up writes, through services, in the same transaction."""

    def clean_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        """Refuse a state change (archive/delete/restore/purge) that breaks a rule."""

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        """Follow-up writes after a state change."""

    def unavailable_choices(self, actor: Actor, field_key: str) -> set[str]:
        """Choice keys of a field that ``actor`` may never pick (``clean`` would refuse them):
        a form for adding a row leaves them out instead of offering them."""
        return set()

    def locked_rows(self, actor: Actor, records: list[Any]) -> dict[int, str]:
        """Rows ``actor`` may neither edit nor delete whatever he changes (``clean`` and
        ``clean_state`` would refuse), by id, with the rule's reason: shown locked, not offered
        for editing."""
        return {}


class CompositeRules(TableRules):
    """Several rule sets of one table, run hook by hook in the order they were registered
    (e.g. the invoice totals and the invoice payment rules of ``invoices``)."""

    def __init__(self, parts: list[TableRules]) -> None:
        self.parts = parts

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for part in self.parts:
            part.prepare(ctx, rows)

    def clean(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for part in self.parts:
            part.clean(ctx, rows)

    def before_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for part in self.parts:
            part.before_save(ctx, rows)

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for part in self.parts:
            part.after_save(ctx, rows)

    def clean_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        for part in self.parts:
            part.clean_state(ctx, records, state)

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        for part in self.parts:
            part.after_state(ctx, records, state)

    def unavailable_choices(self, actor: Actor, field_key: str) -> set[str]:
        return set().union(*(p.unavailable_choices(actor, field_key) for p in self.parts))

    def locked_rows(self, actor: Actor, records: list[Any]) -> dict[int, str]:
        locked: dict[int, str] = {}
        for part in self.parts:
            locked = part.locked_rows(actor, records) | locked
        return locked


class RulesRegistry(Registry[TableRules]):
    """Table key → its rules; registering a second rule set for a table composes the two
    instead of refusing, so independent modules can each add rules to one table."""

    def register(self, key: str, item: TableRules) -> TableRules:
        current = self.find(key)
        if current is None:
            return super().register(key, item)
        if isinstance(current, CompositeRules):
            if any(type(p) is type(item) for p in current.parts):
                raise KeyError(f"{self.name}: {type(item).__name__} already registered for {key}")
            current.parts.append(item)
            return current
        if type(current) is type(item):
            raise KeyError(f"{self.name}: {type(item).__name__} already registered for {key}")
        self._items[key] = CompositeRules([current, item])
        return self._items[key]


table_rules: RulesRegistry = RulesRegistry("table_rules")
_NO_RULES = TableRules()


def rules_for(table: Table) -> TableRules:
    return table_rules.find(table.key) or _NO_RULES
