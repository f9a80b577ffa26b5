"""Errors of reports, with stable codes like every domain error
(:mod:`kartoteka.core.exceptions`)."""

from __future__ import annotations

from kartoteka.core.exceptions import KartotekaError


class ReportError(KartotekaError):
    """Report parameters that cannot be used; nothing was computed.

    Codes: ``bad_mode``, ``bad_period``, ``unknown_stage``.
    """

    code = "report"
