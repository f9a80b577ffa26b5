"""Document templates of a table and the documents made from them.

A :class:`DocumentTemplate` is HTML written in the app (→ PDF with WeasyPrint, or a printable
page) or a Word file uploaded by an administrator (→ DOCX with docxtpl, → PDF with LibreOffice
where it is installed). Each generation is kept as a :class:`GeneratedDocument` on the record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.tables.models import Table


class DocumentTemplate(models.Model):
    KIND_HTML = "html"
    KIND_DOCX = "docx"
    KINDS = [(KIND_HTML, _("HTML → PDF")), (KIND_DOCX, _("Word (DOCX)"))]

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("Название"), max_length=200)
    kind = models.CharField(_("Вид"), max_length=8, choices=KINDS, default=KIND_HTML)
    body = models.TextField(_("Текст шаблона"), blank=True, default="")
    file = models.CharField(_("Файл DOCX"), max_length=500, blank=True, default="")
    number_format = models.CharField(
        _("Формат номера"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("Например «Д-{year}-{n:03}» → «Д-2026-015»; пусто — без номера."),
    )
    is_default = models.BooleanField(_("Основной для таблицы"), default=False)
    is_shipped = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["table_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["table", "name"], name="doctemplate_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class GeneratedDocument(models.Model):
    FORMATS = [("pdf", "PDF"), ("docx", "DOCX"), ("html", "HTML")]

    template = models.ForeignKey(
        DocumentTemplate, on_delete=models.SET_NULL, null=True, related_name="documents"
    )
    template_name = models.CharField(max_length=200)
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    record_id = models.BigIntegerField()
    name = models.CharField(max_length=300)
    number = models.CharField(max_length=100, blank=True, default="")
    format = models.CharField(max_length=8, choices=FORMATS)
    file = models.CharField(max_length=500)
    size = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["table", "record_id"], name="gendoc_record_idx")]

    def __str__(self) -> str:
        return self.name
