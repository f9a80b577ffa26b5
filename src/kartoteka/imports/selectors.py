"""Reading import batches: whose batches a user sees and what of their bad-rows file he gets.

A batch is its owner's (the user who imported) and the administrators'; to anyone else it does
not exist (the pages answer «not found», as for a record outside the row filter). The bad-rows
file holds the file's own cells, so before it leaves the server the columns of fields the reader
may not read are cut out: the columns mapped to such a field and the columns whose header names
one — whoever imported it, and whatever the rights were then.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.imports.models import ImportBatch
from kartoteka.imports.options import ImportSettings
from kartoteka.tables.fieldtypes.choice import fold
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table

#: Columns the bad-rows file has before the file's own: «Строка», «Ошибка».
LEADING_COLUMNS = 2


def batches(actor: Actor, table: Table) -> QuerySet[ImportBatch]:
    """The batches of ``table`` the actor may see: all for an administrator, his own else."""
    found = ImportBatch.objects.filter(table=table).select_related("user")
    if actor.is_admin:
        return found
    if not actor.user_id:
        return found.none()
    return found.filter(user_id=actor.user_id)


def get_batch(actor: Actor, table: Table, pk: int) -> ImportBatch:
    """One batch the actor may see; :class:`NotFound` for another user's (as for a missing one)."""
    batch = batches(actor, table).filter(pk=pk).first()
    if batch is None:
        raise NotFound(_("Импорт не найден."))
    return batch


def hidden_columns(actor: Actor, batch: ImportBatch, headers: list[str]) -> set[int]:
    """Indexes (in the file's header) of the columns the actor may not read."""
    hidden = rights.hidden_keys(actor, batch.table)
    if not hidden:
        return set()
    names: set[str] = set()
    for f in fields_of(batch.table):
        if f.key in hidden:
            names.update({fold(f.key), fold(str(f.label))})
    settings = ImportSettings.from_json(batch.settings)
    columns = {i for i, header in enumerate(headers) if fold(header or "") in names}
    for item in settings.mapping:
        if item.field in hidden or fold(item.field) in names:
            if item.header and fold(item.header) in {fold(h or "") for h in headers}:
                columns.add([fold(h or "") for h in headers].index(fold(item.header)))
            else:
                columns.add(item.column)
    return columns


def visible_errors(actor: Actor, batch: ImportBatch) -> list[dict[str, Any]]:
    """The batch's first errors without those about a column of a field hidden from the actor
    (their message may quote the hidden value)."""
    hidden = rights.hidden_keys(actor, batch.table)
    if not hidden:
        return list(batch.errors)
    names = set()
    for f in fields_of(batch.table):
        if f.key in hidden:
            names.update({fold(f.key), fold(str(f.label))})
    settings = ImportSettings.from_json(batch.settings)
    names.update(fold(m.header) for m in settings.mapping if m.field in hidden and m.header)
    return [
        e
        for e in batch.errors
        if not any(fold(part.strip()) in names for part in str(e.get("column", "")).split("+"))
    ]


def error_rows(actor: Actor, batch: ImportBatch) -> Iterator[bytes]:
    """The batch's bad-rows file (CSV, UTF-8 with BOM, «;») as the actor may read it, streamed
    line by line: the columns of fields hidden from him are left out. :class:`NotFound` when
    the batch has no bad rows."""
    if not batch.errors_file or not default_storage.exists(batch.errors_file):
        raise NotFound(_("В этом импорте нет строк с ошибками."))
    handle = default_storage.open(batch.errors_file, "rb")
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=";")
    header = next(reader, [])
    own = header[LEADING_COLUMNS:]
    hidden = hidden_columns(actor, batch, own)
    cut = {LEADING_COLUMNS + i for i in hidden}
    hidden_names = {fold(own[i]) for i in hidden if i < len(own) and own[i]}

    def reason(text: str) -> str:
        # «column: why; column: why» — a hidden column's «why» may quote its value.
        parts = text.split("; ")
        return "; ".join(p for p in parts if fold(p.partition(": ")[0]) not in hidden_names)

    def line(cells: list[Any], *, first: bool = False) -> bytes:
        if hidden_names and not first and len(cells) > 1:
            cells = [cells[0], reason(cells[1]), *cells[2:]]
        out = io.StringIO()
        csv.writer(out, delimiter=";").writerow([c for i, c in enumerate(cells) if i not in cut])
        return out.getvalue().encode("utf-8")

    def lines() -> Iterator[bytes]:
        try:
            yield "\ufeff".encode() + line(header, first=True)
            for cells in reader:
                yield line(cells)
        finally:
            text.close()

    return lines()
