"""Telling the assigned manager about a web form submission.

:func:`notify_manager` is the one call site. It runs inside the submission's transaction: the
in-app notification (:func:`kartoteka.notifications.services.notify`) is written with the record,
so it exists exactly when the lead does; the e-mail with everything the visitor wrote leaves
through Django's e-mail framework after the commit, so a rolled-back submission tells nobody and
a mail server that is down never loses the lead.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.notifications.services import notify
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
) -> int | None:
    """Tell the manager of record ``record_id`` (the form's assignment field) about a submission.

    Args:
        lines: the submitted values as ``(label, text)`` — all of them, also those a merge did not
            write, so the manager sees what the visitor wrote.
        merged: the submission merged into an existing record.

    Returns:
        The id of the manager told, or ``None`` (no assignment field, no active manager).
    """
    if record_id is None or form.assign_field_id is None:
        return None
    actor = Actor.system(reason="web form notification")
    try:
        record = selectors.get_record(actor, form.table, record_id)
    except NotFound:
        return None
    attname = record._meta.get_field(form.assign_field.key).attname
    manager = get_user_model().objects.filter(pk=getattr(record, attname), is_active=True).first()
    if manager is None:
        return None
    title = str(record)
    text = (
        _("Повторная заявка с сайта: %(title)s (форма «%(form)s»)")
        if merged
        else _("Новая заявка с сайта: %(title)s (форма «%(form)s»)")
    ) % {"title": title, "form": form.name}
    # The letter below carries the details; the in-app notification only points at the record.
    notify(
        [manager.pk],
        text,
        table=form.table,
        record_id=record_id,
        kind=f"webform:{form.pk}",
        email=False,
    )
    if manager.email:
        subject = (
            _("Повторная заявка с сайта: %(title)s")
            if merged
            else _("Новая заявка с сайта: %(title)s")
        ) % {"title": title}
        where = (
            _("Заявка добавлена в существующую запись №%(pk)s.")
            if merged
            else _("Создана запись №%(pk)s.")
        ) % {"pk": record_id}
        body = [
            _("Форма «%(form)s», таблица «%(table)s».")
            % {"form": form.name, "table": form.table.label},
            where,
            "",
            *(f"{label}: {value}" for label, value in lines),
        ]
        if base_url:
            body += ["", f"{base_url.rstrip('/')}/t/{form.table.key}/{record_id}/"]
        address = manager.email
        transaction.on_commit(lambda: _send(form.pk, subject, "\n".join(body), address))
    return int(manager.pk)


def _send(form_id: int, subject: str, body: str, address: str) -> None:
    try:
        send_mail(subject, body, None, [address])
    except Exception:  # a mail server that is down must not break the visitor's submission
        logger.exception("web form %s: the letter to %s was not sent", form_id, address)
