"""The import wizard on every table's page: upload → how the file is read (live preview) →
mapping → duplicates → defaults → dry run → import; the table's batches with progress, report,
bad-rows file and undo.

Thin like every view: the steps keep their choices in the session (:mod:`kartoteka.imports.wizard`)
and call :mod:`kartoteka.imports.services` for everything else. Files up to
:data:`~kartoteka.imports.services.BACKGROUND_ROWS` rows are imported during the request; larger
ones go to the background worker and the batch page follows the progress.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from functools import wraps
from itertools import islice
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.imports import checks, services, wizard
from kartoteka.imports import selectors as import_selectors
from kartoteka.imports.models import ImportBatch, ImportCheck, ImportTemplate
from kartoteka.imports.options import ColumnMapping, ImportSettings
from kartoteka.imports.readers import DELIMITERS, ENCODINGS, ImportFileError
from kartoteka.records import selectors
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Field, Table

STEPS = [
    ("upload", gettext_lazy("Файл")),
    ("file", gettext_lazy("Чтение файла")),
    ("mapping", gettext_lazy("Сопоставление")),
    ("duplicates", gettext_lazy("Повторы")),
    ("defaults", gettext_lazy("Значения по умолчанию")),
    ("check", gettext_lazy("Проверка и импорт")),
]
DELIMITER_LABELS = {
    "auto": gettext_lazy("Автоопределение"),
    ";": gettext_lazy("Точка с запятой ;"),
    ",": gettext_lazy("Запятая ,"),
    "tab": gettext_lazy("Табуляция"),
    "|": gettext_lazy("Вертикальная черта |"),
}
#: Batches listed on the import page.
BATCHES_SHOWN = 20
#: Sample values shown per column on the mapping step.
SAMPLES = 3
#: A pending batch older than this (seconds) says a worker must be running.
WORKER_HINT_SECONDS = 15
#: Dry-run rows shown on the page (the totals count every row).
CHECK_ROWS_SHOWN = 500


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(cast(Any, request.user), source="import")


def _table(request: HttpRequest, key: str) -> Table:
    """The table by key: 404 when the user may not view it, 403 without the «import» right."""
    actor = _actor(request)
    try:
        table = selectors.get_table(actor, key)
    except NotFound:
        raise Http404 from None
    if not rights.can(actor, table, "import"):
        raise DjangoPermissionDenied
    return table


def _upload(request: HttpRequest, key: str, token: str) -> tuple[Table, wizard.Upload]:
    table = _table(request, key)
    return table, wizard.get(request, table, token)


def wizard_step(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A step whose upload is gone (imported already, or an old link) leads back to the
    import page with a message instead of a bare «not found»."""

    @wraps(view)
    def step(request: HttpRequest, key: str, token: str) -> HttpResponse:
        try:
            return view(request, key, token)
        except wizard.UploadGone as exc:
            messages.error(request, str(exc))
            home = reverse("imports:home", args=[key])
            if getattr(request, "htmx", False):
                return HttpResponse(status=204, headers={"HX-Redirect": home})
            return redirect(home)

    return login_required(step)


def _step_url(name: str, table: Table, upload: wizard.Upload) -> str:
    return reverse(f"imports:{name}", args=[table.key, upload.token])


def _context(table: Table, upload: wizard.Upload | None, step: str, **extra: Any) -> dict:
    steps = []
    for number, (name, label) in enumerate(STEPS, start=1):
        url = reverse("imports:home", args=[table.key]) if name == "upload" else ""
        if upload is not None and name != "upload":
            url = _step_url(name, table, upload)
        steps.append({"name": name, "label": label, "number": number, "url": url})
    return {"table": table, "upload": upload, "step": step, "steps": steps, **extra}


def _headers(upload: wizard.Upload) -> tuple[list[str], list[list[str]]]:
    """The file's header and first rows as the upload's settings read it."""
    table_file = upload.open(lenient=True)
    headers, rows = table_file.header_and_rows()
    return headers, list(islice(rows, services.PREVIEW_ROWS))


# -- the import page: upload, templates, batches --


@csrf_exempt  # the upload handler goes in before the CSRF check reads the body (Django's way)
@login_required
def home(request: HttpRequest, key: str) -> HttpResponse:
    """Upload a file (to set it up step by step, or to import it at once with a template)."""
    capped = None
    if request.method == "POST":
        capped = wizard.CappedUploadHandler(request)
        request.upload_handlers = [capped, *request.upload_handlers]
    return _home(request, key, capped)


@csrf_protect
def _home(
    request: HttpRequest, key: str, capped: wizard.CappedUploadHandler | None
) -> HttpResponse:
    table = _table(request, key)
    templates = list(ImportTemplate.objects.filter(table=table))
    error = ""
    if request.method == "POST":
        uploaded = request.FILES.get("file")
        template = None
        if request.POST.get("template"):
            template = next((t for t in templates if str(t.pk) == request.POST["template"]), None)
        try:
            if capped is not None and capped.too_big:
                raise wizard.too_big()
            if uploaded is None:
                raise ImportFileError(_("Выберите файл для импорта."))
            if request.POST.get("action") == "load" and template is None:
                raise ImportFileError(_("Чтобы загрузить файл сразу, выберите шаблон импорта."))
            settings = ImportSettings.from_json(template.settings) if template else ImportSettings()
            upload = wizard.store(request, table, uploaded, settings)
            if template is not None:
                upload.template = template.name
                wizard.save(request, upload)
            if request.POST.get("action") == "load":
                try:
                    return _start(request, table, upload)
                except KartotekaError:
                    wizard.discard(request, upload)
                    raise
            return redirect(_step_url("file", table, upload))
        except KartotekaError as exc:
            error = exc.message
    batches = list(import_selectors.batches(_actor(request), table)[:BATCHES_SHOWN])
    services.settle(batches)  # a batch whose process died says so
    return render(
        request,
        "imports/home.html",
        _context(
            table,
            None,
            "upload",
            templates=templates,
            batches=batches,
            error=error,
            max_mb=wizard.max_upload_bytes() // (1024 * 1024),
            background_rows=services.BACKGROUND_ROWS,
        ),
        status=400 if error else 200,
    )


def _start(request: HttpRequest, table: Table, upload: wizard.Upload) -> HttpResponse:
    """Start the import of an upload; the wizard's copy of the file is dropped once the batch
    has its own. Raises :class:`KartotekaError` (nothing written) when it cannot start."""
    with open(upload.full_path, "rb") as content:
        batch = services.start_import(
            _actor(request), table, content, upload.name, upload.import_settings
        )
    wizard.discard(request, upload)
    return redirect("imports:batch", table.key, batch.pk)


# -- step: how the file is read --


def _read_options(request: HttpRequest, upload: wizard.Upload) -> None:
    """Encoding, delimiter, header and sheet from the form into the upload's settings."""
    data = request.POST if request.method == "POST" else request.GET
    settings = upload.import_settings
    if data.get("encoding") in ENCODINGS or _known_encoding(data.get("encoding", "")):
        settings.encoding = data["encoding"]
    if data.get("delimiter") in DELIMITERS:
        settings.delimiter = data["delimiter"]
    header_row = data.get("header_row", "")
    if "sheet" in data and data["sheet"].isdigit():
        sheet = int(data["sheet"])
        if sheet != settings.sheet and request.headers.get("HX-Trigger-Name") != "header_row":
            header_row = "0"  # another sheet: its table is found anew
        settings.sheet = sheet
    if "options" in data:  # the form was sent: an unticked box is «no header»
        settings.header = data.get("header") == "on"
    if header_row.isdigit():
        settings.header_row = int(header_row)
    upload.settings = settings.to_json()


def _known_encoding(name: str) -> bool:
    try:
        return bool(name) and codecs.lookup(name)._is_text_encoding
    except LookupError:
        return False


def _preview_context(upload: wizard.Upload) -> dict[str, Any]:
    settings = upload.import_settings
    try:
        shown = services.preview(upload.full_path, upload.name, settings)
    except ImportFileError as exc:
        return {"preview_error": exc.message, "settings": settings, "encodings": ENCODINGS}
    first = shown.header_index + (2 if settings.header else 1)
    # the detected encoding, the usual ones, then every other one that decodes the file
    encodings = {"auto": ENCODINGS["auto"]}
    for name in [*shown.encodings[:1], *ENCODINGS, *shown.encodings[1:]]:
        encodings.setdefault(name, ENCODINGS.get(name, name))
    if settings.encoding not in encodings:
        encodings[settings.encoding] = ENCODINGS.get(settings.encoding, settings.encoding)
    return {
        "preview": shown,
        "numbered": list(enumerate(shown.rows, start=first)),
        "head": list(enumerate(shown.head_rows, start=1)),
        "head_width": max((len(r) for r in shown.head_rows), default=0),
        "sheet_choices": [
            (i, name, shown.sheet_rows[i] if i < len(shown.sheet_rows) else 0, i == shown.sheet)
            for i, name in enumerate(shown.sheets)
        ],
        "settings": settings,
        "encodings": encodings if shown.kind == "csv" else ENCODINGS,
        "encoding_name": ENCODINGS.get(shown.encoding, shown.encoding),
        "delimiter_name": _delimiter_name(shown.delimiter),
    }


def _delimiter_name(char: str) -> str:
    return _("табуляция") if char == "\t" else f"«{char}»"


@wizard_step
def file_step(request: HttpRequest, key: str, token: str) -> HttpResponse:
    table, upload = _upload(request, key, token)
    if request.method == "POST":
        _read_options(request, upload)
        wizard.save(request, upload)
        return redirect(_step_url("mapping", table, upload))
    context = _context(
        table,
        upload,
        "file",
        delimiters=DELIMITER_LABELS,
        **_preview_context(upload),
    )
    if "preview" in context:
        headers = context["preview"].headers
        context["suggested"] = _suggested_template(table, upload, headers)
    return render(request, "imports/file.html", context)


@wizard_step
def preview(request: HttpRequest, key: str, token: str) -> HttpResponse:
    """The preview alone, as the options change (HTMX)."""
    table, upload = _upload(request, key, token)
    _read_options(request, upload)
    wizard.save(request, upload)
    return render(
        request,
        "imports/file.html#preview",
        {"table": table, "upload": upload, **_preview_context(upload)},
    )


def _suggested_template(
    table: Table, upload: wizard.Upload, headers: list[str]
) -> ImportTemplate | None:
    if upload.template:
        return None
    return services.suggest_template(table, headers)


@wizard_step
@require_POST
def apply_template(request: HttpRequest, key: str, token: str) -> HttpResponse:
    """Take every setting from a template; «Загрузить» imports at once."""
    table, upload = _upload(request, key, token)
    wanted = request.POST.get("template", "")
    template = None
    if wanted.isdigit():
        template = ImportTemplate.objects.filter(table=table, pk=int(wanted)).first()
    if template is None:
        raise Http404
    upload.settings = ImportSettings.from_json(template.settings).to_json()
    upload.template = template.name
    wizard.save(request, upload)
    if request.POST.get("action") == "load":
        try:
            return _start(request, table, upload)
        except KartotekaError as exc:
            messages.error(request, exc.message)
    return redirect(_step_url("mapping", table, upload))


# -- step: mapping --


@wizard_step
def mapping_step(request: HttpRequest, key: str, token: str) -> HttpResponse:
    table, upload = _upload(request, key, token)
    try:
        headers, rows = _headers(upload)
    except ImportFileError as exc:
        messages.error(request, exc.message)
        return redirect(_step_url("file", table, upload))
    fields = services.importable_fields(table, _actor(request))
    settings = upload.import_settings
    error = ""
    if request.method == "POST":
        chosen = {f.key: f for f in fields}
        mapping = []
        for index, header in enumerate(headers):
            value = request.POST.get(f"col-{index}", "")
            if value in chosen:
                mapping.append(ColumnMapping(column=index, field=value, header=header))
        settings.mapping = mapping
        upload.settings = settings.to_json()
        wizard.save(request, upload)
        try:
            if not mapping:
                raise ImportFileError(_("Сопоставьте хотя бы один столбец полю таблицы."))
            wizard.check_settings(
                _actor(request), table, headers, ImportSettings(mapping=mapping, key="")
            )
        except KartotekaError as exc:
            error = exc.message
        else:
            return redirect(_step_url("duplicates", table, upload))
    current = _current_mapping(_actor(request), settings, headers, table)
    columns = [
        {
            "index": index,
            "header": header,
            "samples": [row[index] for row in rows[:SAMPLES] if index < len(row) and row[index]],
            "field": current.get(index, ""),
        }
        for index, header in enumerate(headers)
    ]
    return render(
        request,
        "imports/mapping.html",
        _context(table, upload, "mapping", columns=columns, fields=fields, error=error),
        status=400 if error else 200,
    )


def _current_mapping(
    actor: Actor, settings: ImportSettings, headers: list[str], table: Table
) -> dict[int, str]:
    """Column index → field key: the saved mapping (matched by header when the file has one),
    else the suggestion from the headers."""
    if not settings.mapping:
        return {m.column: m.field for m in services.suggest_mapping(headers, table, actor)}
    lowered = [h.strip().lower() for h in headers]
    out = {}
    for item in settings.mapping:
        column = item.column
        if item.header and settings.header and item.header.strip().lower() in lowered:
            column = lowered.index(item.header.strip().lower())
        out[column] = item.field
    return out


# -- step: duplicates --


def _unique_field(table: Table, settings: ImportSettings) -> Field | None:
    mapped = {m.field for m in settings.mapping}
    return next((f for f in fields_of(table) if f.unique and f.key in mapped), None)


@wizard_step
def duplicates_step(request: HttpRequest, key: str, token: str) -> HttpResponse:
    table, upload = _upload(request, key, token)
    settings = upload.import_settings
    fields = {f.key: f for f in fields_of(table)}
    mapped = [fields[m.field] for m in settings.mapping if m.field in fields]
    mapped = list({f.key: f for f in mapped}.values())
    error = ""
    if request.method == "POST":
        settings.key = request.POST.get("key", "")
        if settings.key and settings.key not in {f.key for f in mapped}:
            settings.key = ""
        settings.on_duplicate = "skip" if request.POST.get("on_duplicate") == "skip" else "update"
        settings.keep_filled = request.POST.get("keep_filled") == "on"
        settings.create_missing_links = request.POST.get("create_missing_links") == "on"
        upload.settings = settings.to_json()
        wizard.save(request, upload)
        return redirect(_step_url("defaults", table, upload))
    return render(
        request,
        "imports/duplicates.html",
        _context(
            table,
            upload,
            "duplicates",
            settings=settings,
            mapped=mapped,
            unique=_unique_field(table, settings),
            has_links=any(f.type == "link" for f in mapped),
            error=error,
        ),
    )


# -- step: defaults --


def _default_widgets(table: Table, settings: ImportSettings, user: Any) -> list[dict[str, Any]]:
    """One input per field the file does not fill: the value every created record gets."""
    mapped = {m.field for m in settings.mapping}
    users = None
    out = []
    actor = Actor.for_user(user, source="import")
    for f in services.importable_fields(table, actor):
        if f.key in mapped:
            continue
        value = settings.defaults.get(f.key, "")
        options: list[tuple[str, str]] | None = None
        if f.type == "choice":
            options = [(o.key, str(o.label)) for o in choices_of(f)]
        elif f.type == "user":
            if users is None:
                users = list(
                    get_user_model()
                    .objects.filter(is_active=True)
                    .order_by("last_name", "first_name", "username")
                )
            options = [
                (str(u.pk), user_display(u) + (_(" (я)") if u.pk == user.pk else "")) for u in users
            ]
        elif f.type == "boolean":
            options = [("да", _("Да")), ("нет", _("Нет"))]
        out.append({"field": f, "value": value, "options": options})
    return out


def _initial_defaults(table: Table, settings: ImportSettings, user: Any) -> dict[str, str]:
    """What the defaults step offers the first time: me for user fields that default to the
    current user, «Импорт» for a choice field that has such an option."""
    mapped = {m.field for m in settings.mapping}
    out: dict[str, str] = {}
    for f in services.importable_fields(table, Actor.for_user(user, source="import")):
        if f.key in mapped:
            continue
        spec = f.default if isinstance(f.default, dict) else {}
        if f.type == "user" and spec.get("kind") == "current_user":
            out[f.key] = str(user.pk)
        elif f.type == "choice" and any(o.key == "import" for o in choices_of(f)):
            out[f.key] = "import"
    return out


@wizard_step
def defaults_step(request: HttpRequest, key: str, token: str) -> HttpResponse:
    table, upload = _upload(request, key, token)
    settings = upload.import_settings
    errors: dict[str, str] = {}
    if request.method == "POST":
        mapped = {m.field for m in settings.mapping}
        defaults = {}
        for f in services.importable_fields(table, _actor(request)):
            text = request.POST.get(f"d-{f.key}", "").strip()
            if not text or f.key in mapped:
                continue
            defaults[f.key] = text
            try:
                f.field_type.clean(f, text)
            except ValidationError as exc:
                errors[f.key] = " ".join(exc.messages)
        settings.defaults = defaults
        upload.settings = settings.to_json()
        if not errors:
            upload.settings["defaults_set"] = True
            wizard.save(request, upload)
            return redirect(_step_url("check", table, upload))
    elif not upload.settings.get("defaults_set") and not settings.defaults:
        settings.defaults = _initial_defaults(table, settings, request.user)
    widgets = _default_widgets(table, settings, request.user)
    for widget in widgets:
        widget["error"] = errors.get(widget["field"].key, "")
    return render(
        request,
        "imports/defaults.html",
        _context(table, upload, "defaults", widgets=widgets, has_errors=bool(errors)),
        status=400 if errors else 200,
    )


# -- step: dry run, template, import --


@wizard_step
def check_step(request: HttpRequest, key: str, token: str) -> HttpResponse:
    table, upload = _upload(request, key, token)
    settings = upload.import_settings
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "import":
            try:
                return _start(request, table, upload)
            except KartotekaError as exc:
                messages.error(request, exc.message)
                return redirect(_step_url("check", table, upload))
        if action == "save_template":
            try:
                headers, _rows = _headers(upload)
                template = services.save_template(
                    _actor(request), table, request.POST.get("name", ""), settings, headers
                )
            except KartotekaError as exc:
                messages.error(request, exc.message)
            else:
                upload.template = template.name
                wizard.save(request, upload)
                messages.success(
                    request,
                    _("Шаблон импорта «%(name)s» сохранён.") % {"name": template.name},
                )
            return redirect(_step_url("check", table, upload))
    error = ""
    result = None
    check = None
    started = timezone.now()
    try:
        check = checks.check_for(_actor(request), table, upload.path, upload.name, settings)
        if check is None:
            result = services.dry_run(
                _actor(request), table, upload.full_path, upload.name, settings
            )
        elif check.status == ImportCheck.DONE:
            result = checks.result_of(check)
        elif check.status == ImportCheck.FAILED:
            error = check.message
    except KartotekaError as exc:
        error = exc.message
    polled = getattr(request, "htmx", False) and request.GET.get("part") == "progress"
    if check is not None and (polled or not check.is_finished):
        return _checking(request, table, upload, check)
    fields = {f.key: f for f in fields_of(table)}
    return render(
        request,
        "imports/check.html",
        _context(
            table,
            upload,
            "check",
            result=result,
            plans=result.plans[:CHECK_ROWS_SHOWN] if result else [],
            error=error,
            settings=settings,
            key_field=_key_label(table, settings),
            defaults=[
                (fields[k].label, fields[k].field_type.display(fields[k], _clean(fields[k], v)))
                for k, v in settings.defaults.items()
                if k in fields
            ],
            seconds=(
                (check.finished_at - check.started_at).total_seconds()
                if check is not None and check.finished_at and check.started_at
                else (timezone.now() - started).total_seconds()
            ),
            background=bool(result and result.rows > services.BACKGROUND_ROWS),
            background_rows=services.BACKGROUND_ROWS,
        ),
    )


def _checking(
    request: HttpRequest, table: Table, upload: wizard.Upload, check: ImportCheck
) -> HttpResponse:
    """The dry run of a big file under way in the background: its progress, polled each second
    (the polled part asks for the whole page once the check has finished)."""
    if getattr(request, "htmx", False) and request.GET.get("part") == "progress":
        if check.is_finished:
            return HttpResponseClientRefresh()  # the whole page shows the result
        template = "imports/checking.html#progress"
    else:
        template = "imports/checking.html"
    progress = services.progress_of(check)
    return render(
        request,
        template,
        _context(
            table,
            upload,
            "check",
            check=check,
            progress=progress,
            time_left=_duration(progress["seconds_left"]),
            waiting=_waiting(check),
        ),
    )


def _waiting(job: ImportBatch | ImportCheck) -> bool:
    """Whether a job has waited for the worker long enough to tell the user how to start it."""
    return (
        job.status == ImportBatch.PENDING
        and (timezone.now() - job.created_at).total_seconds() > WORKER_HINT_SECONDS
    )


def _clean(f: Field, text: str) -> Any:
    try:
        return f.field_type.clean(f, text)
    except ValidationError:
        return text


def _key_label(table: Table, settings: ImportSettings) -> str:
    fields = {f.key: f for f in fields_of(table)}
    if settings.key and settings.key in fields:
        return str(fields[settings.key].label)
    unique = _unique_field(table, settings)
    return str(unique.label) if unique else ""


# -- batches --


def _batch(request: HttpRequest, table: Table, pk: int) -> ImportBatch:
    """The batch if it is the user's own or he is an administrator; 404 else (as if missing)."""
    try:
        return import_selectors.get_batch(_actor(request), table, pk)
    except NotFound:
        raise Http404 from None


def _batch_context(request: HttpRequest, table: Table, batch: ImportBatch) -> dict[str, Any]:
    progress = services.progress_of(batch)
    actor = _actor(request)
    return {
        "table": table,
        "batch": batch,
        "progress": progress,
        "time_left": _duration(progress["seconds_left"]),
        "waiting": _waiting(batch),
        "can_undo": batch.status in (ImportBatch.DONE, ImportBatch.INTERRUPTED)
        and (actor.is_admin or batch.user_id == request.user.pk),
        "can_resume": batch.status == ImportBatch.INTERRUPTED
        and (actor.is_admin or batch.user_id == request.user.pk),
        "kept": _kept(table, batch),
        "errors": import_selectors.visible_errors(actor, batch),
    }


def _duration(seconds: int) -> str:
    if seconds <= 0:
        return ""
    if seconds < 60:
        return _("%(s)s с") % {"s": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return _("%(m)s мин %(s)s с") % {"m": minutes, "s": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)s ч %(m)s мин") % {"h": hours, "m": minutes}


def _number(n: int) -> str:
    return number_format(n, force_grouping=True)


def _kept(table: Table, batch: ImportBatch) -> list[dict[str, Any]]:
    kept = (batch.undo_report or {}).get("kept") or []
    return [
        {**item, "url": reverse("record", args=[table.key, item["record"]])} for item in kept[:200]
    ]


@login_required
def batch_detail(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    table = _table(request, key)
    batch = _batch(request, table, pk)
    services.settle([batch])
    context = _batch_context(request, table, batch)
    template = "imports/batch.html"
    if getattr(request, "htmx", False) and request.GET.get("part") == "progress":
        template += "#report"
    return render(request, template, context)


@login_required
def batch_errors(request: HttpRequest, key: str, pk: int) -> StreamingHttpResponse:
    """The bad-rows file, without the columns of fields hidden from the user."""
    table = _table(request, key)
    batch = _batch(request, table, pk)
    try:
        lines = import_selectors.error_rows(_actor(request), batch)
    except NotFound:
        raise Http404 from None
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


@login_required
def batch_undo(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    """GET: what undo will do, with a confirmation; POST: undo and show what it did."""
    table = _table(request, key)
    batch = _batch(request, table, pk)
    if request.method == "POST":
        try:
            report = services.start_undo(_actor(request), batch)
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            if report is None:
                messages.info(
                    request,
                    _("Импорт №%(n)s отменяется в фоне; эта страница покажет, когда закончится.")
                    % {"n": batch.pk},
                )
                return redirect("imports:batch", table.key, batch.pk)
            messages.success(
                request,
                _(
                    "Импорт №%(n)s отменён: удалено записей — %(deleted)s, восстановлено — "
                    "%(restored)s, оставлено как есть — %(kept)s."
                )
                % {
                    "n": batch.pk,
                    "deleted": _number(report["deleted"]),
                    "restored": _number(report["restored"]),
                    "kept": _number(len(report["kept"])),
                },
            )
        return redirect("imports:batch", table.key, batch.pk)
    services.settle([batch])
    if batch.status not in (ImportBatch.DONE, ImportBatch.INTERRUPTED):
        return redirect("imports:batch", table.key, batch.pk)
    return render(request, "imports/undo.html", {"table": table, "batch": batch})


@login_required
@require_POST
def batch_resume(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    """Go on with an interrupted import from its first row not written."""
    table = _table(request, key)
    batch = _batch(request, table, pk)
    row = batch.next_row
    try:
        batch = services.resume_import(_actor(request), batch)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        if batch.status == ImportBatch.PENDING:
            messages.info(
                request,
                _("Импорт №%(n)s продолжается со строки %(row)s в фоне.")
                % {"n": batch.pk, "row": row},
            )
        elif batch.status == ImportBatch.DONE:
            messages.success(
                request,
                _("Импорт №%(n)s продолжен со строки %(row)s и закончен.")
                % {"n": batch.pk, "row": row},
            )
    return redirect("imports:batch", table.key, batch.pk)


@login_required
def template_delete(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    table = _table(request, key)
    actor = _actor(request)
    if request.method == "POST":
        templates = ImportTemplate.objects.filter(table=table, pk=pk)
        if not actor.is_admin:
            templates = templates.filter(owner_id=request.user.pk)
        deleted, _detail = templates.delete()
        if deleted:
            messages.success(request, _("Шаблон импорта удалён."))
    return redirect("imports:home", table.key)
