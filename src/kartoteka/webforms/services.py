"""Web forms: building them (administrators) and taking submissions (website visitors).

A submission passes the guards in this order, and a refused one writes no record and no history:

1. the form accepts submissions;
2. the origin: the browser's ``Origin`` (or the ``Referer``'s origin) must be Kartoteka itself
   (the public page) or one of the form's allowed sites — the endpoint is CSRF-exempt because a
   website cannot get a Kartoteka CSRF token, so this check takes its place;
3. the honeypot: a hidden input people never see must stay empty;
4. the time trap: a signed timestamp rendered into the form must be at least
   ``WEBFORM_MIN_SECONDS`` old (bots submit at once) and at most ``PAGE_TOKEN_MAX_AGE`` old, and
   it is good for one accepted submission: its nonce is kept on the submission's log row (a
   unique constraint, so two concurrent replays cannot both pass). The token pasted with the
   snippet is public and never expires, so it is never taken for a submission: the snippet's
   script swaps it for a fresh one, and without the script the visitor gets the form's own page
   back with what he typed, to send once more;
5. rate limits per visitor address and form, and per form (``WEBFORM_RATE_PER_IP``,
   ``WEBFORM_RATE_PER_FORM``), counted from the submission log.

(The request size limit is checked by the view before the body is read.)

Then the values are cleaned by the field types and written by the records service with an actor
whose source is ``webform:<id>``: a new record, or — when the form merges — the existing record
found by INN, phone or e-mail. Anyone on the internet can send a form, and knowing a client's INN
or phone is no proof of being him, so a submission only *fills empty fields* of that record
(what the visitor typed, the hidden defaults, the manager): a value that differs from a filled
one is never written over it. Those differences are kept as the submission's content — on its log
row and, where the table's app registered a writer in :data:`submission_notes` (the CRM: a planned
row «Заявка с сайта: …» in «Работа с клиентом»), next to the record — for the manager to accept.
The assigned manager is told after the commit (:func:`kartoteka.webforms.notify.notify_manager`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import (
    FieldError,
    KartotekaError,
    PermissionDenied,
    RecordValidationError,
    RuleViolation,
)
from kartoteka.core.i18n import stored_text
from kartoteka.core.registry import Registry
from kartoteka.records import selectors, services
from kartoteka.records.merge import fill_empty, is_blank, same_value
from kartoteka.records.selectors import Condition
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Field, Table
from kartoteka.webforms.models import WebForm, WebFormDefault, WebFormField, WebFormSubmission

#: Field types a visitor may fill in; others (files, links, users) are not offered.
INPUT_TYPES = (
    "text",
    "long_text",
    "integer",
    "decimal",
    "money",
    "date",
    "boolean",
    "choice",
    "email",
    "phone",
    "url",
)
#: Field types a hidden default may set.
DEFAULT_TYPES = (*INPUT_TYPES, "multi_choice")
#: Longest text a visitor may send in one input.
MAX_VALUE_LENGTH = 5000
HONEYPOT = "kt_website"
TOKEN = "kt_ts"
TOKEN_SALT = "kartoteka.webforms.time"
PAGE_TOKEN_MAX_AGE = 24 * 3600
#: Refusals a person may simply resend (the page shows the form again with their values).
RETRYABLE = ("too_fast", "time_trap", "confirm")

#: What a merged submission's differences from the record become next to it, by table key:
#: ``writer(actor, table, record_id, text)`` writes through the records services in the
#: submission's transaction. Filled from the apps' ``ready()`` (the CRM registers one).
NoteWriter = Callable[[Actor, Table, int, str], None]
submission_notes: Registry[NoteWriter] = Registry("submission_notes")


class SubmissionRefused(KartotekaError):
    """A guard refused the submission; ``status`` is the HTTP status the view answers with."""

    code = "webform_refused"

    def __init__(self, message: str, *, code: str, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.status = status


@dataclass
class SubmissionResult:
    """What a submission did: ``outcome`` (created/merged/invalid), the record and errors by
    input key (``""`` for the form as a whole)."""

    outcome: str
    record_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: A merge's differences from the record, as kept for the manager («» when none).
    content: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in (WebFormSubmission.CREATED, WebFormSubmission.MERGED)


# -- building forms --------------------------------------------------------------------------------


def input_fields(table: Table) -> list[Field]:
    """Fields of ``table`` a web form may show."""
    return [f for f in fields_of(table) if f.type in INPUT_TYPES and not f.read_only]


def default_fields(table: Table) -> list[Field]:
    """Fields of ``table`` a web form may fill with a hidden value."""
    return [f for f in fields_of(table) if f.type in DEFAULT_TYPES and not f.read_only]


def assignable_fields(table: Table) -> list[Field]:
    return [f for f in fields_of(table) if f.type == "user" and not f.read_only]


@dataclass
class InputSpec:
    key: str
    label: str = ""
    required: bool = False


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Веб-формы настраивает только администратор."))


def normalize_origin(text: str) -> str | None:
    """``https://Example.ru/page`` → ``https://example.ru``; ``None`` when it is not a site."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    origin = f"{parts.scheme}://{parts.hostname.lower()}"
    return f"{origin}:{port}" if port else origin


def save_webform(
    actor: Actor,
    table: Table,
    *,
    name: str,
    inputs: list[InputSpec],
    defaults: Mapping[str, str] | None = None,
    assign_field: str = "",
    assign_group: Group | None = None,
    allowed_origins: str = "",
    success_message: str = "",
    redirect_url: str = "",
    title: str = "",
    submit_label: str = "",
    merge: bool = True,
    is_active: bool = True,
    form: WebForm | None = None,
) -> WebForm:
    """Create a web form for ``table`` (or change ``form``); administrators only.

    Raises:
        PermissionDenied: the actor is not an administrator.
        RecordValidationError: a problem with the settings; each error names its setting
            (``name``, ``inputs``, ``default:<key>``, ``allowed_origins``, ``assign_field``).
    """
    _require_admin(actor)
    errors: list[FieldError] = []
    fields = {f.key: f for f in fields_of(table)}
    name = name.strip()
    if not name:
        errors.append(FieldError("name", _("Введите название формы."), "required"))
    allowed = {f.key for f in input_fields(table)}
    chosen = [spec for spec in inputs if spec.key]
    for spec in chosen:
        if spec.key not in allowed:
            errors.append(
                FieldError(
                    "inputs",
                    _("Поле «%(key)s» нельзя показать в веб-форме.") % {"key": spec.key},
                    "bad_input",
                )
            )
    if not chosen:
        errors.append(FieldError("inputs", _("Выберите хотя бы одно поле формы."), "no_inputs"))
    cleaned_defaults: dict[str, str] = {}
    default_allowed = {f.key for f in default_fields(table)}
    for key, text in (defaults or {}).items():
        text = (text or "").strip()
        if not text:
            continue
        if key not in default_allowed:
            errors.append(
                FieldError(f"default:{key}", _("Это поле нельзя заполнить скрыто."), "bad_default")
            )
            continue
        try:
            fields[key].field_type.clean(fields[key], text)
        except ValidationError as exc:
            errors.append(FieldError(f"default:{key}", " ".join(exc.messages), "bad_default"))
            continue
        cleaned_defaults[key] = text
    origins = []
    for line in allowed_origins.replace(",", "\n").split():
        origin = normalize_origin(line)
        if origin is None:
            errors.append(
                FieldError(
                    "allowed_origins",
                    _("«%(value)s» — не адрес сайта. Пишите так: https://example.ru")
                    % {"value": line},
                    "bad_origin",
                )
            )
        else:
            origins.append(origin)
    redirect_url = redirect_url.strip()
    if redirect_url and normalize_origin(redirect_url) is None:
        errors.append(
            FieldError(
                "redirect_url",
                _("Адрес страницы должен начинаться с http:// или https://."),
                "bad_redirect",
            )
        )
    assign = None
    if assign_field:
        assign = fields.get(assign_field)
        if assign is None or assign.type != "user":
            errors.append(
                FieldError("assign_field", _("Выберите поле с пользователем."), "bad_assign")
            )
    if errors:
        raise RecordValidationError(errors)
    with transaction.atomic():
        webform = form or WebForm(table=table)
        webform.name = name
        webform.title = title.strip()
        webform.submit_label = submit_label.strip() or _("Отправить")
        webform.success_message = success_message.strip() or _(
            "Спасибо! Мы свяжемся с вами в ближайшее время."
        )
        webform.redirect_url = redirect_url
        webform.allowed_origins = "\n".join(dict.fromkeys(origins))
        webform.merge = merge
        webform.is_active = is_active
        webform.assign_field = assign if assign_group is not None else None
        webform.assign_group = assign_group if assign is not None else None
        webform.save()
        webform.inputs.all().delete()
        WebFormField.objects.bulk_create(
            [
                WebFormField(
                    form=webform,
                    field=fields[spec.key],
                    label=spec.label.strip(),
                    required=spec.required,
                    position=index,
                )
                for index, spec in enumerate(dict((s.key, s) for s in chosen).values())
            ]
        )
        webform.defaults.all().delete()
        WebFormDefault.objects.bulk_create(
            [
                WebFormDefault(form=webform, field=fields[key], value=value)
                for key, value in cleaned_defaults.items()
            ]
        )
    return webform


def delete_webform(actor: Actor, form: WebForm) -> None:
    _require_admin(actor)
    form.delete()


def form_inputs(form: WebForm) -> list[WebFormField]:
    return list(form.inputs.select_related("field").order_by("position", "id"))


# -- the time trap ---------------------------------------------------------------------------------


def issue_token(form: WebForm, *, kind: str = "page") -> str:
    """A signed timestamp with a nonce for the time trap. ``kind="snippet"`` tokens (pasted into a
    website with the snippet) never expire and are never taken for a submission; the snippet's
    script swaps them for page tokens."""
    return signing.dumps(
        {"f": form.pk, "t": time.time(), "k": kind[0], "n": secrets.token_urlsafe(12)},
        salt=TOKEN_SALT,
    )


def _check_token(form: WebForm, token: str) -> str:
    """Check the time trap; returns the token's nonce (one accepted submission per nonce)."""
    refused = SubmissionRefused(
        _("Форма устарела или повреждена. Обновите страницу и отправьте заявку ещё раз."),
        code="time_trap",
    )
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT)
    except signing.BadSignature:
        raise refused from None
    if not isinstance(data, dict) or data.get("f") != form.pk:
        raise refused
    if data.get("k") == "s":
        raise SubmissionRefused(
            _("Проверьте заявку и через несколько секунд нажмите «%(button)s» ещё раз.")
            % {"button": form.submit_label},
            code="confirm",
        )
    nonce = data.get("n")
    if data.get("k") != "p" or not isinstance(nonce, str) or not nonce:
        raise refused
    try:
        age = time.time() - float(data.get("t", 0))
    except (TypeError, ValueError):
        raise refused from None
    if age > PAGE_TOKEN_MAX_AGE:
        raise refused
    if age < float(settings.WEBFORM_MIN_SECONDS):
        raise SubmissionRefused(
            _("Форма отправлена слишком быстро. Подождите несколько секунд и отправьте снова."),
            code="too_fast",
        )
    if _used(form, nonce):
        raise _replayed()
    return nonce[:32]


def _used(form: WebForm, nonce: str) -> bool:
    return (
        WebFormSubmission.objects.filter(form=form, nonce=nonce[:32])
        .filter(outcome__in=WebFormSubmission.ACCEPTED)
        .exists()
    )


def _replayed() -> SubmissionRefused:
    return SubmissionRefused(
        _("Эта заявка уже отправлена. Чтобы отправить ещё одну, обновите страницу."),
        code="replayed",
    )


# -- guards ----------------------------------------------------------------------------------------


def request_origin(origin_header: str, referer: str) -> str | None:
    """The site a submission comes from: the ``Origin`` header, else the referer's origin."""
    if origin_header and origin_header != "null":
        return normalize_origin(origin_header)
    if referer:
        return normalize_origin(referer)
    return None


def _check_origin(form: WebForm, origin: str | None, own_origin: str) -> None:
    if origin is None:
        raise SubmissionRefused(
            _("Не удалось определить сайт, с которого отправлена форма. Заявка не принята."),
            code="origin_missing",
            status=403,
        )
    if origin == own_origin.lower() or origin in form.origins():
        return
    raise SubmissionRefused(
        _("Эта форма не принимает заявки с сайта %(origin)s.") % {"origin": origin},
        code="origin_refused",
        status=403,
    )


def _check_rate(form: WebForm, ip: str | None) -> None:
    now = timezone.now()
    per_ip, ip_window = settings.WEBFORM_RATE_PER_IP
    per_form, form_window = settings.WEBFORM_RATE_PER_FORM
    # Refusals by the rate limit itself are not logged, so a flood writes nothing.
    recent = WebFormSubmission.objects.filter(form=form)
    if ip and (
        recent.filter(ip=ip, created_at__gte=now - dt.timedelta(seconds=ip_window)).count()
        >= per_ip
    ):
        raise SubmissionRefused(
            _("Слишком много заявок с вашего адреса. Попробуйте ещё раз через несколько минут."),
            code="rate_limit",
            status=429,
        )
    # Junk refused by the other guards does not count against the form: a flood of it must
    # not lock out real visitors.
    taken = recent.exclude(outcome=WebFormSubmission.REFUSED)
    if taken.filter(created_at__gte=now - dt.timedelta(seconds=form_window)).count() >= per_form:
        raise SubmissionRefused(
            _("Форма получила слишком много заявок. Попробуйте ещё раз через несколько минут."),
            code="rate_limit",
            status=429,
        )


def _log(form: WebForm, ip: str | None, origin: str | None, outcome: str, **extra: Any) -> None:
    WebFormSubmission.objects.create(
        form=form, ip=ip, origin=(origin or "")[:300], outcome=outcome, **extra
    )


# -- submitting ------------------------------------------------------------------------------------


def webform_actor(form: WebForm) -> Actor:
    """The actor of submissions: no user, source ``webform:<id>`` (history shows «веб-форма»)."""
    return Actor.system(reason=f"web form {form.pk}", source=f"webform:{form.pk}")


def submit(
    form: WebForm,
    data: Mapping[str, str],
    *,
    ip: str | None,
    origin: str | None,
    own_origin: str,
    base_url: str = "",
) -> SubmissionResult:
    """Take one submission of ``form``: run the guards, then create or merge the record.

    Args:
        data: the submitted text values by input name (field key), plus the honeypot and the
            time token.
        ip: the visitor's address; ``origin``: where the submission comes from (see
            :func:`request_origin`); ``own_origin``: Kartoteka's own origin (its public page).
        base_url: Kartoteka's address, for the link in the manager's e-mail.

    Raises:
        SubmissionRefused: a guard refused it; nothing is written but the log row.
    """
    if not form.is_active:
        raise SubmissionRefused(_("Форма больше не принимает заявки."), code="inactive", status=410)
    _check_rate(form, ip)
    try:
        _check_origin(form, origin, own_origin)
        if (data.get(HONEYPOT) or "").strip():
            raise SubmissionRefused(_("Заявка отклонена защитой от спама."), code="honeypot")
        nonce = _check_token(form, data.get(TOKEN) or "")
    except SubmissionRefused as exc:
        _log(form, ip, origin, WebFormSubmission.REFUSED, reason=exc.code)
        raise
    table = form.table
    fields = {f.key: f for f in fields_of(table)}
    values, errors = _clean_inputs(form, fields, data)
    if errors:
        _log(form, ip, origin, WebFormSubmission.INVALID, reason=", ".join(sorted(errors))[:300])
        return SubmissionResult(WebFormSubmission.INVALID, errors=errors)
    actor = webform_actor(form)
    try:
        with transaction.atomic():
            result = _write(actor, form, fields, values)
            _log(
                form,
                ip,
                origin,
                result.outcome,
                record_id=result.record_id,
                nonce=nonce,
                content=result.content,
            )
            _notify(form, result, values, base_url)
    except IntegrityError:
        # The same token accepted a moment ago by a concurrent request: nothing of this one
        # was written (the transaction rolled back).
        if not _used(form, nonce):
            raise
        refused = _replayed()
        _log(form, ip, origin, WebFormSubmission.REFUSED, reason=refused.code)
        raise refused from None
    except (RecordValidationError, RuleViolation) as exc:
        errors = _service_errors(exc, {i.field.key for i in form_inputs(form)})
        _log(form, ip, origin, WebFormSubmission.INVALID, reason=exc.code)
        return SubmissionResult(WebFormSubmission.INVALID, errors=errors)
    return result


def _clean_inputs(
    form: WebForm, fields: dict[str, Field], data: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for item in form_inputs(form):
        field = item.field
        text = data.get(field.key)
        text = "" if text is None else str(text)
        if field.type == "boolean":
            text = "1" if text.strip().lower() in ("1", "on", "true", "yes", "да") else ""
        if len(text) > MAX_VALUE_LENGTH:
            errors.setdefault(field.key, []).append(
                _("Слишком длинный текст: не больше %(n)s знаков.") % {"n": MAX_VALUE_LENGTH}
            )
            continue
        try:
            value = field.field_type.clean(field, text) if text.strip() else None
        except ValidationError as exc:
            errors.setdefault(field.key, []).extend(exc.messages)
            continue
        if (item.required or field.required) and value in (None, "", False):
            errors.setdefault(field.key, []).append(
                _("Заполните поле «%(label)s».") % {"label": item.shown_label}
            )
            continue
        if value is not None:
            values[field.key] = value
    return values, errors


def _service_errors(exc: KartotekaError, inputs: set[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if isinstance(exc, RecordValidationError):
        for error in exc.errors:
            key = error.field if error.field in inputs else ""
            errors.setdefault(key, []).append(error.message)
    elif isinstance(exc, RuleViolation):
        errors.setdefault(exc.field if exc.field in inputs else "", []).append(exc.message)
    return errors


#: Fields an existing record is looked up by, in order: INN, then phones, then e-mails.
def _match_fields(fields: dict[str, Field], values: Mapping[str, Any]) -> list[Field]:
    present = [fields[k] for k in values]
    inn = [f for f in present if f.key == "inn" or f.options.get("validator") == "inn"]
    phones = [f for f in present if f.type == "phone"]
    emails = [f for f in present if f.type == "email"]
    return list(dict.fromkeys([*inn, *phones, *emails]))


def find_existing(actor: Actor, table: Table, values: Mapping[str, Any]) -> Any | None:
    """The active record with the same INN, phone or e-mail as ``values`` (in that order)."""
    fields = {f.key: f for f in fields_of(table)}
    for match in _match_fields(fields, values):
        record = (
            selectors.list_records(
                actor, table, conditions=[Condition(match.key, "eq", values[match.key])]
            )
            .order_by("id")
            .first()
        )
        if record is not None:
            return record
    return None


def _defaults(form: WebForm, fields: dict[str, Field]) -> dict[str, Any]:
    result = {}
    for default in form.defaults.select_related("field"):
        field = fields.get(default.field.key)
        if field is not None:
            result[field.key] = field.field_type.clean(field, default.value)
    return result


def next_manager(form: WebForm) -> int | None:
    """The next active user of the form's group, round-robin (by user id); ``None`` if none."""
    if form.assign_group_id is None:
        return None
    users = list(
        get_user_model()
        .objects.filter(groups=form.assign_group_id, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not users:
        return None
    last = (
        WebForm.objects.select_for_update()
        .filter(pk=form.pk)
        .values_list("last_assigned_id", flat=True)
        .first()
    )
    chosen = next((u for u in users if last is None or u > last), users[0])
    WebForm.objects.filter(pk=form.pk).update(last_assigned_id=chosen)
    return chosen


def _write(
    actor: Actor, form: WebForm, fields: dict[str, Field], values: dict[str, Any]
) -> SubmissionResult:
    table = form.table
    defaults = _defaults(form, fields)
    assign = form.assign_field.key if form.assign_field_id and form.assign_field else None
    existing = find_existing(actor, table, values) if form.merge else None
    if existing is None:
        incoming = {**defaults, **values}
        if assign and incoming.get(assign) is None:
            incoming[assign] = next_manager(form)
        record = services.create_record(actor, table, incoming)
        return SubmissionResult(WebFormSubmission.CREATED, record_id=record.pk)
    # A visitor is not proven to be the client: what he typed, the hidden defaults and the
    # manager only fill empty fields; what differs from a filled field is kept for the manager.
    current = services.current_values(existing, list(fields.values()))
    hidden = {k: v for k, v in defaults.items() if k not in values}
    if assign and current.get(assign) is None and hidden.get(assign) is None:
        hidden[assign] = next_manager(form)
    changes = {**fill_empty(fields, current, hidden), **fill_empty(fields, current, values)}
    if changes:
        services.update_record(actor, table, existing.pk, changes)
    content = submission_content(form, fields, current, values)
    if content:
        writer = submission_notes.find(table.key)
        if writer is not None:
            writer(actor, table, existing.pk, content)
    return SubmissionResult(WebFormSubmission.MERGED, record_id=existing.pk, content=content)


def submission_content(
    form: WebForm, fields: dict[str, Field], current: Mapping[str, Any], values: Mapping[str, Any]
) -> str:
    """What a merged submission sent that differs from the record's filled fields, one line per
    input: «Название: «Ромашка, Иван» (в карточке: «Ромашка»)», under «Заявка с сайта …»; ``""``
    when it differs in nothing. Written in the installation's language (it is stored)."""
    lines = []
    for item in form_inputs(form):
        field = fields.get(item.field.key)
        if field is None or item.field.key not in values:
            continue
        old, new = current.get(field.key), values[field.key]
        if is_blank(field, old) or same_value(field, old, new):
            continue
        lines.append(
            stored_text(
                gettext_noop("%(label)s: «%(sent)s» (в карточке: «%(card)s»)"),
                label=item.shown_label,
                sent=field.field_type.display(field, new),
                card=field.field_type.display(field, old),
            )
        )
    if not lines:
        return ""
    head = stored_text(
        gettext_noop("Заявка с сайта (форма «%(form)s»), отличается от карточки:"), form=form.name
    )
    return "\n".join([head, *lines])


def _notify(form: WebForm, result: SubmissionResult, values: dict[str, Any], base_url: str) -> None:
    from kartoteka.webforms.notify import notify_manager

    lines = []
    for item in form_inputs(form):
        value = values.get(item.field.key)
        if value is not None:
            lines.append((item.shown_label, item.field.field_type.display(item.field, value)))
    notify_manager(
        form,
        result.record_id,
        lines,
        merged=result.outcome == WebFormSubmission.MERGED,
        base_url=base_url,
    )
