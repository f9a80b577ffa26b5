"""Pages of web forms: the public form (``/f/<key>/``) and the settings (administrators).

The public endpoint is CSRF-exempt — a website cannot hold a Kartoteka CSRF token — and checks the
origin instead (see :mod:`kartoteka.webforms.services`). It answers a plain form POST with a page
(or the configured redirect) and a script's POST (``Accept: application/json``) with JSON and the
CORS header for the allowed site. Everything a visitor typed is stored as text by the field types
and shown through Django's auto-escaping templates, never marked safe.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kartoteka.core import net
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, RecordValidationError
from kartoteka.records import selectors
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.web.designer import admin_required
from kartoteka.webforms import services
from kartoteka.webforms.models import WebForm, WebFormSubmission

# -- public ----------------------------------------------------------------------------------------


def _public_form(key: str) -> WebForm:
    form = WebForm.objects.select_related("table", "assign_field").filter(key=key).first()
    if form is None:
        raise Http404
    return form


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def _cors(response: HttpResponse, form: WebForm, request: HttpRequest) -> HttpResponse:
    origin = services.normalize_origin(request.headers.get("Origin", ""))
    if origin and origin in form.origins():
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address for rate limits (see :mod:`kartoteka.core.net`)."""
    return net.client_ip(request) or None


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _inputs_context(form: WebForm, values: dict[str, str] | None = None) -> list[dict[str, Any]]:
    items = []
    for item in services.form_inputs(form):
        field = item.field
        options = []
        if field.type == "choice":
            options = [
                (o.key, o.label) for o in choices_of(field) if not getattr(o, "system_only", False)
            ]
        max_length = None
        if field.type == "text":
            max_length = int(field.options.get("max_length") or 255)
        items.append(
            {
                "key": field.key,
                "label": item.shown_label,
                "type": field.type,
                "required": item.required or field.required,
                "options": options,
                "max_length": max_length or services.MAX_VALUE_LENGTH,
                "value": (values or {}).get(field.key, ""),
            }
        )
    return items


def _page(request: HttpRequest, form: WebForm, **extra: Any) -> HttpResponse:
    status = extra.pop("status", 200)
    context = {
        "form": form,
        "inputs": _inputs_context(form, extra.pop("values", None)),
        "token": services.issue_token(form),
        "honeypot": services.HONEYPOT,
        "token_name": services.TOKEN,
        **extra,
    }
    response = render(request, "webforms/public.html", context, status=status)
    if form.redirect_url:
        # The page's Content-Security-Policy allows forms to post only to this site; a browser
        # holds the redirect after a submission to that too, so the form's own target is added.
        origin = services.normalize_origin(form.redirect_url)
        if origin:
            response._csp_update = {"form-action": [origin]}  # type: ignore[attr-defined]
    return response


@csrf_exempt
@require_http_methods(["GET", "POST", "OPTIONS"])
def public(request: HttpRequest, key: str) -> HttpResponse:
    """The form's own page (GET) and the submission endpoint of page and snippet (POST)."""
    form = _public_form(key)
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        return _cors(response, form, request)
    if request.method == "GET":
        if not form.is_active:
            return render(
                request,
                "webforms/message.html",
                {"form": form, "message": _("Форма больше не принимает заявки.")},
                status=410,
            )
        return _page(request, form)
    return _submit(request, form)


def _submit(request: HttpRequest, form: WebForm) -> HttpResponse:
    as_json = _wants_json(request)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.WEBFORM_MAX_BYTES:
        return _refusal(
            request,
            form,
            services.SubmissionRefused(
                _("Заявка слишком большая. Сократите текст и отправьте ещё раз."),
                code="too_large",
                status=413,
            ),
            as_json,
        )
    data = {k: request.POST.get(k, "") for k in request.POST}
    origin = services.request_origin(
        request.headers.get("Origin", ""), request.headers.get("Referer", "")
    )
    try:
        result = services.submit(
            form,
            data,
            ip=client_ip(request),
            origin=origin,
            own_origin=_own_origin(request),
            base_url=request.build_absolute_uri("/"),
        )
    except services.SubmissionRefused as exc:
        if exc.code in services.RETRYABLE and not as_json:
            # The visitor only has to send it again: the form comes back with what they typed.
            return _page(
                request, form, values=data, errors={}, error_message=exc.message, status=exc.status
            )
        return _refusal(request, form, exc, as_json)
    if not result.ok:
        message = _("Проверьте поля формы.")
        if as_json:
            return _cors(
                JsonResponse(
                    {"ok": False, "code": "invalid", "message": message, "errors": result.errors},
                    status=400,
                ),
                form,
                request,
            )
        return _page(
            request, form, values=data, errors=result.errors, error_message=message, status=400
        )
    if as_json:
        return _cors(
            JsonResponse(
                {"ok": True, "message": form.success_message, "redirect": form.redirect_url or None}
            ),
            form,
            request,
        )
    if form.redirect_url:
        return redirect(form.redirect_url)
    return render(request, "webforms/message.html", {"form": form, "message": form.success_message})


def _refusal(
    request: HttpRequest, form: WebForm, exc: services.SubmissionRefused, as_json: bool
) -> HttpResponse:
    if as_json:
        return _cors(
            JsonResponse(
                {"ok": False, "code": exc.code, "message": exc.message}, status=exc.status
            ),
            form,
            request,
        )
    return render(
        request,
        "webforms/message.html",
        {"form": form, "message": exc.message, "refused": True},
        status=exc.status,
    )


@require_http_methods(["GET"])
def token(request: HttpRequest, key: str) -> HttpResponse:
    """A fresh time-trap token for the snippet's script."""
    form = _public_form(key)
    response = JsonResponse({"token": services.issue_token(form)})
    response["Cache-Control"] = "no-store"
    return _cors(response, form, request)


# -- settings (administrators) --------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="settings")


def _admin_form(pk: int) -> WebForm:
    form = WebForm.objects.select_related("table").filter(pk=pk).first()
    if form is None:
        raise Http404
    return form


def public_url(request: HttpRequest, form: WebForm) -> str:
    return request.build_absolute_uri(reverse("webform_public", args=[form.key]))


def snippet(request: HttpRequest, form: WebForm) -> str:
    """The HTML to paste into a website: a plain form, then the optional script."""
    return render_to_string(
        "webforms/snippet.html",
        {
            "form": form,
            "action": public_url(request, form),
            "token_url": request.build_absolute_uri(reverse("webform_token", args=[form.key])),
            "inputs": _inputs_context(form),
            "token": services.issue_token(form, kind="snippet"),
            "honeypot": services.HONEYPOT,
            "token_name": services.TOKEN,
        },
    ).strip()


@admin_required
def form_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if request.method == "POST":
        try:
            table = selectors.get_table(actor, request.POST.get("table", ""))
        except NotFound as exc:
            messages.error(request, exc.message)
            return redirect("webform_list")
        fields = services.input_fields(table)
        preferred = [f for f in fields if f.required] or fields[:1]
        defaults = {}
        if table.key == "counterparties":
            preferred = [
                f for f in fields if f.key in ("name", "phone", "email", "comment")
            ] or preferred
            defaults = {"source": "site"}
        try:
            form = services.save_webform(
                actor,
                table,
                name=request.POST.get("name", "").strip() or _("Заявка с сайта"),
                inputs=[services.InputSpec(f.key, required=f.required) for f in preferred],
                defaults=defaults,
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
            return redirect("webform_list")
        messages.success(request, _("Форма «%(name)s» создана.") % {"name": form.name})
        return redirect("webform_edit", pk=form.pk)
    forms_ = list(WebForm.objects.select_related("table").order_by("name", "id"))
    tables = selectors.list_tables(actor)
    return render(
        request,
        "webforms/list.html",
        {"webforms": forms_, "tables": tables},
    )


@admin_required
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    form = _admin_form(pk)
    table = form.table
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        inputs = []
        for field in services.input_fields(table):
            if post.get(f"in_{field.key}"):
                try:
                    position = int(post.get(f"pos_{field.key}") or 0)
                except ValueError:
                    position = 0
                inputs.append(
                    (
                        position,
                        services.InputSpec(
                            field.key,
                            label=post.get(f"label_{field.key}", ""),
                            required=bool(post.get(f"req_{field.key}")),
                        ),
                    )
                )
        inputs.sort(key=lambda pair: pair[0])
        group = Group.objects.filter(pk=post.get("assign_group") or None).first()
        try:
            services.save_webform(
                actor,
                table,
                form=form,
                name=post.get("name", ""),
                title=post.get("title", ""),
                submit_label=post.get("submit_label", ""),
                inputs=[spec for _pos, spec in inputs],
                defaults={
                    f.key: post.get(f"def_{f.key}", "") for f in services.default_fields(table)
                },
                assign_field=post.get("assign_field", ""),
                assign_group=group,
                allowed_origins=post.get("allowed_origins", ""),
                success_message=post.get("success_message", ""),
                redirect_url=post.get("redirect_url", ""),
                merge=bool(post.get("merge")),
                is_active=bool(post.get("is_active")),
            )
        except RecordValidationError as exc:
            for error in exc.errors:
                errors.setdefault(error.field, []).append(error.message)
        except KartotekaError as exc:
            errors.setdefault("", []).append(exc.message)
        else:
            messages.success(request, _("Форма сохранена."))
            return redirect("webform_edit", pk=form.pk)
    return render(request, "webforms/edit.html", _edit_context(request, form, errors))


def _edit_context(
    request: HttpRequest, form: WebForm, errors: dict[str, list[str]]
) -> dict[str, Any]:
    table = form.table
    post = request.POST if request.method == "POST" else None
    chosen = {i.field.key: i for i in services.form_inputs(form)}
    rows = []
    for index, field in enumerate(services.input_fields(table)):
        item = chosen.get(field.key)
        if post is not None:
            rows.append(
                {
                    "field": field,
                    "on": bool(post.get(f"in_{field.key}")),
                    "label": post.get(f"label_{field.key}", ""),
                    "required": bool(post.get(f"req_{field.key}")),
                    "position": post.get(f"pos_{field.key}", ""),
                }
            )
            continue
        rows.append(
            {
                "field": field,
                "on": item is not None,
                "label": item.label if item else "",
                "required": item.required if item else False,
                "position": (item.position + 1) * 10 if item else (len(chosen) + index + 1) * 10,
            }
        )
    rows.sort(key=lambda r: (not r["on"], int(r["position"] or 0)))
    stored = {d.field.key: d.value for d in form.defaults.select_related("field")}
    defaults = []
    for field in services.default_fields(table):
        value = post.get(f"def_{field.key}", "") if post is not None else stored.get(field.key, "")
        options = []
        if field.type in ("choice", "multi_choice"):
            options = [(o.key, o.label) for o in choices_of(field)]
        elif field.type == "boolean":
            options = [("да", _("да"))]
        defaults.append(
            {
                "field": field,
                "value": value,
                "options": options,
                "error": errors.get(f"default:{field.key}"),
            }
        )
    submissions = list(form.submissions.all()[:30])
    counts = {
        outcome: form.submissions.filter(outcome=outcome).count()
        for outcome, _label in WebFormSubmission.OUTCOMES
    }
    return {
        "form": form,
        "rows": rows,
        "defaults": defaults,
        "errors": errors,
        "post": post,
        "assignable": services.assignable_fields(table),
        "groups": Group.objects.order_by("name"),
        "public_url": public_url(request, form),
        "snippet": snippet(request, form),
        "submissions": submissions,
        "counts": counts,
        "outcomes": dict(WebFormSubmission.OUTCOMES),
        "reasons": _reason_labels(),
    }


def _reason_labels() -> dict[str, str]:
    return {
        "origin_missing": _("сайт не указан"),
        "origin_refused": _("чужой сайт"),
        "honeypot": _("заполнено скрытое поле"),
        "time_trap": _("форма устарела"),
        "too_fast": _("отправлено слишком быстро"),
        "confirm": _("отправлено без скрипта, форма показана снова"),
        "replayed": _("повторная отправка"),
    }


@admin_required
@require_http_methods(["POST"])
def form_delete(request: HttpRequest, pk: int) -> HttpResponse:
    form = _admin_form(pk)
    services.delete_webform(_actor(request), form)
    messages.success(request, _("Форма «%(name)s» удалена.") % {"name": form.name})
    return redirect("webform_list")
