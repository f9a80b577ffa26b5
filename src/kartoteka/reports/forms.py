"""The parameters form of the reports: period (this month by default), managers, funnel mode."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.reports.funnel import MODE_COHORT, MODE_PERIOD
from kartoteka.reports.managers import manager_choices
from kartoteka.reports.period import Period

MODE_LABELS = (
    (MODE_PERIOD, gettext_lazy("Прошли этап за период")),
    (MODE_COHORT, gettext_lazy("Когорта: созданные за период")),
)


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d", attrs={"class": "form-control form-control-sm"})


class ReportParamsForm(forms.Form):
    """Read from the query string; missing values take their defaults (this month, everyone)."""

    date_from = forms.DateField(label=gettext_lazy("С"), widget=_DateInput())
    date_to = forms.DateField(label=gettext_lazy("По"), widget=_DateInput())
    managers = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Менеджеры"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select form-select-sm", "size": 4}),
        help_text=gettext_lazy("Ничего не выбрано — все менеджеры."),
    )

    def __init__(self, query: QueryDict, **kwargs: Any) -> None:
        default = Period.this_month()
        data = QueryDict(mutable=True)
        data["date_from"] = query.get("date_from") or default.date_from.isoformat()
        data["date_to"] = query.get("date_to") or default.date_to.isoformat()
        data.setlist("managers", [m for m in query.getlist("managers") if m])
        data["mode"] = query.get("mode") or MODE_PERIOD
        super().__init__(data, **kwargs)
        self.fields["managers"].choices = manager_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("Конец периода раньше его начала."))
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["date_from"], self.cleaned_data["date_to"])

    @property
    def chosen_managers(self) -> list[int] | None:
        return self.cleaned_data.get("managers") or None

    def query(self, **extra: Any) -> str:
        """The parameters as a query string (for links, exports, drill-downs)."""
        pairs: list[tuple[str, Any]] = [
            ("date_from", self.cleaned_data["date_from"].isoformat()),
            ("date_to", self.cleaned_data["date_to"].isoformat()),
        ]
        pairs += [("managers", m) for m in self.cleaned_data.get("managers") or []]
        if "mode" in self.fields:
            pairs.append(("mode", self.cleaned_data["mode"]))
        pairs += [(k, v) for k, v in extra.items() if v is not None]
        return urlencode(pairs)


class FunnelParamsForm(ReportParamsForm):
    mode = forms.ChoiceField(
        label=gettext_lazy("Режим"),
        choices=MODE_LABELS,
        widget=forms.RadioSelect,
    )
