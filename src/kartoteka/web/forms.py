"""Record forms built from field types — never hand-written per table.

A form only parses input; the records service validates and writes. Errors the service raises are
mapped back onto the form's fields by :func:`apply_errors`, the one place that does so.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, RecordValidationError, RuleViolation
from kartoteka.records import selectors
from kartoteka.tables.fieldtypes.link import MAX_ID
from kartoteka.tables.models import Field


def record_form_class(
    fields: list[Field], *, mode: str, actor: Actor, exclude: tuple[str, ...] = ()
) -> type:
    """A form class for adding (``mode="add"``) or editing (``"edit"``) records by ``actor`` (a
    link's picker shows only the titles of records he may read)."""
    attrs: dict[str, Any] = {}
    for field in fields:
        if field.key in exclude or field.read_only:
            continue
        if mode == "add" and not field.show_in_add:
            continue
        if mode == "edit" and not field.show_in_edit:
            continue
        form_field = (
            picker_field(field, actor)
            if field.type in ("link", "user")
            else field.field_type.form_field(field)
        )
        if field.default is not None and mode == "add":
            form_field.required = False  # the service fills the default
        if mode == "add" and field.type == "choice":
            _drop_unavailable_choices(form_field, field, actor)
        _style(form_field.widget)
        attrs[field.key] = form_field
    return type("RecordForm", (forms.Form,), attrs)


def _drop_unavailable_choices(form_field: forms.Field, field: Field, actor: Actor) -> None:
    """Leave out the options the table's rules would refuse from this actor."""
    from kartoteka.records.rules import rules_for

    hidden = rules_for(field.table).unavailable_choices(actor, field.key)
    if hidden and isinstance(form_field, forms.ChoiceField):
        form_field.choices = [c for c in form_field.choices if c[0] not in hidden]


class PickerWidget(forms.Widget):
    """A type-ahead picker: a hidden input with the id and a text box that searches the target
    table (``/lookup/<table key>/``) as the user types — never a drop-down of every record."""

    template_name = "web/widgets/picker.html"

    def __init__(self, field: Field, actor: Actor, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.meta_field = field
        self.actor = actor

    def title_of(self, value: Any) -> str:
        """The title shown for ``value`` (an id from the address, the record or the POST): for a
        link, only a record the actor may read has one — a missing and an unreadable one alike
        show an empty picker."""
        if value in (None, ""):
            return ""
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return ""
        if self.meta_field.type == "link":
            return selectors.link_titles(self.actor, self.meta_field, [pk]).get(pk, "")
        return self.meta_field.field_type.display(self.meta_field, pk)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        target = "_users" if self.meta_field.type == "user" else self.meta_field.link_table.key
        # The id stays (an edit must not unlink a record the actor cannot read; the records
        # service refuses a new link to it exactly as to a missing one); only the title goes.
        context["widget"].update(
            {"title": self.title_of(value), "url": f"/lookup/{target}/", "pk": value or ""}
        )
        return context


def picker_field(field: Field, actor: Actor) -> forms.Field:
    pick = _("Выберите запись из списка.")
    return forms.IntegerField(
        label=field.label,
        required=field.required,
        help_text=field.help_text,
        widget=PickerWidget(field, actor),
        # Ids are 64-bit: a larger number is no record (and no database binds it).
        min_value=1,
        max_value=MAX_ID,
        error_messages={"invalid": pick, "min_value": pick, "max_value": pick},
    )


def _style(widget: forms.Widget) -> None:
    if isinstance(
        widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.Select | PickerWidget
    ):
        return
    widget.attrs.setdefault("class", "form-control form-control-sm")


def default_initial(fields: list[Field], user: Any) -> dict[str, Any]:
    """What an add form shows before typing: each field's default (constant, me, today)."""
    from django.utils import timezone

    initial: dict[str, Any] = {}
    for field in fields:
        spec = field.default
        if not isinstance(spec, dict):
            continue
        kind = spec.get("kind")
        if kind == "constant":
            initial[field.key] = spec.get("value")
        elif kind == "current_user":
            initial[field.key] = user.pk
        elif kind == "today":
            initial[field.key] = timezone.localdate()
    return initial


def submitted_values(form: forms.Form, fields: list[Field] | None = None) -> dict[str, Any]:
    """The cleaned values to hand to the records service. With ``fields`` (an add form), a field
    left empty that has a default is omitted, so the service applies the default."""
    with_default = {f.key for f in fields or [] if f.default is not None}
    values = {}
    for key, value in form.cleaned_data.items():
        if value in (None, "") and key in with_default:
            continue
        if isinstance(form.fields[key], forms.FileField) and not value:
            continue  # no new upload: keep the stored file
        values[key] = value
    return values


def apply_errors(form: forms.Form, exc: KartotekaError, row: int = 0) -> None:
    """Put a service error onto the form: field errors at their fields, the rest on top."""
    if isinstance(exc, RecordValidationError):
        for error in exc.errors:
            if error.row != row:
                continue
            target = error.field if error.field in form.fields else None
            form.add_error(target, error.message)
    elif isinstance(exc, RuleViolation):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    else:
        form.add_error(None, exc.message)
