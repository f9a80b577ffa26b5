"""The printed invoice («Счёт на оплату»): its content, its HTML and its PDF.

:func:`build_invoice_document` reads the invoice, its lines, the buyer (the counterparty) and the
supplier (the invoice's «Моя компания», else the default one) through
:mod:`kartoteka.records.selectors`, so access rights apply once they land there, and turns them
into plain display values: Russian money format (``1 234,56``), ``dd.mm.yyyy`` dates, the VAT line
(«В том числе НДС 20 %», «НДС 20 %» when added on top, or «Без НДС»), the amount in words, and
the stamp and signature images.

One template, ``crm/invoice.html``, serves both the print view in the browser and WeasyPrint; the
screen-only toolbar is left out of the PDF. The wording of the form is that of a Russian business
document sent to a Russian buyer, so it is not translated with the interface language. Images are
embedded as ``data:`` URIs, and WeasyPrint may fetch nothing else, so a PDF never reaches out to
the network or the file system.
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound, PermissionDenied
from kartoteka.crm.invoices import InvoiceTotals, company_vat, compute_totals, pick_default_company
from kartoteka.crm.money_words import amount_in_words
from kartoteka.records import selectors
from kartoteka.tables.fieldtypes.numbers import format_decimal
from kartoteka.tables.fieldtypes.phone import format_phone
from kartoteka.templating.helpers import initials, long_date, short_date

TEMPLATE = "crm/invoice.html"
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def money(value: Decimal | None) -> str:
    """``1234.5`` → ``1 234,50`` (non-breaking spaces group thousands)."""
    return format_decimal(Decimal(value or 0), 2)


def quantity_text(value: Decimal | None) -> str:
    """A quantity without trailing zeros: ``1``, ``1,5``, ``2,125``."""
    if value is None:
        return ""
    exponent = Decimal(value).normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return format_decimal(Decimal(value), places)


def percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def image_data_uri(name: str | None) -> str:
    """An image of the media storage as a ``data:`` URI; empty when there is none."""
    if not name:
        return ""
    mime, _encoding = mimetypes.guess_type(name)
    if not mime or not mime.startswith("image/"):
        return ""
    try:
        with default_storage.open(name, "rb") as fh:
            data = fh.read()
    except (OSError, ValueError):
        return ""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class Party:
    """The supplier or the buyer as the invoice names them."""

    pk: int | None
    name: str
    inn: str = ""
    kpp: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""

    @property
    def line(self) -> str:
        """«ООО «Ромашка», ИНН 7704…, КПП 7704…, 119021, г. Москва, …, тел.: +7 495 123-45-67»."""
        parts = [self.name]
        if self.inn:
            parts.append(f"ИНН {self.inn}")
        if self.kpp:
            parts.append(f"КПП {self.kpp}")
        if self.address:
            parts.append(self.address)
        if self.phone:
            parts.append(f"тел.: {self.phone}")
        return ", ".join(p for p in parts if p)


@dataclass
class Bank:
    name: str = ""
    bik: str = ""
    account: str = ""
    corr_account: str = ""


@dataclass
class Line:
    number: int
    name: str
    quantity: str
    unit: str
    price: str
    sum: str


@dataclass
class VatRow:
    label: str
    amount: str


@dataclass
class InvoiceDocument:
    """Everything the printed invoice shows, as display text."""

    pk: int
    number: str
    date: dt.date
    supplier: Party
    buyer: Party
    bank: Bank
    lines: list[Line]
    totals: InvoiceTotals
    due_date: dt.date | None = None
    director: str = ""
    accountant: str = ""
    stamp: str = ""
    signature: str = ""
    vat_rows: list[VatRow] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Счёт на оплату № {self.number} от {long_date(self.date)}"

    @property
    def subject(self) -> str:
        return f"Счёт №{self.number} от {short_date(self.date)}"

    @property
    def filename(self) -> str:
        return f"{_UNSAFE_FILENAME.sub('-', self.subject)}.pdf"

    @property
    def subtotal(self) -> str:
        return money(self.totals.subtotal)

    @property
    def total(self) -> str:
        return money(self.totals.total)

    @property
    def summary(self) -> str:
        """«Всего наименований 3, на сумму 1 234,56 руб.»"""
        return f"Всего наименований {len(self.lines)}, на сумму {self.total} руб."

    @property
    def in_words(self) -> str:
        return amount_in_words(self.totals.total)

    @property
    def email_body(self) -> str:
        return (
            "Здравствуйте!\n\n"
            f"Направляем счёт №{self.number} от {short_date(self.date)} "
            f"на сумму {self.total} руб. Счёт — во вложении (PDF).\n\n"
            f"С уважением,\n{self.supplier.name}"
        )


def vat_rows(totals: InvoiceTotals) -> list[VatRow]:
    """The VAT lines under «Итого»: one per rate, or «Без НДС»."""
    if totals.without_vat:
        return [VatRow("Без НДС", "—")]
    prefix = "В том числе НДС" if totals.vat_included else "НДС"
    return [
        VatRow(f"{prefix} {percent_text(line.percent)} %", money(line.amount))
        for line in totals.vat_lines
    ]


def _company(actor: Actor, company_id: int | None) -> Any:
    table = selectors.get_table(actor, "companies")
    if company_id:
        try:
            return selectors.get_record(actor, table, company_id)
        except NotFound:
            pass
    return pick_default_company(selectors.base_queryset(actor, table))


def build_invoice_document(
    actor: Actor, invoice_id: int, *, verb: str = "print"
) -> InvoiceDocument:
    """Read an invoice and everything its printed form needs. Fields hidden from the actor are
    left empty in the document.

    Raises:
        NotFound: the invoice does not exist, is in the trash, or is not readable by ``actor``.
        PermissionDenied: the actor may not print (``verb``: or send) invoices.
    """
    from kartoteka.access import rights

    invoices = selectors.get_table(actor, "invoices")
    invoice = selectors.get_record(actor, invoices, invoice_id, include_deleted=False)
    if not rights.can(actor, invoices, verb):
        raise PermissionDenied(_("Нет права печатать и отправлять счета."))
    selectors.mask_hidden(actor, invoices, invoice)
    counterparties = selectors.get_table(actor, "counterparties")
    counterparty = selectors.mask_hidden(
        actor,
        counterparties,
        selectors.get_record(actor, counterparties, invoice.counterparty_id),
    )
    company = _company(actor, invoice.company_id)
    if company is not None:
        selectors.mask_hidden(actor, selectors.get_table(actor, "companies"), company)
    items = list(
        selectors.list_records(
            actor,
            selectors.get_table(actor, "invoice_items"),
            parent=("invoice", invoice.pk),
            ordering=("id",),
        )
    )
    totals = compute_totals([(i.sum, i.vat_rate) for i in items], company_vat(company))
    buyer = Party(
        pk=counterparty.pk,
        name=counterparty.name or "",
        inn=counterparty.inn or "",
        kpp=counterparty.kpp or "",
        address=counterparty.address or "",
        phone=format_phone(counterparty.phone) if counterparty.phone else "",
        email=counterparty.email or "",
    )
    if company is None:
        supplier, bank = Party(pk=None, name=""), Bank()
    else:
        supplier = Party(
            pk=company.pk,
            name=company.name or "",
            inn=company.inn or "",
            kpp=company.kpp or "",
            address=company.address or "",
            phone=format_phone(company.phone) if company.phone else "",
        )
        bank = Bank(
            name=company.bank or "",
            bik=company.bik or "",
            account=company.account or "",
            corr_account=company.corr_account or "",
        )
    lines = [
        Line(
            number=index,
            name=item.name or "",
            quantity=quantity_text(item.quantity),
            unit=item.unit or "",
            price=money(item.price) if item.price is not None else "",
            sum=money(item.sum) if item.sum is not None else "",
        )
        for index, item in enumerate(items, start=1)
    ]
    return InvoiceDocument(
        pk=invoice.pk,
        number=invoice.number or "",
        date=invoice.date,
        due_date=invoice.due_date,
        supplier=supplier,
        buyer=buyer,
        bank=bank,
        lines=lines,
        totals=totals,
        director=initials(company.director) if company is not None else "",
        accountant=initials(company.accountant) if company is not None else "",
        stamp=image_data_uri(company.stamp) if company is not None else "",
        signature=image_data_uri(company.signature) if company is not None else "",
        vat_rows=vat_rows(totals),
    )


def invoice_context(doc: InvoiceDocument, *, for_pdf: bool) -> dict[str, Any]:
    return {"doc": doc, "for_pdf": for_pdf}


def render_invoice_html(doc: InvoiceDocument, *, for_pdf: bool = True, request: Any = None) -> str:
    return render_to_string(TEMPLATE, invoice_context(doc, for_pdf=for_pdf), request=request)


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice as a PDF (WeasyPrint, A4); only ``data:`` URIs may be fetched."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_invoice_html(doc, for_pdf=True)
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
