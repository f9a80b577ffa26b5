"""A campaign's subject and body as templates: ``{{ record.contact_name }}`` and the like.

The document templates' engine (``kartoteka.templating``) is meant to render these; until it is
in this tree, this module is the adapter with the same shape — :func:`render` and :func:`check`
over Jinja2's sandbox, the record given as the values its author may see (hidden fields are
not in it). Only the two functions are used elsewhere, so the swap is local.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from kartoteka.core.actor import Actor
from kartoteka.records.selectors import mask_hidden
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table

_html = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
_text = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


class ContentError(ValueError):
    """A template that does not compile or fails for one record; the text is for people."""


def record_context(actor: Actor, table: Table, record: Any) -> dict[str, Any]:
    """The record as its displayed values, keyed by field key (``id`` too); fields hidden from
    ``actor`` are left out."""
    record = mask_hidden(actor, table, record)
    values: dict[str, Any] = {"id": record.pk}
    from kartoteka.access import rights

    hidden = rights.hidden_keys(actor, table)
    for field in fields_of(table):
        if field.key in hidden:
            continue
        value = getattr(record, field.key, None)
        values[field.key] = "" if value in (None, "") else field.field_type.display(field, value)
    return values


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    """``source`` rendered with ``context``; :class:`ContentError` with the reason otherwise."""
    env = _html if html else _text
    try:
        return env.from_string(source).render(context)
    except TemplateError as exc:
        raise ContentError(str(exc)) from None
    except Exception as exc:  # a helper that fails for one record's values
        raise ContentError(f"{type(exc).__name__}: {exc}") from None


def check(source: str) -> str:
    """``""`` when ``source`` compiles, the syntax error otherwise."""
    try:
        _text.parse(source)
    except TemplateError as exc:
        return str(exc)
    return ""
