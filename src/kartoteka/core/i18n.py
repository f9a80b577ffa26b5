"""Text that is stored, not shown: written in the installation's language.

A work row's description («Выписан счёт №…») is data that every later reader sees, so it is
written in the installation's language (``LANGUAGE_CODE``), not in the language the acting person
happened to pick for the interface. Mark such messages with ``gettext_noop`` so they are still
extracted for translation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation


def stored_text(message: str, **params: Any) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = translation.gettext(message)
    return text % params if params else text
