"""Pages for people without a log-in: accepting an invitation and «Забыли пароль?». Thin views
over :mod:`kartoteka.accounts.invitations`; a link that does not work changes nothing and says
why in Russian."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import password_validation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from kartoteka.access.login import client_ip
from kartoteka.accounts import invitations, services
from kartoteka.core.exceptions import KartotekaError


def _password_page(
    request: HttpRequest, *, title: str, user: Any, button: str, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "accounts/password_form.html",
        {
            "title": title,
            "name": services.full_name(user),
            "username": user.get_username(),
            "button": button,
            "help_texts": password_validation.password_validators_help_texts(),
        },
        status=status,
    )


def _link_refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "accounts/password_message.html",
        {"title": _("Ссылка не работает"), "text": message, "error": True},
        status=400,
    )


@never_cache
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: set a password, then log in with it."""
    try:
        invitation = invitations.check_invitation(token)
    except KartotekaError as exc:
        return _link_refused(request, exc.message)
    title = _("Добро пожаловать в Картотеку")
    if request.method == "POST":
        try:
            user = invitations.accept_invitation(
                token, request.POST.get("password1", ""), request.POST.get("password2", "")
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
            return _password_page(
                request,
                title=title,
                user=invitation.user,
                button=_("Задать пароль"),
                status=400,
            )
        messages.success(
            request,
            _("Пароль задан. Войдите с логином «%(user)s» и новым паролем.")
            % {"user": user.get_username()},
        )
        return redirect("login")
    return _password_page(request, title=title, user=invitation.user, button=_("Задать пароль"))


@never_cache
def password_reset(request: HttpRequest) -> HttpResponse:
    """«Забыли пароль?»: the same answer whether or not the address is known."""
    if request.method == "POST":
        try:
            invitations.request_password_reset(
                request.POST.get("email", ""), client_ip(request), request=request
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
            return render(request, "accounts/password_reset.html", status=429)
        return redirect("password_reset_sent")
    return render(request, "accounts/password_reset.html")


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_message.html",
        {
            "title": _("Проверьте почту"),
            "text": _(
                "Если этот адрес указан у пользователя Картотеки, на него отправлено письмо со "
                "ссылкой для нового пароля. Ссылка работает один раз. Письма нет — проверьте "
                "папку «Спам» или обратитесь к администратору."
            ),
        },
    )


@never_cache
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = invitations.check_reset_link(uidb64, token)
    except KartotekaError as exc:
        return _link_refused(request, exc.message)
    title = _("Новый пароль")
    if request.method == "POST":
        try:
            invitations.reset_password(
                uidb64, token, request.POST.get("password1", ""), request.POST.get("password2", "")
            )
        except KartotekaError as exc:
            messages.error(request, exc.message)
            return _password_page(
                request, title=title, user=user, button=_("Сохранить пароль"), status=400
            )
        return redirect("password_reset_done")
    return _password_page(request, title=title, user=user, button=_("Сохранить пароль"))


def password_reset_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_message.html",
        {
            "title": _("Пароль изменён"),
            "text": _("Новый пароль сохранён. Войдите с ним."),
            "login": True,
        },
    )
