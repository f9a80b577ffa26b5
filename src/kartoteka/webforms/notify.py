"""Telling the assigned manager about a web form submission.

:func:`notify_manager` is the one call site: today it sends an e-mail through Django's e-mail
framework; when in-app notifications land, this function is where they are created instead of
(or besides) the letter. It runs after the commit of the submission, so a rolled-back
submission never notifies anyone, and a mail server that is down never loses the lead.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.records import selectors
from kartoteka.webforms.models import WebForm

logger = logging.getLogger(__name__)


def notify_manager(
    form: WebForm,
    record_id: int | None,
    lines: list[tuple[str, str]],
    *,
    merged: bool,
    base_url: str = "",
) -> bool:
    """Tell the manager of record ``record_id`` (the form's assignment field) about a submission.

    Args:
        lines: the submitted values as ``(label, text)`` — all of them, also those a merge kept
            from the existing record, so the manager sees what the visitor wrote.
        merged: the submission merged into an existing record.

    Returns:
        Whether a letter was sent (no manager, no address or a refused letter → ``False``).
    """
    if record_id is None or form.assign_field_id is None:
        return False
    actor = Actor.system(reason="web form notification")
    try:
        record = selectors.get_record(actor, form.table, record_id)
    except NotFound:
        return False
    attname = record._meta.get_field(form.assign_field.key).attname
    manager = get_user_model().objects.filter(pk=getattr(record, attname), is_active=True).first()
    if manager is None or not manager.email:
        return False
    subject = (
        _("Повторная заявка с сайта: %(title)s") if merged else _("Новая заявка с сайта: %(title)s")
    ) % {"title": str(record)}
    body_lines = [
        _("Форма «%(form)s», таблица «%(table)s».")
        % {"form": form.name, "table": form.table.label},
        _("Заявка добавлена в существующую запись №%(pk)s.")
        if merged
        else _("Создана запись №%(pk)s."),
        "",
        *(f"{label}: {text}" for label, text in lines),
    ]
    body_lines[1] = body_lines[1] % {"pk": record_id}
    if base_url:
        body_lines += ["", f"{base_url.rstrip('/')}/t/{form.table.key}/{record_id}/"]
    try:
        send_mail(subject, "\n".join(body_lines), None, [manager.email])
    except Exception:  # a mail server that is down must not break the visitor's submission
        logger.exception("web form %s: the letter to %s was not sent", form.pk, manager.email)
        return False
    return True
