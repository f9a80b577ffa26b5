"""The templates every installation starts with, made by :func:`ensure_shipped_templates` (run by
``kartoteka init``/the CRM sync): «Счёт на оплату» (the default invoice template, the invoice's
long-standing look), «Акт выполненных работ» (from an invoice), «Договор поставки» (Word, from a
counterparty) and «Коммерческое предложение» (from a counterparty).

A shipped template is made once: an administrator's changes are never overwritten, and one he
deleted is not brought back while another template of the table has its name. The Word file is
read from the package (``shipped:contract.docx``) until an administrator uploads another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kartoteka.documents.models import DocumentTemplate
from kartoteka.tables.models import Table

HERE = Path(__file__).resolve().parent / "shipped"
PREFIX = "shipped:"


@dataclass(frozen=True)
class Shipped:
    table: str
    name: str
    kind: str
    source: str
    number_format: str = ""
    is_default: bool = False


SHIPPED = (
    Shipped("invoices", "Счёт на оплату", "html", "invoice.html", is_default=True),
    Shipped("invoices", "Акт выполненных работ", "html", "act.html", "А-{year}-{n:03}"),
    Shipped("counterparties", "Договор поставки", "docx", "contract.docx", "Д-{year}-{n:03}"),
    Shipped("counterparties", "Коммерческое предложение", "html", "quote.html", "КП-{year}-{n:03}"),
)


def shipped_bytes(name: str) -> bytes:
    """A file of the package's ``shipped`` folder (``name`` with or without ``shipped:``)."""
    path = (HERE / name.removeprefix(PREFIX)).resolve()
    if path.parent != HERE:
        raise FileNotFoundError(name)
    return path.read_bytes()


def ensure_shipped_templates() -> list[str]:
    """Make the shipped templates that are missing; the names of those made."""
    made = []
    for item in SHIPPED:
        table = Table.objects.filter(key=item.table).first()
        if table is None or DocumentTemplate.objects.filter(table=table, name=item.name).exists():
            continue
        is_default = (
            item.is_default
            and not DocumentTemplate.objects.filter(table=table, is_default=True).exists()
        )
        DocumentTemplate.objects.create(
            table=table,
            name=item.name,
            kind=item.kind,
            body=(HERE / item.source).read_text("utf-8") if item.kind == "html" else "",
            file=f"{PREFIX}{item.source}" if item.kind == "docx" else "",
            number_format=item.number_format,
            is_default=is_default,
            is_shipped=True,
        )
        made.append(f"document template {item.name}")
    return made
