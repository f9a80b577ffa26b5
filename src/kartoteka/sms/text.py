"""How long an SMS is and where it goes: parts by the GSM-7/UCS-2 rules, numbers in E.164.

A text made only of GSM 03.38 characters (its basic table; a character of the extension table —
``^{}\\[~]|€`` — counts twice, as it travels behind an escape) fits 160 characters into one
message and 153 into each part of a split one. Anything else — Cyrillic above all — goes as
UCS-2: 70 characters in one message, 67 per part. A character outside the Basic Multilingual
Plane (an emoji) takes two UCS-2 units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import phonenumbers

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Length:
    """A text's size as an SMS: ``encoding`` (``gsm7``/``ucs2``), ``units`` it takes, ``parts``."""

    encoding: str
    units: int
    parts: int

    def cost(self, price_per_part: Decimal) -> Decimal:
        return price_per_part * self.parts


def measure(text: str) -> Length:
    """The encoding, size and number of parts of ``text`` (an empty text is one part)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        single, part, encoding = 160, 153, "gsm7"
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, part, encoding = 70, 67, "ucs2"
    parts = 1 if units <= single else -(-units // part)
    return Length(encoding, units, parts)


class InvalidPhone(ValueError):
    """A number that is not a possible phone number (with the default region applied)."""


def normalize_phone(value: str, region: str = "RU") -> str:
    """``value`` in E.164 (``+79161234567``); a number without a country code is read in
    ``region``, and a Russian ``8 916 …`` is the trunk prefix, not a country.

    Raises:
        InvalidPhone: the text is not a valid number.
    """
    text = (value or "").strip()
    if not text:
        raise InvalidPhone("empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
