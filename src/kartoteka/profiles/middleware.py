"""The user's own settings on every request: his time zone, his language after log-in, «last
activity» of the session, and the enrolment a group's two-factor requirement forces.

Everything is read from the session (:mod:`kartoteka.profiles.sessions` puts it there at log-in),
so this costs no query. Placed after the authentication middleware.
"""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from kartoteka.profiles import sessions


class ProfileMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        logged_in = "_auth_user_id" in session
        if logged_in and session.get(sessions.MUST_ENROL) and not _may_pass(request.path):
            if request.headers.get("HX-Request"):
                # The enrolment page's own polling (the bell, the calendar's counts): nothing.
                return HttpResponse(status=204)
            return redirect("profiles:two_factor")
        zone = session.get(sessions.TZ) if logged_in else None
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        if logged_in and time.time() - session.get(sessions.SEEN, 0) > sessions.SEEN_EVERY:
            session[sessions.SEEN] = int(time.time())
        try:
            response = self.get_response(request)
        finally:
            if zone:
                timezone.deactivate()
        language = getattr(request, "kt_set_language", None)
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


def _may_pass(path: str) -> bool:
    """What a user who must enrol may still open: the enrolment, log-out, the language switch."""
    allowed = (
        reverse("profiles:two_factor"),
        reverse("profiles:two_factor_sms"),
        reverse("logout"),
        reverse("set_language"),
    )
    return path in allowed or path.startswith(f"/{settings.STATIC_URL.strip('/')}/")
