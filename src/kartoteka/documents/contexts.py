"""Names a table's documents have besides ``record``: a registry filled by the apps that own the
tables. The invoices' documents get ``invoice`` — the printed invoice's content
(:class:`kartoteka.crm.documents.InvoiceDocument`: parties, bank, lines, totals, the amount in
words), read with the user's rights."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kartoteka.core.actor import Actor


@dataclass(frozen=True)
class ExtraContext:
    #: ``(actor, record id) → names``: the real values.
    real: Callable[[Actor, int], dict[str, Any]]
    #: ``() → names``: sample values of the same shape (save-time checks, the reference).
    sample: Callable[[], dict[str, Any]]
    #: The names it gives.
    names: tuple[str, ...] = ()


def _invoice_real(actor: Actor, record_id: int) -> dict[str, Any]:
    from kartoteka.crm.documents import build_invoice_document

    return {"invoice": build_invoice_document(actor, record_id)}


def _invoice_sample() -> dict[str, Any]:
    from kartoteka.crm.documents import sample_invoice_document

    return {"invoice": sample_invoice_document()}


extra_contexts: dict[str, ExtraContext] = {
    "invoices": ExtraContext(_invoice_real, _invoice_sample, ("invoice",)),
}


def extra_real(
    table_key: str, actor: Actor, record_id: int, *, wanted: str | None = None
) -> dict[str, Any]:
    """The extra names of a table's document; with ``wanted`` (the template's text), only
    when the text mentions one of them — a template cannot use a name it does not mention, so
    the invoice is not read for one that only uses ``record``."""
    extra = extra_contexts.get(table_key)
    if extra is None:
        return {}
    if wanted is not None and not any(re.search(rf"\b{n}\b", wanted) for n in extra.names):
        return {}
    return extra.real(actor, record_id)


def extra_sample(table_key: str) -> dict[str, Any]:
    extra = extra_contexts.get(table_key)
    return extra.sample() if extra is not None else {}
