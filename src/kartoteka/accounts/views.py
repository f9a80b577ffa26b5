"""«Сотрудники» settings, mounted at ``/settings/users/``: the log-ins with their last log-in and
failed attempts, a new employee with «Доступ в систему», a password set by hand (shown once),
disabling and enabling, «Пригласить» (an e-mailed link to set the password), and «Передать
клиентов и задания». Thin views over
:mod:`kartoteka.accounts.services`; administrators and groups with «Управление сотрудниками»."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.access.rights import can_manage_employees
from kartoteka.accounts import invitations, services
from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import KartotekaError
from kartoteka.profiles.twofactor import has_two_factor
from kartoteka.records.selectors import base_queryset
from kartoteka.tables.models import Table

SOURCE = "settings"


def _actor(request: HttpRequest) -> Actor:
    user: Any = request.user
    return Actor.for_user(user, source=SOURCE)


def managers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_manage_employees(_actor(request)):
            raise PermissionDenied(_("Управлять сотрудниками может только администратор."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_required(wrapped)


def _groups(request: HttpRequest) -> list[Group]:
    groups = Group.objects.order_by("name")
    if not _actor(request).is_admin:
        groups = groups.exclude(name=ADMIN_GROUP)
    return list(groups)


def new_password() -> str:
    """A password to offer when the administrator leaves the field empty."""
    return secrets.token_urlsafe(12)


def _show_password(request: HttpRequest, user: Any, password: str) -> HttpResponse:
    """The one page that shows a password: not stored, not in a message, not cached."""
    response = render(
        request,
        "accounts/password_shown.html",
        {"shown": user, "name": services.full_name(user), "password": password},
    )
    response["Cache-Control"] = "no-store"
    return response


@managers_only
def users(request: HttpRequest) -> HttpResponse:
    """The log-ins, and «Новый сотрудник» with «Доступ в систему» (POST)."""
    actor = _actor(request)
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        password = request.POST.get("password", "") or new_password()
        try:
            user = services.create_user(
                actor,
                username=request.POST.get("username", ""),
                password=password,
                group=request.POST.get("group", ""),
                full_name=request.POST.get("full_name", ""),
                email=request.POST.get("email", ""),
                phone=request.POST.get("phone", ""),
                position=request.POST.get("position", ""),
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            return _show_password(request, user, password)
    return _users_page(request, form)


def _users_page(request: HttpRequest, form: Any) -> HttpResponse:
    return render(
        request,
        "accounts/users.html",
        {
            "users": services.list_users(_actor(request)),
            "groups": _groups(request),
            "form": form,
            "default_group": MANAGERS_GROUP,
            "failures_days": services.FAILURES_DAYS,
        },
    )


def _invited(request: HttpRequest, letter: invitations.Letter) -> HttpResponse:
    """After an invitation: what became of the letter (never its link), on the user's page."""
    name = services.full_name(letter.user)
    if letter.sent is not False:  # ``None``: leaves when the caller's transaction commits
        messages.success(
            request,
            _("Приглашение отправлено: %(name)s получит письмо на %(email)s.")
            % {"name": name, "email": letter.email},
        )
    else:
        messages.error(
            request,
            _(
                "Письмо с приглашением не отправлено (%(error)s). Проверьте настройки почты и "
                "отправьте приглашение ещё раз или задайте пароль вручную."
            )
            % {"error": letter.error},
        )
    return redirect("accounts:user", pk=letter.user.pk)


@managers_only
@require_POST
def invite_new(request: HttpRequest) -> HttpResponse:
    """«Пригласить» on the users page: a new employee whose password the invitation sets."""
    try:
        letter = invitations.invite_new_user(
            _actor(request),
            username=request.POST.get("username", ""),
            email=request.POST.get("email", ""),
            group=request.POST.get("group", ""),
            full_name=request.POST.get("full_name", ""),
            phone=request.POST.get("phone", ""),
            position=request.POST.get("position", ""),
            request=request,
        )
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return _users_page(request, request.POST)
    return _invited(request, letter)


@managers_only
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """«Отправить приглашение» again (the older links stop working)."""
    user = get_object_or_404(get_user_model(), pk=pk)
    try:
        letter = invitations.invite(_actor(request), user, request=request)
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:user", pk=user.pk)
    return _invited(request, letter)


@managers_only
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    user = get_object_or_404(get_user_model(), pk=pk)
    colleagues = [
        (u, services.full_name(u))
        for u in get_user_model()
        .objects.filter(is_active=True)
        .exclude(pk=user.pk)
        .order_by("last_name", "first_name", "username")
    ]
    ids = services.employee_ids(user)
    return render(
        request,
        "accounts/user.html",
        {
            "shown": user,
            "name": services.full_name(user),
            "group": user.groups.order_by("id").first(),
            "failures": services.recent_failures(actor, user),
            "failures_days": services.FAILURES_DAYS,
            "colleagues": colleagues,
            "employee_id": ids[0] if ids else None,
            "invitation": invitations.pending_invitation(user),
            "two_factor": has_two_factor(user),
        },
    )


@managers_only
@require_POST
def set_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    password = request.POST.get("password", "") or new_password()
    try:
        services.set_password(_actor(request), user, password)
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:user", pk=user.pk)
    if user.pk == request.user.pk:
        # His other sessions end with the old password; this one goes on.
        update_session_auth_hash(request, user)
    return _show_password(request, user, password)


@managers_only
@require_POST
def disable(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    try:
        services.disable_user(_actor(request), user)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Доступ отключён: %(name)s больше не может войти.")
            % {"name": services.full_name(user)},
        )
    return redirect("accounts:user", pk=user.pk)


@managers_only
@require_POST
def enable(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    try:
        services.enable_user(_actor(request), user)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Доступ включён."))
    return redirect("accounts:user", pk=user.pk)


@managers_only
@require_POST
def hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    to = request.POST.get("to", "")
    receiver = get_user_model().objects.filter(pk=int(to)).first() if to.isdigit() else None
    try:
        counts = services.hand_over(_actor(request), user, receiver)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Передано сотруднику %(name)s: контрагентов %(counterparties)s, "
                "заданий %(tasks)s, напоминаний %(reminders)s."
            )
            % {"name": services.full_name(receiver), **counts},
        )
    return redirect("accounts:user", pk=user.pk)


@managers_only
def employee(request: HttpRequest, pk: int) -> HttpResponse:
    """«Доступ в систему» of a «Сотрудники» record: his log-in's page, or the form giving one."""
    record = _employee_record(pk)
    if record.user_id:
        return redirect("accounts:user", pk=record.user_id)
    form: Any = {"username": (record.email or "").split("@")[0], "email": record.email or ""}
    if request.method == "POST":
        form = request.POST
        password = request.POST.get("password", "") or new_password()
        try:
            user = services.grant_access(
                _actor(request),
                record.pk,
                username=request.POST.get("username", ""),
                password=password,
                group=request.POST.get("group", ""),
                email=request.POST.get("email", ""),
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
        else:
            return _show_password(request, user, password)
    return _employee_page(request, record, form)


def _employee_record(pk: int) -> Any:
    table = Table.objects.get(key="employees")
    return get_object_or_404(base_queryset(Actor.system("employees"), table, state=None), pk=pk)


@managers_only
@require_POST
def employee_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """«Пригласить» on the access page of a «Сотрудники» record without a log-in."""
    record = _employee_record(pk)
    try:
        letter = invitations.invite_employee(
            _actor(request),
            record.pk,
            username=request.POST.get("username", ""),
            email=request.POST.get("email", ""),
            group=request.POST.get("group", ""),
            request=request,
        )
    except KartotekaError as exc:
        messages.error(request, exc.message)
        if record.user_id:
            return redirect("accounts:user", pk=record.user_id)
        return _employee_page(request, record, request.POST)
    return _invited(request, letter)


def _employee_page(request: HttpRequest, record: Any, form: Any) -> HttpResponse:
    return render(
        request,
        "accounts/employee.html",
        {
            "record": record,
            "form": form,
            "groups": _groups(request),
            "default_group": MANAGERS_GROUP,
        },
    )
