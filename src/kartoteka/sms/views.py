"""The settings page of the SMS gateway: provider, credentials (the key write-only), price."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.sms import gateway, services
from kartoteka.sms.models import BACKENDS, SmsSettings
from kartoteka.web.designer import _actor, admin_required


class SmsSettingsForm(forms.Form):
    backend = forms.ChoiceField(label=gettext_lazy("Провайдер"), choices=BACKENDS, required=False)
    login = forms.CharField(label=gettext_lazy("Логин"), max_length=200, required=False)
    api_key = forms.CharField(
        label=gettext_lazy("Ключ API или пароль"),
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("Не показывается; оставьте пустым, чтобы не менять."),
    )
    clear_key = forms.BooleanField(label=gettext_lazy("Удалить ключ"), required=False)
    sender = forms.CharField(label=gettext_lazy("Имя отправителя"), max_length=20, required=False)
    price_per_part = forms.DecimalField(
        label=gettext_lazy("Цена одной части SMS, ₽"),
        max_digits=8,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    opt_out_text = forms.CharField(
        label=gettext_lazy("Текст об отказе от рассылки"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Добавляется в конец SMS рассылок, например «Отказ: STOP на 1234»."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"


@admin_required
def sms_settings(request: HttpRequest) -> HttpResponse:
    row = SmsSettings.objects.filter(pk=1).first()
    initial = {}
    if row is not None:
        initial = {
            name: getattr(row, name)
            for name in ("backend", "login", "sender", "price_per_part", "opt_out_text")
        }
    form = SmsSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        clear = values.pop("clear_key")
        services.save_sms_settings(_actor(request), values, clear_key=clear)
        messages.success(request, _("Настройки SMS сохранены."))
        return redirect("sms:settings")
    cfg = gateway.config()
    return render(
        request,
        "sms/settings.html",
        {"form": form, "cfg": cfg, "has_key": bool(cfg.api_key)},
    )
