"""Link («Связь»): a reference to a record of another table (``Field.link_table``).

The column is a real foreign-key column ``<key>_id`` without a database constraint: integrity is
kept by the records service (links are checked to exist on write; deleting a record for good
removes its subtable rows and clears other links), which lets SQLite remake tables inside a
transaction and keeps test databases flushable. A link with ``options.subtable`` makes its table a
subtable shown in the target's card.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid
from .choice import fold

#: The largest id a record (or a user) can have: a signed 64-bit integer. Larger numbers are no
#: record's id, and SQLite cannot even bind them as parameters.
MAX_ID = 2**63 - 1


def dynamic_model_label(table_id: int) -> str:
    from kartoteka.tables.modelfactory import DYNAMIC_APP_LABEL

    return f"{DYNAMIC_APP_LABEL}.T{table_id}"


class LinkType(FieldType):
    key = "link"
    label = _("Связь с таблицей")
    operators = ("eq", "ne", "in", "empty", "not_empty")
    is_relation = True

    def default_db_column(self, key: str) -> str:
        return f"{key}_id"

    def model_field(self, field: Any) -> models.Field:
        return models.ForeignKey(
            dynamic_model_label(field.link_table_id),
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            null=True,
            blank=True,
            related_name="+",
        )

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, models.Model):
            return value.pk
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
            return value
        raise invalid(_("«%(value)s» — не номер записи."), code="not_a_record", value=value)

    def parse(self, field: Any, text: str) -> Any:
        text = text.strip()
        if not text:
            return None
        if text.lstrip("#").isdigit():
            return self.clean_value(field, int(text.lstrip("#")))
        record_id = self.find_by_title(field, text)
        if record_id is None:
            raise self.title_not_found(field, text)
        return record_id

    def title_not_found(self, field: Any, text: str) -> ValidationError:
        """The error for a title no (readable) target record has."""
        return invalid(
            _("«%(value)s» не найдено в таблице «%(table)s»."),
            code="link_not_found",
            value=text,
            table=field.link_table.label,
        )

    def find_by_title(self, field: Any, text: str, *, among: Any = None) -> int | None:
        """The id of the target record whose title is ``text`` (case- and «ё»-insensitive),
        looked up in ``among`` (a queryset of the target table; default: all its records)."""
        from kartoteka.tables.modelfactory import model_for, title_field_keys

        target = field.link_table
        records = model_for(target).objects.all() if among is None else among
        records = records.exclude(record_state="deleted")
        keys = title_field_keys(target)
        if len(keys) == 1:
            for record in records.filter(**{f"{keys[0]}__iexact": text}).order_by("pk")[:1]:
                return record.pk
        wanted = fold(text)
        for record in records.order_by("pk").iterator():
            if fold(str(record)) == wanted:
                return record.pk
        return None

    def display(self, field: Any, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, models.Model):
            return str(value)
        from kartoteka.tables.modelfactory import model_for

        record = model_for(field.link_table).objects.filter(pk=value).first()
        return str(record) if record is not None else f"#{value}"

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        from kartoteka.tables.modelfactory import model_for

        model = model_for(field.link_table)
        options = [("", "—")] + [
            (r.pk, str(r))
            for r in model.objects.filter(record_state="active").order_by("id")[:1000]
        ]
        return forms.TypedChoiceField(
            choices=options, coerce=int, empty_value=None, **self._form_kwargs(field, kwargs)
        )

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.IntegerField(allow_null=True, required=False, **kwargs)

    def filter_q(self, field: Any, op: str, value: Any = None, *, user: Any = None) -> Q:
        if op in ("eq", "ne", "in"):
            name = f"{field.key}_id"
            if op == "in":
                return Q(**{f"{name}__in": [self.clean(field, v) for v in value]})
            q = Q(**{name: self.clean(field, value)})
            return q if op == "eq" else ~q | Q(**{f"{name}__isnull": True})
        return super().filter_q(field, op, value, user=user)
