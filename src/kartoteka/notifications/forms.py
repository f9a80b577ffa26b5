"""The administrator's reminder form: fields of the chosen table offered as choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from kartoteka.grids.models import SavedView
from kartoteka.notifications.models import Reminder
from kartoteka.sms.reminders import reminder_by_sms
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table

UNITS = {"minutes": 1, "hours": 60, "days": 24 * 60}
UNIT_CHOICES = [("minutes", _("минут")), ("hours", _("часов")), ("days", _("дней"))]
OPERATOR_HELP = _(
    "По одному условию в строке: «поле оператор значение», например «done eq нет» или "
    "«state in new,in_progress». Операторы: eq, ne, gt, lt, gte, lte, in, contains, empty, "
    "not_empty, today."
)


def conditions_to_text(conditions: list[Any]) -> str:
    lines = []
    for field, op, value in conditions or []:
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "да" if value else "нет"
        lines.append(f"{field} {op} {'' if value is None else value}".strip())
    return "\n".join(lines)


def conditions_from_text(text: str) -> list[list[Any]]:
    out: list[list[Any]] = []
    for line in text.splitlines():
        parts = line.strip().split(None, 2)
        if not parts:
            continue
        if len(parts) == 1:
            raise forms.ValidationError(
                _("Строка «%(line)s»: нужно «поле оператор значение».") % {"line": line.strip()}
            )
        field, op = parts[0], parts[1]
        value: Any = parts[2] if len(parts) == 3 else None
        if op == "in" and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        out.append([field, op, value])
    return out


class ReminderForm(forms.Form):
    name = forms.CharField(label=_("Название"), max_length=200)
    enabled = forms.BooleanField(label=_("Включено"), required=False, initial=True)
    saved_view = forms.ModelChoiceField(
        label=_("Условие: сохранённый фильтр"), queryset=SavedView.objects.none(), required=False
    )
    conditions = forms.CharField(
        label=_("Или условия"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=OPERATOR_HELP,
    )
    match = forms.ChoiceField(
        label=_("Условия выполняются"), choices=[("all", _("все")), ("any", _("любое"))]
    )
    recipient_field = forms.ChoiceField(label=_("Кому: поле записи"), required=False)
    users = forms.ModelMultipleChoiceField(
        label=_("Кому: сотрудники"), queryset=get_user_model().objects.none(), required=False
    )
    group = forms.ModelChoiceField(
        label=_("Кому: группа"), queryset=Group.objects.all(), required=False
    )
    message = forms.CharField(
        label=_("Сообщение"),
        max_length=500,
        help_text=_("Поля записи подставляются по ключу в фигурных скобках: {title}, {deadline}."),
    )
    moment = forms.ChoiceField(label=_("Когда"), choices=Reminder.MOMENTS)
    date_field = forms.ChoiceField(label=_("Поле даты"), required=False)
    offset = forms.IntegerField(
        label=_("Смещение"),
        initial=0,
        help_text=_("Отрицательное — раньше даты (−1 день — накануне), положительное — позже."),
    )
    unit = forms.ChoiceField(label=_("Единица"), choices=UNIT_CHOICES, initial="minutes")
    at_time = forms.TimeField(
        label=_("Время для полей без времени"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    in_app = forms.BooleanField(label=_("В приложении"), required=False, initial=True)
    by_email = forms.BooleanField(label=_("По e-mail"), required=False)
    by_sms = forms.BooleanField(label=_("По SMS"), required=False)

    def __init__(self, table: Table, data: Any = None, instance: Reminder | None = None) -> None:
        initial: dict[str, Any] = {}
        if instance is not None:
            minutes = instance.offset_minutes
            unit = next(
                (u for u in ("days", "hours") if minutes and minutes % UNITS[u] == 0), "minutes"
            )
            initial = {
                "name": instance.name,
                "enabled": instance.enabled,
                "saved_view": instance.saved_view_id,
                "conditions": conditions_to_text(instance.conditions),
                "match": instance.match,
                "recipient_field": instance.recipient_field,
                "users": list(instance.users.values_list("pk", flat=True)),
                "group": instance.group_id,
                "message": instance.message,
                "moment": instance.moment,
                "date_field": instance.date_field,
                "offset": minutes // UNITS[unit],
                "unit": unit,
                "at_time": instance.at_time,
                "in_app": instance.in_app,
                "by_email": instance.by_email,
                "by_sms": reminder_by_sms(instance),
            }
        super().__init__(data, initial=initial or None)
        fields = fields_of(table)
        self.fields["saved_view"].queryset = SavedView.objects.filter(table=table)
        users = self.fields["users"]
        users.queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .order_by("last_name", "first_name", "username")
        )
        users.label_from_instance = user_display
        self.fields["recipient_field"].choices = [("", "—")] + [
            (f.key, f.label) for f in fields if f.type == "user"
        ]
        self.fields["date_field"].choices = [("", "—")] + [
            (f.key, f.label) for f in fields if f.type in ("date", "datetime")
        ]
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")
            widget.attrs.setdefault("data-field", name)

    def clean_conditions(self) -> list[list[Any]]:
        return conditions_from_text(self.cleaned_data.get("conditions") or "")

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "enabled": data["enabled"],
            "saved_view": data["saved_view"],
            "conditions": data["conditions"],
            "match": data["match"],
            "recipient_field": data["recipient_field"],
            "users": list(data["users"]),
            "group": data["group"],
            "message": data["message"],
            "moment": data["moment"],
            "date_field": data["date_field"],
            "offset_minutes": data["offset"] * UNITS[data["unit"]],
            "at_time": data["at_time"],
            "in_app": data["in_app"],
            "by_email": data["by_email"],
            "by_sms": data["by_sms"],
        }
