"""Where a web form submission's differences from a known counterparty go: the work log.

A web form only fills empty fields of a counterparty it recognises (by INN, phone or e-mail; see
:mod:`kartoteka.webforms.services`). What the visitor sent that differs from the card — another
name, another e-mail — becomes a planned row «Письмо» of «Работа с клиентом» whose description
lists it, assigned to the counterparty's manager: he sees it in the card and in his calendar and
decides what to take over. A planned row changes no status.
"""

from __future__ import annotations

from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Table


def write_request_note(actor: Actor, counterparties: Table, record_id: int, text: str) -> None:
    """Add the planned work row with ``text`` for counterparty ``record_id``."""
    from kartoteka.records.services import create_records

    manager = (
        model_for(counterparties)
        .objects.filter(pk=record_id)
        .values_list("manager_id", flat=True)
        .first()
    )
    create_records(
        actor,
        Table.objects.get(key="client_work"),
        [
            {
                "counterparty": record_id,
                "date": timezone.localdate(),
                "work_type": "letter",
                "description": text,
                "done": False,
                "manager": manager,
            }
        ],
    )


def register_webform_notes() -> None:
    from kartoteka.webforms.services import submission_notes

    if "counterparties" not in submission_notes:
        submission_notes.register("counterparties", write_request_note)
