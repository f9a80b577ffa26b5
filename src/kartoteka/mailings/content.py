"""A campaign's subject and body are templates of the document templates' engine
(:mod:`kartoteka.templating`): ``{{ record.contact_name }}``, ``{{ amount|words }}`` and the
other Russian helpers, in the same sandbox. The record is given as the campaign's author sees
it (his field rights), with ``company``, ``user`` (the author) and ``today`` beside it, and
``campaign`` and ``unsubscribe_url``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.tables.models import Table
from kartoteka.templating import TemplateRefused, base_context, sample_context
from kartoteka.templating import check as check_template
from kartoteka.templating import record_context as record_bag
from kartoteka.templating.context import loaded_record_context
from kartoteka.templating.engine import environment, render_unchecked, static_problems

#: A template that does not compile or fails for one record (its text is for people).
ContentError = TemplateRefused

SAMPLE_EXTRA = {
    "campaign": {"id": 1, "name": "Пример"},
    "unsubscribe_url": "https://crm.example/m/u/token/",
}


def record_context(actor: Actor, table: Table, record: Any, *, subtables: bool = True) -> Any:
    """The record (loaded by the caller through the selectors, as ``actor``) as ``actor`` sees
    it: fields hidden from him are empty. ``subtables=False`` leaves the subtables' rows out —
    a query per subtable and record that a campaign whose templates never name them (most do
    not) need not pay for each recipient."""
    if subtables:
        return record_bag(table, record, actor)
    return loaded_record_context(actor, table, record, subtables=False)


def uses_subtables(table: Table, *sources: str) -> bool:
    """Whether any of the templates names a subtable of ``table`` (``record.invoices``)."""
    from kartoteka.records.selectors import subtables_of

    keys = [link.table.key for link in subtables_of(table)]
    text = "\n".join(sources)
    return any(re.search(rf"\b{re.escape(key)}\b", text) for key in keys)


def names(actor: Actor) -> dict[str, Any]:
    """``company``, ``user`` and ``today`` for a campaign of ``actor``."""
    return base_context(actor.user)


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    """``source`` filled from ``context``; :class:`ContentError` with the reason otherwise.

    The same as :func:`kartoteka.templating.render`, with the template checked and compiled
    once per process rather than for each recipient."""
    return render_unchecked(_prepared(source, frozenset(context), html), context)


@lru_cache(maxsize=32)
def _prepared(source: str, known: frozenset[str], html: bool) -> Any:
    env = environment(html=html)
    problems = static_problems(source, known, env=env)
    if problems:
        raise TemplateRefused(problems)
    return env.from_string(source)


def check(source: str, table: Table, *, html: bool = False) -> str:
    """``""`` when ``source`` is a good template for ``table``, its problems otherwise."""
    problems = check_template(source, sample_context(table, **SAMPLE_EXTRA), html=html)
    return "; ".join(str(p) for p in problems[:5])
