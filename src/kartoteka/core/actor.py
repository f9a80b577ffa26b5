"""Who performs an operation.

Every service takes an :class:`Actor` first. It carries the user (or none, for the system), the
*source* of the change that history records (form, bulk edit, import #N, API, action, CLI …), and
answers the one question services ask before access rights land: is this an administrator?
No global "current user": the actor is passed explicitly down every call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

ADMIN_GROUP = "Администратор"
MANAGERS_GROUP = "Менеджеры"


@dataclass(frozen=True)
class Actor:
    """The acting party of a service call.

    Attributes:
        user: the Django user, or ``None`` for the system.
        source: how the change arrives, e.g. ``"form"``, ``"bulk"``, ``"import#12"``, ``"cli"``.
        reason: for the system actor, why it acts (shown in logs and history).
    """

    user: Any = None
    source: str = "system"
    reason: str = ""

    @classmethod
    def system(cls, reason: str, source: str = "system") -> Actor:
        return cls(user=None, source=source, reason=reason)

    @classmethod
    def for_user(cls, user: AbstractBaseUser, source: str = "form") -> Actor:
        return cls(user=user, source=source)

    def via(self, source: str) -> Actor:
        """The same actor arriving through another path (e.g. a bulk edit)."""
        return replace(self, source=source)

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else self.user.pk

    @property
    def is_admin(self) -> bool:
        """System actors and members of «Администратор» (or superusers) are administrators."""
        if self.user is None:
            return True
        if getattr(self.user, "is_superuser", False):
            return True
        cached = getattr(self.user, "_kartoteka_is_admin", None)
        if cached is None:
            cached = self.user.groups.filter(name=ADMIN_GROUP).exists()
            self.user._kartoteka_is_admin = cached
        return bool(cached)
