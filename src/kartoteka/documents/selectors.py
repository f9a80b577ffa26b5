"""Reads of document templates and of the documents kept on records."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.documents.models import DocumentTemplate, GeneratedDocument
from kartoteka.records import selectors
from kartoteka.tables.models import Table


def list_templates(actor: Actor, table: Table | None = None) -> QuerySet:
    """The templates of ``table`` (every table's when ``None``) among the tables the actor
    may view; the default first."""
    tables = [t.pk for t in selectors.list_tables(actor)]
    qs = DocumentTemplate.objects.filter(table_id__in=tables).select_related("table")
    if table is not None:
        qs = qs.filter(table=table)
    return qs.order_by("table__position", "-is_default", "name")


def get_template(
    actor: Actor, pk: int | None = None, *, table: Table | None = None, name: str = ""
) -> DocumentTemplate:
    """A template by id, or by ``name`` within ``table``; ``NotFound`` when missing or its
    table is not viewable."""
    qs = list_templates(actor, table)
    found = qs.filter(pk=pk).first() if pk is not None else qs.filter(name=name).first()
    if found is None:
        raise NotFound(_("Шаблон документа не найден."))
    return found


def list_documents(actor: Actor, table: Table, record_id: int) -> QuerySet:
    """The documents kept on a record the actor may read, newest first (see
    :func:`sees_all_fields` for documents others made)."""
    selectors.get_record(actor, table, record_id)
    qs = GeneratedDocument.objects.filter(table=table, record_id=record_id)
    if not sees_all_fields(actor):
        qs = qs.filter(created_by_id=actor.user_id)
    return qs.select_related("created_by", "template")


def sees_all_fields(actor: Actor) -> bool:
    """A kept document holds what its maker could read; one made by someone else is given
    only to a user from whom no field of any table is hidden."""
    if actor.is_admin:
        return True
    return not any(rights.hidden_keys(actor, t) for t in selectors.list_tables(actor))


def get_document(actor: Actor, pk: int) -> GeneratedDocument:
    doc = GeneratedDocument.objects.select_related("table").filter(pk=pk).first()
    if doc is None:
        raise NotFound(_("Документ не найден."))
    selectors.get_record(actor, doc.table, doc.record_id)
    if doc.created_by_id != actor.user_id and not sees_all_fields(actor):
        raise NotFound(_("Документ не найден."))
    return doc
