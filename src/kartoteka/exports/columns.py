"""The columns of an export file: which values, under which headers, shown how.

A column knows how to *read* its value from a record (a link or user field yields the related
object that :func:`~kartoteka.records.selectors.list_records` joined in, so there is no query
per row) and how to *show* it as the text of a CSV cell. The XLSX writer uses the value itself
for numbers and dates, so they stay numbers and dates in the spreadsheet.

Kinds decide the treatment in both writers:

- ``number`` — integer, decimal and money fields and the record number. CSV shows them the
  Russian way (``1 234,56``, a non-breaking space between thousands, as the grid does) but
  *without the currency sign*: ``1 234,56 ₽`` is text to a spreadsheet, ``1 234,56`` is a number
  to Excel in a Russian locale, and ``₽`` is not even in Windows-1251. XLSX writes real numbers;
  money gets a number format with the currency, so the sign shows and the cell still sums.
- ``date`` / ``datetime`` — ``dd.mm.yyyy`` (``dd.mm.yyyy hh:mm`` in the installation's time zone)
  in CSV, real dates with that format in XLSX.
- ``plain`` — text the program makes itself («Да»/«Нет»): never formula-like.
- ``text`` — everything else (text, choices by label, links by title, users by name, phones
  formatted, e-mails, files by name): user data, so formula-like values are neutralised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.tables.fieldtypes.boolean import BooleanType
from kartoteka.tables.fieldtypes.date import DateType
from kartoteka.tables.fieldtypes.datetime import DateTimeType
from kartoteka.tables.fieldtypes.decimal import DecimalType
from kartoteka.tables.fieldtypes.integer import IntegerType
from kartoteka.tables.fieldtypes.money import MoneyType
from kartoteka.tables.fieldtypes.numbers import format_decimal
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.models import Field

NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
PLAIN = "plain"
TEXT = "text"

#: Columns every table has besides its fields; ``fields=`` may name them.
SYSTEM_KEYS = ("id", "created_at", "updated_at", "created_by", "updated_by")


@dataclass(frozen=True)
class Column:
    """One column of an export file.

    Attributes:
        key: the field key (or a system column: ``id``, ``created_at`` …).
        label: the header.
        kind: ``number``, ``date``, ``datetime``, ``plain`` or ``text`` (see the module docs).
        read: record → value (``None`` when empty; the related object for links and users).
        show: a non-empty value → the text of a CSV cell.
        places: decimal places of a number (its XLSX number format).
        unit: shown after a number by its XLSX number format (money's currency).
    """

    key: str
    label: str
    kind: str
    read: Callable[[Any], Any]
    show: Callable[[Any], str]
    places: int = 0
    unit: str = ""

    def text(self, record: Any) -> str:
        """The CSV text of this column for ``record`` (``""`` when empty)."""
        value = self.read(record)
        return "" if value is None else self.show(value)


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda record: getattr(record, name)


def _related(key: str) -> Callable[[Any], Any]:
    """The joined related object; its id when the target is gone (shown as ``#id``)."""
    attname = f"{key}_id"

    def read(record: Any) -> Any:
        try:
            related = getattr(record, key)
        except ObjectDoesNotExist:
            related = None
        return getattr(record, attname) if related is None else related

    return read


def _number(places: int) -> Callable[[Any], str]:
    return lambda value: format_decimal(Decimal(value), places)


def _system_column(key: str) -> Column:
    if key == "id":
        return Column("id", _("№"), NUMBER, _attr("pk"), str)
    if key in ("created_at", "updated_at"):
        label = _("Создано") if key == "created_at" else _("Изменено")
        return Column(key, label, DATETIME, _attr(key), _local_datetime)
    label = _("Создал") if key == "created_by" else _("Изменил")
    return Column(key, label, TEXT, _related(key), _user_text)


def _local_datetime(value: Any) -> str:
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")


def _user_text(value: Any) -> str:
    return f"#{value}" if isinstance(value, int) else user_display(value)


def field_column(field: Field) -> Column:
    """The column of one field, chosen by its type."""
    ftype = field.field_type
    if isinstance(ftype, MoneyType):
        currency = str(field.options.get("currency", "₽"))
        return Column(field.key, field.label, NUMBER, _attr(field.key), _number(2), 2, currency)
    if isinstance(ftype, DecimalType):
        places = ftype.places(field)
        return Column(field.key, field.label, NUMBER, _attr(field.key), _number(places), places)
    if isinstance(ftype, IntegerType):
        return Column(field.key, field.label, NUMBER, _attr(field.key), _number(0))
    if isinstance(ftype, DateTimeType | DateType):
        kind = DATETIME if isinstance(ftype, DateTimeType) else DATE
        return Column(
            field.key, field.label, kind, _attr(field.key), lambda v: ftype.display(field, v)
        )
    if isinstance(ftype, BooleanType):
        # Empty is «Нет» for a checkbox (the type's own rule), so NULL reads as False.
        return Column(
            field.key,
            field.label,
            PLAIN,
            lambda r: bool(getattr(r, field.key)),
            lambda v: ftype.display(field, v),
        )
    if ftype.is_relation:

        def show(value: Any) -> str:
            return f"#{value}" if isinstance(value, int) else ftype.display(field, value)

        return Column(field.key, field.label, TEXT, _related(field.key), show)
    return Column(field.key, field.label, TEXT, _attr(field.key), lambda v: ftype.display(field, v))


def columns_for(fields: Iterable[Field], keys: Iterable[str] | None = None) -> list[Column]:
    """Columns for ``keys`` (field keys or :data:`SYSTEM_KEYS`), in that order.

    Without ``keys``: the record number «№», then every field in the table's order.
    Raises ``KeyError`` naming the first unknown key.
    """
    by_key = {f.key: f for f in fields}
    if keys is None:
        keys = ["id", *by_key]
    columns = []
    for key in keys:
        if key in by_key:
            columns.append(field_column(by_key[key]))
        elif key in SYSTEM_KEYS:
            columns.append(_system_column(key))
        else:
            raise KeyError(key)
    return columns
