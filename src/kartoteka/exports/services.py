"""Export of records: the one entry point for every path that downloads a table.

:func:`export_records` checks everything it can *before* the first byte — the format, the
columns, the filter (through the selector), the XLSX row limit — so a web view can turn an error
into a message instead of a broken download, and then returns an :class:`ExportFile` whose
``chunks`` produce the file lazily. The records are read with
``list_records(...).iterator(chunk_size=2000)``: one read path, constant memory.

Decisions (see :mod:`kartoteka.exports.columns` and :mod:`kartoteka.exports.writers`):

- money is written without the currency sign in CSV (so it stays a number; ``₽`` is not in
  Windows-1251) and as a number with a currency *format* in XLSX;
- characters Windows-1251 lacks become ``?``;
- formula-like text gets an apostrophe in CSV and is a plain string cell (value unchanged, quote
  prefix style) in XLSX; numbers, dates and «Да»/«Нет» are never touched.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.exports import writers
from kartoteka.exports.columns import SYSTEM_KEYS, columns_for
from kartoteka.exports.errors import ExportError
from kartoteka.records.selectors import Condition, list_records
from kartoteka.tables.fieldtypes.link import MAX_ID
from kartoteka.tables.modelfactory import STATE_ACTIVE
from kartoteka.tables.models import Table

FORMATS = ("csv", "xlsx")
#: Records fetched from the database per round trip.
FETCH_SIZE = 2000
#: Operators of the ``FIELD__op=VALUE`` filter syntax (:func:`condition_from_text`).
TEXT_FILTER_OPERATORS = ("eq", "ne", "contains", "startswith", "gt", "lt", "gte", "lte")

CONTENT_TYPES = {
    ("csv", "cp1251"): "text/csv; charset=windows-1251",
    ("csv", "utf-8"): "text/csv; charset=utf-8",
    ("xlsx", "cp1251"): "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ("xlsx", "utf-8"): "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ENCODING_ALIASES = {
    "cp1251": "cp1251",
    "windows-1251": "cp1251",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}


@dataclass
class ExportFile:
    """A prepared export.

    Attributes:
        filename: a suggested file name, e.g. ``counterparties-2026-11-26.csv`` (ASCII, safe in
            ``Content-Disposition``).
        content_type: the MIME type, with the charset for CSV.
        chunks: the file's bytes, produced as they are iterated (iterate once). The database is
            read while iterating, so a web view must iterate inside the request.
        rows: records written so far; the total once ``chunks`` is exhausted.
    """

    filename: str
    content_type: str
    chunks: Iterator[bytes]
    rows: int = 0

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


def export_records(
    actor: Actor,
    table: Table,
    *,
    fmt: str,
    encoding: str = "cp1251",
    delimiter: str = ";",
    ids: Iterable[int] | None = None,
    conditions: Iterable[Condition] = (),
    match: str = "all",
    search: str = "",
    state: str | None = STATE_ACTIVE,
    ordering: Iterable[str] = ("id",),
    fields: Iterable[str] | None = None,
) -> ExportFile:
    """Export records of ``table`` to a CSV or XLSX file, produced as a stream.

    Which records: those :func:`~kartoteka.records.selectors.list_records` returns for
    ``state``, ``conditions``/``match``, ``search`` and ``ordering`` (the same arguments the
    grid passes) — the whole filter, never just a page. ``ids`` narrows them to a selection:
    exactly those records, still in ``state`` (pass the state the user is looking at); ids that
    are not there are skipped, ``[]`` gives a file with the header only.

    What columns: ``fields`` lists field keys — and optionally ``id`` («№»), ``created_at``,
    ``updated_at``, ``created_by``, ``updated_by`` — in the order wanted; ``None`` means «№» and
    then every field of the table. Headers are the field labels; values are shown by their field
    type the Russian way (dates ``dd.mm.yyyy``, numbers ``1 234,56``, choices and links by label
    and title, users by name, phones formatted, «Да»/«Нет»), money without the currency sign in
    CSV. In XLSX numbers are numbers and dates are dates.

    Args:
        actor: who exports (its rights will filter rows and fields here).
        table: the table.
        fmt: ``"csv"`` or ``"xlsx"``.
        encoding: CSV only: ``"cp1251"`` (Russian Excel's default; characters it lacks become
            ``?``) or ``"utf-8"`` (written with a BOM so Excel recognises it).
        delimiter: CSV only: ``";"`` (Russian Excel's default) or ``","``.
        ids: record ids of a selection, or ``None`` for the whole filter.
        conditions: filter conditions; ``match`` is ``"all"`` (AND) or ``"any"`` (OR).
        search: quick search text.
        state: ``"active"`` (default), ``"archived"``, ``"deleted"`` or ``None`` for all.
        ordering: field keys or system columns, ``-`` for descending.
        fields: column keys, see above.

    Returns:
        An :class:`ExportFile`; iterate its ``chunks`` to get the bytes.

    Raises:
        ExportError: a bad ``fmt``/``encoding``/``delimiter``/``ids``, an unknown key in
            ``fields``, or more rows than an XLSX sheet holds (``code`` says which).
        RecordValidationError: a bad condition (unknown field, wrong value or operator).
        NotFound: an unknown ``state``.
        PermissionDenied: the actor's account is disabled.
    """
    if fmt not in FORMATS:
        raise ExportError(
            _("Неизвестный формат «%(fmt)s»: допустимо csv или xlsx.") % {"fmt": fmt},
            code="bad_format",
        )
    codec = _ENCODING_ALIASES.get(str(encoding).lower())
    if codec is None:
        raise ExportError(
            _("Неизвестная кодировка «%(encoding)s»: допустимо utf-8 или cp1251.")
            % {"encoding": encoding},
            code="bad_encoding",
        )
    if delimiter not in writers.DELIMITERS:
        raise ExportError(
            _("Недопустимый разделитель «%(delimiter)s»: допустимо «;» или «,».")
            % {"delimiter": delimiter},
            code="bad_delimiter",
        )
    if actor.user is not None and not actor.user.is_active:
        raise PermissionDenied(_("Учётная запись отключена."))
    # Access rights (SPEC §10): the «export» right and the fields the group may export here;
    # row filters and hidden fields in filters/sorts are the selector's.
    from kartoteka.access import rights
    from kartoteka.records.selectors import get_table, mask_unreadable_links

    get_table(actor, table.key)  # NotFound when the table is not his to see
    if not rights.can(actor, table, "export"):
        raise PermissionDenied(
            _("Нет права выгружать таблицу «%(table)s».") % {"table": table.label}
        )
    table_fields = rights.export_fields(actor, table)
    try:
        columns = columns_for(table_fields, None if fields is None else list(fields))
    except KeyError as exc:
        known = ", ".join([*SYSTEM_KEYS, *(f.key for f in table_fields)])
        raise ExportError(
            _("В таблице «%(table)s» нет поля «%(key)s». Поля: %(known)s.")
            % {"table": table.label, "key": exc.args[0], "known": known},
            code="unknown_field",
        ) from None

    records = list_records(
        actor,
        table,
        state=state,
        conditions=conditions,
        match=match,
        search=search,
        ordering=ordering,
    )
    if ids is not None:
        records = records.filter(pk__in=_clean_ids(ids))
    if fmt == "xlsx":
        limit = writers.XLSX_MAX_ROWS - 1  # the header takes one row
        if records.values("pk")[limit : limit + 1].exists():
            raise ExportError(
                _("Слишком много записей для XLSX (больше %(n)s); выгрузите в CSV.") % {"n": limit},
                code="too_many_rows",
            )

    export = ExportFile(
        filename=f"{table.key}-{timezone.localdate():%Y-%m-%d}.{fmt}",
        content_type=CONTENT_TYPES[(fmt, codec)],
        chunks=iter(()),
    )

    def counted() -> Iterator[Any]:
        # Links to records the actor may not read are blanked as in the grid, a chunk at a time.
        rows = records.iterator(chunk_size=FETCH_SIZE)
        while chunk := list(itertools.islice(rows, FETCH_SIZE)):
            for record in mask_unreadable_links(actor, table, chunk):
                export.rows += 1
                yield record

    if fmt == "csv":
        export.chunks = writers.write_csv(columns, counted(), encoding=codec, delimiter=delimiter)
    else:
        export.chunks = writers.write_xlsx(columns, counted(), sheet_name=table.label)
    return export


def _clean_ids(ids: Iterable[Any]) -> list[int]:
    cleaned = []
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise ExportError(
                _("«%(value)s» — не номер записи.") % {"value": value}, code="bad_ids"
            )
        cleaned.append(value)
    return cleaned


def save_export(export: ExportFile, path: str | os.PathLike[str]) -> int:
    """Write ``export`` to ``path`` all or nothing; returns the number of records written.

    The bytes go to a hidden ``.part`` file next to ``path`` that replaces ``path`` only when
    complete, so a failure (a database error, a full disk, Ctrl+C) never leaves a partial file
    and never destroys an earlier one. ``OSError`` is raised as is.
    """
    target = Path(path)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        with open(partial, "xb") as fh:
            for chunk in export.chunks:
                fh.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return export.rows


def condition_from_text(text: str) -> Condition:
    """A condition written ``FIELD=VALUE`` (equals) or ``FIELD__op=VALUE``.

    ``op`` is one of :data:`TEXT_FILTER_OPERATORS`; the value is text, read by the field type
    the Russian way (``01.02.2025``, ``1 234,5``, a choice by key or label, a user by login or
    name). Raises ``ExportError`` (``bad_filter``) for anything else.
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ExportError(
            _("Фильтр «%(text)s»: ожидается ПОЛЕ=ЗНАЧЕНИЕ или ПОЛЕ__условие=ЗНАЧЕНИЕ.")
            % {"text": text},
            code="bad_filter",
        )
    field, op = name, "eq"
    if "__" in name:
        field, _sep, op = name.rpartition("__")
        if op not in TEXT_FILTER_OPERATORS or not field:
            raise ExportError(
                _("Фильтр «%(text)s»: неизвестное условие «%(op)s»; допустимо: %(ops)s.")
                % {"text": text, "op": op, "ops": ", ".join(TEXT_FILTER_OPERATORS)},
                code="bad_filter",
            )
    return Condition(field, op, value.strip())
