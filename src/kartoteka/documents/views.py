"""Pages of document templates (settings, administrators) and of documents on a record.

Settings: «Шаблоны документов» (list, a new HTML template, an uploaded Word file), the editor of
one template with a live preview on a chosen record (HTMX), the reference of placeholders of a
table. On a record: «Документы» (choose a template and a format → the file, kept on the record)
and the download of a kept document — as an attachment, to those who may read the record.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.crm.views import content_disposition
from kartoteka.documents import rendering, selectors, services
from kartoteka.documents.models import DocumentTemplate
from kartoteka.records import selectors as records
from kartoteka.templating import TemplateRefused, describe
from kartoteka.web.designer import admin_required


def _actor(request: HttpRequest) -> Actor:
    user: Any = request.user
    return Actor.for_user(user, source="form")


def _table_labels(table: Any) -> dict[str, str]:
    from kartoteka.tables.modelfactory import fields_of

    labels = {f"record.{f.key}": f.label for f in fields_of(table)}
    for link in records.subtables_of(table):
        labels[f"record.{link.table.key}"] = link.table.label
        labels.update({f"item.{f.key}": f.label for f in fields_of(link.table)})
    return labels


@admin_required
@require_http_methods(["GET", "POST"])
def template_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    tables = records.list_tables(actor)
    errors: list[Any] = []
    if request.method == "POST":
        table = records.get_table(actor, request.POST.get("table", ""))
        upload = request.FILES.get("file")
        kind = DocumentTemplate.KIND_DOCX if upload is not None else DocumentTemplate.KIND_HTML
        body = "" if upload else request.POST.get("body") or _("<h1>{{ record }}</h1>\n")
        try:
            template = services.save_template(
                actor,
                table,
                name=request.POST.get("name", ""),
                kind=kind,
                body=body,
                docx=upload.read() if upload is not None else None,
                number_format=request.POST.get("number_format", "").strip(),
            )
        except services.TemplateError as exc:
            errors = exc.problems
        else:
            messages.success(request, _("Шаблон «%(name)s» сохранён.") % {"name": template})
            return redirect("doctemplates:edit", pk=template.pk)
    return render(
        request,
        "documents/list.html",
        {
            "templates": selectors.list_templates(actor),
            "tables": tables,
            "errors": errors,
            "soffice": rendering.soffice(),
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    template = selectors.get_template(actor, pk)
    errors: list[Any] = []
    body = template.body
    if request.method == "POST":
        body = request.POST.get("body", "")
        upload = request.FILES.get("file")
        try:
            services.save_template(
                actor,
                template.table,
                template=template,
                name=request.POST.get("name", ""),
                kind=template.kind,
                body=body,
                docx=upload.read() if upload is not None else None,
                number_format=request.POST.get("number_format", "").strip(),
                is_default=request.POST.get("is_default") == "on",
            )
        except services.TemplateError as exc:
            errors = exc.problems
        else:
            messages.success(request, _("Шаблон «%(name)s» сохранён.") % {"name": template})
            return redirect("doctemplates:edit", pk=template.pk)
    sample_records = list(records.list_records(actor, template.table)[:20])
    return render(
        request,
        "documents/edit.html",
        {"template": template, "body": body, "errors": errors, "records": sample_records},
    )


@admin_required
@require_POST
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML template as typed, filled from the chosen record (or the sample values)."""
    actor = _actor(request)
    template = selectors.get_template(actor, pk)
    body = request.POST.get("body", "")
    record_id = request.POST.get("record", "")
    try:
        if record_id.isdigit():
            context = services.document_context(
                actor, template, int(record_id), number=services.SAMPLE_NUMBER
            )
        else:
            context = services.sample_for(template.table)
        problems = services.template_problems(template.table, "html", body=body)
        if problems:
            raise TemplateRefused(problems)
        html = rendering.render_html(body, context)
    except TemplateRefused as exc:
        return render(request, "documents/_preview.html", {"errors": exc.problems})
    return render(request, "documents/_preview.html", {"html": html})


@admin_required
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    template = selectors.get_template(actor, pk)
    services.delete_template(actor, template)
    messages.success(request, _("Шаблон «%(name)s» удалён.") % {"name": template})
    return redirect("doctemplates:list")


@admin_required
def reference(request: HttpRequest) -> HttpResponse:
    """Every placeholder of the chosen table, with the value it gives for sample data."""
    actor = _actor(request)
    tables = records.list_tables(actor)
    key = request.GET.get("table") or (tables[0].key if tables else "")
    table = records.get_table(actor, key)
    rows = describe(services.sample_for(table), _table_labels(table))
    from kartoteka.templating import HELPERS

    return render(
        request,
        "documents/reference.html",
        {"tables": tables, "table": table, "rows": rows, "helpers": HELPERS},
    )


@login_required
@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    """«Документы» of a record: choose a template and a format; the file comes back and a copy
    is kept on the record."""
    actor = _actor(request)
    table = records.get_table(actor, key)
    record = records.get_record(actor, table, pk, include_deleted=False)
    templates = list(selectors.list_templates(actor, table))
    error = ""
    if request.method == "POST":
        template_id = request.POST.get("template", "")
        try:
            if not template_id.isdigit():
                raise NotFound(_("Выберите шаблон."))
            template = selectors.get_template(actor, int(template_id), table=table)
            doc = services.generate_document(
                actor, template, record.pk, request.POST.get("format", "pdf")
            )
        except TemplateRefused as exc:
            error = str(exc)
        except NotFound as exc:
            error = str(exc)
        else:
            messages.success(request, _("Документ «%(name)s» готов.") % {"name": doc.name})
            return redirect("record", key=table.key, pk=record.pk)
    choices = [(t, services.formats_of(t)) for t in templates]
    return render(
        request,
        "documents/generate.html",
        {
            "table": table,
            "record": record,
            "choices": choices,
            "error": error,
            "soffice": rendering.soffice(),
        },
    )


@login_required
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """A kept document, as an attachment, to those who may read its record."""
    actor = _actor(request)
    doc = selectors.get_document(actor, pk)
    data = services.read_document(actor, doc)
    response = HttpResponse(data, content_type=services.CONTENT_TYPES[doc.format])
    response["Content-Disposition"] = content_disposition(
        doc.name, f"document-{doc.pk}.{doc.format}", attachment=True
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
