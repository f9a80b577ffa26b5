"""What a template sees: a record as its user sees it, «Моя компания», the user, today.

:func:`record_context` reads a record through :mod:`kartoteka.records.selectors` — so a record
the user may not read cannot be used (``NotFound``) — and turns it into a :class:`Bag`: fields by
key, links followed (``record.counterparty.inn``), subtables as lists of rows by the subtable's
key (``{% for item in record.invoice_items %}``). A field the user may not read is there, empty;
a link to a record he may not read is an empty bag; a subtable he may not view has no rows.

Numbers, money, dates and yes/no fields keep their raw values (``Decimal``, ``date``, ``bool``)
so the helpers can work on them; they print the Russian way on their own (see
:func:`kartoteka.templating.engine._finalize`). Choices, phones, users print their labels.

:func:`sample_context` builds the same shape from the metadata alone, with a sample value in
every field and one row in every subtable: what :func:`kartoteka.templating.engine.check` runs
a template against, and what the reference of placeholders shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.records import selectors
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Field, Table

#: How many links deep a record is followed (``record.counterparty.responsible`` is a full bag;
#: one link further only prints its title).
LINK_DEPTH = 2
RAW_TYPES = frozenset({"integer", "decimal", "money", "date", "datetime", "boolean"})
SAMPLE_BY_TYPE: dict[str, Any] = {
    "text": "Пример текста",
    "long_text": "Пример длинного текста",
    "integer": 15,
    "decimal": Decimal("12.50"),
    "money": Decimal("128505.00"),
    "boolean": True,
    "email": "info@example.ru",
    "phone": "+7 495 123-45-67",
    "url": "https://example.ru",
    "file": "dogovor.pdf",
}
SAMPLE_BY_KEY: dict[str, Any] = {
    "name": "ООО «Ромашка»",
    "full_name": "Иванов Иван Иванович",
    "director": "Иванов Иван Иванович",
    "accountant": "Петрова Мария Сергеевна",
    "inn": "7704123456",
    "kpp": "770401001",
    "ogrn": "1027700123456",
    "number": "Д-2026-015",
    "address": "119021, г. Москва, ул. Льва Толстого, д. 16",
    "bank": "ПАО Сбербанк",
    "bik": "044525225",
    "account": "40702810400000012345",
    "corr_account": "30101810400000000225",
    "position": "генеральный директор",
}


class Bag:
    """A record (or the user, or the company) as a template reads it: ``bag.key`` or
    ``bag["key"]`` gives a value; printed alone it shows its title. It has no public
    attributes of its own, so no field key can clash with one."""

    __slots__ = ("_data", "_path", "_title")

    def __init__(self, data: dict[str, Any], title: str = "", path: str = "") -> None:
        self._data = data
        self._title = title
        self._path = path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __str__(self) -> str:
        return self._title

    def __bool__(self) -> bool:
        return bool(self._title) or any(v not in (None, "", []) for v in self._data.values())

    def __repr__(self) -> str:
        return f"<{self._path or 'bag'}: {self._title}>"


@dataclass(frozen=True)
class Placeholder:
    """One line of the reference: what to write, what it is, what it gives for the sample."""

    expression: str
    label: str
    sample: str


def as_actor(user: Any) -> Actor:
    return user if isinstance(user, Actor) else Actor.for_user(user, source="document")


def record_context(table: Table, record: Any, user: Any, *, depth: int = LINK_DEPTH) -> Bag:
    """The record (an instance or an id) of ``table`` as ``user`` (a user or an ``Actor``)
    sees it, as a :class:`Bag`.

    Raises:
        NotFound: the record is missing or not readable by the user.
    """
    actor = as_actor(user)
    pk = record if isinstance(record, int) else record.pk
    loaded = selectors.get_record(actor, table, pk)
    return _bag(actor, table, loaded, depth, "record", subtables=True)


def loaded_record_context(actor: Actor, table: Table, loaded: Any, *, subtables: bool) -> Bag:
    """:func:`record_context` for a record the caller has already read through the selectors as
    ``actor``; ``subtables=False`` leaves the subtables' rows out (a query per subtable that a
    template naming none of them need not pay for)."""
    return _bag(actor, table, loaded, LINK_DEPTH, "record", subtables=subtables)


def _bag(
    actor: Actor,
    table: Table,
    rec: Any,
    depth: int,
    path: str,
    *,
    subtables: bool,
    parent: str = "",
    parent_title: str = "",
) -> Bag:
    """``parent``: the link of a subtable row back to the record — only its title is given."""
    selectors.mask_unreadable_links(actor, table, [rec])
    hidden = rights.hidden_keys(actor, table)
    data: dict[str, Any] = {"id": rec.pk}
    for field in fields_of(table):
        sub_path = f"{path}.{field.key}"
        if field.key in hidden:
            data[field.key] = _empty(field, sub_path)
        elif field.key == parent:
            data[field.key] = Bag({}, parent_title, sub_path)
        else:
            data[field.key] = _value(actor, field, rec, depth, sub_path)
    if subtables:
        visible = {f.pk for f in selectors.visible_subtables(actor, table)}
        for link in selectors.subtables_of(table):
            rows: list[Bag] = []
            if link.pk in visible and link.key not in rights.hidden_keys(actor, link.table):
                qs = selectors.list_records(
                    actor, link.table, parent=(link.key, rec.pk), ordering=("id",)
                )
                rows = [
                    _bag(
                        actor,
                        link.table,
                        row,
                        depth - 1,
                        link.table.key,
                        subtables=False,
                        parent=link.key,
                    )
                    for row in qs
                ]
            data[link.table.key] = rows
    return Bag(data, str(rec) if rec.pk else "", path)


def _value(actor: Actor, field: Field, rec: Any, depth: int, path: str) -> Any:
    value = getattr(rec, _att(field))
    if field.type == "link":
        return _link(actor, field, value, depth, path)
    if field.type == "user":
        user = getattr(rec, field.key, None) if value is not None else None
        return _user_bag(user, path)
    if field.type in RAW_TYPES:
        return value
    if value is None:
        return ""
    return field.field_type.display(field, value)


def _att(field: Field) -> str:
    return f"{field.key}_id" if field.type in ("link", "user") else field.key


def _link(actor: Actor, field: Field, target_id: Any, depth: int, path: str) -> Bag:
    target = field.link_table
    if target_id is None or target is None:
        return _empty(field, path)
    if depth <= 0:
        titles = selectors.link_titles(actor, field, [target_id])
        return Bag({}, titles.get(target_id, ""), path)
    try:
        rec = selectors.get_record(actor, target, target_id)
    except NotFound:
        return _empty(field, path)
    return _bag(actor, target, rec, depth - 1, path, subtables=False)


def _user_bag(user: Any, path: str) -> Bag:
    if user is None:
        return Bag({"full_name": "", "email": "", "username": ""}, "", path)
    name = user_display(user)
    return Bag(
        {"full_name": name, "email": user.email or "", "username": user.username}, name, path
    )


def _empty(field: Field, path: str) -> Any:
    """The value a field has when the user may not read it (or it is empty)."""
    if field.type == "link" and field.link_table is not None:
        keys = {f.key: None for f in fields_of(field.link_table)}
        return Bag({"id": None, **keys}, "", path)
    if field.type == "user":
        return _user_bag(None, path)
    return None if field.type in RAW_TYPES else ""


def user_context(user: Any) -> Bag:
    """``user``: who makes the document (``full_name``, ``email``, ``username``)."""
    actor = as_actor(user)
    return _user_bag(actor.user, "user")


def company_context(user: Any) -> Bag:
    """``company``: the default «Моя компания» as the user sees it (empty when there is none)."""
    from kartoteka.crm.invoices import pick_default_company

    actor = as_actor(user)
    try:
        table = selectors.get_table(actor, "companies")
    except NotFound:
        return Bag({}, "", "company")
    company = pick_default_company(selectors.base_queryset(actor, table))
    if company is None:
        return _sample_bag(table, 0, "company", empty=True)
    return _bag(actor, table, company, 1, "company", subtables=False)


def base_context(user: Any, *, today: dt.date | None = None) -> dict[str, Any]:
    """The names every template has besides the record: ``company``, ``user``, ``today``."""
    return {
        "company": company_context(user),
        "user": user_context(user),
        "today": today or timezone.localdate(),
    }


# --- samples -------------------------------------------------------------------------------


def sample_value(field: Field, path: str, depth: int) -> Any:
    if field.type == "link" and field.link_table is not None:
        if depth <= 0:
            return Bag({}, SAMPLE_BY_KEY["name"], path)
        return _sample_bag(field.link_table, depth - 1, path)
    if field.type == "user":
        name = SAMPLE_BY_KEY["full_name"]
        return Bag({"full_name": name, "email": "ivanov@example.ru", "username": "ivanov"}, name)
    if field.key in SAMPLE_BY_KEY and field.type not in RAW_TYPES:
        return SAMPLE_BY_KEY[field.key]
    if field.type in ("date",):
        return timezone.localdate()
    if field.type == "datetime":
        return timezone.now()
    if field.type in ("choice", "multi_choice"):
        from kartoteka.tables.fieldtypes.choice import choices_of

        first = next(iter(choices_of(field)), None)
        return first.label if first is not None else ""
    return SAMPLE_BY_TYPE.get(field.type, "Пример")


def _sample_bag(
    table: Table, depth: int, path: str, *, empty: bool = False, parent: str = ""
) -> Bag:
    data: dict[str, Any] = {"id": None if empty else 1}
    for field in fields_of(table):
        sub = f"{path}.{field.key}"
        level = 0 if field.key == parent else depth
        data[field.key] = _empty(field, sub) if empty else sample_value(field, sub, level)
    title = "" if empty else str(data.get("name") or data.get("number") or table.label)
    return Bag(data, title, path)


def sample_record(table: Table, *, depth: int = LINK_DEPTH) -> Bag:
    """A record of ``table`` made of sample values, with one sample row in each subtable."""
    bag = _sample_bag(table, depth, "record")
    for link in selectors.subtables_of(table):
        row = _sample_bag(link.table, depth - 1, link.table.key, parent=link.key)
        bag._data[link.table.key] = [row]
    return bag


def sample_context(table: Table, **extra: Any) -> dict[str, Any]:
    """The shape of a document's context for ``table``, from the metadata alone."""
    from kartoteka.tables.models import Table as TableModel

    companies = TableModel.objects.filter(key="companies").first()
    company = (
        _sample_bag(companies, 0, "company") if companies is not None else Bag({}, "", "company")
    )
    name = SAMPLE_BY_KEY["full_name"]
    return {
        "record": sample_record(table),
        "company": company,
        "user": Bag({"full_name": name, "email": "ivanov@example.ru", "username": "ivanov"}, name),
        "today": timezone.localdate(),
        **extra,
    }


def describe(context: dict[str, Any], labels: dict[str, str] | None = None) -> list[Placeholder]:
    """Every placeholder a context offers, with the sample value it prints: ``record.name``,
    ``record.counterparty.inn``, ``item.name`` (in ``{% for item in record.invoice_items %}``)."""
    from kartoteka.templating.engine import _finalize

    labels = labels or {}
    out: list[Placeholder] = []

    def walk(prefix: str, value: Any, level: int) -> None:
        if isinstance(value, Bag):
            out.append(Placeholder(prefix, labels.get(prefix, ""), str(value)))
            if level >= 3:
                return
            for key in value:
                walk(f"{prefix}.{key}", value[key], level + 1)
        elif isinstance(value, list):
            loop = f"{{% for item in {prefix} %}}…{{% endfor %}}"
            out.append(Placeholder(loop, labels.get(prefix, ""), str(len(value))))
            if value:
                for key in value[0]:
                    walk(f"item.{key}", value[0][key], level + 1)
        else:
            out.append(Placeholder(prefix, labels.get(prefix, ""), str(_finalize(value))))

    for key, value in context.items():
        walk(key, value, 0)
    return out
