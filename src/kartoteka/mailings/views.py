"""Pages of campaigns: list, new (from a table, a saved view, a search or chosen rows), the
campaign (audience counts, progress, preview, test to self, failures as CSV), the card's block,
and the public unsubscribe page."""

from __future__ import annotations

import csv

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.core.net import client_ip
from kartoteka.grids.selectors import list_views
from kartoteka.mailings import audience, selectors, services
from kartoteka.mailings.models import CHANNELS, Campaign, Recipient
from kartoteka.records.selectors import get_table, list_tables
from kartoteka.tables.modelfactory import fields_of
from kartoteka.web.gridstate import parse_state, quick_conditions

VERBS = {
    "start": services.start_campaign,
    "pause": services.pause_campaign,
    "resume": services.resume_campaign,
    "cancel": services.cancel_campaign,
}
UNSUBSCRIBE_RATE = (30, 600)  # requests per address per ten minutes


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="mailing")


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Название"), max_length=200)
    channel = forms.ChoiceField(label=gettext_lazy("Канал"), choices=CHANNELS)
    saved_view = forms.TypedChoiceField(
        label=gettext_lazy("Кому: сохранённый фильтр"), coerce=int, required=False, empty_value=None
    )
    search = forms.CharField(label=gettext_lazy("Или поиск"), max_length=200, required=False)
    ids = forms.CharField(
        label=gettext_lazy("Или номера записей через запятую"), required=False, max_length=20000
    )
    subject = forms.CharField(label=gettext_lazy("Тема письма"), max_length=300, required=False)
    body = forms.CharField(
        label=gettext_lazy("Текст"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Поля записи: {{ record.name }}, {{ record.email }} …"),
    )
    per_minute = forms.IntegerField(
        label=gettext_lazy("Не больше сообщений в минуту (0 — без ограничения)"),
        min_value=0,
        initial=0,
        required=False,
    )

    def __init__(self, views: list, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["saved_view"].choices = [("", "—")] + [(v.pk, v.name) for v in views]
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{css} form-control-sm"

    def clean_ids(self) -> list[int]:
        text = self.cleaned_data.get("ids") or ""
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError(_("Номера записей — числа через запятую."))
        return [int(p) for p in parts]


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    campaigns = list(selectors.list_campaigns(actor)[:100])
    tables = [
        t
        for t in list_tables(actor)
        if services.address_fields(actor, t, "email") or services.address_fields(actor, t, "sms")
    ]
    return render(request, "mailings/list.html", {"campaigns": campaigns, "tables": tables})


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    table = get_table(actor, request.GET.get("table") or "counterparties")
    views = [listed.view for listed in list_views(actor, table, with_counts=False)]
    # The grid's filter, passed as the grid's own query string (its «Рассылка» button).
    grid = parse_state(QueryDict(request.GET.get("query", "")))
    fields = {f.key: f for f in fields_of(table)}
    conditions = grid.conditions + quick_conditions(grid.quick, fields)
    initial = {
        "saved_view": request.GET.get("view") or grid.view,
        "search": request.GET.get("q", "") or grid.search,
        "ids": request.GET.get("ids", ""),
        "channel": request.GET.get("channel", "email"),
    }
    form = CampaignForm(views, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        view = next((v for v in views if v.pk == data["saved_view"]), None)
        values = {
            **data,
            "saved_view": view,
            "record_ids": data["ids"],
            "conditions": [[c.field, c.op, c.value] for c in conditions],
            "match": grid.match,
        }
        if request.FILES.get("attachment"):
            values["attachment"] = request.FILES["attachment"]
        try:
            campaign = services.create_campaign(actor, table, values)
        except KartotekaError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("mailings:detail", pk=campaign.pk)
    return render(
        request,
        "mailings/new.html",
        {"form": form, "table": table, "conditions": len(conditions)},
    )


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    try:
        return selectors.get_campaign(_actor(request), pk)
    except NotFound:
        raise Http404 from None


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    counts = audience.count_audience(campaign) if campaign.state == Campaign.DRAFT else None
    reasons = [(key, label, (counts or {}).get(key, 0)) for key, label in audience.REASONS.items()]
    failures = Recipient.objects.filter(campaign=campaign, state=Recipient.FAILED)[:20]
    return render(
        request,
        "mailings/detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "reasons": reasons,
            "progress": selectors.progress(campaign),
            "failures": failures,
            "states": Recipient.STATES,
        },
    )


@login_required
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    return render(
        request,
        "mailings/detail.html#progress",
        {
            "campaign": campaign,
            "progress": selectors.progress(campaign),
            "states": Recipient.STATES,
        },
    )


@login_required
@require_POST
def campaign_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    service = VERBS.get(verb)
    if service is None:
        raise Http404
    _campaign(request, pk)
    try:
        service(_actor(request), pk)
    except NotFound:
        raise Http404 from None
    except KartotekaError as exc:
        flash.error(request, exc.message)
    return redirect("mailings:detail", pk=pk)


@login_required
def campaign_preview(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    record = request.GET.get("record", "")
    try:
        shown = services.preview(_actor(request), pk, int(record) if record.isdigit() else None)
    except NotFound:
        shown = {"error": _("Запись не найдена среди доступных вам.")}
    return render(request, "mailings/preview.html", {"campaign": campaign, "shown": shown})


@login_required
@require_POST
def campaign_test(request: HttpRequest, pk: int) -> HttpResponse:
    _campaign(request, pk)
    record = request.POST.get("record", "")
    try:
        to = services.send_test(
            _actor(request),
            pk,
            int(record) if record.isdigit() else None,
            phone=request.POST.get("phone", ""),
        )
    except KartotekaError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("Тестовое сообщение отправлено: %(to)s") % {"to": to})
    return redirect("mailings:detail", pk=pk)


@login_required
def campaign_failures(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mailing-{campaign.pk}-failures.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow([_("Запись"), _("Адрес"), _("Состояние"), _("Причина"), _("Попыток")])
    rows = Recipient.objects.filter(
        campaign=campaign, state__in=[Recipient.FAILED, Recipient.SKIPPED, Recipient.BOUNCED]
    )
    labels = dict(Recipient.STATES)
    reasons = {k: str(v) for k, v in audience.REASONS.items()}
    for r in rows.iterator(chunk_size=2000):
        reason = reasons.get(r.reason, r.reason)
        writer.writerow([r.record_id, r.address, labels[r.state], reason, r.attempts])
    return response


@login_required
def record_block(request: HttpRequest, key: str, record_id: int) -> HttpResponse:
    """The card's «Рассылки» block (loaded by HTMX): campaigns this record was in."""
    actor = _actor(request)
    table = get_table(actor, key)
    rows = selectors.record_mailings(actor, table.pk, record_id)
    return render(request, "mailings/_card.html", {"rows": rows})


def _limited(request: HttpRequest) -> bool:
    count, window = getattr(settings, "MAILING_UNSUBSCRIBE_RATE", UNSUBSCRIBE_RATE)
    key = f"mailings:unsub:{client_ip(request) or '-'}"
    cache.add(key, 0, window)
    try:
        return cache.incr(key) > count
    except ValueError:
        return False


@csrf_exempt  # the one-click POST of mail clients carries no CSRF token: the token is the key
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the confirm button; POST (the button, or RFC 8058 one-click) unsubscribes."""
    if _limited(request):
        return render(request, "mailings/unsubscribe.html", {"limited": True}, status=429)
    from kartoteka.mailings.messages import recipient_of_token

    if recipient_of_token(token) is None:
        return render(request, "mailings/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        try:
            services.unsubscribe(token)
        except NotFound:
            return render(request, "mailings/unsubscribe.html", {"invalid": True}, status=404)
        return render(request, "mailings/unsubscribe.html", {"done": True})
    return render(request, "mailings/unsubscribe.html", {"token": token})
