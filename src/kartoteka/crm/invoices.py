"""Invoices (SPEC §4.7): line sums, totals and VAT, and the invoice actions.

Money is ``Decimal`` everywhere, rounded to kopecks half up; a float never touches it.

- A line's ``sum`` is ``quantity × price``. :class:`InvoiceItemsRules` computes it in ``prepare``,
  so it holds on every path (form, subtable row, import, API, demo); a person cannot type it (the
  field is read-only) and a value given by a system actor is replaced by the computed one.
- The invoice's ``total`` and ``vat`` follow its lines: whenever lines are added, edited, moved,
  archived, deleted, restored or purged, :func:`recompute_invoice_totals` recomputes the invoices
  concerned — in a few batched queries — and writes the changed ones through
  :func:`~kartoteka.records.services.update_records` with a system actor, so the change is in the
  invoice's history like any other. :class:`InvoicesRules` recomputes an invoice when its
  «Наша компания» changes and when it comes back from the archive or the trash.
- VAT follows «Моя компания» — the invoice's ``company``, else the default one (``is_default``,
  else the first): a line's rate is its own ``vat_rate`` if set, else the company's; with
  ``vat_included`` the VAT is contained in the sum (``sum × rate / (100 + rate)``), otherwise it
  is added on top (``sum × rate / 100``, and the total grows by it). VAT is computed per rate over
  the sum of the lines at that rate and rounded once per rate, as the invoice prints it.
  Changing a company's VAT settings does not rewrite invoices already issued.

The actions «Печать», «PDF» and «Отправить по e-mail» of the invoice card are registered here;
the printed form itself is built by :mod:`kartoteka.crm.documents`.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, RuleViolation
from kartoteka.core.i18n import stored_text
from kartoteka.records.actions import ActionParam, ActionResult, TableAction, register_action
from kartoteka.records.rules import RowChange, RuleContext, TableRules, table_rules
from kartoteka.tables.modelfactory import STATE_ACTIVE, STATE_DELETED, model_for
from kartoteka.tables.models import Table

logger = logging.getLogger(__name__)

KOPECK = Decimal("0.01")
ZERO = Decimal("0.00")

#: VAT rate choice keys of «Ставка НДС» → percent; ``None`` means «Без НДС».
VAT_PERCENT: dict[str, Decimal | None] = {
    "none": None,
    "vat0": Decimal(0),
    "vat10": Decimal(10),
    "vat20": Decimal(20),
}
#: Item fields whose change changes the invoice's totals.
TOTALS_FIELDS = frozenset({"invoice", "quantity", "price", "sum", "vat_rate"})


def to_kopecks(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


def line_sum(quantity: Decimal | None, price: Decimal | None) -> Decimal | None:
    """``quantity × price`` rounded to kopecks; empty when either is empty."""
    if quantity is None or price is None:
        return None
    return to_kopecks(Decimal(quantity) * Decimal(price))


@dataclass(frozen=True)
class CompanyVat:
    """The VAT settings of a «Моя компания» record."""

    rate: str = "none"
    included: bool = True


#: Without any «Моя компания» there is nobody to charge VAT.
NO_COMPANY = CompanyVat()


@dataclass(frozen=True)
class VatLine:
    """The VAT of the lines at one rate: ``base`` is their sum, ``amount`` the VAT."""

    rate: str
    percent: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    """What the bottom of an invoice says.

    Attributes:
        subtotal: the sum of the lines («Итого»).
        vat: the VAT, contained in ``subtotal`` or added to it.
        total: what is to be paid («Всего к оплате»).
        vat_included: whether the VAT is contained in the prices.
        vat_lines: the VAT per rate, highest rate first; empty means «Без НДС».
    """

    subtotal: Decimal
    vat: Decimal
    total: Decimal
    vat_included: bool
    vat_lines: tuple[VatLine, ...] = field(default_factory=tuple)

    @property
    def without_vat(self) -> bool:
        return not self.vat_lines


def compute_totals(
    items: Iterable[tuple[Decimal | None, str | None]], company: CompanyVat
) -> InvoiceTotals:
    """Totals of an invoice from its lines ``(sum, vat_rate)`` and its company's VAT settings."""
    by_rate: dict[str, Decimal] = defaultdict(lambda: ZERO)
    subtotal = ZERO
    for amount, rate in items:
        amount = ZERO if amount is None else Decimal(amount)
        subtotal += amount
        by_rate[rate or company.rate or "none"] += amount
    lines = []
    for rate, base in by_rate.items():
        percent = VAT_PERCENT.get(rate)
        if percent is None:
            continue
        if company.included:
            vat = to_kopecks(base * percent / (100 + percent))
        else:
            vat = to_kopecks(base * percent / 100)
        lines.append(VatLine(rate, percent, to_kopecks(base), vat))
    lines.sort(key=lambda line: line.percent, reverse=True)
    vat = sum((line.amount for line in lines), ZERO)
    subtotal = to_kopecks(subtotal)
    total = subtotal if company.included else subtotal + vat
    return InvoiceTotals(subtotal, vat, total, company.included, tuple(lines))


def company_vat(record: Any) -> CompanyVat:
    if record is None:
        return NO_COMPANY
    return CompanyVat(rate=record.vat_rate or "none", included=bool(record.vat_included))


def pick_default_company(queryset: Any) -> Any:
    """The default «Моя компания» of a queryset of companies: the first marked «Основная»,
    else the first one at all (an installation with one company need not mark it)."""
    found = queryset.filter(is_default=True).order_by("pk").first()
    return found if found is not None else queryset.order_by("pk").first()


def _table(key: str) -> Table:
    return Table.objects.get(key=key)


def _companies_vat(company_ids: set[int]) -> tuple[dict[int, CompanyVat], CompanyVat]:
    """The VAT settings of the given companies and of the default one, in at most two queries."""
    model = model_for(_table("companies"))
    records = list(
        model.objects.filter(
            Q(pk__in=company_ids) | Q(is_default=True, record_state=STATE_ACTIVE)
        ).order_by("pk")
    )
    by_id = {r.pk: company_vat(r) for r in records if r.pk in company_ids}
    default = next((r for r in records if r.is_default and r.record_state == STATE_ACTIVE), None)
    if default is None:
        default = model.objects.filter(record_state=STATE_ACTIVE).order_by("pk").first()
    return by_id, company_vat(default)


def recompute_invoice_totals(actor: Actor, invoice_ids: Iterable[int | None]) -> None:
    """Recompute ``total`` and ``vat`` of the invoices from their active lines.

    Invoices in the trash are left alone (they are recomputed when restored). Only invoices
    whose figures change are written, by ``Actor.system("invoice totals")`` arriving through
    the same path as ``actor``.
    """
    from kartoteka.records.services import update_records

    ids = {pk for pk in invoice_ids if pk}
    if not ids:
        return
    table = _table("invoices")
    invoices = list(
        model_for(table)
        .objects.filter(pk__in=ids)
        .exclude(record_state=STATE_DELETED)
        .values_list("pk", "company_id", "total", "vat")
    )
    if not invoices:
        return
    companies, default = _companies_vat({c for _pk, c, _t, _v in invoices if c})
    lines: dict[int, list[tuple[Decimal | None, str | None]]] = defaultdict(list)
    items = model_for(_table("invoice_items")).objects.filter(
        invoice_id__in=[pk for pk, *_rest in invoices], record_state=STATE_ACTIVE
    )
    for invoice_id, amount, rate in items.order_by("id").values_list(
        "invoice_id", "sum", "vat_rate"
    ):
        lines[invoice_id].append((amount, rate))
    updates: dict[int, dict[str, Decimal]] = {}
    for pk, company_id, total, vat in invoices:
        company = companies.get(company_id, default) if company_id else default
        totals = compute_totals(lines.get(pk, []), company)
        if (total, vat) != (totals.total, totals.vat):
            updates[pk] = {"total": totals.total, "vat": totals.vat}
    if updates:
        update_records(Actor.system("invoice totals", source=actor.source), table, updates)


# -- rules ---------------------------------------------------------------------------------------


class InvoiceItemsRules(TableRules):
    """«Позиции счёта»: the line sum is computed; the invoice's totals follow the lines."""

    table_key = "invoice_items"

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for row in rows:
            if not row.is_create and not {"quantity", "price", "sum"} & set(row.values):
                continue
            amount = line_sum(row.get("quantity"), row.get("price"))
            if row.is_create or amount != row.record.sum:
                row.values["sum"] = amount
            else:
                row.values.pop("sum", None)

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        ids: set[int | None] = set()
        for row in rows:
            if row.is_create or TOTALS_FIELDS & set(row.values):
                ids.add(row.get("invoice"))
                ids.add(row.old.get("invoice"))
        recompute_invoice_totals(ctx.actor, ids)

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        recompute_invoice_totals(ctx.actor, {r.invoice_id for r in records})


class InvoicesRules(TableRules):
    """«Счета»: a new invoice starts at zero; totals follow a change of «Наша компания» and a
    return from the archive or the trash."""

    table_key = "invoices"

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for row in rows:
            if row.is_create:
                for key in ("total", "vat"):
                    if row.values.get(key) is None:
                        row.values[key] = ZERO

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        changed = [r.record.pk for r in rows if not r.is_create and "company" in r.values]
        recompute_invoice_totals(ctx.actor, changed)

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        if state == STATE_ACTIVE:
            recompute_invoice_totals(ctx.actor, [r.pk for r in records])


# -- sending by e-mail ---------------------------------------------------------------------------


@dataclass
class Delivery:
    """The outcome of :func:`send_invoice`; ``sent`` stays ``None`` while the caller's
    transaction is open (the letter leaves after it commits)."""

    address: str
    subject: str
    work_id: int | None = None
    sent: bool | None = None
    error: str = ""


def send_invoice(actor: Actor, invoice_id: int, email: str = "") -> Delivery:
    """Send the invoice's PDF to the counterparty's e-mail (or to ``email``) and log a letter
    (see :func:`send_letter`).

    Raises:
        RuleViolation: no address (``invoice_email_missing``) or a malformed one
            (``invoice_email_invalid``); then nothing is written or sent.
        NotFound: the invoice is not readable by ``actor``.
    """
    from kartoteka.crm.documents import build_invoice_document, render_invoice_pdf

    doc = build_invoice_document(actor, invoice_id, verb="send")
    address = checked_address(email or doc.buyer.email or "", doc.buyer.name)
    return send_letter(
        actor,
        counterparty_id=doc.buyer.pk,
        address=address,
        subject=doc.subject,
        body=doc.email_body,
        attachment=(doc.filename, render_invoice_pdf(doc, actor), "application/pdf"),
        description=stored_text(
            gettext_noop("Отправлен счёт №%(number)s на адрес %(email)s"),
            number=doc.number,
            email=address,
        ),
    )


def checked_address(address: str, counterparty_name: str) -> str:
    """The address a letter goes to, or ``RuleViolation`` (``invoice_email_missing``,
    ``invoice_email_invalid``)."""
    address = (address or "").strip()
    if not address:
        raise RuleViolation(
            "invoice_email_missing",
            _("У контрагента «%(name)s» не указан e-mail. Введите адрес получателя.")
            % {"name": counterparty_name},
            field="email",
        )
    try:
        validate_email(address)
    except ValidationError:
        raise RuleViolation(
            "invoice_email_invalid",
            _("«%(email)s» — неверный адрес e-mail.") % {"email": address},
            field="email",
        ) from None
    return address


def send_letter(
    actor: Actor,
    *,
    counterparty_id: int | None,
    address: str,
    subject: str,
    body: str,
    attachment: tuple[str, bytes, str],
    description: str,
) -> Delivery:
    """Send a letter with one attachment to a counterparty and log it in his «Работа с
    клиентом» — the one mail path of invoices and documents.

    In one transaction a done «Письмо» row without status (a letter does not move the funnel by
    itself) is added; the letter leaves through Django's e-mail framework after the commit. If
    the mail server refuses it, the row is turned back into a planned one whose «Результат»
    says why, and ``Delivery.sent`` is ``False``.
    """
    from kartoteka.records.selectors import get_table
    from kartoteka.records.services import create_records

    delivery = Delivery(address=address, subject=subject)
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        reply_to=[actor.user.email] if actor.user is not None and actor.user.email else None,
    )
    message.attach(*attachment)
    with transaction.atomic():
        work = create_records(
            actor,
            get_table(actor, "client_work"),
            [
                {
                    "counterparty": counterparty_id,
                    "date": timezone.localdate(),
                    "work_type": "letter",
                    "description": description,
                    "done": True,
                    "status": None,
                }
            ],
        )
        delivery.work_id = work[0].pk
        transaction.on_commit(lambda: _deliver(actor, message, delivery))
    return delivery


def _deliver(actor: Actor, message: EmailMessage, delivery: Delivery) -> None:
    from kartoteka.records.services import update_records

    try:
        message.send()
    except Exception as exc:  # any SMTP or network failure: record it, do not lose the row
        logger.exception("Invoice e-mail to %s failed", delivery.address)
        delivery.sent = False
        delivery.error = mail_failure(exc)
        assert delivery.work_id is not None  # set before the transaction commits
        update_records(
            Actor.system("invoice e-mail failed", source=actor.source),
            _table("client_work"),
            {
                delivery.work_id: {
                    "done": False,
                    "result": _("Не удалось отправить письмо: %(error)s")
                    % {"error": delivery.error},
                }
            },
        )
    else:
        delivery.sent = True


def mail_failure(exc: BaseException) -> str:
    """Why a letter was not sent, in words for people; the technical detail (``[Errno 111]
    Connection refused``…) goes to the server log only."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _("почтовый сервер не принял имя пользователя и пароль")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _("почтовый сервер не принял адрес получателя")
    if isinstance(exc, smtplib.SMTPException):
        return _("почтовый сервер отклонил письмо")
    if isinstance(exc, OSError):
        return _("почтовый сервер недоступен")
    return _("ошибка при отправке, подробности в журнале сервера")


# -- actions -------------------------------------------------------------------------------------


def _single(ids: list[int]) -> int:
    if len(ids) != 1:
        raise KartotekaError(_("Выберите один счёт."), code="one_record")
    return ids[0]


class PrintInvoiceAction(TableAction):
    """«Печать»: opens the print view of the invoice."""

    table_key = "invoices"
    key = "print"
    verb = "print"
    label: Any = gettext_lazy("Печать")
    style = "outline-secondary"

    def link(self, record: Any) -> str | None:
        return reverse("documents:invoice_print", args=[record.pk])

    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        from kartoteka.records.selectors import get_record

        record = get_record(actor, table, _single(ids), include_deleted=False)
        return ActionResult(
            _("Счёт №%(number)s открыт для печати.") % {"number": record.number},
            redirect_to=reverse("documents:invoice_print", args=[record.pk]),
        )


class InvoicePdfAction(TableAction):
    """«PDF»: downloads the invoice as a PDF file."""

    table_key = "invoices"
    key = "pdf"
    verb = "print"
    label: Any = gettext_lazy("PDF")
    style = "outline-secondary"

    def link(self, record: Any) -> str | None:
        return reverse("documents:invoice_pdf", args=[record.pk]) + "?download=1"

    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        from kartoteka.records.selectors import get_record

        record = get_record(actor, table, _single(ids), include_deleted=False)
        return ActionResult(
            _("PDF счёта №%(number)s сформирован.") % {"number": record.number},
            redirect_to=reverse("documents:invoice_pdf", args=[record.pk]) + "?download=1",
        )


class SendInvoiceAction(TableAction):
    """«Отправить по e-mail»: the PDF goes to the counterparty's e-mail or to
    ``params["email"]``."""

    table_key = "invoices"
    key = "send_email"
    verb = "send"
    label: Any = gettext_lazy("Отправить по e-mail")
    style = "outline-primary"
    params = (
        ActionParam(
            "email",
            gettext_lazy("E-mail получателя"),
            type="email",
            help_text=gettext_lazy("Пусто — на e-mail контрагента."),
        ),
    )

    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        delivery = send_invoice(actor, _single(ids), str(params.get("email") or ""))
        if delivery.sent is False:
            raise KartotekaError(
                _(
                    "Не удалось отправить письмо на адрес %(email)s: %(error)s. "
                    "В работе с клиентом письмо оставлено невыполненным."
                )
                % {"email": delivery.address, "error": delivery.error},
                code="email_failed",
            )
        return ActionResult(
            _("Счёт отправлен на адрес %(email)s.") % {"email": delivery.address},
            data={"email": delivery.address, "work_id": delivery.work_id},
        )


def register_invoice_rules() -> None:
    """Register the rules of «Счета» and «Позиции счёта» and the invoice actions."""
    for rules in (InvoiceItemsRules(), InvoicesRules()):
        # ``table_rules`` composes several rule sets of one table (the payment rules of
        # «Счета» live in crm/rules.py); register ours once.
        existing = table_rules.find(rules.table_key)
        parts = getattr(existing, "parts", [existing]) if existing else []
        if not any(type(p) is type(rules) for p in parts):
            table_rules.register(rules.table_key, rules)
    for action in (PrintInvoiceAction(), InvoicePdfAction(), SendInvoiceAction()):
        register_action(action)
