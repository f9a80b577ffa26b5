"""Serializers that describe the API's shapes in the OpenAPI schema.

Records are validated by field types in the records service, not here: a table's fields are
data, so the schema describes a record generically — the system columns plus one property per
field key (``additionalProperties``), and ``GET /api/v1/tables/`` tells the fields of each table.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Стабильный код ошибки, например `not_unique`.")
    message = serializers.CharField(help_text="Сообщение для людей.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Ошибки по ключам полей.",
    )
    rule = serializers.CharField(required=False, help_text="Ключ правила (только для 422).")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    group = serializers.CharField()


class ChoiceSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class FieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField(help_text="Тип поля: text, integer, decimal, money, date, …")
    required = serializers.BooleanField()
    unique = serializers.BooleanField()
    read_only = serializers.BooleanField()
    options = serializers.DictField()
    link_table = serializers.CharField(allow_null=True, help_text="Для связи: ключ таблицы.")
    choices = ChoiceSerializer(many=True)


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    fields = FieldSerializer(many=True)


class RecordSerializer(serializers.Serializer):
    """A record: ``id``, the fields by key, the system columns."""

    id = serializers.IntegerField(read_only=True)
    record_state = serializers.ChoiceField(
        choices=["active", "archived", "deleted"], read_only=True
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    created_by = serializers.IntegerField(read_only=True, allow_null=True)
    updated_by = serializers.IntegerField(read_only=True, allow_null=True)


class RecordValuesSerializer(serializers.Serializer):
    """Values of a record to write, by field key (the schema marks it an open object)."""

    class Meta:
        ref_name = "RecordValues"


@extend_schema_field({"type": "object", "additionalProperties": True})
class ValuesField(serializers.DictField):
    pass


class RecordPageSerializer(serializers.Serializer):
    results = RecordSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    count = serializers.IntegerField()
    count_exact = serializers.BooleanField(
        help_text="false: count — нижняя граница или оценка (большие таблицы)."
    )


class UpsertRequestSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Ключ поля, по которому ищутся записи, например `inn`.")
    policy = serializers.ChoiceField(choices=["keep_filled", "overwrite"], default="keep_filled")
    records = serializers.ListField(child=ValuesField(), max_length=10000)


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class UpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)


class ActionRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class ActionResultSerializer(serializers.Serializer):
    message = serializers.CharField()


class FunnelStageSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    refused = serializers.IntegerField()
    conversion_prev = serializers.FloatField()
    conversion_first = serializers.FloatField()
    by_manager = serializers.DictField(child=serializers.IntegerField())


class FunnelSerializer(serializers.Serializer):
    stages = FunnelStageSerializer(many=True)
