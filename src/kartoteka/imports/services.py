"""Import of a file into a table: preview, mapping, dry run, the import itself, templates, undo.

The one import engine behind the wizard, the CLI (``kartoteka import``) and the background job:

- :func:`preview` — how a file is read with the given options (encoding, delimiter, header,
  sheet): the detected options, the sheets, the header and the first rows.
- :func:`suggest_mapping` — columns matched to fields by header (field label or key,
  case- and «ё»-insensitive); :func:`suggest_template` — a saved template whose header matches.
- :func:`dry_run` — what the import would do per row (create / update field: old → new / skip and
  why / error: row, column, why) with totals, writing nothing.
- :func:`run_import` — the import: rows are converted by the fields' types, checked, matched on
  the key field, and sent to :mod:`kartoteka.records.services` in batches of :data:`CHUNK`
  (validation, unique, links, the table's rules and one history row per record happen there).
  Bad rows are reported (row, column, why) and never stop the good ones; a file that breaks
  mid-way undoes what was written. Every change carries the history source ``import#<batch>``.
- :func:`undo_import` — removes what a batch created and restores what it updated, from the
  records' history; records edited (or linked to) since the import are left alone and reported.
- :func:`start_import` / :func:`run_batch` — a batch run now or by the background worker
  (:mod:`kartoteka.imports.tasks`), with progress (rows done / total) on the batch.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings as conf
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.core import leases
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import (
    KartotekaError,
    NotFound,
    PermissionDenied,
    RecordValidationError,
    RuleViolation,
)
from kartoteka.imports.headers import KINDS, SYNONYMS, infer_kind, squash
from kartoteka.imports.models import ImportBatch, ImportCheck, ImportTemplate
from kartoteka.imports.options import ColumnMapping, ImportSettings
from kartoteka.imports.readers import ImportFileError, TableFile, open_table_file
from kartoteka.records import selectors
from kartoteka.records import services as records
from kartoteka.records.merge import KEEP_FILLED, OVERWRITE, merge_changes
from kartoteka.records.models import RecordChange
from kartoteka.records.rules import table_rules
from kartoteka.tables.fieldtypes.choice import choices_of, fold
from kartoteka.tables.modelfactory import STATE_DELETED, fields_of, model_for, title_field_keys
from kartoteka.tables.models import Field, Table

#: Rows converted, matched and written together (``KARTOTEKA_IMPORT_CHUNK``).
CHUNK = 5000
#: Files with more rows than this run in the background (the wizard's choice).
BACKGROUND_ROWS = 5000
#: Errors kept on the batch and in a result (all of them go to the bad-rows file).
MAX_REPORTED_ERRORS = 10_000
#: Rows a dry run describes one by one (its totals count every row).
DRY_RUN_ROWS = 1000
PREVIEW_ROWS = 20
#: Types whose several mapped columns are joined into one value.
JOINABLE = ("text", "long_text")


# -- results --


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class RowPlan:
    """What the import does with one row: ``create``, ``update``, ``skip`` or ``error``."""

    row: int
    action: str
    record_id: int | None = None
    #: ``(field label, old text, new text)`` for updates; ``(label, "", new)`` for creates.
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    reason: str = ""
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ImportResult:
    batch: int | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: The dry run's rows one by one (at most :data:`DRY_RUN_ROWS`).
    plans: list[RowPlan] = field(default_factory=list)
    #: Link targets created (or, in a dry run, to be created): table label → titles.
    created_targets: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return {
            "batch": self.batch,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": [e.as_json() for e in self.errors],
        }


@dataclass
class Preview:
    kind: str
    encoding: str
    delimiter: str
    sheets: list[str]
    headers: list[str]
    rows: list[list[str]]
    #: The first rows of the file as they are, to pick the header row from.
    head_rows: list[list[str]] = field(default_factory=list)
    #: The index in ``head_rows`` of the header row (or the first data row).
    header_index: int = 0
    #: Rows of each sheet, and the sheet read (the first with data if the chosen one is empty).
    sheet_rows: list[int] = field(default_factory=list)
    sheet: int = 0
    #: What the reader has to say about how it read the file.
    notes: list[str] = field(default_factory=list)
    #: Encodings that decode the file, the detected one first (text files).
    encodings: list[str] = field(default_factory=list)


# -- reading --


def open_file(
    source: str | bytes, name: str, settings: ImportSettings, *, lenient: bool = False
) -> TableFile:
    """The file opened with the settings' file options (:class:`ImportFileError` if it cannot)."""
    return open_table_file(source, name, settings.file_options(), lenient=lenient)


def preview(
    source: str | bytes, name: str, settings: ImportSettings, limit: int = PREVIEW_ROWS
) -> Preview:
    """The first rows as the options read them; undecodable bytes show as «�» (so garbled text
    says: change the encoding) rather than failing."""
    table_file = open_file(source, name, settings, lenient=True)
    headers, rows = table_file.header_and_rows()
    return Preview(
        kind=table_file.kind,
        encoding=table_file.encoding,
        delimiter=table_file.delimiter,
        sheets=table_file.sheets,
        headers=headers,
        rows=list(islice(rows, limit)),
        head_rows=table_file.head_rows(),
        header_index=table_file.header_index,
        sheet_rows=table_file.sheet_rows,
        sheet=table_file.sheet,
        notes=table_file.notes,
        encodings=table_file.fitting_encodings() if table_file.kind == "csv" else [],
    )


def suggest_mapping(
    headers: list[str], table: Table, actor: Actor | None = None
) -> list[ColumnMapping]:
    """Columns whose header names a field the actor may import into — its label, its key or
    one of its :data:`~kartoteka.imports.headers.SYNONYMS`, case, «ё», punctuation and spaces
    ignored. A field that takes one column gets the first that names it."""
    fields = importable_fields(table, actor)
    by_name: dict[str, Field] = {}
    for f in fields:
        by_name.setdefault(squash(f.key), f)
        by_name.setdefault(squash(str(f.label)), f)
    for f in fields:
        for synonym in SYNONYMS.get(f.key, ()):
            by_name.setdefault(squash(synonym), f)
    mapping = []
    taken: set[str] = set()
    for index, header in enumerate(headers):
        found = by_name.get(squash(header or ""))
        if found is None or (found.key in taken and found.type not in JOINABLE):
            continue
        taken.add(found.key)
        mapping.append(ColumnMapping(column=index, field=found.key, header=header))
    return mapping


def importable_fields(table: Table, actor: Actor | None = None) -> list[Field]:
    """Fields an import may fill; with ``actor``, only those his group may import into
    (editable and not excluded from imports: never a hidden field)."""
    allowed = None if actor is None else {f.key for f in rights.import_fields(actor, table)}
    return [
        f
        for f in fields_of(table)
        if not f.read_only and f.type != "file" and (allowed is None or f.key in allowed)
    ]


def suggest_template(table: Table, headers: list[str]) -> ImportTemplate | None:
    """The table's template saved for a file with the same header (case-insensitive)."""
    wanted = [fold(h) for h in headers]
    for template in ImportTemplate.objects.filter(table=table).order_by("-updated_at"):
        if [fold(h) for h in template.headers] == wanted:
            return template
    return None


def save_template(
    actor: Actor, table: Table, name: str, settings: ImportSettings, headers: list[str]
) -> ImportTemplate:
    """Save (or replace) the template ``name`` of ``table``."""
    name = name.strip()
    if not name:
        raise ImportFileError(_("У шаблона импорта должно быть название."))
    template, _created = ImportTemplate.objects.update_or_create(
        table=table,
        name=name,
        defaults={"settings": settings.to_json(), "headers": headers, "owner": actor.user},
    )
    return template


def get_template(table: Table, name: str) -> ImportTemplate:
    template = ImportTemplate.objects.filter(table=table, name=name).first()
    if template is None:
        raise NotFound(_("Шаблон импорта «%(name)s» не найден.") % {"name": name})
    return template


# -- the engine --


class _Plan:
    """The columns, converters and key of one import, resolved against the table."""

    def __init__(
        self, actor: Actor, table: Table, headers: list[str], settings: ImportSettings
    ) -> None:
        self.actor = actor
        self.table = table
        self.settings = settings
        self.headers = headers
        self.model = model_for(table)
        self.fields = {f.key: f for f in fields_of(table)}
        #: Fields the actor may import into; every other field of the table is refused by name.
        self.allowed = {f.key for f in importable_fields(table, actor)}
        mapping = settings.mapping or suggest_mapping(headers, table, actor)
        if not mapping:
            raise ImportFileError(
                _(
                    "Ни один столбец файла не сопоставлен полю таблицы «%(table)s». Назовите "
                    "столбцы как поля (%(fields)s) или укажите сопоставление."
                )
                % {
                    "table": table.label,
                    "fields": ", ".join(str(f.label) for f in importable_fields(table, actor)),
                }
            )
        self.columns: dict[str, list[int]] = {}
        lowered = [fold(h) for h in headers]
        for item in mapping:
            f = self._field(item.field)
            column = item.column
            if item.header and settings.header and fold(item.header) in lowered:
                column = lowered.index(fold(item.header))
            if column < 0 or (headers and column >= len(headers)):
                raise ImportFileError(
                    _("В файле нет столбца «%(col)s».") % {"col": item.header or column + 1}
                )
            columns = self.columns.setdefault(f.key, [])
            if columns and f.type not in JOINABLE:
                raise ImportFileError(
                    _(
                        "В поле «%(field)s» сопоставлено несколько столбцов; объединять можно "
                        "только в текстовое поле."
                    )
                    % {"field": f.label}
                )
            columns.append(column)
        self.key = self._key_field()
        self.defaults = self._defaults()
        self.infers_kind = self._infers_kind()
        self.attnames = {k: _attname(self.model, k) for k in self.columns}
        self.converters = {k: self._converter(self.fields[k]) for k in self.columns}
        self.created_targets: dict[str, int] = {}
        self._link_cache: dict[tuple[str, str], int | None] = {}

    def _field(self, key: str) -> Field:
        hidden = rights.hidden_keys(self.actor, self.table)
        f = self.fields.get(key) if key not in hidden else None
        if f is None:
            by_label = {fold(str(x.label)): x for x in self.fields.values() if x.key not in hidden}
            f = by_label.get(fold(key))
        if f is None:
            raise ImportFileError(
                _("В таблице «%(table)s» нет поля «%(field)s».")
                % {"table": self.table.label, "field": key}
            )
        if f.read_only or f.type == "file" or f.key not in self.allowed:
            if not (f.read_only or f.type == "file"):
                raise ImportFileError(
                    _("Поле «%(field)s» вам недоступно для импорта.") % {"field": f.label}
                )
            raise ImportFileError(
                _("Поле «%(field)s» заполняется автоматически; импортировать в него нельзя.")
                % {"field": f.label}
            )
        return f

    def _key_field(self) -> Field | None:
        if self.settings.key:
            f = self._field(self.settings.key)
        else:
            unique = [x for x in self.fields.values() if x.unique and x.key in self.columns]
            if not unique:
                return None
            f = unique[0]
        if f.key not in self.columns:
            raise ImportFileError(
                _("Ключевое поле «%(field)s» не сопоставлено ни одному столбцу файла.")
                % {"field": f.label}
            )
        return f

    def _infers_kind(self) -> bool:
        """«Вид» (legal entity / ИП / person) is inferred from the INN and the name when the
        table has those fields, the file fills the INN or the name but not «Вид», and no
        default for it was chosen."""
        kind = self.fields.get("kind")
        if kind is None or kind.type != "choice" or "kind" in self.columns:
            return False
        if "kind" in self.defaults or not {"inn", "name"} & set(self.columns):
            return False
        return set(KINDS) <= {c.key for c in choices_of(kind)}

    def inferred(self, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` of a record to create, with «Вид» told by its INN and name if it can be."""
        if self.infers_kind:
            kind = infer_kind(row.get("inn"), row.get("name"))
            if kind is not None:
                row.setdefault("kind", kind)
        return row

    def _defaults(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, text in self.settings.defaults.items():
            f = self._field(key)
            try:
                values[f.key] = f.field_type.clean(f, text)
            except ValidationError as exc:
                raise ImportFileError(
                    _("Значение по умолчанию поля «%(field)s»: %(e)s")
                    % {"field": f.label, "e": " ".join(exc.messages)}
                ) from exc
        return values

    def _converter(self, f: Field) -> Callable[[str], Any]:
        ftype = f.field_type
        if f.type == "link":
            return lambda text: self._link(f, text)
        if f.type in ("choice", "user", "boolean"):
            cache: dict[str, Any] = {}

            def cached(text: str) -> Any:
                if text not in cache:
                    cache[text] = ftype.parse(f, text)
                return cache[text]

            return cached
        return lambda text: ftype.parse(f, text)

    def _link(self, f: Field, text: str) -> Any:
        text = text.strip()
        if not text:
            return None
        cached = self._link_cache.get((f.key, fold(text)), -1)
        if cached != -1:
            if cached is None:
                return _Missing(text)
            return cached
        try:
            value = selectors.parse_link(self.actor, f, text)
        except ValidationError:
            if not self.settings.create_missing_links:
                raise
            self._link_cache[(f.key, fold(text))] = None
            return _Missing(text)
        self._link_cache[(f.key, fold(text))] = value
        return value

    def convert(self, number: int, cells: list[str]) -> tuple[dict[str, Any], list[RowError]]:
        values: dict[str, Any] = {}
        errors: list[RowError] = []
        width = len(cells)
        for key, columns in self.columns.items():
            if len(columns) == 1:
                text = cells[columns[0]] if columns[0] < width else ""
            else:
                text = " ".join(c for i in columns if i < width and (c := cells[i].strip()))
            if not text or not text.strip():
                values[key] = None
                continue
            try:
                values[key] = self.converters[key](text)
            except ValidationError as exc:
                errors.append(RowError(number, self.column_name(key), " ".join(exc.messages)))
        return values, errors

    def column_name(self, key: str) -> str:
        columns = self.columns.get(key)
        if not columns:
            return str(self.fields[key].label) if key in self.fields else key
        names = [
            self.headers[i] if i < len(self.headers) and self.headers[i] else str(i + 1)
            for i in columns
        ]
        return " + ".join(names)

    def resolve_missing(self, rows: list[dict[str, Any]], *, dry_run: bool) -> None:
        """Create the link targets named by title that do not exist yet (one batch per field)."""
        for key in self.columns:
            f = self.fields[key]
            if f.type != "link":
                continue
            missing: dict[str, str] = {}
            for values in rows:
                value = values.get(key)
                if isinstance(value, _Missing):
                    missing.setdefault(fold(value.text), value.text)
            if not missing:
                continue
            target = f.link_table
            assert target is not None
            label = str(target.label)
            self.created_targets[label] = self.created_targets.get(label, 0) + len(missing)
            if dry_run:
                ids = dict.fromkeys(missing, 0)
            else:
                title_key = title_field_keys(target)[0]
                made = records.create_records(
                    self.actor, target, [{title_key: text} for text in missing.values()]
                )
                ids = {k: r.pk for k, r in zip(missing, made, strict=True)}
            for folded, pk in ids.items():
                if not dry_run:
                    self._link_cache[(key, folded)] = pk
            for values in rows:
                value = values.get(key)
                if isinstance(value, _Missing):
                    values[key] = ids[fold(value.text)] or value


def chunk_size() -> int:
    """Rows converted, matched and committed together (``KARTOTEKA_IMPORT_CHUNK``)."""
    return max(int(getattr(conf, "KARTOTEKA_IMPORT_CHUNK", CHUNK)), 1)


def _attname(model: Any, key: str) -> str:
    return model._meta.get_field(key).attname


@dataclass(frozen=True)
class _Missing:
    """A link value naming a target that does not exist yet (created before the row)."""

    text: str


class _Run:
    """One pass of the engine over a file: a dry run or the import."""

    def __init__(
        self,
        actor: Actor,
        table: Table,
        table_file: TableFile,
        settings: ImportSettings,
        *,
        dry_run: bool,
        progress: Callable[[int, int], None] | None = None,
        total: int = 0,
        skip: int = 0,
        bad_rows: Any = None,
        commit: Callable[[ImportResult, int], None] | None = None,
    ) -> None:
        self.table_file = table_file
        headers, self.rows = table_file.header_and_rows()
        self.plan = _Plan(actor, table, headers, settings)
        self.actor = actor
        self.table = table
        self.settings = settings
        self.dry_run = dry_run
        self.progress = progress
        self.total = total
        self.result = ImportResult()
        self.seen: dict[Any, int] = {}
        #: The bad-rows file (binary, appended to) and what a committed chunk calls inside
        #: its transaction: ``commit(result so far, rows done)``.
        self.bad_rows: Any = bad_rows
        self.bad_writer: Any = None
        self.commit = commit
        #: Data rows already imported by the run this one resumes.
        self.skip = skip
        self.first_row = table_file.header_index + (2 if settings.header else 1)
        self.trial = dry_run and self._needs_trial()

    # -- reporting ------------------------------------------------------------------------------
    def _error(self, cells: list[str], errors: list[RowError]) -> None:
        self.result.error_count += 1
        room = MAX_REPORTED_ERRORS - len(self.result.errors)
        if room > 0:
            self.result.errors.extend(errors[:room])
        if self.dry_run:
            self._plan(RowPlan(errors[0].row, "error", errors=errors))
            return
        if self.bad_writer is None:
            if self.bad_rows is None:
                self.bad_rows = tempfile.SpooledTemporaryFile(max_size=4 << 20, mode="w+b")  # noqa: SIM115
            fresh = self.bad_rows.tell() == 0
            text = io.TextIOWrapper(
                self.bad_rows, encoding="utf-8-sig" if fresh else "utf-8", newline=""
            )
            self.bad_text = text
            self.bad_writer = csv.writer(text, delimiter=";")
            if fresh:
                self.bad_writer.writerow(
                    [_("Строка"), _("Ошибка"), *self.plan.headers]  # the file's own header
                )
        reason = "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errors)
        self.bad_writer.writerow([errors[0].row, reason, *cells])

    def _plan(self, plan: RowPlan) -> None:
        if self.dry_run and len(self.result.plans) < DRY_RUN_ROWS:
            self.result.plans.append(plan)

    def _skip(self, number: int, reason: str, record_id: int | None = None) -> None:
        self.result.skipped += 1
        self._plan(RowPlan(number, "skip", record_id=record_id, reason=reason))

    # -- the pass -------------------------------------------------------------------------------
    def run(self) -> ImportResult:
        numbered = enumerate(self.rows, start=self.first_row)
        done = self._skip_done(numbered)
        size = chunk_size()
        while True:
            chunk = list(islice(numbered, size))
            if not chunk:
                break
            if self.dry_run:
                self._chunk(chunk)
                done += len(chunk)
            else:
                # A chunk and the batch's account of it commit together: whatever kills the
                # process, the batch says exactly which rows are written.
                with transaction.atomic():
                    self._chunk(chunk)
                    done += len(chunk)
                    self.result.rows = done
                    if self.commit is not None:
                        self.flush_bad_rows()
                        self.commit(self.result, done)
            self.result.rows = done
            if self.progress is not None:
                self.progress(done, max(self.total, done))
        self.result.created_targets = dict(self.plan.created_targets)
        self.result.errors.sort(key=lambda e: e.row)
        self.result.plans.sort(key=lambda p: p.row)
        return self.result

    def _skip_done(self, numbered: Iterator[tuple[int, list[str]]]) -> int:
        """Pass over the rows a resumed import has written already, keeping their keys (a
        later row with the same key is the file's duplicate, as in one run)."""
        key = self.plan.key
        for number, cells in islice(numbered, self.skip):
            if key is None:
                continue
            values, errors = self.plan.convert(number, cells)
            value = values.get(key.key)
            if not errors and value is not None:
                self.seen.setdefault(
                    value if not isinstance(value, _Missing) else value.text, number
                )
        return self.skip

    def close_bad_rows(self) -> None:
        if self.bad_writer is not None:
            self.bad_text.flush()
            self.bad_text.detach()
            self.bad_writer = None
        if self.bad_rows is not None:
            self.bad_rows.close()

    def flush_bad_rows(self) -> int:
        """Write out the bad rows so far; the bad-rows file's size."""
        if self.bad_writer is not None:
            self.bad_text.flush()
        if self.bad_rows is None:
            return 0
        self.bad_rows.flush()  # to the file, so a killed process leaves what it counted
        return self.bad_rows.tell()

    def _chunk(self, chunk: list[tuple[int, list[str]]]) -> None:
        plan = self.plan
        key = plan.key
        parsed: list[tuple[int, list[str], dict[str, Any]]] = []
        for number, cells in chunk:
            values, errors = plan.convert(number, cells)
            if errors:
                self._error(cells, errors)
                continue
            if key is not None:
                value = values.get(key.key)
                if value is not None:
                    hashable = value if not isinstance(value, _Missing) else value.text
                    first = self.seen.get(hashable)
                    if first is not None:
                        self._error(
                            cells,
                            [
                                RowError(
                                    number,
                                    plan.column_name(key.key),
                                    _("«%(value)s» уже встречается в строке %(first)s файла.")
                                    % {
                                        "value": key.field_type.display(key, value),
                                        "first": first,
                                    },
                                )
                            ],
                        )
                        continue
                    self.seen[hashable] = number
            parsed.append((number, cells, values))
        if plan.settings.create_missing_links:
            plan.resolve_missing([v for _n, _c, v in parsed], dry_run=self.dry_run)
        existing = self._existing(parsed)
        creates: list[tuple[int, list[str], dict[str, Any]]] = []
        updates: list[tuple[int, list[str], int, dict[str, Any], dict[str, Any]]] = []
        for number, cells, values in parsed:
            found = existing.get(values.get(key.key)) if key is not None else None
            if found is None:
                row = plan.inferred({k: v for k, v in values.items() if v is not None})
                for k, v in plan.defaults.items():
                    row.setdefault(k, v)
                creates.append((number, cells, row))
                continue
            pk, state, old = found
            if state == STATE_DELETED:
                self._error(
                    cells,
                    [
                        RowError(
                            number,
                            plan.column_name(key.key),  # type: ignore[union-attr]
                            _(
                                "Запись №%(pk)s с этим значением в удалённых — восстановите её "
                                "или удалите навсегда."
                            )
                            % {"pk": pk},
                        )
                    ],
                )
                continue
            if plan.settings.on_duplicate == "skip":
                self._skip(
                    number,
                    _("Запись №%(pk)s с таким значением «%(field)s» уже есть.")
                    % {"pk": pk, "field": key.label},  # type: ignore[union-attr]
                    pk,
                )
                continue
            diff = self._diff(values, old)
            if not diff:
                self._skip(number, _("Нет изменений."), pk)
                continue
            updates.append((number, cells, pk, diff, old))
        if self.dry_run:
            if self.trial:
                creates, updates = self._trial(creates, updates)
            self._describe(creates, updates)
            return
        self._write_creates(creates)
        self._write_updates(updates)

    def _existing(
        self, parsed: list[tuple[int, list[str], dict[str, Any]]]
    ) -> dict[Any, tuple[int, str, dict[str, Any]]]:
        key = self.plan.key
        if key is None:
            return {}
        wanted = [v[key.key] for _n, _c, v in parsed if v.get(key.key) is not None]
        if not wanted:
            return {}
        attnames = self.plan.attnames
        names = list(attnames)
        found: dict[Any, tuple[int, str, dict[str, Any]]] = {}
        key_attname = attnames[key.key]
        for start in range(0, len(wanted), 900):
            part = wanted[start : start + 900]
            # Through the read path: a record outside the actor's row filter is not "found"
            # (the dry run never describes it), and only fields he may import are compared.
            readable = selectors.base_queryset(self.actor, self.table, state=None)
            rows = readable.filter(**{f"{key_attname}__in": part}).values_list(
                "pk", "record_state", *[attnames[n] for n in names]
            )
            for pk, state, *values in rows:
                old = dict(zip(names, values, strict=True))
                found[old[key.key]] = (pk, state, old)
        return found

    def _diff(self, values: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        policy = KEEP_FILLED if self.plan.settings.keep_filled else OVERWRITE
        return merge_changes(self.plan.fields, old, values, policy)

    def _describe(self, creates: list[Any], updates: list[Any]) -> None:
        fields = self.plan.fields

        def text(k: str, v: Any) -> str:
            if isinstance(v, _Missing):
                return _("%(title)s (будет создана)") % {"title": v.text}
            if v is None:
                return ""
            f = fields[k]
            return f.field_type.display(f, v)

        for number, _cells, row in creates:
            self.result.created += 1
            self._plan(
                RowPlan(
                    number,
                    "create",
                    changes=[(str(fields[k].label), "", text(k, v)) for k, v in row.items()],
                )
            )
        for number, _cells, pk, diff, old in updates:
            self.result.updated += 1
            self._plan(
                RowPlan(
                    number,
                    "update",
                    record_id=pk,
                    changes=[
                        (str(fields[k].label), text(k, old.get(k)), text(k, v))
                        for k, v in diff.items()
                    ],
                )
            )

    # -- the dry run's trial writes ---------------------------------------------------------------
    def _needs_trial(self) -> bool:
        """Whether a row may be refused by something only a write finds out: the actor's row
        filter (a record he would create or move out of his reach) or the table's rules."""
        return (
            rights.row_q(self.actor, self.table) is not None
            or table_rules.find(self.table.key) is not None
        )

    def _trial(self, creates: list[Any], updates: list[Any]) -> tuple[list[Any], list[Any]]:
        """The dry run writes the chunk for real inside a savepoint it always rolls back, so the
        rows the service would refuse (row filter, rules, required and unique values) are
        reported exactly as the import will report them; returns the rows that would be
        written. Link targets to be created are created inside the savepoint too."""
        written: set[int] = set()
        with transaction.atomic():
            rows = self._with_targets(
                [row for _n, _c, row in creates] + [d for *_x, d, _o in updates]
            )
            trial_creates = [(n, c, rows[i]) for i, (n, c, _r) in enumerate(creates)]
            offset = len(creates)
            trial_updates = [
                (n, c, pk, rows[offset + i], old) for i, (n, c, pk, _d, old) in enumerate(updates)
            ]
            written.update(item[0] for item in self._write(trial_creates, self._create))
            written.update(item[0] for item in self._write(trial_updates, self._update))
            transaction.set_rollback(True)
        return (
            [item for item in creates if item[0] in written],
            [item for item in updates if item[0] in written],
        )

    def _with_targets(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``rows`` with every link target still to be created made (inside the
        caller's savepoint; the link cache is left alone)."""
        copies = [dict(row) for row in rows]
        made: dict[tuple[str, str], int] = {}
        for key in self.plan.columns:
            f = self.plan.fields[key]
            if f.type != "link" or f.link_table is None:
                continue
            missing: dict[str, str] = {}
            for row in copies:
                value = row.get(key)
                if isinstance(value, _Missing):
                    missing.setdefault(fold(value.text), value.text)
            if not missing:
                continue
            title_key = title_field_keys(f.link_table)[0]
            targets = records.create_records(
                self.actor, f.link_table, [{title_key: text} for text in missing.values()]
            )
            made.update({(key, k): r.pk for k, r in zip(missing, targets, strict=True)})
            for row in copies:
                value = row.get(key)
                if isinstance(value, _Missing):
                    row[key] = made[(key, fold(value.text))]
        return copies

    # -- writing ---------------------------------------------------------------------------------
    def _require(self, verb: str) -> None:
        """The import as a whole needs the table's ``verb``: refused once, not row by row."""
        if rights.privileged(self.actor) or rights.can(self.actor, self.table, verb):
            return
        from kartoteka.access.models import VERB_LABELS

        raise PermissionDenied(
            _("Нет права «%(verb)s» на таблицу «%(table)s».")
            % {"verb": VERB_LABELS.get(verb, verb), "table": self.table.label}
        )

    def _create(self, items: list[tuple[int, list[str], dict[str, Any]]]) -> None:
        records.create_records(
            self.actor, self.table, [row for _n, _c, row in items], prepared=True
        )

    def _update(self, items: list[tuple[int, list[str], int, Any, Any]]) -> None:
        records.update_records(
            self.actor, self.table, [(pk, d) for _n, _c, pk, d, _o in items], prepared=True
        )

    def _write_creates(self, creates: list[tuple[int, list[str], dict[str, Any]]]) -> None:
        if creates:
            self._require("add")
        self.result.created += len(self._write(creates, self._create))

    def _write_updates(self, updates: list[tuple[int, list[str], int, Any, Any]]) -> None:
        if updates:
            self._require("edit")
        self.result.updated += len(self._write(updates, self._update))

    def _write(self, items: list[Any], write: Callable[[list[Any]], None]) -> list[Any]:
        """Write ``items`` (tuples starting with row number and cells) in one service batch;
        rows the service refuses are reported and the rest written again. A rule violation or
        a refusal of rights (a record that would leave the actor's rows) names no row, so the
        batch is then written row by row to find it. Returns the items written."""
        while items:
            try:
                write(items)
                return items
            except RecordValidationError as exc:
                bad: dict[int, list[RowError]] = {}
                for error in exc.errors:
                    if not 0 <= error.row < len(items) or error.code == "integrity":
                        break
                    number = items[error.row][0]
                    bad.setdefault(error.row, []).append(
                        RowError(number, self.plan.column_name(error.field), error.message)
                    )
                else:
                    for index in sorted(bad):
                        self._error(items[index][1], bad[index])
                    items = [item for i, item in enumerate(items) if i not in bad]
                    continue
                return self._one_by_one(items, write)
            except (RuleViolation, NotFound, PermissionDenied) as exc:
                if len(items) == 1:
                    field_key = getattr(exc, "field", None)
                    column = self.plan.column_name(field_key) if field_key else ""
                    self._error(items[0][1], [RowError(items[0][0], column, exc.message)])
                    return []
                return self._one_by_one(items, write)
        return []

    def _one_by_one(self, items: list[Any], write: Callable[[list[Any]], None]) -> list[Any]:
        return [done for item in items for done in self._write([item], write)]


def dry_run(
    actor: Actor,
    table: Table,
    source: str | bytes,
    name: str,
    settings: ImportSettings,
    *,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> ImportResult:
    """What the import would do, row by row, with totals; nothing is written.

    ``progress(done, total)`` is called after every chunk of rows (``total``: the file's rows,
    when the caller counted them). Big files are checked in the background
    (:mod:`kartoteka.imports.checks`).
    """
    table_file = open_file(source, name, settings)
    run = _Run(actor, table, table_file, settings, dry_run=True, progress=progress, total=total)
    return run.run()


def run_import(
    actor: Actor,
    table: Table,
    source: str | bytes,
    name: str,
    settings: ImportSettings,
    *,
    batch: ImportBatch | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import the file now, as a new batch (or the given pending one); returns the report.

    Raises :class:`ImportFileError` when the file cannot be imported at all; then nothing is
    written (a file that breaks mid-way has its written part undone). Each chunk commits with
    the batch's account of it (rows done, counts, the bad-rows file's size) and renews the
    batch's lease, so a process killed mid-way leaves a batch that :func:`settle` marks
    «прервано» with exactly what was written. A pending batch with a checkpoint (see
    :func:`resume_import`) goes on from its first row not written.
    """
    table_file = open_file(source, name, settings)
    total = table_file.count_rows()
    resumed = batch is not None and bool(batch.checkpoint.get("rows"))
    skip = int(batch.checkpoint.get("rows", 0)) if batch is not None and resumed else 0

    try:
        # The mapping is checked before a batch exists: a refused import leaves no trace.
        run = _Run(
            actor,
            table,
            table_file,
            settings,
            dry_run=False,
            progress=progress,
            total=total,
            skip=skip,
        )
    except KartotekaError as exc:
        if batch is not None:
            _fail(batch, exc)
        raise
    if batch is None:
        checkpoint = {"source": os.path.abspath(source)} if isinstance(source, str) else {}
        batch = ImportBatch.objects.create(
            table=table,
            user=actor.user,
            file_name=name,
            settings=settings.to_json(),
            checkpoint=checkpoint,
        )
    base = ImportBatch.objects.get(pk=batch.pk)
    run.actor = run.plan.actor = Actor(
        user=actor.user, source=batch.source, reason=f"import:{batch.pk}"
    )
    # The bad-rows file is written as the import goes (a unique name, made by the storage).
    errors_name = base.checkpoint.get("errors_name", "") if resumed else ""
    if not errors_name or not default_storage.exists(errors_name):
        errors_name = default_storage.save(f"imports/{batch.pk}-errors.csv", ContentFile(b""))
    bad_rows = open(default_storage.path(errors_name), "r+b")  # noqa: SIM115
    bad_rows.truncate(int(base.checkpoint.get("errors_bytes", 0)) if resumed else 0)
    bad_rows.seek(0, os.SEEK_END)
    run.bad_rows = bad_rows
    kept_errors = list(base.errors) if resumed else []

    def commit(result: ImportResult, done: int) -> None:
        size = run.flush_bad_rows()
        errors = kept_errors + [e.as_json() for e in result.errors[: 1000 - len(kept_errors)]]
        leases.beat(
            ImportBatch,
            batch.pk,
            rows_done=done,
            rows_total=max(total, done),
            created=base.created + result.created if resumed else result.created,
            updated=base.updated + result.updated if resumed else result.updated,
            skipped=base.skipped + result.skipped if resumed else result.skipped,
            error_count=base.error_count + result.error_count if resumed else result.error_count,
            errors=errors,
            errors_file=errors_name if size else "",
            checkpoint={
                **base.checkpoint,
                "rows": done,
                "errors_bytes": size,
                "errors_name": errors_name,
            },
        )

    run.commit = commit
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.RUNNING,
        started_at=base.started_at or timezone.now(),
        finished_at=None,
        message="",
        rows_total=total,
        **leases.lease(),
    )
    try:
        try:
            result = run.run()
        except Exception as exc:
            _fail(batch, exc)
            raise
    finally:
        run.close_bad_rows()
    result.batch = batch.pk
    final = ImportBatch.objects.get(pk=batch.pk)
    if not final.errors_file:
        default_storage.delete(errors_name)
    if resumed:
        result.created += base.created
        result.updated += base.updated
        result.skipped += base.skipped
        result.error_count += base.error_count
        result.errors = [RowError(**e) for e in base.errors] + result.errors
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.DONE,
        rows_total=result.rows,
        rows_done=result.rows,
        created=result.created,
        updated=result.updated,
        skipped=result.skipped,
        error_count=result.error_count,
        errors=[e.as_json() for e in result.errors[:1000]],
        finished_at=timezone.now(),
        lease_owner="",
    )
    return result


def _fail(batch: ImportBatch, exc: Exception) -> None:
    """The file broke (or the import could not start): undo what was written, say why. A
    resumed import keeps what it has written and is «прервано» again, with the reason."""
    if isinstance(exc, KartotekaError):
        message = exc.message
    else:
        message = _("Импорт прерван из-за внутренней ошибки: %(e)s") % {"e": exc}
    batch.refresh_from_db()
    if batch.checkpoint.get("resumed"):
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.INTERRUPTED,
            message=message,
            finished_at=timezone.now(),
            lease_owner="",
        )
        return
    if RecordChange.objects.filter(table=batch.table, source=batch.source).exists():
        undo_import(Actor.system("import failed", source=batch.source), batch, claimed=True)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.FAILED, message=message, finished_at=timezone.now(), lease_owner=""
    )


# -- dead jobs: settle on read, resume ------------------------------------------------------------


def settle(jobs: Iterable[ImportBatch | ImportCheck]) -> None:
    """Mark the jobs whose process died (:func:`kartoteka.core.leases.is_dead`): an import
    «прервано» with what its committed chunks wrote; an undo back to the batch's status before
    it (undo is one transaction: nothing was undone); a dry run «прервано» (the wizard starts
    it again). Each change is made only if the job is still as it was read, so a live process
    that just renewed its lease or finished is never overruled. ``jobs`` are refreshed."""
    for job in jobs:
        if job.status not in (ImportBatch.RUNNING, ImportBatch.UNDOING):
            continue
        # Running with no lease: started before leases existed (an undo waiting for the
        # worker has none yet, and is not dead).
        legacy = job.status == ImportBatch.RUNNING and not job.lease_owner
        if not (legacy or leases.is_dead(job)):
            continue
        same = type(job).objects.filter(pk=job.pk, status=job.status, lease_owner=job.lease_owner)
        if isinstance(job, ImportCheck):
            same.update(
                status=ImportCheck.INTERRUPTED,
                message=_("Проверка прервана: остановился процесс, который её выполнял."),
                finished_at=timezone.now(),
            )
        elif job.status == ImportBatch.UNDOING:
            same.update(
                status=job.checkpoint.get("before_undo") or ImportBatch.DONE,
                message=_(
                    "Отмена прервана: остановился процесс, который её выполнял; ничего не "
                    "отменено — отмените импорт снова."
                ),
                lease_owner="",
            )
        else:
            same.update(
                status=ImportBatch.INTERRUPTED,
                message=_(
                    "Импорт прерван: остановился процесс, который его выполнял. Записаны "
                    "строки файла до %(last)s включительно (создано %(created)s, обновлено "
                    "%(updated)s); импорт можно отменить или продолжить со строки %(next)s."
                )
                % {
                    "last": job.next_row - 1,
                    "created": job.created,
                    "updated": job.updated,
                    "next": job.next_row,
                },
                finished_at=timezone.now(),
            )
        job.refresh_from_db()


def settle_all() -> None:
    """Settle every running import, undo and dry run (the worker does this as it starts and
    before each job, so dead jobs are marked even when nobody looks at them)."""
    running = [ImportBatch.RUNNING, ImportBatch.UNDOING]
    settle(ImportBatch.objects.filter(status__in=running))
    settle(ImportCheck.objects.filter(status=ImportCheck.RUNNING))


def resume_import(
    actor: Actor, batch: ImportBatch, *, background: bool | None = None
) -> ImportBatch:
    """Go on with an interrupted import from its first row not written (its file kept by the
    wizard, or the path a command-line import was given, unchanged), as the same batch — its
    undo then covers both parts. Run now, or by the worker (``background=None``: when more than
    :data:`BACKGROUND_ROWS` rows are left)."""
    settle([batch])
    if batch.status != ImportBatch.INTERRUPTED:
        raise KartotekaError(
            _("Продолжить можно только прерванный импорт; импорт №%(n)s — «%(status)s».")
            % {"n": batch.pk, "status": batch.get_status_display()},
            code="not_interrupted",
        )
    if not (actor.is_admin or (actor.user_id and actor.user_id == batch.user_id)):
        raise PermissionDenied(_("Продолжить импорт может тот, кто его сделал, или администратор."))
    source = batch_source(batch)
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.INTERRUPTED).update(
        status=ImportBatch.PENDING,
        message="",
        lease_owner="",
        checkpoint={**batch.checkpoint, "resumed": True},
    )
    if not claimed:
        raise KartotekaError(_("Импорт №%(n)s уже продолжается.") % {"n": batch.pk}, code="busy")
    if background is None:
        background = batch.rows_total - batch.rows_done > BACKGROUND_ROWS
    if background:
        from kartoteka.imports.tasks import run_import_task

        transaction.on_commit(lambda: run_import_task.enqueue(batch.pk))
    else:
        run_batch(batch.pk, source=source)
    batch.refresh_from_db()
    return batch


def batch_source(batch: ImportBatch) -> str:
    """The path of the batch's file: its copy in storage, or the command line's file."""
    if batch.file_path and default_storage.exists(batch.file_path):
        return default_storage.path(batch.file_path)
    path = batch.checkpoint.get("source") or ""
    if path and os.path.isfile(path):
        return path
    raise ImportFileError(
        _(
            "Файл импорта №%(n)s больше недоступен — продолжить нельзя. Отмените импорт и "
            "загрузите файл заново."
        )
        % {"n": batch.pk}
    )


# -- batches: start now or in the background --


def save_upload(upload: Any, name: str) -> str:
    """Keep an uploaded file (bytes or a file object, streamed) in the default storage for the
    wizard's steps and the import; returns its storage name. Refuses a file over
    :func:`max_upload_bytes`."""
    limit = max_upload_bytes()
    if isinstance(upload, bytes):
        size, upload = len(upload), File(io.BytesIO(upload))
    else:
        size = getattr(upload, "size", None) or 0
    if size > limit:
        raise ImportFileError(
            _("Файл больше %(mb)s МБ — такой файл загрузить нельзя.") % {"mb": limit // 2**20}
        )
    return default_storage.save(f"imports/uploads/{name or 'file'}", upload)


def start_import(
    actor: Actor,
    table: Table,
    upload: Any,
    name: str,
    settings: ImportSettings,
    *,
    background: bool | None = None,
) -> ImportBatch:
    """Keep the uploaded file and create a batch; run it now, or enqueue it for the worker
    (``background=None``: when the file has more than :data:`BACKGROUND_ROWS` rows).

    ``upload`` is the file's bytes, a file object (an ``UploadedFile``: streamed to storage,
    never read whole into memory) or the storage name :func:`save_upload` returned (the
    wizard keeps the file between its steps and previews it with ``default_storage.path``).
    The file is checked first: a file too big or that cannot be read raises
    :class:`ImportFileError`, and no batch is created and nothing kept.
    """
    path = upload if isinstance(upload, str) else save_upload(upload, name)
    try:
        table_file = open_file(default_storage.path(path), name, settings)
        headers, _rows = table_file.header_and_rows()
        _Plan(actor, table, headers, settings)  # the mapping is checked before a batch exists
    except KartotekaError:
        default_storage.delete(path)
        raise
    batch = ImportBatch.objects.create(
        table=table, user=actor.user, file_name=name, file_path=path, settings=settings.to_json()
    )
    if background is None:
        background = table_file.count_rows() > BACKGROUND_ROWS
    if background:
        from kartoteka.imports.tasks import run_import_task

        transaction.on_commit(lambda: run_import_task.enqueue(batch.pk))
    else:
        run_batch(batch.pk)
        batch.refresh_from_db()
    return batch


def max_upload_bytes() -> int:
    """The largest import file accepted (``KARTOTEKA_IMPORT_MAX_MB``, default 512 MB)."""
    return int(getattr(conf, "KARTOTEKA_IMPORT_MAX_MB", 512)) * 2**20


def run_batch(batch_id: int, *, source: str = "") -> ImportResult | None:
    """Run a pending batch (new, or resumed: see :func:`resume_import`) from its file (the
    background job calls this). Claiming it takes its lease, so two workers never run one."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.PENDING).update(
        status=ImportBatch.RUNNING, **leases.lease()
    )
    if not claimed:
        return None
    batch = ImportBatch.objects.select_related("table", "user").get(pk=batch_id)
    user = batch.user
    actor = Actor.for_user(user, source=batch.source) if user else Actor.system("import")
    try:
        source = source or batch_source(batch)
    except KartotekaError as exc:
        _fail(batch, exc)
        return None
    try:
        settings = ImportSettings.from_json(batch.settings)
        return run_import(actor, batch.table, source, batch.file_name, settings, batch=batch)
    except KartotekaError:
        return None  # the batch says why (status «не выполнен», message)


def progress_of(batch: ImportBatch | ImportCheck) -> dict[str, Any]:
    """Rows done / total, rows per second and seconds left, for a progress bar (of an import
    or of the background dry run of a big file)."""
    done, total = batch.rows_done, max(batch.rows_total, batch.rows_done)
    rate = 0.0
    if batch.started_at and done:
        end = batch.finished_at or timezone.now()
        seconds = max((end - batch.started_at).total_seconds(), 0.001)
        rate = done / seconds
    left = (total - done) / rate if rate and total > done else 0.0
    return {
        "status": batch.status,
        "done": done,
        "total": total,
        "percent": int(done * 100 / total) if total else (100 if batch.is_finished else 0),
        "rate": round(rate),
        "seconds_left": round(left),
    }


def errors_file(batch: ImportBatch) -> Any:
    """The bad rows of a batch (CSV, UTF-8, «;», the reason per row) opened for reading."""
    if not batch.errors_file:
        raise NotFound(_("В этом импорте нет строк с ошибками."))
    return default_storage.open(batch.errors_file, "rb")


# -- undo --


def _check_undo(actor: Actor, batch: ImportBatch, *, claimed: bool = False) -> None:
    if batch.status == ImportBatch.UNDONE:
        raise KartotekaError(_("Импорт №%(n)s уже отменён.") % {"n": batch.pk}, code="undone")
    if batch.status == ImportBatch.UNDOING and not claimed:
        raise KartotekaError(
            _("Импорт №%(n)s уже отменяется в фоне.") % {"n": batch.pk}, code="undoing"
        )
    if batch.status in (ImportBatch.PENDING, ImportBatch.RUNNING) and not claimed:
        raise KartotekaError(
            _("Импорт №%(n)s ещё выполняется — отменить его можно, когда он закончится.")
            % {"n": batch.pk},
            code="running",
        )
    if not (actor.is_admin or (actor.user_id and actor.user_id == batch.user_id)):
        raise PermissionDenied(_("Отменить импорт может тот, кто его сделал, или администратор."))


def start_undo(
    actor: Actor, batch: ImportBatch, *, background: bool | None = None
) -> dict[str, Any] | None:
    """Undo ``batch`` now and return the report, or — for a batch that changed more than
    :data:`BACKGROUND_ROWS` records (``background=None``) — hand it to the worker and return
    ``None``; the batch is then «отменяется» until the job has undone it (one transaction, as
    in :func:`undo_import`) or has failed (the batch is «выполнен» again, with the reason)."""
    settle([batch])
    _check_undo(actor, batch)
    if background is None:
        background = batch.created + batch.updated > BACKGROUND_ROWS
    if not background:
        return undo_import(actor, batch)
    claimed = ImportBatch.objects.filter(
        pk=batch.pk,
        status__in=[ImportBatch.DONE, ImportBatch.FAILED, ImportBatch.INTERRUPTED],
    ).update(
        status=ImportBatch.UNDOING,
        message="",
        undo_total=batch.created + batch.updated,
        lease_owner="",
        checkpoint={**batch.checkpoint, "before_undo": batch.status},
    )
    if not claimed:
        raise KartotekaError(_("Импорт №%(n)s уже отменяется.") % {"n": batch.pk}, code="undoing")
    from kartoteka.imports.tasks import undo_import_task

    transaction.on_commit(lambda: undo_import_task.enqueue(batch.pk, actor.user_id))
    batch.refresh_from_db()
    return None


def run_undo(batch_id: int, user_id: int | None) -> dict[str, Any] | None:
    """The background job of :func:`start_undo`: undo a batch marked «отменяется»."""
    claimed = ImportBatch.objects.filter(
        pk=batch_id, status=ImportBatch.UNDOING, lease_owner=""
    ).update(**leases.lease())
    if not claimed:
        return None
    batch = ImportBatch.objects.select_related("table").get(pk=batch_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    actor = Actor.for_user(user) if user else Actor.system(f"import-undo:{batch.pk}")
    try:
        return undo_import(actor, batch, claimed=True)
    except Exception as exc:
        message = (
            exc.message
            if isinstance(exc, KartotekaError)
            else _("Отмена прервана из-за внутренней ошибки: %(e)s") % {"e": exc}
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=batch.checkpoint.get("before_undo") or ImportBatch.DONE,
            message=_("Импорт не отменён: %(m)s") % {"m": message},
            lease_owner="",
        )
        if not isinstance(exc, KartotekaError):
            raise
        return None


def undo_import(actor: Actor, batch: ImportBatch, *, claimed: bool = False) -> dict[str, Any]:
    """Remove the records ``batch`` created and give the records it updated their old values.

    Link targets the import created in other tables go too. Records edited since the import by
    anything else — or, for created records, linked to from other records — are left alone and
    listed under ``kept`` (with ``table`` when not the batch's table). Returns
    ``{"deleted": n, "restored": n, "kept": [{"record": id, "reason": "…"}]}``.
    """
    _check_undo(actor, batch, claimed=claimed)
    undo_actor = Actor(user=actor.user, source=f"import-undo#{batch.pk}", reason="import-undo")
    system = Actor.system(f"import-undo:{batch.pk}", source=f"import-undo#{batch.pk}")
    sources = [batch.source, f"{batch.source}:status"]
    # The batch's table first; then link targets the import created in other tables, which
    # are free to go once the records linking to them are.
    others = (
        RecordChange.objects.filter(source__in=sources)
        .exclude(table=batch.table)
        .values_list("table_id", flat=True)
        .distinct()
    )
    tables = [batch.table, *Table.objects.filter(pk__in=list(others)).order_by("id")]
    report: dict[str, Any] = {"deleted": 0, "restored": 0, "kept": []}
    with transaction.atomic():
        for table in tables:
            deleted, restored, kept = _undo_table(
                table, sources, system if actor.user is None else undo_actor, system
            )
            report["deleted"] += deleted
            report["restored"] += restored
            report["kept"].extend(
                kept if table == batch.table else [{**item, "table": table.key} for item in kept]
            )
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.UNDONE, undo_report=report, message="", lease_owner=""
        )
    batch.refresh_from_db()
    return report


def _undo_table(
    table: Table, sources: list[str], actor: Actor, system: Actor
) -> tuple[int, int, list[dict[str, Any]]]:
    """Undo what the changes with ``sources`` did to ``table``: (deleted, restored, kept)."""
    created: dict[int, int] = {}
    updated: dict[int, tuple[int, dict[str, Any]]] = {}
    ours = RecordChange.objects.filter(table=table, source__in=sources)
    for change_id, record_id, action, changes in (
        ours.order_by("id")
        .values_list("id", "record_id", "action", "changes")
        .iterator(chunk_size=5000)
    ):
        if action == "create":
            created[record_id] = change_id
        elif action == "update" and record_id not in created:
            first_id, old = updated.get(record_id, (change_id, {}))
            for key, pair in changes.items():
                old.setdefault(key, pair[0])
            updated[record_id] = (first_id, old)
    kept: list[dict[str, Any]] = []
    firsts = {**created, **{k: v[0] for k, v in updated.items()}}
    later = _edited_since(table, sources, firsts)
    for record_id in sorted(later):
        kept.append(
            {"record": record_id, "reason": _("изменена после импорта; оставлена как есть")}
        )
    linked = _linked(table, [pk for pk in created if pk not in later])
    for record_id in sorted(linked):
        kept.append({"record": record_id, "reason": _("на неё ссылаются другие записи; оставлена")})
    to_delete = [pk for pk in created if pk not in later and pk not in linked]
    to_restore = [(pk, old) for pk, (_id, old) in updated.items() if pk not in later]
    fields = {f.key: f for f in fields_of(table)}
    for start in range(0, len(to_delete), CHUNK):
        records.purge_records(system, table, to_delete[start : start + CHUNK])
    for start in range(0, len(to_restore), CHUNK):
        updates: list[tuple[int, Mapping[str, Any]]] = []
        for pk, old in to_restore[start : start + CHUNK]:
            values = {
                k: (None if v is None else fields[k].field_type.from_json(fields[k], v))
                for k, v in old.items()
                if k in fields and not fields[k].read_only
            }
            updates.append((pk, values))
        records.update_records(actor, table, updates)
    return len(to_delete), len(to_restore), kept


def _edited_since(table: Table, sources: list[str], firsts: dict[int, int]) -> set[int]:
    """Records changed by anything but this import after the import's first change to them."""
    edited: set[int] = set()
    ids = list(firsts)
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        others = (
            RecordChange.objects.filter(table=table, record_id__in=part)
            .exclude(source__in=sources)
            .values_list("record_id", "id")
        )
        for record_id, change_id in others:
            if change_id > firsts[record_id]:
                edited.add(record_id)
    return edited


def _linked(table: Table, ids: list[int]) -> set[int]:
    """Of ``ids``, the records other records link to."""
    found: set[int] = set()
    if not ids:
        return found
    for link in Field.objects.filter(link_table=table, type="link").select_related("table"):
        child = model_for(link.table)
        attname = _attname(child, link.key)
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            found.update(
                child.objects.filter(**{f"{attname}__in": part})
                .exclude(record_state=STATE_DELETED)
                .values_list(attname, flat=True)
            )
    return found
