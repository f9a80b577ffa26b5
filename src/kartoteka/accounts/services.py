"""Accounts: users, their access group, and the «Сотрудники» record each user has."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import KartotekaError, PermissionDenied
from kartoteka.records.services import create_record
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
    password: str,
    group: str,
    full_name: str = "",
    email: str = "",
    position: str = "",
    phone: str = "",
    check_password: bool = True,
) -> object:
    """Create a user in one access group, with its «Сотрудники» record."""
    if not actor.is_admin:
        raise PermissionDenied(_("Добавлять пользователей может только администратор."))
    User = get_user_model()
    username = username.strip()
    if not username:
        raise AccountError(_("Укажите имя пользователя."), code="no_username")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(
            _("Пользователь «%(name)s» уже есть.") % {"name": username}, code="duplicate_user"
        )
    group_obj = Group.objects.filter(name=group).first()
    if group_obj is None:
        raise AccountError(_("Нет группы «%(name)s».") % {"name": group}, code="no_group")
    first, last = _split_name(full_name)
    candidate = User(username=username, email=email, first_name=first, last_name=last)
    if check_password:
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise AccountError(" ".join(exc.messages), code="weak_password") from None
    with transaction.atomic():
        candidate.set_password(password)
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
        create_record(Actor.system("create user", source=actor.source), employees, values)
        from kartoteka.access.models import AuditEvent
        from kartoteka.access.services import audit

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
