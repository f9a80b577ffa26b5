"""The one write path for records of every table.

Every page, bulk edit, import, API call, web form, action and CLI command that changes records
calls these functions. Batch first: each takes a list of rows, and a single edit is a batch of one,
so a million-row import and a one-field edit run the same validation, rules and history code.

A batch is all or nothing: values are coerced by their field types, checked for required,
uniqueness and link targets, passed through the table's rules (:mod:`kartoteka.records.rules`),
and only then written, with one history row per record, in one transaction. Problems are
collected for the whole batch and raised together as
:class:`~kartoteka.core.exceptions.RecordValidationError`, so a form shows every error at once
and an import reports every bad row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.access.models import EDITABLE, HIDDEN
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import (
    FieldError,
    NotFound,
    PermissionDenied,
    RecordValidationError,
)
from kartoteka.records import events
from kartoteka.records.models import RecordChange
from kartoteka.records.rules import RowChange, RuleContext, rules_for
from kartoteka.search import services as search
from kartoteka.tables.fieldtypes.base import FieldType
from kartoteka.tables.modelfactory import (
    STATE_ACTIVE,
    STATE_ARCHIVED,
    STATE_DELETED,
    fields_of,
    model_for,
)
from kartoteka.tables.models import Field, Sequence, Table

BATCH = 500
#: Rows per ``executemany`` of the bulk write paths.
WRITE_CHUNK = 5000


# -- helpers ------------------------------------------------------------------------------------


def _require_user(actor: Actor) -> None:
    if actor.user is not None and not actor.user.is_active:
        raise PermissionDenied(_("Учётная запись отключена."))


def _require(actor: Actor, table: Table, verb: str) -> None:
    """Access rights of a write (SPEC §10): the table verb, and ``bulk_edit``/``import`` for
    writes arriving through those paths. Writes a rule makes for someone are its own."""
    if rights.privileged(actor):
        return
    if not rights.can(actor, table, "view"):
        raise NotFound(_("Таблица «%(key)s» не найдена.") % {"key": table.key})
    needed = [verb]
    if actor.source == "bulk":
        needed.append("bulk_edit")
    if actor.source.startswith("import"):
        needed.append("import")
    for v in needed:
        if not rights.can(actor, table, v):
            raise PermissionDenied(
                _("Нет права «%(verb)s» на таблицу «%(table)s».")
                % {"verb": _verb_label(v), "table": table.label}
            )


def _verb_label(verb: str) -> str:
    from kartoteka.access.models import VERB_LABELS

    return str(VERB_LABELS.get(verb, verb))


def _readable(actor: Actor, table: Table, *, state: str | None = None) -> Any:
    """The records the actor may touch: all of them for privileged writes, else the selector's
    (a record outside the row filter is ``NotFound``, exactly as when reading it)."""
    if rights.privileged(actor):
        qs = model_for(table).objects.all()
        return qs if state is None else qs.filter(record_state=state)
    from kartoteka.records.selectors import base_queryset

    return base_queryset(actor, table, state=state)


def _check_confined(actor: Actor, table: Table, ids: list[int]) -> None:
    """After a write (inside its transaction): the records must still be within the actor's
    rows — nobody creates or moves a record out of his own reach."""
    if rights.privileged(actor) or not ids:
        return
    q = rights.row_q(actor, table)
    if q is None:
        return
    inside = model_for(table).objects.filter(pk__in=ids).filter(q).count()
    if inside != len(set(ids)):
        raise PermissionDenied(
            _("Запись вышла бы за пределы доступных вам записей таблицы «%(table)s».")
            % {"table": table.label}
        )


def _field_refusal(actor: Actor, table: Table, field: Field) -> tuple[str, str] | None:
    """Why the actor may not write ``field`` (code, message), by his group's field rights."""
    if rights.privileged(actor) or actor.source.startswith("action:"):
        return None
    access = rights.table_access(actor, table).field(field.key)
    if access.access == HIDDEN:
        return "unknown_field", _("Нет такого поля.")
    if access.access != EDITABLE:
        return "read_only", _("Поле «%(label)s» вам доступно только для чтения.") % {
            "label": field.label
        }
    if actor.source.startswith("import") and not access.in_import:
        return "not_importable", _("Поле «%(label)s» не принимается из импорта.") % {
            "label": field.label
        }
    return None


def _attname(model: Any, key: str) -> str:
    return model._meta.get_field(key).attname


def current_values(record: Any, fields: Iterable[Field]) -> dict[str, Any]:
    """The stored values of a record keyed by field key (ids for links and users)."""
    return {f.key: getattr(record, _attname(type(record), f.key)) for f in fields}


def next_sequence_value(key: str) -> int:
    """Take the next number of a named sequence; safe under concurrent transactions."""
    with transaction.atomic():
        Sequence.objects.get_or_create(key=key)
        seq = Sequence.objects.select_for_update().get(key=key)
        seq.value += 1
        seq.save(update_fields=["value"])
        return seq.value


def _default_value(actor: Actor, table: Table, field: Field) -> Any:
    spec = field.default
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        return field.field_type.clean(field, spec)
    kind = spec.get("kind", "constant")
    if kind == "constant":
        return field.field_type.clean(field, spec.get("value"))
    if kind == "current_user":
        return actor.user_id
    if kind == "today":
        return timezone.localdate()
    if kind == "now":
        return timezone.now()
    if kind == "autonumber":
        return next_sequence_value(f"autonumber:{table.pk}:{field.key}")
    return None


#: Default kinds whose value is the same for every row of a batch.
BATCH_CONSTANT_KINDS = frozenset({"constant", "current_user"})
#: Value types a batch may share between its rows (a list or dict each row must own).
IMMUTABLE_VALUES = (str, int, float, Decimal, dt.date, type(None))


def _fill_defaults(
    actor: Actor, table: Table, fields: dict[str, Field], changes: list[RowChange]
) -> None:
    """Give every row the defaults of the fields it has no value for.

    A constant (or the current user) is the same for every row, so it is computed once per
    batch, when the first row needs it; an import of a hundred thousand rows otherwise cleans
    the same constant for every row and field. Autonumbers, «now» and «today» are taken per
    row, in row order, as before.
    """
    defaulted = [f for f in fields.values() if f.default is not None]
    shared: dict[str, Any] = {}
    for change in changes:
        for field in defaulted:
            if field.key in change.values:
                continue
            if field.key in shared:
                change.values[field.key] = shared[field.key]
                continue
            value = _default_value(actor, table, field)
            if _default_kind(field) in BATCH_CONSTANT_KINDS and isinstance(value, IMMUTABLE_VALUES):
                shared[field.key] = value
            change.values[field.key] = value


def _default_kind(field: Field) -> str:
    spec = field.default
    return str(spec.get("kind", "constant")) if isinstance(spec, Mapping) else "constant"


def _coerce(
    actor: Actor,
    fields: dict[str, Field],
    values: Mapping[str, Any],
    row: int,
    *,
    system: bool,
    table: Table | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            errors.append(FieldError(key, _("Нет такого поля."), "unknown_field", row, value))
            continue
        refusal = None if table is None else _field_refusal(actor, table, field)
        if refusal is not None:
            errors.append(FieldError(key, refusal[1], refusal[0], row, value))
            continue
        if field.read_only and not system:
            errors.append(
                FieldError(
                    key,
                    _("Поле «%(label)s» заполняется автоматически и не редактируется.")
                    % {"label": field.label},
                    "read_only",
                    row,
                    value,
                )
            )
            continue
        try:
            cleaned[key] = field.field_type.clean(field, value)
        except ValidationError as exc:
            errors.append(
                FieldError(key, " ".join(exc.messages), exc.code or "invalid", row, value)
            )
    return cleaned, errors


def _known(
    actor: Actor,
    table: Table,
    fields: dict[str, Field],
    values: Mapping[str, Any],
    row: int,
    refused: dict[str, bool],
) -> tuple[dict[str, Any], list[FieldError]]:
    """Prepared values: only unknown, read-only and (by the group's field rights) unwritable
    fields are refused. ``refused`` caches the verdict per field key across a batch's rows."""
    for key in values:
        if key not in refused:
            field = fields.get(key)
            refused[key] = (
                field is None
                or (field.read_only and not actor.is_system)
                or _field_refusal(actor, table, field) is not None
            )
    if not any(refused[key] for key in values):
        return dict(values), []
    cleaned = {k: v for k, v in values.items() if not refused[k]}
    _cleaned, errors = _coerce(
        actor,
        fields,
        {k: v for k, v in values.items() if refused[k]},
        row,
        system=actor.is_system,
        table=table,
    )
    cleaned.update(_cleaned)
    return cleaned, errors


def _check_required(
    fields: dict[str, Field], changes: list[RowChange], errors: list[FieldError]
) -> None:
    for change in changes:
        for field in fields.values():
            if not field.required or field.type == "boolean":
                continue
            if change.is_create or field.key in change.values:
                value = change.get(field.key)
                if field.field_type.is_empty(value):
                    errors.append(
                        FieldError(
                            field.key,
                            _("Поле «%(label)s» обязательно.") % {"label": field.label},
                            "required",
                            change.index,
                        )
                    )


def _check_unique(
    ctx: RuleContext, fields: dict[str, Field], changes: list[RowChange], errors: list[FieldError]
) -> None:
    from kartoteka.records.selectors import readable_record_ids

    model = ctx.model
    for field in fields.values():
        if not field.unique:
            continue
        seen: dict[Any, int] = {}
        wanted: dict[Any, list[RowChange]] = defaultdict(list)
        for change in changes:
            if field.key not in change.values:
                continue
            value = change.values[field.key]
            if value is None:
                continue
            if value in seen:
                errors.append(
                    FieldError(
                        field.key,
                        _("Значение «%(value)s» поля «%(label)s» повторяется в строке %(other)s.")
                        % {
                            "value": field.field_type.display(field, value),
                            "label": field.label,
                            "other": seen[value] + 1,
                        },
                        "duplicate_in_batch",
                        change.index,
                        value,
                    )
                )
                continue
            seen[value] = change.index
            wanted[value].append(change)
        values = list(wanted)
        for start in range(0, len(values), BATCH):
            chunk = values[start : start + BATCH]
            attname = _attname(model, field.key)
            taken = list(
                model.objects.filter(**{f"{attname}__in": chunk}).values_list("pk", attname)
            )
            # The value is taken whoever may read the record; its number only for those who may.
            named = readable_record_ids(ctx.actor, ctx.table, [pk for pk, _v in taken])
            for pk, value in taken:
                for change in wanted.get(value, []):
                    if change.record is not None and change.record.pk == pk:
                        continue
                    params = {
                        "value": field.field_type.display(field, value),
                        "label": field.label,
                        "pk": pk,
                    }
                    message = (
                        _("Значение «%(value)s» поля «%(label)s» уже есть в записи №%(pk)s.")
                        if pk in named
                        else _("Значение «%(value)s» поля «%(label)s» уже есть в другой записи.")
                    )
                    errors.append(
                        FieldError(
                            field.key,
                            message % params,
                            "not_unique",
                            change.index,
                            value,
                        )
                    )


def _check_links(
    fields: dict[str, Field],
    changes: list[RowChange],
    errors: list[FieldError],
    actor: Actor | None = None,
) -> None:
    for field in fields.values():
        if field.type not in ("link", "user"):
            continue
        ids = {c.values[field.key] for c in changes if c.values.get(field.key) is not None}
        if not ids:
            continue
        if field.type == "link":
            assert field.link_table is not None  # links always have a target (add_field checks)
            # A link may only point at a record the actor can read (a subtable row of another
            # manager's client is refused here, as that client is NotFound to him).
            try:
                readable = (
                    _readable(actor, field.link_table)
                    if actor is not None
                    else model_for(field.link_table).objects.all()
                )
            except NotFound:
                readable = model_for(field.link_table).objects.none()
            found = set(
                readable.filter(pk__in=ids)
                .exclude(record_state=STATE_DELETED)
                .values_list("pk", flat=True)
            )
        else:
            found = set(get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True))
        for change in changes:
            value = change.values.get(field.key)
            if value is not None and value not in found:
                errors.append(
                    FieldError(
                        field.key,
                        _("Запись №%(value)s для поля «%(label)s» не найдена.")
                        % {"value": value, "label": field.label},
                        "link_not_found",
                        change.index,
                        value,
                    )
                )


def _check_files(ctx: RuleContext, changes: list[RowChange], errors: list[FieldError]) -> None:
    """A file field takes an upload of this very write, or the name of a file the actor may
    already read: one a record of this table he can read holds in the same field, or one the
    same record held before (its history: an undo puts a replaced file back).

    Any other name — another table's file, another user's import upload, a guess — is refused
    as not found, whoever writes, on every path (form, bulk edit, API, import, web form), as
    otherwise the record would hold the name and its file would be served to whoever reads the
    record. Only code running as the system without a visitor behind it (the CLI, the demo,
    jobs) names stored files freely; a web form's actor is the public and is checked too.
    """
    actor = ctx.actor
    if actor.is_system and not actor.source.startswith("webform"):
        return
    for field in ctx.fields.values():
        if field.type != "file":
            continue
        wanted = {
            c.values[field.key]
            for c in changes
            if isinstance(c.values.get(field.key), str) and c.values[field.key]
        }
        if not wanted:
            continue
        found = _readable_file_names(actor, ctx.table, field, wanted)
        former = (
            _former_file_names(ctx.table, field, changes, wanted - found)
            if wanted - found
            else set()
        )
        for change in changes:
            value = change.values.get(field.key)
            if not isinstance(value, str) or not value or value in found:
                continue
            if change.record is None or (change.record.pk, value) not in former:
                errors.append(
                    FieldError(
                        field.key,
                        _("Файл «%(value)s» для поля «%(label)s» не найден.")
                        % {"value": value, "label": field.label},
                        "file_not_found",
                        change.index,
                        value,
                    )
                )


def _readable_file_names(actor: Actor, table: Table, field: Field, names: set[str]) -> set[str]:
    """Of ``names``, those a record of ``table`` the actor may read (in any state) holds in
    ``field``."""
    if actor.is_system:
        return set()  # a web form's visitor reads nothing
    try:
        readable = _readable(actor, table)
    except NotFound:
        return set()
    found: set[str] = set()
    listed = sorted(names)
    for start in range(0, len(listed), BATCH):
        found.update(
            readable.filter(**{f"{field.key}__in": listed[start : start + BATCH]}).values_list(
                field.key, flat=True
            )
        )
    return found


def _former_file_names(
    table: Table, field: Field, changes: list[RowChange], names: set[str]
) -> set[tuple[int, str]]:
    """(record id, name) for the names of ``names`` that the record a change updates held in
    ``field`` before, by its history."""
    by_record = {
        c.record.pk: c.values[field.key]
        for c in changes
        if c.record is not None and c.values.get(field.key) in names
    }
    found: set[tuple[int, str]] = set()
    history = RecordChange.objects.filter(table=table, record_id__in=list(by_record))
    for record_id, changed in history.values_list("record_id", "changes").iterator():
        pair = (changed or {}).get(field.key)
        if isinstance(pair, list) and by_record.get(record_id) in pair:
            found.add((record_id, by_record[record_id]))
    return found


def _store_files(table: Table, fields: dict[str, Field], changes: list[RowChange]) -> None:
    for change in changes:
        for key, value in list(change.values.items()):
            if isinstance(value, UploadedFile):
                name = default_storage.save(f"{table.key}/{key}/{value.name}", value)
                change.values[key] = name


def _json(field: Field, value: Any) -> Any:
    return None if value is None else field.field_type.to_json(field, value)


def _json_encoders(fields: dict[str, Field]) -> dict[str, Callable[[Any], Any]]:
    """What :func:`_json` does, per field key, looked up once per batch.

    History encodes every value written (twice on update); most types keep the base
    ``to_json``, under which a value is its own JSON, and get no call at all.
    """
    encoders: dict[str, Callable[[Any], Any]] = {}
    for key, field in fields.items():
        if type(field.field_type).to_json is FieldType.to_json:
            encoders[key] = _as_is
        else:
            encoders[key] = partial(_json, field)
    return encoders


def _as_is(value: Any) -> Any:
    return value


def _history_rows(
    ctx: RuleContext, action: str, records_changes: list[tuple[Any, dict[str, list[Any]]]]
) -> None:
    if not records_changes:
        return
    now = RecordChange._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    table_id, user_id, source = ctx.table.pk, ctx.actor.user_id, ctx.actor.source[:100]
    # executemany rather than bulk_create: no model instances, one statement per chunk (a
    # million-row import writes a million history rows).
    sql = (
        f"INSERT INTO {RecordChange._meta.db_table} (table_id, record_id, action, user_id, "
        "source, created_at, changes) VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )
    dumps = DjangoJSONEncoder(ensure_ascii=False).encode
    with connection.cursor() as cursor:
        for start in range(0, len(records_changes), WRITE_CHUNK):
            cursor.executemany(
                sql,
                [
                    (table_id, record.pk, action, user_id, source, now, dumps(changes))
                    for record, changes in records_changes[start : start + WRITE_CHUNK]
                ],
            )


def _run_callbacks(ctx: RuleContext) -> None:
    for fn in ctx.callbacks:
        transaction.on_commit(fn)


def _raise_integrity(exc: IntegrityError) -> None:
    raise RecordValidationError(
        [
            FieldError(
                "", _("Запись нарушает ограничение базы данных: %(e)s") % {"e": exc}, "integrity"
            )
        ]
    ) from exc


def _context(actor: Actor, table: Table, operation: str) -> RuleContext:
    model = model_for(table)
    return RuleContext(
        actor=actor,
        table=table,
        model=model,
        fields={f.key: f for f in fields_of(table)},
        operation=operation,
    )


def _validate(ctx: RuleContext, changes: list[RowChange], errors: list[FieldError]) -> None:
    rules = rules_for(ctx.table)
    rules.prepare(ctx, changes)
    _check_required(ctx.fields, changes, errors)
    _check_unique(ctx, ctx.fields, changes, errors)
    _check_links(ctx.fields, changes, errors, ctx.actor)
    _check_files(ctx, changes, errors)
    if errors:
        raise RecordValidationError(errors)
    rules.clean(ctx, changes)
    rules.before_save(ctx, changes)


# -- create / update ---------------------------------------------------------------------------


def create_records(
    actor: Actor, table: Table, rows: list[Mapping[str, Any]], *, prepared: bool = False
) -> list[Any]:
    """Create records from ``rows`` (values keyed by field key, as Python values or text).

    Missing fields get their defaults. Returns the created model instances, in order.
    Raises ``RecordValidationError`` or ``RuleViolation``; then nothing is written.
    ``prepared``: the values are already what the fields' ``clean`` returns (the import
    converts every cell with the same field types), so they are not coerced again; every
    check, rule and the history still run.
    """
    _require_user(actor)
    _require(actor, table, "add")
    ctx = _context(actor, table, "create")
    errors: list[FieldError] = []
    changes: list[RowChange] = []
    refused: dict[str, bool] = {}
    for index, row in enumerate(rows):
        if prepared:
            cleaned, row_errors = _known(actor, table, ctx.fields, row, index, refused)
        else:
            cleaned, row_errors = _coerce(
                actor, ctx.fields, row, index, system=actor.is_system, table=table
            )
        errors.extend(row_errors)
        changes.append(RowChange(index=index, values=cleaned))
    with transaction.atomic():
        _fill_defaults(actor, table, ctx.fields, changes)
        _validate(ctx, changes, errors)
        _store_files(table, ctx.fields, changes)
        instances = _new_instances(ctx, changes)
        try:
            with transaction.atomic():
                created = _insert_rows(ctx.model, instances)
        except IntegrityError as exc:
            _raise_integrity(exc)
        for change, obj in zip(changes, created, strict=True):
            change.record = obj
        _check_confined(actor, table, [obj.pk for obj in created])
        search.index_records(table, created, created=True)
        encode = _json_encoders(ctx.fields)
        _history_rows(
            ctx,
            "create",
            [
                (
                    c.record,
                    {
                        k: [None, encode[k](v)]
                        for k, v in c.values.items()
                        if v is not None and v is not False
                    },
                )
                for c in changes
            ],
        )
        events.emit(
            events.CREATED,
            actor,
            table,
            [c.record for c in changes],
            [[k for k, v in c.values.items() if v is not None and v is not False] for c in changes],
        )
        rules_for(table).after_save(ctx, changes)
        _run_callbacks(ctx)
    return [c.record for c in changes]


def _new_instances(ctx: RuleContext, changes: list[RowChange]) -> list[Any]:
    """Unsaved model instances of the rows to create, with the system columns filled in.

    Built from positional values, as Django builds instances read from the database: the keyword
    form looks every field up and asks it for its default, per row, which was a tenth of an
    import's time. The model's own defaults are taken once per batch (a callable one per row).
    """
    model = ctx.model
    concrete = model._meta.concrete_fields
    position = {f.attname: index for index, f in enumerate(concrete)}
    per_row = [i for i, f in enumerate(concrete) if f.has_default() and callable(f.default)]
    template = [None if i in per_row else f.get_default() for i, f in enumerate(concrete)]
    now = timezone.now()
    for attname, value in (
        ("created_at", now),
        ("updated_at", now),
        ("created_by_id", ctx.actor.user_id),
        ("updated_by_id", ctx.actor.user_id),
        ("record_state", STATE_ACTIVE),
    ):
        template[position[attname]] = value
    slots = {key: position[_attname(model, key)] for key in ctx.fields}
    instances = []
    for change in changes:
        values = template.copy()
        for i in per_row:
            values[i] = concrete[i].get_default()
        for key, value in change.values.items():
            values[slots[key] if key in slots else position[_attname(model, key)]] = value
        instances.append(model(*values))
    return instances


#: Model field classes whose database value is the Python value itself when it has exactly this
#: type (``get_db_prep_save`` would return it unchanged on SQLite and PostgreSQL alike).
PLAIN_COLUMNS: dict[type[models.Field], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.ForeignKey: int,
}


def _db_converter(field: models.Field) -> Callable[[Any], Any]:
    """``field.get_db_prep_save`` for the rows of one write, with its per-value cost cut.

    Asked for every value of every row (a third of the insert's time in an import). Plain text,
    integers, booleans and ids are passed through when they already have their column's type;
    other values are converted by Django, and a value that repeats as the same object (the
    batch's one «now» in ``created_at`` and ``updated_at``) is converted once.
    """
    prep = field.get_db_prep_save
    plain = PLAIN_COLUMNS.get(type(field))
    last: list[Any] = [object(), None]

    def convert(value: Any) -> Any:
        if value is None or type(value) is plain:
            return value
        if value is not last[0]:
            last[0], last[1] = value, prep(value, connection)
        return last[1]

    return convert


def _insert_rows(model: Any, instances: list[Any]) -> list[Any]:
    """Insert ``instances`` and set their ids; what ``bulk_create`` does, without its per-value
    SQL compilation (most of its time on big batches).

    PostgreSQL: multi-row ``INSERT … RETURNING id`` (ids come back in the order of the rows, as
    ``bulk_create`` relies on too). SQLite: one ``executemany`` under the write lock the
    transaction holds (``IMMEDIATE``), so the new ids are exactly those above the largest
    before it, in order.
    """
    if len(instances) < 50:
        return model.objects.bulk_create(instances, batch_size=BATCH)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    head = f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"

    columns = [(f.attname, _db_converter(f)) for f in fields]

    def params(obj: Any) -> list[Any]:
        return [convert(getattr(obj, attname)) for attname, convert in columns]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column (as Django's own bulk_create does on PostgreSQL): a handful
            # of parameters instead of one per value, which psycopg would parse one by one.
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            sql = (
                f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
                f"SELECT * FROM UNNEST({arrays}) RETURNING {pk}"
            )
            for start in range(0, len(instances), WRITE_CHUNK):
                part = instances[start : start + WRITE_CHUNK]
                rows = [params(obj) for obj in part]
                cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
                for obj, (new_id,) in zip(part, cursor.fetchall(), strict=True):
                    obj.pk = new_id
        else:
            cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {table}")
            (before,) = cursor.fetchone()
            for start in range(0, len(instances), WRITE_CHUNK):
                cursor.executemany(
                    head + one, [params(obj) for obj in instances[start : start + WRITE_CHUNK]]
                )
            cursor.execute(f"SELECT {pk} FROM {table} WHERE {pk} > %s ORDER BY {pk}", [before])
            ids = [row[0] for row in cursor.fetchall()]
            if len(ids) != len(instances):
                raise IntegrityError("inserted rows and new ids differ")
            for obj, new_id in zip(instances, ids, strict=True):
                obj.pk = new_id
    for obj in instances:
        obj._state.adding = False
        obj._state.db = connection.alias
    return instances


def create_record(actor: Actor, table: Table, values: Mapping[str, Any]) -> Any:
    return create_records(actor, table, [values])[0]


def update_records(
    actor: Actor,
    table: Table,
    updates: Mapping[int, Mapping[str, Any]] | list[tuple[int, Mapping[str, Any]]],
    *,
    prepared: bool = False,
) -> list[Any]:
    """Change fields of existing records: ``{record id: {field key: value}}``.

    Only values that differ are written and recorded in history. Records in the trash are
    refused (restore them first). ``prepared`` as in :func:`create_records`.
    """
    _require_user(actor)
    _require(actor, table, "edit")
    items = list(updates.items()) if isinstance(updates, Mapping) else list(updates)
    ctx = _context(actor, table, "update")
    ids = [pk for pk, _values in items]
    records = {r.pk: r for r in _readable(actor, table).filter(pk__in=ids)}
    errors: list[FieldError] = []
    changes: list[RowChange] = []
    refused: dict[str, bool] = {}
    for index, (pk, values) in enumerate(items):
        record = records.get(pk)
        if record is None or record.record_state == STATE_DELETED:
            raise NotFound(_("Запись №%(pk)s не найдена.") % {"pk": pk})
        if prepared:
            cleaned, row_errors = _known(actor, table, ctx.fields, values, index, refused)
        else:
            cleaned, row_errors = _coerce(
                actor, ctx.fields, values, index, system=actor.is_system, table=table
            )
        errors.extend(row_errors)
        old = current_values(record, [ctx.fields[k] for k in cleaned])
        diff = {k: v for k, v in cleaned.items() if not _same(ctx.fields[k], old[k], v)}
        changes.append(RowChange(index=index, values=diff, record=record, old=old))
    with transaction.atomic():
        _validate(ctx, changes, errors)
        _store_files(table, ctx.fields, changes)
        changes = [c for c in changes if c.values]
        _write_updates(ctx, changes)
        _check_confined(actor, table, [c.record.pk for c in changes])
        rules_for(table).after_save(ctx, changes)
        _run_callbacks(ctx)
    return [records[pk] for pk, _values in items]


def update_record(actor: Actor, table: Table, pk: int, values: Mapping[str, Any]) -> Any:
    return update_records(actor, table, [(pk, values)])[0]


def _update_rows(model: Any, names: list[str], records: list[Any]) -> None:
    """``UPDATE … SET <columns> WHERE id = …`` for each record, one ``executemany``.

    Django's ``bulk_update`` builds one ``CASE WHEN id = … THEN …`` expression per column per
    batch, which costs far more Python than the database spends on the rows; an update by
    primary key per row is what both databases do fastest.
    """
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET "
        + ", ".join(f"{quote(f.column)} = %s" for f in fields)
        + f" WHERE {quote(model._meta.pk.column)} = %s"
    )
    columns = [(f.attname, _db_converter(f)) for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(records), WRITE_CHUNK):
            params = [
                [*(convert(getattr(r, attname)) for attname, convert in columns), r.pk]
                for r in records[start : start + WRITE_CHUNK]
            ]
            if len(params) == 1:
                cursor.execute(sql, params[0])
            else:
                cursor.executemany(sql, params)


def _same(field: Field, old: Any, new: Any) -> bool:
    if field.type == "boolean":
        return bool(old) == bool(new)
    return old == new


def _write_updates(ctx: RuleContext, changes: list[RowChange]) -> None:
    if not changes:
        return
    now = timezone.now()
    groups: dict[frozenset[str], list[Any]] = defaultdict(list)
    for change in changes:
        record = change.record
        # Values set by rules after the diff (e.g. in before_save) are written and logged too.
        for key in change.values:
            if key not in change.old:
                change.old[key] = getattr(record, _attname(ctx.model, key))
        for key, value in change.values.items():
            setattr(record, _attname(ctx.model, key), value)
        record.updated_at = now
        record.updated_by_id = ctx.actor.user_id
        groups[frozenset(change.values)].append(record)
    try:
        with transaction.atomic():
            for keys, records in groups.items():
                _update_rows(ctx.model, [*keys, "updated_at", "updated_by"], records)
    except IntegrityError as exc:
        _raise_integrity(exc)
    searchable = {f.key for f in ctx.fields.values() if f.field_type.searchable}
    search.index_records(
        ctx.table, [c.record for c in changes if searchable.intersection(c.values)]
    )
    encode = _json_encoders(ctx.fields)
    _history_rows(
        ctx,
        "update",
        [
            (
                c.record,
                {k: [encode[k](c.old.get(k)), encode[k](v)] for k, v in c.values.items()},
            )
            for c in changes
        ],
    )
    events.emit(
        events.UPDATED,
        ctx.actor,
        ctx.table,
        [c.record for c in changes],
        [list(c.values) for c in changes],
    )


# -- state changes -----------------------------------------------------------------------------


#: The verb each state change needs: into a state, or (restoring) out of it.
STATE_VERBS = {STATE_ARCHIVED: "archive", STATE_DELETED: "delete"}


def _set_state(actor: Actor, table: Table, ids: list[int], state: str, action: str) -> int:
    _require_user(actor)
    if state in STATE_VERBS:
        _require(actor, table, STATE_VERBS[state])
    else:
        _require(actor, table, "view")
    ctx = _context(actor, table, action)
    records = list(_readable(actor, table).filter(pk__in=ids))
    if len(records) != len(set(ids)):
        raise NotFound(_("Некоторые записи не найдены."))
    records = [r for r in records if r.record_state != state]
    if not records:
        return 0
    if state == STATE_ACTIVE:
        for old_state in {r.record_state for r in records}:
            if old_state in STATE_VERBS:
                _require(actor, table, STATE_VERBS[old_state])
    rules = rules_for(table)
    with transaction.atomic():
        rules.clean_state(ctx, records, state)
        now = timezone.now()
        old_states = {r.pk: r.record_state for r in records}
        ctx.model.objects.filter(pk__in=[r.pk for r in records]).update(
            record_state=state, updated_at=now, updated_by_id=actor.user_id
        )
        for r in records:
            r.record_state = state
        _history_rows(
            ctx, action, [(r, {"record_state": [old_states[r.pk], state]}) for r in records]
        )
        event = events.DELETED if state == STATE_DELETED else events.UPDATED
        events.emit(event, actor, table, records, [["record_state"] for _r in records])
        rules.after_state(ctx, records, state)
        _run_callbacks(ctx)
    return len(records)


def archive_records(actor: Actor, table: Table, ids: list[int]) -> int:
    """Move records to the archive («архив»); returns how many changed."""
    return _set_state(actor, table, ids, STATE_ARCHIVED, "archive")


def trash_records(actor: Actor, table: Table, ids: list[int]) -> int:
    """Move records to the trash («удалённые»); they can be restored."""
    return _set_state(actor, table, ids, STATE_DELETED, "delete")


def restore_records(actor: Actor, table: Table, ids: list[int]) -> int:
    """Bring archived or trashed records back to the active list."""
    return _set_state(actor, table, ids, STATE_ACTIVE, "restore")


def purge_records(actor: Actor, table: Table, ids: list[int]) -> int:
    """Delete records for good (administrators only).

    Subtable rows of the records go with them; links to them from other tables are cleared (and
    the clearing is recorded in those records' history).
    """
    _require_user(actor)
    if not actor.is_admin:
        raise PermissionDenied(_("Удалять записи навсегда может только администратор."))
    ctx = _context(actor, table, "purge")
    records = list(_readable(actor, table).filter(pk__in=ids))
    if not records:
        return 0
    rules = rules_for(table)
    with transaction.atomic():
        rules.clean_state(ctx, records, "purged")
        pks = [r.pk for r in records]
        for link in Field.objects.filter(link_table=table, type="link").select_related("table"):
            child_table = link.table
            child_model = model_for(child_table)
            child_ids = list(
                child_model.objects.filter(**{f"{link.key}_id__in": pks}).values_list(
                    "pk", flat=True
                )
            )
            if not child_ids:
                continue
            if link.options.get("subtable"):
                purge_records(actor, child_table, child_ids)
            else:
                _clear_links(actor, child_table, link, child_ids)
        _history_rows(ctx, "purge", [(r, {}) for r in records])
        # Records purged from the trash were announced as deleted when they were trashed.
        live = [r for r in records if r.record_state != STATE_DELETED]
        events.emit(events.DELETED, actor, table, live, [["record_state"] for _r in live])
        ctx.model.objects.filter(pk__in=pks).delete()
        search.remove_records(table, pks)
        rules.after_state(ctx, records, "purged")
        _run_callbacks(ctx)
    return len(records)


def _clear_links(actor: Actor, table: Table, link: Field, ids: list[int]) -> None:
    """Empty ``link`` in records ``ids`` because its target is purged, with history.

    Not an ordinary update: the records may be in the trash, and the link may be required or
    read-only; the target is gone either way, and a dangling id would be worse.
    """
    ctx = _context(actor, table, "update")
    attname = _attname(ctx.model, link.key)
    changes = [
        RowChange(
            index=index,
            values={link.key: None},
            record=record,
            old={link.key: getattr(record, attname)},
        )
        for index, record in enumerate(ctx.model.objects.filter(pk__in=ids).order_by("id"))
    ]
    _write_updates(ctx, changes)
    rules_for(table).after_save(ctx, changes)
    _run_callbacks(ctx)
