"""Table actions: commands beyond create/update/delete that a table offers as buttons.

An action (e.g. «Выписать счёт» on counterparties, «Счёт оплачен» on invoices) is a
:class:`TableAction` registered in :data:`table_actions` under ``"<table key>.<action key>"``.
The card shows record actions as buttons, the grid offers them on the selection, and the API runs
them by key — every path calls the same ``run``, which calls the domain services (actor first,
one transaction), so the rules and rights of the action hold everywhere.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.core.registry import Registry
from kartoteka.tables.models import Table


@dataclass
class ActionResult:
    """What an action did: a message for people and, optionally, where to go next."""

    message: str
    redirect_to: str = ""
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionParam:
    """An input an action takes with its button (POSTed as ``key``), e.g. a typed e-mail."""

    key: str
    label: Any  # text or a lazy translation
    type: str = "text"
    required: bool = False
    help_text: Any = ""


class TableAction(ABC):
    """Base of actions. ``many`` actions accept several records at once (the grid selection);
    an action whose :meth:`link` gives a URL is shown as a plain link (print, download)."""

    table_key: str = ""
    key: str = ""
    label: Any = ""  # text or a lazy translation
    many: bool = False
    style: str = "primary"
    #: A table verb the action needs besides its own right (``"print"``, ``"send"``).
    verb: str = ""
    confirm: Any = ""
    params: tuple[ActionParam, ...] = ()

    def link(self, record: Any) -> str | None:
        """A URL to open instead of running the action by POST (``None``: run it)."""
        return None

    @abstractmethod
    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        """Carry the action out on the records ``ids`` (raise domain errors to refuse)."""


table_actions: Registry[TableAction] = Registry("table_actions")


def run_action(
    actor: Actor, table: Table, action: TableAction, ids: list[int], params: dict[str, Any]
) -> ActionResult:
    """Run ``action`` on ``ids`` with the actor's rights checked: the action's right on the
    table (``PermissionDenied``) and every record readable by him (``NotFound``). Pages and the
    API run actions through here."""
    from django.utils.translation import gettext as _

    from kartoteka.core.exceptions import NotFound
    from kartoteka.records.selectors import base_queryset

    require_action(actor, table, action)
    wanted = set(ids)
    readable = base_queryset(actor, table, state=None).filter(pk__in=wanted)
    if set(readable.values_list("pk", flat=True)) != wanted:
        raise NotFound(_("Некоторые записи не найдены."))
    return action.run(actor, table, ids, params)


def require_action(actor: Actor, table: Table, action: TableAction | str) -> None:
    """``PermissionDenied`` unless the actor may run ``action`` on ``table``."""
    from django.utils.translation import gettext as _

    from kartoteka.access import rights
    from kartoteka.core.exceptions import PermissionDenied
    from kartoteka.records.selectors import get_table

    get_table(actor, table.key)  # NotFound for a table he may not view
    if not rights.can_action(actor, table, action):
        label = getattr(action, "label", action)
        raise PermissionDenied(_("Нет права на действие «%(action)s».") % {"action": label})


def allowed_actions(actor: Actor, table: Table) -> list[TableAction]:
    """The table's actions the actor may run (the buttons a page shows)."""
    from kartoteka.access import rights

    return [a for a in actions_for(table) if rights.can_action(actor, table, a)]


def actions_for(table: Table) -> list[TableAction]:
    prefix = f"{table.key}."
    return [a for key, a in table_actions.items() if key.startswith(prefix)]


def get_action(table: Table, key: str) -> TableAction | None:
    return table_actions.find(f"{table.key}.{key}")


def register_action(action: TableAction) -> None:
    key = f"{action.table_key}.{action.key}"
    if key not in table_actions:
        table_actions.register(key, action)
