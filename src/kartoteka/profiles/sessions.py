"""A user's sessions: which browsers are logged in as him, and ending them.

Django's database sessions are signed blobs without a user column (see
:func:`kartoteka.accounts.services.end_sessions`, which ends them all when a log-in is disabled),
so what the profile shows is kept inside each session at log-in: the browser (User-Agent), the
address, and the last activity, refreshed by :class:`~kartoteka.profiles.middleware.
ProfileMiddleware` at most once a minute. The user's time zone and language are put there at
log-in too (the language as the switch's cookie), so no request pays a query for them.

A session is named on the page by a hash of its key, never by the key (the key is the log-in).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.utils import timezone

#: Keys the profile keeps in a session.
UA, IP, SEEN, TZ = "kt_ua", "kt_ip", "kt_seen", "kt_tz"
#: Set at log-in when the user must enrol two-factor log-in before anything else.
MUST_ENROL = "kt_must_enrol"
#: Refresh «last activity» at most this often (a session save is a write).
SEEN_EVERY = 60


def connect_signals() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="kartoteka_profiles_login")


def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kartoteka.access.login import client_ip
    from kartoteka.profiles import twofactor
    from kartoteka.profiles.models import Profile

    if request is None or not hasattr(request, "session"):
        return
    session = request.session
    session[UA] = str(request.META.get("HTTP_USER_AGENT", ""))[:300]
    session[IP] = client_ip(request)
    session[SEEN] = int(time.time())
    profile = Profile.objects.filter(user=user).first()
    apply_profile(request, profile)
    if profile is not None and profile.language:
        # The language reaches the cookie of the switch on this response (the middleware).
        request.kt_set_language = profile.language
    if twofactor.is_required(user) and not twofactor.has_two_factor(user):
        session[MUST_ENROL] = True


def apply_profile(request: Any, profile: Any) -> None:
    """Keep the profile's time zone in the session (from the next request on)."""
    request.session[TZ] = profile.time_zone if profile else ""


def _key_id(key: str) -> str:
    return hashlib.sha256(f"kartoteka-session:{key}".encode()).hexdigest()[:20]


def _user_sessions(user: Any) -> list[tuple[Session, dict[str, Any]]]:
    return [
        (s, data)
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str((data := s.get_decoded()).get("_auth_user_id")) == str(user.pk)
    ]


def list_sessions(user: Any, current_key: str | None) -> list[dict[str, Any]]:
    """The user's live sessions, the current first, then by last activity."""
    import datetime as dt

    out = []
    for s, data in _user_sessions(user):
        seen = data.get(SEEN)
        out.append(
            {
                "id": _key_id(s.session_key),
                "current": s.session_key == current_key,
                "browser": describe_browser(str(data.get(UA, ""))),
                "ip": data.get(IP, ""),
                "last_activity": dt.datetime.fromtimestamp(seen, dt.UTC) if seen else None,
            }
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    out.sort(key=lambda r: (not r["current"], -(r["last_activity"] or epoch).timestamp()))
    return out


def end_session(user: Any, session_id: str, current_key: str | None) -> bool:
    """End one of the user's other sessions (by its id on the page); ``False`` when none."""
    for s, _data in _user_sessions(user):
        if _key_id(s.session_key) == session_id and s.session_key != current_key:
            s.delete()
            return True
    return False


def end_other_sessions(user: Any, current_key: str | None) -> int:
    """«Завершить все, кроме этой»: the number ended."""
    keys = [s.session_key for s, _data in _user_sessions(user) if s.session_key != current_key]
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


def describe_browser(ua: str) -> str:
    """«Chrome, Windows» from a User-Agent, roughly (enough to recognise one's own devices)."""
    if not ua:
        return "—"
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("YaBrowser/", "Яндекс Браузер"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    return ", ".join(p for p in (browser, system) if p) or ua[:60]
