"""Webhook settings (administrators): the list, a form to add or change one, its delivery log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, RecordValidationError
from kartoteka.records import selectors
from kartoteka.web.designer import admin_required
from kartoteka.webhooks import services
from kartoteka.webhooks.models import Webhook, WebhookDelivery


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="settings")


def _save(request: HttpRequest, webhook: Webhook | None) -> dict[str, list[str]] | Webhook:
    actor = _actor(request)
    post = request.POST
    try:
        table = webhook.table if webhook else selectors.get_table(actor, post.get("table", ""))
        return services.save_webhook(
            actor,
            table,
            webhook=webhook,
            url=post.get("url", ""),
            on_create=bool(post.get("on_create")),
            on_update=bool(post.get("on_update")),
            on_delete=bool(post.get("on_delete")),
            allow_private=bool(post.get("allow_private")),
            is_active=bool(post.get("is_active")),
        )
    except RecordValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(error.field, []).append(error.message)
        return errors
    except NotFound as exc:
        return {"table": [exc.message]}
    except KartotekaError as exc:
        return {"": [exc.message]}


@admin_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        result = _save(request, None)
        if isinstance(result, Webhook):
            messages.success(request, _("Вебхук добавлен."))
            return redirect("webhook_edit", pk=result.pk)
        errors = result
    hooks = list(Webhook.objects.select_related("table").order_by("table__label", "id"))
    context: dict[str, Any] = {
        "webhooks": hooks,
        "tables": selectors.list_tables(_actor(request)),
        "errors": errors,
        "post": request.POST if request.method == "POST" else None,
    }
    return render(request, "webhooks/list.html", context)


def _webhook(request: HttpRequest, pk: int) -> Webhook:
    try:
        return services.get_webhook(_actor(request), pk)
    except NotFound:
        raise Http404 from None


@admin_required
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    hook = _webhook(request, pk)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        result = _save(request, hook)
        if isinstance(result, Webhook):
            messages.success(request, _("Вебхук сохранён."))
            return redirect("webhook_edit", pk=hook.pk)
        errors = result
        hook.refresh_from_db()
    return render(
        request,
        "webhooks/edit.html",
        {
            "hook": hook,
            "errors": errors,
            "post": request.POST if request.method == "POST" else None,
            "deliveries": services.list_deliveries(_actor(request), hook),
            "statuses": dict(WebhookDelivery.STATUSES),
            "signature_header": services.SIGNATURE_HEADER,
        },
    )


@admin_required
@require_http_methods(["POST"])
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    hook = _webhook(request, pk)
    services.delete_webhook(_actor(request), hook)
    messages.success(request, _("Вебхук удалён."))
    return redirect("webhook_list")
