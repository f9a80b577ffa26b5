"""``{% record_documents table record %}``: the «Документы» block of a record card."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.core.actor import Actor
from kartoteka.documents import selectors

register = template.Library()


@register.inclusion_tag("documents/_card_block.html", takes_context=True)
def record_documents(context: Any, table: Any, record: Any) -> dict[str, Any]:
    actor = Actor.for_user(context["request"].user)
    docs = list(selectors.list_documents(actor, table, record.pk)[:50])
    return {"docs": docs, "table": table, "record": record}
