"""``/profile/``: the user's own settings, two-factor log-in, sessions; and the log-in's code step.

Thin views over :mod:`kartoteka.profiles.services`, :mod:`~kartoteka.profiles.twofactor` and
:mod:`~kartoteka.profiles.sessions`; every page acts on the logged-in user only.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.access.login import LimitedAuthenticationForm, client_ip
from kartoteka.accounts.views import managers_only
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError
from kartoteka.profiles import services, sessions, twofactor

SOURCE = "profile"
#: The session key of a log-in waiting for its code: user id, backend, time, where to go.
PENDING = "kt_2fa_pending"
#: How long the code step waits after the password.
PENDING_SECONDS = 300


def _actor(request: HttpRequest) -> Actor:
    user: Any = request.user
    return Actor.for_user(user, source=SOURCE)


def _no_store(response: HttpResponse) -> HttpResponse:
    # Secrets and recovery codes are on these pages once: never keep them in a cache.
    response["Cache-Control"] = "no-store"
    return response


# -- log-in --------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """The password step; a user with an authenticator app goes on to :func:`login_code` before
    he is logged in."""

    template_name = "web/login.html"
    redirect_authenticated_user = True
    authentication_form = LimitedAuthenticationForm

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not twofactor.has_two_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("login_code")


def login_code(request: HttpRequest) -> HttpResponse:
    """``/login/code/``: the code from the app or a recovery code, after the password."""
    pending = request.session.get(PENDING) or {}
    user = None
    if pending and time.time() - pending.get("at", 0) <= PENDING_SECONDS:
        user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        messages.info(request, _("Войдите заново: время на ввод кода истекло."))
        return redirect("login")
    error = ""
    if request.method == "POST" and request.POST.get("action") == "sms":
        try:
            phone = twofactor.send_login_sms(user, ip=client_ip(request))
        except KartotekaError as exc:
            error = exc.message
        else:
            messages.info(request, _("Код отправлен по SMS на %(phone)s.") % {"phone": phone})
            return redirect("login_code")
    elif request.method == "POST":
        try:
            twofactor.verify_login_code(user, request.POST.get("code", ""), ip=client_ip(request))
        except KartotekaError as exc:
            error = exc.message
            if exc.code == "locked":
                request.session.pop(PENDING, None)
        else:
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=pending["backend"])
            return redirect(pending.get("next") or "home")
    context = {
        "error": error,
        "has_app": twofactor.has_app(user),
        "sms_phone": twofactor.sms_login_phone(user),
    }
    return render(request, "profiles/login_code.html", context, status=400 if error else 200)


# -- the profile ---------------------------------------------------------------------------------


def _profile_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user: Any = request.user
    profile = services.get_profile(user)
    first, _sep, middle = user.first_name.partition(" ")
    return {
        "form": {
            "last_name": user.last_name,
            "first_name": first,
            "middle_name": middle,
            "email": user.email,
            "phone": services.employee_values(user)["phone"],
            "language": profile.language,
            "time_zone": profile.time_zone,
        },
        "time_zones": services.time_zones(),
        "default_time_zone": settings.TIME_ZONE,
        "two_factor": twofactor.has_two_factor(user),
        "two_factor_required": twofactor.is_required(user),
        "recovery_left": twofactor.recovery_codes_left(user),
        "sessions": sessions.list_sessions(user, request.session.session_key),
        **extra,
    }


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """``/profile/``: name, contacts, language and time zone; the other sections post elsewhere."""
    if request.method == "POST":
        data = {
            k: request.POST.get(k, "")
            for k in (
                "last_name",
                "first_name",
                "middle_name",
                "email",
                "phone",
                "language",
                "time_zone",
            )
        }
        try:
            saved = services.update_profile(_actor(request), **data)
        except KartotekaError as exc:
            context = _profile_context(request, error=exc.message)
            context["form"].update(data)
            return render(request, "profiles/profile.html", context, status=400)
        sessions.apply_profile(request, saved)
        messages.success(request, _("Профиль сохранён."))
        response = redirect("profiles:profile")
        if saved.language:
            request.kt_set_language = saved.language  # type: ignore[attr-defined]
        return response
    return render(request, "profiles/profile.html", _profile_context(request))


@login_required
@require_POST
def password(request: HttpRequest) -> HttpResponse:
    try:
        services.change_password(
            _actor(request),
            old=request.POST.get("old_password", ""),
            new=request.POST.get("new_password", ""),
            repeat=request.POST.get("new_password2", ""),
        )
    except KartotekaError as exc:
        context = _profile_context(request, password_error=exc.message)
        return render(request, "profiles/profile.html", context, status=400)
    # This session stays; the user's other sessions end with the old password.
    update_session_auth_hash(request, request.user)
    messages.success(request, _("Пароль изменён. Другие сеансы завершены."))
    return redirect("profiles:profile")


# -- two-factor log-in ---------------------------------------------------------------------------


def _codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    return _no_store(render(request, "profiles/recovery_codes.html", {"codes": codes}))


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """``/profile/two-factor/``: enrolment (QR code, then a code to confirm) or, once enrolled,
    the recovery codes and turning it off."""
    actor = _actor(request)
    user: Any = request.user
    error = ""
    if request.method == "POST":
        try:
            codes = twofactor.confirm_enrolment(actor, request.POST.get("code", ""))
        except KartotekaError as exc:
            error = exc.message
            if exc.code != "bad_code":
                messages.error(request, error)
                return redirect("profiles:two_factor")
        else:
            request.session.pop(sessions.MUST_ENROL, None)
            return _codes_page(request, codes)
    enrolled = twofactor.has_app(user)
    device = None
    if not enrolled:
        device = twofactor.pending_device(actor) or twofactor.start_enrolment(actor)
    context = {
        "enrolled": enrolled,
        "must_enrol": bool(request.session.get(sessions.MUST_ENROL)),
        "error": error,
        "recovery_left": twofactor.recovery_codes_left(user),
        "any_factor": enrolled or twofactor.has_sms(user),
        "sms_on": twofactor.has_sms(user),
        "sms_phone": twofactor.masked(twofactor.sms_phone(user)),
        "sms_pending": twofactor.pending_sms(actor),
    }
    if device is not None:
        context |= {
            "qr": twofactor.qr_svg(device),
            "otpauth": twofactor.config_url(device),
            "secret": twofactor.secret_base32(device),
        }
    status = 400 if error else 200
    return _no_store(render(request, "profiles/two_factor.html", context, status=status))


@login_required
@require_POST
def two_factor_sms(request: HttpRequest) -> HttpResponse:
    """``/profile/two-factor/sms/``: send a code to the phone (``action=send``), then confirm it
    to turn log-in codes by SMS on."""
    actor = _actor(request)
    try:
        if request.POST.get("action") == "send":
            phone = twofactor.start_sms_enrolment(actor)
            messages.info(request, _("Код отправлен по SMS на %(phone)s.") % {"phone": phone})
        else:
            twofactor.confirm_sms(actor, request.POST.get("code", ""))
            request.session.pop(sessions.MUST_ENROL, None)
            messages.success(request, _("Вход по коду из SMS включён."))
    except KartotekaError as exc:
        messages.error(request, exc.message)
    return redirect("profiles:two_factor")


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        codes = twofactor.regenerate_recovery_codes(_actor(request))
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("profiles:two_factor")
    return _codes_page(request, codes)


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    try:
        twofactor.disable(
            _actor(request),
            password=request.POST.get("password", ""),
            code=request.POST.get("code", ""),
        )
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("profiles:two_factor")
    messages.success(request, _("Двухфакторный вход выключен."))
    return redirect("profiles:profile")


@managers_only
@require_POST
def two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator turns off a user's two-factor log-in (``/settings/users/<pk>/…``)."""
    user = get_object_or_404(get_user_model(), pk=pk)
    actor = Actor.for_user(request.user, source="settings")  # type: ignore[arg-type]
    try:
        done = twofactor.reset(actor, user)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, _("Двухфакторный вход сброшен."))
    return redirect("accounts:user", pk=user.pk)


# -- sessions ------------------------------------------------------------------------------------


@login_required
@require_POST
def session_end(request: HttpRequest, session_id: str) -> HttpResponse:
    if sessions.end_session(request.user, session_id, request.session.session_key):
        messages.success(request, _("Сеанс завершён."))
    return redirect("profiles:profile")


@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = sessions.end_other_sessions(request.user, request.session.session_key)
    messages.success(request, _("Завершено сеансов: %(n)s.") % {"n": ended})
    return redirect("profiles:profile")
