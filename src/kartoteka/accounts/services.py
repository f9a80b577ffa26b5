"""Accounts: users, their access group, and the «Сотрудники» record each user has.

A user's log-in and his «Сотрудники» record are one thing to an administrator: creating a user
creates the record, :func:`grant_access` gives a log-in to a record that has none, disabling
ends his sessions and API tokens at once (his records, history and authorship stay), and
:func:`hand_over` gives his open clients, tasks and reminders to a colleague. The last active
administrator can be neither disabled nor moved out of «Администратор».

Whoever may manage employees (administrators, or a group given «Управление сотрудниками») may
call these; only an administrator may give or touch an administrator's log-in. Every change goes
to the audit log (kind ``account``).

Full names are written «Фамилия Имя Отчество» (``last_name`` is the surname, ``first_name`` the
rest); :func:`short_name` gives «Фамилия И. О.».
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.access.models import AuditEvent
from kartoteka.access.rights import can_manage_employees
from kartoteka.access.services import audit
from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import (
    KartotekaError,
    NotFound,
    PermissionDenied,
    RecordValidationError,
)
from kartoteka.records.services import create_record, update_records
from kartoteka.tables.models import Table

DEFAULT_GROUPS = (ADMIN_GROUP, MANAGERS_GROUP, "Бухгалтерия")


class AccountError(KartotekaError):
    code = "account"


def ensure_default_groups() -> None:
    for name in DEFAULT_GROUPS:
        Group.objects.get_or_create(name=name)


def create_user(
    actor: Actor,
    *,
    username: str,
    password: str | None,
    group: str,
    full_name: str = "",
    email: str = "",
    position: str = "",
    phone: str = "",
    check_password: bool = True,
) -> Any:
    """Create a user in one access group, with its «Сотрудники» record (``password=None``: none
    usable yet, an invitation sets it)."""
    require_manager(actor, _("Добавлять пользователей может только администратор."))
    User = get_user_model()
    username, email, full_name = username.strip(), email.strip(), " ".join(full_name.split())
    group_obj = _check_new_login(actor, username, email, group)
    first, last = _split_name(full_name)
    candidate = User(username=username, email=email, first_name=first, last_name=last)
    if check_password and password is not None:
        _validate_password(password, candidate)
    with transaction.atomic():
        candidate.set_password(password)  # ``None``: an unusable password
        candidate.is_staff = group == ADMIN_GROUP
        candidate.save()
        candidate.groups.set([group_obj])
        employees = Table.objects.get(key="employees")
        values = {
            "full_name": full_name or username,
            "email": email or None,
            "user": candidate.pk,
            "position": position or None,
            "phone": phone or None,
            "access_group": group,
        }
        try:
            create_record(Actor.system("create user", source=actor.source), employees, values)
        except RecordValidationError as exc:
            raise _employee_error(exc) from None
        audit(
            AuditEvent.RIGHTS,
            actor=actor,
            message=_("Создан пользователь %(user)s в группе «%(group)s»")
            % {"user": candidate.username, "group": group},
            data={"user": candidate.username, "group": group, "source": actor.source},
        )
    return candidate


def _split_name(full_name: str) -> tuple[str, str]:
    """«Иванов Иван Петрович» → first name «Иван Петрович», last name «Иванов»."""
    parts = full_name.split()
    if len(parts) >= 2:
        return " ".join(parts[1:])[:150], parts[0][:150]
    return full_name[:150], ""


# -- names ---------------------------------------------------------------------------------------


def full_name(user: Any) -> str:
    """«Фамилия Имя Отчество» (the login when no name is known), as user fields show it."""
    from kartoteka.tables.fieldtypes.user import user_display

    return user_display(user)


def short_name(user: Any) -> str:
    """«Фамилия И. О.» where space is short (the login when no name is known)."""
    if user is None:
        return ""
    initials = " ".join(f"{part[0]}." for part in user.first_name.split() if part)
    if not user.last_name:
        return user.first_name or user.get_username()
    return f"{user.last_name} {initials}".strip()


# -- checks --------------------------------------------------------------------------------------


def require_manager(actor: Actor, message: str = "") -> None:
    if not can_manage_employees(actor):
        raise PermissionDenied(message or _("Управлять сотрудниками может только администратор."))


def _require_admin_for(actor: Actor, user: Any) -> None:
    """Only an administrator touches an administrator's log-in."""
    if not actor.is_admin and Actor.for_user(user).is_admin:
        raise PermissionDenied(
            _("Учётную запись администратора может менять только администратор.")
        )


def _check_new_login(actor: Actor, username: str, email: str, group: str) -> Group:
    User = get_user_model()
    if not username:
        raise AccountError(_("Укажите имя пользователя."), code="no_username")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(
            _("Пользователь «%(name)s» уже есть.") % {"name": username}, code="duplicate_user"
        )
    if email and User.objects.filter(email__iexact=email).exists():
        raise AccountError(
            _("E-mail «%(email)s» уже указан у другого пользователя.") % {"email": email},
            code="duplicate_email",
        )
    group_obj = Group.objects.filter(name=group).first()
    if group_obj is None:
        raise AccountError(_("Нет группы «%(name)s».") % {"name": group}, code="no_group")
    if group == ADMIN_GROUP and not actor.is_admin:
        raise PermissionDenied(_("Давать права администратора может только администратор."))
    return group_obj


def active_admins() -> QuerySet:
    """Active users in «Администратор» (or superusers)."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=ADMIN_GROUP) | Q(is_superuser=True))
        .distinct()
    )


def refuse_losing_last_admin(user: Any) -> None:
    """``AccountError`` when ``user`` is the only active administrator (call in the transaction
    that would disable or demote him: the administrators' rows are locked until it ends)."""
    admins = list(
        get_user_model()
        .objects.select_for_update()
        .filter(pk__in=active_admins().values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if admins == [user.pk]:
        raise AccountError(
            _(
                "%(name)s — единственный активный администратор. Сначала назначьте "
                "администратором другого сотрудника."
            )
            % {"name": full_name(user)},
            code="last_admin",
        )


def _validate_password(password: str, user: Any) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages), code="weak_password") from None


def _account_event(actor: Actor, user: Any, message: str, **data: Any) -> None:
    audit(
        AuditEvent.ACCOUNT,
        actor=actor,
        message=message,
        data={"user": user.get_username(), "source": actor.source, **data},
    )


def _employee_error(exc: RecordValidationError) -> AccountError:
    """A refused «Сотрудники» value in words of the form: «Телефон: …»."""
    from kartoteka.tables.modelfactory import fields_of

    labels = {f.key: f.label for f in fields_of(_employees())}
    return AccountError(
        " ".join(f"{labels.get(e.field, e.field)}: {e.message}" for e in exc.errors),
        code="invalid_employee",
    )


def _employees() -> Table:
    return Table.objects.get(key="employees")


def employee_ids(user: Any) -> list[int]:
    """The «Сотрудники» records of ``user`` (one, unless made by hand twice)."""
    from kartoteka.records.selectors import base_queryset

    return list(
        base_queryset(Actor.system("employees"), _employees(), state=None)
        .filter(user_id=user.pk)
        .values_list("pk", flat=True)
    )


# -- reads ---------------------------------------------------------------------------------------


def get_user(actor: Actor, ref: Any) -> Any:
    """A user by id or login (``NotFound``), for whoever may manage employees."""
    require_manager(actor)
    users = get_user_model().objects
    text = str(ref).strip()
    user = users.filter(username__iexact=text).first()
    if user is None and text.isdigit():
        user = users.filter(pk=int(text)).first()
    if user is None:
        raise NotFound(_("Пользователь «%(name)s» не найден.") % {"name": text})
    return user


def list_users(actor: Actor) -> list[dict[str, Any]]:
    """Every user with his group, state, last log-in, failed log-ins of the last week and
    whether he logs in with a code (two-factor)."""
    require_manager(actor)
    import datetime as dt

    since = timezone.now() - dt.timedelta(days=FAILURES_DAYS)
    failures: dict[str, int] = {}
    for name in AuditEvent.objects.filter(
        kind=AuditEvent.LOGIN_FAILED, created_at__gte=since
    ).values_list("username", flat=True):
        failures[name] = failures.get(name, 0) + 1
    from kartoteka.profiles.twofactor import users_with_two_factor

    two_factor = users_with_two_factor()
    out = []
    users = (
        get_user_model()
        .objects.prefetch_related("groups")
        .order_by("last_name", "first_name", "username")
    )
    for user in users:
        group = next(iter(user.groups.all()), None)
        out.append(
            {
                "id": user.pk,
                "username": user.username,
                "full_name": full_name(user),
                "short_name": short_name(user),
                "email": user.email,
                "group": group.name if group else "",
                "is_active": user.is_active,
                "has_password": user.has_usable_password(),
                "last_login": user.last_login,
                "failed_logins": failures.get(user.username.lower(), 0),
                "two_factor": user.pk in two_factor,
            }
        )
    return out


#: «Recent» failed log-ins: of the last this many days.
FAILURES_DAYS = 7


def recent_failures(actor: Actor, user: Any, limit: int = 20) -> list[AuditEvent]:
    """The user's failed log-ins (and locks) of the last week, newest first."""
    require_manager(actor)
    import datetime as dt

    since = timezone.now() - dt.timedelta(days=FAILURES_DAYS)
    return list(
        AuditEvent.objects.filter(
            kind__in=[AuditEvent.LOGIN_FAILED, AuditEvent.LOCKED],
            username=user.get_username().lower(),
            created_at__gte=since,
        )[:limit]
    )


# -- writes --------------------------------------------------------------------------------------


def grant_access(
    actor: Actor,
    employee_id: int,
    *,
    username: str,
    password: str | None,
    group: str,
    email: str | None = None,
) -> Any:
    """«Доступ в систему» for an employee record without a log-in: the user is made from the
    record (name, e-mail) and linked to it (``password=None``: an invitation sets it)."""
    require_manager(actor)
    from kartoteka.records.selectors import base_queryset

    employees = _employees()
    record = (
        base_queryset(Actor.system("employees"), employees, state=None)
        .filter(pk=employee_id)
        .first()
    )
    if record is None:
        raise NotFound(_("Сотрудник №%(pk)s не найден.") % {"pk": employee_id})
    if record.user_id:
        raise AccountError(_("У сотрудника уже есть доступ в систему."), code="has_access")
    username = username.strip()
    email = (record.email or "") if email is None else email.strip()
    group_obj = _check_new_login(actor, username, email, group)
    first, last = _split_name(record.full_name or "")
    user = get_user_model()(username=username, email=email, first_name=first, last_name=last)
    if password is not None:
        _validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)  # ``None``: an unusable password
        user.is_staff = group == ADMIN_GROUP
        user.save()
        user.groups.set([group_obj])
        values = {"user": user.pk, "access_group": group, "email": email or None}
        try:
            update_records(
                Actor.system("grant access", source=actor.source), employees, {record.pk: values}
            )
        except RecordValidationError as exc:
            raise _employee_error(exc) from None
        _account_event(
            actor,
            user,
            _("Сотруднику %(name)s дан доступ в систему (логин %(user)s, группа «%(group)s»)")
            % {"name": full_name(user), "user": username, "group": group},
            group=group,
        )
    return user


def set_password(actor: Actor, user: Any, password: str) -> None:
    """Set a password by hand (Django's password validators decide what is too weak)."""
    require_manager(actor)
    _require_admin_for(actor, user)
    _validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        revoke_invitations(user)
        _account_event(
            actor, user, _("Пароль пользователя %(user)s задан вручную") % {"user": user.username}
        )


def revoke_invitations(user: Any) -> int:
    """End the user's pending invitation links (his password is set otherwise, or he is
    disabled); returns how many."""
    return user.invitations.filter(used_at=None, revoked_at=None).update(revoked_at=timezone.now())


def disable_user(actor: Actor, user: Any) -> bool:
    """Disable the log-in: sessions end and API tokens answer 401 at once; records, history and
    authorship stay. ``False`` when already disabled (nothing changes)."""
    require_manager(actor)
    _require_admin_for(actor, user)
    if not user.is_active:
        return False
    with transaction.atomic():
        refuse_losing_last_admin(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended = end_sessions(user)
        # Enabling him again must not bring an old invitation link back to life.
        revoke_invitations(user)
        _account_event(
            actor,
            user,
            _("Доступ пользователя %(user)s отключён") % {"user": user.username},
            sessions_ended=ended,
        )
    return True


def enable_user(actor: Actor, user: Any) -> bool:
    """Give back the log-in (his old API tokens work again unless revoked)."""
    require_manager(actor)
    _require_admin_for(actor, user)
    if user.is_active:
        return False
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        _account_event(
            actor, user, _("Доступ пользователя %(user)s включён") % {"user": user.username}
        )
    return True


def end_sessions(user: Any) -> int:
    """Delete every stored session of ``user``; the number ended.

    Sessions are signed blobs without a user column, so each live one is decoded (an office has
    few). A disabled user is refused by the authentication backend on his next request anyway;
    deleting the rows makes "his sessions end" true of the database too."""
    from kartoteka.profiles.sessions import end_other_sessions

    return end_other_sessions(user, current_key=None)


#: Task states that count as finished (not handed over).
CLOSED_TASK_STATES = ("done", "cancelled")


def hand_over(actor: Actor, from_user: Any, to_user: Any) -> dict[str, int]:
    """«Передать клиентов и задания»: ``from_user``'s active counterparties (as manager), open
    tasks (as assignee) and reminders (as a recipient) go to ``to_user`` in one transaction.
    Records change through the records service with ``actor``'s rights, so history names him
    and the rules run. The counts by kind."""
    require_manager(actor)
    from kartoteka.notifications.models import Reminder
    from kartoteka.records.selectors import base_queryset

    if to_user is None or not to_user.is_active:
        raise AccountError(
            _("Передавать можно только действующему сотруднику."), code="inactive_receiver"
        )
    if to_user.pk == from_user.pk:
        raise AccountError(_("Выберите другого сотрудника."), code="same_user")
    by = actor.via("handover")
    counts = {"counterparties": 0, "tasks": 0, "reminders": 0}
    with transaction.atomic():
        for key, column, exclude in (
            ("counterparties", "manager", {}),
            ("tasks", "assignee", {"state__in": CLOSED_TASK_STATES}),
        ):
            table = Table.objects.filter(key=key).first()
            if table is None:
                continue
            ids = list(
                base_queryset(by, table)
                .filter(**{f"{column}_id": from_user.pk})
                .exclude(**exclude)
                .values_list("pk", flat=True)
            )
            if ids:
                update_records(by, table, {pk: {column: to_user.pk} for pk in ids})
            counts[key] = len(ids)
        for reminder in Reminder.objects.filter(users=from_user):
            reminder.users.remove(from_user)
            reminder.users.add(to_user)
            counts["reminders"] += 1
        _account_event(
            actor,
            from_user,
            _(
                "Клиенты и задания пользователя %(from)s переданы пользователю %(to)s: "
                "контрагентов %(counterparties)s, заданий %(tasks)s, напоминаний %(reminders)s"
            )
            % {"from": from_user.username, "to": to_user.username, **counts},
            to=to_user.username,
            **counts,
        )
    return counts
