"""Report periods: whole local days, «this month» by default.

A period is ``date_from``–``date_to``, both days included, in the installation's time zone
(``settings.TIME_ZONE``, Europe/Moscow by default). Date columns (a work row's date, an invoice's
payment date) are compared with the days themselves; timestamp columns (a record's
``created_at``, stored in UTC) with the period's bounds as instants — local midnight of
``date_from`` up to, not including, local midnight after ``date_to`` — so the comparison uses the
column's index and never converts a stored value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone


@dataclass(frozen=True)
class Period:
    """Days ``date_from``…``date_to``, both included."""

    date_from: dt.date
    date_to: dt.date

    @classmethod
    def this_month(cls, today: dt.date | None = None) -> Period:
        today = today or timezone.localdate(timezone=timezone.get_default_timezone())
        first = today.replace(day=1)
        next_month = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(first, next_month - dt.timedelta(days=1))

    @property
    def start(self) -> dt.datetime:
        """The first instant of the period: local midnight of ``date_from``."""
        return _local_midnight(self.date_from)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period: local midnight after ``date_to``."""
        return _local_midnight(self.date_to + dt.timedelta(days=1))

    def months(self) -> list[dt.date]:
        """The first days of the months the period touches, in order."""
        out = []
        month = self.date_from.replace(day=1)
        while month <= self.date_to:
            out.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return out

    def slug(self) -> str:
        """``2026-03-01_2026-03-31``, for file names."""
        return f"{self.date_from:%Y-%m-%d}_{self.date_to:%Y-%m-%d}"


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
    )
