"""``/api/v1/mailings/``: campaigns — list and create, read with recipients by state, start,
pause, resume, cancel. Thin views over :mod:`kartoteka.mailings.services`; a campaign is its
author's and the administrators' (404 to anyone else), as on the pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kartoteka.api.idempotency import run_idempotent
from kartoteka.api.views import ERRORS, IDEMPOTENCY, WRITE_ERRORS, ApiView
from kartoteka.core.exceptions import NotFound
from kartoteka.grids.selectors import list_views
from kartoteka.mailings import selectors, services
from kartoteka.mailings.models import CHANNELS, Campaign
from kartoteka.tables.fieldtypes.link import MAX_ID


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    channel = serializers.CharField()
    table = serializers.CharField()
    state = serializers.CharField(help_text="draft, sending, paused, done, cancelled")
    reason = serializers.CharField(help_text="Почему на паузе")
    recipients = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Получатели по состояниям: queued, sending, sent, failed, skipped, "
        "unsubscribed, bounced, и total",
    )
    percent = serializers.IntegerField()


class CampaignCreateSerializer(serializers.Serializer):
    table = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)
    channel = serializers.ChoiceField(choices=[c for c, _label in CHANNELS], default="email")
    subject = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    body = serializers.CharField(max_length=100_000)
    saved_view = serializers.IntegerField(required=False, allow_null=True, default=None)
    search = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    record_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=100_000,
    )
    per_minute = serializers.IntegerField(min_value=0, max_value=100_000, default=0)


CAMPAIGN_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    progress = selectors.progress(campaign)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "channel": campaign.channel,
        "table": campaign.table.key,
        "state": campaign.state,
        "reason": campaign.reason,
        "recipients": progress["totals"],
        "percent": progress["percent"],
    }


class CampaignsView(ApiView):
    @extend_schema(
        operation_id="mailings_list",
        summary="Рассылки",
        description="Рассылки вызывающего (администратору — все), новые первыми.",
        responses={200: CampaignSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        campaigns = selectors.list_campaigns(self.actor())[:200]
        return Response([campaign_json(c) for c in campaigns])

    @extend_schema(
        operation_id="mailings_create",
        summary="Создать рассылку",
        description=(
            "Черновик рассылки по таблице: получатели — записи, которые вызывающий может "
            "читать, из сохранённого фильтра, поиска или списка номеров. Тема и текст — "
            "шаблоны ({{ record.name }})."
        ),
        parameters=[IDEMPOTENCY],
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            actor = self.actor()
            data = CampaignCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
            table = self.table(values.pop("table"))
            view_id = values.pop("saved_view")
            if view_id is not None:
                views = {v.view.pk: v.view for v in list_views(actor, table, with_counts=False)}
                if view_id not in views:
                    raise NotFound(_("Сохранённый фильтр не найден."))
                values["saved_view"] = views[view_id]
            campaign = services.create_campaign(actor, table, values)
            return Response(campaign_json(campaign), status=status.HTTP_201_CREATED)

        return run_idempotent(request, create)


def _campaign(view: ApiView, pk: int) -> Campaign:
    if pk > MAX_ID:
        raise NotFound(_("Рассылка не найдена."))
    return selectors.get_campaign(view.actor(), pk)


class CampaignView(ApiView):
    @extend_schema(
        operation_id="mailings_read",
        summary="Рассылка",
        description="Состояние рассылки и её получатели по состояниям.",
        parameters=[CAMPAIGN_ID],
        responses={200: CampaignSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(campaign_json(_campaign(self, pk)))


VERBS = {
    "start": (services.start_campaign, "Запустить рассылку", "Черновик: получатели и отправка."),
    "pause": (services.pause_campaign, "Пауза", "Отправка останавливается до продолжения."),
    "resume": (services.resume_campaign, "Продолжить", "Рассылка на паузе снова отправляется."),
    "cancel": (services.cancel_campaign, "Отменить", "Неотправленные остаются неотправленными."),
}


def verb_view(verb: str) -> Any:
    service, summary, description = VERBS[verb]

    class CampaignVerbView(ApiView):
        @extend_schema(
            operation_id=f"mailings_{verb}",
            summary=summary,
            description=description,
            parameters=[CAMPAIGN_ID, IDEMPOTENCY],
            request=None,
            responses={200: CampaignSerializer, **WRITE_ERRORS},
        )
        def post(self, request: Request, pk: int) -> Response:
            def act() -> Response:
                campaign = _campaign(self, pk)
                service(self.actor(), campaign.pk)
                campaign.refresh_from_db()
                return Response(campaign_json(campaign))

            return run_idempotent(request, act)

    CampaignVerbView.__name__ = f"Campaign{verb.title()}View"
    return CampaignVerbView.as_view()
