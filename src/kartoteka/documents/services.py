"""Every write of document templates and generated documents.

:func:`save_template` refuses a template with a syntax error, an unknown placeholder or a
forbidden attribute (each problem with line and name) and an uploaded Word file that is not a
sane DOCX (the import's zip- and XML-bomb guards). :func:`generate_document` fills a template
from a record the actor may read — fields he may not read come out empty — stores the file on
the record, and writes a history entry on it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied
from kartoteka.documents import rendering
from kartoteka.documents.contexts import extra_real, extra_sample
from kartoteka.documents.models import DocumentTemplate, GeneratedDocument
from kartoteka.documents.shipped import PREFIX, shipped_bytes
from kartoteka.records import selectors
from kartoteka.records.models import RecordChange
from kartoteka.records.services import next_sequence_value
from kartoteka.tables.models import Table
from kartoteka.templating import (
    TemplateProblem,
    base_context,
    check,
    record_context,
    sample_context,
)

SAMPLE_NUMBER = "Д-2026-015"
FORMATS = ("pdf", "docx", "html")
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class TemplateError(KartotekaError):
    """A template was refused at save time; ``problems`` say where and what."""

    code = "template_invalid"

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Шаблоны документов настраивает администратор."))


def sample_for(table: Table) -> dict[str, Any]:
    """The context shape of a document of ``table``, with sample values."""
    return sample_context(table, number=SAMPLE_NUMBER, **extra_sample(table.key))


def template_problems(
    table: Table, kind: str, *, body: str = "", docx: bytes | None = None
) -> list[TemplateProblem]:
    sample = sample_for(table)
    if kind == DocumentTemplate.KIND_DOCX:
        if docx is None:
            return [TemplateProblem(0, "", _("Загрузите файл DOCX."))]
        return rendering.docx_problems(docx, sample)
    if not body.strip():
        return [TemplateProblem(0, "", _("Шаблон пуст."))]
    return check(body, sample, html=True)


def format_number(number_format: str, n: int, today: dt.date) -> str:
    """``Д-{year}-{n:03}`` → ``Д-2026-015``."""
    try:
        return number_format.format(n=n, year=today.year, month=f"{today.month:02d}")
    except (KeyError, IndexError, ValueError, AttributeError):
        raise TemplateError(
            [TemplateProblem(0, "number_format", _("Формат номера не понят."))]
        ) from None


def save_template(
    actor: Actor,
    table: Table,
    *,
    name: str,
    kind: str = DocumentTemplate.KIND_HTML,
    body: str = "",
    docx: bytes | None = None,
    number_format: str = "",
    is_default: bool = False,
    template: DocumentTemplate | None = None,
) -> DocumentTemplate:
    """Create (or, with ``template``, change) a template of ``table``.

    Raises:
        PermissionDenied: the actor is not an administrator.
        TemplateError: a problem with the name, the text or the file; nothing is saved.
    """
    _require_admin(actor)
    name = " ".join(name.split())
    problems: list[TemplateProblem] = []
    if not name:
        problems.append(TemplateProblem(0, "name", _("Укажите название шаблона.")))
    if kind not in (DocumentTemplate.KIND_HTML, DocumentTemplate.KIND_DOCX):
        problems.append(TemplateProblem(0, "kind", _("Неизвестный вид шаблона.")))
    if number_format:
        try:
            format_number(number_format, 1, timezone.localdate())
        except TemplateError as exc:
            problems += exc.problems
    docx_data = docx
    if kind == DocumentTemplate.KIND_DOCX and docx_data is None and template and template.file:
        docx_data = template_bytes(template)
    if not problems:
        problems = template_problems(table, kind, body=body, docx=docx_data)
    if problems:
        raise TemplateError(problems)
    with transaction.atomic():
        obj = template or DocumentTemplate(table=table, created_by=actor.user)
        obj.name, obj.kind, obj.number_format = name, kind, number_format
        obj.body = body if kind == DocumentTemplate.KIND_HTML else ""
        obj.is_default = is_default
        if is_default:
            others = DocumentTemplate.objects.filter(table=table, is_default=True)
            others.exclude(pk=obj.pk).update(is_default=False)
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError:
            raise TemplateError(
                [TemplateProblem(0, "name", _("Шаблон с таким названием уже есть."))]
            ) from None
        if kind == DocumentTemplate.KIND_DOCX and docx is not None:
            obj.file = default_storage.save(
                f"documents/templates/{obj.pk}/template.docx", ContentFile(docx)
            )
            obj.save(update_fields=["file"])
    return obj


def delete_template(actor: Actor, template: DocumentTemplate) -> None:
    _require_admin(actor)
    template.delete()


@dataclass
class Made:
    """A document made but not stored (bulk jobs store nothing on the record)."""

    data: bytes
    filename: str
    content_type: str
    number: str


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}


def formats_of(template: DocumentTemplate) -> list[str]:
    """The formats ``template`` can give here (a DOCX gives PDF only with LibreOffice)."""
    if template.kind == DocumentTemplate.KIND_HTML:
        return ["pdf", "html"]
    return ["docx", "pdf"] if rendering.soffice() else ["docx"]


def document_context(
    actor: Actor,
    template: DocumentTemplate,
    record_id: int,
    *,
    number: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a template of ``template.table`` sees for one record, read as ``actor``."""
    if extra is None:
        extra = extra_real(template.table.key, actor, record_id, wanted=used_names(template))
    return {
        "record": record_context(template.table, record_id, actor),
        **base_context(actor),
        "number": number,
        **extra,
    }


def template_html(
    template: DocumentTemplate,
    record_id: int,
    actor: Actor | None,
    *,
    extra: dict[str, Any] | None = None,
    number: str = "",
) -> str:
    """An HTML template filled for one record (the invoice's print view and PDF use it)."""
    actor = actor or Actor.system("document")
    context = document_context(actor, template, record_id, number=number, extra=extra)
    return rendering.render_html(template.body, context, title=template.name)


def used_names(template: DocumentTemplate) -> str:
    """The template's text (HTML, or the Word file's XML) — what tells which of a table's extra
    names (``invoice``) it uses, so those it does not are never read."""
    if template.kind == DocumentTemplate.KIND_HTML:
        return template.body
    key = (template.pk, template.file, template.updated_at)
    if key not in _XML_CACHE:
        with zipfile.ZipFile(io.BytesIO(template_bytes(template))) as archive:
            _XML_CACHE[key] = "".join(
                archive.read(name).decode("utf-8", "replace")
                for name in archive.namelist()
                if name.startswith("word/") and name.endswith(".xml")
            )
        while len(_XML_CACHE) > 32:
            _XML_CACHE.pop(next(iter(_XML_CACHE)))
    return _XML_CACHE[key]


_XML_CACHE: dict[Any, str] = {}


def template_bytes(template: DocumentTemplate) -> bytes:
    """The Word file of a DOCX template (a shipped one is read from the package)."""
    if template.file.startswith(PREFIX):
        return shipped_bytes(template.file)
    with default_storage.open(template.file, "rb") as fh:
        return bytes(fh.read())


def make_document(
    actor: Actor,
    template: DocumentTemplate,
    record_id: int,
    fmt: str,
    *,
    number: str | None = None,
) -> Made:
    """Fill ``template`` from record ``record_id`` as ``actor`` sees it, in ``fmt``.

    Raises:
        NotFound: the record is missing or not readable by the actor.
        DocumentError: a template problem, or the format cannot be made here.
    """
    if fmt not in formats_of(template):
        raise rendering.DocumentError(
            [
                TemplateProblem(
                    0,
                    "format",
                    _("Формат «%(fmt)s» для этого шаблона недоступен.") % {"fmt": fmt},
                )
            ]
        )
    today = timezone.localdate()
    if number is None:
        number = ""
        if template.number_format:
            n = next_sequence_value(f"document:{template.pk}:{today.year}")
            number = format_number(template.number_format, n, today)
    context = document_context(actor, template, record_id, number=number)
    title = f"{template.name} {number}".strip()
    if template.kind == DocumentTemplate.KIND_HTML:
        html = rendering.render_html(template.body, context, title=title)
        data = html.encode() if fmt == "html" else rendering.html_to_pdf(html)
    else:
        data = rendering.render_docx(template_bytes(template), context)
        if fmt == "pdf":
            data = rendering.docx_to_pdf(data)
    record_title = str(context["record"]) or f"№{record_id}"
    filename = _UNSAFE_FILENAME.sub("-", f"{title} — {record_title}")[:150] + f".{fmt}"
    return Made(data, filename, CONTENT_TYPES[fmt], number)


def generate_document(
    actor: Actor, template: DocumentTemplate, record_id: int, fmt: str
) -> GeneratedDocument:
    """Make a document and keep it on the record, with a history entry («Документ»)."""
    return keep_document(
        actor, template, record_id, fmt, make_document(actor, template, record_id, fmt)
    )


def keep_document(
    actor: Actor, template: DocumentTemplate, record_id: int, fmt: str, made: Made
) -> GeneratedDocument:
    """Store a document made from record ``record_id`` on that record (the «Документы» block)
    and write its history entry — for one document or each of a bulk run's."""
    with transaction.atomic():
        doc = GeneratedDocument.objects.create(
            template=template,
            template_name=template.name,
            table=template.table,
            record_id=record_id,
            name=made.filename,
            number=made.number,
            format=fmt,
            file="",
            size=len(made.data),
            created_by=actor.user,
        )
        doc.file = default_storage.save(
            f"documents/{template.table.key}/{record_id}/{doc.pk}.{fmt}",
            ContentFile(made.data),
        )
        doc.save(update_fields=["file"])
        RecordChange.objects.create(
            table=template.table,
            record_id=record_id,
            action="update",
            user=actor.user,
            source="document",
            created_at=timezone.now(),
            changes={_("Документ"): [None, made.filename]},
        )
    return doc


def read_document(actor: Actor, doc: GeneratedDocument) -> bytes:
    """The stored file of ``doc`` — for those who may read its record (and, for a document
    someone else made, every field: :func:`~kartoteka.documents.selectors.get_document`)."""
    from kartoteka.documents.selectors import get_document

    get_document(actor, doc.pk)
    try:
        with default_storage.open(doc.file, "rb") as fh:
            return bytes(fh.read())
    except OSError:
        raise NotFound(_("Файл документа не найден.")) from None


def counterparty_of(actor: Actor, doc: GeneratedDocument) -> Any:
    """The counterparty a document concerns: its record when that is one, else the record's
    first link to «Контрагенты» (an invoice's buyer); ``None`` when there is none."""
    from kartoteka.tables.modelfactory import fields_of

    record = selectors.get_record(actor, doc.table, doc.record_id)
    if doc.table.key == "counterparties":
        return record
    counterparties = Table.objects.filter(key="counterparties").first()
    for field in fields_of(doc.table):
        if field.type == "link" and field.link_table_id == getattr(counterparties, "pk", None):
            target = getattr(record, f"{field.key}_id")
            if target is not None:
                return selectors.get_record(actor, counterparties, target)
    return None


def send_document(actor: Actor, doc: GeneratedDocument, email: str = "") -> Any:
    """E-mail a kept document to its counterparty (or to ``email``) through the invoice's mail
    path: logged as a done «Письмо» in «Работа с клиентом», which moves no status.

    Raises:
        NotFound: the document or its record is not readable by the actor.
        RuleViolation: no counterparty, no address or a malformed one; nothing is sent.
    """
    from kartoteka.core.exceptions import RuleViolation
    from kartoteka.core.i18n import stored_text
    from kartoteka.crm.invoices import checked_address, send_letter
    from kartoteka.documents.selectors import get_document

    get_document(actor, doc.pk)
    counterparty = counterparty_of(actor, doc)
    if counterparty is None:
        raise RuleViolation(
            "document_no_counterparty",
            _("Документ не относится к контрагенту: отправлять некому."),
        )
    address = checked_address(email or counterparty.email or "", counterparty.name or "")
    body = _("Здравствуйте!\n\nНаправляем документ «%(name)s» — во вложении.\n") % {
        "name": doc.name
    }
    return send_letter(
        actor,
        counterparty_id=counterparty.pk,
        address=address,
        subject=doc.name.rsplit(".", 1)[0],
        body=body,
        attachment=(doc.name, read_document(actor, doc), CONTENT_TYPES[doc.format].split(";")[0]),
        description=stored_text(
            gettext_noop("Отправлен документ «%(name)s» на адрес %(email)s"),
            name=doc.name,
            email=address,
        ),
    )
