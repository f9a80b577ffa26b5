"""Changing access: groups, table, field and row rights, a user's group — administrators only.

Every change is written to the audit log (:class:`~kartoteka.access.models.AuditEvent`, kind
``rights``) with who made it and what it was before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.access.models import (
    EDITABLE,
    FIELD_ACCESS,
    GROUP_PERMISSIONS,
    READ_ONLY,
    VERBS,
    AuditEvent,
    FieldRight,
    TableRight,
)
from kartoteka.access.rights import CURRENT_GROUP_TOKEN, CURRENT_USER_TOKEN, rights_changed
from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import KartotekaError, PermissionDenied
from kartoteka.tables.models import Field, Table

ACCOUNTING_GROUP = "Бухгалтерия"
#: Groups an installation starts with; «Администратор» cannot be deleted.
DEFAULT_GROUPS = (ADMIN_GROUP, MANAGERS_GROUP, ACCOUNTING_GROUP)
TOKENS = (CURRENT_USER_TOKEN, CURRENT_GROUP_TOKEN)


class AccessError(KartotekaError):
    code = "access"


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Менять права доступа может только администратор."))


def audit(
    kind: str,
    *,
    actor: Actor | None = None,
    user: Any = None,
    username: str = "",
    ip: str = "",
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    if user is None and actor is not None:
        user = actor.user
    if user is not None and not username:
        username = user.get_username()
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        username=username[:150],
        ip=(ip or "")[:45],
        message=message,
        data=dict(data or {}),
    )


def _rights_event(actor: Actor, message: str, data: Mapping[str, Any]) -> None:
    audit(AuditEvent.RIGHTS, actor=actor, message=message, data=data)
    rights_changed()


# -- groups ------------------------------------------------------------------------------------


def create_group(actor: Actor, name: str, *, copy_from: Group | None = None) -> Group:
    """A new group. A copy takes every right of ``copy_from``; a new empty group sees no table
    until rights are granted."""
    _require_admin(actor)
    name = " ".join(name.split())
    if not name:
        raise AccessError(_("Укажите название группы."), code="no_name")
    if Group.objects.filter(name__iexact=name).exists():
        raise AccessError(_("Группа «%(name)s» уже есть.") % {"name": name}, code="duplicate")
    with transaction.atomic():
        group = Group.objects.create(name=name[:150])
        if copy_from is not None:
            for tr in TableRight.objects.filter(group=copy_from):
                TableRight.objects.create(
                    group=group,
                    table=tr.table,
                    verbs=tr.verbs,
                    actions=tr.actions,
                    row_filter=tr.row_filter,
                )
            for fr in FieldRight.objects.filter(group=copy_from):
                FieldRight.objects.create(
                    group=group,
                    field=fr.field,
                    access=fr.access,
                    in_grid=fr.in_grid,
                    in_export=fr.in_export,
                    in_import=fr.in_import,
                )
            # Tables the original has no row for are open to it: the copy gets them open too.
        else:
            TableRight.objects.bulk_create(
                [TableRight(group=group, table=t, verbs=[]) for t in Table.objects.all()]
            )
        _rights_event(
            actor,
            _("Создана группа «%(name)s»") % {"name": group.name},
            {"group": group.name, "copy_from": copy_from.name if copy_from else None},
        )
    return group


def delete_group(actor: Actor, group: Group) -> None:
    _require_admin(actor)
    if group.name == ADMIN_GROUP:
        raise AccessError(_("Группу «Администратор» удалить нельзя."), code="admin_group")
    if group.user_set.exists():
        raise AccessError(
            _("В группе «%(name)s» есть пользователи: сначала переведите их в другую группу.")
            % {"name": group.name},
            code="group_not_empty",
        )
    with transaction.atomic():
        name = group.name
        group.delete()
        _rights_event(actor, _("Удалена группа «%(name)s»") % {"name": name}, {"group": name})


def set_user_group(actor: Actor, user: Any, group: Group) -> None:
    """Move ``user`` into ``group`` (a user is in exactly one group)."""
    _require_admin(actor)
    from kartoteka.accounts.services import refuse_losing_last_admin
    from kartoteka.records.selectors import base_queryset
    from kartoteka.records.services import update_records

    before = [g.name for g in user.groups.all()]
    with transaction.atomic():
        if group.name != ADMIN_GROUP:
            refuse_losing_last_admin(user)
        user.groups.set([group])
        user.is_staff = group.name == ADMIN_GROUP
        user.save(update_fields=["is_staff"])
        employees = Table.objects.filter(key="employees").first()
        if employees is not None:
            system = Actor.system("access group", source=actor.source)
            ids = list(
                base_queryset(system, employees, state=None)
                .filter(user_id=user.pk)
                .values_list("pk", flat=True)
            )
            if ids:
                update_records(system, employees, {pk: {"access_group": group.name} for pk in ids})
        for attr in ("_kartoteka_group", "_kartoteka_is_admin", "_kartoteka_access"):
            user.__dict__.pop(attr, None)
        _rights_event(
            actor,
            _("Пользователь %(user)s переведён в группу «%(group)s»")
            % {"user": user.get_username(), "group": group.name},
            {"user": user.get_username(), "before": before, "after": group.name},
        )


def set_group_permissions(actor: Actor, group: Group, codenames: Iterable[str]) -> None:
    """Give ``group`` exactly the group-wide rights ``codenames`` (keys of
    :data:`~kartoteka.access.models.GROUP_PERMISSIONS`), e.g. «Управление сотрудниками»."""
    from django.contrib.auth.models import Permission

    _require_admin(actor)
    wanted = set(codenames)
    unknown = wanted - set(GROUP_PERMISSIONS)
    if unknown:
        raise AccessError(
            _("Неизвестное право: %(v)s.") % {"v": ", ".join(sorted(unknown))}, code="permission"
        )
    known = Permission.objects.filter(
        content_type__app_label="access", codename__in=GROUP_PERMISSIONS
    )
    before = sorted(group.permissions.filter(pk__in=known).values_list("codename", flat=True))
    if before == sorted(wanted):
        return
    with transaction.atomic():
        group.permissions.remove(*known.exclude(codename__in=wanted))
        group.permissions.add(*known.filter(codename__in=wanted))
        _rights_event(
            actor,
            _("Общие права группы «%(group)s» изменены") % {"group": group.name},
            {"group": group.name, "before": before, "after": sorted(wanted)},
        )


# -- table and field rights ----------------------------------------------------------------------


def _right_data(tr: TableRight | None) -> dict[str, Any] | None:
    if tr is None:
        return None
    return {"verbs": tr.verbs, "actions": tr.actions, "row_filter": tr.row_filter}


def set_table_rights(
    actor: Actor,
    group: Group,
    table: Table,
    *,
    verbs: Iterable[str],
    actions: Iterable[str] = (),
    row_filter: Mapping[str, Any] | None = None,
) -> TableRight:
    """Replace ``group``'s rights on ``table``. ``row_filter`` is
    ``{"match": "all"|"any", "conditions": [[field, op, value], ...]}``."""
    _require_admin(actor)
    from kartoteka.records.actions import actions_for

    verbs = [v for v in VERBS if v in set(verbs)]
    unknown = set(verbs) - set(VERBS)
    if unknown:
        raise AccessError(_("Неизвестное право: %(v)s.") % {"v": ", ".join(unknown)}, code="verb")
    known_actions = {a.key for a in actions_for(table)}
    actions = sorted(set(actions))
    bad = set(actions) - known_actions
    if bad:
        raise AccessError(
            _("У таблицы нет действия «%(a)s».") % {"a": ", ".join(sorted(bad))}, code="action"
        )
    clean_filter = clean_row_filter(table, row_filter or {})
    with transaction.atomic():
        existing = TableRight.objects.filter(group=group, table=table).first()
        before = _right_data(existing)
        tr = existing or TableRight(group=group, table=table)
        tr.verbs = verbs
        tr.actions = actions
        tr.row_filter = clean_filter
        tr.save()
        _rights_event(
            actor,
            _("Права группы «%(group)s» на таблицу «%(table)s» изменены")
            % {"group": group.name, "table": table.label},
            {"group": group.name, "table": table.key, "before": before, "after": _right_data(tr)},
        )
    return tr


def clean_row_filter(table: Table, row_filter: Mapping[str, Any]) -> dict[str, Any]:
    """Check a row filter: known fields, operators the field type has; tokens allowed."""
    from kartoteka.tables.modelfactory import fields_of

    conditions = list(row_filter.get("conditions") or [])
    if not conditions:
        return {}
    fields = {f.key: f for f in fields_of(table)}
    out = []
    for item in conditions:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise AccessError(_("Условие фильтра записей задано неверно."), code="row_filter")
        key, op, value = item
        fld = fields.get(key)
        if fld is None:
            raise AccessError(
                _("В таблице «%(table)s» нет поля «%(key)s».") % {"table": table.label, "key": key},
                code="row_filter",
            )
        if op not in fld.field_type.operators:
            raise AccessError(
                _("Для поля «%(label)s» нет условия «%(op)s».") % {"label": fld.label, "op": op},
                code="row_filter",
            )
        if value not in TOKENS and op not in ("empty", "not_empty", "current_user"):
            try:
                fld.field_type.filter_q(fld, op, value, user=None)
            except Exception as exc:  # the field type says what is wrong with the value
                raise AccessError(
                    _("Условие по полю «%(label)s»: %(error)s")
                    % {"label": fld.label, "error": " ".join(getattr(exc, "messages", [str(exc)]))},
                    code="row_filter",
                ) from None
        out.append([key, op, value])
    match = "any" if row_filter.get("match") == "any" else "all"
    return {"match": match, "conditions": out}


def set_field_rights(
    actor: Actor,
    group: Group,
    field: Field,
    *,
    access: str = EDITABLE,
    in_grid: bool = True,
    in_export: bool = True,
    in_import: bool = True,
) -> FieldRight:
    _require_admin(actor)
    if access not in {key for key, _label in FIELD_ACCESS}:
        raise AccessError(_("Неизвестный доступ к полю: %(a)s.") % {"a": access}, code="access")
    with transaction.atomic():
        existing = FieldRight.objects.filter(group=group, field=field).first()
        before = (
            None
            if existing is None
            else [existing.access, existing.in_grid, existing.in_export, existing.in_import]
        )
        fr = existing or FieldRight(group=group, field=field)
        fr.access, fr.in_grid, fr.in_export, fr.in_import = access, in_grid, in_export, in_import
        if before == [fr.access, fr.in_grid, fr.in_export, fr.in_import]:
            return fr
        fr.save()
        _rights_event(
            actor,
            _("Доступ группы «%(group)s» к полю «%(field)s» таблицы «%(table)s» изменён")
            % {"group": group.name, "field": field.label, "table": field.table.label},
            {
                "group": group.name,
                "table": field.table.key,
                "field": field.key,
                "before": before,
                "after": [access, in_grid, in_export, in_import],
            },
        )
    return fr


# -- the default configuration -------------------------------------------------------------------

WORK_VERBS = [v for v in VERBS]
#: Actions that open an administrator's page («Доступ в систему» on «Сотрудники»): no group is
#: given them by default (the page itself asks for «Управление сотрудниками»).
SETTINGS_ACTIONS = frozenset({"system_access"})
ADMIN_ACTIONS = SETTINGS_ACTIONS | {"mark_paid"}
READ_VERBS = ["view", "export", "print"]


def ensure_default_rights() -> list[str]:
    """Create «Бухгалтерия» and the default rights of «Менеджеры» and «Бухгалтерия» — only for a
    group that has no rights yet, so an administrator's changes are never overwritten.

    «Менеджеры» work with every CRM table, confined to their own counterparties (manager = me)
    and their subtables; they cannot mark invoices paid, and company tables are read-only.
    «Бухгалтерия» sees everything, works with invoices and marks them paid."""
    from kartoteka.records.actions import actions_for

    created = []
    for name in DEFAULT_GROUPS:
        Group.objects.get_or_create(name=name)
    tables = list(Table.objects.select_related("category"))
    managers = Group.objects.get(name=MANAGERS_GROUP)
    if not TableRight.objects.filter(group=managers).exists():
        for table in tables:
            category = table.category.key if table.category_id else ""
            actions = [a.key for a in actions_for(table) if a.key not in ADMIN_ACTIONS]
            if category in ("company",):
                TableRight.objects.create(group=managers, table=table, verbs=READ_VERBS, actions=[])
                continue
            row_filter: dict[str, Any] = {}
            if table.key == "counterparties":
                row_filter = {"match": "all", "conditions": [["manager", "eq", CURRENT_USER_TOKEN]]}
            TableRight.objects.create(
                group=managers,
                table=table,
                verbs=WORK_VERBS,
                actions=actions,
                row_filter=row_filter,
            )
        for field in Field.objects.filter(table__key="invoices", key__in=["paid", "paid_date"]):
            FieldRight.objects.create(group=managers, field=field, access=READ_ONLY)
        created.append(f"rights {MANAGERS_GROUP}")
    accounting = Group.objects.get(name=ACCOUNTING_GROUP)
    if not TableRight.objects.filter(group=accounting).exists():
        for table in tables:
            category = table.category.key if table.category_id else ""
            if table.key in ("invoices", "invoice_items") or category == "company":
                TableRight.objects.create(
                    group=accounting,
                    table=table,
                    verbs=WORK_VERBS,
                    actions=[a.key for a in actions_for(table) if a.key not in SETTINGS_ACTIONS],
                )
            else:
                TableRight.objects.create(
                    group=accounting, table=table, verbs=READ_VERBS, actions=[]
                )
        created.append(f"rights {ACCOUNTING_GROUP}")
    rights_changed()
    return created
