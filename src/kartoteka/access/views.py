"""Access settings for administrators: groups and their users, table/field/row rights, a "view
as group" preview of a table, and the audit log. Thin views over :mod:`kartoteka.access.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.access import rights, services
from kartoteka.access.models import (
    FIELD_ACCESS,
    GROUP_PERMISSIONS,
    VERB_LABELS,
    VERBS,
    AuditEvent,
    FieldRight,
    TableRight,
)
from kartoteka.core.actor import ADMIN_GROUP, Actor
from kartoteka.core.exceptions import KartotekaError
from kartoteka.records.actions import actions_for
from kartoteka.records.selectors import list_records
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table

#: Rows of the row-filter form.
FILTER_ROWS = 3


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="settings")


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _actor(request).is_admin:
            raise PermissionDenied(_("Настройки доступа доступны только администратору."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_required(wrapped)


@admin_only
def groups(request: HttpRequest) -> HttpResponse:
    """The groups (add, copy, delete) and the users with their group."""
    if request.method == "POST":
        copy_from = None
        if request.POST.get("copy_from", "").isdigit():
            copy_from = Group.objects.filter(pk=int(request.POST["copy_from"])).first()
        try:
            group = services.create_group(
                _actor(request), request.POST.get("name", ""), copy_from=copy_from
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Группа «%(name)s» создана.") % {"name": group.name})
            return redirect("access:group", pk=group.pk)
        return redirect("access:groups")
    all_groups = list(Group.objects.order_by("name"))
    users = get_user_model().objects.prefetch_related("groups").order_by("last_name", "username")
    return render(
        request,
        "access/groups.html",
        {
            "groups": [(g, g.user_set.count()) for g in all_groups],
            "all_groups": all_groups,
            "users": [(u, next(iter(u.groups.all()), None)) for u in users],
            "admin_group": ADMIN_GROUP,
        },
    )


@admin_only
@require_POST
def user_group(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    group = get_object_or_404(Group, pk=request.POST.get("group") or 0)
    try:
        services.set_user_group(_actor(request), user, group)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Группа пользователя изменена."))
    return redirect("access:groups")


@admin_only
@require_POST
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(Group, pk=pk)
    try:
        services.delete_group(_actor(request), group)
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("access:group", pk=group.pk)
    messages.success(request, _("Группа удалена."))
    return redirect("access:groups")


def _table_rows(group: Group) -> list[dict[str, Any]]:
    by_table = {tr.table_id: tr for tr in TableRight.objects.filter(group=group)}
    rows = []
    for table in Table.objects.select_related("category").order_by(
        "category__position", "position"
    ):
        tr = by_table.get(table.pk)
        verbs = set(VERBS) if tr is None else set(tr.verbs)
        rows.append(
            {
                "table": table,
                "verbs": [(v, VERB_LABELS[v], v in verbs) for v in VERBS],
                "filtered": bool(tr and (tr.row_filter or {}).get("conditions")),
            }
        )
    return rows


@admin_only
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Per table rights of a group: one checkbox per verb; actions, fields and the row filter are
    on each table's page."""
    group = get_object_or_404(Group, pk=pk)
    if request.method == "POST" and group.name != ADMIN_GROUP:
        actor = _actor(request)
        try:
            for table in Table.objects.all():
                verbs = [v for v in VERBS if request.POST.get(f"{table.key}:{v}")]
                existing = TableRight.objects.filter(group=group, table=table).first()
                current = set(VERBS) if existing is None else set(existing.verbs)
                if set(verbs) == current:
                    continue
                services.set_table_rights(
                    actor,
                    group,
                    table,
                    verbs=verbs,
                    actions=(
                        [a.key for a in actions_for(table)]
                        if existing is None
                        else existing.actions
                    ),
                    row_filter=existing.row_filter if existing else None,
                )
            services.set_group_permissions(
                actor, group, [c for c in GROUP_PERMISSIONS if request.POST.get(f"perm:{c}")]
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Права группы сохранены."))
        return redirect("access:group", pk=group.pk)
    return render(
        request,
        "access/group.html",
        {
            "group": group,
            "is_admin_group": group.name == ADMIN_GROUP,
            "verb_labels": [(v, VERB_LABELS[v]) for v in VERBS],
            "rows": _table_rows(group),
            "group_permissions": [
                (code, label, group.permissions.filter(codename=code).exists())
                for code, label in GROUP_PERMISSIONS.items()
            ],
        },
    )


def _filter_rows(tr: TableRight | None) -> list[list[Any]]:
    conditions = list(((tr.row_filter or {}) if tr else {}).get("conditions") or [])
    rows = [list(c) for c in conditions]
    while len(rows) < FILTER_ROWS:
        rows.append(["", "", ""])
    return rows


@admin_only
def table_rights(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """A group's rights on one table: verbs, actions, row filter, and each field's access."""
    group = get_object_or_404(Group, pk=pk)
    table = Table.objects.filter(key=key).first()
    if table is None:
        raise Http404
    fields = fields_of(table)
    existing = TableRight.objects.filter(group=group, table=table).first()
    if request.method == "POST" and group.name != ADMIN_GROUP:
        actor = _actor(request)
        conditions = []
        for i in range(FILTER_ROWS):
            fkey = request.POST.get(f"rf-field-{i}", "")
            if fkey:
                conditions.append(
                    [
                        fkey,
                        request.POST.get(f"rf-op-{i}", "eq"),
                        request.POST.get(f"rf-value-{i}", ""),
                    ]
                )
        try:
            services.set_table_rights(
                actor,
                group,
                table,
                verbs=[v for v in VERBS if request.POST.get(f"verb:{v}")],
                actions=[a.key for a in actions_for(table) if request.POST.get(f"action:{a.key}")],
                row_filter={"match": request.POST.get("rf-match", "all"), "conditions": conditions},
            )
            for f in fields:
                services.set_field_rights(
                    actor,
                    group,
                    f,
                    access=request.POST.get(f"field:{f.key}:access", "editable"),
                    in_grid=bool(request.POST.get(f"field:{f.key}:grid")),
                    in_export=bool(request.POST.get(f"field:{f.key}:export")),
                    in_import=bool(request.POST.get(f"field:{f.key}:import")),
                )
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Права на таблицу сохранены."))
            return redirect("access:table_rights", pk=group.pk, key=table.key)
    verbs = set(VERBS) if existing is None else set(existing.verbs)
    allowed_actions = None if existing is None else set(existing.actions)
    field_rights = {fr.field_id: fr for fr in FieldRight.objects.filter(group=group)}
    return render(
        request,
        "access/table.html",
        {
            "group": group,
            "table": table,
            "is_admin_group": group.name == ADMIN_GROUP,
            "verbs": [(v, VERB_LABELS[v], v in verbs) for v in VERBS],
            "actions": [
                (a, allowed_actions is None or a.key in allowed_actions) for a in actions_for(table)
            ],
            "fields": [(f, field_rights.get(f.pk)) for f in fields],
            "field_access": FIELD_ACCESS,
            "filter_rows": _filter_rows(existing),
            "filter_match": ((existing.row_filter or {}).get("match") if existing else "") or "all",
            "filter_fields": [f for f in fields if f.field_type.operators],
            "tokens": services.TOKENS,
        },
    )


@admin_only
def preview(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """The table as a user of the group sees it ("view as group"): his columns and rows."""
    group = get_object_or_404(Group, pk=pk)
    table = Table.objects.filter(key=key).first()
    if table is None:
        raise Http404
    members = list(group.user_set.filter(is_active=True).order_by("username"))
    chosen = request.GET.get("user", "")
    member = next((u for u in members if str(u.pk) == chosen), members[0] if members else None)
    columns: list[Any] = []
    rows: list[Any] = []
    total = 0
    readable = False
    if member is not None:
        as_member = Actor.for_user(member)
        readable = rights.can(as_member, table, "view")
        if readable:
            columns = rights.grid_fields_allowed(as_member, table)
            qs = list_records(as_member, table)
            total = qs.count()
            rows = [
                (r, [c.field_type.display(c, getattr(r, c.key)) for c in columns]) for r in qs[:50]
            ]
    return render(
        request,
        "access/preview.html",
        {
            "group": group,
            "table": table,
            "members": members,
            "member": member,
            "readable": readable,
            "columns": columns,
            "rows": rows,
            "total": total,
        },
    )


@admin_only
def audit_log(request: HttpRequest) -> HttpResponse:
    """Log-ins, failed log-ins, locks and changes of rights, filtered by kind, name and dates."""
    qs = AuditEvent.objects.select_related("user")
    kind = request.GET.get("kind", "")
    if kind:
        qs = qs.filter(kind=kind)
    who = request.GET.get("who", "").strip()
    if who:
        qs = qs.filter(username__icontains=who)
    for name, lookup in (("from", "created_at__date__gte"), ("to", "created_at__date__lte")):
        value = request.GET.get(name, "").strip()
        if value:
            try:
                day = dt.datetime.strptime(value, "%d.%m.%Y").date()
            except ValueError:
                messages.error(
                    request, _("Дата «%(value)s»: ожидается дд.мм.гггг.") % {"value": value}
                )
                continue
            qs = qs.filter(**{lookup: day})
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "access/audit.html",
        {"page": page, "kinds": AuditEvent.KINDS, "filters": request.GET},
    )
