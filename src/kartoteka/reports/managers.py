"""Manager columns shared by the reports, and the managers a parameters form offers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from kartoteka.tables.fieldtypes.user import user_display

#: The key of the column of records without a manager (in the API and in query strings).
NO_MANAGER = "none"


@dataclass(frozen=True)
class ManagerColumn:
    """A manager column (or row) of a report: the user id (``None``: no manager) and his name."""

    id: int | None
    label: str

    @property
    def key(self) -> str:
        """The column's key in the API and in query strings: the user id, or ``none``."""
        return NO_MANAGER if self.id is None else str(self.id)


def manager_columns(
    chosen: Iterable[int] | None, seen: Iterable[int | None]
) -> list[ManagerColumn]:
    """The chosen managers (every one of them, even with nothing to show), or — with no choice —
    everyone who has a number; by name, «Без менеджера» last."""
    seen = set(seen)
    ids = sorted(set(chosen)) if chosen is not None else [m for m in seen if m is not None]
    users = {u.pk: user_display(u) for u in get_user_model().objects.filter(pk__in=ids)}
    columns = sorted(
        (ManagerColumn(pk, users.get(pk, f"#{pk}")) for pk in ids),
        key=lambda c: (c.label.casefold(), c.id or 0),
    )
    if chosen is None and None in seen:
        columns.append(ManagerColumn(None, _("Без менеджера")))
    return columns


def manager_choices() -> list[tuple[int, str]]:
    """Active users as ``(id, name)`` by name, for a report's «Менеджеры» list."""
    users = get_user_model().objects.filter(is_active=True).order_by("last_name", "first_name")
    return [(u.pk, user_display(u)) for u in users]
