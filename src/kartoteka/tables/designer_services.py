"""Table designer («Конструктор») operations that :mod:`kartoteka.tables.services` does not offer.

These are small use cases of the designer pages: a category with a checked key, renaming and
deleting categories, changing a table's label, category and record title template, and adding or
changing a field together with its default value in one transaction. Each takes the
:class:`~kartoteka.core.actor.Actor` first, refuses non-administrators and raises
:class:`~kartoteka.core.exceptions.SchemaError` with a stable code and a message for people. Field
and column changes are delegated to the public services, so there is still one place that runs DDL.

:func:`suggest_key` makes a stable latin key from a Russian label, so an administrator never has to
invent one.
"""

from __future__ import annotations

import string
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied, SchemaError
from kartoteka.tables import services
from kartoteka.tables.models import Category, Field, Table
from kartoteka.tables.services import bump_version, validate_key

#: Kinds of default values and the field types that accept each (``constant``: all but these).
NO_CONSTANT_DEFAULT = frozenset({"file", "link", "user"})
DEFAULT_KINDS_BY_TYPE = {
    "date": ("today",),
    "datetime": ("now",),
    "user": ("current_user",),
    "integer": ("autonumber",),
}

#: Latin spelling of Russian letters for keys; «_» stands for a letter that is dropped (ъ, ь).
_LATIN = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya"
_TRANSLIT = {
    ru: "" if latin == "_" else latin
    for ru, latin in zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN.split(" "), strict=True)
}
_UNCHANGED: Any = object()


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Менять таблицы и поля может только администратор."))


def _clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise SchemaError(_("Укажите название."), code="empty_label")
    return label


# -- keys -----------------------------------------------------------------------------------------


def suggest_key(label: str, taken: set[str] | frozenset[str], *, what: str = "field") -> str:
    """A free, valid key made from ``label``: «Дата договора» → ``data_dogovora``.

    Russian letters are transliterated, everything else becomes ``_``; a key that is taken or
    reserved gets a number (``summa_2``).
    """
    text = "".join(_TRANSLIT.get(ch, ch) for ch in (label or "").lower())
    base = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in text)
    base = "_".join(part for part in base.split("_") if part)[:40].strip("_")
    if not base:
        base = {"table": "table", "category": "category"}.get(what, "field")
    if not base[0].isalpha():
        base = f"{what[0]}_{base}"
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base}_{n}"
        if candidate in taken:
            continue
        try:
            validate_key(candidate, what=what)
        except SchemaError:
            continue
        return candidate
    raise SchemaError(_("Не удалось подобрать ключ."), code="bad_key")  # pragma: no cover


# -- categories -----------------------------------------------------------------------------------


def add_category(actor: Actor, *, key: str, label: str) -> Category:
    """Create a category; a taken key is refused with a message, not a database error."""
    _require_admin(actor)
    label = _clean_label(label)
    validate_key(key, what="category")
    if Category.objects.filter(key=key).exists():
        raise SchemaError(
            _("Категория с ключом «%(key)s» уже есть.") % {"key": key}, code="duplicate"
        )
    with transaction.atomic():
        return services.create_category(actor, key=key, label=label)


def rename_category(actor: Actor, category: Category, *, label: str) -> Category:
    _require_admin(actor)
    category.label = _clean_label(label)
    category.save(update_fields=["label"])
    return category


def delete_category(actor: Actor, category: Category) -> None:
    """Delete an empty category; one that still holds tables is refused, naming them."""
    _require_admin(actor)
    names = list(category.tables.order_by("position", "id").values_list("label", flat=True))
    if names:
        raise SchemaError(
            _(
                "В категории «%(category)s» есть таблицы: %(names)s. Перенесите их в другую "
                "категорию или удалите, затем удалите категорию."
            )
            % {"category": category.label, "names": ", ".join(names)},
            code="category_not_empty",
        )
    category.delete()


# -- tables ---------------------------------------------------------------------------------------


def check_title_template(table: Table, template: str) -> str:
    """The template if every ``{name}`` in it is a field key of ``table`` (or ``id``)."""
    template = (template or "").strip()
    try:
        names = [
            name for _t, name, _s, _c in string.Formatter().parse(template) if name is not None
        ]
    except ValueError:
        raise SchemaError(
            _("Шаблон названия записи: непарная фигурная скобка."), code="bad_title_template"
        ) from None
    known = set(Field.objects.filter(table=table).values_list("key", flat=True)) | {"id"}
    unknown = [name for name in names if name not in known]
    if "" in names or unknown:
        raise SchemaError(
            _("В шаблоне названия записи неизвестные поля: %(names)s. Доступны: %(known)s.")
            % {
                "names": ", ".join(f"{{{n}}}" for n in unknown) or "{}",
                "known": ", ".join(f"{{{k}}}" for k in sorted(known)),
            },
            code="bad_title_template",
        )
    return template


def change_table(
    actor: Actor,
    table: Table,
    *,
    label: str = _UNCHANGED,
    category: Category | None = _UNCHANGED,
    title_template: str = _UNCHANGED,
) -> Table:
    """Rename a table, move it to another category or change its record title template.

    The key and the SQL table never change. The title template is part of the built model
    (records' titles), so the schema version is bumped and every process rebuilds.
    """
    _require_admin(actor)
    fields = []
    if label is not _UNCHANGED:
        table.label = _clean_label(label)
        fields.append("label")
    if category is not _UNCHANGED:
        table.category = category
        fields.append("category")
    if title_template is not _UNCHANGED:
        table.title_template = check_title_template(table, title_template)
        fields.append("title_template")
    if not fields:
        return table
    with transaction.atomic():
        table.save(update_fields=fields)
        bump_version(table)
    return table


# -- fields and their defaults --------------------------------------------------------------------


def default_kinds(type_key: str) -> tuple[str, ...]:
    """The kinds of default value a field of this type accepts."""
    kinds: tuple[str, ...] = () if type_key in NO_CONSTANT_DEFAULT else ("constant",)
    return kinds + DEFAULT_KINDS_BY_TYPE.get(type_key, ())


def default_spec(field: Field, kind: str, text: str = "") -> dict[str, Any] | None:
    """The stored default of ``field`` from a kind and, for a constant, the typed text."""
    if not kind:
        return None
    if kind not in default_kinds(field.type):
        raise SchemaError(
            _("Такое значение по умолчанию не подходит для типа «%(type)s».")
            % {"type": field.field_type.label},
            code="bad_default",
        )
    if kind != "constant":
        return {"kind": kind}
    ftype = field.field_type
    field._choices_cache = None  # type: ignore[attr-defined]  # options may have just changed
    try:
        value = ftype.clean(field, text)
    except ValidationError as exc:
        raise SchemaError(
            _("Значение по умолчанию не подходит: %(error)s") % {"error": " ".join(exc.messages)},
            code="bad_default",
        ) from None
    if value is None:
        raise SchemaError(_("Укажите значение по умолчанию."), code="bad_default")
    return {"kind": "constant", "value": ftype.to_json(field, value)}


def add_field_with_default(
    actor: Actor,
    table: Table,
    *,
    default_kind: str = "",
    default_text: str = "",
    **add_kwargs: Any,
) -> Field:
    """:func:`~kartoteka.tables.services.add_field`, then its default, all or nothing."""
    _require_admin(actor)
    with transaction.atomic():
        field = services.add_field(actor, table, **add_kwargs)
        spec = default_spec(field, default_kind, default_text)
        if spec is not None:
            services.change_field(actor, field, default=spec)
    return field


def change_field_with_default(
    actor: Actor,
    field: Field,
    *,
    default_kind: str | None = None,
    default_text: str = "",
    **change_kwargs: Any,
) -> Field:
    """:func:`~kartoteka.tables.services.change_field`, then its default, all or nothing.

    The default is checked against the field *after* the change (a new type, new options), so a
    retype that leaves an impossible default is refused as a whole.
    """
    _require_admin(actor)
    with transaction.atomic():
        field = services.change_field(actor, field, **change_kwargs)
        if default_kind is not None:
            spec = default_spec(field, default_kind, default_text)
            if spec != field.default:
                services.change_field(actor, field, default=spec)
    return field


def move_field(actor: Actor, field: Field, offset: int) -> None:
    """Move a field ``offset`` places up (negative) or down in its table's order."""
    _require_admin(actor)
    keys = list(
        Field.objects.filter(table_id=field.table_id)
        .order_by("position", "id")
        .values_list("key", flat=True)
    )
    index = keys.index(field.key)
    target = max(0, min(len(keys) - 1, index + offset))
    if target == index:
        return
    keys.insert(target, keys.pop(index))
    services.reorder_fields(actor, field.table, keys)
