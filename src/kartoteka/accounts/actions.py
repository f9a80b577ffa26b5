"""«Доступ в систему» on the card of a «Сотрудники» record: opens the employee's log-in page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from kartoteka.core.actor import Actor
from kartoteka.records.actions import ActionResult, TableAction, register_action
from kartoteka.tables.models import Table


class SystemAccessAction(TableAction):
    """A link to the log-in of the employee (or to the form that gives him one). The page asks
    for «Управление сотрудниками»; no group gets this button by default."""

    table_key = "employees"
    key = "system_access"
    label = gettext_lazy("Доступ в систему")
    style = "outline-primary"

    def link(self, record: Any) -> str | None:
        return reverse("accounts:employee", args=[record.pk])

    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        return ActionResult(message="", redirect_to=reverse("accounts:employee", args=[ids[0]]))


def register() -> None:
    register_action(SystemAccessAction())
