"""User-written templates, filled in a sandbox: documents, letters, messages.

The small, stable surface other apps use:

* :func:`render` — fill a template from a context (``html=True`` escapes for HTML);
* :func:`check` — every problem of a template against a sample context, with line and name;
* :func:`record_context` — a record as a user sees it (rights applied, links and subtables);
* :func:`base_context` — ``company``, ``user``, ``today``; :func:`sample_context` — the same
  shape from the metadata, for :func:`check` and the reference of placeholders;
* :class:`TemplateRefused` / :class:`TemplateProblem` — what is refused, where and why;
* :data:`HELPERS` — the Russian helpers (sums in words, long dates, names in cases…).
"""

from kartoteka.templating.context import (
    Bag,
    Placeholder,
    base_context,
    describe,
    record_context,
    sample_context,
)
from kartoteka.templating.engine import (
    TemplateProblem,
    TemplateRefused,
    check,
    docx_environment,
    render,
)
from kartoteka.templating.helpers import HELPERS

__all__ = [
    "HELPERS",
    "Bag",
    "Placeholder",
    "TemplateProblem",
    "TemplateRefused",
    "base_context",
    "check",
    "describe",
    "docx_environment",
    "record_context",
    "render",
    "sample_context",
]
