"""``/api/v1/reports/{id}/data/`` and ``/api/v1/reports/query/``: own reports' grouped figures as
JSON, computed with the caller's rights (a manager gets his rows' figures). Thin views over
:func:`kartoteka.reports.builder.run_report`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kartoteka.api.errors import ApiError
from kartoteka.api.views import ERRORS, ApiView
from kartoteka.core.actor import Actor
from kartoteka.reports import selectors
from kartoteka.reports.builder import Definition, ReportDefinitionError, run_report


class GroupingSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Ключ поля или «связь.поле» (поле связанной записи)")
    by = serializers.ChoiceField(
        ["day", "week", "month", "quarter", "year"], required=False, help_text="Шаг для дат"
    )


class MeasureSerializer(serializers.Serializer):
    fn = serializers.ChoiceField(["count", "count_distinct", "sum", "avg", "min", "max"])
    field = serializers.CharField(required=False)


class DefinitionSerializer(serializers.Serializer):
    table = serializers.CharField()
    rows = GroupingSerializer(many=True, help_text="Одна или две группировки строк")
    column = GroupingSerializer(required=False, allow_null=True, help_text="Столбцы (сводная)")
    measures = MeasureSerializer(many=True, required=False)
    filters = serializers.ListField(
        child=serializers.ListField(), required=False, help_text="[[поле, условие, значение], …]"
    )
    match = serializers.ChoiceField(["all", "any"], required=False)
    search = serializers.CharField(required=False)
    view = serializers.IntegerField(required=False, allow_null=True, help_text="Сохранённый фильтр")
    chart = serializers.CharField(required=False)


class KeySerializer(serializers.Serializer):
    key = serializers.JSONField()
    label = serializers.CharField()


class CellSerializer(serializers.Serializer):
    values = serializers.ListField(child=serializers.JSONField(), help_text="По показателю")
    url = serializers.CharField(help_text="Таблица с записями этой цифры")


class RowSerializer(serializers.Serializer):
    keys = KeySerializer(many=True)
    cells = CellSerializer(many=True, help_text="По столбцам сводной таблицы")
    total = CellSerializer()


class ReportDataSerializer(serializers.Serializer):
    table = serializers.CharField()
    rows_by = serializers.ListField(child=serializers.CharField())
    columns_by = serializers.CharField(allow_null=True)
    measures = serializers.ListField(child=serializers.CharField())
    columns = KeySerializer(many=True)
    rows = RowSerializer(many=True)
    column_totals = CellSerializer(many=True)
    total = CellSerializer()
    warnings = serializers.ListField(child=serializers.CharField())


def _data(actor: Actor, definition: Definition) -> dict[str, Any]:
    try:
        return run_report(actor, definition).as_api()
    except ReportDefinitionError as exc:
        raise ApiError(
            exc.problems[0] if len(exc.problems) == 1 else exc.message,
            code=exc.code,
            fields={"definition": exc.problems},
        ) from None


class ReportDataView(ApiView):
    @extend_schema(
        operation_id="reports_data",
        summary="Данные сохранённого отчёта",
        description=(
            "Сгруппированные цифры отчёта по записям, доступным вызывающему. Суммы и средние — "
            "строками, как деньги в записях; url — таблица с записями каждой цифры."
        ),
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: ReportDataSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        actor = self.actor(source="report")
        report = selectors.get_report(actor, pk)
        try:
            definition = Definition.from_json(report.definition)
        except ReportDefinitionError as exc:
            raise ApiError(exc.message, code=exc.code) from None
        return Response(_data(actor, definition))


class ReportQueryView(ApiView):
    @extend_schema(
        operation_id="reports_query",
        summary="Построить отчёт",
        description="Несохранённое описание отчёта → сгруппированные цифры (ничего не пишет).",
        request=DefinitionSerializer,
        responses={200: ReportDataSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        return Response(_data(self.actor(source="report"), Definition.from_json(request.data)))
