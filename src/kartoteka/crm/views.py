"""Pages of the CRM documents: the invoice print view and its PDF.

Thin views: they read through :func:`kartoteka.crm.documents.build_invoice_document` (which reads
through ``records.selectors``, so access rights apply) and render; a missing or unreadable
invoice is a 404.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.crm.documents import (
    InvoiceDocument,
    build_invoice_document,
    render_invoice_html,
    render_invoice_pdf,
)


def content_disposition(filename: str, fallback: str, *, attachment: bool) -> str:
    """A ``Content-Disposition`` value: an ASCII ``filename`` for old clients and the real
    UTF-8 name in ``filename*`` (RFC 5987/6266)."""
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def ascii_filename(doc: InvoiceDocument) -> str:
    """``schet-2026-0001-15.01.2026.pdf``: the invoice's file name in plain ASCII."""
    number = re.sub(r"[^A-Za-z0-9._-]+", "-", doc.number).strip("-") or str(doc.pk)
    return f"schet-{number}-{doc.date:%d.%m.%Y}.pdf"


def _document(request: HttpRequest, pk: int) -> InvoiceDocument:
    try:
        user: Any = request.user  # a real user: the views require a login
        return build_invoice_document(Actor.for_user(user), pk)
    except NotFound:
        raise Http404 from None


@login_required
def invoice_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice as a printable A4 page (the browser's «Печать» prints it)."""
    doc = _document(request, pk)
    user: Any = request.user
    html = render_invoice_html(doc, for_pdf=False, request=request, actor=Actor.for_user(user))
    return HttpResponse(html)


@login_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice as a PDF; ``?download=1`` asks the browser to save it."""
    doc = _document(request, pk)
    user: Any = request.user
    pdf = render_invoice_pdf(doc, Actor.for_user(user))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(
        doc.filename, ascii_filename(doc), attachment=request.GET.get("download") == "1"
    )
    return response
