"""``POST /api/v1/tables/{table}/records/{id}/documents/``: make a document from a record.

The answer is the file itself (``Content-Type`` of the format, ``Content-Disposition:
attachment``) and the id of the copy kept on the record in the ``X-Document-Id`` header — the
one binary answer of the API; errors are the usual ``{code, message, fields}`` JSON.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request

from kartoteka.api.errors import ApiError
from kartoteka.api.views import RECORD_ID, TABLE, WRITE_ERRORS, ApiView
from kartoteka.crm.views import content_disposition
from kartoteka.documents import selectors, services
from kartoteka.records import selectors as records


class DocumentRequestSerializer(serializers.Serializer):
    template = serializers.CharField(max_length=200, help_text="Название шаблона документа")
    format = serializers.ChoiceField(choices=["pdf", "docx", "html"], default="pdf")


class RecordDocumentView(ApiView):
    @extend_schema(
        operation_id="records_document",
        summary="Сделать документ из записи",
        description=(
            "Заполняет шаблон документа по записи (с правами вызывающего) и возвращает файл; "
            "копия сохраняется в «Документах» записи, её номер — в заголовке `X-Document-Id`. "
            "PDF из шаблона Word делается, только если на сервере установлен LibreOffice."
        ),
        parameters=[TABLE, RECORD_ID],
        request=DocumentRequestSerializer,
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, services.CONTENT_TYPES["docx"]): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "text/html"): OpenApiResponse(OpenApiTypes.BINARY),
            **WRITE_ERRORS,
        },
    )
    def post(self, request: Request, table: str, pk: int) -> Any:
        actor = self.actor()
        found = self.table(table)
        records.get_record(actor, found, pk, include_deleted=False)
        data = DocumentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = selectors.get_template(actor, table=found, name=data.validated_data["template"])
        fmt = data.validated_data["format"]
        if fmt not in services.formats_of(template):
            raise ApiError(
                _("Шаблон «%(name)s» не даёт формат «%(fmt)s».")
                % {"name": template.name, "fmt": fmt},
                code="format_unavailable",
                fields={
                    "format": [
                        _("Доступно: %(list)s.")
                        % {"list": ", ".join(services.formats_of(template))}
                    ]
                },
            )
        doc = services.generate_document(actor, template, pk, fmt)
        body = services.read_document(actor, doc)
        response = HttpResponse(body, content_type=services.CONTENT_TYPES[fmt])
        response["Content-Disposition"] = content_disposition(
            doc.name, f"document-{doc.pk}.{fmt}", attachment=True
        )
        response["X-Document-Id"] = str(doc.pk)
        return response
