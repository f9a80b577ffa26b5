"""Pages of the table designer («Конструктор»): categories, tables, fields and choice options.

Administrators only: every view answers 403 to anyone else (the services refuse them as well).
The pages only parse input and call the table services (:mod:`kartoteka.tables.services` and
:mod:`kartoteka.tables.designer_services`); a refusal (:class:`KartotekaError`) is shown at the
form field it concerns or on top of the form, never as a server error. Changes are live: every
service bumps the table's schema version, so the next request of any process sees them.

HTMX: the type select of a field form fetches the settings of the chosen type
(``_type_options.html``), and moving a field up or down re-renders only the field list
(``table.html#fields``). Without JavaScript the forms still work by POST-redirect-GET.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.validators import RegexValidator
from django.db.models import Count, Prefetch
from django.forms import formset_factory
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.core.validators import CHECKS
from kartoteka.records import selectors
from kartoteka.tables import designer_services, services
from kartoteka.tables.converters import converter_for
from kartoteka.tables.fieldtypes import field_types
from kartoteka.tables.fieldtypes.text import DEFAULT_MAX_LENGTH
from kartoteka.tables.models import Category, Choice, Field, Table
from kartoteka.tables.services import ChoiceSpec

#: Option keys the designer edits; other keys of ``Field.options`` are kept as they are.
MANAGED_OPTIONS = {
    "text": ("max_length", "validator"),
    "decimal": ("decimal_places",),
    "money": ("currency",),
    "link": ("subtable",),
}
ALL_MANAGED = frozenset(key for keys in MANAGED_OPTIONS.values() for key in keys)
CHOICE_TYPES = ("choice", "multi_choice")
#: Service error codes and the form field they belong to.
ERROR_FIELDS = {
    "bad_key": "key",
    "reserved_key": "key",
    "duplicate": "key",
    "no_link_table": "link_table",
    "bad_default": "default_text",
    "bad_title_template": "title_template",
    "empty_label": "label",
}
DEFAULT_KIND_LABELS = {
    "": gettext_lazy("нет"),
    "constant": gettext_lazy("значение"),
    "today": gettext_lazy("сегодняшняя дата"),
    "now": gettext_lazy("текущие дата и время"),
    "current_user": gettext_lazy("текущий пользователь"),
    "autonumber": gettext_lazy("автонумерация"),
}
VALIDATOR_LABELS = {
    "": gettext_lazy("нет"),
    "inn": gettext_lazy("ИНН"),
    "kpp": gettext_lazy("КПП"),
    "ogrn": gettext_lazy("ОГРН"),
}
NEW_CHOICE_COLOR = "#0d6efd"


# -- access ---------------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="designer")


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log in first; then administrators only (403 for everyone else)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _actor(request).is_admin:
            raise PermissionDenied(_("Конструктор доступен только администратору."))
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _table(request: HttpRequest, key: str) -> Table:
    try:
        return selectors.get_table(_actor(request), key)
    except NotFound:
        raise Http404 from None


def _field(table: Table, key: str) -> Field:
    # A fresh instance, never the model cache's: a service mutates the field it is given.
    field = Field.objects.select_related("table", "link_table").filter(table=table, key=key).first()
    if field is None:
        raise Http404
    return field


# -- forms ----------------------------------------------------------------------------------------


def _style(form: forms.BaseForm) -> None:
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        elif not isinstance(widget, forms.HiddenInput):
            widget.attrs.setdefault("class", "form-control form-control-sm")


def _mark_invalid(form: forms.BaseForm) -> None:
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            classes = widget.attrs.get("class", "").split()
            if "is-invalid" not in classes:
                widget.attrs["class"] = " ".join([*classes, "is-invalid"])


def _apply_error(form: forms.BaseForm, exc: KartotekaError) -> None:
    """Put a service refusal at the form field it concerns, or on top of the form."""
    target = ERROR_FIELDS.get(exc.code)
    form.add_error(target if target in form.fields else None, exc.message)
    _mark_invalid(form)


class CategoryForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Название"), max_length=200)
    key = forms.CharField(
        label=gettext_lazy("Ключ"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Латиницей; если не указать, будет составлен из названия."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class RenameForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Название"), max_length=200)


def _category_field(required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=gettext_lazy("Категория"),
        queryset=Category.objects.order_by("position", "id"),
        to_field_name="key",
        required=required,
        empty_label=gettext_lazy("— без категории —"),
    )


class TableCreateForm(CategoryForm):
    category = _category_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("position", "id")


class TableSettingsForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Название"), max_length=200)
    category = _category_field()
    title_template = forms.CharField(
        label=gettext_lazy("Шаблон названия записи"),
        max_length=300,
        required=False,
        help_text=gettext_lazy(
            "Ключи полей в фигурных скобках, например {name} {city}. Пусто — первое текстовое поле."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("position", "id")
        _style(self)


def _type_choices(keys: list[str] | None = None) -> list[tuple[str, Any]]:
    return [(key, field_types.get(key).label) for key in (keys or list(field_types))]


def retype_targets(field: Field) -> list[str]:
    """Types a field can be changed to: its own and those with a registered converter.

    A link needs a target table, which a retype cannot give, so it is not offered.
    """
    if field.is_system:
        return [field.type]
    return [
        key
        for key in field_types
        if key == field.type or (key != "link" and converter_for(field.type, key) is not None)
    ]


class FieldForm(forms.Form):
    """Settings of a field: common ones, the options of its type and its default value.

    ``field`` is the edited field (``None`` when adding); the type whose options are shown is the
    submitted one, else ``type_key``, else the field's.
    """

    label = forms.CharField(label=gettext_lazy("Название"), max_length=200)
    key = forms.CharField(
        label=gettext_lazy("Ключ"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Латиницей, не меняется; пусто — из названия."),
    )
    type = forms.ChoiceField(label=gettext_lazy("Тип"))
    required = forms.BooleanField(label=gettext_lazy("Обязательное"), required=False)
    unique = forms.BooleanField(label=gettext_lazy("Без повторов"), required=False)
    read_only = forms.BooleanField(label=gettext_lazy("Только чтение"), required=False)
    group = forms.CharField(
        label=gettext_lazy("Группа полей"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Поля одной группы стоят вместе в карточке записи."),
    )
    help_text = forms.CharField(label=gettext_lazy("Подсказка"), max_length=500, required=False)
    show_in_grid = forms.BooleanField(
        label=gettext_lazy("Показывать в таблице"), required=False, initial=True
    )
    show_in_add = forms.BooleanField(
        label=gettext_lazy("Показывать при добавлении"), required=False, initial=True
    )
    show_in_edit = forms.BooleanField(
        label=gettext_lazy("Показывать при изменении"), required=False, initial=True
    )
    # options of the types
    max_length = forms.IntegerField(
        label=gettext_lazy("Длина, не больше"),
        min_value=1,
        max_value=4000,
        required=False,
        initial=DEFAULT_MAX_LENGTH,
    )
    validator = forms.ChoiceField(
        label=gettext_lazy("Проверка номера"),
        choices=[(k, v) for k, v in VALIDATOR_LABELS.items() if not k or k in CHECKS],
        required=False,
    )
    decimal_places = forms.IntegerField(
        label=gettext_lazy("Знаков после запятой"),
        min_value=0,
        max_value=10,
        required=False,
        initial=2,
    )
    currency = forms.CharField(
        label=gettext_lazy("Валюта"), max_length=8, required=False, initial="₽"
    )
    link_table = forms.ModelChoiceField(
        label=gettext_lazy("Связь с таблицей"),
        queryset=Table.objects.order_by("label"),
        to_field_name="key",
        required=False,
        empty_label=gettext_lazy("— выберите таблицу —"),
    )
    subtable = forms.BooleanField(
        label=gettext_lazy("Показывать строки в карточке связанной записи (подтаблица)"),
        required=False,
    )
    default_kind = forms.ChoiceField(label=gettext_lazy("Значение по умолчанию"), required=False)
    default_text = forms.CharField(label=gettext_lazy("Значение"), max_length=500, required=False)

    def __init__(
        self,
        *args: Any,
        table: Table,
        field: Field | None = None,
        type_key: str | None = None,
        options_url: str = "",
        **kwargs: Any,
    ) -> None:
        if field is not None:
            kwargs.setdefault("initial", field_initial(field))
        super().__init__(*args, **kwargs)
        self.table = table
        self.field = field
        self.fields["link_table"].queryset = Table.objects.order_by("label")
        if field is None:
            self.fields["type"].choices = _type_choices()
        else:
            del self.fields["key"]
            del self.fields["link_table"]
            self.fields["type"].choices = _type_choices(retype_targets(field))
            self.fields["type"].disabled = field.is_system
        submitted = None
        if self.is_bound and not self.fields["type"].disabled:
            submitted = self.data.get(self.add_prefix("type"))
        fallback = type_key or (field.type if field else "text")
        self.type_key = submitted if submitted in field_types else fallback
        if self.type_key not in field_types:
            self.type_key = "text"
        if not self.is_bound:
            self.initial["type"] = self.type_key
        if options_url:  # HTMX: a new type brings the settings of that type
            self.fields["type"].widget.attrs.update(
                {"hx-get": options_url, "hx-target": "#type-options", "hx-trigger": "change"}
            )
        # kartoteka.js shows the constant's input only while «constant» is chosen.
        self.fields["default_kind"].widget.attrs["data-default-kind"] = ""
        kinds = ["", *designer_services.default_kinds(self.type_key)]
        kept = self.kept_default_kind
        if kept and kept not in kinds:
            kinds.append(kept)  # a default set elsewhere (code, import) stays selectable
        self.fields["default_kind"].choices = [
            (kind, DEFAULT_KIND_LABELS.get(kind, kind)) for kind in kinds
        ]
        _style(self)

    @property
    def kept_default_kind(self) -> str:
        """The stored default's kind when it is not a constant and the type stays the same."""
        spec = self.field.default if self.field else None
        if not isinstance(spec, dict) or self.type_key != self.field.type:
            return ""
        kind = spec.get("kind", "constant")
        return "" if kind == "constant" else kind

    @property
    def type_label(self) -> Any:
        return field_types.get(self.type_key).label

    @property
    def default_kinds(self) -> tuple[str, ...]:
        return designer_services.default_kinds(self.type_key)

    @property
    def has_choices(self) -> bool:
        return self.type_key in CHOICE_TYPES

    def options(self) -> dict[str, Any]:
        """``Field.options`` for the chosen type: the designer's keys set, other keys kept."""
        base = dict(self.field.options) if self.field else {}
        options = {k: v for k, v in base.items() if k not in ALL_MANAGED}
        data = self.cleaned_data
        if self.type_key == "text":
            if data.get("max_length"):
                options["max_length"] = data["max_length"]
            if data.get("validator"):
                options["validator"] = data["validator"]
        elif self.type_key == "decimal":
            places = data.get("decimal_places")
            options["decimal_places"] = 2 if places is None else places
        elif self.type_key == "money":
            if data.get("currency", "").strip():
                options["currency"] = data["currency"].strip()
        elif self.type_key == "link" and data.get("subtable"):
            options["subtable"] = True
        return options

    def attributes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "label",
                "required",
                "read_only",
                "group",
                "help_text",
                "show_in_grid",
                "show_in_add",
                "show_in_edit",
            )
        }


def field_initial(field: Field) -> dict[str, Any]:
    options = field.options or {}
    initial: dict[str, Any] = {
        name: getattr(field, name)
        for name in (
            "label",
            "type",
            "required",
            "unique",
            "read_only",
            "group",
            "help_text",
            "show_in_grid",
            "show_in_add",
            "show_in_edit",
        )
    }
    initial.update(
        max_length=options.get("max_length", DEFAULT_MAX_LENGTH),
        validator=options.get("validator", ""),
        decimal_places=options.get("decimal_places", 2),
        currency=options.get("currency", "₽"),
        subtable=bool(options.get("subtable")),
        link_table=field.link_table.key if field.link_table_id else None,
    )
    spec = field.default
    if isinstance(spec, dict):
        initial["default_kind"] = spec.get("kind", "constant")
        if initial["default_kind"] == "constant":
            initial["default_text"] = _shown_default(field, spec.get("value"))
    elif spec is not None:
        initial["default_kind"] = "constant"
        initial["default_text"] = _shown_default(field, spec)
    return initial


def _shown_default(field: Field, value: Any) -> str:
    try:
        return field.field_type.display(field, field.field_type.from_json(field, value))
    except Exception:  # a default from before a retype: show it as stored
        return "" if value is None else str(value)


class ChoiceRowForm(forms.Form):
    """One option in the choices editor; a row with an empty label and no key is skipped."""

    key = forms.CharField(label=gettext_lazy("Ключ"), max_length=64, required=False)
    label = forms.CharField(label=gettext_lazy("Название"), max_length=200, required=False)
    color = forms.CharField(
        label=gettext_lazy("Цвет"),
        max_length=20,
        required=False,
        initial=NEW_CHOICE_COLOR,
        widget=forms.TextInput(attrs={"type": "color"}),
        validators=[
            RegexValidator(r"^#[0-9a-fA-F]{6}$", gettext_lazy("Цвет записывается как #RRGGBB."))
        ],
    )
    no_color = forms.BooleanField(label=gettext_lazy("без цвета"), required=False)
    existing = forms.BooleanField(required=False, widget=forms.HiddenInput)
    system_only = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
        self.fields["color"].widget.attrs["class"] = (
            "form-control form-control-sm form-control-color"
        )

    @property
    def is_existing(self) -> bool:
        """An option that is saved already (its key is fixed)."""
        return bool(self.fields["existing"].to_python(self["existing"].value()))

    @property
    def is_system_only(self) -> bool:
        return bool(self.fields["system_only"].to_python(self["system_only"].value()))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("existing") and not (data.get("label") or "").strip():
            self.add_error("label", _("Укажите название варианта."))
        return data


def choice_formset(
    data: Any = None, field: Field | None = None, *, extra: int = 3
) -> forms.BaseFormSet:
    initial = []
    if field is not None:
        for option in field.choices.order_by("position", "id"):
            initial.append(
                {
                    "key": option.key,
                    "label": option.label,
                    "color": option.color or NEW_CHOICE_COLOR,
                    "no_color": not option.color,
                    "existing": True,
                    "system_only": option.system_only,
                }
            )
    cls = formset_factory(ChoiceRowForm, extra=extra, can_order=True, can_delete=True)
    formset = cls(data, initial=initial, prefix="choices")
    for form in formset:
        form.fields["ORDER"].widget.attrs["class"] = "form-control form-control-sm"
        form.fields["DELETE"].widget.attrs["class"] = "form-check-input"
        if form.is_existing:  # keys are stable: records store them
            form.fields["key"].widget.attrs.update(
                readonly=True, **{"class": "form-control-plaintext form-control-sm font-monospace"}
            )
    return formset


def choice_specs(formset: forms.BaseFormSet) -> list[ChoiceSpec]:
    """The options in the order the administrator gave; new ones get keys from their labels."""
    taken = {(f.cleaned_data.get("key") or "").strip() for f in formset.forms if f.cleaned_data}
    specs = []
    for form in formset.ordered_forms:
        data = form.cleaned_data
        label = " ".join((data.get("label") or "").split())
        key = (data.get("key") or "").strip()
        if not label and not key:
            continue
        if not label:
            label = key
        if not key:
            key = designer_services.suggest_key(label, taken, what="choice")
            taken.add(key)
        color = "" if data.get("no_color") else (data.get("color") or "")
        specs.append(
            ChoiceSpec(key=key, label=label, color=color, system_only=bool(data.get("system_only")))
        )
    return specs


# -- presentation ---------------------------------------------------------------------------------


def field_rows(table: Table) -> list[dict[str, Any]]:
    """The table's fields in order, with what the field list shows of each."""
    fields = list(
        Field.objects.filter(table=table)
        .select_related("link_table")
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("position", "id")))
        .order_by("position", "id")
    )
    return [
        {
            "field": f,
            "type_label": f.field_type.label,
            "details": _details(f),
            "choices": list(f.choices.all()) if f.type in CHOICE_TYPES else [],
            "first": i == 0,
            "last": i == len(fields) - 1,
        }
        for i, f in enumerate(fields)
    ]


def _details(field: Field) -> str:
    options = field.options or {}
    parts = []
    if field.type == "text":
        parts.append(_("до %(n)s симв.") % {"n": options.get("max_length") or DEFAULT_MAX_LENGTH})
        if options.get("validator"):
            parts.append(_("проверка: %(v)s") % {"v": VALIDATOR_LABELS.get(options["validator"])})
    elif field.type == "decimal":
        parts.append(_("знаков после запятой: %(n)s") % {"n": options.get("decimal_places", 2)})
    elif field.type == "money":
        parts.append(options.get("currency", "₽"))
    elif field.type == "link" and field.link_table_id:
        parts.append(f"→ {field.link_table.label}")
        if options.get("subtable"):
            parts.append(_("подтаблица"))
    if isinstance(field.default, dict):
        kind = field.default.get("kind", "constant")
        if kind == "constant":
            shown = _shown_default(field, field.default.get("value"))
            parts.append(_("по умолчанию: %(v)s") % {"v": shown})
        else:
            parts.append(_("по умолчанию: %(v)s") % {"v": DEFAULT_KIND_LABELS.get(kind, kind)})
    return " · ".join(str(p) for p in parts)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    for value in context.values():
        if isinstance(value, forms.BaseForm) and value.is_bound:
            _mark_invalid(value)
    return render(request, template, context)


# -- home: categories and tables ------------------------------------------------------------------


@admin_required
def home(request: HttpRequest, **forms_: Any) -> HttpResponse:
    tables = Table.objects.annotate(field_count=Count("fields")).order_by("position", "id")
    categories = list(
        Category.objects.order_by("position", "id").prefetch_related(
            Prefetch("tables", queryset=tables)
        )
    )
    context = {
        "categories": categories,
        "loose_tables": list(tables.filter(category__isnull=True)),
        "category_form": forms_.get("category_form") or CategoryForm(prefix="category"),
        "table_form": forms_.get("table_form") or TableCreateForm(prefix="table"),
    }
    return _page(request, "web/designer/home.html", context)


@admin_required
def category_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("designer_home")
    form = CategoryForm(request.POST, prefix="category")
    if form.is_valid():
        data = form.cleaned_data
        key = data["key"].strip() or designer_services.suggest_key(
            data["label"], set(Category.objects.values_list("key", flat=True)), what="category"
        )
        try:
            category = designer_services.add_category(_actor(request), key=key, label=data["label"])
        except KartotekaError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Категория «%(label)s» создана.") % {"label": category})
            return redirect("designer_home")
    return home(request, category_form=form)


@admin_required
def category_rename(request: HttpRequest, key: str) -> HttpResponse:
    category = Category.objects.filter(key=key).first()
    if category is None:
        raise Http404
    if request.method == "POST":
        form = RenameForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Укажите название категории."))
            return redirect("designer_home")
        try:
            designer_services.rename_category(
                _actor(request), category, label=form.cleaned_data["label"]
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Категория переименована: «%(label)s».") % {"label": category}
            )
    return redirect("designer_home")


@admin_required
def category_delete(request: HttpRequest, key: str) -> HttpResponse:
    category = Category.objects.filter(key=key).first()
    if category is None:
        raise Http404
    if request.method == "POST":
        label = category.label
        try:
            designer_services.delete_category(_actor(request), category)
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Категория «%(label)s» удалена.") % {"label": label})
    return redirect("designer_home")


@admin_required
def table_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("designer_home")
    form = TableCreateForm(request.POST, prefix="table")
    if form.is_valid():
        data = form.cleaned_data
        key = data["key"].strip() or designer_services.suggest_key(
            data["label"], set(Table.objects.values_list("key", flat=True)), what="table"
        )
        try:
            table = services.create_table(
                _actor(request), key=key, label=data["label"].strip(), category=data["category"]
            )
        except KartotekaError as exc:
            _apply_error(form, exc)
        else:
            messages.success(
                request, _("Таблица «%(label)s» создана. Добавьте в неё поля.") % {"label": table}
            )
            return redirect("designer_table", key=table.key)
    return home(request, table_form=form)


# -- a table and its fields -----------------------------------------------------------------------


def _table_page(request: HttpRequest, table: Table, **parts: Any) -> HttpResponse:
    add_form = parts.get("add_form") or FieldForm(
        table=table, prefix="new", options_url=_add_url(table)
    )
    context = {
        "table": table,
        "rows": field_rows(table),
        "settings_form": parts.get("settings_form")
        or TableSettingsForm(
            prefix="settings",
            initial={
                "label": table.label,
                "category": table.category.key if table.category_id else None,
                "title_template": table.title_template,
            },
        ),
        "add_form": add_form,
        "choices": parts.get("choices") or choice_formset(extra=5),
        "add_open": parts.get("add_form") is not None,
    }
    return _page(request, "web/designer/table.html", context)


@admin_required
def table_detail(request: HttpRequest, key: str) -> HttpResponse:
    return _table_page(request, _table(request, key))


@admin_required
def table_settings(request: HttpRequest, key: str) -> HttpResponse:
    table = _table(request, key)
    if request.method != "POST":
        return redirect("designer_table", key=table.key)
    form = TableSettingsForm(request.POST, prefix="settings")
    if form.is_valid():
        data = form.cleaned_data
        try:
            designer_services.change_table(
                _actor(request),
                table,
                label=data["label"],
                category=data["category"],
                title_template=data["title_template"],
            )
        except KartotekaError as exc:
            _apply_error(form, exc)
            table.refresh_from_db()
        else:
            messages.success(request, _("Настройки таблицы сохранены."))
            return redirect("designer_table", key=table.key)
    return _table_page(request, table, settings_form=form)


@admin_required
def table_delete(request: HttpRequest, key: str) -> HttpResponse:
    table = _table(request, key)
    if request.method != "POST":
        return redirect("designer_table", key=table.key)
    label = table.label
    try:
        services.delete_table(_actor(request), table)
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("designer_table", key=table.key)
    messages.success(
        request, _("Таблица «%(label)s» удалена вместе с записями.") % {"label": label}
    )
    return redirect("designer_home")


def _add_url(table: Table) -> str:
    return reverse("designer_field_add", args=[table.key])


def _edit_url(field: Field) -> str:
    return reverse("designer_field", args=[field.table.key, field.key])


def _type_options(request: HttpRequest, form: FieldForm, choices: Any) -> HttpResponse:
    return render(request, "web/designer/_type_options.html", {"form": form, "choices": choices})


@admin_required
def field_add(request: HttpRequest, key: str) -> HttpResponse:
    table = _table(request, key)
    if request.method != "POST":
        if request.htmx:  # the type select changed: the settings of that type
            form = FieldForm(table=table, prefix="new", type_key=request.GET.get("new-type"))
            return _type_options(request, form, choice_formset(extra=5))
        return redirect("designer_table", key=table.key)
    form = FieldForm(request.POST, table=table, prefix="new", options_url=_add_url(table))
    choices = choice_formset(request.POST if form.has_choices else None, extra=5)
    valid = form.is_valid()
    if valid and form.has_choices:
        valid = choices.is_valid()
    if valid:
        data = form.cleaned_data
        key_ = data["key"].strip() or designer_services.suggest_key(
            data["label"], set(Field.objects.filter(table=table).values_list("key", flat=True))
        )
        try:
            field = designer_services.add_field_with_default(
                _actor(request),
                table,
                key=key_,
                type=form.type_key,
                options=form.options(),
                link_table=data.get("link_table") if form.type_key == "link" else None,
                choices=choice_specs(choices) if form.has_choices else None,
                unique=data["unique"],
                default_kind=data["default_kind"],
                default_text=data["default_text"],
                **form.attributes(),
            )
        except KartotekaError as exc:
            _apply_error(form, exc)
        else:
            messages.success(
                request,
                _("Поле «%(label)s» (%(type)s) добавлено.")
                % {"label": field.label, "type": form.type_label},
            )
            return redirect("designer_table", key=table.key)
    return _table_page(request, table, add_form=form, choices=choices)


@admin_required
def field_edit(request: HttpRequest, key: str, field_key: str) -> HttpResponse:
    table = _table(request, key)
    field = _field(table, field_key)
    if request.method != "POST":
        form = FieldForm(
            table=table, field=field, type_key=request.GET.get("type"), options_url=_edit_url(field)
        )
        choices = choice_formset(field=field)
        if request.htmx:  # the type select changed: the settings of that type
            return _type_options(request, form, choices)
        return _field_page(request, table, field, form, choices)
    form = FieldForm(request.POST, table=table, field=field, options_url=_edit_url(field))
    choices = choice_formset(request.POST if form.has_choices else None, field=field)
    valid = form.is_valid()
    if valid and form.has_choices:
        valid = choices.is_valid()
    if valid:
        data = form.cleaned_data
        specs = choice_specs(choices) if form.has_choices else None
        if specs == [] and field.type not in CHOICE_TYPES:
            specs = None  # text → choice: the service makes the options from the values
        default_kind = data["default_kind"]
        if default_kind and default_kind == form.kept_default_kind:
            default_kind = None  # unchanged
        try:
            designer_services.change_field_with_default(
                _actor(request),
                field,
                type=form.type_key,
                options=form.options(),
                unique=data["unique"],
                choices=specs,
                default_kind=default_kind,
                default_text=data["default_text"],
                **form.attributes(),
            )
        except KartotekaError as exc:
            _apply_error(form, exc)
            field = _field(table, field_key)  # the refused change left nothing behind
            form.field = field
        else:
            messages.success(request, _("Поле «%(label)s» сохранено.") % {"label": field.label})
            return redirect("designer_table", key=table.key)
    return _field_page(request, table, field, form, choices)


def _field_page(
    request: HttpRequest, table: Table, field: Field, form: FieldForm, choices: Any
) -> HttpResponse:
    context = {"table": table, "field": field, "form": form, "choices": choices}
    return _page(request, "web/designer/field.html", context)


@admin_required
def field_move(request: HttpRequest, key: str, field_key: str) -> HttpResponse:
    table = _table(request, key)
    field = _field(table, field_key)
    if request.method == "POST":
        offset = -1 if request.POST.get("direction") == "up" else 1
        try:
            designer_services.move_field(_actor(request), field, offset)
        except KartotekaError as exc:
            messages.error(request, exc.message)
    if request.htmx:
        return render(
            request, "web/designer/table.html#fields", {"table": table, "rows": field_rows(table)}
        )
    return redirect("designer_table", key=table.key)


@admin_required
def field_remove(request: HttpRequest, key: str, field_key: str) -> HttpResponse:
    table = _table(request, key)
    field = _field(table, field_key)
    if request.method != "POST":
        return redirect("designer_field", key=table.key, field_key=field.key)
    label = field.label
    try:
        services.remove_field(_actor(request), field)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Поле «%(label)s» удалено вместе с данными.") % {"label": label}
        )
    return redirect("designer_table", key=table.key)
