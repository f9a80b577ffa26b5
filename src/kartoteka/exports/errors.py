"""Errors of exports, with stable codes like every domain error
(:mod:`kartoteka.core.exceptions`)."""

from __future__ import annotations

from kartoteka.core.exceptions import KartotekaError


class ExportError(KartotekaError):
    """An export that cannot be made as asked; nothing was written.

    Codes: ``bad_format``, ``bad_encoding``, ``bad_delimiter``, ``unknown_field``, ``bad_filter``,
    ``bad_ids``, ``too_many_rows``.
    """

    code = "export"
