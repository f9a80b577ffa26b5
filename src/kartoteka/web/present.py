"""Turning records into what templates show: cells, field groups, history lines.

Values are formatted by their field types (``display``), so a date reads ``01.02.2025`` and money
``1 234,56 ₽`` on every page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Field, Table


@dataclass
class Cell:
    field: Field
    text: str
    value: Any
    color: str = ""
    url: str = ""

    @property
    def html(self) -> str:
        """The cell as HTML — built here rather than by a template include per cell, which
        would cost more than the whole database work of a grid page."""
        if self.field.type == "choice" and self.text:
            return format_html(
                '<span class="badge" style="background-color: {}">{}</span>',
                self.color or "#6c757d",
                self.text,
            )
        if self.url:
            if self.field.type == "url":
                return format_html(
                    '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
                    self.url,
                    self.text,
                )
            return format_html('<a href="{}">{}</a>', self.url, self.text)
        return linebreaksbr(self.text, autoescape=True)


def grid_columns(table: Table) -> list[Field]:
    return [f for f in fields_of(table) if f.show_in_grid]


def cell(record: Any, field: Field) -> Cell:
    ftype = field.field_type
    value = getattr(record, field.key)  # links and users: the select_related object
    text = ftype.display(field, value)
    color = ""
    url = ""
    if field.type == "choice" and value:
        color = next((c.color for c in choices_of(field) if c.key == value), "")
    if field.type == "link" and value is not None:
        url = f"/t/{field.link_table.key}/{value.pk}/"
    if field.type == "url" and value:
        url = value
    if field.type == "email" and value:
        url = f"mailto:{value}"
    if field.type == "phone" and value:
        url = f"tel:{value}"
    if field.type == "file" and value:
        url = f"/t/{field.table.key}/{record.pk}/files/{field.key}/"
    return Cell(field=field, text=text, value=value, color=color, url=url)


def cells(record: Any, columns: list[Field]) -> list[Cell]:
    return [cell(record, f) for f in columns]


def grid_row_html(record: Any, columns: list[Field], record_url: str) -> str:
    """The data cells of one grid row as HTML; the first text column links to the card.

    Built in Python because a template loop over fifty rows of ten cells costs more than the
    database work of the page."""
    parts = []
    roles = card_roles(columns)
    for index, field in enumerate(columns):
        c = cell(record, field)
        css = ' class="wrap"' if field.type == "long_text" else ""
        if field.key in roles:
            css += f' data-card="{roles[field.key]}"'
        if index == 0 and field.type == "text":
            inner = format_html('<a href="{}">{}</a>', record_url, c.text)
        else:
            inner = c.html
        parts.append(format_html("<td{}>{}</td>", mark_safe(css), inner))
    return mark_safe("".join(parts))  # every part was escaped by format_html


def card_roles(columns: list[Field]) -> dict[str, str]:
    """Which columns a grid row shows when it is a compact card on a phone: the first column
    (the title), the first phone, the first choice (a status badge) and the first user."""
    roles: dict[str, str] = {}
    if columns:
        roles[columns[0].key] = "title"
    for role, ftype in (("phone", "phone"), ("badge", "choice"), ("user", "user")):
        found = next((f for f in columns if f.type == ftype and f.key not in roles), None)
        if found is not None:
            roles[found.key] = role
    return roles


def record_groups(record: Any, fields: list[Field]) -> list[tuple[str, list[Cell]]]:
    groups: dict[str, list[Cell]] = {}
    for field in fields:
        groups.setdefault(field.group or "", []).append(cell(record, field))
    return list(groups.items())


@dataclass
class HistoryLine:
    when: Any
    who: str
    action: str
    source: str
    changes: list[tuple[str, str, str]]
    source_url: str = ""


def history_lines(table: Table, changes: Any, actor: Any = None) -> list[HistoryLine]:
    """History rows made readable: field labels and values as people see them."""
    fields = {f.key: f for f in fields_of(table)}
    actions = dict(_action_labels())
    changes = list(changes)
    titles = _related_titles(fields, changes, actor)
    pages = _import_pages(changes)
    lines = []
    for change in changes:
        items = []
        for key, (old, new) in (change.changes or {}).items():
            field = fields.get(key)
            if field is None:
                label = _("Состояние") if key == "record_state" else key
                items.append((label, _state(old), _state(new)))
                continue
            if key in titles:
                known = titles[key]
                items.append((field.label, known.get(old, _id(old)), known.get(new, _id(new))))
                continue
            items.append((field.label, _shown(field, old), _shown(field, new)))
        who = ""
        if change.user is not None:
            who = user_display(change.user)
        lines.append(
            HistoryLine(
                when=change.created_at,
                who=who or _("Система"),
                action=actions.get(change.action, change.action),
                source=_source_label(change.source),
                changes=items,
                source_url=pages.get(_batch_of(change.source) or 0, ""),
            )
        )
    return lines


def _related_titles(
    fields: dict[str, Field], changes: list[Any], actor: Any = None
) -> dict[str, dict[Any, str]]:
    """Titles of the records and users named by link and user values in ``changes``: one query
    per field instead of one per value; with ``actor``, only records he may read."""
    from django.contrib.auth import get_user_model

    from kartoteka.tables.fieldtypes.user import user_display
    from kartoteka.tables.modelfactory import model_for

    wanted: dict[str, set[int]] = {}
    for change in changes:
        for key, pair in (change.changes or {}).items():
            field = fields.get(key)
            if field is not None and field.type in ("link", "user"):
                wanted.setdefault(key, set()).update(v for v in pair if isinstance(v, int))
    titles: dict[str, dict[Any, str]] = {}
    for key, ids in wanted.items():
        field = fields[key]
        if field.type == "user":
            users = get_user_model().objects.filter(pk__in=ids)
            titles[key] = {u.pk: user_display(u) for u in users}
        elif actor is not None:
            from kartoteka.records.selectors import link_titles

            titles[key] = link_titles(actor, field, ids)
        else:
            records = model_for(field.link_table).objects.filter(pk__in=ids)
            titles[key] = {r.pk: str(r) for r in records}
    return titles


def _id(value: Any) -> str:
    return "" if value is None else f"#{value}"


def _action_labels() -> list[tuple[str, str]]:
    return [
        ("create", _("Создание")),
        ("update", _("Изменение")),
        ("archive", _("В архив")),
        ("delete", _("В удалённые")),
        ("restore", _("Восстановление")),
        ("purge", _("Удаление навсегда")),
    ]


def _state(value: Any) -> str:
    return {"active": _("активна"), "archived": _("в архиве"), "deleted": _("удалена")}.get(
        value, value or ""
    )


def _source_label(source: str) -> str:
    """``form``, ``bulk``, ``import#12``, ``action:issue_invoice:status`` … → words for people."""
    parts = source.split(":")
    base = parts[0]
    labels = {
        "form": _("форма"),
        "bulk": _("массовое редактирование"),
        "cli": _("командная строка"),
        "demo": _("демо-данные"),
        "system": _("система"),
        "handover": _("передача клиентов и заданий"),
        "api": _("API"),
        "export": _("экспорт"),
        "webform": _("веб-форма"),
    }
    text = labels.get(base, base)
    batch = IMPORT_SOURCE.match(base)
    if batch:
        text = _("импорт №%(id)s") % {"id": batch.group(1)}
    if base == "webform" and len(parts) > 1:
        text = _("веб-форма №%(id)s") % {"id": parts[1]}
    if base == "mailing_unsubscribe" and len(parts) > 1:
        text = _("Отписка от рассылки (рассылка №%(id)s)") % {"id": parts[1]}
    if base == "action" and len(parts) > 1:
        text = _("действие «%(name)s»") % {"name": _action_label(parts[1])}
    if "status" in parts[1:]:
        text += ", " + _("пересчёт статуса")
    return text


#: The source of the changes an import batch made: ``import#12`` (``import#12:status`` …).
IMPORT_SOURCE = re.compile(r"^import#(\d+)$")


def _batch_of(source: str) -> int | None:
    found = IMPORT_SOURCE.match(source.split(":")[0])
    return int(found.group(1)) if found else None


def _import_pages(changes: list[Any]) -> dict[int, str]:
    """The pages of the import batches the changes came from (a batch of another table, too: a
    work-log import moves the counterparties' status)."""
    from kartoteka.imports.models import ImportBatch

    ids = {b for b in (_batch_of(c.source) for c in changes) if b is not None}
    if not ids:
        return {}
    batches = ImportBatch.objects.filter(pk__in=ids).values_list("pk", "table__key")
    return {pk: reverse("imports:batch", args=[key, pk]) for pk, key in batches}


def _action_label(key: str) -> str:
    from kartoteka.records.actions import table_actions

    for name, action in table_actions.items():
        if name.split(".", 1)[1] == key:
            return str(action.label)
    return key


def _shown(field: Field, value: Any) -> str:
    if value is None:
        return ""
    try:
        return field.field_type.display(field, field.field_type.from_json(field, value))
    except Exception:  # history outlives field changes: show the raw value then
        return str(value)
