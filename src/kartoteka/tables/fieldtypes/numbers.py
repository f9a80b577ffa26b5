"""Numbers written the Russian way: ``1 234,56``, ``1234.56``, ``-5``, ``12 %``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from .base import invalid

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_CURRENCY = re.compile(r"(₽|руб\.?|р\.|rub|%)$", re.IGNORECASE)


def parse_decimal(text: str) -> Decimal:
    """Read a number with spaces/apostrophes as thousands separators and ``,`` or ``.`` as decimal
    point; a trailing currency sign or ``%`` is allowed."""
    raw = text
    text = _SPACES.sub("", text.strip())
    text = _CURRENCY.sub("", text).strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    elif text.count(",") >= 1 and text.count(".") == 1 and text.rfind(",") < text.rfind("."):
        text = text.replace(",", "")  # 1,234.56
    elif text.count(".") >= 1 and text.count(",") == 1 and text.rfind(".") < text.rfind(","):
        text = text.replace(".", "").replace(",", ".")  # 1.234,56
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid(_("«%(value)s» — не число."), code="not_a_number", value=raw) from None
    if not value.is_finite():
        raise invalid(_("«%(value)s» — не число."), code="not_a_number", value=raw)
    return value


def format_decimal(value: Decimal, places: int) -> str:
    """``1234.5`` → ``1 234,50`` (a non-breaking space groups thousands)."""
    quantized = value.quantize(Decimal(1).scaleb(-places)) if places else value.quantize(Decimal(1))
    sign = "-" if quantized < 0 else ""
    text = f"{abs(quantized):f}"
    whole, _sep, frac = text.partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    out = "\u00a0".join(groups) or "0"
    return f"{sign}{out},{frac}" if frac else f"{sign}{out}"
