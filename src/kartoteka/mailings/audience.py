"""Who a campaign reaches: its audience read as its author, with the exclusions counted.

The records come from :func:`kartoteka.records.selectors.list_records` as the campaign's author
(his table rights and row filter: a manager's campaign reaches only his clients), narrowed by a
saved view, the grid's filter or chosen ids. One pass over ``(id, address, «Не отправлять
рассылки»)`` tuples read in chunks decides each record — sent, or skipped for a reason — so the
same code counts the audience for the page and writes the recipient rows at the start, in flat
memory whatever the audience's size (only the set of addresses seen is kept, for duplicates).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.utils.translation import gettext_lazy as _

from kartoteka.core.actor import Actor
from kartoteka.grids.services import view_conditions
from kartoteka.mailings.models import EMAIL, Campaign, OptOut, Recipient
from kartoteka.records.selectors import Condition, list_records
from kartoteka.sms.text import InvalidPhone, normalize_phone
from kartoteka.tables.modelfactory import fields_of

CHUNK = 2000
NO_MAILING_FIELD = "no_mailing"

REASONS = {
    "no_mailing": _("«Не отправлять рассылки»"),
    "unsubscribed": _("отписались"),
    "no_address": _("нет адреса"),
    "invalid_address": _("неверный адрес"),
    "duplicate": _("тот же адрес ещё раз"),
}


class InvalidAddress(ValueError):
    pass


def normalize_email(value: str) -> str:
    """An address as it is sent: trimmed, the domain in lower case and punycode (IDN).

    Raises:
        InvalidAddress: not an address, or a local part outside ASCII (it would need SMTPUTF8,
            which the campaign's mail path does not speak).
    """
    text = (value or "").strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(text)
    if not local.isascii():
        raise InvalidAddress(text)
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidAddress(text) from None
    address = f"{local}@{domain}"
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidAddress(text) from None
    return address


def normalize(channel: str, value: str) -> str:
    if channel == EMAIL:
        return normalize_email(value)
    try:
        return normalize_phone(value)
    except InvalidPhone:
        raise InvalidAddress(value) from None


def author(campaign: Campaign) -> Actor:
    return Actor.for_user(campaign.created_by, source=f"mailing:{campaign.pk}")


def audience_queryset(campaign: Campaign) -> Any:
    """The campaign's records as its author may read them."""
    view = campaign.saved_view
    if view is not None:
        conditions, match, search = view_conditions(view), view.match, view.search
    else:
        conditions = [Condition(*c) for c in campaign.conditions or [] if len(c) == 3]
        match, search = campaign.match, campaign.search
    qs = list_records(
        author(campaign),
        campaign.table,
        conditions=conditions,
        match=match,
        search=search,
        ordering=["id"],
    )
    if campaign.record_ids:
        qs = qs.filter(pk__in=[int(i) for i in campaign.record_ids])
    return qs


def decide(campaign: Campaign) -> Iterator[tuple[int, str, str]]:
    """``(record id, address, skip reason or "")`` for each record of the audience."""
    keys = {f.key for f in fields_of(campaign.table)}
    columns = ["pk", campaign.address_field]
    flag = NO_MAILING_FIELD in keys
    if flag:
        columns.append(NO_MAILING_FIELD)
    opted_out = set(
        OptOut.objects.filter(channel=campaign.channel).values_list("address", flat=True)
    )
    seen: set[str] = set()
    rows = audience_queryset(campaign).values_list(*columns)
    for row in rows.iterator(chunk_size=CHUNK):
        pk, raw = row[0], row[1]
        if flag and row[2]:
            yield pk, raw or "", "no_mailing"
            continue
        if not raw or not str(raw).strip():
            yield pk, "", "no_address"
            continue
        try:
            address = normalize(campaign.channel, str(raw))
        except InvalidAddress:
            yield pk, str(raw)[:320], "invalid_address"
            continue
        key = address.lower()
        if key in opted_out:
            yield pk, address, "unsubscribed"
        elif key in seen:
            yield pk, address, "duplicate"
        else:
            seen.add(key)
            yield pk, address, ""


def count_audience(campaign: Campaign) -> dict[str, int]:
    """``{"recipients": n, reason: n …}`` without writing anything."""
    counts: Counter[str] = Counter()
    for _pk, _address, reason in decide(campaign):
        counts[reason or "recipients"] += 1
    return {"recipients": counts["recipients"], **{k: counts[k] for k in REASONS}}


def write_recipients(campaign: Campaign) -> dict[str, int]:
    """Write the recipient rows (queued or skipped with the reason); returns the counts.

    Rows go in with ``executemany`` in chunks, as the records service writes history: building
    a model instance per recipient costs more than the insert itself at 100,000 recipients."""
    counts: Counter[str] = Counter()
    sql = (
        f"INSERT INTO {Recipient._meta.db_table} (campaign_id, record_id, address, state, "
        "reason, attempts, claimed_by) VALUES (%s, %s, %s, %s, %s, 0, '') "
        "ON CONFLICT (campaign_id, record_id) DO NOTHING"
    )
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for pk, address, reason in decide(campaign):
            counts[reason or "recipients"] += 1
            state = Recipient.SKIPPED if reason else Recipient.QUEUED
            batch.append((campaign.pk, pk, address, state, reason))
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    return {"recipients": counts["recipients"], **{k: counts[k] for k in REASONS}}
