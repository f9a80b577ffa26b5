"""Campaign use cases: create, start, pause, resume, cancel, preview, test, unsubscribe.

Each takes the actor first; a campaign is its author's (and the administrators'): anyone else
gets «not found». Starting writes the recipient rows and enqueues the job after the commit.
"""

from __future__ import annotations

import contextlib
import smtplib
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied
from kartoteka.mailings import messages, selectors
from kartoteka.mailings.audience import (
    NO_MAILING_FIELD,
    InvalidAddress,
    audience_queryset,
    author,
    normalize,
    write_recipients,
)
from kartoteka.mailings.content import ContentError, check, record_context
from kartoteka.mailings.models import EMAIL, SMS, Campaign, OptOut, Recipient
from kartoteka.records.selectors import base_queryset
from kartoteka.records.services import update_records
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table

ADDRESS_TYPES = {EMAIL: "email", SMS: "phone"}


class CampaignError(KartotekaError):
    code = "campaign"


def address_fields(actor: Actor, table: Table, channel: str) -> list[Any]:
    """The fields of ``table`` a campaign on ``channel`` may send to (visible to the actor)."""
    hidden = rights.hidden_keys(actor, table)
    wanted = ADDRESS_TYPES[channel]
    return [f for f in fields_of(table) if f.type == wanted and f.key not in hidden]


def create_campaign(actor: Actor, table: Table, values: dict[str, Any]) -> Campaign:
    """A draft campaign of ``table``. ``values``: name, channel, subject, body, per_minute,
    and the audience — ``saved_view``, ``conditions``/``match``/``search`` or ``record_ids``."""
    if actor.user is None:
        raise PermissionDenied(_("Рассылку создаёт сотрудник."))
    if not rights.can(actor, table, "view"):
        raise NotFound(_("Таблица не найдена."))
    channel = values.get("channel") or EMAIL
    if channel not in ADDRESS_TYPES:
        raise CampaignError(_("Неизвестный канал."), code="channel")
    fields = address_fields(actor, table, channel)
    key = values.get("address_field") or (fields[0].key if fields else "")
    if key not in {f.key for f in fields}:
        raise CampaignError(
            _("В таблице нет поля с адресом для этого канала."), code="no_address_field"
        )
    for name in ("subject", "body"):
        error = check(values.get(name) or "", table, html=name == "body" and channel == EMAIL)
        if error:
            raise CampaignError(_("Ошибка в шаблоне: %(e)s") % {"e": error}, code="template")
    if not (values.get("body") or "").strip():
        raise CampaignError(_("Напишите текст рассылки."), code="body")
    if channel == EMAIL and not (values.get("subject") or "").strip():
        raise CampaignError(_("Укажите тему письма."), code="subject")
    view = values.get("saved_view")
    if view is not None and view.table_id != table.pk:
        raise CampaignError(_("Фильтр от другой таблицы."), code="view")
    campaign = Campaign(
        name=(values.get("name") or "").strip() or _("Рассылка"),
        channel=channel,
        table=table,
        address_field=key,
        saved_view=view,
        conditions=values.get("conditions") or [],
        match=values.get("match") or "all",
        search=values.get("search") or "",
        record_ids=[int(i) for i in values.get("record_ids") or []],
        subject=values.get("subject") or "",
        body=values["body"],
        per_minute=int(values.get("per_minute") or 0),
        created_by=actor.user,
    )
    if values.get("attachment"):
        campaign.attachment = values["attachment"]
    audience_queryset(campaign).exists()  # a bad filter is refused now, not at the start
    campaign.save()
    return campaign


def _mine(actor: Actor, pk: int) -> Campaign:
    return selectors.get_campaign(actor, pk)


def _enqueue(pk: int) -> None:
    from kartoteka.mailings.tasks import enqueue

    transaction.on_commit(lambda: enqueue(pk))


def start_campaign(actor: Actor, pk: int) -> dict[str, int]:
    """Write the recipients (the audience as its author reads it now) and start sending."""
    with transaction.atomic():
        campaign = _mine(actor, pk)
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.state != Campaign.DRAFT:
            raise CampaignError(_("Рассылка уже запущена."), code="state")
        counts = write_recipients(campaign)
        Campaign.objects.filter(pk=pk).update(
            state=Campaign.SENDING, started_at=timezone.now(), reason=""
        )
        _enqueue(pk)
    return counts


def pause_campaign(actor: Actor, pk: int) -> None:
    campaign = _mine(actor, pk)
    if not Campaign.objects.filter(pk=campaign.pk, state=Campaign.SENDING).update(
        state=Campaign.PAUSED, reason=_("приостановлена вручную")
    ):
        raise CampaignError(_("Рассылка не отправляется."), code="state")


def resume_campaign(actor: Actor, pk: int) -> None:
    campaign = _mine(actor, pk)
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign.pk, state=Campaign.PAUSED).update(
            state=Campaign.SENDING, reason=""
        ):
            raise CampaignError(_("Рассылка не на паузе."), code="state")
        _enqueue(campaign.pk)


def cancel_campaign(actor: Actor, pk: int) -> None:
    campaign = _mine(actor, pk)
    with transaction.atomic():
        if not Campaign.objects.filter(
            pk=campaign.pk, state__in=[Campaign.DRAFT, Campaign.SENDING, Campaign.PAUSED]
        ).update(state=Campaign.CANCELLED, finished_at=timezone.now()):
            raise CampaignError(_("Рассылка уже завершена."), code="state")
        Recipient.objects.filter(campaign=campaign, state=Recipient.QUEUED).update(
            state=Recipient.SKIPPED, reason="cancelled"
        )


def _sample(campaign: Campaign, record_id: int | None) -> Any:
    qs = audience_queryset(campaign) if record_id is None else None
    if qs is not None:
        return qs.first()
    try:
        return base_queryset(author(campaign), campaign.table).filter(pk=record_id).first()
    except NotFound:
        return None


def preview(actor: Actor, pk: int, record_id: int | None = None) -> dict[str, Any]:
    """The message for one record of the audience (the first one by default), as its author
    would send it: ``subject``, ``html``/``text`` (e-mail) or ``text`` and SMS ``parts``."""
    campaign = _mine(actor, pk)
    row = _sample(campaign, record_id)
    if row is None:
        raise NotFound(_("Запись не найдена."))
    ctx = messages.context(campaign, record_context(author(campaign), campaign.table, row), 0)
    out: dict[str, Any] = {"record": row, "error": ""}
    try:
        if campaign.channel == EMAIL:
            message = messages.email_message(campaign, ctx, "preview@localhost")
            out.update(subject=message.subject, html=message.alternatives[0][0], text=message.body)
        else:
            from kartoteka.sms import gateway

            cfg = gateway.config()
            text = messages.sms_text(campaign, ctx, cfg.opt_out_text)
            length, cost = gateway.estimate(text, cfg)
            out.update(text=text, parts=length.parts, cost=cost)
    except ContentError as exc:
        out["error"] = str(exc)
    return out


def send_test(actor: Actor, pk: int, record_id: int | None = None, phone: str = "") -> str:
    """Send the message for one record to the actor himself (his e-mail, or ``phone``)."""
    campaign = _mine(actor, pk)
    row = _sample(campaign, record_id)
    if row is None:
        raise NotFound(_("Запись не найдена."))
    ctx = messages.context(campaign, record_context(author(campaign), campaign.table, row), 0)
    try:
        if campaign.channel == EMAIL:
            to = getattr(actor.user, "email", "")
            if not to:
                raise CampaignError(_("В вашей учётной записи нет e-mail."), code="no_email")
            message = messages.email_message(campaign, ctx, to)
            message.subject = "[тест] " + message.subject
            try:
                message.send()
            except (OSError, smtplib.SMTPException) as exc:
                raise CampaignError(
                    _("Почтовый сервер не принял письмо: %(e)s") % {"e": exc}, code="smtp"
                ) from None
            return to
        from kartoteka.sms import send_sms
        from kartoteka.sms.gateway import config

        text = messages.sms_text(campaign, ctx, config().opt_out_text)
        result = send_sms(phone, text)
        if not result.ok:
            raise CampaignError(result.reason, code="sms")
        return result.phone
    except ContentError as exc:
        raise CampaignError(_("Ошибка в шаблоне: %(e)s") % {"e": exc}, code="template") from None


def unsubscribe(token: str) -> Recipient:
    """The recipient of a signed token says «no more»: «Не отправлять рассылки» is set on his
    record (history: «Отписка от рассылки (рассылка №N)») and the address joins the opt-out
    list. Doing it twice changes nothing more."""
    pk = messages.recipient_of_token(token)
    recipient = Recipient.objects.select_related("campaign__table").filter(pk=pk).first()
    if recipient is None:
        raise NotFound(_("Ссылка недействительна."))
    campaign = recipient.campaign
    actor = Actor.system("unsubscribe", source=f"mailing_unsubscribe:{campaign.pk}")
    with transaction.atomic():
        if any(f.key == NO_MAILING_FIELD for f in fields_of(campaign.table)):
            # a record that is gone: the address is opted out all the same
            with contextlib.suppress(NotFound):
                update_records(
                    actor, campaign.table, {recipient.record_id: {NO_MAILING_FIELD: True}}
                )
        if recipient.address:
            try:
                address = normalize(campaign.channel, recipient.address).lower()
            except InvalidAddress:
                address = recipient.address.lower()
            OptOut.objects.get_or_create(
                channel=campaign.channel, address=address, defaults={"campaign": campaign}
            )
        Recipient.objects.filter(pk=recipient.pk).update(state=Recipient.UNSUBSCRIBED)
    return recipient
