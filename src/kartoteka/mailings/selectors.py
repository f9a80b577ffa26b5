"""Reading campaigns: the author's own, every campaign for administrators."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.mailings.models import Campaign, Recipient


def list_campaigns(actor: Actor) -> QuerySet:
    qs = Campaign.objects.select_related("table", "created_by")
    if actor.is_admin or actor.is_system:
        return qs
    if actor.user is None:
        return qs.none()
    return qs.filter(created_by=actor.user)


def get_campaign(actor: Actor, pk: int) -> Campaign:
    campaign = list_campaigns(actor).filter(pk=pk).first()
    if campaign is None:
        raise NotFound(_("Рассылка не найдена."))
    return campaign


def totals(campaign: Campaign) -> dict[str, int]:
    """Recipients by state (every state, zeros included) and ``total``."""
    counts = dict(
        Recipient.objects.filter(campaign=campaign)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    out = {state: counts.get(state, 0) for state, _label in Recipient.STATES}
    out["total"] = sum(counts.values())
    return out


def progress(campaign: Campaign) -> dict[str, Any]:
    t = totals(campaign)
    to_send = t["total"] - t["skipped"]
    done = t["sent"] + t["failed"] + t["bounced"] + t["unsubscribed"]
    percent = round(100 * done / to_send) if to_send else (100 if t["total"] else 0)
    return {"totals": t, "to_send": to_send, "done": done, "percent": percent}


def record_mailings(actor: Actor, table_id: int, record_id: int) -> list[Recipient]:
    """The campaigns a record was in, for its card (campaigns the reader may see)."""
    campaigns = list_campaigns(actor).filter(table_id=table_id)
    return list(
        Recipient.objects.filter(record_id=record_id, campaign__in=campaigns)
        .select_related("campaign")
        .order_by("-campaign_id")[:20]
    )
