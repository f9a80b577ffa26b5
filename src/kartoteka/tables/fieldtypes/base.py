"""The contract every field type fulfils.

A field type is a small object registered under a stable key in :data:`field_types`. Its required
surface is deliberately small:

- ``model_field(field)`` — the Django model field that stores the value (always nullable: an empty
  value is ``NULL`` for every type, so "empty" means the same thing everywhere);
- ``form_field(field)`` — the form field of the add/edit forms;
- ``serializer_field(field)`` — the DRF field of the API;
- ``clean(field, value)`` — any input (a Python value or text) → the stored value, or
  :class:`~django.core.exceptions.ValidationError` with a message for people;
- ``parse(field, text)`` — text from a file → value, Russian formats accepted;
- ``display(field, value)`` — value → text for people (Russian conventions);
- ``to_json`` / ``from_json`` — value ↔ JSON, used by history and the API;
- ``operators`` and ``filter_q(field, op, value)`` — the filter conditions the type offers.

Everything else (sorting, sums, search) is an optional capability flag. One module per type keeps
each type short; ``tests/tables/test_fieldtype_contract.py`` runs every registered type through
the whole surface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

if TYPE_CHECKING:
    from kartoteka.tables.models import Field

OPERATOR_LABELS: dict[str, Any] = {
    "eq": _("равно"),
    "ne": _("не равно"),
    "contains": _("содержит"),
    "startswith": _("начинается с"),
    "gt": _("больше"),
    "lt": _("меньше"),
    "gte": _("не меньше"),
    "lte": _("не больше"),
    "between": _("между"),
    "empty": _("пусто"),
    "not_empty": _("не пусто"),
    "in": _("одно из"),
    "current_user": _("текущий пользователь"),
    "today": _("сегодня"),
    "this_week": _("эта неделя"),
    "this_month": _("этот месяц"),
}

#: Operators that take no value.
VALUELESS_OPERATORS = frozenset(
    {"empty", "not_empty", "current_user", "today", "this_week", "this_month"}
)


class FilterError(ValidationError):
    """A filter condition that the field type cannot apply."""


class FieldType(ABC):
    """Base of all field types. Subclasses set ``key``/``label`` and override what differs."""

    key: ClassVar[str]
    label: ClassVar[Any]
    operators: ClassVar[tuple[str, ...]] = ("eq", "ne", "empty", "not_empty")
    sortable: ClassVar[bool] = True
    summable: ClassVar[bool] = False
    searchable: ClassVar[bool] = False
    #: True for types whose column is a foreign key (``<key>_id`` attribute).
    is_relation: ClassVar[bool] = False

    # -- storage -----------------------------------------------------------------------------
    @abstractmethod
    def model_field(self, field: Field) -> models.Field:
        """The nullable Django model field that stores values of this type."""

    def default_db_column(self, key: str) -> str:
        """The column name of a built-in field declared with this key."""
        return key

    # -- values --------------------------------------------------------------------------------
    def is_empty(self, value: Any) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    def clean(self, field: Field, value: Any) -> Any:
        """Coerce any input to the stored value; ``None`` for empty."""
        if self.is_empty(value):
            return None
        if isinstance(value, str):
            return self.parse(field, value)
        return self.clean_value(field, value)

    def clean_value(self, field: Field, value: Any) -> Any:
        """Coerce a non-text Python value; types override when they accept such values."""
        return self.parse(field, str(value))

    def parse(self, field: Field, text: str) -> Any:
        """Text (a form input, a file cell) → value."""
        text = text.strip()
        return text or None

    def display(self, field: Field, value: Any) -> str:
        return "" if value is None else str(value)

    def to_json(self, field: Field, value: Any) -> Any:
        return value

    def edit_text(self, field: Field, text: str) -> str:
        """What an edit box shows for a text value (stored or typed); types that store a
        canonical form people don't type (phones) show it formatted."""
        return text

    def from_json(self, field: Field, data: Any) -> Any:
        return self.clean(field, data)

    # -- forms and API ---------------------------------------------------------------------------
    def form_field(self, field: Field, **kwargs: Any) -> forms.Field:
        return ParsedFormField(self, field, **self._form_kwargs(field, kwargs))

    def _form_kwargs(self, field: Field, kwargs: dict[str, Any]) -> dict[str, Any]:
        base = {"label": field.label, "required": field.required, "help_text": field.help_text}
        base.update(kwargs)
        return base

    def serializer_field(self, field: Field, **kwargs: Any) -> serializers.Field:
        return serializers.CharField(allow_null=True, required=False, **kwargs)

    # -- filters --------------------------------------------------------------------------------
    def filter_q(self, field: Field, op: str, value: Any = None, *, user: Any = None) -> Q:
        """A ``Q`` for one condition on this field. ``value`` is raw input, cleaned here."""
        name = field.key
        if op not in self.operators:
            raise FilterError(
                _("Условие «%(op)s» не подходит для поля «%(field)s».")
                % {"op": OPERATOR_LABELS.get(op, op), "field": field.label},
                code="bad_operator",
            )
        if op == "empty":
            return Q(**{f"{name}__isnull": True})
        if op == "not_empty":
            return Q(**{f"{name}__isnull": False})
        if op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise FilterError(_("Для условия «между» нужны два значения."), code="bad_value")
            low, high = value
            return Q(
                **{f"{name}__gte": self.clean(field, low), f"{name}__lte": self.clean(field, high)}
            )
        if op == "in":
            values = [self.clean(field, v) for v in value]
            return Q(**{f"{name}__in": values})
        if op in ("contains", "startswith"):
            # A part of a value is not a value: «exa» must not be validated as an e-mail, an
            # INN or a URL, so the text is matched as typed (empty: no condition).
            text = "" if value is None else str(value).strip()
            lookup = "icontains" if op == "contains" else "istartswith"
            return Q(**{f"{name}__{lookup}": text}) if text else Q()
        cleaned = self.clean(field, value)
        if op == "ne":
            return ~Q(**{name: cleaned}) | Q(**{f"{name}__isnull": True})
        lookup = {"eq": "exact", "gt": "gt", "lt": "lt", "gte": "gte", "lte": "lte"}[op]
        return Q(**{f"{name}__{lookup}": cleaned})


class ParsedFormField(forms.CharField):
    """A text input whose value is read by the field type's ``parse``.

    Using the type's own parser keeps the form, the import and the API agreeing on what
    ``1 234,56`` or ``01.02.2025`` means.
    """

    def __init__(self, ftype: FieldType, field: Field, **kwargs: Any) -> None:
        self.ftype = ftype
        self.meta_field = field
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, str):
            return self.ftype.edit_text(self.meta_field, value)
        return self.ftype.display(self.meta_field, value)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        return self.ftype.parse(self.meta_field, text)


def invalid(message: Any, code: str = "invalid", **params: Any) -> ValidationError:
    """A ValidationError whose message is already formatted (no %-params left for Django)."""
    return ValidationError(message % params if params else message, code=code)
